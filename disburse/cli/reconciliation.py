"""`disburse import bank-statement` and `disburse reconcile ...`: parse arguments, call one
service function inside one transaction (books), render the result. cli.py wires them in:

    from reconciliation.commands import import_bank_statement_command, reconcile_app
    import_app.command("bank-statement")(import_bank_statement_command)
    app.add_typer(reconcile_app, name="reconcile")

``disburse reconcile --account A --period P`` runs the reconciliation (the group's callback);
``confirm``, ``reject``, ``post-unmatched`` and ``report`` are its subcommands (``run`` is the
same as the bare group, for scripts that prefer a verb).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from disburse.cli.common import USER_HELP, WARNING_LABEL, books, console, error_console
from disburse.foundation.i18n import join_list, tr, tr_noop
from disburse.foundation.masking import mask_identifier
from disburse.foundation.money import format_yuan

ACCOUNT_HELP = tr_noop("the bank account: its account number or its 102 sub-account code")
IMPORT_BANK_STATEMENT_HELP = tr_noop(
    "Import a bank statement into a registered bank account; lines already imported are skipped."
)


def import_bank_statement_command(
    file: Path = typer.Argument(..., help=tr_noop("the bank's statement export (.csv, .xlsx or .xls)")),
    account: str = typer.Option(..., "--account", help=ACCOUNT_HELP),
    bank: Optional[str] = typer.Option(
        None, "--bank", help=tr_noop("bank profile (e.g. ccb, icbc_debit); default: detected from the header")
    ),
    profiles: Optional[Path] = typer.Option(
        None, "--profiles", help=tr_noop("a directory of extra bank profiles (YAML)")
    ),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Import a bank statement into a registered bank account; lines already imported are skipped."""
    from disburse.reconciliation.statements import import_statement

    with books(sign="change", command="import bank-statement", user=user) as session:
        outcome = import_statement(session, file, account, user, profile_name=bank, profiles_directory=profiles)
    for warning in outcome.warnings:
        error_console.print(f"[yellow]{tr(WARNING_LABEL)}[/yellow] {escape(warning.describe())}")
    console.print(escape(outcome.message), soft_wrap=True)


reconcile_app = typer.Typer(
    invoke_without_command=True,
    no_args_is_help=False,
    help=tr_noop("Reconcile a bank account's books with its statements: run, confirm, reject, post-unmatched, report."),
)


def _print_run(outcome, shown: int) -> None:  # type: ignore[no-untyped-def]
    counts = outcome.counts
    title = tr(
        "reconcile {account} {period}", account=outcome.inputs.account.describe(), period=outcome.inputs.dates.period
    )
    table = Table("", tr("count"), title=title)
    for label, value in (
        (tr_noop("statement lines"), counts.statement_lines),
        (tr_noop("book items"), counts.book_items),
        (tr_noop("matched"), counts.matched),
        (tr_noop("candidates"), counts.candidates),
        (tr_noop("confirmed"), counts.confirmed),
        (tr_noop("bank-only"), counts.bank_only),
        (tr_noop("book-only"), counts.book_only),
        (tr_noop("amount mismatches"), counts.mismatches),
        (tr_noop("duplicates"), counts.duplicates),
    ):
        table.add_row(tr(label), f"{value:,}")
    console.print(table)
    console.print(escape(outcome.message), soft_wrap=True)
    _print_balance(outcome)
    _print_candidates(outcome, shown)
    if len(outcome.result.confirmations_not_applied):
        not_applied = join_list(outcome.result.confirmations_not_applied)
        error_console.print(
            f"[yellow]{tr(WARNING_LABEL)}[/yellow] "
            + tr("confirmed matches no longer applicable: {matches}", matches=not_applied)
        )


