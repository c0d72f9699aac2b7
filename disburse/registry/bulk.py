"""Closing register versions in bulk: the one UPDATE a register version ever gets."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

# Ids per UPDATE when closing versions: PostgreSQL and SQLite (since 3.32) accept far more bind
# parameters, but a bounded statement keeps each one's plan and memory small.
CLOSE_IDS_PER_STATEMENT = 10_000


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
