"""The one writer behind every human-readable table export (.xlsx or .csv).

Amounts arrive as int fen and are written as numbers in yuan (a Decimal, which XlsxWriter
formats digit for digit, so no float is involved). A text cell that a spreadsheet would run as a
formula (starting with = + - or @) is neutralised with a leading apostrophe; amounts are
numbers, so a negative amount is untouched.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable, Sequence

from ledger_core.model import DisburseError
from ledger_core.money import yuan_decimal

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXPORT_ROWS_MAX = 5_000_000


def neutralise(value: object) -> object:
    """A text cell that starts like a formula gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _cells(row: Sequence[object], money_columns: frozenset[int]) -> list[object]:
    cells: list[object] = []
    for index, value in enumerate(row):
        if index in money_columns and isinstance(value, int) and not isinstance(value, bool):
            cells.append(yuan_decimal(value))
        else:
            cells.append(neutralise(value))
    return cells


def write_table(
    path: Path,
    *,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    money_columns: Iterable[int] = (),
    sheet_name: str | None = None,
) -> int:
    """Write one table; returns the number of data rows. ``money_columns`` hold int fen."""
    path = Path(path)
    money = frozenset(money_columns)
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            for row in rows:
                count += 1
                if count > EXPORT_ROWS_MAX:
                    raise DisburseError(f"{path}: more than {EXPORT_ROWS_MAX:,} rows; split the export")
                writer.writerow(
                    [format(cell, "f") if index in money and not isinstance(cell, str) else cell
                     for index, cell in enumerate(_cells(row, money))]
                )
        return count
    if suffix != ".xlsx":
        raise DisburseError(f"{path}: exports are written as .xlsx or .csv, not {suffix or 'no extension'}")
    import xlsxwriter  # imported here: most commands never write a workbook

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                               "strings_to_numbers": False, "strings_to_urls": False})
    try:
        sheet = workbook.add_worksheet((sheet_name or title)[:31].replace("/", "-"))
        bold = workbook.add_format({"bold": True})
        money_format = workbook.add_format({"num_format": "#,##0.00"})
        sheet.write_row(0, 0, [title], bold)
        sheet.write_row(1, 0, list(headers), bold)
        for index in money:
            sheet.set_column(index, index, 16, money_format)
        for row in rows:
            count += 1
            if count > EXPORT_ROWS_MAX:
                raise DisburseError(f"{path}: more than {EXPORT_ROWS_MAX:,} rows; split the export")
            for column, cell in enumerate(_cells(row, money)):
                if cell is None:
                    continue
                if column in money and not isinstance(cell, str):
                    sheet.write_number(count + 1, column, cell, money_format)
                elif isinstance(cell, str):
                    sheet.write_string(count + 1, column, cell)
                else:
                    sheet.write(count + 1, column, cell)
    finally:
        workbook.close()
    return count
