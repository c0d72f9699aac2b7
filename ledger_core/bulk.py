"""Bulk inserts: hundreds of thousands of rows go through the driver's executemany (SQLite) or
COPY (PostgreSQL) inside the session's transaction, never one ORM object per row. Every package
that writes many rows (the poster, the registers, runs, payouts) uses this one function."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session


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
