"""eligibility holds: payables left out of a batch because the register as of the day of
preparation shows their recipient dead, gone from the register or without the run's card, their
money moved to 211.90 待决定款项 (issue #14 item 4). Insert-only, guarded like every money table.

Revision ID: 0112
Revises: 0111
Create Date: 2026-12-03 09:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from disburse.schema.guards import RECHECK_GUARDS, create_guards, drop_guards

revision = "0112"
down_revision = "0111"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "eligibility_holds",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("payable_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("held_by", sa.String(length=64), nullable=False),
        sa.Column("held_at", sa.DateTime(), nullable=False),
        sa.Column("post_request_id", BIG_ID, nullable=False),
        sa.CheckConstraint(
            "kind = 'left_register' OR kind = 'death' OR kind = 'card_closed' OR kind = 'card_changed'",
            name=op.f("ck_eligibility_holds_kind"),
        ),
        sa.ForeignKeyConstraint(["payable_id"], ["payables.id"], name=op.f("fk_eligibility_holds_payable_id_payables")),
        sa.ForeignKeyConstraint(
            ["post_request_id"], ["post_requests.id"], name=op.f("fk_eligibility_holds_post_request_id_post_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligibility_holds")),
        sa.UniqueConstraint("payable_id", name=op.f("uq_eligibility_holds_payable_id")),
    )
    for statement in create_guards(op.get_bind(), RECHECK_GUARDS):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_guards(op.get_bind().dialect.name, RECHECK_GUARDS):
        op.execute(statement)
    op.drop_table("eligibility_holds")
