"""allocation runs: runs with their exact rule text, lines, exclusions and steps, and the
settlement rows a posted run has taken (once each).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 04:51:51.704840
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "allocation_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_key", sa.String(length=64), nullable=False),
        sa.Column("rule_kind", sa.String(length=32), nullable=False),
        sa.Column("rule_name", sa.String(length=200), nullable=False),
        sa.Column("rule_subject", sa.String(length=64), nullable=False),
        sa.Column("rule_text", sa.Text(), nullable=False),
        sa.Column("rule_sha256", sa.String(length=64), nullable=False),
        sa.Column("inputs_sha256", sa.String(length=64), nullable=False),
        sa.Column("inputs_description", sa.Text(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("paying_entity_code", sa.String(length=32), nullable=False),
        sa.Column("fund_source", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pool_fen", sa.BigInteger(), nullable=False),
        sa.Column("payable_fen", sa.BigInteger(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("exclusion_count", sa.Integer(), nullable=False),
        sa.Column("summary_json", sa.Text(), nullable=False),
        sa.Column("supersedes_run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("calculated_by", sa.String(length=64), nullable=False),
        sa.Column("calculated_at", sa.DateTime(), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("posted_by", sa.String(length=64), nullable=True),
        sa.Column("posted_at", sa.DateTime(), nullable=True),
        sa.Column("post_request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("cancelled_by", sa.String(length=64), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["post_request_id"], ["post_requests.id"], name=op.f("fk_allocation_runs_post_request_id_post_requests")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_run_id"],
            ["allocation_runs.id"],
            name=op.f("fk_allocation_runs_supersedes_run_id_allocation_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_runs")),
        sa.UniqueConstraint("run_key", name=op.f("uq_allocation_runs_run_key")),
    )
    with op.batch_alter_table("allocation_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_allocation_runs_subject_period", ["rule_kind", "rule_subject", "period"], unique=False
        )

    op.create_table(
        "allocation_exclusions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("household_id", sa.String(length=32), nullable=True),
        sa.Column("id_number", sa.String(length=18), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["allocation_runs.id"], name=op.f("fk_allocation_exclusions_run_id_allocation_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_exclusions")),
    )
    with op.batch_alter_table("allocation_exclusions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_allocation_exclusions_run_id"), ["run_id"], unique=False)

    op.create_table(
        "allocation_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("payee_type", sa.String(length=16), nullable=False),
        sa.Column("payee_id", sa.String(length=64), nullable=False),
        sa.Column("household_id", sa.String(length=32), nullable=True),
        sa.Column("village_code", sa.String(length=12), nullable=True),
        sa.Column("component", sa.String(length=40), nullable=False),
        sa.Column("account_code", sa.String(length=32), nullable=False),
        sa.Column("debit_account_code", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("share_numerator", sa.String(length=40), nullable=True),
        sa.Column("share_denominator", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("account_no", sa.String(length=40), nullable=True),
        sa.Column("account_name", sa.String(length=100), nullable=True),
        sa.Column("source_reference", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["allocation_runs.id"], name=op.f("fk_allocation_lines_run_id_allocation_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_lines")),
        sa.UniqueConstraint("run_id", "line_number", name=op.f("uq_allocation_lines_run_id_line_number")),
    )
    with op.batch_alter_table("allocation_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_allocation_lines_household_id",
            ["household_id"],
            unique=False,
            sqlite_where=sa.text("household_id IS NOT NULL"),
            postgresql_where=sa.text("household_id IS NOT NULL"),
        )

    op.create_table(
        "allocation_steps",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("component", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["allocation_runs.id"], name=op.f("fk_allocation_steps_run_id_allocation_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_steps")),
    )
    with op.batch_alter_table("allocation_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_allocation_steps_run_id"), ["run_id"], unique=False)

    op.create_table(
        "settlement_allocations",
        sa.Column("settlement_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("allocated_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["allocation_runs.id"], name=op.f("fk_settlement_allocations_run_id_allocation_runs")
        ),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["pv_settlements.id"],
            name=op.f("fk_settlement_allocations_settlement_id_pv_settlements"),
        ),
        sa.PrimaryKeyConstraint("settlement_id", name=op.f("pk_settlement_allocations")),
    )


def downgrade() -> None:
    op.drop_table("settlement_allocations")
    with op.batch_alter_table("allocation_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allocation_steps_run_id"))

    op.drop_table("allocation_steps")
    with op.batch_alter_table("allocation_lines", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_allocation_lines_household_id",
            sqlite_where=sa.text("household_id IS NOT NULL"),
            postgresql_where=sa.text("household_id IS NOT NULL"),
        )

    op.drop_table("allocation_lines")
    with op.batch_alter_table("allocation_exclusions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allocation_exclusions_run_id"))

    op.drop_table("allocation_exclusions")
    with op.batch_alter_table("allocation_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_allocation_runs_subject_period")

    op.drop_table("allocation_runs")
