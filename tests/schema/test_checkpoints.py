"""Signed checkpoints: signatures verify, a checkpoint forged without the key is caught, a
journal rewritten and re-hashed is caught by the heads a checkpoint signed, and the tamper
matrix: plain SQL changes to the money tables, made after dropping every trigger on the table by
hand, each caught by verify with a reason naming the table and the id block."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Iterator

import pytest
from checkpoint_support import clone_sqlite, drop_triggers, rehash_journal, sign, verdict
from database_support import (
    PG_URL,
    built_once,
    pg_create_database,
    pg_drop_database,
    pg_shared_database,
    shared_directory,
)
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from disburse.dev.audit_month import build_month
from disburse.dev.generator import generate_county
from disburse.foundation.db import make_engine, transaction
from disburse.foundation.orm import Base
from disburse.foundation.signing import key_create, key_load
from disburse.ledger.service import close_period
from disburse.schema.checkpoints import checkpoint_hash


# --------------------------------------------------------------------------- a signed month
class Month:
    """October's books of a 50-household county, signed by two checkpoints: one after the
    month is built, one after the county's first period is closed (so removing the newest is visible)."""

    def __init__(self, backend: str, url: str, key_path: Path, directory: Path) -> None:
        self.backend, self.url, self.key_path, self.directory = backend, url, key_path, directory

    def clone(self, name: str) -> str:
        if self.backend == "sqlite":
            return clone_sqlite(Path(make_url(self.url).database or ""), self.directory, name)
        return pg_create_database(template=make_url(self.url).database)


def _build_month(backend: str, shared: Path, directory: Path) -> None:
    """The signed month in ``directory``; its books' URL in ``directory/url``."""
    generate_county(directory / "county", 50, 1)
    url = f"sqlite:///{directory / 'month.db'}" if backend == "sqlite" else pg_shared_database(shared, None)
    build_month(directory / "county", url)
    key_path = directory / "signing.key"
    key_create(key_path)
    engine = make_engine(url)
    try:
        sign(engine, key_path, "change", "build month")
        with transaction(engine) as session:
            first = session.execute(text("SELECT MIN(period) FROM journal_entries WHERE entity_id = 1")).scalar_one()
            close_period(session, "COUNTY", first, "alice")
        sign(engine, key_path, "period_close", "periods close")
    finally:
        engine.dispose()
    (directory / "url").write_text(url, encoding="utf-8")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def month(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Month]:
    """Built once per test run for every worker (about 25 s a backend); nothing changes it: the
    tests tamper with clones."""
    backend = request.param
    if backend == "postgresql" and not PG_URL:
        pytest.skip("DISBURSE_TEST_PG_URL is not set")
    shared = shared_directory(tmp_path_factory)
    built = built_once(tmp_path_factory, f"checkpoints-month-{backend}", lambda d: _build_month(backend, shared, d))
    url = (built / "url").read_text(encoding="utf-8")
    yield Month(backend, url, built / "signing.key", tmp_path_factory.mktemp(f"clones-{backend}"))


@pytest.fixture
def tampered(month: Month, request: pytest.FixtureRequest) -> Iterator[tuple[str, Month]]:
    url = month.clone(f"t{abs(hash(request.node.name)) % 10**8}")
    yield url, month
    if month.backend == "postgresql":
        pg_drop_database(url)


def scalar(connection: Connection, sql: str) -> int:
    return connection.execute(text(sql)).scalar_one()


# -------------------------------------------------------------------------------- the matrix
# Each tamper: (table whose triggers are dropped, what it does, the words verify must name).
# Ids were read off the built month by hand: payables 1–730, allocation_lines 1–2031,
# person_versions 1–208; the county is entity 1.
Tamper = Callable[[Connection], None]


def sql(*statements: str) -> Tamper:
    def run(connection: Connection) -> None:
        for statement in statements:
            connection.execute(text(statement))

    return run


def swap_amounts(table: str) -> Tamper:
    """Swap two rows' amounts: every total stays the same."""

    def run(connection: Connection) -> None:
        rows = connection.execute(text(f"SELECT id, amount_fen FROM {table} ORDER BY id")).all()
        first = rows[0]
        second = next(row for row in rows if row.amount_fen != first.amount_fen)
        for row, amount in ((first, second.amount_fen), (second, first.amount_fen)):
            connection.execute(text(f"UPDATE {table} SET amount_fen = {amount} WHERE id = {row.id}"))

    return run


