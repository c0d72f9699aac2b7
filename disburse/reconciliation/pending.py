"""The candidate matches a run leaves for a person (``reconcile confirm`` / ``reject``), with
what each joins: the statement lines and the book items, their dates, amounts and texts.

``disburse reconcile`` lists them with their ids so that a person can decide without opening
the report; the report's 待确认 sheet lists every one. Pure: frames in, records out.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from disburse.foundation.dates import as_date_or_none
from disburse.foundation.frames import blank_text
from disburse.reconciliation.model import ReconciliationResult

# The most candidates a run lists on screen by default; the report holds them all.
PENDING_SHOWN_DEFAULT = 20
PENDING_SHOWN_MAX = 10_000


@dataclass(frozen=True, slots=True)
class PendingItem:
    """One statement line or book item of a candidate (a book id is a posting id, or −instruction
    id for one payment of a bank return's total)."""

    item_id: int
    day: str
    amount_fen: int
    text: str


@dataclass(frozen=True, slots=True)
class PendingMatch:
    """One candidate: its id, the rule that proposed it, its score and what it joins."""

    match_id: str
    rule: str
    score: int
    lines: tuple[PendingItem, ...]
    items: tuple[PendingItem, ...]


def _item(frame: pd.DataFrame, item_id: int, date_column: str, text_columns: tuple[str, ...]) -> PendingItem:
    if item_id not in frame.index:
        return PendingItem(int(item_id), "", 0, "")
    row = frame.loc[item_id]
    day = as_date_or_none(row[date_column])
    text = " ".join(str(blank_text(row[name])) for name in text_columns if blank_text(row[name]))
    return PendingItem(int(item_id), day.isoformat() if day else "", int(row["amount_fen"]), text)


def pending_matches(
    result: ReconciliationResult, statement: pd.DataFrame, book: pd.DataFrame, limit: int = PENDING_SHOWN_DEFAULT
) -> tuple[tuple[PendingMatch, ...], int]:
    """The first ``limit`` candidates of ``result`` (by first statement line) with what they
    join, and how many candidates there are in all."""
    if not 0 <= limit <= PENDING_SHOWN_MAX:
        raise ValueError(f"at most {PENDING_SHOWN_MAX:,} candidates are listed, not {limit:,}")
    candidates = result.matches[(result.matches["status"] == "candidate").to_numpy()]
    shown = candidates.head(limit)
    if shown.empty:
        return (), len(candidates)
    lines = statement.set_index("line_id")
    items = book.set_index("book_id")
    listed = tuple(
        PendingMatch(
            str(match.match_id),
            str(match.rule),
            int(match.score),
            tuple(
                _item(lines, line, "booked_on", ("summary", "counterparty_name", "memo"))
                for line in match.statement_line_ids
            ),
            tuple(
                _item(items, item, "entry_date", ("memo", "payment_reference", "counterparty_name"))
                for item in match.book_ids
            ),
        )
        for match in shown.itertuples(index=False)
    )
    return listed, len(candidates)
