"""ledger core: accounts, entities, journal with hash chain, and the triggers that keep
posted entries immutable (SQLite and PostgreSQL) and balanced (PostgreSQL, deferred).

Revision ID: 0001
Revises:
Create Date: 2026-11-24 04:33:08.542702
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

IMMUTABLE_TABLES = ("journal_entries", "postings")
REFUSAL = "posted entries are never changed; post a reversing entry instead"

POSTGRESQL_REFUSE_CHANGE = f"""
CREATE FUNCTION disburse_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is refused: {REFUSAL}', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""

# One check per entry, deferred to commit, so a bulk COPY of postings is not slowed by a trigger
# per posting row. The first entry of a post request checks every entry of that request in one
# set-based query and records that in a transaction-local setting; the other entries of the same
# request then return at once.
POSTGRESQL_CHECK_BALANCED = """
CREATE FUNCTION disburse_check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    checked text := current_setting('disburse.checked_post_request', true);
    request record;
    bad record;
BEGIN
    SELECT first_entry_id, last_entry_id INTO request FROM post_requests WHERE id = NEW.post_request_id;
    IF NOT FOUND OR NEW.id < request.first_entry_id OR NEW.id > request.last_entry_id THEN
        RAISE EXCEPTION 'journal entry % lies outside the entries of its post request %', NEW.id, NEW.post_request_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF checked IS NOT NULL AND checked = NEW.post_request_id::text THEN
        RETURN NULL;
    END IF;
    SELECT e.id, e.posting_count, count(p.id) AS lines, coalesce(sum(p.amount_fen), 0) AS total
      INTO bad
      FROM journal_entries e LEFT JOIN postings p ON p.entry_id = e.id
     WHERE e.id BETWEEN request.first_entry_id AND request.last_entry_id
     GROUP BY e.id, e.posting_count
    HAVING coalesce(sum(p.amount_fen), 0) <> 0 OR count(p.id) < 2 OR count(p.id) <> e.posting_count
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance: % posting(s) (% declared) sum to % fen, not 0',
            bad.id, bad.lines, bad.posting_count, bad.total
            USING ERRCODE = 'check_violation';
    END IF;
    PERFORM set_config('disburse.checked_post_request', NEW.post_request_id::text, true);
    RETURN NULL;
END $$;
"""


def create_guards() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(POSTGRESQL_REFUSE_CHANGE)
        op.execute(POSTGRESQL_CHECK_BALANCED)
        for table in IMMUTABLE_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION disburse_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION disburse_refuse_change()"
            )
        op.execute(
            "CREATE CONSTRAINT TRIGGER journal_entries_balanced AFTER INSERT ON journal_entries "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            "EXECUTE FUNCTION disburse_check_entry_balanced()"
        )
    elif dialect == "sqlite":
        # SQLite has no deferred triggers; the poster re-reads each batch's sums before commit.
        for table in IMMUTABLE_TABLES:
            for operation in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{operation} on {table} is refused: {REFUSAL}'); END"
                )
    else:  # pragma: no cover - only the two supported engines
        raise NotImplementedError(f"no immutability triggers for {dialect}")


