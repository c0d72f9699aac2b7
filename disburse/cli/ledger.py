"""The books' commands: `init`, `entities`, `accounts`, `journal`, `periods` and `verify`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from disburse.cli.common import (
    BROKEN_LABEL,
    USER_HELP,
    WARNING_LABEL,
    books,
    console,
    error_console,
    show_warnings,
    state,
    yuan,
)
from disburse.foundation.i18n import tr, tr_noop

# --------------------------------------------------------------------------------------- init
INIT_HELP = tr_noop("Create or upgrade the schema and seed the chart of accounts; running it again is harmless.")


def init() -> None:
    """Create or upgrade the schema and seed the chart of accounts; running it again is harmless."""
    from disburse.foundation.db import make_engine, transaction
    from disburse.schema import migrate as schema

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
        console.print(tr("{where}: schema already at {after}; nothing to do", where=where, after=after))
    else:
        console.print(
            tr(
                "{where}: schema {before} -> {after}; {accounts} accounts and {county} entity seeded",
                where=where,
                before=before or tr("empty"),
                after=after,
                accounts=seeded["accounts_added"],
                county=seeded["county_added"],
            )
        )


# ------------------------------------------------------------------------------------ entities
entities_app = typer.Typer(no_args_is_help=True, help=tr_noop("Sets of books: county, villages, cooperatives."))


@entities_app.command("add", help=tr_noop("Add an entity (a set of books)."))
def entities_add(
    code: str = typer.Argument(
        ..., help=tr_noop("COUNTY-style code, 12-digit village code or 18-character credit code")
    ),
    name: str = typer.Option(..., "--name", help=tr_noop("the entity's name")),
    kind: str = typer.Option(..., "--kind", help=tr_noop("county, village or cooperative")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Add an entity (a set of books)."""
    from disburse.ledger.service import add_entity

    with books(sign="change", command="entities add", user=user) as session:
        outcome = add_entity(session, code, name, kind, user)
    show_warnings(outcome.warnings)
    console.print(outcome.message)


