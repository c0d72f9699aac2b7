"""`disburse demo`: a whole monthly cycle on bundled example data in a fresh SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from disburse.cli.common import console, error_console


# ---------------------------------------------------------------------------------------- demo
def demo(
    directory: Optional[Path] = typer.Option(
        None, "--dir", help="where to put the books and files; default a new temporary directory"
    ),
) -> None:
    """Run a whole monthly cycle on bundled example data in a fresh SQLite file."""
    from disburse.dev.demo.cycle import run_demo

    summary = run_demo(directory, progress=lambda step: error_console.print(f"[dim]… {step}[/dim]"))
    table = Table("step", "result", title="disburse demo: one monthly cycle")
    for step, result in summary.steps:
        table.add_row(escape(step), escape(result))
    console.print(table)
    console.print(f"books: {summary.database_url}")
    for path in summary.files:
        console.print(f"file:  {path}")
    console.print(f"finished in {summary.seconds:.1f} s")
