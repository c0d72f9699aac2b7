"""Signed checkpoints: ``signing_keys`` (the public keys, fingerprinted) and ``checkpoints``
(journal chain heads, the audit-log head, a digest of every money table with per-block digests,
the previous checkpoint's hash and an Ed25519 signature). Both refuse UPDATE and DELETE.

Revision ID: 0090
Revises: 0080
Create Date: 2026-12-03 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0090"
down_revision = "0080"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GUARDED_TABLES = ("signing_keys", "checkpoints")
REFUSAL = "checkpoints and signing keys are append-only"


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("public_key_hex", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_signing_keys")),
    )
    op.create_table(
        "checkpoints",
        sa.Column("sequence", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("command", sa.String(length=64), nullable=False),
        sa.Column("chain_heads", sa.Text(), nullable=False),
        sa.Column("audit_log_head", sa.String(length=64), nullable=True),
        sa.Column("money_digest", sa.Text(), nullable=False),
        sa.Column("previous_hash", sa.String(length=64), nullable=False),
        sa.Column("checkpoint_hash", sa.String(length=64), nullable=False),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.CheckConstraint(
            "trigger IN ('post','batch_export','card_fix','period_close','change')",
            name=op.f("ck_checkpoints_trigger"),
        ),
        sa.ForeignKeyConstraint(
            ["key_fingerprint"],
            ["signing_keys.fingerprint"],
            name=op.f("fk_checkpoints_key_fingerprint_signing_keys"),
        ),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_checkpoints")),
        sa.UniqueConstraint("checkpoint_hash", name=op.f("uq_checkpoints_checkpoint_hash")),
    )
    dialect = op.get_bind().dialect.name
    for table in GUARDED_TABLES:
        if dialect == "postgresql":
            # disburse_refuse_change() is the journal's guard function (revision 0001).
            op.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION disburse_refuse_change()"
            )
        else:
            for operation in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{operation} on {table} is refused: {REFUSAL}'); END"
                )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in GUARDED_TABLES:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
        else:
            for operation in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
    op.drop_table("checkpoints")
    op.drop_table("signing_keys")
