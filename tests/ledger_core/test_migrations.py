"""Migrations run from an empty database to head and back down, on both engines."""

from sqlalchemy import inspect

from ledger_core import schema
from ledger_core.db import make_engine, transaction


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