def copy_row(table: str, changed: str) -> Tamper:
    """Insert a forged row: a copy of the first one under the next id, with ``changed`` (a column
    in a unique key) made distinct by adding to it."""

    def run(connection: Connection) -> None:
        new_id = scalar(connection, f"SELECT MAX(id) + 1 FROM {table}")
        names = [column.name for column in Base.metadata.tables[table].columns if column.name != "id"]
        columns = ", ".join(names)
        values = ", ".join(f"{name} + 100000" if name == changed else name for name in names)
        connection.execute(
            text(f"INSERT INTO {table} (id, {columns}) SELECT {new_id}, {values} FROM {table} WHERE id = 1")
        )

    return run


def journal_amount_rehashed(connection: Connection) -> None:
    """Move one fen between two postings of one entry (it still balances), then re-hash the chain."""
    entry_id = scalar(connection, "SELECT MIN(entry_id) FROM postings WHERE amount_fen > 1")
    debit = scalar(connection, f"SELECT MIN(id) FROM postings WHERE entry_id = {entry_id} AND amount_fen > 1")
    credit = scalar(connection, f"SELECT MIN(id) FROM postings WHERE entry_id = {entry_id} AND amount_fen < 0")
    connection.execute(text(f"UPDATE postings SET amount_fen = amount_fen - 1 WHERE id = {debit}"))
    connection.execute(text(f"UPDATE postings SET amount_fen = amount_fen + 1 WHERE id = {credit}"))
    rehash_journal(connection, connection.engine)


def journal_last_entry_removed(connection: Connection) -> None:
    last = scalar(connection, "SELECT MAX(id) FROM journal_entries")
    drop_triggers(connection, "journal_entries")
    for table in ("match_postings", "unmatched_postings"):
        drop_triggers(connection, table)
    connection.execute(text(f"DELETE FROM postings WHERE entry_id = {last}"))
    connection.execute(text(f"DELETE FROM journal_entries WHERE id = {last}"))
    rehash_journal(connection, connection.engine)


def checkpoint_edited(connection: Connection) -> None:
    digest = json.loads(
        connection.execute(text("SELECT money_digest FROM checkpoints WHERE sequence = 1")).scalar_one()
    )
    digest["payables"]["rows"] += 1
    connection.execute(
        text("UPDATE checkpoints SET money_digest = :digest WHERE sequence = 1"), {"digest": json.dumps(digest)}
    )


