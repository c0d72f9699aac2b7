"""`disburse report ...`: 科目余额表 (trial-balance), 明细账 (ledger), 记账凭证 (vouchers), 明白卡
(household) and fund-trace. Only `household --unmasked` takes --user: it shows personal numbers
and is recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from disburse.cli.common import books, console, yuan
from disburse.foundation.errors import DisburseError
from disburse.foundation.money import format_yuan

report_app = typer.Typer(no_args_is_help=True, help="Reports.")

# A terminal is no place for a hundred thousand lines; past this the rest goes to --out.
CONSOLE_LINES_MAX = 2_000
EXPORT_SUFFIXES = (".xlsx", ".csv")


def _refuse_suffix(out: Path | None, suffixes: tuple[str, ...], message: str) -> None:
    # Checked before the books are read, so a mistyped file name costs no query.
    if out is not None and out.suffix.lower() not in suffixes:
        raise DisburseError(f"{out}: {message}, not {out.suffix or 'no extension'}")


def _cell_text(cell: object) -> str:
    """A 明细账 cell for the terminal: int fen as yuan, a blank as nothing."""
    if cell is None:
        return ""
    return format_yuan(cell) if isinstance(cell, int) and not isinstance(cell, bool) else str(cell)


@report_app.command("ledger")
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
    from disburse.reports.ledger_detail import (
        COLUMNS_ZH,
        MONEY_COLUMNS,
        account_detail,
        detail_rows,
        write_account_detail,
    )

    _refuse_suffix(out, EXPORT_SUFFIXES, "明细账 exports are written as .xlsx or .csv")
    with books() as session:
        detail = account_detail(
            session,
            entity,
            period,
            account,
            household_id=household,
            fund_source=fund,
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
    console.print(table)
    if hidden_count:
        console.print(f"{hidden_count:,} more line(s) not shown; --out FILE.xlsx writes them all")
    if out is not None:
        write_account_detail(detail, out)
        console.print(f"written to {escape(str(out))}")


@report_app.command("vouchers")
def report_vouchers(
    entity: str = typer.Option(..., "--entity", help="entity code"),
    out: Path = typer.Option(..., "--out", help="the HTML file to write (FILE.html)"),
    period: Optional[str] = typer.Option(None, "--period", help="YYYY-MM (not needed with --entry)"),
    voucher: Optional[str] = typer.Option(None, "--voucher", help="only this voucher of the period, e.g. 记-0003"),
    entry: Optional[int] = typer.Option(None, "--entry", help="only this journal entry (its id)"),
) -> None:
    """记账凭证: printable HTML, one voucher per page, with the total in 大写金额."""
    from disburse.reports.vouchers import HTML_SUFFIXES, vouchers_of, write_vouchers_html

    _refuse_suffix(out, HTML_SUFFIXES, "vouchers are written as .html")
    with books() as session:
        vouchers = vouchers_of(session, entity, period, voucher=voucher, entry_id=entry)
    title = f"记账凭证 {entity} {period or vouchers[0].period}"
    write_vouchers_html(vouchers, out, title=title)
    console.print(f"{len(vouchers):,} voucher(s) of {escape(entity)} written to {escape(str(out))}")


# -------------------------------------------------------------------------------------- report


@report_app.command("trial-balance")
def report_trial_balance(
    entity: str = typer.Option(..., "--entity", help="entity code"),
    period: str = typer.Option(..., "--period", help="YYYY-MM"),
    out: Optional[Path] = typer.Option(None, "--out", help="also write it to FILE.xlsx or FILE.csv"),
) -> None:
    """科目余额表: opening, period and closing balances per account, with totals that balance."""
    from disburse.reports.trial_balance import COLUMNS_ZH, trial_balance, write_trial_balance

    with books() as session:
        result = trial_balance(session, entity, period)
    table = Table(*COLUMNS_ZH, title=f"科目余额表 {entity} {period}")
    for line in result.lines:
        table.add_row(line.account_code, ("  " * line.level) + line.account_name, *(yuan(v) for v in line.sides()))
    table.add_row("合计", "", *(yuan(v) for v in result.totals))
    console.print(table)
    if out is not None:
        write_trial_balance(result, out)
        console.print(f"written to {out}")


@report_app.command("household")
def report_household(
    household: str = typer.Argument(..., help="户编号"),
    year: Optional[int] = typer.Option(None, "--year", help="only this year's benefits"),
    out: Optional[Path] = typer.Option(None, "--out", help="write it to FILE.xlsx, .csv or .html (a printable card)"),
    unmasked: bool = typer.Option(
        False, "--unmasked", help="show full resident IDs and card numbers (recorded in the audit log)"
    ),
    user: Optional[str] = typer.Option(
        None, "--user", envvar="DISBURSE_USER", help="who asks (recorded when --unmasked)"
    ),
) -> None:
    """明白卡: every benefit due, paid, failed and pending for a household, tied to the ledger."""
    from disburse.reports.household import (
        STATE_NAMES_ZH,
        household_statement,
        statement_rows,
        write_household_statement,
    )

    if unmasked and not user:
        raise DisburseError("--unmasked shows personal numbers; say who you are with --user (it is recorded)")
    with books() as session:
        statement = household_statement(session, household, year)
    console.print(
        f"{statement.household_id} {statement.head_name} · {statement.village} · {statement.household_type} · {statement.poverty_status}"
    )
    table = Table(
        "所属期", "项目", "资金来源", "对象", "状态", "金额(元)", "收款账号", "支付流水号", title="惠民资金明白卡"
    )
    for row in statement_rows(statement, unmasked):
        table.add_row(*(escape(str(cell)) for cell in row[:5]), yuan(row[5]), *(escape(str(cell)) for cell in row[6:8]))
    console.print(table)
    for state, amount in statement.totals_fen.items():
        console.print(f"{STATE_NAMES_ZH.get(state, state)}: {yuan(amount)}")
    tie = (
        "ties to the ledger"
        if statement.ties_to_ledger
        else f"DOES NOT tie: ledger says {yuan(statement.ledger_outstanding_fen)}"
    )
    console.print(f"outstanding {yuan(statement.statement_outstanding_fen)}; {tie}")
    if out is not None:
        for path in write_household_statement(statement, out, unmasked):
            console.print(f"written to {path}")


@report_app.command("fund-trace")
def report_fund_trace(
    fund: str = typer.Argument(..., help="a fund source: a station id, a cooperative's or a programme's fund"),
    out: Optional[Path] = typer.Option(None, "--out", help="write the trace (.xlsx or .csv)"),
) -> None:
    """From one fund source to every account and household it reached, with what is unpaid or unallocated."""
    from disburse.reports.fund_trace import fund_trace, write_fund_trace

    with books() as session:
        trace = fund_trace(session, fund)
    table = Table("科目", "名称", "借方", "贷方", title=f"资金追踪 {fund}")
    for row in trace.by_account.to_dict("records"):
        table.add_row(row["account_code"], row["name"], yuan(int(row["debit_fen"])), yuan(int(row["credit_fen"])))
    console.print(table)
    if trace.settlements_fen:
        console.print(f"settlements {yuan(trace.settlements_fen)}, not yet allocated {yuan(trace.unallocated_fen)}")
    households = trace.households
    if len(households):
        console.print(
            f"{households['household_id'].nunique():,} households reached: paid {yuan(int(households['paid_fen'].sum()))}, "
            f"in transit {yuan(int(households['in_transit_fen'].sum()))}, in batch {yuan(int(households['in_batch_fen'].sum()))}, "
            f"due {yuan(int(households['due_fen'].sum()))}"
        )
    for what, left, right in trace.ties:
        console.print(f"{'ok' if left == right else 'MISMATCH'}: {what}: {yuan(left)} / {yuan(right)}")
    if out is not None:
        for path in write_fund_trace(trace, out):
            console.print(f"written to {path}")
    if not trace.all_tie:
        raise typer.Exit(1)
