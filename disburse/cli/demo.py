"""`disburse demo`: a whole monthly cycle on bundled example data in a fresh SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from disburse.cli.common import console, error_console
from disburse.foundation.i18n import tr, tr_noop

# The command's help (the root app registers `demo` from its docstring, which says the same).
DEMO_HELP = tr_noop("Run a whole monthly cycle on bundled example data in a fresh SQLite file.")


# ---------------------------------------------------------------------------------------- demo
def demo(
    directory: Optional[Path] = typer.Option(
        None, "--dir", help=tr_noop("where to put the books and files; default a new temporary directory")
    ),
) -> None:
    """Run a whole monthly cycle on bundled example data in a fresh SQLite file."""
    from disburse.dev.demo.cycle import run_demo

    summary = run_demo(directory, progress=lambda step: error_console.print(f"[dim]… {step}[/dim]"))
    table = Table(tr("step"), tr("result"), title=tr("disburse demo: one monthly cycle"))
    for step, result in summary.steps:
        table.add_row(escape(step), escape(result))
    console.print(table)
    console.print(tr("books: {url}", url=summary.database_url))
    for path in summary.files:
        console.print(tr("file:  {path}", path=path))
    console.print(tr("finished in {seconds:.1f} s", seconds=summary.seconds))
