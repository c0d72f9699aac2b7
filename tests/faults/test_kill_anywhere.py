"""Issue 16: commands killed with SIGKILL at a random moment leave nothing partial, no change
without its audit row, and no bank file the database does not record.

The chain is a whole month as the installed command line runs it: the registers, assets, shares
and settlements imported; a PV allocation computed, approved and posted; a payout batch
prepared, approved by two people, exported; the bank's return file applied (three payments
fail); the bank's statement imported; the account reconciled and its bank-only lines (fee,
interest) posted; the first period closed. The return file and the statement come from
`disburse generate bank-return` / `generate bank-statement` on the books the step starts from.

Each command runs as the installed `disburse`, in its own process, on a copy of books made for it,
and is killed after a seeded random delay between 0.5 and 1.05 times its uninterrupted duration
(the first half of a run is mostly Python starting).
Right after the kill the books must be exactly as before (row counts of every table, of each
status and of the values in each nullable column, the audit log aside) or exactly as after an
uninterrupted run; `verify` must pass; the audit log must hold one `ok` row of the command if
and only if its change committed; every file under a final name in the step's output directory
must be one the database records, with that SHA-256, for an exported batch (a file of a batch
not exported must not exist). The same command again must then succeed and leave the books, and
the files, of an uninterrupted run (after a kill that came too late, of an uninterrupted run done
twice: a second `reconcile run` is one more row of reconciliation_runs, by design).

On SQLite each copy is a copy of the file; on PostgreSQL (when DISBURSE_TEST_PG_URL is set) a
database made with ``CREATE DATABASE ... TEMPLATE``, checked only once the killed client's
server session has ended (until then a COMMIT it sent may still land), and dropped at the end.

Trials per command: DISBURSE_FAULT_TRIALS (default 0: the test is skipped; by hand, e.g.
``DISBURSE_FAULT_TRIALS=12 pytest -s tests/faults``: 18 commands, 216 trials per engine).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol

import pytest
import yaml
from cli_runner import CONSOLE_SCRIPT, run
from database_support import PG_URL
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from disburse.allocations.rules import EXAMPLES_DIRECTORY
from disburse.dev.demo.cycle import rule_for_station
from disburse.dev.generator import generate_county
from disburse.foundation.dates import period_of
from disburse.foundation.db import make_engine

TRIALS = int(os.environ.get("DISBURSE_FAULT_TRIALS", "0"))
SEED = 20261202
ACCOUNT = "6228480012345678901"
CLERK, APPROVER, DIRECTOR = "县财政局-张会计", "县财政局-李科长", "县财政局-王局长"
CENTRE = "政策兑现中心-赵出纳"
PROFILE = "generic"
FAILED_PAYMENTS = 3
OUT = "{out}"  # in a step's arguments: the directory the step may write files into
# The command groups whose audit rows name the subcommand too ("payout export", not "payout").
GROUPS = ("runs", "payout", "import", "assets", "reconcile", "periods")
# A killed client's PostgreSQL session ends as soon as the server reads the closed socket.
SESSION_END_SECONDS_MAX = 60
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(TRIALS < 1, reason="set DISBURSE_FAULT_TRIALS=N to kill each command N times"),
]


@dataclass(frozen=True)
class Step:
    """A command and who runs it; ``OUT`` in its arguments stands for its output directory."""

    name: str
    arguments: tuple[str, ...]
    user: str

    @property
    def command(self) -> str:
        """The command as the audit log names it."""
        return " ".join(self.arguments[:2]) if self.arguments[0] in GROUPS else self.arguments[0]

    def argv(self, out: Path) -> list[str]:
        return [part.replace(OUT, str(out)) for part in self.arguments]


class Store(Protocol):
    """Named books on one engine: made from the migrated template, copied, dropped."""

    def url(self, name: str) -> str: ...
    def create(self, name: str) -> None: ...
    def copy(self, source: str, target: str) -> None: ...
    def drop(self, name: str) -> None: ...
    def settle(self, name: str) -> None: ...
    def drop_all(self) -> None: ...


class SqliteStore:
    def __init__(self, directory: Path, template: Path) -> None:
        self.directory, self.template = directory, template

    def url(self, name: str) -> str:
        return f"sqlite:///{self.directory / name}.db"

    def create(self, name: str) -> None:
        shutil.copyfile(self.template, self.directory / f"{name}.db")

    def copy(self, source: str, target: str) -> None:
        # Every command closes its connections, so the write-ahead log is checkpointed into the file.
        assert not (self.directory / f"{source}.db-wal").exists(), source
        shutil.copyfile(self.directory / f"{source}.db", self.directory / f"{target}.db")

    def drop(self, name: str) -> None:
        # A killed process leaves its write-ahead log beside the file.
        for suffix in (".db", ".db-wal", ".db-shm"):
            (self.directory / f"{name}{suffix}").unlink(missing_ok=True)

    def settle(self, name: str) -> None:
        """A killed process holds nothing once it has been reaped."""

    def drop_all(self) -> None:
        """The files go with pytest's temporary directory."""


