"""Applying a bank's return file (代发回盘): each line settles one exported instruction.

Success: Dr 102.90 在途资金 / Cr the entity's bank sub-account (102.xx). Failure: Dr 102.90 /
Cr the payables' accounts (owed again), the reason kept, the payee put on the fix-the-card
list. A line that matches no instruction, or one already settled, is reported and stored,
never applied. A file applies once (by the SHA-256 of its bytes); a batch's results may come
over several files.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from disburse.foundation.actors import require_user
from disburse.foundation.bulk import bulk_insert, drop_temporary_table, temporary_table
from disburse.foundation.dates import iso, period_of
from disburse.foundation.errors import DisburseError, ImportProblem, ImportRefused
from disburse.foundation.files import file_sha256
from disburse.foundation.frames import query_objects
from disburse.foundation.frames import text_or_none as text_of
from disburse.foundation.i18n import join_list, tr, tr_noop
from disburse.foundation.money import format_yuan
from disburse.importers.failure_reasons import FAILURE_REASON_LENGTH_MAX
from disburse.ledger.chart import PAYMENTS_IN_TRANSIT
from disburse.ledger.model import EntryBatch
from disburse.ledger.posting import post_entries
from disburse.ledger.tables import BankAccountRow, EntityRow
from disburse.payouts.common import (
    IDS_PER_QUERY,
    batch_by_reference,
    entries_against_payables,
    lock_payouts,
    none_for_missing,
    payable_lines_of,
)
from disburse.payouts.funds import settle_return_file
from disburse.payouts.model import (
    REASON_LENGTH_MAX,
    REPORTED_LINES_SHOWN_MAX,
    RETURN_LINES_MAX,
    ReportedLine,
    ReturnOutcome,
)
from disburse.payouts.netting import match_return_lines, references_in
from disburse.payouts.sends import failure_counts_text
from disburse.payouts.tables import ACCOUNT_NAME_LENGTH_MAX, ReturnFileRow, utc_now

# The reason a failure is kept with when the bank's line gives none.
NO_REASON = tr_noop("failed (the bank gave no reason)")
INSTRUCTION_FIELDS = (
    "id",
    "payment_reference",
    "batch_id",
    "entity_id",
    "payee_type",
    "payee_id",
    "household_id",
    "account_no",
    "account_name",
    "amount_fen",
    "status",
)
RETURN_LINE_COLUMNS = (
    "return_file_id",
    "source_row",
    "instruction_id",
    "outcome",
    "account_no",
    "account_name",
    "amount_fen",
    "reason",
    "memo",
    "note",
    "reason_code",
)


def _instructions_where(session: Session, column: str, values: list, extra: str = "") -> pd.DataFrame:
    parts = []
    for start in range(0, len(values), IDS_PER_QUERY):
        parts.append(
            query_objects(
                session,
                text(
                    f"SELECT {', '.join(INSTRUCTION_FIELDS)} FROM payment_instructions WHERE {column} IN :values{extra}"
                ).bindparams(bindparam("values", expanding=True)),
                {"values": values[start : start + IDS_PER_QUERY]},
            )
        )
    if not parts:
        return query_objects(
            session, text(f"SELECT {', '.join(INSTRUCTION_FIELDS)} FROM payment_instructions WHERE 1 = 0")
        )
    frame = pd.concat(parts, ignore_index=True)
    frame["amount_fen"] = frame["amount_fen"].astype(np.int64)
    return none_for_missing(frame, "household_id", "account_name")


def _bank_account(session: Session, entity_id: int, entity_code: str, bank: str, chosen: str | None) -> str:
    """The 102.xx sub-account a success is credited to: the entity's registered bank account
    (the one named, or the only one, or the only one at the profile's bank)."""
    accounts = session.execute(
        select(BankAccountRow.account_number, BankAccountRow.bank_name, BankAccountRow.ledger_account_code)
        .where(BankAccountRow.entity_id == entity_id)
        .order_by(BankAccountRow.id)
    ).all()
    if not accounts:
        raise DisburseError(
            tr(
                "{entity} has no registered bank account, so a successful payment has no 102 sub-account to leave "
                "from; register it with `disburse entities add-bank-account {entity}` and apply the file again",
                entity=entity_code,
            )
        )
    if chosen is not None:
        named = [account for account in accounts if account.account_number == chosen]
        if not named:
            raise DisburseError(
                tr(
                    "{entity} has no bank account {account}; its accounts: {accounts}",
                    entity=entity_code,
                    account=chosen,
                    accounts=join_list(account.account_number for account in accounts),
                )
            )
        return named[0].ledger_account_code
    if len(accounts) == 1:
        return accounts[0].ledger_account_code
    at_bank = [account for account in accounts if bank and (bank in account.bank_name or account.bank_name in bank)]
    if len(at_bank) == 1:
        return at_bank[0].ledger_account_code
    raise DisburseError(
        tr(
            "{entity} has {count} bank accounts; name the one the batch was paid from with --bank-account NUMBER",
            entity=entity_code,
            count=len(accounts),
        )
    )


def _success_entry(
    entity_code: str, on: dt.date, bank_ledger_account: str, source: str, total_fen: int, count: int
) -> EntryBatch:
    """Dr 102.90 / Cr the bank sub-account for the successes of one file: the bank debits the
    account for them, and the instructions and return lines say who was paid."""
    assert total_fen > 0
    return EntryBatch(
        entity_code=[entity_code],
        period=[period_of(on)],
        entry_date=[on],
        memo=[f"代发回盘 {source} 成功 {count} 笔，银行存款付出"[:500]],
        source_kind=["payout_return"],
        source_reference=[source],
        reverses_entry_id=[None],
        label=[f"{source} successes"],
        posting_entry_index=np.zeros(2, dtype=np.int64),
        account_code=[PAYMENTS_IN_TRANSIT, bank_ledger_account],
        amount_fen=np.asarray([total_fen, -total_fen], dtype=np.int64),
        household_id=[None, None],
        fund_source=[None, None],
        payment_reference=[None, None],
    )


def _concatenated(batches: list[EntryBatch]) -> EntryBatch:
    offsets = np.cumsum([0] + [batch.entry_count for batch in batches[:-1]])
    return EntryBatch(
        entity_code=sum((b.entity_code for b in batches), []),
        period=sum((b.period for b in batches), []),
        entry_date=sum((b.entry_date for b in batches), []),
        memo=sum((b.memo for b in batches), []),
        source_kind=sum((b.source_kind for b in batches), []),
        source_reference=sum((b.source_reference for b in batches), []),
        reverses_entry_id=sum((b.reverses_entry_id for b in batches), []),
        label=sum((b.label for b in batches), []),
        posting_entry_index=np.concatenate([b.posting_entry_index + offset for b, offset in zip(batches, offsets)]),
        account_code=sum((b.account_code for b in batches), []),
        amount_fen=np.concatenate([b.amount_fen for b in batches]),
        household_id=sum((b.household_id for b in batches), []),
        fund_source=sum((b.fund_source for b in batches), []),
        payment_reference=sum((b.payment_reference for b in batches), []),
    )


def _applied_before(session: Session, name: str, digest: str) -> ReturnOutcome | None:
    """The outcome for a file applied before (known by its bytes): nothing changes."""
    previous = session.scalar(select(ReturnFileRow).where(ReturnFileRow.sha256 == digest))
    if previous is None:
        return None
    return ReturnOutcome(
        Path(name).name,
        digest,
        False,
        previous.settled_on,
        0,
        0,
        0,
        0,
        (),
        0,
        (),
        tr(
            "{file} was applied on {when:%Y-%m-%d %H:%M} by {user} (as {recorded}); nothing changed",
            file=Path(name).name,
            when=previous.applied_at,
            user=previous.applied_by,
            recorded=previous.file_name,
        ),
    )


def _parsed_lines(name: str, profile_name: str | None, profiles_directory: str | None) -> tuple[pd.DataFrame, str]:
    """The return file's lines (refused with every problem, or past RETURN_LINES_MAX, or empty)
    and the bank the profile names."""
    from disburse.importers.bank_profiles import ProfileError, load_profiles
    from disburse.importers.returns import parse_bank_return

    try:
        profiles = load_profiles(profiles_directory)
    except ProfileError as error:
        raise DisburseError(str(error)) from None
    parsed = parse_bank_return(name, profile_name, profiles)
    if parsed.refused:
        raise ImportRefused(parsed.problems)
    lines = parsed.frame.reset_index(drop=True)
    if len(lines) > RETURN_LINES_MAX:
        raise ImportRefused(
            [
                ImportProblem(
                    name,
                    None,
                    None,
                    f"{len(lines):,}",
                    tr("more than {count_max:,} lines (RETURN_LINES_MAX)", count_max=RETURN_LINES_MAX),
                )
            ]
        )
    if len(lines) == 0:
        raise ImportRefused([ImportProblem(name, None, None, "", tr("the return file has no lines"))])
    lines["amount_fen"] = lines["amount_fen"].astype(np.int64)
    return lines, profiles[profile_name].bank if profile_name in profiles else ""


def _instructions_answered(
    session: Session, lines: pd.DataFrame, batch: str | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The instructions the memos name, and the candidates for lines without a reference: the
    exported instructions of ``batch``, else of the batches the other lines name, else of every
    exported batch."""
    references = references_in(lines["memo"])
    temporary_table(
        session,
        "payout_references",
        "payment_reference VARCHAR(40) PRIMARY KEY",
        ("payment_reference",),
        [(reference,) for reference in sorted(set(references.dropna().tolist()))],
    )
    by_reference = query_objects(
        session,
        text(
            f"SELECT {', '.join('i.' + name for name in INSTRUCTION_FIELDS)} FROM payout_references r "
            "JOIN payment_instructions i ON i.payment_reference = r.payment_reference"
        ),
    )
    by_reference["amount_fen"] = by_reference["amount_fen"].astype(np.int64)
    by_reference = none_for_missing(by_reference, "household_id", "account_name")
    drop_temporary_table(session, "payout_references")
    if not references.isna().any():
        return by_reference, by_reference.iloc[0:0]
    if batch is not None:
        batch_ids = [batch_by_reference(session, batch).id]
    elif len(by_reference):
        batch_ids = sorted(set(by_reference["batch_id"].astype(int).tolist()))
    else:
        batch_ids = [
            int(value) for value in session.scalars(text("SELECT id FROM payment_batches WHERE status = 'exported'"))
        ]
    return by_reference, _instructions_where(session, "batch_id", batch_ids, " AND status = 'exported'")


def _applied_instructions(matched: pd.DataFrame, instructions: pd.DataFrame) -> pd.DataFrame:
    """The instructions the file settles, with ``outcome`` (success | failure) and ``reason``."""
    applied = matched[matched["outcome"].isin(["success", "failure"])]
    applied_ids = applied["instruction_id"].astype(np.int64)
    result = instructions.set_index("id").loc[applied_ids.to_numpy()].reset_index()
    result["outcome"] = applied["outcome"].to_numpy()
    result["reason"] = [
        # Stored as the failure's reason and shown as it is: written in the language of the command.
        (str(reason)[:REASON_LENGTH_MAX] if reason is not None and not pd.isna(reason) else tr(NO_REASON))
        if outcome == "failure"
        else None
        for reason, outcome in zip(applied["reason"].to_numpy(dtype=object), applied["outcome"].to_numpy())
    ]
    return result


def _limited_texts(values, limit: int) -> list[str | None]:  # type: ignore[no-untyped-def]
    return [None if value is None else str(value)[:limit] for value in map(text_of, values)]


def _record_file(
    session: Session, name: str, digest: str, profile_name: str | None, on: dt.date, matched: pd.DataFrame, user: str
) -> int:
    """The return file and every line with what became of it; returns the file's id."""
    outcomes = matched["outcome"]
    file_id = session.execute(
        ReturnFileRow.__table__.insert()
        .values(
            sha256=digest,
            file_name=Path(name).name[:500],
            bank_profile=profile_name or "(detected)",
            settled_on=on,
            line_count=len(matched),
            success_count=int((outcomes == "success").sum()),
            failure_count=int((outcomes == "failure").sum()),
            reported_count=int((~outcomes.isin(["success", "failure"])).sum()),
            applied_by=user,
            applied_at=utc_now(),
        )
        .returning(ReturnFileRow.id)
    ).scalar_one()
    bulk_insert(
        session,
        "return_lines",
        RETURN_LINE_COLUMNS,
        list(
            zip(
                [file_id] * len(matched),
                matched["source_row"].astype(np.int64).tolist(),
                [None if value is None else int(value) for value in matched["instruction_id"].tolist()],
                outcomes.tolist(),
                _limited_texts(matched["account_no"].tolist(), 40),
                _limited_texts(matched["account_name"].tolist(), ACCOUNT_NAME_LENGTH_MAX),
                matched["amount_fen"].astype(np.int64).tolist(),
                _limited_texts(matched["reason"].tolist(), REASON_LENGTH_MAX),
                _limited_texts(matched["memo"].tolist(), 500),
                _limited_texts(matched["note"].tolist(), 500),
                _limited_texts(matched["reason_code"].tolist(), FAILURE_REASON_LENGTH_MAX),
            )
        ),
    )
    return file_id


def _settle_instructions(session: Session, applied: pd.DataFrame, file_id: int, on: dt.date) -> None:
    """Each settled instruction's status, date, reason and file, its payables paid (success)
    or open again (failure, whose claims end), in one statement each."""
    temporary_table(
        session,
        "payout_settled",
        "instruction_id BIGINT PRIMARY KEY, status VARCHAR(16), reason VARCHAR(200)",
        ("instruction_id", "status", "reason"),
        list(
            zip(
                applied["id"].astype(np.int64).tolist(),
                ["success" if outcome == "success" else "failed" for outcome in applied["outcome"]],
                [reason if isinstance(reason, str) else None for reason in applied["reason"].tolist()],
            )
        ),
    )
    settled_on = iso(on) if session.get_bind().dialect.name == "sqlite" else on
    updated = session.execute(
        text(
            "UPDATE payment_instructions SET status = s.status, settled_on = :settled_on, return_file_id = :file, "
            "failure_reason = s.reason FROM payout_settled s "
            "WHERE payment_instructions.id = s.instruction_id AND payment_instructions.status = 'exported'"
        ),
        {"file": file_id, "settled_on": settled_on},
    ).rowcount
    # Only exported instructions were matched, under the payouts lock.
    assert updated == len(applied), (updated, len(applied))
    session.execute(
        text(
            "UPDATE payables SET status = CASE WHEN s.status = 'success' THEN 'paid' ELSE 'open' END "
            "FROM instruction_payables l JOIN payout_settled s ON s.instruction_id = l.instruction_id "
            "WHERE payables.id = l.payable_id AND l.active"
        )
    )
    session.execute(
        text(
            "UPDATE instruction_payables SET active = false FROM payout_settled s "
            "WHERE instruction_payables.instruction_id = s.instruction_id AND s.status = 'failed' "
            "AND instruction_payables.active"
        )
    )
    drop_temporary_table(session, "payout_settled")


def _list_for_fixing(session: Session, failures: pd.DataFrame, on: dt.date) -> None:
    """Each failed payee on the fix-the-card list, with the account that failed and why."""
    if len(failures) == 0:
        return
    bulk_insert(
        session,
        "card_fixes",
        (
            "entity_id",
            "payee_type",
            "payee_id",
            "household_id",
            "account_no",
            "account_name",
            "instruction_id",
            "reason",
            "failed_on",
            "status",
        ),
        list(
            zip(
                failures["entity_id"].astype(int).tolist(),
                failures["payee_type"].tolist(),
                failures["payee_id"].tolist(),
                failures["household_id"].tolist(),
                failures["account_no"].tolist(),
                failures["account_name"].tolist(),
                failures["id"].astype(int).tolist(),
                failures["reason"].tolist(),
                [iso(on)] * len(failures),
                ["open"] * len(failures),
            )
        ),
    )


def _settlement_entries(
    session: Session,
    applied: pd.DataFrame,
    failed_lines: pd.DataFrame,
    on: dt.date,
    source: str,
    bank: str,
    bank_account: str | None,
) -> EntryBatch:
    """Per entity: Dr 102.90 / Cr its bank sub-account for the successes, Dr 102.90 / Cr each
    failed payable's account for the failures."""
    entity_ids = sorted(set(applied["entity_id"].astype(int).tolist()))
    entity_codes = dict(session.execute(select(EntityRow.id, EntityRow.code).where(EntityRow.id.in_(entity_ids))).all())
    parts: list[EntryBatch] = []
    for entity_id, group in applied.groupby("entity_id", sort=True):
        entity_code = entity_codes[int(entity_id)]
        successes = group[group["outcome"] == "success"]
        if len(successes):
            bank_ledger_account = _bank_account(session, int(entity_id), entity_code, bank, bank_account)
            total_fen = int(successes["amount_fen"].sum())
            parts.append(_success_entry(entity_code, on, bank_ledger_account, source, total_fen, len(successes)))
        failed = group[group["outcome"] == "failure"]
        if len(failed):
            parts.append(
                entries_against_payables(
                    entity_code,
                    on,
                    f"代发回盘 {source} 失败，退回应付款",
                    "payout_return",
                    source,
                    failed_lines[failed_lines["instruction_id"].isin(set(failed["id"].tolist()))],
                    PAYMENTS_IN_TRANSIT,
                    lines_sign=-1,
                )
            )
    return _concatenated(parts)


def _close_finished_batches(session: Session, batch_ids: list[int]) -> tuple[str, ...]:
    """Close the exported batches of ``batch_ids`` whose every instruction has a result."""
    closing = session.execute(
        text(
            "SELECT batch_reference, id FROM payment_batches WHERE status = 'exported' AND id IN :ids AND NOT EXISTS "
            "(SELECT 1 FROM payment_instructions i WHERE i.batch_id = payment_batches.id AND i.status = 'exported')"
        ).bindparams(bindparam("ids", expanding=True)),
        {"ids": batch_ids},
    ).all()
    if closing:
        session.execute(
            text("UPDATE payment_batches SET status = 'closed', closed_at = :now WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": [row.id for row in closing], "now": utc_now()},
        )
    return tuple(row.batch_reference for row in closing)


def _settle(
    session: Session,
    applied: pd.DataFrame,
    file_id: int,
    on: dt.date,
    source: str,
    digest: str,
    bank: str,
    bank_account: str | None,
    user: str,
) -> tuple[str, ...]:
    """Settle the applied instructions, list the failures for fixing, post, close batches."""
    failed_lines = payable_lines_of(
        session,
        "id IN (SELECT instruction_id FROM return_lines WHERE return_file_id = :file AND outcome = 'failure')",
        {"file": file_id},
        active_only=True,
    )
    _settle_instructions(session, applied, file_id, on)
    _list_for_fixing(session, applied[applied["outcome"] == "failure"], on)
    entries = _settlement_entries(session, applied, failed_lines, on, source, bank, bank_account)
    result = post_entries(session, entries, idempotency_key=f"payout-return:{digest}", user=user)
    session.execute(
        update(ReturnFileRow).where(ReturnFileRow.id == file_id).values(post_request_id=result.post_request_id)
    )
    return _close_finished_batches(session, sorted(set(applied["batch_id"].astype(int).tolist())))


def _return_outcome(
    name: str, digest: str, on: dt.date, applied: pd.DataFrame, matched: pd.DataFrame, closed: tuple[str, ...]
) -> ReturnOutcome:
    success = applied["outcome"] == "success"
    success_fen, failure_fen = (
        int(applied.loc[success, "amount_fen"].sum()),
        int(applied.loc[~success, "amount_fen"].sum()),
    )
    success_count, failure_count = int(success.sum()), int((~success).sum())
    reported = matched[~matched["outcome"].isin(["success", "failure"])]
    shown = tuple(
        ReportedLine(int(row.source_row), row.outcome, row.account_no, int(row.amount_fen), row.memo, row.note)
        for row in reported.head(REPORTED_LINES_SHOWN_MAX).itertuples(index=False)
    )
    message = tr(
        "{file}: {paid:,} paid ({paid_amount} yuan), {failed:,} failed ({failed_amount} yuan, back to payables and "
        "on the fix-the-card list), {reported:,} reported and not applied; postings dated {day}",
        file=Path(name).name,
        paid=success_count,
        paid_amount=format_yuan(success_fen),
        failed=failure_count,
        failed_amount=format_yuan(failure_fen),
        reported=len(reported),
        day=on.isoformat(),
    )
    failures = matched.loc[matched["outcome"] == "failure", "reason_code"]
    if len(failures):
        message += tr("; failures by reason: {reasons}", reasons=failure_counts_text(failures))
    if closed:
        message += tr("; closed {batches}", batches=join_list(closed))
    return ReturnOutcome(
        Path(name).name,
        digest,
        True,
        on,
        success_count,
        success_fen,
        failure_count,
        failure_fen,
        shown,
        len(reported),
        closed,
        message,
    )


def apply_return_file(
    session: Session,
    path: str | os.PathLike[str],
    profile_name: str | None,
    user: str,
    *,
    on: dt.date | None = None,
    batch: str | None = None,
    bank_account: str | None = None,
    profiles_directory: str | None = None,
) -> ReturnOutcome:
    """Apply a bank return file once. Postings are dated ``on`` (default today), in its period.
    Lines are matched by the payment reference in their memo, else by account and amount among
    the unsettled instructions of ``batch`` (default: the batches the other lines name, or every
    exported batch). Refuses a file with errors (``ImportRefused``) or an entity without a bank
    account; reports the lines it does not apply."""
    user = require_user(user)
    on = on or dt.date.today()
    name = os.fspath(path)
    digest = file_sha256(name)
    lock_payouts(session)
    previous = _applied_before(session, name, digest)
    if previous is not None:
        return previous
    lines, bank = _parsed_lines(name, profile_name, profiles_directory)
    by_reference, candidates = _instructions_answered(session, lines, batch)
    matched = match_return_lines(lines, by_reference, candidates)
    instructions = pd.concat([by_reference, candidates], ignore_index=True).drop_duplicates("id")
    applied = _applied_instructions(matched, instructions)
    file_id = _record_file(session, name, digest, profile_name, on, matched, user)
    closed: tuple[str, ...] = ()
    if len(applied):
        source = f"{Path(name).name[:150]} {digest[:12]}"
        closed = _settle(session, applied, file_id, on, source, digest, bank, bank_account, user)
        settle_return_file(session, file_id, user)
    return _return_outcome(name, digest, on, applied, matched, closed)
