"""Issue 16: commands killed with SIGKILL at a random moment leave nothing partial and no change
without its audit row.

Each command runs as the installed `disburse`, in its own process, on a copy of books made for it,
and is killed after a seeded random delay between 0.5 and 1.05 times its uninterrupted duration
(the first half of a run is mostly Python starting).
Right after the kill the books must be exactly as before (row counts of every table, the audit
log aside) or exactly as after an uninterrupted run; `verify` must pass; the audit log must hold
one `ok` row of the command if and only if its change committed. The same command again must then
succeed and leave the row counts of an uninterrupted run.

Trials per command: DISBURSE_FAULT_TRIALS (default 0: the test is skipped; by hand, e.g.
``DISBURSE_FAULT_TRIALS=30 pytest tests/faults``). SQLite.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_runner import CONSOLE_SCRIPT, run
from sqlalchemy import inspect, text

from disburse.allocations.rules import EXAMPLES_DIRECTORY
from disburse.dev.demo.cycle import rule_for_station
from disburse.dev.generator import generate_county
from disburse.foundation.db import make_engine

TRIALS = int(os.environ.get("DISBURSE_FAULT_TRIALS", "0"))
SEED = 20261202
ACCOUNT = "6228480012345678901"
CLERK, APPROVER, CENTRE = "县财政局-张会计", "县财政局-李科长", "政策兑现中心-赵出纳"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(TRIALS < 1, reason="set DISBURSE_FAULT_TRIALS=N to kill each command N times"),
]


@dataclass(frozen=True)
class Step:
    """A command, who runs it, and the books it starts from (the file name of a prepared copy)."""

    name: str
    arguments: tuple[str, ...]
    user: str


def _counts(path: Path) -> dict[str, object]:
    """Row counts of every table (the audit log aside), and how many rows hold each status where a
    table has one: an approval changes no count, only a status."""
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            names = sorted(set(inspector.get_table_names()) - {"audit_log", "alembic_version"})
            state: dict[str, object] = {}
            for name in names:
                state[name] = connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
                if "status" in {column["name"] for column in inspector.get_columns(name)}:
                    statuses = connection.execute(text(f'SELECT status, count(*) FROM "{name}" GROUP BY status'))
                    state[f"{name}.status"] = sorted(tuple(row) for row in statuses)
            return state
    finally:
        engine.dispose()


def _ok_rows(path: Path, command: str) -> int:
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT count(*) FROM audit_log WHERE command = :c AND outcome = 'ok'"), {"c": command}
            ).scalar_one()
    finally:
        engine.dispose()


def _killed(path: Path, step: Step, delay_seconds: float) -> int:
    environment = {**os.environ, "DISBURSE_USER": step.user, "PYTHONPATH": os.getcwd()}
    process = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "--db", f"sqlite:///{path}", *step.arguments],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environment,
    )
    try:
        return process.wait(timeout=delay_seconds)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        return process.wait()


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> tuple[Path, list[tuple[Step, Path]]]:
    """A chain of prepared books, each the state one step starts from."""
    directory = tmp_path_factory.mktemp("faults")
    county = generate_county(directory / "county", 300, 7)
    station = rule_for_station(
        EXAMPLES_DIRECTORY / "pv_revenue.yaml", county_station(county.assets_path), directory / "pv.yaml"
    )
    current = directory / "books-0.db"
    shutil.copyfile(sqlite_template, current)
    url = f"sqlite:///{current}"
    assert run(url, "entities", "add-bank-account", "COUNTY", "--bank", "中国农业银行", "--account-number", ACCOUNT,
               user=CLERK).exit_code == 0  # fmt: skip
    snapshots = [
        Step(f"import registry {path.name}", ("import", "registry", str(path), "--as-of", as_of.isoformat()), CLERK)
        for path, as_of in zip(county.register_paths, county.snapshot_dates)
    ]
    steps = [
        *snapshots,
        Step("assets load", ("assets", "load", str(county.assets_path)), CLERK),
        Step("import shares", ("import", "shares", str(county.shares_path)), CLERK),
        Step("import pv-settlement", ("import", "pv-settlement", str(county.settlements_path)), CLERK),
        Step(
            "allocate",
            ("allocate", str(station), "--period", "2026-10", "--inputs", str(county.public_welfare_jobs_path)),
            CLERK,
        ),
        Step("runs approve", ("runs", "approve", "1"), APPROVER),
        Step("runs post", ("runs", "post", "1"), APPROVER),
        Step("payout prepare", ("payout", "prepare", "--entity", "COUNTY"), CENTRE),
    ]
    chain = []
    for number, step in enumerate(steps, start=1):
        chain.append((step, current))
        following = directory / f"books-{number}.db"
        shutil.copyfile(current, following)
        ran = run(f"sqlite:///{following}", *step.arguments, user=step.user)
        assert ran.exit_code == 0, (step.name, ran.output)
        current = following
    return directory, chain


def county_station(assets_path: Path) -> dict:
    import yaml

    return yaml.safe_load(assets_path.read_text(encoding="utf-8"))["stations"][0]


def test_issue16_commands_killed_anywhere_leave_nothing_partial(books, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, chain = books
    rng = random.Random(SEED)
    report, failures = [], []
    for step, before_path in chain:
        words = " ".join(part for part in step.arguments[:2] if not part.startswith("/"))
        command = words if step.arguments[0] in ("runs", "payout", "import", "assets") else step.arguments[0]
        reference = tmp_path / "reference.db"
        shutil.copyfile(before_path, reference)
        started = time.perf_counter()
        assert _killed(reference, step, 600) == 0, step.name
        duration = time.perf_counter() - started
        before, after = _counts(before_path), _counts(reference)
        assert before != after, f"{step.name} changes nothing the check can see"
        earlier_rows = _ok_rows(before_path, command)  # the same command in an earlier step
        committed = 0
        for trial in range(TRIALS):
            copy = tmp_path / f"trial-{trial}.db"
            shutil.copyfile(before_path, copy)
            # Most of a run is starting Python: the kills fall in its second half, where it writes.
            code = _killed(copy, step, rng.uniform(0.5 * duration, 1.05 * duration))
            counts = _counts(copy)
            state = "after" if counts == after else "before" if counts == before else "PARTIAL"
            committed += state == "after"
            ok_rows = _ok_rows(copy, command) - earlier_rows
            if state == "PARTIAL" or ok_rows != (state == "after"):
                failures.append(f"{step.name} trial {trial} (exit {code}): {state}, {ok_rows} ok audit row(s)")
            if run(f"sqlite:///{copy}", "verify").exit_code != 0:
                failures.append(f"{step.name} trial {trial}: verify fails after the kill")
            # Done again, it completes what the kill stopped (or changes nothing after a commit).
            again = run(f"sqlite:///{copy}", *step.arguments, user=step.user)
            if (state == "before" and again.exit_code != 0) or _counts(copy) != after:
                failures.append(f"{step.name} trial {trial}: running it again gives exit {again.exit_code}")
            copy.unlink()
        report.append(f"{step.name}: {TRIALS} trials, {committed} committed before the kill, {duration:.1f} s a run")
    print("\n".join(report), file=sys.stderr)
    assert not failures, "\n".join(failures)
