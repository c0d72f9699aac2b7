"""The `disburse` command line: parse arguments, call one service function, render the result.

Exit codes (one place maps them, in ``DisburseGroup.invoke``): 0 success, 1 the input or request
was refused (with a one-paragraph message, never a traceback), 2 a usage error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session
from typer.core import TyperGroup

from importers.errors import ImportRefused
from ledger_core.db import database_url, make_engine, transaction
from ledger_core.model import DisburseError
from ledger_core.money import format_yuan

# Piped output (files, tests, grep) gets a wide fixed width so no value is cut to "…".
PIPED_WIDTH = 200
console = Console() if sys.stdout.isatty() else Console(width=PIPED_WIDTH)
error_console = Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=PIPED_WIDTH)

USER_HELP = "who is acting (recorded with every change); or set DISBURSE_USER"


class DisburseGroup(TyperGroup):
    """Maps every refusal to a message and exit code 1, in one place, and records every
    state-changing command (one that takes --user) in the audit log, whatever its outcome."""

    def invoke(self, ctx: typer.Context):  # type: ignore[no-untyped-def]
        arguments = [*getattr(ctx, "_protected_args", []), *ctx.args]
        command_path, changes_state = self._command_path(ctx, arguments)
        started_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        outcome, exit_code, message = "ok", 0, ""
        try:
            return super().invoke(ctx)
        except DisburseError as error:
            outcome, exit_code, message = "refused", 1, str(error)
            error_console.print(f"[bold red]refused:[/bold red] {escape(str(error))}")
            raise typer.Exit(1) from None
        except ImportRefused as error:
            outcome, exit_code, message = "refused", 1, str(error)
            error_console.print(f"[bold red]refused, nothing was written:[/bold red] {escape(str(error))}")
            raise typer.Exit(1) from None
        except OperationalError as error:
            reason = str(error.orig).strip() if error.orig is not None else str(error)
            outcome, exit_code, message = "failed", 1, reason
            error_console.print(f"[bold red]database error:[/bold red] {escape(reason)}")
            raise typer.Exit(1) from None
        except FileNotFoundError as error:
            outcome, exit_code, message = "refused", 1, f"no such file: {error.filename}"
            error_console.print(f"[bold red]refused:[/bold red] no such file: {escape(str(error.filename))}")
            raise typer.Exit(1) from None
        except typer.Exit as exit_:
            outcome, exit_code = ("ok" if not exit_.exit_code else "refused"), exit_.exit_code or 0
            raise
        except BaseException as error:  # a usage error or a defect: still recorded, then re-raised
            exit_code = getattr(error, "exit_code", 1) or 1
            outcome, message = ("usage" if exit_code == 2 else "failed"), f"{type(error).__name__}: {error}"
            raise
        finally:
            if changes_state:
                _record_audit(command_path, arguments, started_at, outcome, exit_code, message)

    def _command_path(self, ctx: typer.Context, arguments: list[str]) -> tuple[str, bool]:
        """The command's words (``journal post``) and whether it changes state (takes --user)."""
        words: list[str] = []
        group = self
        command = None
        for argument in arguments:
            if argument.startswith("-"):
                break
            found = group.get_command(ctx, argument) if hasattr(group, "get_command") else None
            if found is None:
                break
            words.append(argument)
            command = found
            if isinstance(found, TyperGroup):
                group = found
            else:
                break
        takes_user = command is not None and any(getattr(param, "name", "") == "user" for param in getattr(command, "params", []))
        asks_for_help = "--help" in arguments
        return " ".join(words), (takes_user or words[:1] == ["init"]) and not asks_for_help


def _record_audit(command: str, arguments: list[str], started_at: dt.datetime, outcome: str, exit_code: int, message: str) -> None:
    """Write one audit row in a transaction of its own; a database without the schema yet (before
    `disburse init`) has nowhere to write it."""
    from audit.log import acting_user, file_hashes, record_command
    from ledger_core import schema

    try:
        engine = make_engine(state.database_url)
    except Exception:  # noqa: BLE001 - an unusable URL was already reported by the command
        return
    try:
        if schema.current_revision(engine) != schema.head_revision():
            return
        with transaction(engine) as session:
            record_command(session, command=command, arguments=arguments, user=acting_user(arguments),
                           started_at=started_at, outcome=outcome, exit_code=exit_code, message=message,
                           input_hashes=file_hashes(arguments))
    except DBAPIError:
        error_console.print("[yellow]warning:[/yellow] the audit log could not be written")
    finally:
        engine.dispose()


