"""`disburse report ledger` (明细账) and `disburse report vouchers` (记账凭证): parse arguments, call
one function in reports.ledger_detail or reports.vouchers, render the result.

``ledger_reports_app`` is added to cli.py's ``report`` group without a name
(``report_app.add_typer(ledger_reports_app)``), so its commands sit beside ``trial-balance``.
Neither command changes state, so neither takes --user; neither shows a resident ID or an
account number, so neither takes --unmasked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from ledger_core.model import DisburseError
from ledger_core.money import format_yuan

ledger_reports_app = typer.Typer(no_args_is_help=True, help="明细账 and 记账凭证.")

# A terminal is no place for a hundred thousand lines; past this the rest goes to --out.
CONSOLE_LINES_MAX = 2_000
EXPORT_SUFFIXES = (".xlsx", ".csv")


def _cli():  # type: ignore[no-untyped-def]
    # Imported when a command runs: cli.py imports this module to wire the commands in.
    import cli

    return cli


def _refuse_suffix(out: Path | None, suffixes: tuple[str, ...], message: str) -> None:
    # Checked before the books are read, so a mistyped file name costs no query.
    if out is not None and out.suffix.lower() not in suffixes:
        raise DisburseError(f"{out}: {message}, not {out.suffix or 'no extension'}")


def _cell_text(cell: object) -> str:
    """A 明细账 cell for the terminal: int fen as yuan, a blank as nothing."""
    if cell is None:
        return ""
    return format_yuan(cell) if isinstance(cell, int) and not isinstance(cell, bool) else str(cell)


@ledger_reports_app.command("ledger")
def report_ledger(
    entity: str = typer.Option(..., "--entity", help="entity code"),
    period: str = typer.Option(..., "--period", help="YYYY-MM"),
    account: str = typer.Option(..., "--account", help="account code, e.g. 211 or 102.01"),
    household: Optional[str] = typer.Option(None, "--household", help="only this household's postings (户编号)"),
    fund: Optional[str] = typer.Option(None, "--fund", help="only this fund source's postings (资金来源)"),
    sub_accounts: bool = typer.Option(
        True, "--sub-accounts/--no-sub-accounts", help="include the account's sub-accounts (211.01 under 211)"
    ),
    out: Optional[Path] = typer.Option(None, "--out", help="also write it to FILE.xlsx or FILE.csv"),
) -> None:
    """明细账: an account's postings in a period with the running balance, 本月合计 and 本年累计."""
    from reports.ledger_detail import COLUMNS_ZH, MONEY_COLUMNS, account_detail, detail_rows, write_account_detail

    _refuse_suffix(out, EXPORT_SUFFIXES, "明细账 exports are written as .xlsx or .csv")
    cli = _cli()
    with cli.books() as session:
        detail = account_detail(
            session, entity, period, account, household_id=household, fund_source=fund,
            include_sub_accounts=sub_accounts,
        )
    rows = detail_rows(detail)
    table = Table(title=escape(detail.title))
    for index, header in enumerate(COLUMNS_ZH):
        table.add_column(header, justify="right" if index in MONEY_COLUMNS else "left")
    # The opening line, then as many posting lines as a terminal can take, then the two totals.
    body, totals = rows[:-2], rows[-2:]
    hidden_count = max(len(body) - 1 - CONSOLE_LINES_MAX, 0)
    for row in [*body[: 1 + CONSOLE_LINES_MAX], *totals]:
        table.add_row(*(escape(_cell_text(cell)) for cell in row))
    cli.console.print(table)
    if hidden_count:
        cli.console.print(f"{hidden_count:,} more line(s) not shown; --out FILE.xlsx writes them all")
    if out is not None:
        write_account_detail(detail, out)
        cli.console.print(f"written to {escape(str(out))}")


@ledger_reports_app.command("vouchers")
def report_vouchers(
    entity: str = typer.Option(..., "--entity", help="entity code"),
    out: Path = typer.Option(..., "--out", help="the HTML file to write (FILE.html)"),
    period: Optional[str] = typer.Option(None, "--period", help="YYYY-MM (not needed with --entry)"),
    voucher: Optional[str] = typer.Option(None, "--voucher", help="only this voucher of the period, e.g. 记-0003"),
    entry: Optional[int] = typer.Option(None, "--entry", help="only this journal entry (its id)"),
) -> None:
    """记账凭证: printable HTML, one voucher per page, with the total in 大写金额."""
    from reports.vouchers import HTML_SUFFIXES, vouchers_of, write_vouchers_html

    _refuse_suffix(out, HTML_SUFFIXES, "vouchers are written as .html")
    cli = _cli()
    with cli.books() as session:
        vouchers = vouchers_of(session, entity, period, voucher=voucher, entry_id=entry)
    title = f"记账凭证 {entity} {period or vouchers[0].period}"
    write_vouchers_html(vouchers, out, title=title)
    cli.console.print(f"{len(vouchers):,} voucher(s) of {escape(entity)} written to {escape(str(out))}")


__all__ = ("ledger_reports_app",)
