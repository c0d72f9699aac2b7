"""Alembic environment: one dialect-neutral version tree for SQLite and PostgreSQL.

`disburse init` hands a live connection in ``config.attributes["connection"]`` so the
migration runs inside the caller's engine settings; run by hand, the URL comes from the
configuration or DISBURSE_DB.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

import disburse.schema  # noqa: F401  (registers every package's tables on Base.metadata)
from disburse.foundation.orm import Base
from disburse.foundation.settings import database_url
from disburse.schema.ledger_references import include_object

config = context.config
target_metadata = Base.metadata


def run_with_connection(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with_connection(connection)
        return
    section = config.get_section(config.config_ini_section, {})
    section["sqlalchemy.url"] = database_url()
    engine = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        run_with_connection(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
