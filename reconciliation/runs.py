"""Reconciliation runs: read one account's period, match it, store the matches (``disburse
reconcile``), and record a person's decisions on candidates (``reconcile confirm|reject``).

Storing is idempotent: a run keeps the stored matches it finds again, adds the new ones and
removes the undecided ones it no longer finds; confirmed and rejected matches are never
removed. Earlier confirmations are handed to the matcher as ``PriorMatch`` (they come back with
the same match id) and rejected ids are never proposed again. Everything happens inside the
caller's transaction; nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from ledger_core.model import DisburseError
from payouts.bulk import bulk_insert
from reconciliation.adjusted_balance import adjusted_balance
from reconciliation.frames import ReconciliationInputs, read_frame, reconciliation_inputs
from reconciliation.matching import reconcile
from reconciliation.model import AdjustedBalance, MatchSettings, ReconciliationResult
from reconciliation.statements import BankAccountRef, bank_account_by_reference
from reconciliation.tables import USER_LENGTH_MAX, MatchRow, ReconciliationRunRow, utc_now

# PostgreSQL: one run per bank account at a time (two runs of one period would both insert the
# same new matches). SQLite already serialises writers with BEGIN IMMEDIATE.
POSTGRESQL_RECONCILE_LOCK = 7_305_202_612
UNDECIDED_STATUSES = ("matched", "candidate")
IDS_PER_STATEMENT = 10_000
MATCH_COLUMNS_STORED = ("match_id", "bank_account_id", "period", "run_id", "rule", "score", "status", "amount_fen",
                        "book_amount_fen", "difference_fen", "decided_by", "decided_at")


@dataclass(frozen=True, slots=True)
class RunCounts:
    """How a run's items ended up (matches by status, and what is left over on each side)."""

    statement_lines: int
    book_items: int
    instructions: int
    matched: int
    candidates: int
    confirmed: int
    bank_only: int
    book_only: int
    mismatches: int
    duplicates: int


@dataclass(frozen=True, slots=True, eq=False)
class RunOutcome:
    """One reconciliation of one account's period: the inputs, the result, the counts, the
    调节表 (None with ``balance_problem`` when the statement gives no closing balance), and
    what storing changed (None for a run that was not stored)."""

    inputs: ReconciliationInputs
    result: ReconciliationResult
    counts: RunCounts
    balance: AdjustedBalance | None
    balance_problem: str | None
    run_id: int | None
    added: int
    removed: int
    message: str


def require_user(user: str) -> str:
    if not user or len(user) > USER_LENGTH_MAX:
        raise DisburseError(f"a user name of 1 to {USER_LENGTH_MAX} characters is required (--user or DISBURSE_USER)")
    return user


def run_counts(inputs: ReconciliationInputs, result: ReconciliationResult) -> RunCounts:
    statuses = result.matches["status"].value_counts()
    return RunCounts(
        statement_lines=len(inputs.statement), book_items=len(inputs.book), instructions=len(inputs.instructions),
        matched=int(statuses.get("matched", 0)), candidates=int(statuses.get("candidate", 0)),
        confirmed=int(statuses.get("confirmed", 0)), bank_only=len(result.bank_only), book_only=len(result.book_only),
        mismatches=len(result.amount_mismatches), duplicates=len(result.duplicates),
    )


def compute(session: Session, account: BankAccountRef, period: str, settings: MatchSettings | None = None
            ) -> tuple[ReconciliationInputs, ReconciliationResult, AdjustedBalance | None, str | None]:
    """Read and match one account's period, and build its 调节表 when the statement has a
    closing balance; stores nothing."""
    inputs = reconciliation_inputs(session, account, period, settings)
    result = reconcile(inputs.statement, inputs.book, inputs.instructions, inputs.settings)
    if inputs.bank_balance.balance_fen is None:
        return inputs, result, None, inputs.bank_balance.problem
    balance = adjusted_balance(inputs.book_balance_fen, inputs.bank_balance.balance_fen, result, as_of=inputs.dates.end)
    return inputs, result, balance, None


