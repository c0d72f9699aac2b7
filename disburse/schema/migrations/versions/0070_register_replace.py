"""register_imports.replaces_import_id: a corrected register file for the same date
(`disburse import registry --replace`) names the import it supersedes.

Revision ID: 0070
Revises: 0009
Create Date: 2026-12-02 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0070"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("register_imports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("replaces_import_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_register_imports_replaces_import_id_register_imports"),
            "register_imports",
            ["replaces_import_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("register_imports", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_register_imports_replaces_import_id_register_imports"), type_="foreignkey"
        )
        batch_op.drop_column("replaces_import_id")
