"""reconciliation storage: a match of one statement line and one book item holds the line, the
posting or payment instruction and the payment reference in its own row (the link tables keep
the links of every other match, and every link stored before this revision); matches are unique
by (match_id, bank_account_id, period), which also serves looking a match up by its id (the
separate index on the match id goes), are indexed by account and period, and, partially, by the
decided ones of an account (instead of by account and status); the status check is written as
comparisons (SQLite builds a lookup table for every row an IN list of more than two values
checks).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OLD_STATUS_CHECK = "status IN ('matched','candidate','confirmed','rejected')"
STATUS_CHECK = "status = 'matched' OR status = 'candidate' OR status = 'confirmed' OR status = 'rejected'"
INLINE_LINKS_CHECK = (
    "(statement_line_id IS NULL AND posting_id IS NULL AND instruction_id IS NULL "
    "AND payment_reference IS NULL) OR (statement_line_id IS NOT NULL "
    "AND (posting_id IS NULL) <> (instruction_id IS NULL))"
)
DECIDED_WHERE = "status = 'confirmed' OR status = 'rejected'"
LINK_TABLES = ("match_statement_lines", "match_postings", "match_instructions", "match_payment_references")
# Each inline link column of matches and the link table that holds the same link (under the
# same column name) for the other matches.
INLINE_LINKS = (
    ("match_statement_lines", "statement_line_id"),
    ("match_postings", "posting_id"),
    ("match_instructions", "instruction_id"),
    ("match_payment_references", "payment_reference"),
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _save_links() -> None:
    """SQLite: copy the link tables aside before batch mode recreates ``matches``. Dropping the
    old table deletes its rows first, and with foreign keys on (every connection of the engine
    has them, and PRAGMA foreign_keys cannot change inside the migration's transaction) that
    deletes every link row through ON DELETE CASCADE."""
    for table in LINK_TABLES:
        op.execute(f"CREATE TEMPORARY TABLE _kept_{table} AS SELECT * FROM {table}")


def _restore_links() -> None:
    for table in LINK_TABLES:
        op.execute(f"DELETE FROM {table}")
        op.execute(f"INSERT INTO {table} SELECT * FROM _kept_{table}")
        op.execute(f"DROP TABLE _kept_{table}")


def upgrade() -> None:
    sqlite = _sqlite()
    if sqlite:
        _save_links()
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("statement_line_id", BIG_ID, nullable=True))
        batch_op.add_column(sa.Column("posting_id", BIG_ID, nullable=True))
        batch_op.add_column(sa.Column("instruction_id", BIG_ID, nullable=True))
        batch_op.add_column(sa.Column("payment_reference", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_matches_statement_line_id_statement_lines"), "statement_lines", ["statement_line_id"], ["id"]
        )
        batch_op.create_foreign_key(batch_op.f("fk_matches_posting_id_postings"), "postings", ["posting_id"], ["id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_matches_instruction_id_payment_instructions"),
            "payment_instructions",
            ["instruction_id"],
            ["id"],
        )
        batch_op.drop_constraint(batch_op.f("ck_matches_status"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_matches_status"), sa.text(STATUS_CHECK))
        batch_op.create_check_constraint(batch_op.f("ck_matches_inline_links"), sa.text(INLINE_LINKS_CHECK))
        batch_op.drop_constraint(batch_op.f("uq_matches_bank_account_id_period_match_id"), type_="unique")
        batch_op.drop_index("ix_matches_match_id")
        batch_op.drop_index("ix_matches_bank_account_id_status")
        batch_op.create_unique_constraint(
            batch_op.f("uq_matches_match_id_bank_account_id_period"), ["match_id", "bank_account_id", "period"]
        )
        batch_op.create_index("ix_matches_bank_account_id_period", ["bank_account_id", "period"], unique=False)
        batch_op.create_index(
            "ix_matches_bank_account_id_decided",
            ["bank_account_id"],
            unique=False,
            sqlite_where=sa.text(DECIDED_WHERE),
            postgresql_where=sa.text(DECIDED_WHERE),
        )
    if sqlite:
        _restore_links()


def downgrade() -> None:
    # The inline links go back to the link tables before their columns are dropped.
    for table, column in INLINE_LINKS:
        op.execute(
            f"INSERT INTO {table} (match_row_id, {column}) SELECT id, {column} FROM matches WHERE {column} IS NOT NULL"
        )
    sqlite = _sqlite()
    if sqlite:
        _save_links()
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_matches_bank_account_id_decided",
            sqlite_where=sa.text(DECIDED_WHERE),
            postgresql_where=sa.text(DECIDED_WHERE),
        )
        batch_op.drop_index("ix_matches_bank_account_id_period")
        batch_op.drop_constraint(batch_op.f("uq_matches_match_id_bank_account_id_period"), type_="unique")
        batch_op.drop_constraint(batch_op.f("ck_matches_inline_links"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_matches_status"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_matches_status"), sa.text(OLD_STATUS_CHECK))
        batch_op.drop_constraint(batch_op.f("fk_matches_instruction_id_payment_instructions"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_matches_posting_id_postings"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_matches_statement_line_id_statement_lines"), type_="foreignkey")
        batch_op.drop_column("payment_reference")
        batch_op.drop_column("instruction_id")
        batch_op.drop_column("posting_id")
        batch_op.drop_column("statement_line_id")
        batch_op.create_unique_constraint(
            batch_op.f("uq_matches_bank_account_id_period_match_id"), ["bank_account_id", "period", "match_id"]
        )
        batch_op.create_index("ix_matches_match_id", ["match_id"], unique=False)
        batch_op.create_index("ix_matches_bank_account_id_status", ["bank_account_id", "status"], unique=False)
    if sqlite:
        _restore_links()
