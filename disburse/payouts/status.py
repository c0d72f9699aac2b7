"""The counter clerk's view of one household: every amount due, held for a card fix, in a batch,
in transit, paid, and every failed payment, with programmes, periods, dates and references.

Each yuan is counted once, in the state it is in now. A failed payment is history: its money
went back to the payables (due again, or held until the card is fixed), so the failed attempt
is listed with its reason but is not added to any total; ``totals_fen`` covers the payables
only, and ``failed_attempts`` says how many payments failed.

A payable is held as prepare holds it: while an open card fix names the card it would be paid
to. That is its own card, or, once a fix replaced its card, the payee's newest fixed card (a
re-issue to a fixed card that fails again opens a fix for the new card).

A payable keeps the period its money belongs to: a PV line shared out from a settlement row
carries that row's service period (2025Q1 for a late national subsidy), not the period of the
run that shared it out.

Three queries, each starting from an index on ``household_id`` (payables, payment_instructions)
and joining by primary keys, so the answer takes milliseconds on a province's database.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.orm import Session

from disburse.foundation.dates import as_date_or_none
from disburse.foundation.i18n import TranslatedNames, tr, tr_noop
from disburse.payouts.model import CARD_KIND_NAMES, HouseholdStatus, StatusLine

STATUS_LINES_MAX = 10_000  # a household's whole payout history; far beyond years of monthly runs
# The states a payable can be in now; "failed" is an attempt, not a state of money.
# "undecided": left out by the eligibility recheck, its money held on 211.90 for a decision.
PAYABLE_STATES = ("due", "held", "undecided", "in_batch", "in_transit", "paid")
FAILED = "failed"
# Each state's name, one table for the counter's page, `payout status` and the 明白卡.
STATE_NAME_IDS = {
    "due": tr_noop("awaiting payment"),
    "held": tr_noop("awaiting a card fix"),
    "undecided": tr_noop("held for a decision (211.90)"),
    "in_batch": tr_noop("in a batch"),
    "in_transit": tr_noop("at the bank"),
    "paid": tr_noop("paid to the account"),
    FAILED: tr_noop("payment failed"),
}
STATE_NAMES = TranslatedNames(STATE_NAME_IDS)  # in the language of the moment
# The 明白卡, the statement workbook and `payout status` are Chinese layouts in every language.
STATE_NAMES_ZH = TranslatedNames(STATE_NAME_IDS, "zh")
# 卡别 on the counter's Chinese table and the 明白卡.
CARD_KIND_NAMES_ZH = TranslatedNames(CARD_KIND_NAMES, "zh")
HELD_REASON = tr_noop("awaiting a card fix after a failed payment")
# A PV run tags each line with the settlement row it shares out: "settlement 11 2025Q1 subsidy"
# (allocations.runs builds it from the row's id, service period and revenue type).
_SETTLEMENT_SOURCE = re.compile(r"^settlement \d+ (\d{4}(?:-\d{2}|Q[1-4])) ")

PAYABLES_QUERY = text(
    "SELECT p.id, p.status, p.programme, p.period, p.amount_fen, p.payee_id, p.account_no, p.created_at, "
    "a.source_reference, p.beneficiary_name, p.card_kind, coalesce(i.account_name, p.account_name) AS account_name, "
    "i.payment_reference, i.status AS instruction_status, i.account_no AS paid_account_no, i.settled_on, "
    "i.send_number, "
    # A payable due again counts the sends of it that failed (its next send is that resend).
    "(SELECT count(*) FROM instruction_payables e JOIN payment_instructions f ON f.id = e.instruction_id "
    " WHERE e.payable_id = p.id AND f.status = 'failed') AS failed_sends, "
    "b.batch_reference, b.exported_at, "
    # 发出日期 is the day the export was booked (its --date), not the clock when it was run: the
    # export's posting is the first that carries the payment reference (found by its index).
    "(SELECT min(e.entry_date) FROM postings x JOIN journal_entries e ON e.id = x.entry_id "
    " WHERE x.payment_reference = i.payment_reference) AS exported_on, "
    # Held as prepare holds it: an open card fix on the card the payable would be paid to, which
    # is the payee's newest fixed card when a fix replaced the payable's own card.
    "(SELECT count(*) FROM card_fixes f WHERE f.payee_type = p.payee_type AND f.payee_id = p.payee_id "
    " AND f.status = 'open' AND (f.account_no = p.account_no OR (f.account_no = ("
    # Only approved fixes count: a proposed one is not in force until its checker approves it.
    "  SELECT a.new_account_no FROM account_fixes a WHERE a.payee_type = p.payee_type AND a.payee_id = p.payee_id "
    "  AND a.status = 'approved' ORDER BY a.id DESC LIMIT 1) AND (p.account_no IS NULL OR EXISTS ("
    "  SELECT 1 FROM account_fixes r WHERE r.payee_type = p.payee_type AND r.payee_id = p.payee_id "
    "  AND r.status = 'approved' AND r.old_account_no = p.account_no))))) AS held, "
    # Left out by the eligibility recheck (its money moved to 211.90): the change is the reason.
    "(SELECT h.reason FROM eligibility_holds h WHERE h.payable_id = p.id) AS undecided_reason "
    "FROM payables p "
    "LEFT JOIN allocation_lines a ON a.run_id = p.run_id AND a.line_number = p.source_line "
    "LEFT JOIN instruction_payables l ON l.payable_id = p.id AND l.active "
    "LEFT JOIN payment_instructions i ON i.id = l.instruction_id "
    "LEFT JOIN payment_batches b ON b.id = i.batch_id "
    "WHERE p.household_id = :household ORDER BY p.period, p.id LIMIT :limit"
)
FAILED_QUERY = text(
    "SELECT i.id, i.payment_reference, i.programmes, i.amount_fen, i.payee_id, i.account_no, i.settled_on, "
    "i.failure_reason, i.send_number, b.batch_reference, b.exported_at, "
    "(SELECT min(r.reason_code) FROM return_lines r WHERE r.instruction_id = i.id AND r.outcome = 'failure') "
    "AS failure_code, i.account_name, i.card_kind "
    "FROM payment_instructions i JOIN payment_batches b ON b.id = i.batch_id "
    "WHERE i.household_id = :household AND i.status = 'failed' ORDER BY i.id LIMIT :limit"
)
# The periods of the payables each failed instruction of the household tried to pay.
FAILED_PERIODS_QUERY = text(
    "SELECT l.instruction_id, p.period, a.source_reference "
    "FROM payment_instructions i JOIN instruction_payables l ON l.instruction_id = i.id "
    "JOIN payables p ON p.id = l.payable_id "
    "LEFT JOIN allocation_lines a ON a.run_id = p.run_id AND a.line_number = p.source_line "
    "WHERE i.household_id = :household AND i.status = 'failed' LIMIT :limit"
)

HEAD_QUERY = text("SELECT head_name FROM household_versions WHERE household_id = :household ORDER BY id DESC LIMIT 1")


def service_period(recorded_period: str, source_reference: str | None) -> str:
    """The period a payable's money belongs to: the service period of the settlement row a PV
    line shared out, else the period the payable was recorded for."""
    match = _SETTLEMENT_SOURCE.match(source_reference or "")
    return match.group(1) if match else recorded_period


def _period_start(period: str) -> tuple[int, int, str]:
    """Sort key: the year and first month of ``2026-10`` or ``2025Q1``, then the text."""
    if len(period) >= 6 and period[:4].isdigit():
        if period[4] == "Q" and period[5:6].isdigit():
            return int(period[:4]), 3 * int(period[5]) - 2, period
        if period[4] == "-" and period[5:7].isdigit():
            return int(period[:4]), int(period[5:7]), period
    return 9999, 99, period


def periods_text(periods: set[str]) -> str:
    """One period, or the first and last of several in time order (``2025Q1–2026-10``)."""
    if not periods:
        return ""
    ordered = sorted(periods, key=_period_start)
    return ordered[0] if len(ordered) == 1 else f"{ordered[0]}–{ordered[-1]}"


def _payable_state(row) -> str:  # type: ignore[no-untyped-def]
    if row.status == "paid":
        return "paid"
    if row.status == "claimed":
        return "in_transit" if row.instruction_status == "exported" else "in_batch"
    if row.undecided_reason is not None:
        return "undecided"
    return "held" if row.held else "due"


def _payable_lines(session: Session, household_id: str) -> list[StatusLine]:
    lines = []
    for row in session.execute(PAYABLES_QUERY, {"household": household_id, "limit": STATUS_LINES_MAX}):
        state = _payable_state(row)
        # The bank's reason is on the failed attempt's own line; this one says what happens next.
        reason = tr(HELD_REASON) if state == "held" else row.undecided_reason if state == "undecided" else None
        lines.append(
            StatusLine(
                state,
                row.programme,
                service_period(row.period, row.source_reference),
                int(row.amount_fen),
                row.payee_id,
                row.paid_account_no or row.account_no,
                row.payment_reference,
                row.batch_reference,
                as_date_or_none(row.created_at),
                as_date_or_none(row.exported_on) or as_date_or_none(row.exported_at),
                as_date_or_none(row.settled_on),
                reason,
                row.period,
                int(row.send_number if row.send_number is not None else row.failed_sends),
                None,
                row.beneficiary_name,
                row.account_name,
                row.card_kind,
            )
        )
    return lines


def _failed_lines(session: Session, household_id: str) -> list[StatusLine]:
    parameters = {"household": household_id, "limit": STATUS_LINES_MAX}
    periods: dict[int, set[str]] = {}
    recorded: dict[int, set[str]] = {}
    for instruction_id, period, source_reference in session.execute(FAILED_PERIODS_QUERY, parameters):
        periods.setdefault(instruction_id, set()).add(service_period(period, source_reference))
        recorded.setdefault(instruction_id, set()).add(period)
    return [
        StatusLine(
            FAILED,
            row.programmes,
            periods_text(periods.get(row.id, set())),
            int(row.amount_fen),
            row.payee_id,
            row.account_no,
            row.payment_reference,
            row.batch_reference,
            None,
            as_date_or_none(row.exported_at),
            as_date_or_none(row.settled_on),
            row.failure_reason,
            min(recorded.get(row.id, {""})),
            int(row.send_number),
            row.failure_code,
            None,
            row.account_name,
            row.card_kind,
        )
        for row in session.execute(FAILED_QUERY, parameters)
    ]


def household_status(session: Session, household_id: str) -> HouseholdStatus:
    """Every payout line of ``household_id`` (its own and its members' payables, then its failed
    payments), oldest period first, with totals per state of the payables (due, held, in_batch,
    in_transit, paid): each yuan once. Failed payments are lines of state ``failed`` and count
    in no total (their money is among the payables again)."""
    household_id = household_id.strip()
    lines = _payable_lines(session, household_id) + _failed_lines(session, household_id)
    totals: dict[str, int] = {}
    for line in lines:
        if line.state != FAILED:
            totals[line.state] = totals.get(line.state, 0) + line.amount_fen
    head = session.execute(HEAD_QUERY, {"household": household_id}).scalar()
    return HouseholdStatus(household_id, tuple(lines), totals, head)


def failed_attempts(status: HouseholdStatus) -> int:
    """How many payments to the household failed (each is a line of state ``failed``)."""
    return sum(1 for line in status.lines if line.state == FAILED)
