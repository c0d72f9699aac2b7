"""Payout helpers around ledger_core.bulk: ISO dates for the driver, temporary key tables for
joins over a whole batch, and fresh planner statistics after large inserts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from ledger_core.bulk import bulk_insert

# Below this many rows PostgreSQL's planner defaults serve well enough without fresh statistics.
ANALYZE_ROWS_MIN = 10_000


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
