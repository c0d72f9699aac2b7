"""guards on the tables of notices, objections and stops, as 0080 guards every money table.

A notice never changes; an objection only moves open → dismissed (with who, when and why); a
stop only moves stopped → released. None is ever deleted.

Revision ID: 0101
Revises: 0100
Create Date: 2026-12-02 07:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from disburse.schema.guards import CONTROL_GUARDS, create_statements, drop_statements

revision = "0101"
down_revision = "0100"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    for guard in CONTROL_GUARDS:
        assert inspector.has_table(guard.table), f"guarded table {guard.table} does not exist"
        columns = [column["name"] for column in inspector.get_columns(guard.table)]
        for statement in create_statements(guard, columns, bind.dialect.name):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for guard in reversed(CONTROL_GUARDS):
        for statement in drop_statements(guard, dialect):
            op.execute(statement)
