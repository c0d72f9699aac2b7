"""Strategy 3, ``batch_successful`` / ``batch_control_total`` / ``batch_refund`` (score 95).

One debit line for a whole batch, equal to the sum of its successful instructions, or to its
control total (all instructions) when the bank debits everything and refunds each failure on
its own line; a refund line is the failed amount coming back, from the failed account or
naming the failed payment, within ``refund_window_days`` after the debit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from disburse.foundation.frames import stripped_texts
from disburse.reconciliation.matching.state import MatchState, days_of

SCORE_BATCH = 95


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch as the instructions describe it, with its book items (positions)."""

    batch_reference: str
    success_total_fen: int
    control_total_fen: int
    references: tuple[str, ...]
    success_references: tuple[str, ...]
    failed: tuple[tuple[str, str | None, int], ...]  # (payment reference, account, amount)
    book_positions: tuple[int, ...]
    first_day: int
    last_day: int


def batches_of(state: MatchState) -> dict[str, Batch]:
    """The batches of the instructions that have a date (a settled payment or a book item)."""
    instructions = state.instructions
    if instructions.empty:
        return {}
    book_positions_by_batch = state.book_positions_by_batch
    batches: dict[str, Batch] = {}
    settled_days = days_of(instructions["settled_on"])
    settled_known = instructions["settled_on"].notna().to_numpy()
    frame = instructions.assign(_day=settled_days, _known=settled_known).sort_values("payment_reference", kind="stable")
    for batch_reference, rows in frame.groupby("batch_reference", sort=True):
        status = rows["status"].to_numpy()
        amounts = rows["amount_fen"].to_numpy(dtype=np.int64)
        references = rows["payment_reference"].tolist()
        success = status == "success"
        failure = status == "failure"
        accounts = stripped_texts(rows["account_no"])
        books = tuple(book_positions_by_batch.get(str(batch_reference), ()))
        days = [int(day) for day, known in zip(rows["_day"], rows["_known"]) if known]
        days += [int(state.book_days[book]) for book in books]
        if not days:
            continue
        batches[str(batch_reference)] = Batch(
            batch_reference=str(batch_reference),
            success_total_fen=int(amounts[success].sum()),
            control_total_fen=int(amounts.sum()),
            references=tuple(references),
            success_references=tuple(reference for reference, ok in zip(references, success) if ok),
            failed=tuple(
                (reference, account, int(amount))
                for reference, account, amount, failed in zip(references, accounts, amounts, failure)
                if failed
            ),
            book_positions=books,
            first_day=min(days),
            last_day=max(days),
        )
    return batches


def _refund_line(
    state, debit_position: int, reference: str, account: str | None, amount_fen: int, chosen: set[int]
) -> int | None:
    """The first free line refunding one failed payment after a control-total debit."""
    order = state.line_amount_order
    low, high = np.searchsorted(state.line_amounts_sorted, [amount_fen, amount_fen + 1])
    start = state.line_days[debit_position]
    best: tuple[int, int] | None = None
    found: int | None = None
    for position in order[low:high].tolist():
        if state.line_used[position] or position in chosen or position == debit_position:
            continue
        if not start <= state.line_days[position] <= start + state.settings.refund_window_days:
            continue
        if state.line_payment_references[position] != reference and (
            account is None or state.line_accounts[position] != account
        ):
            continue
        key = (int(state.line_days[position]), int(state.line_ids[position]))
        if best is None or key < best:
            best, found = key, position
    return found


def batch_attempt(
    state, position: int, batch: Batch, *, rule_successful: str, rule_control_total: str, score: int
) -> bool:
    """Try to match one debit line to a whole batch (see the module doc, strategy 3)."""
    amount = int(state.line_amounts[position])
    books = tuple(book for book in batch.book_positions if not state.book_used[book])
    books_total = int(state.book_amounts[list(books)].sum()) if books else 0
    if amount == -batch.success_total_fen and books and books_total == amount:
        if state.take_group(
            (position,), books, batch.success_references, rule_successful, score, reference=batch.batch_reference
        ):
            return True
    if amount != -batch.control_total_fen or not books:
        return False
    chosen: set[int] = set()
    refunds: list[tuple[str, int | None, int]] = []
    for reference, account, failed_fen in batch.failed:
        refund = _refund_line(state, position, reference, account, failed_fen, chosen)
        if refund is not None:
            chosen.add(refund)
        refunds.append((reference, refund, failed_fen))
    debits = tuple(book for book in books if state.book_amounts[book] < 0)
    if debits and int(state.book_amounts[list(debits)].sum()) == amount:
        # The book paid every instruction and reverses each failure on its own: the debit
        # joins the payments, each refund joins its reversal (when the book has one yet).
        if not state.take_group(
            (position,), debits, batch.references, rule_control_total, score, reference=batch.batch_reference
        ):
            return False
        for reference, refund, failed_fen in refunds:
            if refund is None:
                continue
            reversal = [
                book
                for book in batch.book_positions
                if not state.book_used[book]
                and state.book_payment_references[book] == reference
                and state.book_amounts[book] == failed_fen
            ]
            if reversal:
                state.take_group(
                    (refund,),
                    (min(reversal, key=lambda book: state.book_ids[book]),),
                    (reference,),
                    "batch_refund",
                    score,
                )
        return True
    found = [refund for _, refund, _ in refunds if refund is not None]
    if len(found) == len(batch.failed) and books_total == -batch.success_total_fen:
        # The book paid only the successes: the debit and its refunds together are the batch.
        return state.take_group(
            (position, *found), books, batch.references, rule_control_total, score, reference=batch.batch_reference
        )
    return False


def match_batches(state: MatchState) -> None:
    """Strategy 3: free debit lines equal to a batch's successful or control total, nearest first."""
    if not state.batches:
        return
    rows = []
    for batch in state.batches.values():
        rows.append((batch.batch_reference, -batch.success_total_fen, batch.first_day, batch.last_day))
        if batch.control_total_fen != batch.success_total_fen:
            rows.append((batch.batch_reference, -batch.control_total_fen, batch.first_day, batch.last_day))
    totals = pd.DataFrame(rows, columns=["batch", "amount", "first_day", "last_day"])
    lines = state.free_lines()
    lines = lines[state.line_amounts[lines] < 0]
    left = pd.DataFrame({"line": lines, "amount": state.line_amounts[lines]})
    pairs = left.merge(totals, on="amount")
    if pairs.empty:
        return
    days = state.line_days[pairs["line"].to_numpy()]
    window = state.settings.date_window_days
    pairs = pairs[(days >= pairs["first_day"] - window) & (days <= pairs["last_day"] + window)]
    pairs = pairs.assign(
        apart=np.maximum(pairs["first_day"] - state.line_days[pairs["line"].to_numpy()], 0),
        line_id=state.line_ids[pairs["line"].to_numpy()],
    ).sort_values(["apart", "line_id", "batch"], kind="stable")
    for position, batch_reference in zip(pairs["line"].tolist(), pairs["batch"].tolist()):
        if state.line_used[position]:
            continue
        batch_attempt(
            state,
            position,
            state.batches[batch_reference],
            rule_successful="batch_successful",
            rule_control_total="batch_control_total",
            score=SCORE_BATCH,
        )