def _print_balance(outcome) -> None:  # type: ignore[no-untyped-def]
    balance = outcome.balance
    if balance is None:
        problem = escape(outcome.balance_problem or "")
        error_console.print(
            f"[yellow]{tr(WARNING_LABEL)}[/yellow] " + tr("no 银行存款余额调节表: {problem}", problem=problem)
        )
        return
    if balance.agrees:
        console.print(
            tr(
                "调节表 agrees: adjusted book {book} = adjusted bank {bank}",
                book=format_yuan(balance.adjusted_book_balance_fen),
                bank=format_yuan(balance.adjusted_bank_balance_fen),
            )
        )
    else:
        console.print(
            tr(
                "调节表 differs by {difference}: adjusted book {book}, adjusted bank {bank}; of the difference "
                "{explained} is settled matches joining different amounts, {pending} candidates joining different "
                "amounts and {unexplained} no match explains (see `reconcile report`)",
                difference=format_yuan(balance.difference_fen),
                book=format_yuan(balance.adjusted_book_balance_fen),
                bank=format_yuan(balance.adjusted_bank_balance_fen),
                explained=format_yuan(balance.explained_fen),
                pending=format_yuan(balance.pending_difference_fen),
                unexplained=format_yuan(balance.unexplained_fen),
            )
        )
    if balance.pending_match_count:
        console.print(
            tr(
                "待确认: {count:,} candidate match(es) are counted on neither side of the 调节表 (statement "
                "{statement}, books {books}); confirming one changes nothing, rejecting one makes its line and "
                "item outstanding",
                count=balance.pending_match_count,
                statement=format_yuan(balance.pending_statement_fen),
                books=format_yuan(balance.pending_book_fen),
            )
        )


def _side_text(items) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(
        f"#{item.item_id} {item.day} {format_yuan(item.amount_fen)} {escape(item.text)}".rstrip() for item in items
    )


def _print_candidates(outcome, shown: int) -> None:  # type: ignore[no-untyped-def]
    from disburse.reconciliation.pending import pending_matches

    listed, total = pending_matches(outcome.result, outcome.inputs.statement, outcome.inputs.book, shown)
    if not total:
        return
    table = Table(
        tr("match id"),
        tr("rule"),
        tr("score"),
        tr("statement line(s)"),
        tr("book item(s)"),
        title=tr("candidates: `disburse reconcile confirm ID` or `disburse reconcile reject ID`"),
    )
    for match in listed:
        table.add_row(match.match_id, match.rule, str(match.score), _side_text(match.lines), _side_text(match.items))
    if listed:
        console.print(table)
    if total > len(listed):
        console.print(
            tr(
                "{count:,} more candidate(s) not listed here (--show N lists more); "
                "`disburse reconcile report` lists every one in its 待确认 and 匹配 sheets",
                count=total - len(listed),
            )
        )


def _run(account: str, period: str, user: str, window: int, shown: int) -> None:
    from disburse.reconciliation.model import MatchSettings
    from disburse.reconciliation.pending import PENDING_SHOWN_MAX
    from disburse.reconciliation.runs import run_reconciliation

    try:
        settings = MatchSettings(date_window_days=window)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--window") from None
    if not 0 <= shown <= PENDING_SHOWN_MAX:
        raise typer.BadParameter(
            tr("list 0 to {most:,} candidates, not {shown:,}", most=PENDING_SHOWN_MAX, shown=shown), param_hint="--show"
        )
    with books(sign="change", command="reconcile run", user=user) as session:
        outcome = run_reconciliation(session, account, period, user, settings)
    _print_run(outcome, shown)


SHOW_HELP = tr_noop("list at most this many candidate matches with their ids (0: none); the report lists all")
WINDOW_HELP = tr_noop("days a bank line and a book item may lie apart")