app = typer.Typer(
    cls=DisburseGroup,
    no_args_is_help=True,
    add_completion=False,
    help="disburse: carries rural benefit money from its source to each household, in balanced books.",
    rich_markup_mode=None,
)


class State:
    """Options shared by every command."""

    database_url: str = ""


state = State()


@app.callback()
def main_options(
    db: Optional[str] = typer.Option(
        None, "--db", help="database URL or SQLite file; default DISBURSE_DB, else ./disburse.db"
    ),
) -> None:
    state.database_url = database_url(db)


@contextlib.contextmanager
def books() -> Iterator[Session]:
    """One transaction on the selected database, committed when the command succeeds."""
    from ledger_core import schema

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


# --------------------------------------------------------------------------------------- init
@app.command()
def init() -> None:
    """Create or upgrade the schema and seed the chart of accounts; running it again is harmless."""
    from ledger_core import schema

    engine = make_engine(state.database_url)
    try:
        before = schema.current_revision(engine)
        schema.migrate(engine)
        with transaction(engine) as session:
            seeded = schema.seed(session)
    finally:
        engine.dispose()
    after = schema.head_revision()
    where = engine.url.render_as_string(hide_password=True)
    if before == after and not any(seeded.values()):
        console.print(f"{where}: schema already at {after}; nothing to do")
    else:
        console.print(
            f"{where}: schema {before or 'empty'} -> {after}; "
            f"{seeded['accounts_added']} accounts and {seeded['county_added']} entity seeded"
        )


# ------------------------------------------------------------------------------------ entities
entities_app = typer.Typer(no_args_is_help=True, help="Sets of books: county, villages, cooperatives.")
app.add_typer(entities_app, name="entities")


