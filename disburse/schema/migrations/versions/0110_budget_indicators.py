"""budget indicators (资金指标, one per 指标文号) and the movements of their money, with guards.

A run of a programme an indicator names draws on it when posted; a prepared batch freezes its
payables' amount, the bank's success pays it, a failure or a cancelled batch releases it, and
money sent back upstream (退回) is a return. Neither table is ever updated or deleted.

Revision ID: 0110
Revises: 0101
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from disburse.schema.guards import FUND_GUARDS, create_guards, drop_guards

revision = "0110"
down_revision = "0101"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "budget_indicators",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("document_number", sa.String(length=64), nullable=False),
        sa.Column("fund_name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=4), nullable=False),
        sa.Column("nature", sa.String(length=100), nullable=False),
        sa.Column("budget_line", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("issued_fen", sa.BigInteger(), nullable=False),
        sa.Column("programmes_json", sa.Text(), nullable=False),
        sa.Column("source_file", sa.String(length=500), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("issued_fen > 0", name=op.f("ck_budget_indicators_positive")),
        sa.CheckConstraint(
            "level = '中央' OR level = '省' OR level = '市' OR level = '县'", name=op.f("ck_budget_indicators_level")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_indicators")),
        sa.UniqueConstraint("document_number", name=op.f("uq_budget_indicators_document_number")),
    )
    op.create_table(
        "fund_movements",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("indicator_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("run_id", BIG_ID, nullable=True),
        sa.Column("batch_id", sa.BigInteger(), nullable=True),
        sa.Column("return_file_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind = 'draw' OR kind = 'undraw' OR kind = 'freeze' OR kind = 'pay' OR kind = 'release' "
            "OR kind = 'return'",
            name=op.f("ck_fund_movements_kind"),
        ),
        sa.CheckConstraint("amount_fen <> 0", name=op.f("ck_fund_movements_nonzero")),
        sa.ForeignKeyConstraint(
            ["indicator_id"], ["budget_indicators.id"], name=op.f("fk_fund_movements_indicator_id_budget_indicators")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["allocation_runs.id"], name=op.f("fk_fund_movements_run_id_allocation_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_movements")),
    )
    op.create_index("ix_fund_movements_indicator_id", "fund_movements", ["indicator_id"], unique=False)
    op.create_index("ix_fund_movements_run_id", "fund_movements", ["run_id"], unique=False)
    for statement in create_guards(op.get_bind(), FUND_GUARDS):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_guards(op.get_bind().dialect.name, FUND_GUARDS):
        op.execute(statement)
    op.drop_index("ix_fund_movements_run_id", table_name="fund_movements")
    op.drop_index("ix_fund_movements_indicator_id", table_name="fund_movements")
    op.drop_table("fund_movements")
    op.drop_table("budget_indicators")
