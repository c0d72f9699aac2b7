"""payouts: card fixes reviewed by a checker with old and new values, bank files recorded with
their size, and one payment per programme and period.

- ``account_fixes``: a reference, a status (proposed → approved | rejected), the old account
  name and bank beside the old number, the checker, the identifier warnings and the household
  a shared card belongs to. Fixes made before this revision took effect unchecked: they stay
  approved, without a reference.
- ``payment_batch_files.size_bytes``: the size recorded with the SHA-256 and row count.
- ``payment_batches.netting``: ``by_programme`` (one payment per programme and period per payee
  account, the new default) or ``merged``; batches made before were merged.
- ``payment_instructions.period``: the one period a payment is for.

Revision ID: 0060
Revises: 0051
Create Date: 2026-11-25 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0060"
down_revision = "0051"
branch_labels = None
depends_on = None

FIX_COLUMNS = (
    ("fix_reference", sa.String(length=40)),
    ("old_account_name", sa.String(length=200)),
    ("old_bank_name", sa.String(length=100)),
    ("warnings", sa.String(length=500)),
    ("shared_with_household", sa.String(length=32)),
    ("checked_by", sa.String(length=64)),
    ("checked_at", sa.DateTime()),
    ("check_note", sa.String(length=500)),
)


def _upgrade_account_fixes() -> None:
    with op.batch_alter_table("account_fixes", schema=None) as batch_op:
        for name, column_type in FIX_COLUMNS:
            batch_op.add_column(sa.Column(name, column_type, nullable=True))
        # Existing rows are fixes that already took effect.
        batch_op.add_column(sa.Column("status", sa.String(length=10), nullable=False, server_default="approved"))
    with op.batch_alter_table("account_fixes", schema=None) as batch_op:
        batch_op.alter_column("status", server_default=None)
        batch_op.create_unique_constraint(batch_op.f("uq_account_fixes_fix_reference"), ["fix_reference"])
        batch_op.create_check_constraint(
            batch_op.f("ck_account_fixes_status"),
            sa.text("status = 'proposed' OR status = 'approved' OR status = 'rejected'"),
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_account_fixes_checker"),
            sa.text("status <> 'approved' OR checked_by IS NULL OR checked_by <> fixed_by"),
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_account_fixes_approved_by_checker"),
            sa.text("status <> 'approved' OR source = 'register' OR fix_reference IS NULL OR checked_by IS NOT NULL"),
        )
        batch_op.create_index("ix_account_fixes_new_account_no", ["new_account_no"], unique=False)


def _upgrade_batches() -> None:
    with op.batch_alter_table("payment_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("netting", sa.String(length=16), nullable=False, server_default="merged"))
    with op.batch_alter_table("payment_batches", schema=None) as batch_op:
        batch_op.alter_column("netting", server_default=None)
        batch_op.create_check_constraint(
            batch_op.f("ck_payment_batches_netting"), sa.text("netting = 'by_programme' OR netting = 'merged'")
        )
    # Plain ADD COLUMN on both engines: the instruction table is large, so it is not copied.
    op.add_column("payment_instructions", sa.Column("period", sa.String(length=7), nullable=True))
    op.add_column("payment_batch_files", sa.Column("size_bytes", sa.BigInteger(), nullable=True))


def upgrade() -> None:
    _upgrade_account_fixes()
    _upgrade_batches()


def downgrade() -> None:
    # Before 0060 every row of account_fixes took effect: a proposed or rejected fix would
    # become a payee's account. Refuse rather than redirect anyone's money.
    pending = op.get_bind().execute(sa.text("SELECT count(*) FROM account_fixes WHERE status <> 'approved'")).scalar()
    if pending:
        raise RuntimeError(
            f"account_fixes holds {pending} proposed or rejected fix(es), which the schema before 0060 would "
            "apply as approved; approve or reject them and delete the rejected ones before downgrading"
        )
    with op.batch_alter_table("payment_batch_files", schema=None) as batch_op:
        batch_op.drop_column("size_bytes")
    with op.batch_alter_table("payment_instructions", schema=None) as batch_op:
        batch_op.drop_column("period")
    with op.batch_alter_table("payment_batches", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_payment_batches_netting"), type_="check")
        batch_op.drop_column("netting")
    with op.batch_alter_table("account_fixes", schema=None) as batch_op:
        batch_op.drop_index("ix_account_fixes_new_account_no")
        batch_op.drop_constraint(batch_op.f("ck_account_fixes_approved_by_checker"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_account_fixes_checker"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_account_fixes_status"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_account_fixes_fix_reference"), type_="unique")
        batch_op.drop_column("status")
        for name, _ in reversed(FIX_COLUMNS):
            batch_op.drop_column(name)
