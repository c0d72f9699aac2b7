"""Bulk writes for payouts: hundreds of thousands of instructions, links and return lines go
through the driver's executemany (SQLite) or COPY (PostgreSQL), never one ORM object per row.
Rows are plain tuples in ``columns`` order; dates are ISO text, which both engines read into
DATE columns (and which avoids sqlite3's deprecated date adapter)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

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
    """Insert ``rows`` into ``table_name`` inside the session's transaction; returns the count."""
    if not rows:
        return 0
    connection = session.connection()
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        with driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY {table_name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return len(rows)
    cursor = driver_connection.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table_name} ({names}) VALUES ({', '.join('?' * len(columns))})", rows)
    finally:
        cursor.close()
    return len(rows)


def frame_insert(session: Session, table_name: str, frame: pd.DataFrame, columns: Sequence[str]) -> int:
    """Insert the ``columns`` of every row of ``frame``."""
    if len(frame) == 0:
        return 0
    return bulk_insert(session, table_name, columns, list(zip(*(plain_values(frame[name]) for name in columns))))


def iso(date: dt.date | dt.datetime) -> str:
    """A date or timestamp as ISO text for the driver (SQLite stores what SQLAlchemy reads back)."""
    return date.isoformat(sep=" ") if isinstance(date, dt.datetime) else date.isoformat()


def temporary_table(session: Session, name: str, definition: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
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
