"""What every command module shares: the consoles, the database option's value, one transaction
per command (``books``), and small renderers. It imports no command module, so every command
module can import it."""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING, Iterator

from rich.console import Console
from rich.markup import escape

from disburse.foundation.money import format_yuan

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Piped output (files, tests, grep) gets a wide fixed width so no value is cut to "…".
PIPED_WIDTH = 200
console = Console() if sys.stdout.isatty() else Console(width=PIPED_WIDTH)
error_console = Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=PIPED_WIDTH)

USER_HELP = "who is acting (recorded with every change); or set DISBURSE_USER"


class State:
    """Options shared by every command."""

    database_url: str = ""


state = State()


@contextlib.contextmanager
def books() -> Iterator[Session]:
    """One transaction on the selected database, committed when the command succeeds."""
    # Imported when a command runs: `disburse --help` must not pay for SQLAlchemy. Importing
    # disburse.schema registers every table, so any ORM statement can resolve every foreign key.
    from disburse.foundation.db import make_engine, transaction
    from disburse.schema import migrate as schema

    engine = make_engine(state.database_url)
    try:
        schema.require_current(engine)
        with transaction(engine) as session:
            yield session
    finally:
        engine.dispose()


def show_warnings(warnings: tuple[str, ...] | list[str]) -> None:
    for warning in warnings:
        error_console.print(f"[yellow]warning:[/yellow] {escape(warning)}")


def yuan(amount_fen: int) -> str:
    return format_yuan(amount_fen)
