"""The ledger's references and balance on PostgreSQL checked per statement and per post (issue #17).

The five foreign keys of ``journal_entries`` and ``postings`` become statement triggers over the
inserted rows, with triggers on the referenced tables that refuse what the keys refused; the
deferred balance check fires once per post request instead of once per entry. See
``disburse.schema.ledger_references``. SQLite is unchanged.

Revision ID: 0115
Revises: 0114
Create Date: 2026-12-04 02:15:00
"""

from __future__ import annotations

import importlib

from alembic import op

from disburse.schema.ledger_references import (
    FUNCTIONS,
    NEW_ENTRIES_CHECKED,
    NEW_POSTINGS_CHECKED,
    POST_BALANCED,
    REFERENCED_KEPT,
    REPLACED_FOREIGN_KEYS,
    TRIGGERS,
)

revision = "0115"
down_revision = "0114"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS journal_entries_balanced ON journal_entries")
    op.execute("DROP FUNCTION IF EXISTS disburse_check_entry_balanced()")
    for name, table, *_ in REPLACED_FOREIGN_KEYS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")
    for function in (NEW_ENTRIES_CHECKED, NEW_POSTINGS_CHECKED, REFERENCED_KEPT, POST_BALANCED):
        op.execute(function)
    for _, _, statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for trigger, table, _ in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    for name, table, column, referred, referred_column in REPLACED_FOREIGN_KEYS:
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}) "
            f"REFERENCES {referred} ({referred_column})"
        )
    # 0001's per-entry balance check, from 0001 itself.
    ledger_core = importlib.import_module("disburse.schema.migrations.versions.0001_ledger_core")
    op.execute(ledger_core.POSTGRESQL_CHECK_BALANCED)
    op.execute(
        "CREATE CONSTRAINT TRIGGER journal_entries_balanced AFTER INSERT ON journal_entries "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION disburse_check_entry_balanced()"
    )
