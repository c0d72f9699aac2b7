"""`disburse payout ...`: parse arguments, call one service function of payouts inside one
transaction (books), render the result. cli.py wires ``payout_app`` in with one line:
``app.add_typer(payout_app, name="payout")``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Column, Table

from disburse.cli.common import USER_HELP, books, console, show_warnings
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import TranslatedNames, join_clauses, join_list, tr, tr_noop
from disburse.foundation.masking import mask_identifier, mask_payee
from disburse.foundation.money import format_yuan

payout_app = typer.Typer(
    no_args_is_help=True,
    help=tr_noop("Payouts: prepare and approve batches, export bank files, apply return files, fix cards."),
)

KEPT_SHOWN_MAX = 50


def _date(value: Optional[str]) -> Optional[dt.date]:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise DisburseError(tr("--date {value!r} is not a date of the form YYYY-MM-DD", value=value)) from None


@payout_app.command(
    "prepare",
    help=tr_noop(
        "Net the entity's unpaid payables into a new batch: one payment per programme and period per payee "
        "account.\n\nRefused while a run it would pay is in its notice period (公示) or has an open objection, and "
        "when a payee would be in two live batches for one purpose and period (同类不得重复享受)."
    ),
)
def prepare(
    entity: str = typer.Option(..., "--entity", help=tr_noop("the paying entity's code")),
    programme: Optional[str] = typer.Option(
        None, "--programme", help=tr_noop("only payables of this programme (rule name)")
    ),
    period: Optional[str] = typer.Option(None, "--period", help=tr_noop("only payables of this period, YYYY-MM")),
    force: bool = typer.Option(
        False, "--force", help=tr_noop("also pay payees whose last payment failed and whose card is not fixed")
    ),
    bank: Optional[str] = typer.Option(
        None,
        "--bank",
        help=tr_noop(
            "the bank profile whose file the batch is for (e.g. abc, ccb): what that file needs is checked now; "
            "default: bank_profile in payouts/config.yaml"
        ),
    ),
    profiles: Optional[Path] = typer.Option(
        None, "--profiles", help=tr_noop("a directory of extra bank profiles (YAML)")
    ),
    date: Optional[str] = typer.Option(
        None,
        "--date",
        help=tr_noop("the day of preparation, YYYY-MM-DD (default today): a notice must have ended before it"),
    ),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Net the entity's unpaid payables into a new batch: one payment per programme and period per payee account.

    Refused while a run it would pay is in its notice period (公示) or has an open objection, and when a payee
    would be in two live batches for one purpose and period (同类不得重复享受)."""
    from disburse.payouts.service import prepare_batch

    with books(sign="change", command="payout prepare", user=user) as session:
        outcome = prepare_batch(
            session,
            entity,
            user,
            programme=programme,
            period=period,
            force=force,
            today=_date(date),
            bank_profile=bank,
            profiles_directory=str(profiles) if profiles else None,
        )
    if outcome.register_fixes:
        console.print(
            tr(
                "{count} payee(s) released from the fix-the-card list by a register update",
                count=outcome.register_fixes,
            )
        )
    if outcome.kept:
        _print_kept(outcome.kept)
    show_warnings(outcome.warnings)
    if outcome.batch_reference is not None:
        bank_file = tr(" for the {bank} bank file", bank=outcome.bank_profile) if outcome.bank_profile else ""
        console.print(
            tr(
                "batch {batch}{bank_file}: {payments:,} payment(s), {total} yuan from {payables:,} payable(s); "
                "needs {approvers} approver(s) other than {user}",
                batch=outcome.batch_reference,
                bank_file=bank_file,
                payments=outcome.instruction_count,
                total=format_yuan(outcome.total_fen),
                payables=outcome.payable_count,
                approvers=outcome.approvals_required,
                user=user,
            )
        )
    else:
        console.print(escape(outcome.message))


