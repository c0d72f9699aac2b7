"""`disburse funds ...`: budget indicators (资金指标): import, list, show, return (退回). The
service is allocations.funds; cli/app.py wires ``funds_app`` in as the ``funds`` group."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from disburse.cli.common import USER_HELP, books, console, error_console
from disburse.foundation.i18n import join_clauses, tr, tr_noop
from disburse.foundation.money import format_yuan

funds_app = typer.Typer(
    no_args_is_help=True,
    help=tr_noop("Budget indicators (资金指标): import, list, show, return money upstream (退回)."),
)
# The movement kinds (allocations.tables.FUND_MOVEMENT_KINDS) as `funds show` prints them.
MOVEMENT_NAMES = {
    "draw": tr_noop("drawn by a run"),
    "undraw": tr_noop("given back by a reversed run"),
    "freeze": tr_noop("frozen by a batch"),
    "pay": tr_noop("paid by the bank"),
    "release": tr_noop("released (bank failure or batch cancelled)"),
    "return": tr_noop("returned upstream (退回)"),
}


@funds_app.command(
    "import",
    help=tr_noop(
        "Import budget indicators (指标文号, 资金名称, 资金级次, 资金性质, 功能科目, 年度, 金额, 可用于项目); the same "
        "file again changes nothing, and a changed indicator is refused."
    ),
)
def funds_import(
    file: Path = typer.Argument(..., help=tr_noop("资金指标 file (.csv, .xlsx or .xls)")),
    errors: Optional[Path] = typer.Option(None, "--errors", help=tr_noop("write every problem to this .csv or .xlsx")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Import budget indicators; the same file again changes nothing."""
    from disburse.allocations.funds import import_indicators
    from disburse.foundation.errors import ImportRefused
    from disburse.foundation.workbook import write_problems

    try:
        with books("change", "funds import", user) as session:
            outcome = import_indicators(session, file, user)
    except ImportRefused as refused:
        if errors is not None:
            write_problems(refused.problems, errors)
            error_console.print(tr("every problem is listed in {file}", file=escape(str(errors))))
        raise
    console.print(escape(outcome.message), highlight=False)


def _figures_table(figures: list, title: str) -> Table:  # type: ignore[type-arg]
    table = Table(
        "指标文号",
        "资金名称",
        "级次",
        "功能科目",
        "年度",
        tr("issued"),
        tr("returned"),
        tr("drawn"),
        tr("frozen"),
        tr("paid"),
        tr("available"),
        title=title,
    )
    for row in figures:
        table.add_row(
            escape(row.document_number),
            escape(row.fund_name),
            row.level,
            row.budget_line,
            str(row.year),
            format_yuan(row.issued_fen),
            format_yuan(row.returned_fen),
            format_yuan(row.drawn_fen),
            format_yuan(row.frozen_fen),
            format_yuan(row.paid_fen),
            format_yuan(row.available_fen),
        )
    return table


@funds_app.command("list", help=tr_noop("List the budget indicators with what each has issued, drawn and left."))
def funds_list() -> None:
    """List the budget indicators with what each has issued, drawn and left."""
    from disburse.allocations.funds import indicator_figures

    with books() as session:
        figures = indicator_figures(session)
    if not figures:
        console.print(tr("no budget indicator is imported; `disburse funds import FILE` imports them"))
        return
    console.print(_figures_table(figures, tr("budget indicators")))


@funds_app.command("show", help=tr_noop("Show one indicator: what it may pay, its figures and every movement."))
def funds_show(number: str = typer.Argument(..., help=tr_noop("the 指标文号"))) -> None:
    """Show one indicator: what it may pay, its figures and every movement."""
    from disburse.allocations.funds import indicator_movements, indicator_named

    with books() as session:
        figures = indicator_named(session, number)
        movements = indicator_movements(session, figures.indicator_id)
    console.print(_figures_table([figures], escape(figures.document_number)))
    console.print(
        tr(
            "资金性质 {nature}; may pay: {programmes}",
            nature=escape(figures.nature),
            programmes=escape("、".join(figures.programmes)),
        ),
        highlight=False,
    )
    table = Table("#", tr("movement"), tr("yuan"), tr("run"), tr("batch"), tr("return file"), tr("by"), tr("reason"))
    for movement in movements:
        table.add_row(
            str(movement.id),
            tr(MOVEMENT_NAMES.get(movement.kind, movement.kind)),
            format_yuan(movement.amount_fen),
            str(movement.run_id or ""),
            str(movement.batch_id or ""),
            str(movement.return_file_id or ""),
            escape(movement.created_by),
            escape(movement.reason or ""),
        )
    console.print(table)
    problems = figures.problems()
    console.print(
        tr("identity holds: issued = available + returned + awaiting + frozen + paid")
        if not problems
        else tr("identity broken: {problems}", problems=join_clauses(problems)),
        highlight=False,
    )


@funds_app.command("return", help=tr_noop("Return (退回) part of an indicator's available money upstream."))
def funds_return(
    number: str = typer.Argument(..., help=tr_noop("the 指标文号")),
    amount: str = typer.Argument(..., help=tr_noop("yuan, e.g. 1200.00")),
    reason: str = typer.Option(..., "--reason", help=tr_noop("why the money goes back (recorded)")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Return (退回) part of an indicator's available money upstream."""
    from disburse.allocations.funds import return_funds

    with books("change", "funds return", user) as session:
        message = return_funds(session, number, amount, reason, user)
    console.print(escape(message), highlight=False)