@reconcile_app.callback()
def reconcile_command(
    context: typer.Context,
    account: Optional[str] = typer.Option(None, "--account", help=ACCOUNT_HELP),
    period: Optional[str] = typer.Option(None, "--period", help=tr_noop("YYYY-MM")),
    window: int = typer.Option(3, "--window", help=WINDOW_HELP),
    show: int = typer.Option(20, "--show", help=SHOW_HELP),
    user: Optional[str] = typer.Option(None, "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Match a bank account's statement lines to its books for one period and store the matches."""
    if context.invoked_subcommand is not None:
        return
    missing = [name for name, value in (("--account", account), ("--period", period), ("--user", user)) if not value]
    if missing:
        raise typer.BadParameter(
            tr(
                "reconcile needs {missing} (or a subcommand: confirm, reject, post-unmatched, report)",
                missing=join_list(missing),
            )
        )
    _run(account, period, user, window, show)  # type: ignore[arg-type]


@reconcile_app.command("run", help=tr_noop("The same as `disburse reconcile --account A --period P`."))
def reconcile_run(
    account: str = typer.Option(..., "--account", help=ACCOUNT_HELP),
    period: str = typer.Option(..., "--period", help=tr_noop("YYYY-MM")),
    window: int = typer.Option(3, "--window", help=WINDOW_HELP),
    show: int = typer.Option(20, "--show", help=SHOW_HELP),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """The same as `disburse reconcile --account A --period P`."""
    _run(account, period, user, window, show)


@reconcile_app.command("confirm", help=tr_noop("Confirm a candidate: it stays matched in every later run."))
def reconcile_confirm(
    match: str = typer.Argument(..., help=tr_noop("the match id (M followed by 16 hex digits)")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Confirm a candidate: it stays matched in every later run."""
    from disburse.reconciliation.runs import confirm_match

    with books(sign="change", command="reconcile confirm", user=user) as session:
        outcome = confirm_match(session, match, user)
    console.print(escape(outcome.message))


@reconcile_app.command(
    "reject", help=tr_noop("Reject a candidate (or a wrong automatic match): it is never proposed again.")
)
def reconcile_reject(
    match: str = typer.Argument(..., help=tr_noop("the match id (M followed by 16 hex digits)")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Reject a candidate (or a wrong automatic match): it is never proposed again."""
    from disburse.reconciliation.runs import reject_match

    with books(sign="change", command="reconcile reject", user=user) as session:
        outcome = reject_match(session, match, user)
    console.print(escape(outcome.message))


@reconcile_app.command(
    "post-unmatched", help=tr_noop("Post the period's bank-only lines by rules, each line once, in one post.")
)
def reconcile_post_unmatched(
    account: str = typer.Option(..., "--account", help=ACCOUNT_HELP),
    period: str = typer.Option(..., "--period", help=tr_noop("the open period to post into (YYYY-MM)")),
    rules: Path = typer.Option(
        ..., "--rules", help=tr_noop("YAML rules: fees to 513, interest to 504, known payers to 112")
    ),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Post the period's bank-only lines by rules, each line once, in one post."""
    from disburse.reconciliation.unmatched import post_unmatched

    with books(sign="post", command="reconcile post-unmatched", user=user) as session:
        outcome = post_unmatched(session, account, period, rules, user)
    console.print(escape(outcome.message), soft_wrap=True)
    if len(outcome.left_over):
        table = Table(
            tr("line"),
            tr("date"),
            tr("amount"),
            tr("summary"),
            tr("counterparty"),
            title=tr("bank-only lines no rule takes"),
        )
        for row in outcome.left_over.head(50).itertuples(index=False):
            table.add_row(
                str(row.line_id),
                str(row.booked_on)[:10],
                format_yuan(int(row.amount_fen)),
                escape(str(row.summary or "")),
                escape(str(row.counterparty_name or mask_identifier(row.counterparty_account) or "")),
            )
        console.print(table)


@reconcile_app.command(
    "report", help=tr_noop("Write the reconciliation report and the 银行存款余额调节表 for the period end.")
)
def reconcile_report(
    account: str = typer.Option(..., "--account", help=ACCOUNT_HELP),
    period: str = typer.Option(..., "--period", help=tr_noop("YYYY-MM")),
    out: Path = typer.Option(..., "--out", help=tr_noop("FILE.xlsx (or FILE.csv: one file per sheet)")),
) -> None:
    """Write the reconciliation report and the 银行存款余额调节表 for the period end."""
    from disburse.reconciliation.report import balance_rows, write_report

    with books() as session:
        report = write_report(session, account, period, out)
    table = Table(
        "企业账面", "金额", "银行对账单", "金额", title=f"银行存款余额调节表 {report.account.describe()} {period}"
    )
    for left, left_amount, right, right_amount in balance_rows(report.balance):
        table.add_row(
            left,
            format_yuan(left_amount) if isinstance(left_amount, int) else str(left_amount),
            right,
            format_yuan(right_amount) if isinstance(right_amount, int) else str(right_amount),
        )
    console.print(table)
    for path in report.files:
        console.print(tr("written to {path}", path=path))
