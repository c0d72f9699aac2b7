"""Strategy 5, second pass, ``amount_date`` (only a candidate, score 60 − 20 × days apart /
window): the same amount and direction within the window where one side names no counterparty
at all (a fee or a receipt booked by a hand-written voucher), which no other strategy can
judge."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disburse.reconciliation.matching.state import MatchState

# An exact amount on the right day with nothing to compare names on is a plausible pair, never a
# proven one: 60 on the same day, 40 at the edge of the window.
SCORE_AMOUNT_DATE = 60
SCORE_AMOUNT_DATE_SPAN = 20


def match_amount_date(state: MatchState) -> None:
    """Candidates for what the other strategies cannot judge because one side names no
    counterparty at all (a fee or a receipt booked by a hand-written voucher, a bank line
    without the payer): the same amount and direction, dates within the window. Pairs are
    taken greedily by days apart, then line id, then book id; only ever a candidate, for a
    person to confirm. Pairs are joined day by day, so a common amount (a 15-yuan fee on
    every line) never multiplies into a cross product of the whole run."""
    window = state.settings.date_window_days
    lines = state.free_lines()
    books = state.free_books()
    if not len(lines) or not len(books):
        return
    left = pd.DataFrame({"line": lines, "amount": state.line_amounts[lines], "day": state.line_days[lines]})
    right = pd.DataFrame({"book": books, "amount": state.book_amounts[books], "day": state.book_days[books]})
    parts = [
        left.merge(right.assign(day=right["day"] + offset), on=["amount", "day"]).assign(apart=abs(offset))
        for offset in range(-window, window + 1)
    ]
    pairs = pd.concat(parts, ignore_index=True)
    if pairs.empty:
        return
    line_positions = pairs["line"].to_numpy(dtype=np.int64)
    book_positions = pairs["book"].to_numpy(dtype=np.int64)
    apart = pairs["apart"].to_numpy(dtype=np.int64)
    line_anonymous = (state.line_accounts[line_positions] == None) & (state.line_names[line_positions] == None)  # noqa: E711
    book_anonymous = (state.book_accounts[book_positions] == None) & (state.book_names[book_positions] == None)  # noqa: E711
    keep = line_anonymous | book_anonymous
    line_positions, book_positions, apart = line_positions[keep], book_positions[keep], apart[keep]
    order = np.lexsort((state.book_ids[book_positions], state.line_ids[line_positions], apart))
    scores = SCORE_AMOUNT_DATE - (SCORE_AMOUNT_DATE_SPAN * apart[order]) // max(window, 1)
    state.take_pairs(line_positions[order], book_positions[order], "amount_date", scores, status="candidate")