class PostgresStore:
    def __init__(self, template: str) -> None:
        assert PG_URL
        self.template = template
        self.prefix = f"disburse_fault_{os.getpid()}_{secrets.token_hex(3)}"
        self.admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        self.made: set[str] = set()

    def _database(self, name: str) -> str:
        return f"{self.prefix}_{name}"

    def url(self, name: str) -> str:
        return make_url(PG_URL).set(database=self._database(name)).render_as_string(hide_password=False)

    def _clone(self, template: str, name: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self._database(name)}" TEMPLATE "{template}"'))
        self.made.add(name)

    def create(self, name: str) -> None:
        self._clone(self.template, name)

    def copy(self, source: str, target: str) -> None:
        self._clone(self._database(source), target)

    def drop(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self._database(name)}" WITH (FORCE)'))
        self.made.discard(name)

    def settle(self, name: str) -> None:
        """Wait until no session is left on ``name``: the killed client's session may still be
        finishing a statement, or a COMMIT it sent just before it died."""
        deadline = time.monotonic() + SESSION_END_SECONDS_MAX
        query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name")
        while True:
            with self.admin.connect() as connection:
                if connection.execute(query, {"name": self._database(name)}).scalar_one() == 0:
                    return
            assert time.monotonic() < deadline, f"a session on {name} outlived its killed client"
            time.sleep(0.05)

    def drop_all(self) -> None:
        for name in sorted(self.made):
            self.drop(name)
        self.admin.dispose()


