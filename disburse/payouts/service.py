"""Service functions of payouts, one per command, each inside the caller's transaction (the
command opens it, calls one of these and commits once; nothing here commits).

prepare (``payouts.prepare``) → approve → export (``payouts.export``) → returns
(``payouts.settlement``), with cancel before export, and card fixes by a maker and a checker
(``payouts.fixes``). This module holds approve and cancel and names every command's function,
so callers import them from one place. Every state change of payouts takes one lock first
(PostgreSQL: a transaction advisory lock; SQLite: the write lock that ``BEGIN IMMEDIATE``
already holds), so two commands at once run one after the other; the partial unique index on
active claims refuses a payable in two instructions whatever happens.
"""

from __future__ import annotations

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from disburse.foundation.actors import require_user
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr
from disburse.foundation.money import format_yuan
from disburse.payouts.common import (
    batch_by_reference,
    batch_instructions,
    entries_against_payables,
    lock_payouts,
    next_numbers,
    payable_lines_of,
)
from disburse.payouts.config import PayoutConfig, load_payout_config
from disburse.payouts.export import export_batch
from disburse.payouts.fixes import approve_fix, fix_account, fix_list, fix_log, reject_fix
from disburse.payouts.funds import release_batch
from disburse.payouts.model import BATCH_STATUS_NAMES, BatchOutcome
from disburse.payouts.prepare import prepare_batch
from disburse.payouts.tables import PaymentInstructionRow, utc_now

__all__ = [
    "approve_batch",
    "approve_fix",
    "batch_by_reference",
    "batch_instructions",
    "cancel_batch",
    "entries_against_payables",
    "export_batch",
    "fix_account",
    "fix_list",
    "fix_log",
    "lock_payouts",
    "next_numbers",
    "payable_lines_of",
    "prepare_batch",
    "reject_fix",
]


def _first_approval(batch, user: str, required: int, now, config: PayoutConfig) -> BatchOutcome:  # type: ignore[no-untyped-def]
    """The first approval: it completes a batch that needs one approver; one above the threshold
    now waits for a second."""
    batch.first_approved_by, batch.first_approved_at, batch.approvals_required = user, now, required
    if required == 1:
        batch.status = "approved"
        return BatchOutcome(
            batch.batch_reference,
            "approved",
            True,
            tr("batch {batch} approved by {user}; it can be exported", batch=batch.batch_reference, user=user),
        )
    return BatchOutcome(
        batch.batch_reference,
        "prepared",
        True,
        tr(
            "batch {batch} approved by {user} (1 of 2): its total {total} yuan is above {threshold} yuan, so a "
            "second approver other than {preparer} and {user} is needed",
            batch=batch.batch_reference,
            user=user,
            total=format_yuan(batch.total_fen),
            threshold=format_yuan(config.second_approval_above_fen),
            preparer=batch.prepared_by,
        ),
    )


def approve_batch(session: Session, reference: str, user: str, config: PayoutConfig | None = None) -> BatchOutcome:
    """Approve a prepared batch: by someone other than its preparer; a batch whose total is
    above the configured threshold needs a second approver, different from both."""
    user = require_user(user)
    config = config or load_payout_config()
    lock_payouts(session)
    batch = batch_by_reference(session, reference)
    if batch.status in ("cancelled",):
        raise DisburseError(
            tr(
                "batch {batch} was cancelled by {user}; it cannot be approved",
                batch=batch.batch_reference,
                user=batch.cancelled_by,
            )
        )
    if batch.status != "prepared":
        return BatchOutcome(
            batch.batch_reference,
            batch.status,
            False,
            tr(
                "batch {batch} is already {status}; nothing changed",
                batch=batch.batch_reference,
                status=tr(BATCH_STATUS_NAMES.get(batch.status, batch.status)),
            ),
        )
    if user == batch.prepared_by:
        raise DisburseError(
            tr(
                "{user} prepared batch {batch} and cannot approve it: a batch is approved by someone "
                "other than its preparer (separation of duties)",
                user=user,
                batch=batch.batch_reference,
            )
        )
    required = max(batch.approvals_required, config.approvals_required(batch.total_fen))
    now = utc_now()
    if batch.first_approved_by is None:
        return _first_approval(batch, user, required, now, config)
    if user == batch.first_approved_by:
        return BatchOutcome(
            batch.batch_reference,
            "prepared",
            False,
            tr(
                "{user} already approved batch {batch}; a second approver other than {preparer} and {user} is "
                "needed; nothing changed",
                user=user,
                batch=batch.batch_reference,
                preparer=batch.prepared_by,
            ),
        )
    batch.second_approved_by, batch.second_approved_at, batch.approvals_required = user, now, required
    batch.status = "approved"
    return BatchOutcome(
        batch.batch_reference,
        "approved",
        True,
        tr(
            "batch {batch} approved by {first} and {user}; it can be exported",
            batch=batch.batch_reference,
            first=batch.first_approved_by,
            user=user,
        ),
    )


def _release(session: Session, instruction_condition: str, parameters: dict) -> int:
    """Give the payables of the instructions selected back (open again) and end their claims."""
    session.execute(
        text(
            f"UPDATE payables SET status = 'open' WHERE id IN (SELECT payable_id FROM instruction_payables "
            f"WHERE active AND instruction_id IN (SELECT id FROM payment_instructions WHERE {instruction_condition}))"
        ),
        parameters,
    )
    return session.execute(
        text(
            f"UPDATE instruction_payables SET active = false WHERE active AND instruction_id IN "
            f"(SELECT id FROM payment_instructions WHERE {instruction_condition})"
        ),
        parameters,
    ).rowcount


def cancel_batch(session: Session, reference: str, user: str) -> BatchOutcome:
    """Cancel a batch that has not gone to the bank: its payables are open again."""
    user = require_user(user)
    lock_payouts(session)
    batch = batch_by_reference(session, reference)
    if batch.status == "cancelled":
        return BatchOutcome(
            batch.batch_reference,
            "cancelled",
            False,
            tr("batch {batch} is already cancelled", batch=batch.batch_reference),
        )
    if batch.status not in ("prepared", "approved"):
        raise DisburseError(
            tr(
                "batch {batch} is {status}: its file went to the bank, so it cannot be cancelled; "
                "the bank's return file settles each payment",
                batch=batch.batch_reference,
                status=tr(BATCH_STATUS_NAMES.get(batch.status, batch.status)),
            )
        )
    released = _release(session, "batch_id = :batch", {"batch": batch.id})
    session.execute(
        update(PaymentInstructionRow).where(PaymentInstructionRow.batch_id == batch.id).values(status="cancelled")
    )
    batch.status, batch.cancelled_by, batch.cancelled_at = "cancelled", user, utc_now()
    release_batch(session, batch.id, user)
    return BatchOutcome(
        batch.batch_reference,
        "cancelled",
        True,
        tr("batch {batch} cancelled; {count:,} payable(s) are open again", batch=batch.batch_reference, count=released),
    )
