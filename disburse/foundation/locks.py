"""PostgreSQL advisory locks, with every key in one place so no two uses collide.

SQLite serialises writers with ``BEGIN IMMEDIATE``; PostgreSQL serialises the few operations
that number things, extend a chain or claim money with a transaction-scoped advisory lock,
released at commit or rollback.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

# Posting: voucher numbering and hash chains are per entity, but a post may span entities and
# posting is batch work where waiting a moment is cheaper than a deadlock.
POSTING_LOCK = 7_305_202_611
# Payout state changes (prepare, approve, export, returns, fixes) claim payables.
PAYOUTS_LOCK = 7_305_202_613
# The audit log's hash chain: one writer at a time appends to it.
AUDIT_LOG_LOCK = 7_305_202_614
# Appending a signed checkpoint: numbering and chaining checkpoints, and reading every money
# table only after the transactions ahead of it have committed.
CHECKPOINT_LOCK = 7_305_202_615
# Reconciliation runs, one lock per bank account: the two-key form (class, account id), whose
# keys are int4.
RECONCILE_LOCK_CLASS = 7_305_202_612 % (2**31)


def advisory_lock(session: Session, key: int, object_id: int | None = None) -> None:
    """Take the transaction-scoped lock ``key`` (or ``(key, object_id)``) on PostgreSQL; on
    SQLite the write transaction already holds the database's one write lock."""
    if session.get_bind().dialect.name != "postgresql":
        return
    if object_id is None:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        session.execute(text("SELECT pg_advisory_xact_lock(:key, :object_id)"), {"key": key, "object_id": object_id})
