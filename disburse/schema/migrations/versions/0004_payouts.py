"""payouts: payables, payment batches and instructions (one active claim per payable), bank
files out and return files in, the fix-the-card list and account fixes, reference counters.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 04:58:09.104990
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_fixes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("payee_type", sa.String(length=16), nullable=False),
        sa.Column("payee_id", sa.String(length=64), nullable=False),
        sa.Column("household_id", sa.String(length=32), nullable=True),
        sa.Column("old_account_no", sa.String(length=40), nullable=True),
        sa.Column("new_account_no", sa.String(length=40), nullable=False),
        sa.Column("new_account_name", sa.String(length=200), nullable=True),
        sa.Column("new_bank_name", sa.String(length=100), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("fixed_by", sa.String(length=64), nullable=False),
        sa.Column("fixed_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("source IN ('clerk','register')", name=op.f("ck_account_fixes_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_fixes")),
    )
    op.create_index("ix_account_fixes_payee_id", "account_fixes", ["payee_id"], unique=False)
    op.create_table(
        "payout_counters",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("month", sa.String(length=6), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "month", name=op.f("pk_payout_counters")),
    )
    op.create_table(
        "payment_batches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_reference", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("programme_filter", sa.String(length=200), nullable=True),
        sa.Column("period_filter", sa.String(length=7), nullable=True),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("instruction_count", sa.Integer(), nullable=False),
        sa.Column("payable_count", sa.Integer(), nullable=False),
        sa.Column("approvals_required", sa.Integer(), nullable=False),
        sa.Column("prepared_by", sa.String(length=64), nullable=False),
        sa.Column("prepared_at", sa.DateTime(), nullable=False),
        sa.Column("first_approved_by", sa.String(length=64), nullable=True),
        sa.Column("first_approved_at", sa.DateTime(), nullable=True),
        sa.Column("second_approved_by", sa.String(length=64), nullable=True),
        sa.Column("second_approved_at", sa.DateTime(), nullable=True),
        sa.Column("bank_profile", sa.String(length=40), nullable=True),
        sa.Column("exported_by", sa.String(length=64), nullable=True),
        sa.Column("exported_at", sa.DateTime(), nullable=True),
        sa.Column("export_post_request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("cancelled_by", sa.String(length=64), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('prepared','approved','exported','closed','cancelled')", name=op.f("ck_payment_batches_status")
        ),
        sa.CheckConstraint(
            "first_approved_by IS NULL OR first_approved_by <> prepared_by",
            name=op.f("ck_payment_batches_first_not_preparer"),
        ),
        sa.CheckConstraint(
            "second_approved_by IS NULL OR (second_approved_by <> prepared_by AND second_approved_by <> "
            "first_approved_by)",
            name=op.f("ck_payment_batches_second_distinct"),
        ),
        sa.CheckConstraint("total_fen > 0", name=op.f("ck_payment_batches_positive_total")),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], name=op.f("fk_payment_batches_entity_id_entities")),
        sa.ForeignKeyConstraint(
            ["export_post_request_id"],
            ["post_requests.id"],
            name=op.f("fk_payment_batches_export_post_request_id_post_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_batches")),
        sa.UniqueConstraint("batch_reference", name=op.f("uq_payment_batches_batch_reference")),
    )
    op.create_index("ix_payment_batches_entity_id_status", "payment_batches", ["entity_id", "status"], unique=False)
    op.create_table(
        "return_files",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("bank_profile", sa.String(length=40), nullable=False),
        sa.Column("settled_on", sa.Date(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("success_count", sa.Integer(), nullable=False),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        sa.Column("reported_count", sa.Integer(), nullable=False),
        sa.Column("post_request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("applied_by", sa.String(length=64), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_request_id"], ["post_requests.id"], name=op.f("fk_return_files_post_request_id_post_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_files")),
        sa.UniqueConstraint("sha256", name=op.f("uq_return_files_sha256")),
    )
    op.create_table(
        "payables",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("source_line", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.String(length=32), nullable=True),
        sa.Column("payee_type", sa.String(length=16), nullable=False),
        sa.Column("payee_id", sa.String(length=64), nullable=False),
        sa.Column("programme", sa.String(length=200), nullable=False),
        sa.Column("fund_source", sa.String(length=200), nullable=True),
        sa.Column("account_code", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("account_no", sa.String(length=40), nullable=True),
        sa.Column("account_name", sa.String(length=200), nullable=True),
        sa.Column("bank_name", sa.String(length=100), nullable=True),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("payee_type IN ('household','person')", name=op.f("ck_payables_payee_type")),
        sa.CheckConstraint("status IN ('open','claimed','paid')", name=op.f("ck_payables_status")),
        sa.CheckConstraint("amount_fen <> 0", name=op.f("ck_payables_nonzero")),
        sa.ForeignKeyConstraint(["account_code"], ["accounts.code"], name=op.f("fk_payables_account_code_accounts")),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], name=op.f("fk_payables_entity_id_entities")),
        sa.ForeignKeyConstraint(["run_id"], ["allocation_runs.id"], name=op.f("fk_payables_run_id_allocation_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payables")),
        sa.UniqueConstraint("run_id", "source_line", name=op.f("uq_payables_run_id_source_line")),
    )
    op.create_index("ix_payables_entity_id_status", "payables", ["entity_id", "status"], unique=False)
    op.create_index("ix_payables_household_id", "payables", ["household_id"], unique=False)
    op.create_index("ix_payables_payee_id", "payables", ["payee_id"], unique=False)
    op.create_table(
        "payment_batch_files",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("file_number", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["payment_batches.id"], name=op.f("fk_payment_batch_files_batch_id_payment_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_batch_files")),
        sa.UniqueConstraint("batch_id", "file_number", name=op.f("uq_payment_batch_files_batch_id_file_number")),
    )
    op.create_table(
        "payment_instructions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("payment_reference", sa.String(length=40), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("payee_type", sa.String(length=16), nullable=False),
        sa.Column("payee_id", sa.String(length=64), nullable=False),
        sa.Column("household_id", sa.String(length=32), nullable=True),
        sa.Column("account_no", sa.String(length=40), nullable=False),
        sa.Column("account_name", sa.String(length=200), nullable=True),
        sa.Column("bank_name", sa.String(length=100), nullable=True),
        sa.Column("programmes", sa.String(length=500), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("settled_on", sa.Date(), nullable=True),
        sa.Column("return_file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending','exported','success','failed','cancelled')",
            name=op.f("ck_payment_instructions_status"),
        ),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_payment_instructions_positive")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["payment_batches.id"], name=op.f("fk_payment_instructions_batch_id_payment_batches")
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name=op.f("fk_payment_instructions_entity_id_entities")
        ),
        sa.ForeignKeyConstraint(
            ["return_file_id"], ["return_files.id"], name=op.f("fk_payment_instructions_return_file_id_return_files")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_instructions")),
        sa.UniqueConstraint("payment_reference", name=op.f("uq_payment_instructions_payment_reference")),
    )
    op.create_index("ix_payment_instructions_batch_id", "payment_instructions", ["batch_id"], unique=False)
    op.create_index("ix_payment_instructions_household_id", "payment_instructions", ["household_id"], unique=False)
    op.create_table(
        "card_fixes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("payee_type", sa.String(length=16), nullable=False),
        sa.Column("payee_id", sa.String(length=64), nullable=False),
        sa.Column("household_id", sa.String(length=32), nullable=True),
        sa.Column("account_no", sa.String(length=40), nullable=False),
        sa.Column("account_name", sa.String(length=200), nullable=True),
        sa.Column("instruction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("failed_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("account_fix_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('open','fixed','forced')", name=op.f("ck_card_fixes_status")),
        sa.ForeignKeyConstraint(
            ["account_fix_id"], ["account_fixes.id"], name=op.f("fk_card_fixes_account_fix_id_account_fixes")
        ),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], name=op.f("fk_card_fixes_entity_id_entities")),
        sa.ForeignKeyConstraint(
            ["instruction_id"],
            ["payment_instructions.id"],
            name=op.f("fk_card_fixes_instruction_id_payment_instructions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_fixes")),
        sa.UniqueConstraint("instruction_id", name=op.f("uq_card_fixes_instruction_id")),
    )
    op.create_index("ix_card_fixes_entity_id_status", "card_fixes", ["entity_id", "status"], unique=False)
    op.create_index("ix_card_fixes_household_id", "card_fixes", ["household_id"], unique=False)
    op.create_index("ix_card_fixes_payee_id_status", "card_fixes", ["payee_id", "status"], unique=False)
    op.create_table(
        "instruction_payables",
        sa.Column("instruction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("payable_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instruction_id"],
            ["payment_instructions.id"],
            name=op.f("fk_instruction_payables_instruction_id_payment_instructions"),
        ),
        sa.ForeignKeyConstraint(
            ["payable_id"], ["payables.id"], name=op.f("fk_instruction_payables_payable_id_payables")
        ),
        sa.PrimaryKeyConstraint("instruction_id", "payable_id", name=op.f("pk_instruction_payables")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "uq_instruction_payables_active_claim",
        "instruction_payables",
        ["payable_id"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )
    op.create_table(
        "return_lines",
        sa.Column("return_file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("instruction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("account_no", sa.String(length=40), nullable=True),
        sa.Column("account_name", sa.String(length=200), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("memo", sa.String(length=500), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('success','failure','unmatched','already_settled','mismatch','duplicate')",
            name=op.f("ck_return_lines_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["instruction_id"],
            ["payment_instructions.id"],
            name=op.f("fk_return_lines_instruction_id_payment_instructions"),
        ),
        sa.ForeignKeyConstraint(
            ["return_file_id"], ["return_files.id"], name=op.f("fk_return_lines_return_file_id_return_files")
        ),
        sa.PrimaryKeyConstraint("return_file_id", "source_row", name=op.f("pk_return_lines")),
    )
    op.create_index("ix_return_lines_instruction_id", "return_lines", ["instruction_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_return_lines_instruction_id", table_name="return_lines")
    op.drop_table("return_lines")
    op.drop_index(
        "uq_instruction_payables_active_claim",
        table_name="instruction_payables",
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )
    op.drop_table("instruction_payables")
    op.drop_index("ix_card_fixes_payee_id_status", table_name="card_fixes")
    op.drop_index("ix_card_fixes_household_id", table_name="card_fixes")
    op.drop_index("ix_card_fixes_entity_id_status", table_name="card_fixes")
    op.drop_table("card_fixes")
    op.drop_index("ix_payment_instructions_household_id", table_name="payment_instructions")
    op.drop_index("ix_payment_instructions_batch_id", table_name="payment_instructions")
    op.drop_table("payment_instructions")
    op.drop_table("payment_batch_files")
    op.drop_index("ix_payables_payee_id", table_name="payables")
    op.drop_index("ix_payables_household_id", table_name="payables")
    op.drop_index("ix_payables_entity_id_status", table_name="payables")
    op.drop_table("payables")
    op.drop_table("return_files")
    op.drop_index("ix_payment_batches_entity_id_status", table_name="payment_batches")
    op.drop_table("payment_batches")
    op.drop_table("payout_counters")
    op.drop_index("ix_account_fixes_payee_id", table_name="account_fixes")
    op.drop_table("account_fixes")