TAMPERS: dict[str, tuple[tuple[str, ...], Tamper, tuple[str, ...]]] = {
    "payables amount": (
        ("payables",),
        sql("UPDATE payables SET amount_fen = amount_fen + 100 WHERE id = 5"),
        ("payables ids 1–1000", "changed since checkpoint 2"),
    ),
    "payables payee card": (
        ("payables",),
        sql("UPDATE payables SET account_no = '6228489999999999999' WHERE id = 9"),
        ("payables ids 1–1000",),
    ),
    "payables status": (
        ("payables",),
        sql("UPDATE payables SET status = CASE WHEN status = 'paid' THEN 'open' ELSE 'paid' END WHERE id = 11"),
        ("payables ids 1–1000",),
    ),
    "payables row deleted": (
        ("payables", "instruction_payables"),
        sql("DELETE FROM instruction_payables WHERE payable_id = 700", "DELETE FROM payables WHERE id = 700"),
        ("payables ids 1–1000", "730 rows then, 729 now"),
    ),
    "payables amounts swapped": (("payables",), swap_amounts("payables"), ("payables ids 1–1000",)),
    "instruction payee card": (
        ("payment_instructions",),
        sql("UPDATE payment_instructions SET account_no = '6228481111111111111' WHERE id = 3"),
        ("payment_instructions ids 1–1000",),
    ),
    "instruction payee name": (
        ("payment_instructions",),
        sql("UPDATE payment_instructions SET account_name = '张三' WHERE id = 4"),
        ("payment_instructions ids 1–1000",),
    ),
    "instruction amounts swapped": (
        ("payment_instructions",),
        swap_amounts("payment_instructions"),
        ("payment_instructions ids 1–1000",),
    ),
    "batch status": (
        ("payment_batches",),
        sql("UPDATE payment_batches SET status = 'approved' WHERE id = 1"),
        ("payment_batches ids 1–1000",),
    ),
    "batch file hash": (
        ("payment_batch_files",),
        sql("UPDATE payment_batch_files SET sha256 = '" + "0" * 64 + "' WHERE id = 1"),
        ("payment_batch_files ids 1–1000",),
    ),
    "allocation line amount": (
        ("allocation_lines",),
        sql("UPDATE allocation_lines SET amount_fen = amount_fen + 1 WHERE id = 1500"),
        ("allocation_lines ids 1001–2000",),
    ),
    "allocation line inserted": (
        ("allocation_lines",),
        copy_row("allocation_lines", "line_number"),
        ("allocation_lines ids 2001–3000", "31 rows then, 32 now"),
    ),
    "run status": (
        ("allocation_runs",),
        sql("UPDATE allocation_runs SET status = 'approved' WHERE id = 1"),
        ("allocation_runs ids 1–1000",),
    ),
    "register date": (
        ("household_versions",),
        sql("UPDATE household_versions SET enrolled_on = '2015-01-01' WHERE id = 2"),
        ("household_versions ids 1–1000",),
    ),
    "person inserted": (
        ("person_versions",),
        copy_row("person_versions", ""),
        ("person_versions ids 1–1000", "208 rows then, 209 now"),
    ),
    "holding units": (
        ("holdings",),
        sql("UPDATE holdings SET units_e4 = units_e4 * 2 WHERE id = 3"),
        ("holdings ids 1–1000",),
    ),
    "settlement amount": (
        ("pv_settlements",),
        sql("UPDATE pv_settlements SET amount_fen = amount_fen + 10000 WHERE id = 1"),
        ("pv_settlements ids 1–1000",),
    ),
    "bank account number": (
        ("bank_accounts",),
        sql("UPDATE bank_accounts SET account_number = '6228480000000001' WHERE id = 1"),
        ("bank_accounts ids 1–1000",),
    ),
    "closed period reopened": (
        ("periods",),
        sql("UPDATE periods SET status = 'open', closed_by = NULL WHERE entity_id = 1"),
        ("periods entity_id 1–1000",),
    ),
    "chain head edited": (
        ("chain_heads",),
        sql("UPDATE chain_heads SET head_hash = '" + "a" * 64 + "' WHERE entity_id = 1"),
        ("chain_heads entity_id 1–1000",),
    ),
    "statement line amount": (
        ("statement_lines",),
        sql("UPDATE statement_lines SET amount_fen = amount_fen + 1 WHERE id = 1"),
        ("statement_lines ids 1–1000",),
    ),
    "return line outcome": (
        ("return_lines",),
        sql(
            "UPDATE return_lines SET outcome = CASE WHEN outcome = 'success' THEN 'failure' ELSE 'success' END, "
            "reason = '户名不符' WHERE source_row = (SELECT MIN(source_row) FROM return_lines)"
        ),
        ("return_lines return_file_id 1–1000",),
    ),
    "entity renamed": (
        ("entities",),
        sql("UPDATE entities SET name = '某某村' WHERE id = 2"),
        ("entities ids 1–1000",),
    ),
    "settlement allocation edited": (
        ("settlement_allocations",),
        sql(
            "DELETE FROM settlement_allocations WHERE settlement_id = (SELECT MIN(settlement_id) FROM "
            "settlement_allocations)"
        ),
        ("settlement_allocations settlement_id 1–1000",),
    ),
    "checkpoint edited": (("checkpoints",), checkpoint_edited, ("checkpoints sequence 1", "does not match its hash")),
    "last checkpoint deleted": (
        ("checkpoints",),
        sql("DELETE FROM checkpoints WHERE sequence = 2"),
        ("periods entity_id 1–1000", "changed since checkpoint 1"),
    ),
    "journal amount re-hashed": (
        ("postings",),
        journal_amount_rehashed,
        ("journal COUNTY", "not what checkpoint 1 signed"),
    ),
    "journal last entry removed and re-hashed": (
        ("postings",),
        journal_last_entry_removed,
        ("journal COUNTY", "entries were removed"),
    ),
}


