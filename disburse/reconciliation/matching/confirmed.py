"""Before any strategy: the matches a person confirmed in earlier runs, applied again."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disburse.reconciliation.match_ids import match_id_of
from disburse.reconciliation.matching.state import GroupMatch, MatchState

SCORE_CONFIRMED = 100


def apply_confirmed(state: MatchState) -> tuple[str, ...]:
    """Re-apply earlier confirmations; returns the ids of those that no longer fit."""
    line_position_of = pd.Series(np.arange(len(state.line_ids)), index=state.line_ids)
    book_position_of = pd.Series(np.arange(len(state.book_ids)), index=state.book_ids)
    not_applied: list[str] = []
    priors = sorted(state.settings.confirmed, key=lambda prior: match_id_of(prior.statement_line_ids, prior.book_ids))
    for prior in priors:
        match_id = match_id_of(prior.statement_line_ids, prior.book_ids)
        present = all(value in line_position_of.index for value in prior.statement_line_ids) and all(
            value in book_position_of.index for value in prior.book_ids
        )
        if not present or not prior.statement_line_ids:
            not_applied.append(match_id)
            continue
        lines = tuple(int(line_position_of[value]) for value in prior.statement_line_ids)
        books = tuple(int(book_position_of[value]) for value in prior.book_ids)
        if state.line_used[list(lines)].any() or state.book_used[list(books)].any():
            not_applied.append(match_id)
            continue
        state.line_used[list(lines)] = True
        state.book_used[list(books)] = True
        state.groups.append(
            GroupMatch(lines, books, tuple(prior.instruction_references), prior.rule, SCORE_CONFIRMED, "confirmed")
        )
    return tuple(not_applied)
