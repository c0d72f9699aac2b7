"""Plain readers for the generated files, used by the generator tests (named uniquely because
test folders are not packages)."""

from __future__ import annotations

import csv
from pathlib import Path


def read_csv_rows(path: Path, encoding: str = "utf-8") -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows (dicts of strings) of a CSV file."""
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [dict(zip(header, row, strict=True)) for row in reader]
    return header, rows
