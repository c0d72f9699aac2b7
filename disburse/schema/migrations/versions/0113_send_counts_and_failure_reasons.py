"""send counts of payment instructions and failure reason codes of return lines (issue #14 item 5).

``payment_instructions.send_number``: 0 for a payment's first send, 1 for a resend after a bank
failure, and so on (existing rows count from the failed instructions before them).
``return_lines.reason_code``: a failure's reason as one of a fixed list of codes (卡号已注销,
户名不符, 卡已达限额, 账户冻结, 账户不存在, 其他), the bank's text kept in ``reason``; lines applied
before this revision have none. The guard of payment_instructions is made again so that an
UPDATE keeps the new column too.

Revision ID: 0113
Revises: 0112
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from alembic import op

from disburse.schema.guards import GUARDS_BY_TABLE, create_guards, drop_guards

revision = "0113"
down_revision = "0112"
branch_labels = None
depends_on = None

# Made again over the columns as they are after each step (an UPDATE keeps every column).
GUARDED = (GUARDS_BY_TABLE["payment_instructions"], GUARDS_BY_TABLE["return_lines"])


def _backfill(bind) -> None:  # type: ignore[no-untyped-def]
    """Each existing instruction's send number: the most failed sends, before it, of any payable
    it pays. In one pass over the links (sorted by payable, then instruction), not a correlated
    count per link: instruction_payables has no index on payable_id alone."""
    links = pd.DataFrame(
        bind.execute(
            sa.text(
                "SELECT l.instruction_id, l.payable_id, CASE WHEN i.status = 'failed' THEN 1 ELSE 0 END AS failed "
                "FROM instruction_payables l JOIN payment_instructions i ON i.id = l.instruction_id"
            )
        ).all(),
        columns=["instruction_id", "payable_id", "failed"],
    )
    if len(links) == 0 or not links["failed"].any():
        return
    links = links.astype("int64").sort_values(["payable_id", "instruction_id"], kind="stable")
    links["before"] = links.groupby("payable_id")["failed"].cumsum() - links["failed"]
    numbers = links.groupby("instruction_id")["before"].max()
    numbers = numbers[numbers > 0]
    if len(numbers):
        bind.execute(
            sa.text("UPDATE payment_instructions SET send_number = :number WHERE id = :id"),
            [{"id": int(key), "number": int(value)} for key, value in numbers.items()],
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
    _backfill(bind)
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
