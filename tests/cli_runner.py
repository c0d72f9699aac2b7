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
    environment = {"DISBURSE_USER": user} if user else {}
    result = CliRunner().invoke(cli.app, ["--db", database_url, *arguments], env=environment)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def run_script(database_url: str, *arguments: str, user: str | None = "alice", cwd: Path | None = None) -> Ran:
    """The installed console script, as a user runs it."""
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
