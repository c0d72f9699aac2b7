"""Running the real `disburse` command in tests: in-process through Typer's runner (fast), or as
the installed console script in a subprocess (what a user runs)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from disburse.cli import app as cli

CONSOLE_SCRIPT = Path(sys.executable).parent / "disburse"


@dataclass(frozen=True)
class Ran:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run(database_url: str, *arguments: str, user: str | None = "alice") -> Ran:
    """The command in-process, through the same Typer app the console script runs, on
    ``database_url``, as ``user`` (None: no DISBURSE_USER at all, as a process started without it)."""
    result = CliRunner().invoke(cli.app, ["--db", database_url, *arguments], env={"DISBURSE_USER": user})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


# A real process costs about a second of start-up, so worked examples run their commands with
# ``run``; ``run_script`` is for the tests whose point is the process (every command's own test in
# tests/cli/test_every_command_fresh_process.py, the demo, the crash tests, and one "in fresh
# processes" test where an issue asked for it). Those processes are SQLite's: on PostgreSQL the same
# command runs in this process, which keeps CI within its time. The three-month scenario still runs
# about 120 real processes on PostgreSQL; DISBURSE_TEST_PG_PROCESSES=1 runs every one as a process.
PG_PROCESSES = bool(os.environ.get("DISBURSE_TEST_PG_PROCESSES"))


def run_script(database_url: str, *arguments: str, user: str | None = "alice", cwd: Path | None = None) -> Ran:
    """The installed console script, as a user runs it."""
    if cwd is None and database_url.startswith("postgresql") and not PG_PROCESSES:
        return run(database_url, *arguments, user=user)
    environment = {key: value for key, value in os.environ.items() if key != "DISBURSE_USER"}
    if user:
        environment["DISBURSE_USER"] = user
    completed = subprocess.run(
        [str(CONSOLE_SCRIPT), "--db", database_url, *arguments],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=300,
    )
    return Ran(completed.returncode, completed.stdout, completed.stderr)
