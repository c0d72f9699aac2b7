"""Strategy 1, ``reference`` (score 100, or 80 when the amounts differ).

A payment reference (``PAY-yyyymm-nnnnnn``) in a line's summary or memo joins the book item
carrying it (same direction of money; closest date, then lowest ids, when several do). When
the payments were booked as one batch total instead, the lines naming a batch's payments
together join that total. A batch reference (``BATCH-yyyymm-nnnn``) joins the batch's book
items as in strategy 3 (``by_batch``); if their amounts differ the line still joins them, and
the pair is listed as an amount mismatch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disburse.reconciliation.matching.by_batch import batch_attempt
from disburse.reconciliation.matching.state import MatchState

SCORE_REFERENCE = 100
SCORE_REFERENCE_MISMATCH = 80


def _reference_pairs(state: MatchState) -> tuple[np.ndarray, np.ndarray]:
    """Free (line, item) pairs sharing a payment reference and the direction of money."""
    lines = state.free_lines()
    lines = lines[state.line_payment_references[lines] != None]  # noqa: E711 - elementwise on objects
    books = state.free_books()
    books = books[state.book_payment_references[books] != None]  # noqa: E711
    if not len(lines) or not len(books):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # The references as integer codes (one factorisation of both sides), so the join below
    # is on integers rather than hashing a million strings per side.
    codes, _ = pd.factorize(
        np.concatenate([state.line_payment_references[lines], state.book_payment_references[books]])
    )
    left = pd.DataFrame({"line": lines, "reference": codes[: len(lines)], "sign": np.sign(state.line_amounts[lines])})
    right = pd.DataFrame({"book": books, "reference": codes[len(lines) :], "sign": np.sign(state.book_amounts[books])})
    # A refund (money in) naming a payment is not the payment (money out): same direction only.
    pairs = left.merge(right, on=["reference", "sign"])
    return pairs["line"].to_numpy(dtype=np.int64), pairs["book"].to_numpy(dtype=np.int64)


def match_payment_references(state: MatchState) -> None:
    """Strategy 1 for payment references, in three passes.

    First the pairs whose amounts agree (closest date, then lowest ids). Then, per reference
    and direction, what is left: a single line and a single item join even if their amounts
    differ (an amount mismatch); several lines and items join as one group when their sums
    agree (a payment the bank or the book split). Several on a side with different sums are
    left to the later strategies rather than guessed.
    """
    line_positions, book_positions = _reference_pairs(state)
    equal = state.line_amounts[line_positions] == state.book_amounts[book_positions]
    line_positions, book_positions = line_positions[equal], book_positions[equal]
    apart = np.abs(state.line_days[line_positions] - state.book_days[book_positions])
    order = np.lexsort((state.book_ids[book_positions], state.line_ids[line_positions], apart))
    state.take_pairs(line_positions[order], book_positions[order], "reference", np.full(len(order), SCORE_REFERENCE))

    line_positions, book_positions = _reference_pairs(state)
    if len(line_positions):
        pairs = pd.DataFrame(
            {
                "line": line_positions,
                "book": book_positions,
                "reference": state.line_payment_references[line_positions],
                "sign": np.sign(state.line_amounts[line_positions]),
            }
        )
        lines_per_reference = pairs.groupby(["reference", "sign"])["line"].transform("nunique")
        books_per_reference = pairs.groupby(["reference", "sign"])["book"].transform("nunique")
        single = pairs[(lines_per_reference == 1) & (books_per_reference == 1)].sort_values("line")
        singles_line = single["line"].to_numpy(dtype=np.int64)
        singles_book = single["book"].to_numpy(dtype=np.int64)
        differs = state.line_amounts[singles_line] != state.book_amounts[singles_book]
        state.take_pairs(
            singles_line, singles_book, "reference", np.where(differs, SCORE_REFERENCE_MISMATCH, SCORE_REFERENCE)
        )
        several = pairs[(lines_per_reference > 1) | (books_per_reference > 1)]
        for (reference, _), rows in several.groupby(["reference", "sign"], sort=True):
            group_lines = tuple(sorted(set(rows["line"].tolist())))
            group_books = tuple(sorted(set(rows["book"].tolist())))
            if state.line_amounts[list(group_lines)].sum() == state.book_amounts[list(group_books)].sum():
                state.take_group(
                    group_lines,
                    group_books,
                    state.references_of(group_books),
                    "reference",
                    SCORE_REFERENCE,
                    reference=str(reference),
                )
    _match_payment_references_to_batch_totals(state)


def _match_payment_references_to_batch_totals(state: MatchState) -> None:
    """Lines naming payments of a batch that was booked as one total (no payment reference)."""
    lines = state.free_lines()
    lines = lines[state.line_payment_references[lines] != None]  # noqa: E711
    if not len(lines):
        return
    batch_of_line = np.array(
        [state.instruction_batch.get(reference) for reference in state.line_payment_references[lines]], dtype=object
    )
    known = batch_of_line != None  # noqa: E711
    by_batch: dict[str, list[int]] = {}
    for position, batch in zip(lines[known].tolist(), batch_of_line[known].tolist()):
        by_batch.setdefault(batch, []).append(position)
    for batch_reference in sorted(by_batch):
        batch = state.batches.get(batch_reference)
        if batch is None:
            continue
        totals = tuple(
            position
            for position in batch.book_positions
            if not state.book_used[position] and state.book_payment_references[position] is None
        )
        group = tuple(by_batch[batch_reference])
        if totals and state.line_amounts[list(group)].sum() == state.book_amounts[list(totals)].sum():
            references = tuple(sorted(state.line_payment_references[list(group)].tolist()))
            state.take_group(group, totals, references, "reference", SCORE_REFERENCE, reference=batch_reference)


def match_batch_references(state: MatchState) -> None:
    """Lines naming a batch by its reference: the whole batch (strategy 3), else its book items."""
    lines = state.free_lines()
    lines = lines[state.line_batch_references[lines] != None]  # noqa: E711
    for position in lines.tolist():
        if state.line_used[position]:
            continue
        batch_reference = state.line_batch_references[position]
        batch = state.batches.get(batch_reference)
        if batch is None:
            books = tuple(
                book for book in state.book_positions_by_batch.get(batch_reference, ()) if not state.book_used[book]
            )
            if books and state.book_amounts[list(books)].sum() == state.line_amounts[position]:
                state.take_group((position,), books, (), "reference", SCORE_REFERENCE, reference=batch_reference)
            elif books:
                state.take_group(
                    (position,), books, (), "reference", SCORE_REFERENCE_MISMATCH, reference=batch_reference
                )
            continue
        if batch_attempt(
            state, position, batch, rule_successful="reference", rule_control_total="reference", score=SCORE_REFERENCE
        ):
            continue
        books = tuple(book for book in batch.book_positions if not state.book_used[book])
        if books:
            state.take_group(
                (position,),
                books,
                batch.references,
                "reference",
                SCORE_REFERENCE_MISMATCH,
                reference=batch_reference,
            )