def _print_kept(kept_payees) -> None:  # type: ignore[no-untyped-def]
    table = Table(
        tr("payee"),
        "户编号",
        tr("account"),
        "项目",
        "期间",
        tr("amount (yuan)"),
        tr("payables"),
        tr("kept because"),
        title=tr("kept for later"),
    )
    for kept in kept_payees[:KEPT_SHOWN_MAX]:
        table.add_row(
            mask_payee(kept.payee_id, kept.household_id),
            kept.household_id or "",
            mask_identifier(kept.account_no) or "",
            escape(kept.programme or ""),
            kept.period or "",
            format_yuan(kept.amount_fen),
            str(kept.payable_count),
            escape(kept.reason),
        )
    console.print(table)
    if len(kept_payees) > KEPT_SHOWN_MAX:
        console.print(tr("… and {count:,} more kept for later", count=len(kept_payees) - KEPT_SHOWN_MAX))


@payout_app.command(
    "stop", help=tr_noop("Stop (停发) a line: it is kept out of every batch until a checker releases it.")
)
def stop(
    line: int = typer.Argument(..., help=tr_noop("the payable (line owed) to hold back")),
    reason: str = typer.Option(..., "--reason", help=tr_noop("why it is stopped (停发原因)")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Stop (停发) a line: it is kept out of every batch until a checker releases it."""
    from disburse.payouts.stops import stop_payable

    with books() as session:
        message = stop_payable(session, line, reason, user)
    console.print(escape(message))


@payout_app.command(
    "release", help=tr_noop("Release a stop (by someone other than who stopped it): the line is due again.")
)
def release(
    stop_id: int = typer.Argument(..., metavar="STOP", help=tr_noop("the stop to undo")),
    reason: str = typer.Option(..., "--reason", help=tr_noop("why the line may be paid again")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Release a stop (by someone other than who stopped it): the line is due again."""
    from disburse.payouts.stops import release_stop

    with books() as session:
        message = release_stop(session, stop_id, reason, user)
    console.print(escape(message))


@payout_app.command(
    "approve",
    help=tr_noop("Approve a batch (not by its preparer; a second approver above the configured threshold)."),
)
def approve(
    batch: str = typer.Argument(..., help=tr_noop("the batch reference, e.g. BATCH-202610-0001")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Approve a batch (not by its preparer; a second approver above the configured threshold)."""
    from disburse.payouts.service import approve_batch

    with books(sign="post", command="payout approve", user=user) as session:
        outcome = approve_batch(session, batch, user)
    console.print(escape(outcome.message))


@payout_app.command(
    "cancel", help=tr_noop("Cancel a batch that has not been exported: its payables become payable again.")
)
def cancel(
    batch: str = typer.Argument(..., help=tr_noop("the batch reference")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Cancel a batch that has not been exported: its payables become payable again."""
    from disburse.payouts.service import cancel_batch

    with books(sign="change", command="payout cancel", user=user) as session:
        outcome = cancel_batch(session, batch, user)
    console.print(escape(outcome.message))


@payout_app.command(
    "export",
    help=tr_noop(
        "Write the approved batch's bank file(s) and post Dr payables / Cr 102.90 在途资金.\n\nThe files get their "
        "names only once the database records them; exporting again writes the same bytes."
    ),
)
def export(
    batch: str = typer.Argument(..., help=tr_noop("the batch reference")),
    bank: Optional[str] = typer.Option(
        None,
        "--bank",
        help=tr_noop("bank profile, e.g. abc, ccb, icbc, rural_credit, generic (default: the one prepared for)"),
    ),
    out: Path = typer.Option(..., "--out", help=tr_noop("the bank file to write (.csv or .xlsx as the bank wants)")),
    profiles: Optional[Path] = typer.Option(
        None, "--profiles", help=tr_noop("a directory of extra bank profiles (YAML)")
    ),
    date: Optional[str] = typer.Option(None, "--date", help=tr_noop("the posting date, YYYY-MM-DD (default today)")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Write the approved batch's bank file(s) and post Dr payables / Cr 102.90 在途资金.

    The files get their names only once the database records them; exporting again writes the same bytes."""
    from disburse.payouts.service import export_batch

    with books(sign="batch_export", command="payout export", user=user) as session:
        outcome = export_batch(
            session, batch, bank, out, user, today=_date(date), profiles_directory=str(profiles) if profiles else None
        )
    show_warnings(outcome.warnings)
    problems = list(getattr(outcome.publication, "problems", []))
    show_warnings(problems)
    table = Table(tr("file"), tr("payments"), tr("total (yuan)"), tr("bytes"), "sha256")
    for file in outcome.files:
        table.add_row(
            escape(file.file_name),
            f"{file.row_count:,}",
            format_yuan(file.total_fen),
            f"{file.size_bytes:,}",
            file.sha256,
        )
    console.print(table)
    console.print(escape(outcome.message))
    if problems:
        raise typer.Exit(1)


@payout_app.command(
    "returns",
    help=tr_noop("Apply a bank return file once: successes leave the bank account, failures are owed again."),
)
def returns(
    file: Path = typer.Argument(..., help=tr_noop("the bank's return file (代发回盘)")),
    bank: str = typer.Option(..., "--bank", help=tr_noop("bank profile of the file")),
    date: Optional[str] = typer.Option(None, "--date", help=tr_noop("the date to post on, YYYY-MM-DD (default today)")),
    batch: Optional[str] = typer.Option(
        None, "--batch", help=tr_noop("the batch lines without a payment reference belong to")
    ),
    bank_account: Optional[str] = typer.Option(
        None, "--bank-account", help=tr_noop("the entity's bank account paid from, when it has several")
    ),
    profiles: Optional[Path] = typer.Option(
        None, "--profiles", help=tr_noop("a directory of extra bank profiles (YAML)")
    ),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Apply a bank return file once: successes leave the bank account, failures are owed again."""
    from disburse.payouts.settlement import apply_return_file

    if not file.exists():
        raise DisburseError(tr("no such file: {file}", file=file))
    with books(sign="post", command="payout returns", user=user) as session:
        outcome = apply_return_file(
            session,
            file,
            bank,
            user,
            on=_date(date),
            batch=batch,
            bank_account=bank_account,
            profiles_directory=str(profiles) if profiles else None,
        )
    if outcome.reported:
        table = Table(
            tr("row"),
            tr("reported as"),
            tr("account"),
            tr("amount (yuan)"),
            tr("memo"),
            tr("why"),
            title=tr("lines not applied"),
        )
        for line in outcome.reported:
            table.add_row(
                str(line.source_row),
                line.outcome,
                mask_identifier(line.account_no) or "",
                format_yuan(line.amount_fen) if line.amount_fen is not None else "",
                escape(line.memo or ""),
                escape(line.note),
            )
        console.print(table)
        if outcome.reported_count > len(outcome.reported):
            console.print(
                tr("… and {count:,} more lines not applied", count=outcome.reported_count - len(outcome.reported))
            )
    console.print(escape(outcome.message))


@payout_app.command(
    "fix-account",
    help=tr_noop(
        "Propose a new account (or a corrected name or bank) for a payee; it takes effect once another user "
        "approves it."
    ),
)
def fix_account_command(
    payee: str = typer.Argument(..., help=tr_noop("the household id (or a person payee's resident ID)")),
    account: str = typer.Argument(
        ..., help=tr_noop("the account number (the same number to correct only 户名 or bank)")
    ),
    name: Optional[str] = typer.Option(
        None, "--name", help=tr_noop("the account holder's name (户名), when it changed")
    ),
    bank_name: Optional[str] = typer.Option(
        None, "--bank-name", help=tr_noop("the account's bank (needed for a new number)")
    ),
    shared_with: Optional[str] = typer.Option(
        None,
        "--shared-with",
        help=tr_noop("the other household whose registered card this is, when the two share it"),
    ),
    reason: str = typer.Option("", "--reason", help=tr_noop("why (logged)")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Propose a new account (or a corrected name or bank) for a payee; it takes effect once another user
    approves it."""
    from disburse.payouts.service import fix_account

    with books(sign="card_fix", command="payout fix-account", user=user) as session:
        outcome = fix_account(
            session,
            payee,
            account,
            user,
            account_name=name,
            bank_name=bank_name,
            reason=reason,
            shared_with=shared_with,
        )
    show_warnings(outcome.warnings)
    console.print(escape(outcome.message))


@payout_app.command(
    "approve-fix", help=tr_noop("Approve a card fix (not by its maker): the next batch pays into the fixed account.")
)
def approve_fix_command(
    fix: str = typer.Argument(..., help=tr_noop("the fix reference, e.g. FIX-202611-0001 (payout fixes lists them)")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Approve a card fix (not by its maker): the next batch pays into the fixed account."""
    from disburse.payouts.service import approve_fix

    with books(sign="card_fix", command="payout approve-fix", user=user) as session:
        outcome = approve_fix(session, fix, user)
    show_warnings(tuple(tr("recorded with the fix: {warning}", warning=warning) for warning in outcome.warnings))
    console.print(escape(outcome.message))


@payout_app.command("reject-fix", help=tr_noop("Reject a proposed card fix: the payee's account stays as it is."))
def reject_fix_command(
    fix: str = typer.Argument(..., help=tr_noop("the fix reference")),
    reason: str = typer.Option(..., "--reason", help=tr_noop("why the fix is rejected (logged)")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Reject a proposed card fix: the payee's account stays as it is."""
    from disburse.payouts.service import reject_fix

    with books(sign="card_fix", command="payout reject-fix", user=user) as session:
        outcome = reject_fix(session, fix, user, reason)
    console.print(escape(outcome.message))


def _change(old: Optional[str], new: Optional[str]) -> str:
    """``old → new`` when a fix changes the value; the value alone when it keeps it."""
    if new is None or new == old:
        return old or ""
    return f"{old or '(无)'} → {new}"


# A card fix's status, by its code; shown in Chinese in the Chinese layout of `payout fixes`.
# The 改卡 table's 状态 column is Chinese in every language, like its headers.
FIX_STATUS_NAMES = TranslatedNames(
    {"proposed": tr_noop("waiting for review"), "approved": tr_noop("in effect"), "rejected": tr_noop("returned")},
    "zh",
)


@payout_app.command(
    "fixes",
    help=tr_noop("The card fixes with old and new account (masked), 户名 and bank, maker and checker."),
)
def fixes_command(
    payee: Optional[str] = typer.Option(None, "--payee", help=tr_noop("only this payee's fixes")),
    status: Optional[str] = typer.Option(None, "--status", help=tr_noop("proposed, approved or rejected")),
) -> None:
    """The card fixes with old and new account (masked), 户名 and bank, maker and checker."""
    from disburse.payouts.service import fix_log

    if status is not None and status not in FIX_STATUS_NAMES:
        raise DisburseError(
            tr("--status {status!r} is not one of {choices}", status=status, choices=join_list(FIX_STATUS_NAMES))
        )
    with books() as session:
        frame = fix_log(session, payee, status)
    if len(frame) == 0:
        console.print(tr("no card fixes recorded"))
        return
    table = Table("编号", "收款人", "状态", "账号", "户名", "开户行", "经办 / 复核", "原因 / 提示", title="改卡记录")
    for row in frame.itertuples(index=False):
        notes = join_clauses(
            part
            for part in (
                row.reason,
                row.warnings,
                f"与 {row.shared_with_household} 共用此卡" if row.shared_with_household else None,
                f"退回: {row.check_note}" if row.check_note else None,
            )
            if part
        )
        table.add_row(
            row.fix_reference or "",
            mask_payee(row.payee_id, row.household_id),
            FIX_STATUS_NAMES.get(row.status, row.status) + ("（名册）" if row.source == "register" else ""),
            _change(mask_identifier(row.old_account_no), mask_identifier(row.new_account_no)),
            escape(_change(row.old_account_name, row.new_account_name)),
            escape(_change(row.old_bank_name, row.new_bank_name)),
            f"{row.fixed_by} {str(row.fixed_at)[:16]}"
            + (f" / {row.checked_by} {str(row.checked_at)[:16]}" if row.checked_by else ""),
            escape(notes),
        )
    console.print(table)


@payout_app.command(
    "fix-list", help=tr_noop("The fix-the-card list: payees whose payment failed, waiting for a new account.")
)
def fix_list_command(
    entity: Optional[str] = typer.Option(None, "--entity", help=tr_noop("only this entity's payees")),
) -> None:
    """The fix-the-card list: payees whose payment failed, waiting for a new account."""
    from disburse.payouts.service import fix_list

    with books() as session:
        frame = fix_list(session, entity)
    if len(frame) == 0:
        console.print(tr("the fix-the-card list is empty"))
        return
    from disburse.payouts.sends import failure_text

    table = Table(
        tr("entity"), tr("payee"), "户编号", "户名", tr("failed account"), tr("amount (yuan)"), tr("resends"),
        tr("reason"), tr("failed on"), tr("reference"), tr("fix waiting for a checker"),
    )  # fmt: skip
    for row in frame.itertuples(index=False):
        table.add_row(
            row.entity,
            mask_payee(row.payee_id, row.household_id),
            row.household_id or "",
            escape(row.account_name or ""),
            mask_identifier(row.account_no) or "",
            format_yuan(int(row.amount_fen)),
            str(int(row.send_number)),
            escape(failure_text(row.reason_code, row.reason)),
            str(row.failed_on),
            row.payment_reference,
            row.pending_fix or "",
        )
    console.print(table)


@payout_app.command(
    "status", help=tr_noop("For the counter: everything due, in transit, paid and failed for one household.")
)
def status(
    household: str = typer.Option(..., "--household", help=tr_noop("the household id (户编号)")),
) -> None:
    """For the counter: everything due, in transit, paid and failed for one household."""
    # The counter's table is a Chinese layout (状态, 项目, 期间 ...): its states are Chinese too.
    from disburse.payouts.sends import failure_text
    from disburse.payouts.status import CARD_KIND_NAMES_ZH as card_kinds
    from disburse.payouts.status import STATE_NAMES_ZH as state_names
    from disburse.payouts.status import household_status

    with books() as session:
        found = household_status(session, household)
    if not found.lines:
        console.print(tr("no payouts recorded for household {household}", household=household))
        return
    # Fifteen columns: a narrow terminal squeezes them, and Chinese text has no spaces to wrap at,
    # so every cell folds onto more lines rather than ending in "…" (a reference must stay whole).
    headers = ("状态", "项目", "期间", "金额(元)", "享受人", "收款人", "卡别", "账号", "付款编号", "批次")
    headers += ("记账日", "发出日", "结果日", "重发次数", "说明")
    table = Table(
        *(Column(header, overflow="fold") for header in headers),
        title=f"户 {household}（户主 {found.head_name or ''}）兑付情况",
    )
    for line in found.lines:
        table.add_row(
            state_names.get(line.state, line.state),
            escape(line.programme),
            line.period,
            format_yuan(line.amount_fen),
            escape(line.beneficiary_name or mask_payee(line.payee_id, household)),
            escape(line.account_name or ""),
            card_kinds.get(line.card_kind, "") if line.card_kind else "",
            mask_identifier(line.account_no) or "",
            line.payment_reference or "",
            line.batch_reference or "",
            str(line.recorded_on or ""),
            str(line.exported_on or ""),
            str(line.settled_on or ""),
            str(line.send_number),
            escape(failure_text(line.failure_code, line.reason, chinese=True)),
        )
    console.print(table)
    console.print(
        "  ".join(
            f"{state_names.get(state, state)} {format_yuan(amount)}" for state, amount in found.totals_fen.items()
        )
    )


BATCHES_LISTED_MAX = 100
BATCH_LINES_SHOWN_MAX = 200


def _result_text(result, chinese: bool = False) -> str:  # type: ignore[no-untyped-def]
    from disburse.payouts.sends import RESULT_NAMES, RESULT_NAMES_ZH

    if result.state is None:
        return ""
    return (RESULT_NAMES_ZH if chinese else RESULT_NAMES)[result.state]


@payout_app.command(
    "batches",
    help=tr_noop(
        "The newest batches with their status and the bank's result so far (待回盘, 部分成功, 全部成功, 全部失败)."
    ),
)
def batches_command(
    entity: Optional[str] = typer.Option(None, "--entity", help=tr_noop("only this entity's batches")),
    limit: int = typer.Option(BATCHES_LISTED_MAX, "--limit", min=1, max=10_000, help=tr_noop("how many to list")),
) -> None:
    """The newest batches with their status and the bank's result so far."""
    from disburse.payouts.approvals import recent_batches
    from disburse.payouts.model import BATCH_STATUS_NAMES
    from disburse.payouts.sends import batch_results

    with books() as session:
        listed = recent_batches(session, limit, entity)
        results = batch_results(session, [(batch.id, batch.status) for batch, _code in listed])
    if not listed:
        console.print(tr("no batches recorded"))
        return
    table = Table(
        tr("batch"), tr("entity"), tr("status"), tr("payments"), tr("amount (yuan)"), tr("result"),
        tr("succeeded"), tr("failed"), tr("awaiting"), tr("most resends"), title=tr("payment batches"),
    )  # fmt: skip
    for batch, code in listed:
        result = results[batch.id]
        table.add_row(
            batch.batch_reference,
            code,
            tr(BATCH_STATUS_NAMES.get(batch.status, batch.status)),
            f"{batch.instruction_count:,}",
            format_yuan(batch.total_fen),
            _result_text(result),
            f"{result.succeeded:,}",
            f"{result.failed:,}",
            f"{result.awaiting:,}",
            str(result.most_sends),
        )
    console.print(table)


@payout_app.command(
    "show", help=tr_noop("One batch: its status, the bank's result, and each payment with its resends and reason.")
)
def show_command(
    batch: str = typer.Argument(..., help=tr_noop("the batch reference (BATCH-…)")),
    limit: int = typer.Option(
        BATCH_LINES_SHOWN_MAX, "--limit", min=1, max=1_000_000, help=tr_noop("how many payments to list")
    ),
) -> None:
    """One batch: its status, the bank's result, and each payment with its resends and reason."""
    from disburse.payouts.model import BATCH_STATUS_NAMES, INSTRUCTION_STATUS_NAMES
    from disburse.payouts.sends import batch_lines, batch_results, failure_text
    from disburse.payouts.service import batch_by_reference

    with books() as session:
        found = batch_by_reference(session, batch)
        result = batch_results(session, [(found.id, found.status)])[found.id]
        lines = batch_lines(session, found.id, limit)
        reference, status, count, total_fen = (
            found.batch_reference, found.status, found.instruction_count, found.total_fen
        )  # fmt: skip
    console.print(
        tr(
            "batch {batch}: {status}{result}; {count:,} payment(s), {total} yuan; {succeeded:,} succeeded, "
            "{failed:,} failed, {awaiting:,} awaiting the bank",
            batch=reference,
            status=tr(BATCH_STATUS_NAMES.get(status, status)),
            result=f" ({_result_text(result)})" if result.state else "",
            count=count,
            total=format_yuan(total_fen),
            succeeded=result.succeeded,
            failed=result.failed,
            awaiting=result.awaiting,
        )
    )
    table = Table(
        tr("reference"), "户编号", "户名", tr("account"), tr("amount (yuan)"), tr("status"), tr("resends"),
        tr("reason"),
    )  # fmt: skip
    for row in lines.itertuples(index=False):
        table.add_row(
            row.payment_reference,
            row.household_id or "",
            escape(row.account_name or ""),
            mask_identifier(row.account_no) or "",
            format_yuan(int(row.amount_fen)),
            tr(INSTRUCTION_STATUS_NAMES.get(row.status, row.status)),
            str(int(row.send_number)),
            escape(failure_text(row.failure_code, row.failure_reason)),
        )
    console.print(table)
    if count > len(lines):
        console.print(tr("… and {count:,} more payments (--limit)", count=count - len(lines)))