def _timestamp_text(value: object) -> str | None:
    """A decision time as the drivers take it: ISO text (SQLite's text query gives text back)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return value if isinstance(value, str) else pd.Timestamp(value).isoformat(sep=" ")


def _stored_status(rule: str, status: str) -> str:
    # A line posted by post-unmatched and its posting are a match the books made, not a
    # person's confirmation of a candidate.
    return "matched" if rule == "post_unmatched" else status


def _store(session: Session, inputs: ReconciliationInputs, result: ReconciliationResult, run_id: int) -> tuple[int, int]:
    """Bring the stored matches of the account's period in line with ``result``; returns (added,
    removed)."""
    account, period = inputs.account, inputs.dates.period
    existing = read_frame(session, "SELECT id, match_id, status, rule, score FROM matches WHERE bank_account_id = :account "
                          "AND period = :period", {"account": account.id, "period": period})
    matches = result.matches
    found = set(matches["match_id"].tolist())
    # Python sets: pandas' isin over a million string ids costs about a second each time.
    existing_found = np.fromiter((match_id in found for match_id in existing["match_id"].tolist()), dtype=bool,
                                 count=len(existing))
    undecided = existing["status"].isin(UNDECIDED_STATUSES).to_numpy()
    gone = existing[undecided & ~existing_found]
    gone_ids = gone["id"].astype(np.int64).tolist()
    for start in range(0, len(gone_ids), IDS_PER_STATEMENT):
        chunk = gone_ids[start:start + IDS_PER_STATEMENT]
        for table in ("match_statement_lines", "match_postings", "match_instructions", "match_payment_references"):
            session.execute(text(f"DELETE FROM {table} WHERE match_row_id IN :ids").bindparams(
                bindparam("ids", expanding=True)), {"ids": chunk})
        session.execute(text("DELETE FROM matches WHERE id IN :ids").bindparams(bindparam("ids", expanding=True)),
                        {"ids": chunk})

    # A match found again keeps its row; its rule, score or status change only when the inputs
    # did (a candidate a later confirmation elsewhere turned into a confirmed one).
    again = existing[existing_found & undecided].merge(
        matches[["match_id", "rule", "score", "status"]], on="match_id", suffixes=("", "_new"))
    again = again.assign(status_new=[_stored_status(rule, status) for rule, status in zip(again["rule_new"], again["status_new"])])
    changed = again[(again["rule"] != again["rule_new"]) | (again["score"] != again["score_new"])
                    | (again["status"] != again["status_new"])]
    for row in changed.itertuples(index=False):
        session.execute(update(MatchRow).where(MatchRow.id == int(row.id)).values(
            rule=row.rule_new, score=int(row.score_new), status=row.status_new))

    stored_ids = set(existing["match_id"].tolist())
    new = matches[np.fromiter((match_id not in stored_ids for match_id in matches["match_id"].tolist()), dtype=bool,
                              count=len(matches))].reset_index(drop=True)
    if new.empty:
        return 0, len(gone_ids)
    decided = [inputs.decided_by.get(match_id, (None, None)) if status == "confirmed" and rule != "post_unmatched"
               else (None, None) for match_id, status, rule in zip(new["match_id"], new["status"], new["rule"])]
    rows = [
        (match_id, account.id, period, run_id, rule, int(score), _stored_status(rule, status), int(amount), int(book_amount),
         int(difference), by, _timestamp_text(at))
        for (match_id, rule, score, status, amount, book_amount, difference), (by, at) in zip(
            zip(new["match_id"], new["rule"], new["score"], new["status"], new["amount_fen"], new["book_amount_fen"],
                new["difference_fen"]), decided)
    ]
    bulk_insert(session, "matches", MATCH_COLUMNS_STORED, rows)
    row_ids = dict(session.execute(select(MatchRow.match_id, MatchRow.id).where(
        MatchRow.bank_account_id == account.id, MatchRow.period == period, MatchRow.run_id == run_id)).all())
    line_links, posting_links, instruction_links, reference_links = [], [], [], []
    for match_id, line_ids, book_ids, references in zip(new["match_id"], new["statement_line_ids"], new["book_ids"],
                                                        new["instruction_references"]):
        row_id = row_ids[match_id]
        line_links.extend((row_id, int(value)) for value in line_ids)
        # A book id is a posting id, or −instruction id for a payment of a bank return's total.
        posting_links.extend((row_id, int(value)) for value in book_ids if value > 0)
        instruction_links.extend((row_id, -int(value)) for value in book_ids if value < 0)
        reference_links.extend((row_id, str(value)) for value in sorted(set(references)))
    bulk_insert(session, "match_statement_lines", ("match_row_id", "statement_line_id"), line_links)
    bulk_insert(session, "match_postings", ("match_row_id", "posting_id"), posting_links)
    bulk_insert(session, "match_instructions", ("match_row_id", "instruction_id"), instruction_links)
    bulk_insert(session, "match_payment_references", ("match_row_id", "payment_reference"), reference_links)
    return len(new), len(gone_ids)


def _lock(session: Session, account: BankAccountRef) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key, :account)"),
                        {"key": POSTGRESQL_RECONCILE_LOCK % (2**31), "account": account.id})


def counts_text(counts: RunCounts) -> str:
    return (f"{counts.matched:,} matched, {counts.candidates:,} candidate(s), {counts.confirmed:,} confirmed, "
            f"{counts.bank_only:,} bank-only, {counts.book_only:,} book-only, {counts.mismatches:,} amount mismatch(es), "
            f"{counts.duplicates:,} duplicate(s)")


def run_reconciliation(session: Session, account: str | BankAccountRef, period: str, user: str,
                       settings: MatchSettings | None = None) -> RunOutcome:
    """``disburse reconcile --account ACCT --period P``: match the period and store the run
    and its matches. Running it again with nothing new gives the same matches and changes
    nothing but a new run row."""
    require_user(user)
    reference = account if isinstance(account, BankAccountRef) else bank_account_by_reference(session, account)
    _lock(session, reference)
    inputs, result, balance, problem = compute(session, reference, period, settings)
    counts = run_counts(inputs, result)
    run_id = session.execute(insert(ReconciliationRunRow).values(
        bank_account_id=reference.id, period=period, run_by=user, run_at=utc_now(),
        statement_line_count=counts.statement_lines, book_item_count=counts.book_items,
        instruction_count=counts.instructions, matched_count=counts.matched, candidate_count=counts.candidates,
        confirmed_count=counts.confirmed, bank_only_count=counts.bank_only, book_only_count=counts.book_only,
        mismatch_count=counts.mismatches, duplicate_count=counts.duplicates, book_balance_fen=inputs.book_balance_fen,
        bank_balance_fen=inputs.bank_balance.balance_fen,
        adjusted_book_balance_fen=balance.adjusted_book_balance_fen if balance else None,
        adjusted_bank_balance_fen=balance.adjusted_bank_balance_fen if balance else None,
        difference_fen=balance.difference_fen if balance else None,
    ).returning(ReconciliationRunRow.id)).scalar_one()
    added, removed = _store(session, inputs, result, run_id)
    message = (f"{reference.describe()} {period}: {counts.statement_lines:,} statement line(s), "
               f"{counts.book_items:,} book item(s); {counts_text(counts)}; {added:,} match(es) new, {removed:,} dropped")
    return RunOutcome(inputs, result, counts, balance, problem, run_id, added, removed, message)


@dataclass(frozen=True, slots=True)
class DecisionOutcome:
    """What confirm or reject did to one match id (in every period that holds it)."""

    match_id: str
    status: str
    changed: bool
    message: str


def decide(session: Session, match_id: str, user: str, decision: str) -> DecisionOutcome:
    """Confirm or reject a candidate (``decision`` is ``confirmed`` or ``rejected``). A
    rejected match is never proposed again; a confirmed one survives every later run. An
    automatic match may be rejected too (a person found it wrong), but never confirmed again."""
    assert decision in ("confirmed", "rejected"), decision
    require_user(user)
    match_id = (match_id or "").strip()
    rows = session.execute(select(MatchRow.id, MatchRow.status, MatchRow.rule, MatchRow.period, MatchRow.decided_by)
                           .where(MatchRow.match_id == match_id).order_by(MatchRow.id)).all()
    if not rows:
        raise DisburseError(f"no match {match_id!r}; `disburse reconcile report` lists the matches and candidates")
    statuses = {row.status for row in rows}
    periods = ", ".join(sorted({row.period for row in rows}))
    if decision in statuses:
        who = next(row.decided_by for row in rows if row.status == decision)
        return DecisionOutcome(match_id, decision, False, f"{match_id} is already {decision} (by {who}); nothing changed")
    opposite = "rejected" if decision == "confirmed" else "confirmed"
    if opposite in statuses:
        who = next(row.decided_by for row in rows if row.status == opposite)
        raise DisburseError(f"{match_id} was {opposite} by {who}; a decision is not changed silently")
    allowed = ("candidate",) if decision == "confirmed" else ("candidate", "matched")
    if decision == "confirmed" and statuses == {"matched"}:
        return DecisionOutcome(match_id, "matched", False,
                               f"{match_id} is an automatic match (rule {rows[0].rule}), not a candidate; nothing to confirm")
    session.execute(update(MatchRow).where(MatchRow.match_id == match_id, MatchRow.status.in_(allowed)).values(
        status=decision, decided_by=user, decided_at=utc_now()))
    verb = "confirmed" if decision == "confirmed" else "rejected; it will not be proposed again"
    return DecisionOutcome(match_id, decision, True, f"{match_id} ({rows[0].rule}, {periods}) {verb}")


def confirm_match(session: Session, match_id: str, user: str) -> DecisionOutcome:
    return decide(session, match_id, user, "confirmed")


def reject_match(session: Session, match_id: str, user: str) -> DecisionOutcome:
    return decide(session, match_id, user, "rejected")


def stored_matches(session: Session, account: BankAccountRef, period: str) -> pd.DataFrame:
    """The stored matches of one account's period with their decisions."""
    result = session.execute(select(MatchRow.match_id, MatchRow.rule, MatchRow.score, MatchRow.status,
                                    MatchRow.amount_fen, MatchRow.book_amount_fen, MatchRow.difference_fen,
                                    MatchRow.decided_by, MatchRow.decided_at)
                             .where(MatchRow.bank_account_id == account.id, MatchRow.period == period)
                             .order_by(MatchRow.id))
    return pd.DataFrame(result.all(), columns=list(result.keys()))


__all__ = ["RunOutcome", "RunCounts", "DecisionOutcome", "compute", "run_reconciliation", "confirm_match",
           "reject_match", "stored_matches", "counts_text"]
