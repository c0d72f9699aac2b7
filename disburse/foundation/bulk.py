"""Bulk inserts: hundreds of thousands of rows go in through multi-row INSERT statements run by
the driver's executemany (SQLite) or through COPY (PostgreSQL), inside the session's
transaction, never one ORM object per row. Every package that writes many rows (the poster, the
registers, runs, payouts, reconciliation's link tables) uses these functions: ``bulk_insert`` for rows as
tuples, ``columns_insert`` for values already held column by column (the poster's case: no
tuple per row is ever made), ``frame_insert`` for a DataFrame. Temporary key tables for joins
over a whole batch, and fresh planner statistics after large inserts, live here too.

Dates are written as ISO text (``2026-10-31``), which both engines read into DATE columns and
which SQLAlchemy reads back from SQLite; that also avoids sqlite3's deprecated date adapter."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from disburse.foundation.dates import iso_dates

if TYPE_CHECKING:  # frames arrive built: the bulk insert never needs pandas itself
    import pandas as pd

# SQLite: rows go in as INSERT ... VALUES (...), (...), ... statements of this many rows each.
# Each execution of a statement costs a reset, a bind loop and a step; spreading that over many
# rows makes a bulk insert about a third faster than executemany of one row at a time (measured
# on the books' tables: 1,000,000 entries and 2,000,000 postings, 9.0 s -> 6.0 s).
SQLITE_ROWS_PER_STATEMENT = 128
# Below this many rows PostgreSQL's planner defaults serve well enough without fresh statistics.
ANALYZE_ROWS_MIN = 10_000


def plain_values(series: pd.Series) -> list[object]:
    """A frame column as plain Python values for the driver: int for integers, None for missing."""
    if series.dtype.kind in "iu":
        return series.astype(np.int64).tolist()
    if series.dtype == bool:
        return series.tolist()
    return series.to_numpy(dtype=object, na_value=None).tolist()


def bulk_insert(session: Session, table_name: str, columns: Sequence[str], rows: Sequence[tuple]) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table_name``; returns the count."""
    if not rows:
        return 0
    if session.connection().dialect.name == "postgresql":
        return _copy(session, table_name, columns, rows)
    # A short or long row would shift every later value into the wrong column.
    widths = set(map(len, rows))
    assert widths == {len(columns)}, f"rows of {table_name} have {sorted(widths)} values, not {len(columns)}"
    return _sqlite_insert(session, table_name, columns, list(itertools.chain.from_iterable(rows)))


def columns_insert(
    session: Session, table_name: str, columns: Sequence[str], values: Sequence[Sequence[object]]
) -> int:
    """Insert rows given column by column: ``values[k]`` holds column ``columns[k]`` of every
    row (lists of plain Python values, all of one length); returns the row count."""
    assert len(values) == len(columns), (len(values), len(columns))
    count = len(values[0]) if values else 0
    for name, column in zip(columns, values):
        assert len(column) == count, f"column {name} of {table_name} has {len(column)} values, not {count}"
    if count == 0:
        return 0
    if session.connection().dialect.name == "postgresql":
        return _copy(session, table_name, columns, list(zip(*values)))
    width = len(columns)
    # Row-major order by slice assignment: C loops, no tuple per row.
    flat: list[object] = [None] * (width * count)
    for position, column in enumerate(values):
        flat[position::width] = column
    return _sqlite_insert(session, table_name, columns, flat)


def frame_insert(
    session: Session,
    table_name: str,
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    date_columns: Sequence[str] = (),
    constants: dict[str, object] | None = None,
) -> int:
    """Insert the ``columns`` of every row of ``frame`` (``date_columns`` among them written as
    ISO dates), plus ``constants`` on every row; returns the row count."""
    if len(frame) == 0:
        return 0
    values = [
        iso_dates(frame[name].to_numpy()) if name in date_columns else plain_values(frame[name]) for name in columns
    ]
    values += [[value] * len(frame) for value in (constants or {}).values()]
    return columns_insert(session, table_name, [*columns, *(constants or {})], values)


def _copy(session: Session, table_name: str, columns: Sequence[str], rows: Sequence[tuple]) -> int:
    driver_connection = session.connection().connection.driver_connection
    assert driver_connection is not None
    with driver_connection.cursor() as cursor:
        with cursor.copy(f"COPY {table_name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return len(rows)


def _sqlite_insert(session: Session, table_name: str, columns: Sequence[str], flat: list[object]) -> int:
    """Insert the rows whose values ``flat`` holds one row after another."""
    driver_connection = session.connection().connection.driver_connection
    assert driver_connection is not None
    width = len(columns)
    count = len(flat) // width
    variables_max = driver_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per_statement = max(1, min(SQLITE_ROWS_PER_STATEMENT, variables_max // width))
    full = count - count % per_statement
    one_row = f"({', '.join('?' * width)})"
    insert = f"INSERT INTO {table_name} ({', '.join(columns)}) VALUES "
    cursor = driver_connection.cursor()
    try:
        if full:
            cursor.executemany(
                insert + ", ".join([one_row] * per_statement), _chunks(flat, full * width, per_statement * width)
            )
        if full < count:
            cursor.executemany(insert + one_row, _chunks(flat[full * width :], (count - full) * width, width))
    finally:
        cursor.close()
    return count


def _chunks(flat: list[object], end: int, size: int) -> Iterator[list[object]]:
    """``flat[:end]`` in slices of ``size`` values, made as the driver asks for them."""
    for start in range(0, end, size):
        yield flat[start : start + size]


def temporary_table(
    session: Session, name: str, definition: str, columns: Sequence[str], rows: Sequence[tuple]
) -> None:
    """A temporary table ``name`` (``definition`` is its column list in SQL) filled with
    ``rows``, private to this connection and gone at commit on PostgreSQL (SQLite keeps it on
    the connection until ``drop_temporary_table`` or the next use drops it). Joining a batch
    of 300,000 keys through one is far cheaper than IN lists of bound parameters."""
    assert name.isidentifier()
    session.execute(text(f"DROP TABLE IF EXISTS {name}"))
    on_commit = " ON COMMIT DROP" if session.get_bind().dialect.name == "postgresql" else ""
    session.execute(text(f"CREATE TEMPORARY TABLE {name} ({definition}){on_commit}"))
    bulk_insert(session, name, columns, rows)
    if len(rows) >= ANALYZE_ROWS_MIN:
        refresh_statistics(session, name)


def drop_temporary_table(session: Session, name: str) -> None:
    assert name.isidentifier()
    session.execute(text(f"DROP TABLE IF EXISTS {name}"))


def refresh_statistics(session: Session, *table_names: str) -> None:
    """PostgreSQL: ANALYZE tables a bulk write just filled (temporary tables are never analysed
    by autovacuum, and a fresh table's statistics say it is empty), so the set-based UPDATEs
    that follow join by index or hash rather than by a nested scan of 300,000 × 300,000 rows."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for name in table_names:
        assert name.isidentifier()
        session.execute(text(f"ANALYZE {name}"))
