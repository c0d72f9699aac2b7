"""Stop (停发): a payable held back from every batch with a mandatory reason, until a checker
other than the one who stopped it releases it. ``payout prepare`` leaves a stopped payable out
and reports it among the payments kept for later, with the stop's reason."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from disburse.foundation.actors import require_user
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr
from disburse.payouts.common import lock_payouts
from disburse.payouts.tables import REASON_LENGTH_MAX, PayableRow, PayableStopRow, utc_now


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DisburseError(tr("a stop and its release each need a reason (--reason)"))
    if len(reason) > REASON_LENGTH_MAX:
        raise DisburseError(
            tr(
                "the reason has {length} characters; at most {length_max}",
                length=len(reason),
                length_max=REASON_LENGTH_MAX,
            )
        )
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
        raise DisburseError(tr("payable {payable} does not exist", payable=payable_id))
    existing = active_stop(session, payable_id)
    if existing is not None:
        return tr(
            "payable {payable} is already stopped (stop {stop} by {user}); nothing changed",
            payable=payable_id,
            stop=existing.id,
            user=existing.stopped_by,
        )
    if payable.status == "paid":
        raise DisburseError(
            tr("payable {payable} is paid: a payment that has gone out is not stopped", payable=payable_id)
        )
    if payable.status == "claimed":
        raise DisburseError(
            tr(
                "payable {payable} is in a batch: cancel the batch first (`disburse payout cancel BATCH`), "
                "then stop the line; a batch already sent to the bank is settled by its return file",
                payable=payable_id,
            )
        )
    stop = PayableStopRow(payable_id=payable_id, reason=reason, status="stopped", stopped_by=user, stopped_at=utc_now())
    session.add(stop)
    session.flush()
    return tr(
        "payable {payable} ({payee}, {programme} {period}) stopped as stop {stop}",
        payable=payable_id,
        payee=payable.payee_id,
        programme=payable.programme,
        period=payable.period,
        stop=stop.id,
    )


def release_stop(session: Session, stop_id: int, reason: str, user: str) -> str:
    """Release a stop, by a user other than the one who made it; the payable is due again."""
    user, reason = require_user(user), _reason(reason)
    lock_payouts(session)
    stop = session.get(PayableStopRow, stop_id)
    if stop is None:
        raise DisburseError(tr("stop {stop} does not exist", stop=stop_id))
    if stop.status != "stopped":
        return tr("stop {stop} was already released by {user}; nothing changed", stop=stop_id, user=stop.released_by)
    if user == stop.stopped_by:
        raise DisburseError(
            tr(
                "{user} made stop {stop} and cannot release it: a checker other than its maker does (separation of "
                "duties)",
                user=user,
                stop=stop_id,
            )
        )
    stop.status, stop.released_by, stop.released_at, stop.release_reason = "released", user, utc_now(), reason
    return tr(
        "stop {stop} released by {user}; payable {payable} is due again",
        stop=stop_id,
        user=user,
        payable=stop.payable_id,
    )


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
