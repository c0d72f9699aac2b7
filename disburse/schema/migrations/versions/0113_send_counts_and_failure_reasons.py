"""send counts of payment instructions and failure reason codes of return lines (issue #14 item 5).

``payment_instructions.send_number``: 0 for a payment's first send, 1 for a resend after a bank
failure, and so on (existing rows count from the failed instructions before them).
``return_lines.reason_code``: a failure's reason as one of a fixed list of codes (卡号已注销,
户名不符, 卡已达限额, 账户冻结, 账户不存在, 其他), the bank's text kept in ``reason``; lines applied
before this revision have none. The guard of payment_instructions is made again so that an
UPDATE keeps the new column too.

Revision ID: 0113
Revises: 0101
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from disburse.schema.guards import GUARDS_BY_TABLE, create_guards, drop_guards

revision = "0113"
down_revision = "0101"
branch_labels = None
depends_on = None

# Made again over the columns as they are after each step (an UPDATE keeps every column).
GUARDED = (GUARDS_BY_TABLE["payment_instructions"], GUARDS_BY_TABLE["return_lines"])

# An instruction's send number: the most earlier failed sends of any payable it pays.
BACKFILL = (
    "UPDATE payment_instructions SET send_number = coalesce(("
    "SELECT max((SELECT count(*) FROM instruction_payables e JOIN payment_instructions f "
    "ON f.id = e.instruction_id WHERE e.payable_id = l.payable_id AND f.status = 'failed' "
    "AND f.id < payment_instructions.id)) "
    "FROM instruction_payables l WHERE l.instruction_id = payment_instructions.id), 0)"
)


def upgrade() -> None:
    bind = op.get_bind()
    for statement in drop_guards(bind.dialect.name, GUARDED):
        op.execute(statement)
    # Plain ADD COLUMN, not a batch copy: on SQLite a copy would drop the tables' triggers.
    op.add_column(
        "payment_instructions", sa.Column("send_number", sa.Integer(), nullable=False, server_default=sa.text("0"))
    )
    op.add_column("return_lines", sa.Column("reason_code", sa.String(length=16), nullable=True))
    op.execute(BACKFILL)
    for statement in create_guards(bind, GUARDED):
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    for statement in drop_guards(bind.dialect.name, GUARDED):
        op.execute(statement)
    # Plain DROP COLUMN (SQLite 3.35 and later), not a batch copy that would lose the triggers
    # of the tables around it.
    op.drop_column("return_lines", "reason_code")
    op.drop_column("payment_instructions", "send_number")
    for statement in create_guards(bind, GUARDED):
        op.execute(statement)
