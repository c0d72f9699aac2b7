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
    """The command in-process, on ``database_url``, as ``user``."""
    return _invoked(database_url, arguments, {"DISBURSE_USER": user} if user else {})


# Fresh processes are SQLite's: on PostgreSQL the same command runs in this process (through the
# same Typer app), which keeps CI within its time. The three-month scenario still runs about 120
# real processes on PostgreSQL; DISBURSE_TEST_PG_PROCESSES=1 runs every one as a process.
PG_PROCESSES = bool(os.environ.get("DISBURSE_TEST_PG_PROCESSES"))


def run_script(database_url: str, *arguments: str, user: str | None = "alice", cwd: Path | None = None) -> Ran:
    """The installed console script, as a user runs it."""
    if cwd is None and database_url.startswith("postgresql") and not PG_PROCESSES:
        return _in_process(database_url, arguments, user)
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


def _in_process(database_url: str, arguments: tuple[str, ...], user: str | None) -> Ran:
    """``run_script``'s command through Typer's runner, with the environment it would see (no
    DISBURSE_USER at all when ``user`` is None, as ``run_script`` drops it)."""
    return _invoked(database_url, arguments, {"DISBURSE_USER": user})


def _invoked(database_url: str, arguments: tuple[str, ...], environment: dict[str, str | None]) -> Ran:
    result = CliRunner().invoke(cli.app, ["--db", database_url, *arguments], env=environment)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)
