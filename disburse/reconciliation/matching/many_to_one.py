"""Strategy 4, ``many_to_one`` (score 85): two to ``many_to_one_lines_max`` lines, same
counterparty and direction, within the window, summing exactly to one book item. The search is
bounded: only the ``many_to_one_candidates_max`` lines nearest in date are combined, smallest
groups first."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from disburse.reconciliation.matching.state import MatchState
from disburse.reconciliation.names import name_normalise

SCORE_MANY_TO_ONE = 85


def match_many_to_one(state: MatchState) -> None:
    """Strategy 4 on the lines and items still free."""
    settings = state.settings
    lines = state.free_lines()
    lines = lines[state.line_amounts[lines] != 0]
    books = state.free_books()
    if not len(lines) or not len(books):
        return
    # The counterparty key: the account where the book item has one, else its name.
    line_names = np.array([name_normalise(name) if name else None for name in state.line_names[lines]], dtype=object)
    book_names = np.array([name_normalise(name) if name else None for name in state.book_names[books]], dtype=object)
    by_account = state.book_accounts[books] != None  # noqa: E711
    by_name = ~by_account & (book_names != None)  # noqa: E711
    frames = []
    for line_keys, use in ((state.line_accounts[lines], by_account), (line_names, by_name)):
        left = pd.DataFrame({"line": lines, "key": line_keys}).dropna()
        right = pd.DataFrame(
            {"book": books[use], "key": np.where(by_account, state.book_accounts[books], book_names)[use]}
        )
        if len(left) and len(right):
            frames.append(left.merge(right, on="key"))
    if not frames:
        return
    pairs = pd.concat(frames, ignore_index=True)
    line_positions = pairs["line"].to_numpy(dtype=np.int64)
    book_positions = pairs["book"].to_numpy(dtype=np.int64)
    line_amounts = state.line_amounts[line_positions]
    book_amounts = state.book_amounts[book_positions]
    apart = np.abs(state.line_days[line_positions] - state.book_days[book_positions])
    useful = (
        (np.sign(line_amounts) == np.sign(book_amounts))
        & (np.abs(line_amounts) < np.abs(book_amounts))
        & (apart <= settings.date_window_days)
    )
    line_positions, book_positions, apart = line_positions[useful], book_positions[useful], apart[useful]
    if not len(line_positions):
        return
    order = np.lexsort(
        (state.line_ids[line_positions], apart, state.book_ids[book_positions], state.book_days[book_positions])
    )
    line_positions, book_positions = line_positions[order], book_positions[order]
    boundaries = np.flatnonzero(np.diff(book_positions)) + 1
    for book_group, line_group in zip(np.split(book_positions, boundaries), np.split(line_positions, boundaries)):
        book = int(book_group[0])
        free = [int(line) for line in line_group if not state.line_used[line]][: settings.many_to_one_candidates_max]
        if len(free) < 2:
            continue
        target = int(state.book_amounts[book])
        amounts = {line: int(state.line_amounts[line]) for line in free}
        done = False
        for size in range(2, settings.many_to_one_lines_max + 1):
            for combination in itertools.combinations(free, size):
                if sum(amounts[line] for line in combination) != target:
                    continue
                if state.take_group(
                    tuple(combination), (book,), state.references_of((book,)), "many_to_one", SCORE_MANY_TO_ONE
                ):
                    done = True
                    break
            if done:
                break
