"""What payouts do to budget indicators (allocations.funds): a prepared batch freezes, per
indicator, the payables it claimed; the bank's answer pays (success) or releases (failure, 退款)
them; a cancelled batch releases them. A payable is on the indicator its run drew on.

Each function is one grouped query and at most a few inserts, called once from the step it
follows; with no indicator at all (no draw ever recorded) they return at once.
"""

from __future__ import annotations

from sqlalchemy import exists, insert, select, text
from sqlalchemy.orm import Session

from disburse.allocations.tables import FundMovementRow

# Per indicator, the payables of the instructions chosen by ``{where}`` (on i, the instruction).
_BY_INDICATOR = """
SELECT m.indicator_id, sum(p.amount_fen) AS amount_fen
  FROM payment_instructions i
  JOIN instruction_payables l ON l.instruction_id = i.id
  JOIN payables p ON p.id = l.payable_id
  JOIN fund_movements m ON m.run_id = p.run_id AND m.kind = 'draw'
 WHERE {where}
 GROUP BY m.indicator_id
 ORDER BY m.indicator_id
"""


def _any_draw(session: Session) -> bool:
    return bool(session.scalar(select(exists().where(FundMovementRow.kind == "draw"))))


def _record(session: Session, kind: str, sums, user: str, **reference: int) -> None:  # type: ignore[no-untyped-def]
    rows = [
        {"indicator_id": int(row.indicator_id), "kind": kind, "amount_fen": int(row.amount_fen), "created_by": user}
        | reference
        for row in sums
        if int(row.amount_fen) != 0
    ]
    if rows:
        session.execute(insert(FundMovementRow), rows)


def freeze_batch(session: Session, batch_id: int, user: str) -> None:
    """After a batch is prepared: freeze what it claimed, per indicator."""
    if not _any_draw(session):
        return
    sums = session.execute(text(_BY_INDICATOR.format(where="i.batch_id = :batch AND l.active")), {"batch": batch_id})
    _record(session, "freeze", sums, user, batch_id=batch_id)


def release_batch(session: Session, batch_id: int, user: str) -> None:
    """After a prepared or approved batch is cancelled: release what it froze."""
    if not _any_draw(session):
        return
    sums = session.execute(text(_BY_INDICATOR.format(where="i.batch_id = :batch")), {"batch": batch_id})
    _record(session, "release", sums, user, batch_id=batch_id)


def settle_return_file(session: Session, return_file_id: int, user: str) -> None:
    """After a return file is applied: its successes pay, its failures release (退款), per indicator."""
    if not _any_draw(session):
        return
    for outcome, kind in (("success", "pay"), ("failure", "release")):
        where = (
            "i.id IN (SELECT r.instruction_id FROM return_lines r WHERE r.return_file_id = :file "
            f"AND r.outcome = '{outcome}')"
        )
        sums = session.execute(text(_BY_INDICATOR.format(where=where)), {"file": return_file_id})
        _record(session, kind, sums, user, return_file_id=return_file_id)
