"""payee, beneficiary and head apart (issue #14 item 7): a run's line, a payable and a payment
instruction say whose card is paid (本人社保卡, 户卡 or a village's 集体账户), and a line and a
payable also name the beneficiary (享受人) and the head of household (户主).

A payable may now be owed to a village collective (``payee_type`` collective): a subsidy rule
with ``payee: collective`` pays its beneficiaries' money into the village's own account. On
SQLite the payables table is copied to change its check, which drops its guard's triggers with
the old table: the guards of payables and payment_instructions are made again over the new
columns (see disburse.schema.guards). A person's version may name the bank of their own card
(个人开户银行, optional in the register), as bank files that name the payee's bank need it.

Revision ID: 0114
Revises: 0113
Create Date: 2026-12-03 09:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from disburse.schema.guards import GUARDS_BY_TABLE, create_guards, drop_guards

revision = "0114"
down_revision = "0113"
branch_labels = None
depends_on = None

CARD_KIND_CHECK = (
    "card_kind IS NULL OR card_kind = 'person_card' OR card_kind = 'household_card' OR card_kind = 'collective'"
)
PAYEE_TYPES_NEW = "payee_type = 'household' OR payee_type = 'person' OR payee_type = 'collective'"
PAYEE_TYPES_OLD = "payee_type IN ('household','person')"
GUARDED = ("payables", "payment_instructions", "person_versions")
ADDED_COLUMNS = (
    ("person_versions", "person_bank_name", 100),
    ("allocation_lines", "card_kind", 16),
    ("allocation_lines", "beneficiary_name", 100),
    ("allocation_lines", "head_name", 100),
    ("payment_instructions", "card_kind", 16),
    ("payment_instructions", "head_name", 100),
)


def _guards():  # type: ignore[no-untyped-def]
    return [GUARDS_BY_TABLE[table] for table in GUARDED]


def upgrade() -> None:
    bind = op.get_bind()
    for statement in drop_guards(bind.dialect.name, _guards()):
        op.execute(statement)
    # Plain ADD COLUMN (no table copy): person_versions' expression index (0051) and every other
    # table's indexes stay as they are.
    for table, column, length in ADDED_COLUMNS:
        op.add_column(table, sa.Column(column, sa.String(length=length), nullable=True))
    with op.batch_alter_table("payables", schema=None) as batch_op:
        batch_op.add_column(sa.Column("beneficiary_id", sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column("beneficiary_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("head_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("card_kind", sa.String(length=16), nullable=True))
        batch_op.drop_constraint(batch_op.f("ck_payables_payee_type"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_payables_payee_type"), sa.text(PAYEE_TYPES_NEW))
        batch_op.create_check_constraint(batch_op.f("ck_payables_card_kind"), sa.text(CARD_KIND_CHECK))
    for statement in create_guards(bind, _guards()):
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    for statement in drop_guards(bind.dialect.name, _guards()):
        op.execute(statement)
    with op.batch_alter_table("payables", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_payables_card_kind"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_payables_payee_type"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_payables_payee_type"), sa.text(PAYEE_TYPES_OLD))
        for column in ("card_kind", "head_name", "beneficiary_name", "beneficiary_id"):
            batch_op.drop_column(column)
    for table, column, _length in reversed(ADDED_COLUMNS):
        # SQLite (3.35 on) drops a column in place, as PostgreSQL does: no copy of the table
        # that would lose person_versions' expression index.
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    for statement in create_guards(bind, _guards()):
        op.execute(statement)
