"""guards on the tables of notices, objections and stops, as 0080 guards every money table.

A notice never changes; an objection only moves open → dismissed (with who, when and why); a
stop only moves stopped → released. None is ever deleted.

Revision ID: 0101
Revises: 0100
Create Date: 2026-12-02 07:10:00
"""

from __future__ import annotations

from alembic import op

from disburse.schema.guards import CONTROL_GUARDS, create_guards, drop_guards

revision = "0101"
down_revision = "0100"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A column a later migration adds is covered once that migration makes the table's guard
    # again (see disburse.schema.guards).
    for statement in create_guards(op.get_bind(), CONTROL_GUARDS):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_guards(op.get_bind().dialect.name, CONTROL_GUARDS):
        op.execute(statement)
