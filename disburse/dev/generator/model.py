"""Records and limits of the synthetic-county generator.

``GeneratedCounty`` is what ``generate_county`` hands back; ``Table`` and ``Column`` are the
in-memory form of one output file, written either cleanly or messily by ``generator.writing``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# 2,000,000 households is about 6.6 million people: more than any county, and it keeps every
# resident ID sequence (499 per day and sex) and household serial (9,999 per village) in range.
HOUSEHOLDS_MAX = 2_000_000
# Below 50 households the between-snapshot events (a split, a move, a late-learnt death …)
# cannot all find a household that fits them.
HOUSEHOLDS_MIN = 50
# The messy variant writes one register snapshot as .xlsx, which holds at most 1,048,576 rows,
# and XlsxWriter writes roughly a million cells a second; 100,000 households (about 330,000
# people) keeps one messy county well inside both.
MESSY_HOUSEHOLDS_MAX = 100_000
# Household numbers are the 12-digit village code and a 4-digit serial.
HOUSEHOLD_SERIALS_PER_VILLAGE_MAX = 9_999

# The three register exports, at month ends; subsidy files are for the month of the last one.
SNAPSHOT_DATES = (dt.date(2026, 8, 31), dt.date(2026, 9, 30), dt.date(2026, 10, 31))


@dataclass(frozen=True, slots=True)
class GeneratedCounty:
    """Every file one call of ``generate_county`` wrote, and a few counts for the caller.

    ``households`` and ``people`` count the latest register snapshot (people includes the
    deceased rows the register keeps); ``events`` is the number of entries in events.json.
    """

    out_dir: Path
    seed: int
    messy: bool
    snapshot_dates: tuple[dt.date, ...]
    register_paths: tuple[Path, ...]
    assets_path: Path
    shares_path: Path
    settlements_path: Path
    forest_rangers_path: Path
    public_welfare_jobs_path: Path
    hospital_bills_path: Path
    events_path: Path
    towns: int
    villages: int
    households: int
    people: int
    stations: int
    cooperatives: int
    share_rows: int
    settlement_rows: int
    events: int

    def paths(self) -> tuple[Path, ...]:
        """All written files, registers first."""
        return (
            *self.register_paths,
            self.assets_path,
            self.shares_path,
            self.settlements_path,
            self.forest_rangers_path,
            self.public_welfare_jobs_path,
            self.hospital_bills_path,
            self.events_path,
        )


# What a column holds decides how the messy writer may disguise it: dates change form, amounts
# gain separators or ¥, identifiers must stay text, units and integers stay as they are.
COLUMN_KINDS = ("text", "identifier", "date", "amount", "units", "integer")


@dataclass(frozen=True, slots=True)
class Column:
    """One output column: its Chinese header, its English alias, what it holds, and its cells
    as strings (the empty string for a blank cell)."""

    header: str
    alias: str
    kind: str
    values: np.ndarray

    def __post_init__(self) -> None:
        assert self.kind in COLUMN_KINDS, self.kind


@dataclass(frozen=True, slots=True)
class Table:
    """One output file before it is written: a title (used for an .xlsx preamble) and columns of
    equal length. ``order`` optionally permutes the rows when written (None = as they are)."""

    title: str
    columns: tuple[Column, ...]
    order: np.ndarray | None = None

    def __post_init__(self) -> None:
        lengths = {len(column.values) for column in self.columns}
        assert len(lengths) <= 1, lengths

    @property
    def row_count(self) -> int:
        """Number of data rows."""
        count = len(self.columns[0].values) if self.columns else 0
        return count if self.order is None else len(self.order)
