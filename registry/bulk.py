"""Bulk writes and reads for the registers: a million person rows go through the driver's
executemany (SQLite) or COPY (PostgreSQL), never one ORM object per row.

Dates are written as ISO text (``2026-10-31``), which both engines read into DATE columns and
which SQLAlchemy reads back from SQLite; that also avoids sqlite3's deprecated date adapter.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

from ledger_core.bulk import bulk_insert as bulk_insert_rows

# Ids per UPDATE when closing versions: PostgreSQL and SQLite (since 3.32) accept far more bind
# parameters, but a bounded statement keeps each one's plan and memory small.
CLOSE_IDS_PER_STATEMENT = 10_000


def iso_dates(values: object) -> list[str | None]:
    """Dates (datetime64, Timestamps, date objects or None) as ISO text, None where missing."""
    array = np.asarray(values)
    if array.dtype.kind != "M":
        array = pd.to_datetime(pd.Series(array, dtype=object)).to_numpy()
    days = array.astype("datetime64[D]")
    texts = np.datetime_as_string(days, unit="D").astype(object)
    texts[np.isnat(days)] = None
    return texts.tolist()


def column_values(frame: pd.DataFrame, name: str, date_columns: Sequence[str]) -> list[object]:
    """One column of ``frame`` as a list of plain Python values ready for the driver."""
    series = frame[name]
    if name in date_columns:
        return iso_dates(series.to_numpy())
    if series.dtype == bool:
        return series.tolist()
    if series.dtype.kind in "iu":
        return series.astype(np.int64).tolist()
    return series.to_numpy(dtype=object, na_value=None).tolist()


def bulk_insert(session: Session, table: Table, frame: pd.DataFrame, columns: Sequence[str],
                date_columns: Sequence[str] = (), constants: dict[str, object] | None = None) -> int:
    """Insert every row of ``frame`` (its ``columns``, plus ``constants`` on every row) into
    ``table`` inside the session's transaction; returns the number of rows."""
    if len(frame) == 0:
        return 0
    names = list(columns) + list(constants or {})
    lists = [column_values(frame, name, date_columns) for name in columns]
    lists += [[value] * len(frame) for value in (constants or {}).values()]
    return bulk_insert_rows(session, table.name, names, list(zip(*lists)))


def close_versions(session: Session, table: Table, version_ids: Sequence[int], import_id: int) -> int:
    """Set ``valid_to_import`` of the given versions (the only update a version ever gets);
    only versions still open are touched, so a version is never closed twice."""
    ids = [int(value) for value in version_ids]
    for start in range(0, len(ids), CLOSE_IDS_PER_STATEMENT):
        chunk = ids[start : start + CLOSE_IDS_PER_STATEMENT]
        result = session.execute(
            update(table)
            .where(table.c.id.in_(bindparam("ids", expanding=True)), table.c.valid_to_import.is_(None))
            .values(valid_to_import=import_id),
            {"ids": chunk},
        )
        assert result.rowcount == len(chunk), (result.rowcount, len(chunk))
    return len(ids)


def read_frame(session: Session, statement) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The rows of a SELECT as a frame with the statement's column names (object columns)."""
    result = session.execute(statement)
    keys = list(result.keys())
    rows = result.all()
    if not rows:
        return pd.DataFrame({key: pd.Series([], dtype=object) for key in keys})
    columns = list(zip(*rows))
    return pd.DataFrame({key: pd.Series(np.array(values, dtype=object), dtype=object) for key, values in zip(keys, columns)})
