"""The counter clerk's view of one household: every amount due, held for a card fix, in a batch,
in transit, paid, and every failed payment, with programmes, periods, dates and references.

Two queries, each starting from an index on ``household_id`` (payables, payment_instructions)
and joining by primary keys, so the answer takes milliseconds on a province's database.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from disburse.foundation.dates import as_date_or_none
from disburse.payouts.model import HouseholdStatus, StatusLine

STATUS_LINES_MAX = 10_000  # a household's whole payout history; far beyond years of monthly runs

PAYABLES_QUERY = text(
    "SELECT p.id, p.status, p.programme, p.period, p.amount_fen, p.payee_id, p.account_no, p.created_at, "
    "i.payment_reference, i.status AS instruction_status, i.account_no AS paid_account_no, i.settled_on, "
    "b.batch_reference, b.exported_at, "
    "(SELECT count(*) FROM card_fixes f WHERE f.household_id = p.household_id AND f.payee_id = p.payee_id "
    " AND f.status = 'open' AND f.account_no = p.account_no) AS held "
    "FROM payables p "
    "LEFT JOIN instruction_payables l ON l.payable_id = p.id AND l.active "
    "LEFT JOIN payment_instructions i ON i.id = l.instruction_id "
    "LEFT JOIN payment_batches b ON b.id = i.batch_id "
    "WHERE p.household_id = :household ORDER BY p.period, p.id LIMIT :limit"
)
FAILED_QUERY = text(
    "SELECT i.payment_reference, i.programmes, i.amount_fen, i.payee_id, i.account_no, i.settled_on, "
    "i.failure_reason, b.batch_reference, b.exported_at, "
    "(SELECT min(p.period) FROM instruction_payables l JOIN payables p ON p.id = l.payable_id "
    " WHERE l.instruction_id = i.id) AS period "
    "FROM payment_instructions i JOIN payment_batches b ON b.id = i.batch_id "
    "WHERE i.household_id = :household AND i.status = 'failed' ORDER BY i.id LIMIT :limit"
)


def household_status(session: Session, household_id: str) -> HouseholdStatus:
    """Every payout line of ``household_id`` (its own and its members' payables), newest period
    last, with totals per state: due, held, in_batch, in_transit, paid, failed."""
    household_id = household_id.strip()
    lines: list[StatusLine] = []
    for row in session.execute(PAYABLES_QUERY, {"household": household_id, "limit": STATUS_LINES_MAX}):
        if row.status == "paid":
            state = "paid"
        elif row.status == "claimed":
            state = "in_transit" if row.instruction_status == "exported" else "in_batch"
        else:
            state = "held" if row.held else "due"
        lines.append(
            StatusLine(
                state,
                row.programme,
                row.period,
                int(row.amount_fen),
                row.payee_id,
                row.paid_account_no or row.account_no,
                row.payment_reference,
                row.batch_reference,
                as_date_or_none(row.created_at),
                as_date_or_none(row.exported_at),
                as_date_or_none(row.settled_on),
                "awaiting a card fix after a failed payment" if state == "held" else None,
            )
        )
    for row in session.execute(FAILED_QUERY, {"household": household_id, "limit": STATUS_LINES_MAX}):
        lines.append(
            StatusLine(
                "failed",
                row.programmes,
                row.period or "",
                int(row.amount_fen),
                row.payee_id,
                row.account_no,
                row.payment_reference,
                row.batch_reference,
                None,
                as_date_or_none(row.exported_at),
                as_date_or_none(row.settled_on),
                row.failure_reason,
            )
        )
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.state] = totals.get(line.state, 0) + line.amount_fen
    return HouseholdStatus(household_id, tuple(lines), totals)
