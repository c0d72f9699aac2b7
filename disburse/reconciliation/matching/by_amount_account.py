"""Strategy 2, ``amount_account`` (score 90 − 5 per day apart): equal amount and counterparty
account, dates within the window; pairs are taken greedily by days apart, then line id, then
book id."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disburse.reconciliation.matching.state import MatchState

SCORE_AMOUNT_ACCOUNT = 90
SCORE_AMOUNT_ACCOUNT_PER_DAY = 5


def match_amount_account(state: MatchState) -> None:
    """Strategy 2 on the lines and items still free."""
    lines = state.free_lines()
    lines = lines[state.line_accounts[lines] != None]  # noqa: E711
    books = state.free_books()
    books = books[state.book_accounts[books] != None]  # noqa: E711
    if not len(lines) or not len(books):
        return
    codes, _ = pd.factorize(np.concatenate([state.line_accounts[lines], state.book_accounts[books]]))
    left = pd.DataFrame({"line": lines, "amount": state.line_amounts[lines], "account": codes[: len(lines)]})
    right = pd.DataFrame({"book": books, "amount": state.book_amounts[books], "account": codes[len(lines) :]})
    pairs = left.merge(right, on=["amount", "account"])
    line_positions = pairs["line"].to_numpy(dtype=np.int64)
    book_positions = pairs["book"].to_numpy(dtype=np.int64)
    apart = np.abs(state.line_days[line_positions] - state.book_days[book_positions])
    within = apart <= state.settings.date_window_days
    line_positions, book_positions, apart = line_positions[within], book_positions[within], apart[within]
    order = np.lexsort((state.book_ids[book_positions], state.line_ids[line_positions], apart))
    scores = SCORE_AMOUNT_ACCOUNT - SCORE_AMOUNT_ACCOUNT_PER_DAY * apart[order]
    state.take_pairs(line_positions[order], book_positions[order], "amount_account", scores)
