"""allocation lines that explain themselves, runs that can be reversed.

- ``allocation_lines`` keeps each line's figures so ``runs explain`` can retell every step from
  what was stored: the beneficiary (享受人) of a person-level line, the amount a share was taken
  of, and a dividend's floor, pro-rata part and cap, a holder's units, principal and active
  days, a wage's amount owed and unpaid;
- ``allocation_steps`` names the settlement row a step belongs to (a PV run has several);
- ``allocation_runs`` keeps the notes a run makes about defaults it took (capacity from the
  register, settlements not yet received …) and who reversed a posted run, when, why, with which
  post request, and what was withdrawn with it (payables, settlement rows).

Revision ID: 0010
Revises: 0060
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0060"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LINE_FIGURES = (
    "share_pool_fen",
    "units_e4",
    "principal_fen",
    "floor_fen",
    "pro_rata_fen",
    "cap_fen",
    "owed_fen",
    "unpaid_fen",
)


def upgrade() -> None:
    with op.batch_alter_table("allocation_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("beneficiary_id", sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column("active_days", sa.Integer(), nullable=True))
        for name in LINE_FIGURES:
            batch_op.add_column(sa.Column(name, sa.BigInteger(), nullable=True))
    with op.batch_alter_table("allocation_steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_reference", sa.String(length=64), nullable=True))
    with op.batch_alter_table("allocation_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notes_json", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reversed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reversed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("reversal_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reversal_json", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reversal_post_request_id", BIG_ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_allocation_runs_reversal_post_request_id_post_requests"),
            "post_requests",
            ["reversal_post_request_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("allocation_runs", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_allocation_runs_reversal_post_request_id_post_requests"), type_="foreignkey"
        )
        for name in (
            "reversal_post_request_id",
            "reversal_json",
            "reversal_reason",
            "reversed_at",
            "reversed_by",
            "notes_json",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("allocation_steps", schema=None) as batch_op:
        batch_op.drop_column("source_reference")
    with op.batch_alter_table("allocation_lines", schema=None) as batch_op:
        for name in (*reversed(LINE_FIGURES), "active_days", "beneficiary_id"):
            batch_op.drop_column(name)