@pytest.mark.parametrize("kind", list(TAMPERS))
def test_tamper_is_caught_naming_table_and_block(kind: str, tampered: tuple[str, Month]) -> None:
    url, month = tampered
    tables, tamper, wanted = TAMPERS[kind]
    engine = make_engine(url)
    try:
        assert verdict(engine, month.key_path).problems == []  # the clone verifies before the tamper
        with engine.begin() as connection:
            for table in tables:
                drop_triggers(connection, table)
            tamper(connection)
        found = verdict(engine, month.key_path)
    finally:
        engine.dispose()
    assert found.names(*wanted), found.problems


def test_the_matrix_has_twenty_kinds_across_the_money_tables() -> None:
    assert len(TAMPERS) >= 20
    assert len({tables[0] for tables, _, _ in TAMPERS.values()}) >= 15


# ---------------------------------------------------------------------------- signatures
def test_signed_month_verifies_and_names_its_head(tampered: tuple[str, Month]) -> None:
    # An untouched clone: nothing connects to the shared month, so other workers can clone it.
    url, month = tampered
    engine = make_engine(url)
    try:
        found = verdict(engine, month.key_path)
        with engine.connect() as connection:
            newest = connection.execute(text("SELECT checkpoint_hash FROM checkpoints WHERE sequence = 2")).scalar_one()
    finally:
        engine.dispose()
    assert found.problems == [] and found.checkpoints.checkpoint_count == 2
    assert found.checkpoints.head_short == newest[:12]
    key, _ = key_load(month.key_path)
    assert key is not None and found.checkpoints.fingerprints == (key.fingerprint,)


def test_a_checkpoint_forged_without_the_key_is_caught(tampered: tuple[str, Month]) -> None:
    """The forger changes a payable, rewrites the newest checkpoint's digest to match and
    recomputes its hash; only the signature (which needs the key) is left as it was."""
    url, month = tampered
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for table in ("payables", "checkpoints"):
                drop_triggers(connection, table)
            connection.execute(text("UPDATE payables SET amount_fen = amount_fen + 100 WHERE id = 5"))
        with transaction(engine) as session:
            from disburse.schema.checkpoints import money_digest

            fresh = {table: digest.as_json() for table, digest in money_digest(session).items()}
        with engine.begin() as connection:
            row = dict(connection.execute(text("SELECT * FROM checkpoints WHERE sequence = 2")).mappings().one())
            row["money_digest"] = json.dumps(fresh, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            if isinstance(row["created_at"], str):
                import datetime as dt

                row["created_at"] = dt.datetime.fromisoformat(row["created_at"])
            forged = checkpoint_hash(row)
            connection.execute(
                text("UPDATE checkpoints SET money_digest = :digest, checkpoint_hash = :hash WHERE sequence = 2"),
                {"digest": row["money_digest"], "hash": forged},
            )
        found = verdict(engine, month.key_path)
    finally:
        engine.dispose()
    assert not found.names("payables")  # the digest was made to match ...
    assert found.names("checkpoints sequence 2", "signature is not valid")  # ... but it cannot be signed


def test_checkpoints_resigned_with_another_key_are_caught_by_the_key_file(
    tampered: tuple[str, Month], tmp_path: Path
) -> None:
    """A forger with their own key signs a new checkpoint after a change: every signature is
    valid, but the key file outside the database did not sign the newest one."""
    url, month = tampered
    other = tmp_path / "forger.key"
    key_create(other)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            drop_triggers(connection, "payables")
            connection.execute(text("UPDATE payables SET amount_fen = amount_fen + 100 WHERE id = 5"))
        sign(engine, other)
        found = verdict(engine, month.key_path)
    finally:
        engine.dispose()
    assert found.names("checkpoints sequence 3", "not by the key in")


def test_key_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    key = key_create(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    loaded, reason = key_load(path)
    assert loaded is not None and loaded.fingerprint == key.fingerprint and reason == ""
    from disburse.foundation.errors import DisburseError

    with pytest.raises(DisburseError, match="never overwritten"):
        key_create(path)
    os.chmod(path, 0o644)
    refused, reason = key_load(path)
    assert refused is None and "readable by others" in reason
