"""The scratch state one ``reconcile`` call shares between its strategies.

``MatchState`` holds the two sides as arrays (positions into the frames sorted by id), which
positions are used, and the matches taken so far, as blocks of one-to-one pairs and as group
matches. Every strategy takes its matches through ``take_pairs`` or ``take_group``, so none
can use a line or an item twice or propose a match a person rejected. It lives only inside
``reconcile``; the function stays pure (frames in, a new result out).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from disburse.foundation.frames import blank_texts, object_array, stripped_texts
from disburse.reconciliation.match_ids import match_hash_from_id, match_hash_pairs, match_id_of
from disburse.reconciliation.model import MatchSettings

PAYMENT_REFERENCE_PREFIX = "PAY-"
BATCH_REFERENCE_PREFIX = "BATCH-"
PAYMENT_REFERENCE_PATTERN = re.compile(PAYMENT_REFERENCE_PREFIX + r"\d{6}-\d{6}")
BATCH_REFERENCE_PATTERN = re.compile(BATCH_REFERENCE_PREFIX + r"\d{6}-\d{4,}")


@dataclass(frozen=True, slots=True)
class PairBlock:
    """One-to-one matches found together by one rule (positions into the sorted frames)."""

    line_positions: np.ndarray
    book_positions: np.ndarray
    rule: str
    scores: np.ndarray
    status: str


@dataclass(frozen=True, slots=True)
class GroupMatch:
    """A match joining any number of lines and items (positions into the sorted frames)."""

    line_positions: tuple[int, ...]
    book_positions: tuple[int, ...]
    references: tuple[str, ...]
    rule: str
    score: int
    status: str
    reference: str | None = None


def days_of(series: pd.Series) -> np.ndarray:
    """Days since 1970 as int64 (dates only matter to the day here); NaT becomes a minimum."""
    values = pd.to_datetime(series).to_numpy().astype("datetime64[D]")
    days = values.astype(np.int64)
    return days


def _first_match(pattern: re.Pattern[str], prefix: str, *columns: list[str]) -> np.ndarray:
    """The first match of ``pattern`` (which starts with the text ``prefix``) in each row's texts,
    the columns read in order as if joined by spaces (a match never spans a space); None where
    there is none. The regular expression only runs on texts holding the prefix: a plain
    substring test rules out the other lines of a million at a tenth of the cost."""
    count = len(columns[0]) if columns else 0
    found: list[str | None] = [None] * count
    for texts in columns:
        if prefix not in "\n".join(texts):
            continue  # one substring search over the whole column (most columns hold no reference)
        for index in [index for index, text in enumerate(texts) if prefix in text]:
            if found[index] is None and (match := pattern.search(texts[index])):
                found[index] = match.group(0)
    return object_array(found)


def greedy_exclusive(
    line_positions: np.ndarray, book_positions: np.ndarray, line_used: np.ndarray, book_used: np.ndarray
) -> np.ndarray:
    """Which of the candidate pairs (already in priority order) a sequential greedy pass takes.

    Equivalent to walking the pairs in order and taking each whose line and item are both still
    free, but vectorised in rounds: a pair that comes first for both its line and its item among
    the pairs still alive is taken by the sequential pass too, and every pair touching a taken
    line or item is then dead. Each round takes at least the first alive pair.
    """
    taken = np.zeros(len(line_positions), dtype=bool)
    alive = ~(line_used[line_positions] | book_used[book_positions])
    line_taken = line_used.copy()
    book_taken = book_used.copy()
    while alive.any():
        index = np.flatnonzero(alive)
        lines = line_positions[index]
        books = book_positions[index]
        first_for_line = np.zeros(len(index), dtype=bool)
        first_for_line[np.unique(lines, return_index=True)[1]] = True
        first_for_book = np.zeros(len(index), dtype=bool)
        first_for_book[np.unique(books, return_index=True)[1]] = True
        winners = index[first_for_line & first_for_book]
        taken[winners] = True
        line_taken[line_positions[winners]] = True
        book_taken[book_positions[winners]] = True
        alive[index] = ~(line_taken[lines] | book_taken[books])
    return taken


class MatchState:
    """The two sides as arrays, which positions are used, and the matches so far."""

    def __init__(
        self, statement: pd.DataFrame, book: pd.DataFrame, instructions: pd.DataFrame, settings: MatchSettings
    ) -> None:
        self.settings = settings
        self.statement = statement
        self.book = book
        self.instructions = instructions
        self._read_statement(statement)
        self._read_book(book, instructions)
        self.line_used = np.zeros(len(statement), dtype=bool)
        self.book_used = np.zeros(len(book), dtype=bool)
        self.pair_blocks: list[PairBlock] = []
        self.groups: list[GroupMatch] = []
        self.rejected_hashes = np.array(
            sorted(match_hash_from_id(value) for value in settings.rejected_match_ids), dtype=np.uint64
        )
        self.rejected_ids = frozenset(settings.rejected_match_ids)
        self._line_amount_order: np.ndarray | None = None
        # The batches of strategy 3, set by ``reconcile`` (``by_batch.batches_of``).
        self.batches: dict = {}

    def _read_statement(self, statement: pd.DataFrame) -> None:
        self.line_ids = statement["line_id"].to_numpy(dtype=np.int64)
        self.line_days = days_of(statement["booked_on"])
        self.line_amounts = statement["amount_fen"].to_numpy(dtype=np.int64)
        self.line_accounts = stripped_texts(statement["counterparty_account"])
        self.line_names = stripped_texts(statement["counterparty_name"])
        summaries = blank_texts(statement["summary"])
        memos = blank_texts(statement["memo"])
        self.line_summaries = np.fromiter(summaries, dtype=object, count=len(summaries))
        # References in the summary, else in the memo.
        self.line_payment_references = _first_match(
            PAYMENT_REFERENCE_PATTERN, PAYMENT_REFERENCE_PREFIX, summaries, memos
        )
        self.line_batch_references = _first_match(BATCH_REFERENCE_PATTERN, BATCH_REFERENCE_PREFIX, summaries, memos)

    def _read_book(self, book: pd.DataFrame, instructions: pd.DataFrame) -> None:
        self.book_ids = book["book_id"].to_numpy(dtype=np.int64)
        self.book_days = days_of(book["entry_date"])
        self.book_amounts = book["amount_fen"].to_numpy(dtype=np.int64)
        self.book_payment_references = stripped_texts(book["payment_reference"])
        self.book_batch_references = stripped_texts(book["batch_reference"])
        self.book_accounts = stripped_texts(book["counterparty_account"])
        self.book_names = stripped_texts(book["counterparty_name"])
        known = set(instructions["payment_reference"].tolist())
        self.book_instruction_references = np.full(len(book), None, dtype=object)
        if known:
            self.book_instruction_references = np.where(
                pd.Series(self.book_payment_references, dtype=object).isin(known).to_numpy(),
                self.book_payment_references,
                None,
            )
        self.instruction_batch = dict(
            zip(instructions["payment_reference"].tolist(), instructions["batch_reference"].tolist())
        )
        self.book_positions_by_batch: dict[str, list[int]] = {}
        present = np.flatnonzero(self.book_batch_references != None)  # noqa: E711
        for position, batch in zip(present.tolist(), self.book_batch_references[present].tolist()):
            self.book_positions_by_batch.setdefault(batch, []).append(position)

    def not_rejected_pairs(self, line_positions: np.ndarray, book_positions: np.ndarray) -> np.ndarray:
        if len(self.rejected_hashes) == 0:
            return np.ones(len(line_positions), dtype=bool)
        hashes = match_hash_pairs(self.line_ids[line_positions], self.book_ids[book_positions])
        return ~np.isin(hashes, self.rejected_hashes)

    def is_rejected(self, line_positions: tuple[int, ...], book_positions: tuple[int, ...]) -> bool:
        if not self.rejected_ids:
            return False
        return (
            match_id_of(self.line_ids[list(line_positions)].tolist(), self.book_ids[list(book_positions)].tolist())
            in self.rejected_ids
        )

    def take_pairs(
        self,
        line_positions: np.ndarray,
        book_positions: np.ndarray,
        rule: str,
        scores: np.ndarray,
        status: str = "matched",
    ) -> None:
        """Take candidate pairs (in priority order) greedily and exclusively."""
        keep = self.not_rejected_pairs(line_positions, book_positions)
        line_positions, book_positions, scores = line_positions[keep], book_positions[keep], scores[keep]
        taken = greedy_exclusive(line_positions, book_positions, self.line_used, self.book_used)
        lines, books = line_positions[taken], book_positions[taken]
        assert not self.line_used[lines].any() and not self.book_used[books].any()
        self.line_used[lines] = True
        self.book_used[books] = True
        if len(lines):
            self.pair_blocks.append(PairBlock(lines, books, rule, scores[taken].astype(np.int64), status))

    def take_group(
        self,
        line_positions: tuple[int, ...],
        book_positions: tuple[int, ...],
        references: tuple[str, ...],
        rule: str,
        score: int,
        status: str = "matched",
        reference: str | None = None,
    ) -> bool:
        """Take one group match if all its positions are free and it was not rejected."""
        if self.line_used[list(line_positions)].any() or self.book_used[list(book_positions)].any():
            return False
        if len(set(line_positions)) != len(line_positions) or len(set(book_positions)) != len(book_positions):
            return False
        if self.is_rejected(line_positions, book_positions):
            return False
        self.line_used[list(line_positions)] = True
        self.book_used[list(book_positions)] = True
        self.groups.append(GroupMatch(line_positions, book_positions, references, rule, score, status, reference))
        return True

    def free_lines(self) -> np.ndarray:
        return np.flatnonzero(~self.line_used)

    def free_books(self) -> np.ndarray:
        return np.flatnonzero(~self.book_used)

    def references_of(self, books: tuple[int, ...]) -> tuple[str, ...]:
        """The payment references of our instructions among these book items, sorted."""
        return tuple(
            sorted(reference for reference in self.book_instruction_references[list(books)].tolist() if reference)
        )

    @property
    def line_amount_order(self) -> np.ndarray:
        """Line positions by amount (made once, when a batch first needs it)."""
        if self._line_amount_order is None:
            self._line_amount_order = np.argsort(self.line_amounts, kind="stable")
            self.line_amounts_sorted = self.line_amounts[self._line_amount_order]
        return self._line_amount_order
