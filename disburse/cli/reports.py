"""`disburse report ...`: 科目余额表 (trial-balance), 明细账 (ledger), 总账 (general-ledger),
辅助核算余额表 (auxiliary), 银行存款余额调节表 (reconciliation), 记账凭证 (vouchers), 明白卡 (household)
and fund-trace. Each book is written with --out as a printable PDF or an xlsx set up for
printing; --user names the 制表人 printed at the foot of every page (and, for
`household --unmasked`, who saw the personal numbers, which is recorded).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from disburse.cli.common import books, console, yuan
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr, tr_noop
from disburse.foundation.money import format_yuan

report_app = typer.Typer(no_args_is_help=True, help=tr_noop("Reports."))

# A terminal is no place for a hundred thousand lines; past this the rest goes to --out.
CONSOLE_LINES_MAX = 2_000
BOOK_SUFFIXES = (".pdf", ".xlsx", ".csv")
BOOK_OUT_HELP = tr_noop("write the book to FILE.pdf (printable, A4) or FILE.xlsx (set up for printing), or FILE.csv")
PRINTER_HELP = tr_noop("制表人 printed on every page; or set DISBURSE_USER")
ENTITY_HELP = tr_noop("entity code")
PERIOD_HELP = tr_noop("YYYY-MM")
PDF_OR_XLSX_HELP = tr_noop("FILE.pdf or FILE.xlsx")


def _printer_option():  # type: ignore[no-untyped-def]
    return typer.Option(None, "--user", envvar="DISBURSE_USER", help=PRINTER_HELP)


def _written(path: Path, pages: int | None = None) -> None:
    console.print(tr("written to {path}", path=escape(str(path))) + _pages(pages))


def _pages(pages: int | None) -> str:
    """The page count after a file written, or nothing for a format without pages."""
    return tr(" ({pages:,} page(s))", pages=pages) if pages else ""


def _refuse_suffix(out: Path | None, suffixes: tuple[str, ...], message: str) -> None:
    # Checked before the books are read, so a mistyped file name costs no query.
    if out is not None and out.suffix.lower() not in suffixes:
        raise DisburseError(
            tr("{file}: {message}, not {suffix}", file=out, message=message, suffix=out.suffix or tr("no extension"))
        )


def _cell_text(cell: object) -> str:
    """A 明细账 cell for the terminal: int fen as yuan, a blank as nothing."""
    if cell is None:
        return ""
    return format_yuan(cell) if isinstance(cell, int) and not isinstance(cell, bool) else str(cell)


@report_app.command(
    "ledger",
    short_help=tr_noop("明细账 (三栏式): an account's vouchers with the running balance."),
    help=tr_noop(
        "明细账 (三栏式): an account's vouchers in a period with the running balance, 期初余额, 本月合计 and "
        "本年累计; a voucher's postings to many households are one line (the 辅助核算 report shows each)."
    ),
)
def report_ledger(
    entity: str = typer.Option(..., "--entity", help=ENTITY_HELP),
    period: str = typer.Option(..., "--period", help=PERIOD_HELP),
    account: str = typer.Option(..., "--account", help=tr_noop("account code, e.g. 211 or 102.01")),
    household: Optional[str] = typer.Option(
        None, "--household", help=tr_noop("only this household's postings (户编号)")
    ),
    fund: Optional[str] = typer.Option(None, "--fund", help=tr_noop("only this fund source's postings (资金来源)")),
    sub_accounts: bool = typer.Option(
        True, "--sub-accounts/--no-sub-accounts", help=tr_noop("include the account's sub-accounts (211.01 under 211)")
    ),
    postings: bool = typer.Option(
        False, "--postings", help=tr_noop("one line per posting (per household) instead of one per voucher and account")
    ),
    out: Optional[Path] = typer.Option(None, "--out", help=BOOK_OUT_HELP),
    user: Optional[str] = _printer_option(),
) -> None:
    """明细账 (三栏式): an account's vouchers in a period with the running balance, 期初余额, 本月合计 and
    本年累计; a voucher's postings to many households are one line (the 辅助核算 report shows each)."""
    from disburse.reports.ledger_detail import (
        COLUMNS_ZH,
        MONEY_COLUMNS,
        account_detail,
        detail_rows,
        write_account_detail,
    )

    _refuse_suffix(out, BOOK_SUFFIXES, tr("明细账 is written as .pdf, .xlsx or .csv"))
    with books() as session:
        detail = account_detail(
            session,
            entity,
            period,
            account,
            household_id=household,
            fund_source=fund,
            include_sub_accounts=sub_accounts,
            by_posting=postings,
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
        console.print(tr("{count:,} more line(s) not shown; --out FILE.xlsx writes them all", count=hidden_count))
    if out is not None:
        written = write_account_detail(detail, out, prepared_by=user)
        _written(written.path, written.pages)


@report_app.command(
    "vouchers",
    short_help=tr_noop("记账凭证 printed on A4, with a 分户明细表 for a voucher to many households."),
    help=tr_noop(
        "记账凭证: A4 pages with 凭证字号, 日期, 附单据 and 第 i/n 页 on each, 合计 in 大写金额 and the "
        "signature line; a voucher to many households prints one line per village and its 分户明细表."
    ),
)
def report_vouchers(
    entity: str = typer.Option(..., "--entity", help=ENTITY_HELP),
    out: Path = typer.Option(
        ..., "--out", help=tr_noop("the file to write: FILE.pdf (printable, A4), FILE.xlsx or FILE.html")
    ),
    period: Optional[str] = typer.Option(None, "--period", help=tr_noop("YYYY-MM (not needed with --entry)")),
    voucher: Optional[str] = typer.Option(
        None, "--voucher", help=tr_noop("only this voucher of the period, e.g. 记-0003")
    ),
    entry: Optional[int] = typer.Option(None, "--entry", help=tr_noop("only this journal entry (its id)")),
    attachments: bool = typer.Option(
        True,
        "--attachments/--no-attachments",
        help=tr_noop("print the 分户明细表 after a voucher summarised by village (its household postings)"),
    ),
    user: Optional[str] = _printer_option(),
) -> None:
    """记账凭证: A4 pages with 凭证字号, 日期, 附单据 and 第 i/n 页 on each, 合计 in 大写金额 and the
    signature line; a voucher to many households prints one line per village and its 分户明细表."""
    from disburse.reports.printing import period_text_zh
    from disburse.reports.voucher_print import VOUCHER_SUFFIXES, VoucherPrint, print_vouchers
    from disburse.reports.vouchers import vouchers_of

    _refuse_suffix(out, VOUCHER_SUFFIXES, tr("vouchers are written as .pdf, .xlsx or .html"))
    with books() as session:
        vouchers = vouchers_of(session, entity, period, voucher=voucher, entry_id=entry)
        shown_period = period or vouchers[0].period
        setting = VoucherPrint(
            f"{vouchers[0].entity_name}（{entity}）", period_text_zh(shown_period), user, attachments=attachments
        )
        written, printed = print_vouchers(session, vouchers, out, setting)
    summarised = sum(1 for one in printed if one.attachment)
    console.print(
        tr(
            "{count:,} voucher(s) of {entity} {period} written to {path}",
            count=len(vouchers),
            entity=escape(entity),
            period=shown_period,
            path=escape(str(out)),
        )
        + _pages(written.pages)
        + (tr("; {count:,} printed by village with a 分户明细表", count=summarised) if summarised else "")
    )


# -------------------------------------------------------------------------------------- report


@report_app.command(
    "trial-balance",
    short_help=tr_noop("科目余额表: balances and movements per account, each 借/贷."),
    help=tr_noop(
        "科目余额表: 期初余额, 本期发生额, 本年累计发生额 and 期末余额 per account, each 借/贷, with totals that "
        "balance."
    ),
)
def report_trial_balance(
    entity: str = typer.Option(..., "--entity", help=ENTITY_HELP),
    period: str = typer.Option(..., "--period", help=PERIOD_HELP),
    year_start: bool = typer.Option(
        False, "--year-start", help=tr_noop("also show the 年初余额 (balance before January)")
    ),
    hide_zero: bool = typer.Option(
        False, "--hide-zero", help=tr_noop("leave out accounts with no balance and no movement")
    ),
    out: Optional[Path] = typer.Option(None, "--out", help=BOOK_OUT_HELP),
    user: Optional[str] = _printer_option(),
) -> None:
    """科目余额表: 期初余额, 本期发生额, 本年累计发生额 and 期末余额 per account, each 借/贷, with totals that
    balance."""
    from disburse.reports.trial_balance import COLUMNS_ZH, trial_balance, write_trial_balance

    _refuse_suffix(out, BOOK_SUFFIXES, tr("科目余额表 is written as .pdf, .xlsx or .csv"))
    with books() as session:
        result = trial_balance(session, entity, period)
    table = Table(*COLUMNS_ZH, title=f"科目余额表 {entity} {period}")
    for line in result.lines:
        if hide_zero and line.is_zero:
            continue
        table.add_row(line.account_code, ("  " * line.level) + line.account_name, *(yuan(v) for v in line.sides()))
    table.add_row("合计", "", *(yuan(v) for v in result.totals))
    console.print(table)
    if out is not None:
        written = write_trial_balance(result, out, year_start=year_start, hide_zero=hide_zero, prepared_by=user)
        _written(written.path, written.pages)


@report_app.command(
    "general-ledger",
    help=tr_noop("总账: per account, 年初余额 and each month's 本月合计 and 本年累计 with 方向 and 余额."),
)
def report_general_ledger(
    entity: str = typer.Option(..., "--entity", help=ENTITY_HELP),
    period: str = typer.Option(..., "--period", help=tr_noop("YYYY-MM: January to this month")),
    account: Optional[str] = typer.Option(None, "--account", help=tr_noop("only this account (its top-level account)")),
    out: Path = typer.Option(..., "--out", help=PDF_OR_XLSX_HELP),
    user: Optional[str] = _printer_option(),
) -> None:
    """总账: per account, 年初余额 and each month's 本月合计 and 本年累计 with 方向 and 余额."""
    from disburse.reports.general_ledger import general_ledger, write_general_ledger

    _refuse_suffix(out, BOOK_SUFFIXES[:2], tr("总账 is written as .pdf or .xlsx"))
    with books() as session:
        ledger = general_ledger(session, entity, period, account)
    written = write_general_ledger(ledger, out, prepared_by=user)
    console.print(
        tr(
            "总账 {entity} {start}..{period}: {count:,} account(s)",
            entity=escape(entity),
            start=f"{period[:4]}-01",
            period=period,
            count=len(ledger.accounts),
        )
    )
    _written(written.path, written.pages)


@report_app.command(
    "auxiliary", help=tr_noop("辅助核算余额表: an account's balances and movements per household or per fund source.")
)
def report_auxiliary(
    entity: str = typer.Option(..., "--entity", help=ENTITY_HELP),
    period: str = typer.Option(..., "--period", help=PERIOD_HELP),
    account: str = typer.Option(..., "--account", help=tr_noop("account code, e.g. 211 (with its sub-accounts)")),
    by: str = typer.Option("household", "--by", help=tr_noop("household (户编号/户主) or fund (资金来源/指标文号)")),
    hide_zero: bool = typer.Option(
        False, "--hide-zero", help=tr_noop("leave out lines with no balance and no movement")
    ),
    out: Path = typer.Option(..., "--out", help=PDF_OR_XLSX_HELP),
    user: Optional[str] = _printer_option(),
) -> None:
    """辅助核算余额表: an account's balances and movements per household or per fund source."""
    from disburse.reports.auxiliary import auxiliary_balance, write_auxiliary_balance

    _refuse_suffix(out, BOOK_SUFFIXES[:2], tr("辅助核算余额表 is written as .pdf or .xlsx"))
    with books() as session:
        balance = auxiliary_balance(session, entity, period, account, by)
    written = write_auxiliary_balance(balance, out, hide_zero=hide_zero, prepared_by=user)
    totals = balance.totals()
    console.print(
        tr(
            "辅助核算余额表 {entity} {period} {account} by {by}: {count:,} line(s); "
            "closing debit {debit}, closing credit {credit}",
            entity=escape(entity),
            period=period,
            account=escape(account),
            by=by,
            count=len(balance.lines),
            debit=yuan(totals[6]),
            credit=yuan(totals[7]),
        )
    )
    _written(written.path, written.pages)


@report_app.command(
    "reconciliation", help=tr_noop("银行存款余额调节表 for the period's end, with the list of 未达账项 under it.")
)
def report_reconciliation(
    account: str = typer.Option(..., "--account", help=tr_noop("bank account number or its 102.xx code")),
    period: str = typer.Option(..., "--period", help=PERIOD_HELP),
    out: Path = typer.Option(..., "--out", help=PDF_OR_XLSX_HELP),
    user: Optional[str] = _printer_option(),
) -> None:
    """银行存款余额调节表 for the period's end, with the list of 未达账项 under it."""
    from disburse.reports.bank_reconciliation import reconciliation_statement, write_reconciliation

    _refuse_suffix(out, BOOK_SUFFIXES[:2], tr("银行存款余额调节表 is written as .pdf or .xlsx"))
    with books() as session:
        printed = reconciliation_statement(session, account, period)
    written = write_reconciliation(printed, out, prepared_by=user)
    balance = printed.balance
    verdict = (
        tr("adjusted balances agree")
        if balance.agrees
        else tr("adjusted balances differ by {amount}", amount=yuan(balance.difference_fen))
    )
    console.print(
        tr(
            "调节表 {account} {period}: book {book}, bank {bank}; {verdict}",
            account=escape(printed.account.describe()),
            period=period,
            book=yuan(balance.adjusted_book_balance_fen),
            bank=yuan(balance.adjusted_bank_balance_fen),
            verdict=verdict,
        )
    )
    _written(written.path, written.pages)


@report_app.command(
    "household",
    short_help=tr_noop("明白卡: a household's benefits, each yuan once, tied to the ledger."),
    help=tr_noop(
        "明白卡: every benefit due, in a batch, in transit, paid or held for a card fix, each yuan once, "
        "with the failed payments listed apart, tied to the ledger."
    ),
)
def report_household(
    household: str = typer.Argument(..., help=tr_noop("户编号")),
    year: Optional[int] = typer.Option(None, "--year", help=tr_noop("only this year's benefits")),
    out: Optional[Path] = typer.Option(
        None,
        "--out",
        help=tr_noop("write it to FILE.pdf (a card on one A4 page), FILE.xlsx (the same, for printing) or .csv"),
    ),
    unmasked: bool = typer.Option(
        False, "--unmasked", help=tr_noop("show full resident IDs and card numbers (recorded in the audit log)")
    ),
    hotline: Optional[str] = typer.Option(
        None,
        "--hotline",
        envvar="DISBURSE_HOTLINE",
        help=tr_noop("监督电话 printed on the card; or set DISBURSE_HOTLINE"),
    ),
    user: Optional[str] = typer.Option(
        None,
        "--user",
        envvar="DISBURSE_USER",
        help=tr_noop("经办人 printed on the card (and who asks, recorded when --unmasked)"),
    ),
) -> None:
    """明白卡: every benefit due, in a batch, in transit, paid or held for a card fix, each yuan once,
    with the failed payments listed apart, tied to the ledger."""
    from disburse.reports.household import (
        STATE_NAMES_ZH,
        CardFooter,
        household_statement,
        statement_rows,
        write_household_statement,
    )

    if unmasked and not user:
        raise DisburseError(tr("--unmasked shows personal numbers; say who you are with --user (it is recorded)"))
    with books() as session:
        statement = household_statement(session, household, year)
    console.print(
        f"{statement.household_id} {statement.head_name} · {statement.village} · {statement.household_type} · "
        f"{statement.poverty_status}"
    )
    table = Table(
        "所属期", "项目", "资金来源", "对象", "状态", "金额(元)", "收款账号", "支付流水号", title="惠民资金明白卡"
    )
    for row in statement_rows(statement, unmasked):
        table.add_row(*(escape(str(cell)) for cell in row[:5]), yuan(row[5]), *(escape(str(cell)) for cell in row[6:8]))
    console.print(table)
    for state, amount in statement.totals_fen.items():
        console.print(f"{STATE_NAMES_ZH.get(state, state)}: {yuan(amount)}")
    for failure in statement.failures:
        console.print(
            tr(
                "发放失败 {settled_on} {amount} {reason} ({reference}; "
                "the money is held again above, not counted twice)",
                settled_on=failure.settled_on or "",
                amount=yuan(failure.amount_fen),
                reason=escape(failure.reason or ""),
                reference=escape(failure.payment_reference or ""),
            )
        )
    tie = (
        tr("ties to the ledger")
        if statement.ties_to_ledger
        else tr("DOES NOT tie: ledger says {amount}", amount=yuan(statement.ledger_outstanding_fen))
    )
    console.print(tr("outstanding {amount}; {tie}", amount=yuan(statement.statement_outstanding_fen), tie=tie))
    if out is not None:
        _refuse_suffix(out, (".pdf", ".xlsx", ".csv", ".html"), tr("明白卡 is written as .pdf, .xlsx or .csv"))
        for path in write_household_statement(statement, out, unmasked, CardFooter(user, hotline)):
            console.print(tr("written to {path}", path=escape(str(path))))


@report_app.command(
    "fund-trace",
    short_help=tr_noop("From one fund source to every account and household it reached."),
    help=tr_noop("From one fund source to every account and household it reached, with what is unpaid or unallocated."),
)
def report_fund_trace(
    fund: str = typer.Argument(..., help=tr_noop("a fund source: a station id, a cooperative's or a programme's fund")),
    out: Optional[Path] = typer.Option(None, "--out", help=tr_noop("write the trace (.xlsx or .csv)")),
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
        console.print(
            tr(
                "settlements {amount}, not yet allocated {unallocated}",
                amount=yuan(trace.settlements_fen),
                unallocated=yuan(trace.unallocated_fen),
            )
        )
    households = trace.households
    if len(households):
        console.print(
            tr(
                "{count:,} households reached: paid {paid}, in transit {in_transit}, in batch {in_batch}, due {due}",
                count=households["household_id"].nunique(),
                paid=yuan(int(households["paid_fen"].sum())),
                in_transit=yuan(int(households["in_transit_fen"].sum())),
                in_batch=yuan(int(households["in_batch_fen"].sum())),
                due=yuan(int(households["due_fen"].sum())),
            )
        )
    for what, left, right in trace.ties:
        shown = {"what": what, "left": yuan(left), "right": yuan(right)}
        if left == right:
            console.print(tr("ok: {what}: {left} / {right}", **shown))
        else:
            console.print(tr("MISMATCH: {what}: {left} / {right}", **shown))
    if out is not None:
        for path in write_fund_trace(trace, out):
            console.print(tr("written to {path}", path=path))
    if not trace.all_tie:
        raise typer.Exit(1)


@report_app.command(
    "funds",
    short_help=tr_noop("资金指标执行表: per budget indicator, issued, drawn, frozen, paid, released, available."),
    help=tr_noop(
        "资金指标执行表: per budget indicator (指标文号) what was issued, returned, drawn by runs, frozen in batches, "
        "paid, released by bank failures and what is available, with its ties to the ledger."
    ),
)
def report_funds(
    out: Optional[Path] = typer.Option(None, "--out", help=tr_noop("write the table (.xlsx or .csv)")),
) -> None:
    """资金指标执行表, tied to the ledger."""
    from disburse.reports.funds import HEADERS, funds_report, report_row, write_funds_report

    with books() as session:
        report = funds_report(session)
    if not report.figures:
        console.print(tr("no budget indicator is imported; `disburse funds import FILE` imports them"))
        return
    table = Table(*HEADERS[:1], *HEADERS[5:], title="资金指标执行表")
    for row in report.figures:
        cells = report_row(row)
        table.add_row(escape(str(cells[0])), str(cells[5]), *(yuan(int(value)) for value in cells[6:]))  # type: ignore[call-overload]
    console.print(table)
    for what, left, right in report.ties:
        mark = tr("ties") if left == right else tr("does not tie")
        console.print(f"{escape(what)}: {yuan(left)} / {yuan(right)} {mark}", highlight=False)
    if out is not None:
        for path in write_funds_report(report, out):
            _written(path)
    if not report.all_tie:
        raise DisburseError(tr("the 资金指标执行表 does not tie to the ledger: see the lines above"))
