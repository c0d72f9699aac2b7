"""The four-eyes workflow both faces drive: a calculated run or a prepared batch waits in the
checker's queue (with its difference from the previous period), and the checker approves it or
returns it to its maker with a comment.

Approving a run posts it and records what it made payable, in the caller's one transaction, so
the cashier can batch it at once; returning a run or batch cancels it (a run's key is freed, a
batch's payables are open again) and keeps the comment for the maker, who corrects and submits
again. Each function composes the stages' own service functions; none commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from disburse.accounts.reviews import record_decision
from disburse.allocations.run_review import LevelOutcome, approve_at_level, return_at_level, review_state
from disburse.allocations.runs import PostOutcome, approve_run, post_run, run_row
from disburse.allocations.tables import AllocationExclusionRow, AllocationRunRow
from disburse.foundation.actors import require_user
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr
from disburse.ledger.tables import EntityRow
from disburse.payouts.model import BATCH_STATUS_NAMES, BatchOutcome
from disburse.payouts.notices import RUN_STATUS_NAMES
from disburse.payouts.payables import record_payables
from disburse.payouts.service import approve_batch, batch_by_reference, cancel_batch
from disburse.payouts.tables import BatchFileRow, PaymentBatchRow

QUEUE_ITEMS_MAX = 500
EXCLUSIONS_SHOWN_MAX = 5_000
PREVIOUS_BATCH_STATUSES = ("exported", "closed")
PREVIOUS_RUN_STATUSES = ("posted", "superseded")


@dataclass(frozen=True, slots=True)
class QueueItem:
    """A run or batch waiting for a checker, and the same figures of the previous period's."""

    kind: str  # run | batch
    reference: str  # the run id as text, or the batch reference
    title: str
    period: str
    entity_code: str
    maker: str
    made_at: dt.datetime
    amount_fen: int  # a run's payable total, a batch's total
    count: int  # a run's lines, a batch's payments
    approvals: str  # "" for runs; "0/1", "1/2" … for batches
    previous_reference: str | None
    previous_period: str | None
    previous_amount_fen: int | None
    previous_count: int | None

    @property
    def amount_difference_fen(self) -> int | None:
        return None if self.previous_amount_fen is None else self.amount_fen - self.previous_amount_fen

    @property
    def count_difference(self) -> int | None:
        return None if self.previous_count is None else self.count - self.previous_count


def post_run_and_payables(session: Session, run_id: int, user: str, today: dt.date | None = None) -> PostOutcome:
    """Post an approved run and record the payables the posting made, in one transaction."""
    outcome = post_run(session, run_id, user, today=today)
    record_payables(session, outcome.payables)
    return outcome


def approve_and_post_run(session: Session, run_id: int, user: str, today: dt.date | None = None) -> PostOutcome:
    """The checker approves a calculated run (not their own); it is posted and its payables
    recorded at once."""
    user = require_user(user)
    run = run_row(session, run_id)
    approve_run(session, run_id, user)
    record_decision(session, "run", str(run_id), run.calculated_by, "approved", "", user)
    return post_run_and_payables(session, run_id, user, today=today)


@dataclass(frozen=True, slots=True)
class ReviewedRun:
    """What a checker's approval on the review page did: the level's outcome, and the post when
    that approval was the last the run needed (None while the run climbs its chain)."""

    level: LevelOutcome
    posted: PostOutcome | None


def approve_reviewed_run(
    session: Session, run_id: int, user: str, level: str | None, today: dt.date | None = None
) -> ReviewedRun:
    """The review page's approval: a run without a review chain is approved and posted at once
    (``approve_and_post_run``); a run with one is approved at ``level``, the level the page
    showed it waiting for, and is posted once the last level it needs approves."""
    user = require_user(user)
    run = run_row(session, run_id)
    if review_state(session, run) is None:
        posted = approve_and_post_run(session, run_id, user, today=today)
        return ReviewedRun(LevelOutcome(run_id, True, True, posted.message), posted)
    outcome = approve_at_level(session, run_id, user, level)
    if not (outcome.changed and outcome.run_approved):
        return ReviewedRun(outcome, None)
    record_decision(session, "run", str(run_id), run.calculated_by, "approved", "", user)
    return ReviewedRun(outcome, post_run_and_payables(session, run_id, user, today=today))


def return_run(session: Session, run_id: int, user: str, comment: str, level: str | None = None) -> str:
    """The checker returns a calculated run to its maker with a comment; the run is cancelled,
    so the maker can calculate it again once it is corrected. A run with a review chain is
    returned by the level it waits for (``allocations.run_review``)."""
    user = require_user(user)
    run = run_row(session, run_id)
    if run.status != "calculated":
        raise DisburseError(
            tr(
                "run {run} is {status}; only a calculated run waiting for review can be returned",
                run=run_id,
                status=tr(RUN_STATUS_NAMES.get(run.status, run.status)),
            )
        )
    record_decision(session, "run", str(run_id), run.calculated_by, "returned", comment, user)
    return return_at_level(session, run_id, user, level, comment)


def approve_batch_reviewed(session: Session, reference: str, user: str) -> BatchOutcome:
    """The checker approves a prepared batch (``payouts.service.approve_batch``), and the
    decision is kept beside the returns."""
    user = require_user(user)
    outcome = approve_batch(session, reference, user)
    if outcome.changed:
        batch = batch_by_reference(session, reference)
        record_decision(session, "batch", batch.batch_reference, batch.prepared_by, "approved", "", user)
    return outcome


