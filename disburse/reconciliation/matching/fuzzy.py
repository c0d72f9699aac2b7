"""Strategy 5, ``fuzzy_name`` (status ``candidate``, never ``matched``): amount within the
tolerance, date within the window, counterparty names similar (``reconciliation.names``); a
person confirms."""

from __future__ import annotations

import numpy as np

from disburse.reconciliation.matching.state import MatchState
from disburse.reconciliation.names import name_similarity_percent

# Strategy 5 looks at most this many book items per line, the nearest in amount: a line whose
# tolerance band holds thousands of items (a round 500-yuan subsidy) would otherwise make the
# candidate pairs grow with the square of the run.
FUZZY_CANDIDATES_PER_LINE_MAX = 64
BPS_PER_UNIT = 10_000


def match_fuzzy(state: MatchState) -> None:
    """Strategy 5 on the lines and items still free that both name a counterparty."""
    settings = state.settings
    lines = state.free_lines()
    lines = lines[state.line_names[lines] != None]  # noqa: E711
    books = state.free_books()
    books = books[state.book_names[books] != None]  # noqa: E711
    if not len(lines) or not len(books):
        return
    books = books[np.argsort(state.book_amounts[books], kind="stable")]
    sorted_amounts = state.book_amounts[books]
    line_amounts = state.line_amounts[lines]
    bps = settings.amount_tolerance_bps
    # A band wide enough for any book amount whose own tolerance reaches this line (see the
    # exact test below): |book| ≤ |line| + reach and reach ≥ |book| × bps / 10000.
    reach = np.maximum(settings.amount_tolerance_fen, -(-np.abs(line_amounts) * bps // (BPS_PER_UNIT - bps)))
    low = np.searchsorted(sorted_amounts, line_amounts - reach, side="left")
    high = np.searchsorted(sorted_amounts, line_amounts + reach, side="right")
    centre = np.searchsorted(sorted_amounts, line_amounts, side="left")
    half = FUZZY_CANDIDATES_PER_LINE_MAX // 2
    low = np.maximum(low, np.minimum(centre - half, high - FUZZY_CANDIDATES_PER_LINE_MAX))
    high = np.minimum(high, np.maximum(centre + half, low + FUZZY_CANDIDATES_PER_LINE_MAX))
    counts = np.maximum(high - low, 0)
    if counts.sum() == 0:
        return
    line_positions = np.repeat(lines, counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    book_positions = books[np.repeat(low, counts) + offsets]
    line_amounts = state.line_amounts[line_positions]
    book_amounts = state.book_amounts[book_positions]
    allowed = np.maximum(settings.amount_tolerance_fen, np.abs(book_amounts) * bps // BPS_PER_UNIT)
    difference = np.abs(line_amounts - book_amounts)
    apart = np.abs(state.line_days[line_positions] - state.book_days[book_positions])
    keep = (
        (difference <= allowed)
        & (apart <= settings.date_window_days)
        & (np.sign(line_amounts) == np.sign(book_amounts))
    )
    line_positions, book_positions = line_positions[keep], book_positions[keep]
    allowed, difference, apart = allowed[keep], difference[keep], apart[keep]
    similarity = np.array(
        [
            name_similarity_percent(first, second)
            for first, second in zip(state.line_names[line_positions], state.book_names[book_positions])
        ],
        dtype=np.int64,
    )
    similar = similarity >= settings.name_similarity_min_percent
    line_positions, book_positions = line_positions[similar], book_positions[similar]
    allowed, difference, apart, similarity = (
        allowed[similar],
        difference[similar],
        apart[similar],
        similarity[similar],
    )
    window = settings.date_window_days
    amount_part = np.where(allowed > 0, 20 * (allowed - difference) // np.maximum(allowed, 1), 20)
    date_part = 20 * (window - apart) // window if window else np.full(len(apart), 20)
    scores = 60 * similarity // 100 + amount_part + date_part
    order = np.lexsort((state.book_ids[book_positions], state.line_ids[line_positions], -scores))
    state.take_pairs(line_positions[order], book_positions[order], "fuzzy_name", scores[order], status="candidate")