@entities_app.command("add")
def entities_add(
    code: str = typer.Argument(..., help="COUNTY-style code, 12-digit village code or 18-character credit code"),
    name: str = typer.Option(..., "--name", help="the entity's name"),
    kind: str = typer.Option(..., "--kind", help="county, village or cooperative"),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Add an entity (a set of books)."""
    from ledger_core.service import add_entity

    with books() as session:
        outcome = add_entity(session, code, name, kind, user)
    show_warnings(outcome.warnings)
    console.print(outcome.message)


@entities_app.command("list")
def entities_list() -> None:
    """List the entities and their bank accounts."""
    from ledger_core.service import list_bank_accounts, list_entities

    with books() as session:
        entities = list_entities(session)
        accounts = list_bank_accounts(session)
    table = Table("code", "kind", "name", "bank accounts")
    for entity in entities:
        held = [f"{a.bank_name} {a.account_number} ({a.ledger_account_code})" for a in accounts if a.entity_id == entity.id]
        table.add_row(entity.code, entity.kind, entity.name, "\n".join(held))
    console.print(table)


@entities_app.command("add-bank-account")
def entities_add_bank_account(
    entity: str = typer.Argument(..., help="entity code"),
    bank: str = typer.Option(..., "--bank", help="bank name, e.g. 中国农业银行"),
    account_number: str = typer.Option(..., "--account-number", help="the account number (digits)"),
    account_name: Optional[str] = typer.Option(None, "--account-name", help="the account holder's name"),
    ledger_account: Optional[str] = typer.Option(
        None, "--ledger-account", help="existing 102 sub-account; default: a new one is created"
    ),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Register a bank account of an entity, with the 102 sub-account that holds its balance."""
    from ledger_core.service import add_bank_account

    with books() as session:
        outcome = add_bank_account(session, entity, bank, account_number, user, account_name, ledger_account)
    console.print(outcome.message)


# ------------------------------------------------------------------------------------ accounts
accounts_app = typer.Typer(no_args_is_help=True, help="The chart of accounts.")
app.add_typer(accounts_app, name="accounts")


@accounts_app.command("list")
def accounts_list() -> None:
    """List the chart of accounts."""
    from ledger_core.service import list_accounts

    with books() as session:
        accounts = list_accounts(session)
    table = Table("科目编码", "科目名称", "type")
    for account in accounts:
        table.add_row(account.code, ("  " * account.code.count(".")) + account.name, account.account_type)
    console.print(table)


@accounts_app.command("add")
def accounts_add(
    file: Path = typer.Argument(..., help="CSV or XLSX with 科目编码, 科目名称, 科目类型"),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Add accounts (sub-accounts like 211.01) from a file; all or nothing."""
    from importers.journal import parse_accounts
    from ledger_core.service import add_accounts

    parsed = parse_accounts(file)
    with books() as session:
        outcome = add_accounts(session, parsed)
    console.print(outcome.message)


# ------------------------------------------------------------------------------------- journal
journal_app = typer.Typer(no_args_is_help=True, help="Journal entries (记账凭证).")
app.add_typer(journal_app, name="journal")


@journal_app.command("post")
def journal_post(
    file: Path = typer.Argument(..., help="CSV or XLSX: 凭证号, 日期, 摘要, 科目编码, 借方金额, 贷方金额[, 户编号, 资金来源]"),
    entity: str = typer.Option(..., "--entity", help="entity code"),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Post manual vouchers from a file: every voucher or none."""
    from ledger_core.service import post_vouchers
    from importers.journal import parse_vouchers

    drafts, file_hash = parse_vouchers(file, entity)
    with books() as session:
        result = post_vouchers(session, drafts, file_hash, entity, user)
    if result.created:
        console.print(f"posted {result.entry_count} voucher(s) from {file} into {entity}")
    else:
        console.print(f"{file} was already posted into {entity} ({result.entry_count} voucher(s)); nothing changed")


@journal_app.command("show")
def journal_show(
    entity: str = typer.Option(..., "--entity", help="entity code"),
    period: str = typer.Option(..., "--period", help="YYYY-MM"),
) -> None:
    """Show the vouchers of one entity's period."""
    from ledger_core.service import journal_entries

    with books() as session:
        entries = journal_entries(session, entity, period)
    if not entries:
        console.print(f"no entries in {entity} {period}")
        return
    table = Table("凭证号", "id", "日期", "摘要", "科目", "借方", "贷方", "户编号", "资金来源")
    for entry in entries:
        for index, posting in enumerate(entry.postings):
            first = index == 0
            table.add_row(
                entry.voucher if first else "",
                str(entry.id) if first else "",
                entry.entry_date.isoformat() if first else "",
                escape(entry.memo) if first else "",
                posting.account_code,
                yuan(posting.amount_fen) if posting.amount_fen > 0 else "",
                yuan(-posting.amount_fen) if posting.amount_fen < 0 else "",
                posting.household_id or "",
                escape(posting.fund_source or ""),
            )
    console.print(table)


@journal_app.command("reverse")
def journal_reverse(
    entry: int = typer.Argument(..., help="the id of the entry to reverse (see `journal show`)"),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Post the reversing entry of ENTRY (an entry can be reversed once)."""
    from ledger_core.service import reverse_entry

    with books() as session:
        result = reverse_entry(session, entry, user)
    console.print(f"entry {entry} reversed by entry {result.entry_ids[0]}")


# ------------------------------------------------------------------------------------- periods
periods_app = typer.Typer(no_args_is_help=True, help="Accounting periods.")
app.add_typer(periods_app, name="periods")


@periods_app.command("close")
def periods_close(
    entity: str = typer.Argument(..., help="entity code"),
    period: str = typer.Argument(..., help="YYYY-MM"),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Close a period: no more posting into it; records the chain head at this point."""
    from ledger_core.service import close_period

    with books() as session:
        outcome = close_period(session, entity, period, user)
    console.print(outcome.message)


# -------------------------------------------------------------------------------------- report
report_app = typer.Typer(no_args_is_help=True, help="Reports.")
app.add_typer(report_app, name="report")


@report_app.command("trial-balance")
def report_trial_balance(
    entity: str = typer.Option(..., "--entity", help="entity code"),
    period: str = typer.Option(..., "--period", help="YYYY-MM"),
    out: Optional[Path] = typer.Option(None, "--out", help="also write it to FILE.xlsx or FILE.csv"),
) -> None:
    """科目余额表: opening, period and closing balances per account, with totals that balance."""
    from reports.trial_balance import COLUMNS_ZH, trial_balance, write_trial_balance

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


# -------------------------------------------------------------------------------------- verify
@app.command()
def verify(
    expect: list[str] = typer.Option([], "--expect", help="ENTITY=HASH: a head hash noted earlier (repeatable)"),
) -> None:
    """Recompute every hash chain and balance; name the first entry a change behind the engine's
    back has broken; print each entity's head hash to note down."""
    from ledger_core.verify import verify_books

    expected: dict[str, list[str]] = {}
    for item in expect:
        entity, separator, value = item.partition("=")
        if not separator or len(value.strip()) != 64:
            raise typer.BadParameter(f"--expect takes ENTITY=HASH with a 64-character hash, not {item!r}")
        expected.setdefault(entity.strip(), []).append(value.strip().lower())
    with books() as session:
        reports = verify_books(session, expected)
    table = Table("entity", "entries", "postings", "status")
    broken = [report for report in reports if not report.intact]
    for report in reports:
        table.add_row(
            report.entity_code, f"{report.entry_count:,}", f"{report.posting_count:,}",
            "ok" if report.intact else "BROKEN",
        )
    console.print(table)
    # Plain lines, never wrapped, so an auditor can copy a head to pass to --expect later.
    for report in reports:
        console.print(f"head {report.entity_code}={report.head_hash}", soft_wrap=True, highlight=False)
    for report in broken:
        for problem in report.problems:
            error_console.print(f"[bold red]broken:[/bold red] {escape(problem)}")
    if broken:
        raise typer.Exit(1)
    console.print("every chain and every balance verified")


@report_app.command("household")
def report_household(
    household: str = typer.Argument(..., help="户编号"),
    year: Optional[int] = typer.Option(None, "--year", help="only this year's benefits"),
    out: Optional[Path] = typer.Option(None, "--out", help="write it to FILE.xlsx, .csv or .html (a printable card)"),
    unmasked: bool = typer.Option(False, "--unmasked", help="show full resident IDs and card numbers (recorded in the audit log)"),
    user: Optional[str] = typer.Option(None, "--user", envvar="DISBURSE_USER", help="who asks (recorded when --unmasked)"),
) -> None:
    """明白卡: every benefit due, paid, failed and pending for a household, tied to the ledger."""
    from reports.household import STATE_NAMES_ZH, household_statement, statement_rows, write_household_statement

    if unmasked and not user:
        raise DisburseError("--unmasked shows personal numbers; say who you are with --user (it is recorded)")
    with books() as session:
        statement = household_statement(session, household, year)
    console.print(f"{statement.household_id} {statement.head_name} · {statement.village} · {statement.household_type} · {statement.poverty_status}")
    table = Table("所属期", "项目", "资金来源", "对象", "状态", "金额(元)", "收款账号", "支付流水号", title="惠民资金明白卡")
    for row in statement_rows(statement, unmasked):
        table.add_row(*(escape(str(cell)) for cell in row[:5]), yuan(row[5]), *(escape(str(cell)) for cell in row[6:8]))
    console.print(table)
    for state, amount in statement.totals_fen.items():
        console.print(f"{STATE_NAMES_ZH.get(state, state)}: {yuan(amount)}")
    tie = "ties to the ledger" if statement.ties_to_ledger else f"DOES NOT tie: ledger says {yuan(statement.ledger_outstanding_fen)}"
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
    from reports.fund_trace import fund_trace, write_fund_trace

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
        console.print(f"{households['household_id'].nunique():,} households reached: paid {yuan(int(households['paid_fen'].sum()))}, "
                      f"in transit {yuan(int(households['in_transit_fen'].sum()))}, in batch {yuan(int(households['in_batch_fen'].sum()))}, "
                      f"due {yuan(int(households['due_fen'].sum()))}")
    for what, left, right in trace.ties:
        console.print(f"{'ok' if left == right else 'MISMATCH'}: {what}: {yuan(left)} / {yuan(right)}")
    if out is not None:
        for path in write_fund_trace(trace, out):
            console.print(f"written to {path}")
    if not trace.all_tie:
        raise typer.Exit(1)


from reports.commands import ledger_reports_app  # noqa: E402

report_app.add_typer(ledger_reports_app)


# ------------------------------------------------------------------------------------ registry
from registry.commands import assets_app, generate_app, import_app, registry_app  # noqa: E402

app.add_typer(import_app, name="import")
app.add_typer(assets_app, name="assets")
app.add_typer(registry_app, name="registry")
app.add_typer(generate_app, name="generate")


# ------------------------------------------------------------------------------------- payouts
from payouts.commands import payout_app  # noqa: E402

app.add_typer(payout_app, name="payout")


# ------------------------------------------------------------------------------ reconciliation
from reconciliation.commands import import_bank_statement_command, reconcile_app  # noqa: E402

import_app.command("bank-statement")(import_bank_statement_command)
app.add_typer(reconcile_app, name="reconcile")


# --------------------------------------------------------------------------------- allocations
from allocations.commands import allocate, runs_app  # noqa: E402  (sub-commands live with their package)

app.command("allocate")(allocate)
app.add_typer(runs_app, name="runs")


# --------------------------------------------------------------------------------------- audit
audit_app = typer.Typer(no_args_is_help=True, help="The audit trail and anomaly checks.")
app.add_typer(audit_app, name="audit")


@audit_app.command("log")
def audit_log(
    since: Optional[str] = typer.Option(None, "--since", help="from this date (YYYY-MM-DD)"),
    user: Optional[str] = typer.Option(None, "--by", help="only this user's commands"),
    limit: int = typer.Option(200, "--limit", help="at most this many, newest last"),
) -> None:
    """Every command that changed state: who, when, what, the input hashes and the outcome."""
    from audit.log import audit_entries

    since_date = dt.date.fromisoformat(since) if since else None
    with books() as session:
        entries = audit_entries(session, since=since_date, user=user, limit=limit)
    table = Table("id", "when (UTC)", "user", "command", "outcome", "inputs", "message")
    for entry in entries:
        inputs = "\n".join(f"{Path(path).name} {digest[:12]}" for path, digest in entry.input_hashes.items())
        table.add_row(str(entry.id), f"{entry.started_at:%Y-%m-%d %H:%M:%S}", entry.user or "", entry.command,
                      entry.outcome, inputs, escape(entry.message.splitlines()[0] if entry.message else ""))
    console.print(table)


@audit_app.command("anomalies")
def audit_anomalies(
    period: Optional[str] = typer.Option(None, "--period", help="only this period (YYYY-MM)"),
    out: Optional[Path] = typer.Option(None, "--out", help="write every finding with its evidence (.xlsx or .csv)"),
) -> None:
    """Run the anomaly checks; each finding has a stable id and its evidence rows."""
    from audit.anomalies import run_checks, write_findings

    with books() as session:
        report = run_checks(session, period)
    table = Table("check", "findings", "first finding")
    for name, findings in report.findings.items():
        table.add_row(name, f"{len(findings):,}", escape(f"{findings[0].finding_id} {findings[0].summary}") if findings else "")
    console.print(table)
    if report.reviewed_hidden:
        console.print(f"{report.reviewed_hidden:,} reviewed finding(s) not shown")
    for name, count in report.truncated.items():
        console.print(f"[yellow]{name}: {count:,} findings, the first {len(report.findings[name]):,} shown[/yellow]")
    if out is not None:
        for path in write_findings(report, out):
            console.print(f"written to {path}")


@audit_app.command("review")
def audit_review(
    finding: str = typer.Argument(..., help="the finding id (F-…)"),
    note: str = typer.Option(..., "--note", help="what was found and decided"),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Mark a finding reviewed; it does not come back."""
    from audit.anomalies import review_finding

    with books() as session:
        message = review_finding(session, finding, note, user)
    console.print(message)


# ---------------------------------------------------------------------------------------- demo
@app.command()
def demo(
    directory: Optional[Path] = typer.Option(None, "--dir", help="where to put the books and files; default a new temporary directory"),
) -> None:
    """Run a whole monthly cycle on bundled example data in a fresh SQLite file."""
    from demo.cycle import run_demo

    summary = run_demo(directory, progress=lambda step: error_console.print(f"[dim]… {step}[/dim]"))
    table = Table("step", "result", title="disburse demo: one monthly cycle")
    for step, result in summary.steps:
        table.add_row(escape(step), escape(result))
    console.print(table)
    console.print(f"books: {summary.database_url}")
    for path in summary.files:
        console.print(f"file:  {path}")
    console.print(f"finished in {summary.seconds:.1f} s")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
