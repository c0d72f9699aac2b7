"""closed periods never change, and manual vouchers are reviewed before they post.

Closed periods, enforced by the database too: no journal entry may be inserted
into or before an entity's last closed period, and a closed period's row can be neither changed
nor deleted (a period cannot be reopened behind the engine's back).

The application refuses the same (``ledger.posting`` names the entry and the closed period); the
triggers are the second line, for a writer that does not go through the poster.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

CLOSED_REFUSAL = "posting into or before a closed period is refused; post into an open period"
PERIOD_REFUSAL = "a closed period never changes and cannot be reopened"

# PostgreSQL: one check per statement over its new rows (a COPY of a million entries runs it
# once), through a transition table.
POSTGRESQL_FUNCTIONS = f"""
CREATE FUNCTION disburse_refuse_closed_period_entries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.id, n.period, p.period AS closed INTO bad
      FROM new_entries n JOIN periods p
        ON p.entity_id = n.entity_id AND p.status = 'closed' AND p.period >= n.period
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % of period %: {CLOSED_REFUSAL} (% is closed)', bad.id, bad.period, bad.closed
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION disburse_refuse_closed_period_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'closed' THEN
        RAISE EXCEPTION '% of period % is refused: {PERIOD_REFUSAL}', TG_OP, OLD.period
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
"""


def upgrade() -> None:
    create_voucher_submissions()
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(POSTGRESQL_FUNCTIONS)
        op.execute(
            "CREATE TRIGGER journal_entries_closed_period AFTER INSERT ON journal_entries "
            "REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT "
            "EXECUTE FUNCTION disburse_refuse_closed_period_entries()"
        )
        op.execute(
            "CREATE TRIGGER periods_closed_immutable BEFORE UPDATE OR DELETE ON periods "
            "FOR EACH ROW EXECUTE FUNCTION disburse_refuse_closed_period_change()"
        )
    elif dialect == "sqlite":
        # The periods table holds a row per closed month: the lookup by (entity_id, period) is a
        # primary-key range scan per inserted entry.
        op.execute(
            "CREATE TRIGGER journal_entries_closed_period BEFORE INSERT ON journal_entries "
            "WHEN EXISTS (SELECT 1 FROM periods WHERE entity_id = NEW.entity_id AND status = 'closed' "
            "AND period >= NEW.period) "
            f"BEGIN SELECT RAISE(ABORT, '{CLOSED_REFUSAL}'); END"
        )
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER periods_closed_no_{operation.lower()} BEFORE {operation} ON periods "
                f"WHEN OLD.status = 'closed' BEGIN SELECT RAISE(ABORT, '{PERIOD_REFUSAL}'); END"
            )
    else:  # pragma: no cover - only the two supported engines
        raise NotImplementedError(f"no closed-period triggers for {dialect}")


def create_voucher_submissions() -> None:
    op.create_table(
        "voucher_submissions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("voucher_count", sa.Integer(), nullable=False),
        sa.Column("posting_count", sa.Integer(), nullable=False),
        sa.Column("debit_total_fen", sa.BigInteger(), nullable=False),
        sa.Column("vouchers_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.Column("post_request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.CheckConstraint(
            "status = 'submitted' OR status = 'returned' OR status = 'posted'",
            name=op.f("ck_voucher_submissions_status"),
        ),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], name=op.f("fk_voucher_submissions_entity_id_entities")),
        sa.ForeignKeyConstraint(
            ["post_request_id"], ["post_requests.id"], name=op.f("fk_voucher_submissions_post_request_id_post_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_submissions")),
        sa.UniqueConstraint("entity_id", "file_sha256", name=op.f("uq_voucher_submissions_entity_id_file_sha256")),
    )


def downgrade() -> None:
    op.drop_table("voucher_submissions")
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS journal_entries_closed_period ON journal_entries")
        op.execute("DROP TRIGGER IF EXISTS periods_closed_immutable ON periods")
        op.execute("DROP FUNCTION IF EXISTS disburse_refuse_closed_period_entries()")
        op.execute("DROP FUNCTION IF EXISTS disburse_refuse_closed_period_change()")
    else:
        op.execute("DROP TRIGGER IF EXISTS journal_entries_closed_period")
        op.execute("DROP TRIGGER IF EXISTS periods_closed_no_update")
        op.execute("DROP TRIGGER IF EXISTS periods_closed_no_delete")
