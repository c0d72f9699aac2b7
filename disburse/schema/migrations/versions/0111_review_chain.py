"""allocation_reviews: each level's approval or return of a run in its programme's review chain.

A rule with a ``review:`` key (allocations.review_chain) is approved level by level, in order;
each action is one row here, never changed or deleted (the guard of schema.guards.REVIEW_GUARDS).
A level acts once per run and an account at one level of a run (two unique keys).

Revision ID: 0111
Revises: 0110
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from disburse.schema.guards import REVIEW_GUARDS, create_guards, drop_guards

revision = "0111"
down_revision = "0110"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "allocation_reviews",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("run_id", BIG_ID, nullable=False),
        sa.Column("level_position", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("acted_by", sa.String(length=64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("payable_fen", sa.BigInteger(), nullable=False),
        sa.Column("acted_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("action = 'approved' OR action = 'returned'", name=op.f("ck_allocation_reviews_action")),
        sa.CheckConstraint(
            "action = 'approved' OR comment <> ''", name=op.f("ck_allocation_reviews_returned_with_comment")
        ),
        sa.CheckConstraint("level_position >= 1", name=op.f("ck_allocation_reviews_level_position")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["allocation_runs.id"], name=op.f("fk_allocation_reviews_run_id_allocation_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_reviews")),
        sa.UniqueConstraint("run_id", "level_position", name=op.f("uq_allocation_reviews_run_id_level_position")),
        sa.UniqueConstraint("run_id", "acted_by", name=op.f("uq_allocation_reviews_run_id_acted_by")),
    )
    op.create_index("ix_allocation_reviews_run_id", "allocation_reviews", ["run_id"], unique=False)
    for statement in create_guards(op.get_bind(), REVIEW_GUARDS):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_guards(op.get_bind().dialect.name, REVIEW_GUARDS):
        op.execute(statement)
    op.drop_index("ix_allocation_reviews_run_id", table_name="allocation_reviews")
    op.drop_table("allocation_reviews")
