"""guards on every money table: rows that record money or who gets it refuse DELETE, and refuse
UPDATE except the state transitions the engine makes (issue #16 item 4).

The list of guarded tables and their transitions is ``disburse.schema.guards``; this migration
makes its triggers in both engines, each refusal naming the table and what is allowed. The
journal's own triggers (0001) and the closed-period triggers (0009) stay as they are: a closed
period's row is left to 0009's trigger, which refuses every change of it.

Revision ID: 0080
Revises: 0011
Create Date: 2026-12-10 02:00:00
"""

from __future__ import annotations

from alembic import op

from disburse.schema.guards import GUARDS, create_guards, drop_guards

revision = "0080"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A column a later migration adds is covered once that migration makes the table's guard
    # again (see disburse.schema.guards).
    for statement in create_guards(op.get_bind(), GUARDS):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_guards(op.get_bind().dialect.name, GUARDS):
        op.execute(statement)
