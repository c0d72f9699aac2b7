"""notices (公示) of a run per village with their objections, and stops (停发) of payables.

A run whose rule asks for notice is paid only once each of its notices has run its period and
no objection is open; a stopped payable stays out of every batch until a checker releases it.

Revision ID: 0100
Revises: 0090
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0100"
down_revision = "0090"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _notices() -> None:
    op.create_table(
        "notices",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("run_id", BIG_ID, nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("village_name", sa.String(length=100), nullable=True),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("household_count", sa.Integer(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("hotline", sa.String(length=100), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("last_day >= first_day", name=op.f("ck_notices_period")),
        sa.ForeignKeyConstraint(["run_id"], ["allocation_runs.id"], name=op.f("fk_notices_run_id_allocation_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("run_id", "village_code", name=op.f("uq_notices_run_id_village_code")),
    )
    op.create_index("ix_notices_run_id", "notices", ["run_id"], unique=False)
    op.create_table(
        "notice_objections",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("notice_id", BIG_ID, nullable=False),
        sa.Column("household_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("raised_by", sa.String(length=64), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("settled_by", sa.String(length=64), nullable=True),
        sa.Column("settled_at", sa.DateTime(), nullable=True),
        sa.Column("settle_reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint("status = 'open' OR status = 'dismissed'", name=op.f("ck_notice_objections_status")),
        sa.CheckConstraint("status = 'open' OR settled_by IS NOT NULL", name=op.f("ck_notice_objections_settled")),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], name=op.f("fk_notice_objections_notice_id_notices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_objections")),
    )
    op.create_index("ix_notice_objections_notice_id", "notice_objections", ["notice_id"], unique=False)


def _stops() -> None:
    op.create_table(
        "payable_stops",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("payable_id", BIG_ID, nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("stopped_by", sa.String(length=64), nullable=False),
        sa.Column("stopped_at", sa.DateTime(), nullable=False),
        sa.Column("released_by", sa.String(length=64), nullable=True),
        sa.Column("released_at", sa.DateTime(), nullable=True),
        sa.Column("release_reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint("status = 'stopped' OR status = 'released'", name=op.f("ck_payable_stops_status")),
        sa.CheckConstraint("released_by IS NULL OR released_by <> stopped_by", name=op.f("ck_payable_stops_checker")),
        sa.ForeignKeyConstraint(["payable_id"], ["payables.id"], name=op.f("fk_payable_stops_payable_id_payables")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payable_stops")),
    )
    op.create_index("ix_payable_stops_payable_id", "payable_stops", ["payable_id"], unique=False)


def upgrade() -> None:
    _notices()
    _stops()


def downgrade() -> None:
    op.drop_index("ix_payable_stops_payable_id", table_name="payable_stops")
    op.drop_table("payable_stops")
    op.drop_index("ix_notice_objections_notice_id", table_name="notice_objections")
    op.drop_table("notice_objections")
    op.drop_index("ix_notices_run_id", table_name="notices")
    op.drop_table("notices")
