"""Engines and transactions: SQLite by default (a file, WAL, foreign keys on, busy timeout),
PostgreSQL in production. A command opens one transaction at its edge and commits once."""

from __future__ import annotations

import contextlib
import weakref
from typing import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

SQLITE_BUSY_TIMEOUT_MS = 60_000
SQLITE_PAGE_SIZE_BYTES = 16_384
# An execution option that marks a transaction as reading only (see ``read_transaction``).
READ_ONLY_OPTION = "disburse_read_only"


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def make_engine(url: str) -> Engine:
    """An engine with the settings this engine relies on for each dialect."""
    if is_sqlite(url):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

        @event.listens_for(engine, "connect")
        def _sqlite_on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            # Take transaction control from the sqlite3 module so BEGIN IMMEDIATE can be issued:
            # a write transaction then holds the write lock from its first statement, which
            # serialises posters without the deadlock of two readers upgrading at once.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            # Takes effect only when the file is new (before its first table); 16 KiB pages
            # cut B-tree work on bulk posts by about a tenth compared with the 4 KiB default.
            cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE_BYTES}")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_on_begin(connection) -> None:  # type: ignore[no-untyped-def]
            reading = connection.get_execution_options().get(READ_ONLY_OPTION, False)
            connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


@contextlib.contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One atomic unit of work: everything inside commits together or not at all."""
    with Session(engine, expire_on_commit=False) as session:
        with session.begin():
            yield session


_READING_ENGINES: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def _reading_engine(engine: Engine) -> Engine:
    # One option engine per engine: making one per transaction costs more than a small read.
    reading = _READING_ENGINES.get(engine)
    if reading is None:
        options = {READ_ONLY_OPTION: True}
        if not is_sqlite(engine):
            options["postgresql_readonly"] = True
        reading = _READING_ENGINES[engine] = engine.execution_options(**options)
    return reading


@contextlib.contextmanager
def read_transaction(engine: Engine) -> Iterator[Session]:
    """A transaction that only reads. On SQLite a deferred BEGIN takes no write lock, so in WAL
    mode it reads a consistent snapshot without waiting behind a writer (a page served while a
    long import runs); on PostgreSQL the transaction is READ ONLY and refuses any write."""
    with Session(_reading_engine(engine), expire_on_commit=False) as session:
        with session.begin():
            yield session
