"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL when
DISBURSE_TEST_PG_URL is set. Each test gets its own database (a copy of a migrated SQLite
template file, or a PostgreSQL database cloned from a template database), so tests and test
runs never see each other's data."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from disburse.foundation.db import make_engine, transaction
from disburse.schema import migrate as schema

PG_URL = os.environ.get("DISBURSE_TEST_PG_URL")
BACKENDS = ["sqlite", "postgresql"]


def _migrated(url: str) -> None:
    engine = make_engine(url)
    try:
        schema.migrate(engine)
        with transaction(engine) as session:
            schema.seed(session)
    finally:
        engine.dispose()


def _pg_admin():  # type: ignore[no-untyped-def]
    assert PG_URL
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT")


def pg_create_database(template: str | None = None) -> str:
    """A new PostgreSQL database (optionally cloned from ``template``); returns its URL."""
    name = f"disburse_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = _pg_admin()
    with admin.connect() as connection:
        clause = f" TEMPLATE {template}" if template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def pg_drop_database(url: str) -> None:
    name = make_url(url).database
    admin = _pg_admin()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrated(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    if not PG_URL:
        yield None
        return
    url = pg_create_database()
    _migrated(url)
    name = make_url(url).database
    yield name
    pg_drop_database(url)


def new_database(backend: str, directory: Path, sqlite_template: Path, pg_template: str | None) -> str:
    """A fresh, migrated and seeded database of ``backend``."""
    if backend == "sqlite":
        path = directory / f"books-{secrets.token_hex(3)}.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    if not PG_URL:
        pytest.skip("DISBURSE_TEST_PG_URL is not set")
    return pg_create_database(template=pg_template)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("DISBURSE_TEST_PG_URL is not set")
    return request.param


@pytest.fixture
def database_url(backend: str, tmp_path: Path, sqlite_template: Path, pg_template: str | None) -> Iterator[str]:
    url = new_database(backend, tmp_path, sqlite_template, pg_template)
    yield url
    if backend == "postgresql":
        pg_drop_database(url)


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all (for migration tests)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url = pg_create_database()
    yield url
    pg_drop_database(url)


@pytest.fixture
def engine(database_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