def drop_guards() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS journal_entries_balanced ON journal_entries")
        for table in IMMUTABLE_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS disburse_check_entry_balanced()")
        op.execute("DROP FUNCTION IF EXISTS disburse_refuse_change()")
    elif dialect == "sqlite":
        for table in IMMUTABLE_TABLES:
            for operation in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("account_type", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=32), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.CheckConstraint(
            "account_type IN ('asset','liability','equity','cost','income','expense')", name=op.f("ck_accounts_type")
        ),
        sa.ForeignKeyConstraint(["parent_code"], ["accounts.code"], name=op.f("fk_accounts_parent_code_accounts")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_accounts")),
    )
    op.create_table(
        "entities",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.CheckConstraint("kind IN ('county','village','cooperative')", name=op.f("ck_entities_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entities")),
        sa.UniqueConstraint("code", name=op.f("uq_entities_code")),
    )
    op.create_table(
        "post_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("input_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("posting_count", sa.BigInteger(), nullable=False),
        sa.Column("first_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("last_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_requests")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_post_requests_idempotency_key")),
    )
    op.create_table(
        "bank_accounts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bank_name", sa.String(length=100), nullable=False),
        sa.Column("account_number", sa.String(length=40), nullable=False),
        sa.Column("account_name", sa.String(length=200), nullable=True),
        sa.Column("ledger_account_code", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], name=op.f("fk_bank_accounts_entity_id_entities")),
        sa.ForeignKeyConstraint(
            ["ledger_account_code"], ["accounts.code"], name=op.f("fk_bank_accounts_ledger_account_code_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_accounts")),
        sa.UniqueConstraint("account_number", name=op.f("uq_bank_accounts_account_number")),
        sa.UniqueConstraint("ledger_account_code", name=op.f("uq_bank_accounts_ledger_account_code")),
    )
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_accounts_entity_id"), ["entity_id"], unique=False)

    op.create_table(
        "chain_heads",
        sa.Column("entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], name=op.f("fk_chain_heads_entity_id_entities")),
        sa.PrimaryKeyConstraint("entity_id", name=op.f("pk_chain_heads")),
    )
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("voucher_number", sa.Integer(), nullable=False),
        sa.Column("memo", sa.String(length=500), nullable=False),
        sa.Column("source_kind", sa.String(length=32), nullable=False),
        sa.Column("source_reference", sa.String(length=200), nullable=False),
        sa.Column("reverses_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("post_request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("posting_count", sa.SmallInteger(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("posting_count >= 2", name=op.f("ck_journal_entries_two_postings")),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], name=op.f("fk_journal_entries_entity_id_entities")),
        sa.ForeignKeyConstraint(
            ["post_request_id"], ["post_requests.id"], name=op.f("fk_journal_entries_post_request_id_post_requests")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_journal_entries_reverses_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
        sa.UniqueConstraint(
            "entity_id", "period", "voucher_number", name=op.f("uq_journal_entries_entity_id_period_voucher_number")
        ),
    )
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.create_index(
            "uq_journal_entries_reverses_entry_id",
            ["reverses_entry_id"],
            unique=True,
            sqlite_where=sa.text("reverses_entry_id IS NOT NULL"),
            postgresql_where=sa.text("reverses_entry_id IS NOT NULL"),
        )

    op.create_table(
        "periods",
        sa.Column("entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("head_sequence", sa.BigInteger(), nullable=True),
        sa.Column("head_hash", sa.String(length=64), nullable=True),
        sa.CheckConstraint("status IN ('open','closed')", name=op.f("ck_periods_status")),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], name=op.f("fk_periods_entity_id_entities")),
        sa.PrimaryKeyConstraint("entity_id", "period", name=op.f("pk_periods")),
    )
    op.create_table(
        "voucher_counters",
        sa.Column("entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], name=op.f("fk_voucher_counters_entity_id_entities")),
        sa.PrimaryKeyConstraint("entity_id", "period", name=op.f("pk_voucher_counters")),
    )
    op.create_table(
        "postings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_number", sa.SmallInteger(), nullable=False),
        sa.Column("account_code", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("household_id", sa.String(length=32), nullable=True),
        sa.Column("fund_source", sa.String(length=64), nullable=True),
        sa.Column("payment_reference", sa.String(length=40), nullable=True),
        sa.CheckConstraint("amount_fen <> 0", name=op.f("ck_postings_nonzero")),
        sa.ForeignKeyConstraint(["account_code"], ["accounts.code"], name=op.f("fk_postings_account_code_accounts")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_postings_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
        sa.UniqueConstraint("entry_id", "line_number", name=op.f("uq_postings_entry_id_line_number")),
    )
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_postings_household_id",
            ["household_id"],
            unique=False,
            sqlite_where=sa.text("household_id IS NOT NULL"),
            postgresql_where=sa.text("household_id IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_postings_payment_reference",
            ["payment_reference"],
            unique=False,
            sqlite_where=sa.text("payment_reference IS NOT NULL"),
            postgresql_where=sa.text("payment_reference IS NOT NULL"),
        )

    create_guards()


def downgrade() -> None:
    drop_guards()
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_postings_payment_reference",
            sqlite_where=sa.text("payment_reference IS NOT NULL"),
            postgresql_where=sa.text("payment_reference IS NOT NULL"),
        )
        batch_op.drop_index(
            "ix_postings_household_id",
            sqlite_where=sa.text("household_id IS NOT NULL"),
            postgresql_where=sa.text("household_id IS NOT NULL"),
        )

    op.drop_table("postings")
    op.drop_table("voucher_counters")
    op.drop_table("periods")
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_journal_entries_reverses_entry_id",
            sqlite_where=sa.text("reverses_entry_id IS NOT NULL"),
            postgresql_where=sa.text("reverses_entry_id IS NOT NULL"),
        )

    op.drop_table("journal_entries")
    op.drop_table("chain_heads")
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_accounts_entity_id"))

    op.drop_table("bank_accounts")
    op.drop_table("post_requests")
    op.drop_table("entities")
    op.drop_table("accounts")