def return_batch(session: Session, reference: str, user: str, comment: str) -> str:
    """The checker returns a prepared batch with a comment: it is cancelled and its payables are
    open again for the maker to batch once corrected."""
    user = require_user(user)
    batch = batch_by_reference(session, reference)
    if batch.status != "prepared":
        raise DisburseError(
            tr(
                "batch {batch} is {status}; only a batch waiting for review can be returned",
                batch=batch.batch_reference,
                status=tr(BATCH_STATUS_NAMES.get(batch.status, batch.status)),
            )
        )
    record_decision(session, "batch", batch.batch_reference, batch.prepared_by, "returned", comment, user)
    outcome = cancel_batch(session, batch.batch_reference, user)
    return tr(
        "batch {batch} returned to {maker} by {user}; {outcome}",
        batch=batch.batch_reference,
        maker=batch.prepared_by,
        user=user,
        outcome=outcome.message,
    )


def _previous_run(session: Session, run: AllocationRunRow) -> AllocationRunRow | None:
    return session.scalar(
        select(AllocationRunRow)
        .where(
            AllocationRunRow.rule_kind == run.rule_kind,
            AllocationRunRow.rule_subject == run.rule_subject,
            AllocationRunRow.period < run.period,
            AllocationRunRow.status.in_(PREVIOUS_RUN_STATUSES),
        )
        .order_by(AllocationRunRow.period.desc(), AllocationRunRow.id.desc())
        .limit(1)
    )


def _previous_batch(session: Session, batch: PaymentBatchRow) -> PaymentBatchRow | None:
    return session.scalar(
        select(PaymentBatchRow)
        .where(
            PaymentBatchRow.entity_id == batch.entity_id,
            PaymentBatchRow.id < batch.id,
            PaymentBatchRow.status.in_(PREVIOUS_BATCH_STATUSES),
        )
        .order_by(PaymentBatchRow.id.desc())
        .limit(1)
    )


def _run_item(session: Session, run: AllocationRunRow) -> QueueItem:
    previous = _previous_run(session, run)
    return QueueItem(
        "run",
        str(run.id),
        run.rule_name,
        run.period,
        run.paying_entity_code,
        run.calculated_by,
        run.calculated_at,
        run.payable_fen,
        run.line_count,
        "",
        str(previous.id) if previous else None,
        previous.period if previous else None,
        previous.payable_fen if previous else None,
        previous.line_count if previous else None,
    )


def _batch_item(session: Session, batch: PaymentBatchRow, entity_code: str) -> QueueItem:
    previous = _previous_batch(session, batch)
    approved = int(batch.first_approved_by is not None) + int(batch.second_approved_by is not None)
    return QueueItem(
        "batch",
        batch.batch_reference,
        batch.programme_filter or tr("all programmes"),
        batch.period_filter or batch.batch_reference.split("-")[1],
        entity_code,
        batch.prepared_by,
        batch.prepared_at,
        batch.total_fen,
        batch.instruction_count,
        f"{approved}/{batch.approvals_required}",
        previous.batch_reference if previous else None,
        (previous.period_filter or previous.batch_reference.split("-")[1]) if previous else None,
        previous.total_fen if previous else None,
        previous.instruction_count if previous else None,
    )


def review_queue(session: Session) -> list[QueueItem]:
    """Calculated runs and prepared batches, oldest first, each with the previous period's figures."""
    runs = session.scalars(
        select(AllocationRunRow)
        .where(AllocationRunRow.status == "calculated")
        .order_by(AllocationRunRow.id)
        .limit(QUEUE_ITEMS_MAX)
    ).all()
    batches = session.execute(
        select(PaymentBatchRow, EntityRow.code)
        .join(EntityRow, EntityRow.id == PaymentBatchRow.entity_id)
        .where(PaymentBatchRow.status == "prepared")
        .order_by(PaymentBatchRow.id)
        .limit(QUEUE_ITEMS_MAX)
    ).all()
    return [_run_item(session, run) for run in runs] + [_batch_item(session, batch, code) for batch, code in batches]


def previous_run_of(session: Session, run_id: int) -> AllocationRunRow | None:
    """The previous period's posted run of the same rule and subject, if any."""
    return _previous_run(session, run_row(session, run_id))


def run_exclusions(session: Session, run_id: int, limit: int = EXCLUSIONS_SHOWN_MAX) -> pd.DataFrame:
    """The households and people a run left out, and why (at most ``limit``)."""
    rows = session.execute(
        select(AllocationExclusionRow.household_id, AllocationExclusionRow.id_number, AllocationExclusionRow.reason)
        .where(AllocationExclusionRow.run_id == run_id)
        .order_by(AllocationExclusionRow.id)
        .limit(limit)
    ).all()
    return pd.DataFrame([tuple(row) for row in rows], columns=["household_id", "id_number", "reason"])


BATCHES_SHOWN_MAX = 100


def recent_batches(
    session: Session, limit: int = BATCHES_SHOWN_MAX, entity_code: str | None = None
) -> list[tuple[PaymentBatchRow, str]]:
    """The newest batches (of one entity, if named) with their entity codes, newest first."""
    statement = select(PaymentBatchRow, EntityRow.code).join(EntityRow, EntityRow.id == PaymentBatchRow.entity_id)
    if entity_code is not None:
        statement = statement.where(EntityRow.code == entity_code)
    rows = session.execute(statement.order_by(PaymentBatchRow.id.desc()).limit(limit)).all()
    return [(batch, code) for batch, code in rows]


def batch_files(session: Session, reference: str) -> list[BatchFileRow]:
    """The bank files recorded for a batch, by number."""
    batch = batch_by_reference(session, reference)
    return list(
        session.scalars(
            select(BatchFileRow).where(BatchFileRow.batch_id == batch.id).order_by(BatchFileRow.file_number)
        )
    )
