"""the audit log is hash-chained and append-only.

Each row carries the previous row's hash and its own (``audit.log.audit_row_hash``), so
``disburse verify`` names a row changed, inserted or deleted behind the engine's back. Rows
written before this revision are chained here, in id order. That the log is append-only (UPDATE
and DELETE refused in both engines) is revision 0080's, with every other money table.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 06:40:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from disburse.audit.log import GENESIS_HASH, audit_row_hash

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FIELDS = (
    "command",
    "arguments",
    "user",
    "started_at",
    "finished_at",
    "outcome",
    "exit_code",
    "message",
    "input_hashes",
    "dry_run",
)


def _as_datetime(value: object) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def _chain_existing_rows() -> None:
    connection = op.get_bind()
    columns = ", ".join(f'"{name}"' for name in ("id", *FIELDS))
    previous = GENESIS_HASH
    for row in connection.execute(sa.text(f"SELECT {columns} FROM audit_log ORDER BY id")).mappings().all():
        fields = dict(row)
        fields["started_at"] = _as_datetime(fields["started_at"])
        fields["finished_at"] = _as_datetime(fields["finished_at"])
        row_hash = audit_row_hash(previous, fields)
        connection.execute(
            sa.text("UPDATE audit_log SET previous_hash = :previous, row_hash = :hash WHERE id = :id"),
            {"previous": previous, "hash": row_hash, "id": row["id"]},
        )
        previous = row_hash


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
    _chain_existing_rows()
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("previous_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_log_row_hash"), ["row_hash"])


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_log_row_hash"), type_="unique")
        batch_op.drop_column("row_hash")
        batch_op.drop_column("previous_hash")
