"""Stop (停发): a payable held back from every batch with a mandatory reason, until a checker
other than the one who stopped it releases it. ``payout prepare`` leaves a stopped payable out
and reports it among the payments kept for later, with the stop's reason."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from disburse.foundation.actors import require_user
from disburse.foundation.errors import DisburseError
from disburse.payouts.common import lock_payouts
from disburse.payouts.tables import REASON_LENGTH_MAX, PayableRow, PayableStopRow, utc_now


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DisburseError("a stop and its release each need a reason (--reason)")
    if len(reason) > REASON_LENGTH_MAX:
        raise DisburseError(f"the reason has {len(reason)} characters; at most {REASON_LENGTH_MAX}")
    return reason


def active_stop(session: Session, payable_id: int) -> PayableStopRow | None:
    return session.scalar(
        select(PayableStopRow).where(PayableStopRow.payable_id == payable_id, PayableStopRow.status == "stopped")
    )


def stop_payable(session: Session, payable_id: int, reason: str, user: str) -> str:
    """Stop payable ``payable_id``: it stays out of every batch until released. A payable
    already in a batch is stopped only once that batch is cancelled (it may have gone to the
    bank); a paid one cannot be stopped."""
    user, reason = require_user(user), _reason(reason)
    lock_payouts(session)
    payable = session.get(PayableRow, payable_id)
    if payable is None:
        raise DisburseError(f"payable {payable_id} does not exist")
    existing = active_stop(session, payable_id)
    if existing is not None:
        return f"payable {payable_id} is already stopped (stop {existing.id} by {existing.stopped_by}); nothing changed"
    if payable.status == "paid":
        raise DisburseError(f"payable {payable_id} is paid: a payment that has gone out is not stopped")
    if payable.status == "claimed":
        raise DisburseError(
            f"payable {payable_id} is in a batch: cancel the batch first (`disburse payout cancel BATCH`), "
            "then stop the line; a batch already sent to the bank is settled by its return file"
        )
    stop = PayableStopRow(payable_id=payable_id, reason=reason, status="stopped", stopped_by=user, stopped_at=utc_now())
    session.add(stop)
    session.flush()
    return f"payable {payable_id} ({payable.payee_id}, {payable.programme} {payable.period}) stopped as stop {stop.id}"


def release_stop(session: Session, stop_id: int, reason: str, user: str) -> str:
    """Release a stop, by a user other than the one who made it; the payable is due again."""
    user, reason = require_user(user), _reason(reason)
    lock_payouts(session)
    stop = session.get(PayableStopRow, stop_id)
    if stop is None:
        raise DisburseError(f"stop {stop_id} does not exist")
    if stop.status != "stopped":
        return f"stop {stop_id} was already released by {stop.released_by}; nothing changed"
    if user == stop.stopped_by:
        raise DisburseError(
            f"{user} made stop {stop_id} and cannot release it: a checker other than its maker does (separation of "
            "duties)"
        )
    stop.status, stop.released_by, stop.released_at, stop.release_reason = "released", user, utc_now(), reason
    return f"stop {stop_id} released by {user}; payable {stop.payable_id} is due again"


def stopped_payables(session: Session, payable_ids: list[int]) -> dict[int, tuple[int, str]]:
    """Of ``payable_ids``, those stopped now: payable id → (stop id, reason)."""
    if not session.scalar(select(PayableStopRow.id).where(PayableStopRow.status == "stopped").limit(1)):
        return {}
    rows = session.execute(
        select(PayableStopRow.payable_id, PayableStopRow.id, PayableStopRow.reason).where(
            PayableStopRow.status == "stopped"
        )
    ).all()
    wanted = set(payable_ids)
    return {int(payable): (int(stop), str(reason)) for payable, stop, reason in rows if int(payable) in wanted}
