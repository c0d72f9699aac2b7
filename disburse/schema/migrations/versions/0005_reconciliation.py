"""reconciliation: imported statements and their lines (one per bank transaction), reconciliation
runs, matches with their links to lines, postings, payment instructions and references, and the entries
post-unmatched wrote for bank-only lines.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 05:09:05.714513
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reconciliation_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bank_account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("run_by", sa.String(length=64), nullable=False),
        sa.Column("run_at", sa.DateTime(), nullable=False),
        sa.Column("statement_line_count", sa.Integer(), nullable=False),
        sa.Column("book_item_count", sa.Integer(), nullable=False),
        sa.Column("instruction_count", sa.Integer(), nullable=False),
        sa.Column("matched_count", sa.Integer(), nullable=False),
        sa.Column("candidate_count", sa.Integer(), nullable=False),
        sa.Column("confirmed_count", sa.Integer(), nullable=False),
        sa.Column("bank_only_count", sa.Integer(), nullable=False),
        sa.Column("book_only_count", sa.Integer(), nullable=False),
        sa.Column("mismatch_count", sa.Integer(), nullable=False),
        sa.Column("duplicate_count", sa.Integer(), nullable=False),
        sa.Column("book_balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("bank_balance_fen", sa.BigInteger(), nullable=True),
        sa.Column("adjusted_book_balance_fen", sa.BigInteger(), nullable=True),
        sa.Column("adjusted_bank_balance_fen", sa.BigInteger(), nullable=True),
        sa.Column("difference_fen", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bank_account_id"], ["bank_accounts.id"], name=op.f("fk_reconciliation_runs_bank_account_id_bank_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
    )
    op.create_index(
        "ix_reconciliation_runs_bank_account_id_period",
        "reconciliation_runs",
        ["bank_account_id", "period"],
        unique=False,
    )

    op.create_table(
        "statement_imports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bank_account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("profile", sa.String(length=40), nullable=False),
        sa.Column("encoding", sa.String(length=40), nullable=True),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("added_count", sa.Integer(), nullable=False),
        sa.Column("known_count", sa.Integer(), nullable=False),
        sa.Column("warning_count", sa.Integer(), nullable=False),
        sa.Column("first_booked_on", sa.Date(), nullable=True),
        sa.Column("last_booked_on", sa.Date(), nullable=True),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_account_id"], ["bank_accounts.id"], name=op.f("fk_statement_imports_bank_account_id_bank_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_imports")),
        sa.UniqueConstraint(
            "bank_account_id", "file_sha256", name=op.f("uq_statement_imports_bank_account_id_file_sha256")
        ),
    )
    op.create_table(
        "matches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("match_id", sa.String(length=17), nullable=False),
        sa.Column("bank_account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("book_amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("difference_fen", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('matched','candidate','confirmed','rejected')", name=op.f("ck_matches_status")),
        sa.CheckConstraint("score BETWEEN 0 AND 100", name=op.f("ck_matches_score")),
        sa.ForeignKeyConstraint(
            ["bank_account_id"], ["bank_accounts.id"], name=op.f("fk_matches_bank_account_id_bank_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["reconciliation_runs.id"], name=op.f("fk_matches_run_id_reconciliation_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matches")),
        sa.UniqueConstraint(
            "bank_account_id", "period", "match_id", name=op.f("uq_matches_bank_account_id_period_match_id")
        ),
    )
    op.create_index("ix_matches_match_id", "matches", ["match_id"], unique=False)
    op.create_index("ix_matches_bank_account_id_status", "matches", ["bank_account_id", "status"], unique=False)

    op.create_table(
        "statement_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bank_account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("import_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("booked_time", sa.String(length=8), nullable=True),
        sa.Column("txn_id", sa.String(length=64), nullable=True),
        sa.Column("summary", sa.String(length=200), nullable=True),
        sa.Column("counterparty_account", sa.String(length=64), nullable=True),
        sa.Column("counterparty_name", sa.String(length=200), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_fen", sa.BigInteger(), nullable=True),
        sa.Column("memo", sa.String(length=500), nullable=True),
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_account_id"], ["bank_accounts.id"], name=op.f("fk_statement_lines_bank_account_id_bank_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["statement_imports.id"], name=op.f("fk_statement_lines_import_id_statement_imports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_lines")),
        sa.UniqueConstraint(
            "bank_account_id", "dedupe_key", name=op.f("uq_statement_lines_bank_account_id_dedupe_key")
        ),
    )
    op.create_index(
        "ix_statement_lines_bank_account_id_booked_on",
        "statement_lines",
        ["bank_account_id", "booked_on"],
        unique=False,
    )

    op.create_table(
        "match_payment_references",
        sa.Column("match_row_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("payment_reference", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["match_row_id"],
            ["matches.id"],
            name=op.f("fk_match_payment_references_match_row_id_matches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("match_row_id", "payment_reference", name=op.f("pk_match_payment_references")),
    )
    op.create_table(
        "match_postings",
        sa.Column("match_row_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("posting_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["match_row_id"], ["matches.id"], name=op.f("fk_match_postings_match_row_id_matches"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["posting_id"], ["postings.id"], name=op.f("fk_match_postings_posting_id_postings")),
        sa.PrimaryKeyConstraint("match_row_id", "posting_id", name=op.f("pk_match_postings")),
    )
    op.create_index("ix_match_postings_posting_id", "match_postings", ["posting_id"], unique=False)

    op.create_table(
        "match_instructions",
        sa.Column("match_row_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("instruction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["instruction_id"],
            ["payment_instructions.id"],
            name=op.f("fk_match_instructions_instruction_id_payment_instructions"),
        ),
        sa.ForeignKeyConstraint(
            ["match_row_id"],
            ["matches.id"],
            name=op.f("fk_match_instructions_match_row_id_matches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("match_row_id", "instruction_id", name=op.f("pk_match_instructions")),
    )
    op.create_index("ix_match_instructions_instruction_id", "match_instructions", ["instruction_id"], unique=False)
    op.create_table(
        "match_statement_lines",
        sa.Column("match_row_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("statement_line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["match_row_id"],
            ["matches.id"],
            name=op.f("fk_match_statement_lines_match_row_id_matches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["statement_line_id"],
            ["statement_lines.id"],
            name=op.f("fk_match_statement_lines_statement_line_id_statement_lines"),
        ),
        sa.PrimaryKeyConstraint("match_row_id", "statement_line_id", name=op.f("pk_match_statement_lines")),
    )
    op.create_index(
        "ix_match_statement_lines_statement_line_id", "match_statement_lines", ["statement_line_id"], unique=False
    )

    op.create_table(
        "unmatched_postings",
        sa.Column("statement_line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("posting_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rule_name", sa.String(length=100), nullable=False),
        sa.Column("rules_sha256", sa.String(length=64), nullable=False),
        sa.Column("posted_by", sa.String(length=64), nullable=False),
        sa.Column("posted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_unmatched_postings_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(
            ["posting_id"], ["postings.id"], name=op.f("fk_unmatched_postings_posting_id_postings")
        ),
        sa.ForeignKeyConstraint(
            ["statement_line_id"],
            ["statement_lines.id"],
            name=op.f("fk_unmatched_postings_statement_line_id_statement_lines"),
        ),
        sa.PrimaryKeyConstraint("statement_line_id", name=op.f("pk_unmatched_postings")),
        sa.UniqueConstraint("posting_id", name=op.f("uq_unmatched_postings_posting_id")),
    )


def downgrade() -> None:
    op.drop_table("unmatched_postings")
    op.drop_index("ix_match_statement_lines_statement_line_id", table_name="match_statement_lines")
    op.drop_table("match_statement_lines")
    op.drop_index("ix_match_postings_posting_id", table_name="match_postings")
    op.drop_table("match_postings")
    op.drop_index("ix_match_instructions_instruction_id", table_name="match_instructions")
    op.drop_table("match_instructions")
    op.drop_table("match_payment_references")
    op.drop_index("ix_statement_lines_bank_account_id_booked_on", table_name="statement_lines")
    op.drop_table("statement_lines")
    op.drop_index("ix_matches_bank_account_id_status", table_name="matches")
    op.drop_index("ix_matches_match_id", table_name="matches")
    op.drop_table("matches")
    op.drop_table("statement_imports")
    op.drop_index("ix_reconciliation_runs_bank_account_id_period", table_name="reconciliation_runs")
    op.drop_table("reconciliation_runs")