def _query(url: str, sql: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def _counts(url: str) -> dict[str, object]:
    """Row counts of every table (the audit log aside); how many rows hold each status where a
    table has one; and how many rows have a value in each nullable column: an approval changes no
    count, only a status or a column such as ``first_approved_by``."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            names = sorted(set(inspector.get_table_names()) - {"audit_log", "alembic_version"})
            state: dict[str, object] = {}
            for name in names:
                columns = inspector.get_columns(name)
                nullable = [column["name"] for column in columns if column["nullable"]]
                counted = ", ".join(["count(*)", *(f'count("{column}")' for column in nullable)])
                values = connection.execute(text(f'SELECT {counted} FROM "{name}"')).one()
                state[name] = values[0]
                state.update({f"{name}.{column}": value for column, value in zip(nullable, values[1:])})
                if "status" in {column["name"] for column in columns}:
                    statuses = connection.execute(text(f'SELECT status, count(*) FROM "{name}" GROUP BY status'))
                    state[f"{name}.status"] = sorted(tuple(row) for row in statuses)
            return state
    finally:
        engine.dispose()


def _ok_rows(url: str, command: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT count(*) FROM audit_log WHERE command = :c AND outcome = 'ok'"), {"c": command}
            ).scalar_one()
    finally:
        engine.dispose()


def _files(out: Path) -> dict[str, str]:
    """Every file in ``out`` (temporary ones too) and its SHA-256."""
    if not out.is_dir():
        return {}
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(out.iterdir())}


def _unrecorded_files(url: str, out: Path) -> list[str]:
    """Files under a final name in ``out`` that the books do not record, with that SHA-256, as a
    file of an exported batch. A hidden name is a temporary file (payouts/publication.py), which
    no one uploads."""
    recorded = dict(
        _query(
            url,
            "SELECT f.file_name, f.sha256 FROM payment_batch_files f JOIN payment_batches b ON b.id = f.batch_id "
            "WHERE b.status IN ('exported', 'closed')",
        )
    )
    return [name for name, sha in _files(out).items() if not name.startswith(".") and recorded.get(name) != sha]


def _killed(url: str, step: Step, out: Path, delay_seconds: float) -> int:
    environment = {**os.environ, "DISBURSE_USER": step.user, "PYTHONPATH": os.getcwd()}
    process = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "--db", url, *step.argv(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environment,
    )
    try:
        return process.wait(timeout=delay_seconds)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        return process.wait()


class _Chain:
    """Books after each step, each the state the next step starts from."""

    def __init__(self, store: Store, directory: Path) -> None:
        self.store, self.directory = store, directory
        self.current = "books_0"
        store.create(self.current)
        self.links: list[tuple[Step, str]] = []

    @property
    def url(self) -> str:
        return self.store.url(self.current)

    def scalar(self, sql: str) -> object:
        return _query(self.url, sql)[0][0]

    def add(self, step: Step) -> None:
        following = f"books_{len(self.links) + 1}"
        self.store.copy(self.current, following)
        ran = run(self.store.url(following), *step.argv(self.directory / "out"), user=step.user)
        assert ran.exit_code == 0, (step.name, ran.output)
        self.links.append((step, self.current))
        self.current = following

    def write(self, *arguments: str) -> None:
        """A `disburse generate` file from the current books."""
        ran = run(self.url, "generate", *arguments, user=CENTRE)
        assert ran.exit_code == 0, (arguments, ran.output)


def _bank_only_rules(path: Path) -> Path:
    """post-unmatched rules for the bank's own lines: its fee and its interest."""
    rules = [
        {"name": "银行手续费", "when": {"summary_contains": ["手续费"], "direction": "out"}, "account": "513",
         "memo": "银行手续费"},
        {"name": "存款利息", "when": {"summary_contains": ["结息", "利息"], "direction": "in"}, "account": "504",
         "memo": "银行存款利息"},
    ]  # fmt: skip
    path.write_text(yaml.safe_dump({"rules": rules}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _month(chain: _Chain, directory: Path) -> None:
    """The chain's steps, from an empty register to the first period closed."""
    today = dt.date.today()  # once: a run across midnight must not change the dates it posts on
    county = generate_county(directory / "county", 300, 7)
    station = rule_for_station(
        EXAMPLES_DIRECTORY / "pv_revenue.yaml", county_station(county.assets_path), directory / "pv.yaml"
    )
    assert run(chain.url, "entities", "add-bank-account", "COUNTY", "--bank", "中国农业银行", "--account-number",
               ACCOUNT, user=CLERK).exit_code == 0  # fmt: skip
    for path, as_of in zip(county.register_paths, county.snapshot_dates):
        chain.add(Step(f"import registry {path.name}", ("import", "registry", str(path), "--as-of", str(as_of)), CLERK))
    chain.add(Step("assets load", ("assets", "load", str(county.assets_path)), CLERK))
    chain.add(Step("import shares", ("import", "shares", str(county.shares_path)), CLERK))
    chain.add(Step("import pv-settlement", ("import", "pv-settlement", str(county.settlements_path)), CLERK))
    inputs = ("--inputs", str(county.public_welfare_jobs_path))
    chain.add(Step("allocate", ("allocate", str(station), "--period", "2026-10", *inputs), CLERK))
    chain.add(Step("runs approve", ("runs", "approve", "1"), APPROVER))
    chain.add(Step("runs post", ("runs", "post", "1"), APPROVER))
    chain.add(Step("payout prepare", ("payout", "prepare", "--entity", "COUNTY", "--date", str(today)), CENTRE))
    batch = str(chain.scalar("SELECT batch_reference FROM payment_batches"))
    # Above the two-approver threshold (100,000.00 yuan): the first approval records, the second releases.
    chain.add(Step("payout approve (first)", ("payout", "approve", batch), APPROVER))
    chain.add(Step("payout approve (second)", ("payout", "approve", batch), DIRECTOR))
    export = ("payout", "export", batch, "--bank", PROFILE, "--out", f"{OUT}/{batch}.csv", "--date", str(today))
    chain.add(Step("payout export", export, CENTRE))
    returned = directory / "return.csv"
    chain.write("bank-return", batch, "--bank", PROFILE, "--fail", str(FAILED_PAYMENTS), "--out", str(returned))
    chain.add(Step("payout returns", ("payout", "returns", str(returned), "--bank", PROFILE, "--date", str(today)),
                   CENTRE))  # fmt: skip
    month, statement = period_of(today), directory / "statement.csv"
    chain.write("bank-statement", "--account", ACCOUNT, "--period", month, "--out", str(statement))
    chain.add(Step("import bank-statement", ("import", "bank-statement", str(statement), "--account", ACCOUNT),
                   CENTRE))  # fmt: skip
    account = ("--account", ACCOUNT, "--period", month)
    chain.add(Step("reconcile run", ("reconcile", "run", *account), CLERK))
    rules = _bank_only_rules(directory / "bank-only.yaml")
    chain.add(Step("reconcile post-unmatched", ("reconcile", "post-unmatched", *account, "--rules", str(rules)), CLERK))
    # Periods close in order from the first with entries (the generated settlements' first month).
    first = str(chain.scalar("SELECT min(period) FROM journal_entries"))
    chain.add(Step(f"periods close {first}", ("periods", "close", "COUNTY", first), CLERK))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def books(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    pg_template: str | None,
) -> Iterator[tuple[Store, list[tuple[Step, str]]]]:
    """The store of books and the chain: each step with the books it starts from."""
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("DISBURSE_TEST_PG_URL is not set")
    directory = tmp_path_factory.mktemp(f"faults-{request.param}")
    store: Store = SqliteStore(directory, sqlite_template) if request.param == "sqlite" else PostgresStore(pg_template)
    try:
        chain = _Chain(store, directory)
        _month(chain, directory)
        yield store, chain.links
    finally:
        store.drop_all()


def county_station(assets_path: Path) -> dict:
    return yaml.safe_load(assets_path.read_text(encoding="utf-8"))["stations"][0]


@dataclass
class _Tally:
    trials: int = 0
    committed: int = 0
    partial: int = 0


def _trial(store: Store, step: Step, name: str, out: Path, delay: float, expected: dict) -> tuple[str, list[str]]:
    """One kill of ``step`` on the books ``name`` (a fresh copy); the state it left and what is wrong."""
    url, problems = store.url(name), []
    code = _killed(url, step, out, delay)
    store.settle(name)
    counts = _counts(url)
    state = "after" if counts == expected["after"] else "before" if counts == expected["before"] else "PARTIAL"
    ok_rows = _ok_rows(url, step.command) - expected["earlier_rows"]
    if state == "PARTIAL" or ok_rows != (state == "after"):
        problems.append(f"(exit {code}, {delay:.2f} s): {state}, {ok_rows} ok audit row(s)")
    unrecorded = _unrecorded_files(url, out)
    if unrecorded:
        problems.append(f"(exit {code}, {delay:.2f} s): {state}, files the books do not record: {unrecorded}")
    if run(url, "verify").exit_code != 0:
        problems.append(f"(exit {code}, {delay:.2f} s): verify fails after the kill")
    # Done again, it completes what the kill stopped (or changes nothing after a commit).
    again = run(url, *step.argv(out), user=step.user)
    if (state == "before" and again.exit_code != 0) or _counts(url) != expected[
        "after" if state == "before" else "twice"
    ]:
        problems.append(f"({state}): running it again gives exit {again.exit_code}: {again.output[-300:]}")
    if _files(out) != expected["files"]:
        problems.append(f"({state}): running it again leaves {sorted(_files(out))}, not {sorted(expected['files'])}")
    return state, problems


def _second_run(expected: dict) -> str:
    grown = sorted(
        {key.split(".")[0] for key, value in expected["twice"].items() if expected["after"].get(key) != value}
    )
    return f"; run twice, it adds to {', '.join(grown)}" if grown else ""


def test_issue16_commands_killed_anywhere_leave_nothing_partial(books, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, chain = books
    rng = random.Random(SEED)
    report, failures, tally = [], [], _Tally()
    for step, before_name in chain:
        out = tmp_path / "reference"
        store.copy(before_name, "reference")
        started = time.perf_counter()
        assert _killed(store.url("reference"), step, out, 600) == 0, step.name
        duration = time.perf_counter() - started
        expected = {
            "before": _counts(store.url(before_name)),
            "after": _counts(store.url("reference")),
            "files": _files(out),
            "earlier_rows": _ok_rows(store.url(before_name), step.command),  # the same command in an earlier step
        }
        # A command run again changes nothing more, but for the history some keep (each
        # `reconcile run` is a row of reconciliation_runs): what a second run adds is allowed.
        assert run(store.url("reference"), *step.argv(out), user=step.user).exit_code in (0, 1), step.name
        expected["twice"] = _counts(store.url("reference"))
        assert _files(out) == expected["files"], f"{step.name} run twice changes its files"
        store.drop("reference")
        shutil.rmtree(out, ignore_errors=True)
        assert expected["before"] != expected["after"], f"{step.name} changes nothing the check can see"
        committed = partial = 0
        for trial in range(TRIALS):
            name, out = f"trial_{trial}", tmp_path / f"trial-{trial}"
            store.copy(before_name, name)
            # Most of a run is starting Python: the kills fall in its second half, where it writes.
            state, problems = _trial(store, step, name, out, rng.uniform(0.5 * duration, 1.05 * duration), expected)
            committed, partial = committed + (state == "after"), partial + (state == "PARTIAL")
            failures.extend(f"{step.name} trial {trial} {problem}" for problem in problems)
            store.drop(name)
            shutil.rmtree(out, ignore_errors=True)
        tally.trials, tally.committed = tally.trials + TRIALS, tally.committed + committed
        tally.partial += partial
        report.append(
            f"{step.name}: {TRIALS} trials, {committed} committed before the kill, {partial} partial, "
            f"{duration:.1f} s a run{_second_run(expected)}"
        )
    report.append(
        f"{len(chain)} commands, {tally.trials} trials: {tally.committed} committed before the kill, "
        f"{tally.partial} partial, {len(failures)} failure(s)"
    )
    print("\n".join(report), file=sys.stderr)
    assert not failures, "\n".join(failures)
