"""counter search: the 政策兑现中心 finds a household by a member's 姓名 (or its beginning, as the
clerk types) and by the last six characters of a 身份证号; on a province's register both must
answer from an index, not a scan of every person version.

Revision ID: 0051
Revises: 0050
Create Date: 2026-12-02 02:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0051"
down_revision = "0050"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person_versions", schema=None) as batch_op:
        batch_op.create_index("ix_person_versions_name", ["name"], unique=False)
    # An expression index (both engines have substr); a resident ID is 18 characters, so
    # characters 13 to 18 are its last six.
    op.create_index("ix_person_versions_id_suffix", "person_versions", [sa.text("substr(id_number, 13, 6)")])


def downgrade() -> None:
    op.drop_index("ix_person_versions_id_suffix", table_name="person_versions")
    with op.batch_alter_table("person_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_person_versions_name")
