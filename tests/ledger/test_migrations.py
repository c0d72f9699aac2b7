"""Migrations run from an empty database to head and back down, on both engines."""

from sqlalchemy import inspect

from disburse.foundation.db import make_engine, transaction
from disburse.schema import migrate as schema


def test_upgrade_seed_downgrade(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        assert schema.current_revision(engine) is None
        schema.migrate(engine)
        assert schema.current_revision(engine) == schema.head_revision()
        with transaction(engine) as session:
            assert schema.seed(session) == {"accounts_added": 47, "county_added": 1}
        with transaction(engine) as session:
            assert schema.seed(session) == {"accounts_added": 0, "county_added": 0}
        schema.migrate(engine)  # running it again is harmless
        tables = set(inspect(engine).get_table_names())
        assert {"journal_entries", "postings", "accounts", "entities"} <= tables
        schema.migrate(engine, "base", downgrade=True)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        schema.migrate(engine)
        assert schema.current_revision(engine) == schema.head_revision()
    finally:
        engine.dispose()


def test_migrations_match_the_models(empty_database_url: str) -> None:
    """Every table, column, index and constraint the models declare is what the migrations build
    (a model changed without a migration fails here)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    import disburse.schema  # noqa: F401
    from disburse.foundation.orm import Base
    from disburse.schema.ledger_references import include_object

    engine = make_engine(empty_database_url)
    try:
        schema.migrate(engine)
        with engine.connect() as connection:
            differences = compare_metadata(
                MigrationContext.configure(
                    connection,
                    # On PostgreSQL the ledger's five foreign keys are statement triggers (0115).
                    opts={"compare_type": True, "include_object": include_object(engine.dialect.name)},
                ),
                Base.metadata,
            )
        assert differences == []
    finally:
        engine.dispose()


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    # `head_revision` reads the revision files' lines so that no command imports Alembic at
    # start-up; Alembic's own reading of the same directory is the reference.
    from alembic.script import ScriptDirectory

    assert schema.head_revision() == ScriptDirectory.from_config(schema.alembic_config()).get_current_head()


def test_the_version_read_without_alembic_is_alembics(empty_database_url: str) -> None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(empty_database_url)
    try:
        schema.migrate(engine, "0006")
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == "0006"
        assert schema.current_revision(engine) == "0006"
    finally:
        engine.dispose()
