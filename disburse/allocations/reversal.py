"""Reversing a posted run: one reversing entry set, its settlement rows freed, its status
``reversed`` — so that a corrected run can be calculated, which then names it.

What the run made payable is the payouts stage's: the command that reverses a run first calls
``payouts.payables.withdraw_run_payables`` in the same transaction, which refuses when anything
is already paid or in a batch; so a run whose money has gone out is never reversed here.

The reversing entries mirror the run's entries posting for posting (same accounts, households
and fund sources, opposite signs), each naming the entry it reverses. They are dated like the
ledger's own reversals: in the run's period while it is open (on the original entry's date), else
on ``today`` in an open period. A run that posted only its difference from an earlier run is
reversed the same way, and the earlier run is in force again (``posted``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from disburse.allocations.funds import undraw_for_run
from disburse.allocations.tables import AllocationRunRow, SettlementAllocationRow, utc_now
from disburse.foundation.dates import as_date, period_of
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import join_list, tr
from disburse.ledger.model import EntryBatch
from disburse.ledger.posting import post_entries
from disburse.ledger.service import period_is_closed
from disburse.ledger.tables import EntityRow, JournalEntryRow, PostingRow, PostRequestRow

REASON_LENGTH_MAX = 500


@dataclass(frozen=True, slots=True)
class ReverseOutcome:
    """What reversing a run did."""

    run_id: int
    changed: bool
    entry_count: int
    posting_count: int
    settlements_freed: tuple[int, ...]
    restored_run_id: int | None
    message: str


def _run_entries(session: Session, run: AllocationRunRow):  # type: ignore[no-untyped-def]
    """The run's journal entries (one post request) and their postings, in chain order."""
    request = session.get(PostRequestRow, run.post_request_id) if run.post_request_id else None
    if request is None:
        return [], []
    entries = session.execute(
        select(
            JournalEntryRow.id,
            EntityRow.code,
            JournalEntryRow.entity_id,
            JournalEntryRow.period,
            JournalEntryRow.entry_date,
            JournalEntryRow.memo,
        )
        .join(EntityRow, EntityRow.id == JournalEntryRow.entity_id)
        .where(JournalEntryRow.id.between(request.first_entry_id, request.last_entry_id))
        .order_by(JournalEntryRow.id)
    ).all()
    postings = session.execute(
        select(
            PostingRow.entry_id,
            PostingRow.account_code,
            PostingRow.amount_fen,
            PostingRow.household_id,
            PostingRow.fund_source,
            PostingRow.payment_reference,
        )
        .where(PostingRow.entry_id.between(request.first_entry_id, request.last_entry_id))
        .order_by(PostingRow.entry_id, PostingRow.line_number)
    ).all()
    return entries, postings


def _reversal_date(session: Session, entity_id: int, period: str, original: dt.date, today: dt.date) -> dt.date:
    if period_is_closed(session, entity_id, period):
        return today
    return today if period_of(today) == period else original


def _reversing_batch(session: Session, run: AllocationRunRow, today: dt.date) -> EntryBatch | None:
    """The reversing entries, one per entry of the run, postings negated."""
    entries, postings = _run_entries(session, run)
    if not entries:
        return None
    index_of = {row[0]: position for position, row in enumerate(entries)}
    dates = [_reversal_date(session, row[2], row[3], as_date(row[4]), today) for row in entries]
    count = len(entries)
    return EntryBatch(
        entity_code=[row[1] for row in entries],
        period=[period_of(date) for date in dates],
        entry_date=dates,
        memo=[f"冲销 run {run.id}: {row[5]}"[:500] for row in entries],
        source_kind=["allocation_reversal"] * count,
        source_reference=[f"run {run.id}"] * count,
        reverses_entry_id=[row[0] for row in entries],
        label=[f"reversal of run {run.id} entry {row[0]}" for row in entries],
        posting_entry_index=np.asarray([index_of[row[0]] for row in postings], dtype=np.int64),
        account_code=[row[1] for row in postings],
        amount_fen=-np.asarray([int(row[2]) for row in postings], dtype=np.int64),
        household_id=[row[3] for row in postings],
        fund_source=[row[4] for row in postings],
        payment_reference=[row[5] for row in postings],
    )