@entities_app.command("rename", help=tr_noop("Rename an entity (its code, which the books use, stays)."))
def entities_rename(
    code: str = typer.Argument(..., help=tr_noop("entity code (e.g. COUNTY)")),
    name: str = typer.Option(..., "--name", help=tr_noop("the entity's new name, e.g. 商州区扶贫资金专户")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Rename an entity (its code, which the books use, stays)."""
    from disburse.ledger.service import rename_entity

    with books(sign="change", command="entities rename", user=user) as session:
        outcome = rename_entity(session, code, name, user)
    console.print(escape(outcome.message))


@entities_app.command("list", help=tr_noop("List the entities and their bank accounts."))
def entities_list() -> None:
    """List the entities and their bank accounts."""
    from disburse.ledger.service import list_bank_accounts, list_entities

    with books() as session:
        entities = list_entities(session)
        accounts = list_bank_accounts(session)
    table = Table(tr("code"), tr("kind"), tr("name"), tr("bank accounts"))
    for entity in entities:
        held = [
            f"{a.bank_name} {a.account_number} ({a.ledger_account_code})" for a in accounts if a.entity_id == entity.id
        ]
        table.add_row(entity.code, entity.kind, entity.name, "\n".join(held))
    console.print(table)


@entities_app.command(
    "add-bank-account",
    help=tr_noop("Register a bank account of an entity, with the 102 sub-account that holds its balance."),
)
def entities_add_bank_account(
    entity: str = typer.Argument(..., help=tr_noop("entity code")),
    bank: str = typer.Option(..., "--bank", help=tr_noop("bank name, e.g. 中国农业银行")),
    account_number: str = typer.Option(..., "--account-number", help=tr_noop("the account number (digits)")),
    account_name: Optional[str] = typer.Option(None, "--account-name", help=tr_noop("the account holder's name")),
    ledger_account: Optional[str] = typer.Option(
        None, "--ledger-account", help=tr_noop("existing 102 sub-account; default: a new one is created")
    ),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Register a bank account of an entity, with the 102 sub-account that holds its balance."""
    from disburse.ledger.service import add_bank_account

    with books(sign="change", command="entities add-bank-account", user=user) as session:
        outcome = add_bank_account(session, entity, bank, account_number, user, account_name, ledger_account)
    console.print(outcome.message)


# ------------------------------------------------------------------------------------ accounts
accounts_app = typer.Typer(no_args_is_help=True, help=tr_noop("The chart of accounts."))


@accounts_app.command("list", help=tr_noop("List the chart of accounts."))
def accounts_list() -> None:
    """List the chart of accounts."""
    from disburse.ledger.service import list_accounts

    with books() as session:
        accounts = list_accounts(session)
    table = Table("科目编码", "科目名称", tr("type"))
    for account in accounts:
        table.add_row(account.code, ("  " * account.code.count(".")) + account.name, account.account_type)
    console.print(table)


@accounts_app.command("add", help=tr_noop("Add accounts (sub-accounts like 211.01) from a file; all or nothing."))
def accounts_add(
    file: Path = typer.Argument(..., help=tr_noop("CSV or XLSX with 科目编码, 科目名称, 科目类型")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Add accounts (sub-accounts like 211.01) from a file; all or nothing."""
    from disburse.importers.journal import parse_accounts
    from disburse.ledger.service import add_accounts

    parsed = parse_accounts(file)
    with books() as session:
        outcome = add_accounts(session, parsed)
    console.print(outcome.message)


# ------------------------------------------------------------------------------------- journal
journal_app = typer.Typer(no_args_is_help=True, help=tr_noop("Journal entries (记账凭证)."))


@journal_app.command(
    "post",
    help=tr_noop(
        "Submit manual vouchers from a file for review (every voucher or none); they post when a different "
        "person approves them with `journal approve`."
    ),
)
def journal_post(
    file: Path = typer.Argument(
        ..., help=tr_noop("CSV or XLSX: 凭证号, 日期, 摘要, 科目编码, 借方金额, 贷方金额[, 户编号, 资金来源]")
    ),
    entity: str = typer.Option(..., "--entity", help=tr_noop("entity code")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Submit manual vouchers from a file for review (every voucher or none); they post when a
    different person approves them with `journal approve`."""
    from disburse.importers.journal import parse_vouchers
    from disburse.ledger.vouchers import submit_vouchers

    batch, file_hash = parse_vouchers(file, entity)
    with books(sign="change", command="journal post", user=user) as session:
        outcome = submit_vouchers(session, batch, file.name, file_hash, entity, user)
    console.print(escape(outcome.message))


@journal_app.command(
    "approve", help=tr_noop("Approve submitted vouchers (not by their maker): they post into the books.")
)
def journal_approve(
    submission: int = typer.Argument(..., help=tr_noop("the 凭证批 number `journal post` gave")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Approve submitted vouchers (not by their maker): they post into the books."""
    from disburse.ledger.vouchers import approve_vouchers

    with books(sign="post", command="journal approve", user=user) as session:
        outcome = approve_vouchers(session, submission, user)
    console.print(escape(outcome.message))


@journal_app.command(
    "return", help=tr_noop("Return submitted vouchers to their maker with a reason; nothing is posted.")
)
def journal_return(
    submission: int = typer.Argument(..., help=tr_noop("the 凭证批 number")),
    reason: str = typer.Option(..., "--reason", help=tr_noop("why, for the maker")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Return submitted vouchers to their maker with a reason; nothing is posted."""
    from disburse.ledger.vouchers import return_vouchers

    with books(sign="change", command="journal return", user=user) as session:
        outcome = return_vouchers(session, submission, user, reason)
    console.print(escape(outcome.message))


@journal_app.command(
    "pending", help=tr_noop("Voucher submissions waiting for review (with --all: every one, and its outcome).")
)
def journal_pending(
    every: bool = typer.Option(False, "--all", help=tr_noop("also the approved and returned ones")),
) -> None:
    """Voucher submissions waiting for review (with --all: every one, and its outcome)."""
    from disburse.ledger.vouchers import SUBMISSION_STATUS_NAMES, list_submissions

    with books() as session:
        submissions = list_submissions(session, None if every else "submitted")
    if not submissions:
        console.print(tr("no voucher submissions waiting for review"))
        return
    table = Table(
        "凭证批",
        tr("entity"),
        tr("file"),
        tr("vouchers"),
        "借方合计",
        tr("status"),
        tr("submitted by"),
        tr("reviewed by"),
        tr("comment"),
    )
    for item in submissions:
        table.add_row(
            str(item.id),
            item.entity_code,
            escape(item.file_name),
            str(item.voucher_count),
            yuan(item.debit_total_fen),
            SUBMISSION_STATUS_NAMES.get(item.status, item.status),
            item.submitted_by,
            item.decided_by or "",
            escape(item.comment or ""),
        )
    console.print(table)


@journal_app.command("show", help=tr_noop("Show the vouchers of one entity's period."))
def journal_show(
    entity: str = typer.Option(..., "--entity", help=tr_noop("entity code")),
    period: str = typer.Option(..., "--period", help=tr_noop("YYYY-MM")),
) -> None:
    """Show the vouchers of one entity's period."""
    from disburse.ledger.service import journal_entries

    with books() as session:
        entries = journal_entries(session, entity, period)
    if not entries:
        console.print(tr("no entries in {entity} {period}", entity=entity, period=period))
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


@journal_app.command("reverse", help=tr_noop("Post the reversing entry of ENTRY (an entry can be reversed once)."))
def journal_reverse(
    entry: int = typer.Argument(..., help=tr_noop("the id of the entry to reverse (see `journal show`)")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Post the reversing entry of ENTRY (an entry can be reversed once)."""
    from disburse.ledger.service import reverse_entry

    with books(sign="post", command="journal reverse", user=user) as session:
        result = reverse_entry(session, entry, user)
    console.print(tr("entry {entry} reversed by entry {reversal}", entry=entry, reversal=result.entry_ids[0]))


# ------------------------------------------------------------------------------------- periods
periods_app = typer.Typer(no_args_is_help=True, help=tr_noop("Accounting periods."))


@periods_app.command(
    "close", help=tr_noop("Close a period: no more posting into it; records the chain head at this point.")
)
def periods_close(
    entity: str = typer.Argument(..., help=tr_noop("entity code")),
    period: str = typer.Argument(..., help=tr_noop("YYYY-MM")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Close a period: no more posting into it; records the chain head at this point."""
    from disburse.ledger.service import close_period

    with books(sign="period_close", command="periods close", user=user) as session:
        outcome = close_period(session, entity, period, user)
    console.print(outcome.message)


# -------------------------------------------------------------------------------------- verify
VERIFY_HELP = tr_noop(
    "Recompute every hash chain and balance; name the first entry a change behind the engine's back has "
    "broken; check every signed checkpoint (signature, chain, the journal heads it signed) and the money "
    "tables against the newest one, naming table and id block; print each entity's head hash and the "
    "newest checkpoint's short hash to note down."
)
# The list of commands shows this; the Chinese of the whole help has no spaces to cut it at.
VERIFY_SHORT_HELP = tr_noop("Check every hash chain, balance and signed checkpoint.")


def verify(
    expect: list[str] = typer.Option(
        [], "--expect", help=tr_noop("ENTITY=HASH: a head hash noted earlier (repeatable)")
    ),
) -> None:
    """Recompute every hash chain and balance; name the first entry a change behind the engine's
    back has broken; check every signed checkpoint (signature, chain, the journal heads it
    signed) and the money tables against the newest one, naming table and id block; print each
    entity's head hash and the newest checkpoint's short hash to note down."""
    from disburse.foundation.settings import signing_key_path
    from disburse.ledger.verify import verify_books
    from disburse.schema.checkpoints import verify_checkpoints

    expected: dict[str, list[str]] = {}
    for item in expect:
        entity, separator, value = item.partition("=")
        if not separator or len(value.strip()) != 64:
            raise typer.BadParameter(tr("--expect takes ENTITY=HASH with a 64-character hash, not {item!r}", item=item))
        expected.setdefault(entity.strip(), []).append(value.strip().lower())
    from disburse.audit.log import verify_audit_log

    with books() as session:
        reports = verify_books(session, expected)
        audit_rows, audit_head, audit_problems = verify_audit_log(session)
        signed = verify_checkpoints(session, reports, signing_key_path())
    # Entities without entries (the village books a register import creates) have nothing to
    # verify and no head to note: they are counted, not listed.
    shown = [report for report in reports if report.entry_count or not report.intact]
    table = Table(tr("entity"), tr("entries"), tr("postings"), tr("status"))
    broken = [report for report in reports if not report.intact]
    for report in shown:
        table.add_row(
            report.entity_code,
            f"{report.entry_count:,}",
            f"{report.posting_count:,}",
            tr("ok") if report.intact else tr("BROKEN"),
        )
    console.print(table)
    if len(reports) > len(shown):
        console.print(tr("{count:,} entities have no entries yet", count=len(reports) - len(shown)))
    # Plain lines, never wrapped, so an auditor can copy a head to pass to --expect later.
    for report in shown:
        console.print(
            tr("head {entity}={hash}", entity=report.entity_code, hash=report.head_hash),
            soft_wrap=True,
            highlight=False,
        )
    console.print(
        tr("head audit_log={head} ({rows:,} rows)", head=audit_head, rows=audit_rows), soft_wrap=True, highlight=False
    )
    console.print(
        tr("checkpoints {count:,}, newest {newest}", count=signed.checkpoint_count, newest=signed.head_short)
        + "".join(tr(", signed by key {key}…", key=fingerprint[:16]) for fingerprint in signed.fingerprints),
        soft_wrap=True,
        highlight=False,
    )
    for warning in signed.warnings:
        error_console.print(f"[yellow]{tr(WARNING_LABEL)}[/yellow] {escape(warning)}", soft_wrap=True)
    for report in broken:
        for problem in report.problems:
            error_console.print(f"[bold red]{tr(BROKEN_LABEL)}[/bold red] {escape(problem)}", soft_wrap=True)
    for problem in [*audit_problems, *signed.problems]:
        error_console.print(f"[bold red]{tr(BROKEN_LABEL)}[/bold red] {escape(problem)}", soft_wrap=True)
    if broken or audit_problems or signed.problems:
        raise typer.Exit(1)
    console.print(
        tr("every chain and every balance verified, the audit log's chain too")
        + (tr(", and every checkpoint and money table") if signed.checkpoint_count else "")
    )
