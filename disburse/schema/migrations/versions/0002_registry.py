"""registry: register imports, household and person versions (type 2), register events,
assets, share holdings and PV settlements.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 04:50:18.597299
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "register_imports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("warning_count", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('register','shares','settlements','assets')", name=op.f("ck_register_imports_kind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_imports")),
        sa.UniqueConstraint("kind", "file_sha256", name=op.f("uq_register_imports_kind_file_sha256")),
    )
    with op.batch_alter_table("register_imports", schema=None) as batch_op:
        batch_op.create_index("ix_register_imports_kind_as_of", ["kind", "as_of"], unique=False)

    op.create_table(
        "assets",
        sa.Column("asset_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner_entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("capacity_w", sa.BigInteger(), nullable=True),
        sa.Column("share_count_e4", sa.BigInteger(), nullable=True),
        sa.Column("principal_fen", sa.BigInteger(), nullable=True),
        sa.Column("paying_entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("village_codes", sa.Text(), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column("commissioned_on", sa.Date(), nullable=True),
        sa.Column("config_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('station','cooperative')", name=op.f("ck_assets_kind")),
        sa.ForeignKeyConstraint(["owner_entity_id"], ["entities.id"], name=op.f("fk_assets_owner_entity_id_entities")),
        sa.ForeignKeyConstraint(
            ["paying_entity_id"], ["entities.id"], name=op.f("fk_assets_paying_entity_id_entities")
        ),
        sa.PrimaryKeyConstraint("asset_id", name=op.f("pk_assets")),
    )
    op.create_table(
        "household_versions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("household_id", sa.String(length=32), nullable=False),
        sa.Column("valid_from_import", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("valid_to_import", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("county", sa.String(length=100), nullable=False),
        sa.Column("town", sa.String(length=100), nullable=False),
        sa.Column("village", sa.String(length=100), nullable=False),
        sa.Column("village_group", sa.String(length=100), nullable=True),
        sa.Column("household_type", sa.String(length=16), nullable=False),
        sa.Column("poverty_status", sa.String(length=16), nullable=False),
        sa.Column("enrolled_on", sa.Date(), nullable=True),
        sa.Column("exited_on", sa.Date(), nullable=True),
        sa.Column("head_id_number", sa.String(length=18), nullable=True),
        sa.Column("head_name", sa.String(length=100), nullable=True),
        sa.Column("bank_name", sa.String(length=100), nullable=True),
        sa.Column("account_no", sa.String(length=40), nullable=True),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["valid_from_import"],
            ["register_imports.id"],
            name=op.f("fk_household_versions_valid_from_import_register_imports"),
        ),
        sa.ForeignKeyConstraint(
            ["valid_to_import"],
            ["register_imports.id"],
            name=op.f("fk_household_versions_valid_to_import_register_imports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_versions")),
    )
    with op.batch_alter_table("household_versions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_household_versions_household_id_valid",
            ["household_id", "valid_from_import", "valid_to_import"],
            unique=False,
        )

    op.create_table(
        "person_versions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("household_id", sa.String(length=32), nullable=False),
        sa.Column("valid_from_import", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("valid_to_import", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("sex", sa.String(length=2), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("school_stage", sa.String(length=16), nullable=True),
        sa.Column("boarding", sa.Boolean(), nullable=False),
        sa.Column("health", sa.String(length=16), nullable=True),
        sa.Column("died_on", sa.Date(), nullable=True),
        sa.Column("person_account_no", sa.String(length=40), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["valid_from_import"],
            ["register_imports.id"],
            name=op.f("fk_person_versions_valid_from_import_register_imports"),
        ),
        sa.ForeignKeyConstraint(
            ["valid_to_import"],
            ["register_imports.id"],
            name=op.f("fk_person_versions_valid_to_import_register_imports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_versions")),
    )
    with op.batch_alter_table("person_versions", schema=None) as batch_op:
        batch_op.create_index("ix_person_versions_household_id", ["household_id"], unique=False)
        batch_op.create_index(
            "ix_person_versions_id_number_valid", ["id_number", "valid_from_import", "valid_to_import"], unique=False
        )

    op.create_table(
        "register_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("import_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("household_id", sa.String(length=32), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["register_imports.id"], name=op.f("fk_register_events_import_id_register_imports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_events")),
    )
    with op.batch_alter_table("register_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_register_events_effective_on"), ["effective_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_register_events_household_id"), ["household_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_register_events_import_id"), ["import_id"], unique=False)

    op.create_table(
        "holdings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("import_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("asset_id", sa.String(length=64), nullable=False),
        sa.Column("holder_type", sa.String(length=16), nullable=False),
        sa.Column("holder_id", sa.String(length=32), nullable=False),
        sa.Column("units_e4", sa.BigInteger(), nullable=False),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.CheckConstraint("holder_type IN ('household','collective')", name=op.f("ck_holdings_holder_type")),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.asset_id"], name=op.f("fk_holdings_asset_id_assets")),
        sa.ForeignKeyConstraint(
            ["import_id"], ["register_imports.id"], name=op.f("fk_holdings_import_id_register_imports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holdings")),
    )
    with op.batch_alter_table("holdings", schema=None) as batch_op:
        batch_op.create_index("ix_holdings_holder_id", ["holder_id"], unique=False)
        batch_op.create_index("ix_holdings_import_id_asset_id", ["import_id", "asset_id"], unique=False)

    op.create_table(
        "pv_settlements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("import_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("service_period", sa.String(length=7), nullable=False),
        sa.Column("kwh", sa.BigInteger(), nullable=False),
        sa.Column("revenue_type", sa.String(length=8), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("receivable_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.CheckConstraint("revenue_type IN ('base','subsidy')", name=op.f("ck_pv_settlements_revenue_type")),
        sa.ForeignKeyConstraint(
            ["import_id"], ["register_imports.id"], name=op.f("fk_pv_settlements_import_id_register_imports")
        ),
        sa.ForeignKeyConstraint(
            ["receivable_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_pv_settlements_receivable_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(["station_id"], ["assets.asset_id"], name=op.f("fk_pv_settlements_station_id_assets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pv_settlements")),
    )
    with op.batch_alter_table("pv_settlements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pv_settlements_station_id_service_period",
            ["station_id", "service_period", "revenue_type"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("pv_settlements", schema=None) as batch_op:
        batch_op.drop_index("ix_pv_settlements_station_id_service_period")

    op.drop_table("pv_settlements")
    with op.batch_alter_table("holdings", schema=None) as batch_op:
        batch_op.drop_index("ix_holdings_import_id_asset_id")
        batch_op.drop_index("ix_holdings_holder_id")

    op.drop_table("holdings")
    with op.batch_alter_table("register_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_register_events_import_id"))
        batch_op.drop_index(batch_op.f("ix_register_events_household_id"))
        batch_op.drop_index(batch_op.f("ix_register_events_effective_on"))

    op.drop_table("register_events")
    with op.batch_alter_table("person_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_person_versions_id_number_valid")
        batch_op.drop_index("ix_person_versions_household_id")

    op.drop_table("person_versions")
    with op.batch_alter_table("household_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_household_versions_household_id_valid")

    op.drop_table("household_versions")
    op.drop_table("assets")
    with op.batch_alter_table("register_imports", schema=None) as batch_op:
        batch_op.drop_index("ix_register_imports_kind_as_of")

    op.drop_table("register_imports")
