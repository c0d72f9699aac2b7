"""audit reviews with dispositions and evidence digests, and dry runs in the audit log.

A review is now one row of a history (a finding may be reviewed again: 属实, later 已整改), with
the digest of the evidence the reviewer saw, so a finding whose evidence changes comes back.
The old one-review-per-finding table is copied into the new one (no disposition, no digest)
and dropped. The audit log gains a dry_run flag.

Revision ID: 0040
Revises: 0070
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0070"
branch_labels = None
depends_on = None

DISPOSITION_CHECK = "disposition IS NULL OR disposition = '属实' OR disposition = '不属实' OR disposition = '已整改'"


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dry_run", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    op.create_table(
        "audit_finding_reviews",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("finding_id", sa.String(length=40), nullable=False),
        sa.Column("check_name", sa.String(length=60), nullable=False),
        sa.Column("disposition", sa.String(length=8), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("evidence_digest", sa.String(length=64), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(DISPOSITION_CHECK, name=op.f("ck_audit_finding_reviews_disposition")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_finding_reviews")),
    )
    with op.batch_alter_table("audit_finding_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_finding_reviews_finding_id"), ["finding_id"], unique=False)
        batch_op.create_index("ix_audit_finding_reviews_check_name", ["check_name"], unique=False)
    op.execute(
        "INSERT INTO audit_finding_reviews (finding_id, check_name, note, reviewed_by, reviewed_at) "
        "SELECT finding_id, check_name, note, reviewed_by, reviewed_at FROM finding_reviews ORDER BY reviewed_at"
    )
    op.drop_table("finding_reviews")


def downgrade() -> None:
    op.create_table(
        "finding_reviews",
        sa.Column("finding_id", sa.String(length=40), nullable=False),
        sa.Column("check_name", sa.String(length=60), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=64), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("finding_id", name=op.f("pk_finding_reviews")),
    )
    # The newest review of each finding goes back (the old table holds one per finding).
    op.execute(
        "INSERT INTO finding_reviews (finding_id, check_name, note, reviewed_by, reviewed_at) "
        "SELECT r.finding_id, r.check_name, r.note, r.reviewed_by, r.reviewed_at FROM audit_finding_reviews r "
        "WHERE r.id = (SELECT max(n.id) FROM audit_finding_reviews n WHERE n.finding_id = r.finding_id)"
    )
    with op.batch_alter_table("audit_finding_reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_finding_reviews_check_name")
        batch_op.drop_index(batch_op.f("ix_audit_finding_reviews_finding_id"))
    op.drop_table("audit_finding_reviews")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("dry_run")
