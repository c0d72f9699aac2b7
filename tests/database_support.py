"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL when
DISBURSE_TEST_PG_URL is set. Each test gets its own database (a copy of a migrated SQLite
template file, or a PostgreSQL database cloned from a template database), so tests and test
runs never see each other's data."""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Callable, Iterator

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


# Books that take seconds to build (a seeded county's month, the demo) are built once per test
# run and shared by every xdist worker; each test works on its own copy.
SHARED_PG_SUFFIX = ".pg-database"
BUILT_MARK = ".built"


def shared_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's own temporary directory, the same for every xdist worker (a worker's basetemp is
    ``<run>/popen-gwN``; without xdist the run's basetemp is the run's directory)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """The directory ``name`` that ``build`` fills once per test run: the first worker to ask
    builds it while the others wait on a lock; later calls find it done (a build that failed half
    way is started again). Nothing in it may be changed by a test (copy it first: sqlite_copy,
    pg_copy)."""
    shared = shared_directory(tmp_path_factory)
    directory = shared / name
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (directory / BUILT_MARK).exists():
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir()
            build(directory)
            (directory / BUILT_MARK).touch()
    return directory


def sqlite_backup(source: Path, target: Path) -> None:
    """``target`` made a copy of the SQLite books at ``source`` through SQLite's backup, so no WAL
    file is left behind and ``target`` may already exist."""
    with closing(sqlite3.connect(source)) as origin, closing(sqlite3.connect(target)) as copy:
        origin.backup(copy)


def sqlite_copy(source: Path, directory: Path) -> str:
    """A private copy of the SQLite books at ``source`` in ``directory``; returns its URL."""
    target = directory / f"books-{secrets.token_hex(3)}.db"
    sqlite_backup(source, target)
    return f"sqlite:///{target}"


def pg_shared_database(shared: Path, template: str | None) -> str:
    """A PostgreSQL database (cloned from ``template``) that lives as long as the test run: its
    name is left in ``shared`` so that the run's end (drop_shared_pg_databases) drops it."""
    url = pg_create_database(template=template)
    (shared / f"{make_url(url).database}{SHARED_PG_SUFFIX}").write_text(url, encoding="utf-8")
    return url


def pg_copy(url: str) -> str:
    """A private PostgreSQL database cloned from the shared one at ``url``."""
    return pg_create_database(template=make_url(url).database)


def drop_shared_pg_databases(shared: Path) -> None:
    for left in shared.glob(f"*{SHARED_PG_SUFFIX}"):
        pg_drop_database(left.read_text(encoding="utf-8"))
        left.unlink()
