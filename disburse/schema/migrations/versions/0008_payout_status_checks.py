"""payout status checks as comparisons: SQLite builds a lookup table for every row that a CHECK
with an IN list of more than two values checks, which cost about 1.9 µs per row inserted and
0.6 µs per row updated (0.6 s of a 300,000-payee prepare, 0.2 s of its export); the same
condition written as comparisons costs almost nothing. The allowed values do not change.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 08:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CHECKS = {
    # table: (values, constraint name)
    "payables": (("open", "claimed", "paid"), "ck_payables_status"),
    "payment_instructions": (
        ("pending", "exported", "success", "failed", "cancelled"),
        "ck_payment_instructions_status",
    ),
}


def _compared(values: tuple[str, ...]) -> str:
    return " OR ".join(f"status = '{value}'" for value in values)


def _listed(values: tuple[str, ...]) -> str:
    return "status IN (" + ",".join(f"'{value}'" for value in values) + ")"


def _replace(condition) -> None:  # type: ignore[no-untyped-def]
    for table, (values, name) in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(name), type_="check")
            batch_op.create_check_constraint(batch_op.f(name), sa.text(condition(values)))


def upgrade() -> None:
    _replace(_compared)


def downgrade() -> None:
    _replace(_listed)