def _refuse_status(session: Session, run: AllocationRunRow) -> None:
    if run.status == "superseded":
        later = session.scalar(
            select(AllocationRunRow.id)
            .where(AllocationRunRow.supersedes_run_id == run.id, AllocationRunRow.status == "posted")
            .order_by(AllocationRunRow.id.desc())
        )
        raise DisburseError(
            tr(
                "run {run} is superseded: run {later} posted its difference from it; reverse run {later} first, "
                "then run {run}",
                run=run.id,
                later=later,
            )
        )
    if run.status != "posted":
        raise DisburseError(
            tr(
                "run {run} is {status}; only a posted run is reversed (a calculated or approved run is cancelled "
                "with `disburse runs cancel {run}`)",
                run=run.id,
                status=run.status,
            )
        )


def reverse_run(
    session: Session,
    run_id: int,
    user: str,
    *,
    reason: str | None = None,
    withdrawn: dict | None = None,
    today: dt.date | None = None,
) -> ReverseOutcome:
    """Reverse a posted run (see the module doc). Reversing it again changes nothing. The
    caller withdraws the run's payables in the same transaction, before this, and hands what was
    withdrawn (``WithdrawnPayables.as_record()``) as ``withdrawn`` for the run's record."""
    run = session.get(AllocationRunRow, run_id)
    if run is None:
        raise DisburseError(tr("allocation run {run} does not exist; `disburse runs list` shows the runs", run=run_id))
    if run.status == "reversed":
        return ReverseOutcome(
            run_id, False, 0, 0, (), None, tr("run {run} is already reversed; nothing changed", run=run_id)
        )
    _refuse_status(session, run)
    batch = _reversing_batch(session, run, today or dt.date.today())
    request_id = None
    if batch is not None:
        posted = post_entries(session, batch, idempotency_key=f"reverse-run:{run_id}", user=user)
        request_id = posted.post_request_id
    undraw_for_run(session, run_id, user)
    freed = tuple(
        session.scalars(select(SettlementAllocationRow.settlement_id).where(SettlementAllocationRow.run_id == run_id))
    )
    restored = session.get(AllocationRunRow, run.supersedes_run_id) if run.supersedes_run_id else None
    if restored is not None and restored.status == "superseded":
        restored.status = "posted"
    else:
        restored = None
    run.status, run.reversed_by, run.reversed_at = "reversed", user, utc_now()
    # Its key is freed, so the same rule, period and inputs can be calculated again (a new run).
    run.run_key = f"reversed-{run_id}"
    run.reversal_reason = reason[:REASON_LENGTH_MAX] if reason else None
    run.reversal_post_request_id = request_id
    record = {**(withdrawn or {}), "settlements_freed": sorted(freed)}
    run.reversal_json = json.dumps(record, ensure_ascii=False, sort_keys=True)
    # The run is reversed in the database before its settlements are freed: the guard on
    # settlement_allocations (migration 0080) lets only a reversed run's rows go.
    session.flush()
    session.execute(delete(SettlementAllocationRow).where(SettlementAllocationRow.run_id == run_id))
    entries = batch.entry_count if batch is not None else 0
    postings = batch.posting_count if batch is not None else 0
    message = tr(
        "run {run} reversed: {entries} reversing entries, {postings} postings",
        run=run_id,
        entries=entries,
        postings=postings,
    )
    if freed:
        message += tr("; settlement rows {rows} are free for a corrected run", rows=join_list(map(str, sorted(freed))))
    if restored is not None:
        message += tr("; run {run}, whose difference it posted, is in force again", run=restored.id)
    return ReverseOutcome(run_id, True, entries, postings, freed, restored.id if restored else None, message)


def reversed_settlements(run: AllocationRunRow) -> list[int]:
    """The settlement rows a reversed run had taken (from what it stored)."""
    return [row[0] for row in json.loads(run.inputs_description).get("settlements", [])]


__all__ = ["ReverseOutcome", "reverse_run", "reversed_settlements"]
