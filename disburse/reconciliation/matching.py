"""Statement matching: bank lines against book items and payment instructions.

``reconcile(statement, book, instructions, settings)`` is a pure function over frames (columns in
``reconciliation.model``). It first re-applies the matches a person confirmed earlier, then tries
five strategies in order, each only on what is still unmatched; every match is exclusive (no
statement line and no book item is used twice) and records its rule and a score 0–100:

1. ``reference`` (score 100, or 80 when the amounts differ): a payment reference
   (``PAY-yyyymm-nnnnnn``) in a line's summary or memo joins the book item carrying it (same
   direction of money; closest date, then lowest ids, when several do). When the payments were
   booked as one batch total instead, the lines naming a batch's payments together join that
   total. A batch reference (``BATCH-yyyymm-nnnn``) joins the batch's book items as in 3; if their
   amounts differ the line still joins them, and the pair is listed as an amount mismatch.
2. ``amount_account`` (score 90 − 5 per day apart): equal amount and counterparty account, dates
   within the window; pairs are taken greedily by days apart, then line id, then book id.
3. ``batch_successful`` / ``batch_control_total`` / ``batch_refund`` (score 95): one debit line
   for a whole batch, equal to the sum of its successful instructions, or to its control total
   (all instructions) when the bank debits everything and refunds each failure on its own line;
   a refund line is the failed amount coming back, from the failed account or naming the failed
   payment, within ``refund_window_days`` after the debit.
4. ``many_to_one`` (score 85): two to ``many_to_one_lines_max`` lines, same counterparty and
   direction, within the window, summing exactly to one book item. The search is bounded: only
   the ``many_to_one_candidates_max`` lines nearest in date are combined, smallest groups first.
5. ``fuzzy_name`` (status ``candidate``, never ``matched``): amount within the tolerance, date
   within the window, counterparty names similar (``reconciliation.names``); a person confirms.
   Then ``amount_date`` (also only a candidate, score 60 − 20 × days apart / window): the same
   amount and direction within the window where one side names no counterparty at all (a fee
   or a receipt booked by a hand-written voucher), which no other strategy can judge.

Lines and items left over are ``bank_only`` (with a guessed category) and ``book_only``.
Duplicates on either side are listed but matched like any other item.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from disburse.foundation.frames import blank_texts, object_array, stripped_texts
from disburse.reconciliation.match_ids import (
    match_hash,
    match_hash_from_id,
    match_hash_pairs,
    match_id_of,
    match_ids_from_hashes,
)
from disburse.reconciliation.model import (
    AMOUNT_MISMATCH_COLUMNS,
    BANK_ONLY_COLUMNS,
    BOOK_COLUMNS,
    BOOK_DISPOSITION_COLUMNS,
    BOOK_ITEMS_MAX,
    BOOK_ONLY_COLUMNS,
    DUPLICATE_COLUMNS,
    INSTRUCTION_COLUMNS,
    INSTRUCTION_STATUSES,
    INSTRUCTIONS_MAX,
    MATCH_COLUMNS,
    STATEMENT_COLUMNS,
    STATEMENT_DISPOSITION_COLUMNS,
    STATEMENT_LINES_MAX,
    MatchSettings,
    ReconciliationResult,
)
from disburse.reconciliation.names import name_normalise, name_similarity_percent

PAYMENT_REFERENCE_PREFIX = "PAY-"
BATCH_REFERENCE_PREFIX = "BATCH-"
PAYMENT_REFERENCE_PATTERN = re.compile(PAYMENT_REFERENCE_PREFIX + r"\d{6}-\d{6}")
BATCH_REFERENCE_PATTERN = re.compile(BATCH_REFERENCE_PREFIX + r"\d{6}-\d{4,}")

SCORE_REFERENCE = 100
SCORE_REFERENCE_MISMATCH = 80
SCORE_AMOUNT_ACCOUNT = 90
SCORE_AMOUNT_ACCOUNT_PER_DAY = 5
SCORE_BATCH = 95
SCORE_MANY_TO_ONE = 85
SCORE_CONFIRMED = 100
# An exact amount on the right day with nothing to compare names on is a plausible pair, never a
# proven one: 60 on the same day, 40 at the edge of the window.
SCORE_AMOUNT_DATE = 60
SCORE_AMOUNT_DATE_SPAN = 20
# Strategy 5 looks at most this many book items per line, the nearest in amount: a line whose
# tolerance band holds thousands of items (a round 500-yuan subsidy) would otherwise make the
# candidate pairs grow with the square of the run.
FUZZY_CANDIDATES_PER_LINE_MAX = 64
BPS_PER_UNIT = 10_000


@dataclass(frozen=True, slots=True)
class _PairBlock:
    """One-to-one matches found together by one rule (positions into the sorted frames)."""

    line_positions: np.ndarray
    book_positions: np.ndarray
    rule: str
    scores: np.ndarray
    status: str


@dataclass(frozen=True, slots=True)
class _GroupMatch:
    """A match joining any number of lines and items (positions into the sorted frames)."""

    line_positions: tuple[int, ...]
    book_positions: tuple[int, ...]
    references: tuple[str, ...]
    rule: str
    score: int
    status: str
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class _Batch:
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


# Input checks ---------------------------------------------------------------------------------


def _frame_checked(frame: pd.DataFrame, columns: tuple[str, ...], name: str, rows_max: int) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} frame lacks columns {missing}; it has {list(frame.columns)}")
    if len(frame) > rows_max:
        raise ValueError(f"{name} frame has {len(frame):,} rows, more than the limit {rows_max:,}")
    amounts = frame["amount_fen"]
    if not pd.api.types.is_integer_dtype(amounts.dtype) or amounts.isna().any():
        raise ValueError(f"{name}.amount_fen must be integer fen without blanks, not {amounts.dtype}")


def _days(series: pd.Series) -> np.ndarray:
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


# Greedy exclusive selection -------------------------------------------------------------------


def _greedy_exclusive(
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


class _Matcher:
    """Scratch state of one ``reconcile`` call: which positions are used, and the matches so far.

    It lives only inside ``reconcile``; the function stays pure (frames in, a new result out).
    """

    def __init__(
        self, statement: pd.DataFrame, book: pd.DataFrame, instructions: pd.DataFrame, settings: MatchSettings
    ) -> None:
        self.settings = settings
        self.statement = statement
        self.book = book
        self.line_ids = statement["line_id"].to_numpy(dtype=np.int64)
        self.line_days = _days(statement["booked_on"])
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

        self.book_ids = book["book_id"].to_numpy(dtype=np.int64)
        self.book_days = _days(book["entry_date"])
        self.book_amounts = book["amount_fen"].to_numpy(dtype=np.int64)
        self.book_payment_references = stripped_texts(book["payment_reference"])
        self.book_batch_references = stripped_texts(book["batch_reference"])
        self.book_accounts = stripped_texts(book["counterparty_account"])
        self.book_names = stripped_texts(book["counterparty_name"])

        self.instructions = instructions
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

        self.line_used = np.zeros(len(statement), dtype=bool)
        self.book_used = np.zeros(len(book), dtype=bool)
        self.pair_blocks: list[_PairBlock] = []
        self.groups: list[_GroupMatch] = []
        self.rejected_hashes = np.array(
            sorted(match_hash_from_id(value) for value in settings.rejected_match_ids), dtype=np.uint64
        )
        self.rejected_ids = frozenset(settings.rejected_match_ids)
        self._line_amount_order: np.ndarray | None = None
        self.book_positions_by_batch: dict[str, list[int]] = {}
        present = np.flatnonzero(self.book_batch_references != None)  # noqa: E711
        for position, batch in zip(present.tolist(), self.book_batch_references[present].tolist()):
            self.book_positions_by_batch.setdefault(batch, []).append(position)
        self.batches = self._batches()

    # Bookkeeping ------------------------------------------------------------------------------

    def _not_rejected_pairs(self, line_positions: np.ndarray, book_positions: np.ndarray) -> np.ndarray:
        if len(self.rejected_hashes) == 0:
            return np.ones(len(line_positions), dtype=bool)
        hashes = match_hash_pairs(self.line_ids[line_positions], self.book_ids[book_positions])
        return ~np.isin(hashes, self.rejected_hashes)

    def _is_rejected(self, line_positions: tuple[int, ...], book_positions: tuple[int, ...]) -> bool:
        if not self.rejected_ids:
            return False
        return (
            match_id_of(self.line_ids[list(line_positions)].tolist(), self.book_ids[list(book_positions)].tolist())
            in self.rejected_ids
        )

    def _take_pairs(
        self,
        line_positions: np.ndarray,
        book_positions: np.ndarray,
        rule: str,
        scores: np.ndarray,
        status: str = "matched",
    ) -> None:
        """Take candidate pairs (in priority order) greedily and exclusively."""
        keep = self._not_rejected_pairs(line_positions, book_positions)
        line_positions, book_positions, scores = line_positions[keep], book_positions[keep], scores[keep]
        taken = _greedy_exclusive(line_positions, book_positions, self.line_used, self.book_used)
        lines, books = line_positions[taken], book_positions[taken]
        assert not self.line_used[lines].any() and not self.book_used[books].any()
        self.line_used[lines] = True
        self.book_used[books] = True
        if len(lines):
            self.pair_blocks.append(_PairBlock(lines, books, rule, scores[taken].astype(np.int64), status))

    def _take_group(
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
        if self._is_rejected(line_positions, book_positions):
            return False
        self.line_used[list(line_positions)] = True
        self.book_used[list(book_positions)] = True
        self.groups.append(_GroupMatch(line_positions, book_positions, references, rule, score, status, reference))
        return True

    def _free_lines(self) -> np.ndarray:
        return np.flatnonzero(~self.line_used)

    def _free_books(self) -> np.ndarray:
        return np.flatnonzero(~self.book_used)

    # Confirmed matches ------------------------------------------------------------------------

    def apply_confirmed(self) -> tuple[str, ...]:
        """Re-apply earlier confirmations; returns the ids of those that no longer fit."""
        line_position_of = pd.Series(np.arange(len(self.line_ids)), index=self.line_ids)
        book_position_of = pd.Series(np.arange(len(self.book_ids)), index=self.book_ids)
        not_applied: list[str] = []
        priors = sorted(
            self.settings.confirmed, key=lambda prior: match_id_of(prior.statement_line_ids, prior.book_ids)
        )
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
            if self.line_used[list(lines)].any() or self.book_used[list(books)].any():
                not_applied.append(match_id)
                continue
            self.line_used[list(lines)] = True
            self.book_used[list(books)] = True
            self.groups.append(
                _GroupMatch(lines, books, tuple(prior.instruction_references), prior.rule, SCORE_CONFIRMED, "confirmed")
            )
        return tuple(not_applied)

    # Strategy 1: references -------------------------------------------------------------------

    def _reference_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Free (line, item) pairs sharing a payment reference and the direction of money."""
        lines = self._free_lines()
        lines = lines[self.line_payment_references[lines] != None]  # noqa: E711 - elementwise on objects
        books = self._free_books()
        books = books[self.book_payment_references[books] != None]  # noqa: E711
        if not len(lines) or not len(books):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        # The references as integer codes (one factorisation of both sides), so the join below
        # is on integers rather than hashing a million strings per side.
        codes, _ = pd.factorize(
            np.concatenate([self.line_payment_references[lines], self.book_payment_references[books]])
        )
        left = pd.DataFrame(
            {"line": lines, "reference": codes[: len(lines)], "sign": np.sign(self.line_amounts[lines])}
        )
        right = pd.DataFrame(
            {"book": books, "reference": codes[len(lines) :], "sign": np.sign(self.book_amounts[books])}
        )
        # A refund (money in) naming a payment is not the payment (money out): same direction only.
        pairs = left.merge(right, on=["reference", "sign"])
        return pairs["line"].to_numpy(dtype=np.int64), pairs["book"].to_numpy(dtype=np.int64)

    def match_payment_references(self) -> None:
        """Strategy 1 for payment references, in three passes.

        First the pairs whose amounts agree (closest date, then lowest ids). Then, per reference
        and direction, what is left: a single line and a single item join even if their amounts
        differ (an amount mismatch); several lines and items join as one group when their sums
        agree (a payment the bank or the book split). Several on a side with different sums are
        left to the later strategies rather than guessed.
        """
        line_positions, book_positions = self._reference_pairs()
        equal = self.line_amounts[line_positions] == self.book_amounts[book_positions]
        line_positions, book_positions = line_positions[equal], book_positions[equal]
        apart = np.abs(self.line_days[line_positions] - self.book_days[book_positions])
        order = np.lexsort((self.book_ids[book_positions], self.line_ids[line_positions], apart))
        self._take_pairs(
            line_positions[order], book_positions[order], "reference", np.full(len(order), SCORE_REFERENCE)
        )

        line_positions, book_positions = self._reference_pairs()
        if len(line_positions):
            pairs = pd.DataFrame(
                {
                    "line": line_positions,
                    "book": book_positions,
                    "reference": self.line_payment_references[line_positions],
                    "sign": np.sign(self.line_amounts[line_positions]),
                }
            )
            lines_per_reference = pairs.groupby(["reference", "sign"])["line"].transform("nunique")
            books_per_reference = pairs.groupby(["reference", "sign"])["book"].transform("nunique")
            single = pairs[(lines_per_reference == 1) & (books_per_reference == 1)].sort_values("line")
            singles_line = single["line"].to_numpy(dtype=np.int64)
            singles_book = single["book"].to_numpy(dtype=np.int64)
            differs = self.line_amounts[singles_line] != self.book_amounts[singles_book]
            self._take_pairs(
                singles_line, singles_book, "reference", np.where(differs, SCORE_REFERENCE_MISMATCH, SCORE_REFERENCE)
            )
            several = pairs[(lines_per_reference > 1) | (books_per_reference > 1)]
            for (reference, _), rows in several.groupby(["reference", "sign"], sort=True):
                group_lines = tuple(sorted(set(rows["line"].tolist())))
                group_books = tuple(sorted(set(rows["book"].tolist())))
                if self.line_amounts[list(group_lines)].sum() == self.book_amounts[list(group_books)].sum():
                    self._take_group(
                        group_lines,
                        group_books,
                        self._references_of(group_books),
                        "reference",
                        SCORE_REFERENCE,
                        reference=str(reference),
                    )
        self._match_payment_references_to_batch_totals()

    def _match_payment_references_to_batch_totals(self) -> None:
        """Lines naming payments of a batch that was booked as one total (no payment reference)."""
        lines = self._free_lines()
        lines = lines[self.line_payment_references[lines] != None]  # noqa: E711
        if not len(lines):
            return
        batch_of_line = np.array(
            [self.instruction_batch.get(reference) for reference in self.line_payment_references[lines]], dtype=object
        )
        known = batch_of_line != None  # noqa: E711
        by_batch: dict[str, list[int]] = {}
        for position, batch in zip(lines[known].tolist(), batch_of_line[known].tolist()):
            by_batch.setdefault(batch, []).append(position)
        for batch_reference in sorted(by_batch):
            batch = self.batches.get(batch_reference)
            if batch is None:
                continue
            totals = tuple(
                position
                for position in batch.book_positions
                if not self.book_used[position] and self.book_payment_references[position] is None
            )
            group = tuple(by_batch[batch_reference])
            if totals and self.line_amounts[list(group)].sum() == self.book_amounts[list(totals)].sum():
                references = tuple(sorted(self.line_payment_references[list(group)].tolist()))
                self._take_group(group, totals, references, "reference", SCORE_REFERENCE, reference=batch_reference)

    def match_batch_references(self) -> None:
        lines = self._free_lines()
        lines = lines[self.line_batch_references[lines] != None]  # noqa: E711
        for position in lines.tolist():
            if self.line_used[position]:
                continue
            batch_reference = self.line_batch_references[position]
            batch = self.batches.get(batch_reference)
            if batch is None:
                books = tuple(
                    book for book in self.book_positions_by_batch.get(batch_reference, ()) if not self.book_used[book]
                )
                if books and self.book_amounts[list(books)].sum() == self.line_amounts[position]:
                    self._take_group((position,), books, (), "reference", SCORE_REFERENCE, reference=batch_reference)
                elif books:
                    self._take_group(
                        (position,), books, (), "reference", SCORE_REFERENCE_MISMATCH, reference=batch_reference
                    )
                continue
            if self._batch_attempt(
                position, batch, rule_successful="reference", rule_control_total="reference", score=SCORE_REFERENCE
            ):
                continue
            books = tuple(book for book in batch.book_positions if not self.book_used[book])
            if books:
                self._take_group(
                    (position,),
                    books,
                    batch.references,
                    "reference",
                    SCORE_REFERENCE_MISMATCH,
                    reference=batch_reference,
                )

    # Strategy 2: amount and account -----------------------------------------------------------

    def match_amount_account(self) -> None:
        lines = self._free_lines()
        lines = lines[self.line_accounts[lines] != None]  # noqa: E711
        books = self._free_books()
        books = books[self.book_accounts[books] != None]  # noqa: E711
        if not len(lines) or not len(books):
            return
        codes, _ = pd.factorize(np.concatenate([self.line_accounts[lines], self.book_accounts[books]]))
        left = pd.DataFrame({"line": lines, "amount": self.line_amounts[lines], "account": codes[: len(lines)]})
        right = pd.DataFrame({"book": books, "amount": self.book_amounts[books], "account": codes[len(lines) :]})
        pairs = left.merge(right, on=["amount", "account"])
        line_positions = pairs["line"].to_numpy(dtype=np.int64)
        book_positions = pairs["book"].to_numpy(dtype=np.int64)
        apart = np.abs(self.line_days[line_positions] - self.book_days[book_positions])
        within = apart <= self.settings.date_window_days
        line_positions, book_positions, apart = line_positions[within], book_positions[within], apart[within]
        order = np.lexsort((self.book_ids[book_positions], self.line_ids[line_positions], apart))
        scores = SCORE_AMOUNT_ACCOUNT - SCORE_AMOUNT_ACCOUNT_PER_DAY * apart[order]
        self._take_pairs(line_positions[order], book_positions[order], "amount_account", scores)

    # Strategy 3: batches ----------------------------------------------------------------------

    def _batches(self) -> dict[str, _Batch]:
        instructions = self.instructions
        if instructions.empty:
            return {}
        book_positions_by_batch = self.book_positions_by_batch
        batches: dict[str, _Batch] = {}
        settled_days = _days(instructions["settled_on"])
        settled_known = instructions["settled_on"].notna().to_numpy()
        frame = instructions.assign(_day=settled_days, _known=settled_known).sort_values(
            "payment_reference", kind="stable"
        )
        for batch_reference, rows in frame.groupby("batch_reference", sort=True):
            status = rows["status"].to_numpy()
            amounts = rows["amount_fen"].to_numpy(dtype=np.int64)
            references = rows["payment_reference"].tolist()
            success = status == "success"
            failure = status == "failure"
            accounts = stripped_texts(rows["account_no"])
            books = tuple(book_positions_by_batch.get(str(batch_reference), ()))
            days = [int(day) for day, known in zip(rows["_day"], rows["_known"]) if known]
            days += [int(self.book_days[book]) for book in books]
            if not days:
                continue
            batches[str(batch_reference)] = _Batch(
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

    @property
    def line_amount_order(self) -> np.ndarray:
        """Line positions by amount (made once, when a batch first needs it)."""
        if self._line_amount_order is None:
            self._line_amount_order = np.argsort(self.line_amounts, kind="stable")
            self.line_amounts_sorted = self.line_amounts[self._line_amount_order]
        return self._line_amount_order

    def _refund_line(
        self, debit_position: int, reference: str, account: str | None, amount_fen: int, chosen: set[int]
    ) -> int | None:
        """The first free line refunding one failed payment after a control-total debit."""
        order = self.line_amount_order
        low, high = np.searchsorted(self.line_amounts_sorted, [amount_fen, amount_fen + 1])
        start = self.line_days[debit_position]
        best: tuple[int, int] | None = None
        found: int | None = None
        for position in order[low:high].tolist():
            if self.line_used[position] or position in chosen or position == debit_position:
                continue
            if not start <= self.line_days[position] <= start + self.settings.refund_window_days:
                continue
            if self.line_payment_references[position] != reference and (
                account is None or self.line_accounts[position] != account
            ):
                continue
            key = (int(self.line_days[position]), int(self.line_ids[position]))
            if best is None or key < best:
                best, found = key, position
        return found

    def _batch_attempt(
        self, position: int, batch: _Batch, *, rule_successful: str, rule_control_total: str, score: int
    ) -> bool:
        """Try to match one debit line to a whole batch (see the module doc, strategy 3)."""
        amount = int(self.line_amounts[position])
        books = tuple(book for book in batch.book_positions if not self.book_used[book])
        books_total = int(self.book_amounts[list(books)].sum()) if books else 0
        if amount == -batch.success_total_fen and books and books_total == amount:
            if self._take_group(
                (position,), books, batch.success_references, rule_successful, score, reference=batch.batch_reference
            ):
                return True
        if amount != -batch.control_total_fen or not books:
            return False
        chosen: set[int] = set()
        refunds: list[tuple[str, int | None, int]] = []
        for reference, account, failed_fen in batch.failed:
            refund = self._refund_line(position, reference, account, failed_fen, chosen)
            if refund is not None:
                chosen.add(refund)
            refunds.append((reference, refund, failed_fen))
        debits = tuple(book for book in books if self.book_amounts[book] < 0)
        if debits and int(self.book_amounts[list(debits)].sum()) == amount:
            # The book paid every instruction and reverses each failure on its own: the debit
            # joins the payments, each refund joins its reversal (when the book has one yet).
            if not self._take_group(
                (position,), debits, batch.references, rule_control_total, score, reference=batch.batch_reference
            ):
                return False
            for reference, refund, failed_fen in refunds:
                if refund is None:
                    continue
                reversal = [
                    book
                    for book in batch.book_positions
                    if not self.book_used[book]
                    and self.book_payment_references[book] == reference
                    and self.book_amounts[book] == failed_fen
                ]
                if reversal:
                    self._take_group(
                        (refund,),
                        (min(reversal, key=lambda book: self.book_ids[book]),),
                        (reference,),
                        "batch_refund",
                        score,
                    )
            return True
        found = [refund for _, refund, _ in refunds if refund is not None]
        if len(found) == len(batch.failed) and books_total == -batch.success_total_fen:
            # The book paid only the successes: the debit and its refunds together are the batch.
            return self._take_group(
                (position, *found), books, batch.references, rule_control_total, score, reference=batch.batch_reference
            )
        return False

    def match_batches(self) -> None:
        if not self.batches:
            return
        rows = []
        for batch in self.batches.values():
            rows.append((batch.batch_reference, -batch.success_total_fen, batch.first_day, batch.last_day))
            if batch.control_total_fen != batch.success_total_fen:
                rows.append((batch.batch_reference, -batch.control_total_fen, batch.first_day, batch.last_day))
        totals = pd.DataFrame(rows, columns=["batch", "amount", "first_day", "last_day"])
        lines = self._free_lines()
        lines = lines[self.line_amounts[lines] < 0]
        left = pd.DataFrame({"line": lines, "amount": self.line_amounts[lines]})
        pairs = left.merge(totals, on="amount")
        if pairs.empty:
            return
        days = self.line_days[pairs["line"].to_numpy()]
        window = self.settings.date_window_days
        pairs = pairs[(days >= pairs["first_day"] - window) & (days <= pairs["last_day"] + window)]
        pairs = pairs.assign(
            apart=np.maximum(pairs["first_day"] - self.line_days[pairs["line"].to_numpy()], 0),
            line_id=self.line_ids[pairs["line"].to_numpy()],
        ).sort_values(["apart", "line_id", "batch"], kind="stable")
        for position, batch_reference in zip(pairs["line"].tolist(), pairs["batch"].tolist()):
            if self.line_used[position]:
                continue
            self._batch_attempt(
                position,
                self.batches[batch_reference],
                rule_successful="batch_successful",
                rule_control_total="batch_control_total",
                score=SCORE_BATCH,
            )

    # Strategy 4: many lines to one item -------------------------------------------------------

    def match_many_to_one(self) -> None:
        settings = self.settings
        lines = self._free_lines()
        lines = lines[self.line_amounts[lines] != 0]
        books = self._free_books()
        if not len(lines) or not len(books):
            return
        # The counterparty key: the account where the book item has one, else its name.
        line_names = np.array([name_normalise(name) if name else None for name in self.line_names[lines]], dtype=object)
        book_names = np.array([name_normalise(name) if name else None for name in self.book_names[books]], dtype=object)
        by_account = self.book_accounts[books] != None  # noqa: E711
        by_name = ~by_account & (book_names != None)  # noqa: E711
        frames = []
        for line_keys, use in ((self.line_accounts[lines], by_account), (line_names, by_name)):
            left = pd.DataFrame({"line": lines, "key": line_keys}).dropna()
            right = pd.DataFrame(
                {"book": books[use], "key": np.where(by_account, self.book_accounts[books], book_names)[use]}
            )
            if len(left) and len(right):
                frames.append(left.merge(right, on="key"))
        if not frames:
            return
        pairs = pd.concat(frames, ignore_index=True)
        line_positions = pairs["line"].to_numpy(dtype=np.int64)
        book_positions = pairs["book"].to_numpy(dtype=np.int64)
        line_amounts = self.line_amounts[line_positions]
        book_amounts = self.book_amounts[book_positions]
        apart = np.abs(self.line_days[line_positions] - self.book_days[book_positions])
        useful = (
            (np.sign(line_amounts) == np.sign(book_amounts))
            & (np.abs(line_amounts) < np.abs(book_amounts))
            & (apart <= settings.date_window_days)
        )
        line_positions, book_positions, apart = line_positions[useful], book_positions[useful], apart[useful]
        if not len(line_positions):
            return
        order = np.lexsort(
            (self.line_ids[line_positions], apart, self.book_ids[book_positions], self.book_days[book_positions])
        )
        line_positions, book_positions = line_positions[order], book_positions[order]
        boundaries = np.flatnonzero(np.diff(book_positions)) + 1
        for book_group, line_group in zip(np.split(book_positions, boundaries), np.split(line_positions, boundaries)):
            book = int(book_group[0])
            free = [int(line) for line in line_group if not self.line_used[line]][: settings.many_to_one_candidates_max]
            if len(free) < 2:
                continue
            target = int(self.book_amounts[book])
            amounts = {line: int(self.line_amounts[line]) for line in free}
            done = False
            for size in range(2, settings.many_to_one_lines_max + 1):
                for combination in itertools.combinations(free, size):
                    if sum(amounts[line] for line in combination) != target:
                        continue
                    if self._take_group(
                        tuple(combination), (book,), self._references_of((book,)), "many_to_one", SCORE_MANY_TO_ONE
                    ):
                        done = True
                        break
                if done:
                    break

    def _references_of(self, books: tuple[int, ...]) -> tuple[str, ...]:
        return tuple(
            sorted(reference for reference in self.book_instruction_references[list(books)].tolist() if reference)
        )

    # Strategy 5: fuzzy candidates -------------------------------------------------------------

    def match_fuzzy(self) -> None:
        settings = self.settings
        lines = self._free_lines()
        lines = lines[self.line_names[lines] != None]  # noqa: E711
        books = self._free_books()
        books = books[self.book_names[books] != None]  # noqa: E711
        if not len(lines) or not len(books):
            return
        books = books[np.argsort(self.book_amounts[books], kind="stable")]
        sorted_amounts = self.book_amounts[books]
        line_amounts = self.line_amounts[lines]
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
        line_amounts = self.line_amounts[line_positions]
        book_amounts = self.book_amounts[book_positions]
        allowed = np.maximum(settings.amount_tolerance_fen, np.abs(book_amounts) * bps // BPS_PER_UNIT)
        difference = np.abs(line_amounts - book_amounts)
        apart = np.abs(self.line_days[line_positions] - self.book_days[book_positions])
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
                for first, second in zip(self.line_names[line_positions], self.book_names[book_positions])
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
        order = np.lexsort((self.book_ids[book_positions], self.line_ids[line_positions], -scores))
        self._take_pairs(line_positions[order], book_positions[order], "fuzzy_name", scores[order], status="candidate")

    # Strategy 5, second pass: exact amount and date where a side names no counterparty ---------

    def match_amount_date(self) -> None:
        """Candidates for what the other strategies cannot judge because one side names no
        counterparty at all (a fee or a receipt booked by a hand-written voucher, a bank line
        without the payer): the same amount and direction, dates within the window. Pairs are
        taken greedily by days apart, then line id, then book id; only ever a candidate, for a
        person to confirm. Pairs are joined day by day, so a common amount (a 15-yuan fee on
        every line) never multiplies into a cross product of the whole run."""
        window = self.settings.date_window_days
        lines = self._free_lines()
        books = self._free_books()
        if not len(lines) or not len(books):
            return
        left = pd.DataFrame({"line": lines, "amount": self.line_amounts[lines], "day": self.line_days[lines]})
        right = pd.DataFrame({"book": books, "amount": self.book_amounts[books], "day": self.book_days[books]})
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
        line_anonymous = (self.line_accounts[line_positions] == None) & (self.line_names[line_positions] == None)  # noqa: E711
        book_anonymous = (self.book_accounts[book_positions] == None) & (self.book_names[book_positions] == None)  # noqa: E711
        keep = line_anonymous | book_anonymous
        line_positions, book_positions, apart = line_positions[keep], book_positions[keep], apart[keep]
        order = np.lexsort((self.book_ids[book_positions], self.line_ids[line_positions], apart))
        scores = SCORE_AMOUNT_DATE - (SCORE_AMOUNT_DATE_SPAN * apart[order]) // max(window, 1)
        self._take_pairs(line_positions[order], book_positions[order], "amount_date", scores, status="candidate")

    # Result -----------------------------------------------------------------------------------

    def result(self, confirmations_not_applied: tuple[str, ...]) -> ReconciliationResult:
        matches, line_match, book_match, line_status, book_status = self._matches_frame()
        assert (line_match != None).sum() == self.line_used.sum() and (book_match != None).sum() == self.book_used.sum()  # noqa: E711

        bank_only_positions = np.flatnonzero(~self.line_used)
        bank_only = self.statement.iloc[bank_only_positions][list(BANK_ONLY_COLUMNS[:-1])].reset_index(drop=True)
        bank_only["category"] = _bank_only_categories(
            self.line_summaries[bank_only_positions], self.line_amounts[bank_only_positions]
        )
        book_only = self.book.iloc[np.flatnonzero(~self.book_used)][list(BOOK_ONLY_COLUMNS)].reset_index(drop=True)

        mismatched = matches[(matches["rule"] == "reference") & (matches["difference_fen"] != 0)]
        amount_mismatches = pd.DataFrame(
            {
                "match_id": mismatched["match_id"].to_numpy(dtype=object),
                "reference": mismatched["_reference"].to_numpy(dtype=object),
                "statement_line_ids": mismatched["statement_line_ids"].to_numpy(dtype=object),
                "book_ids": mismatched["book_ids"].to_numpy(dtype=object),
                "statement_amount_fen": mismatched["amount_fen"].to_numpy(dtype=np.int64),
                "book_amount_fen": mismatched["book_amount_fen"].to_numpy(dtype=np.int64),
                "difference_fen": mismatched["difference_fen"].to_numpy(dtype=np.int64),
            },
            columns=list(AMOUNT_MISMATCH_COLUMNS),
        )
        statement_dispositions = pd.DataFrame(
            {
                "line_id": self.line_ids,
                "booked_on": self.statement["booked_on"].to_numpy(),
                "amount_fen": self.line_amounts,
                "match_id": pd.Series(line_match, dtype=object),
                "status": pd.Series(line_status, dtype=object),
            },
            columns=list(STATEMENT_DISPOSITION_COLUMNS),
        )
        book_dispositions = pd.DataFrame(
            {
                "book_id": self.book_ids,
                "entry_date": self.book["entry_date"].to_numpy(),
                "amount_fen": self.book_amounts,
                "match_id": pd.Series(book_match, dtype=object),
                "status": pd.Series(book_status, dtype=object),
            },
            columns=list(BOOK_DISPOSITION_COLUMNS),
        )
        return ReconciliationResult(
            matches=matches[list(MATCH_COLUMNS)].reset_index(drop=True),
            bank_only=bank_only[list(BANK_ONLY_COLUMNS)],
            book_only=book_only,
            amount_mismatches=amount_mismatches,
            duplicates=self._duplicates(),
            statement_dispositions=statement_dispositions,
            book_dispositions=book_dispositions,
            confirmations_not_applied=confirmations_not_applied,
        )

    def _matches_frame(self) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """All matches as one frame, plus the match id and status of every line and item (None,
        bank_only or book_only if in none).

        Built column by column from the blocks' arrays and sorted once, with the text columns
        as plain objects (a frame per block, concatenated and sorted, with pandas inferring a
        string type for every text column, cost a second more for a million matches)."""
        line_match = np.full(len(self.line_ids), None, dtype=object)
        book_match = np.full(len(self.book_ids), None, dtype=object)
        line_status = _filled(len(self.line_ids), "bank_only")
        book_status = _filled(len(self.book_ids), "book_only")
        hashes: list[np.ndarray] = []
        columns: dict[str, list] = {name: [] for name in (*MATCH_COLUMNS, "_reference", "_first_line_id")}
        for block in self.pair_blocks:
            line_ids = self.line_ids[block.line_positions]
            book_ids = self.book_ids[block.book_positions]
            block_hashes = match_hash_pairs(line_ids, book_ids)
            hashes.append(block_hashes)
            match_ids = object_array(match_ids_from_hashes(block_hashes))
            line_match[block.line_positions] = match_ids
            book_match[block.book_positions] = match_ids
            line_status[block.line_positions] = block.status
            book_status[block.book_positions] = block.status
            amounts = self.line_amounts[block.line_positions]
            book_amounts = self.book_amounts[block.book_positions]
            references = self.book_instruction_references[block.book_positions]
            count = len(match_ids)
            columns["match_id"].append(match_ids)
            columns["rule"].append(_filled(count, block.rule))
            columns["score"].append(np.asarray(block.scores, dtype=np.int64))
            columns["status"].append(_filled(count, block.status))
            columns["statement_line_ids"].append(_singletons(line_ids))
            columns["book_ids"].append(_singletons(book_ids))
            columns["instruction_references"].append(_singletons_or_empty(references))
            columns["amount_fen"].append(amounts)
            columns["book_amount_fen"].append(book_amounts)
            columns["difference_fen"].append(amounts - book_amounts)
            columns["_reference"].append(self.book_payment_references[block.book_positions])
            columns["_first_line_id"].append(line_ids)
        if self.groups:
            rows = []
            group_hashes = []
            for group in self.groups:
                line_ids = tuple(sorted(int(value) for value in self.line_ids[list(group.line_positions)]))
                book_ids = tuple(sorted(int(value) for value in self.book_ids[list(group.book_positions)]))
                group_hash = match_hash(line_ids, book_ids)
                group_hashes.append(group_hash)
                match_id = f"M{group_hash:016x}"  # = match_id_of(line_ids, book_ids)
                line_match[list(group.line_positions)] = match_id
                line_status[list(group.line_positions)] = group.status
                if group.book_positions:
                    book_match[list(group.book_positions)] = match_id
                    book_status[list(group.book_positions)] = group.status
                amount = int(self.line_amounts[list(group.line_positions)].sum())
                book_amount = int(self.book_amounts[list(group.book_positions)].sum()) if group.book_positions else 0
                rows.append(
                    (
                        match_id,
                        group.rule,
                        group.score,
                        group.status,
                        line_ids,
                        book_ids,
                        group.references,
                        amount,
                        book_amount,
                        amount - book_amount,
                        group.reference,
                        line_ids[0],
                    )
                )
            hashes.append(np.array(group_hashes, dtype=np.uint64))
            for name, values in zip(columns, zip(*rows)):
                columns[name].append(object_array(values))
        if not hashes:
            empty = pd.DataFrame({column: pd.Series(dtype=object) for column in (*MATCH_COLUMNS, "_reference")})
            for column in ("score", "amount_fen", "book_amount_fen", "difference_fen"):
                empty[column] = empty[column].astype(np.int64)
            return empty, line_match, book_match, line_status, book_status
        all_hashes = np.sort(np.concatenate(hashes))  # sorted: numpy's hashing unique is ten times slower
        assert not (all_hashes[1:] == all_hashes[:-1]).any(), "two matches got the same id (64-bit hash collision)"
        order = np.argsort(np.concatenate(columns["_first_line_id"]).astype(np.int64), kind="stable")
        frame: dict[str, object] = {}
        for name in (*MATCH_COLUMNS, "_reference"):
            if name in ("score", "amount_fen", "book_amount_fen", "difference_fen"):
                frame[name] = np.concatenate(columns[name]).astype(np.int64)[order]
            else:
                # The ids, rules and statuses as pandas' text type, as a frame built from them
                # would infer (the rest are tuples, and references that may be None).
                frame[name] = pd.Series(
                    object_array(_concatenated(columns[name]))[order],
                    dtype="str" if name in ("match_id", "rule", "status") else object,
                )
        return pd.DataFrame(frame), line_match, book_match, line_status, book_status

    def _duplicates(self) -> pd.DataFrame:
        """Items that look recorded twice (see ``DUPLICATE_REASONS``); listed, not removed."""
        frames = []
        transaction = stripped_texts(self.statement["txn_id"])
        # A missing or all-zero transaction number is no number (some exports fill 000000).
        real = np.fromiter(
            (value is not None and value.strip("0") != "" for value in transaction.tolist()),
            dtype=bool,
            count=len(transaction),
        )
        keys = pd.Series(np.where(real, transaction, None), dtype=object)
        frames.append(
            _duplicate_rows("statement", self.line_ids, keys, "txn_id", self.statement["booked_on"], self.line_amounts)
        )
        counterparty = np.where(self.line_accounts != None, self.line_accounts, self.line_names)  # noqa: E711
        frames.append(
            _same_date_amount_counterparty(
                "statement", self.line_ids, self.line_days, self.line_amounts, counterparty, self.statement["booked_on"]
            )
        )
        frames.append(
            _same_reference_and_amount(
                "book", self.book_ids, self.book_payment_references, self.book["entry_date"], self.book_amounts
            )
        )
        counterparty = np.where(self.book_accounts != None, self.book_accounts, self.book_names)  # noqa: E711
        frames.append(
            _same_date_amount_counterparty(
                "book", self.book_ids, self.book_days, self.book_amounts, counterparty, self.book["entry_date"]
            )
        )
        return pd.concat(frames, ignore_index=True)[list(DUPLICATE_COLUMNS)]


def _singletons(values: np.ndarray) -> list[tuple[int]]:
    return list(zip(values.tolist()))


def _singletons_or_empty(values: np.ndarray) -> list[tuple]:
    """(value,) for each value, () where it is None or empty."""
    return [(value,) if value else () for value in values.tolist()]


def _filled(count: int, value: object) -> np.ndarray:
    """An object array holding ``value`` ``count`` times (np.full makes a new string for every
    element, 60 ms a million)."""
    values = np.empty(count, dtype=object)
    values.fill(value)
    return values


def _concatenated(parts: list) -> list:
    return parts[0] if len(parts) == 1 else list(itertools.chain.from_iterable(parts))


def _duplicate_rows(
    side: str, ids: np.ndarray, keys: pd.Series, reason: str, dates: pd.Series, amounts: np.ndarray
) -> pd.DataFrame:
    duplicated = (keys.notna() & keys.duplicated(keep=False)).to_numpy()
    return pd.DataFrame(
        {
            "side": side,
            "item_id": ids[duplicated],
            "duplicate_key": keys.to_numpy(dtype=object)[duplicated],
            "reason": reason,
            "item_date": dates.to_numpy()[duplicated],
            "amount_fen": amounts[duplicated],
        },
        columns=list(DUPLICATE_COLUMNS),
    )


def _same_reference_and_amount(
    side: str, ids: np.ndarray, references: np.ndarray, dates: pd.Series, amounts: np.ndarray
) -> pd.DataFrame:
    """Book items with the same payment reference and amount, keyed ``reference|amount``. The
    pairs are compared as they are (the amount is an integer, so the text after the last ``|``
    of a key is always the amount and equal keys are equal pairs); only duplicated items get
    their key written out."""
    present = np.flatnonzero(references != None)  # noqa: E711
    pairs = pd.DataFrame({"reference": pd.Series(references[present], dtype=object), "amount": amounts[present]})
    duplicated = np.zeros(len(ids), dtype=bool)
    duplicated[present[pairs.duplicated(keep=False).to_numpy()]] = True
    keys = [
        f"{reference}|{amount}"
        for reference, amount in zip(references[duplicated].tolist(), amounts[duplicated].tolist())
    ]
    return pd.DataFrame(
        {
            "side": side,
            "item_id": ids[duplicated],
            "duplicate_key": np.array(keys, dtype=object),
            "reason": "payment_reference",
            "item_date": dates.to_numpy()[duplicated],
            "amount_fen": amounts[duplicated],
        },
        columns=list(DUPLICATE_COLUMNS),
    )


def _same_date_amount_counterparty(
    side: str, ids: np.ndarray, days: np.ndarray, amounts: np.ndarray, counterparty: np.ndarray, dates: pd.Series
) -> pd.DataFrame:
    # Only with a known counterparty: two 5-yuan fees on one day without a payee are normal.
    known = np.flatnonzero(counterparty != None)  # noqa: E711
    frame = pd.DataFrame(
        {"day": days[known], "amount": amounts[known], "counterparty": pd.Series(counterparty[known], dtype=object)}
    )
    duplicated = np.zeros(len(ids), dtype=bool)
    duplicated[known[frame.duplicated(["day", "amount", "counterparty"], keep=False).to_numpy()]] = True
    keys = [
        f"{pd.Timestamp(int(day), unit='D').date()}|{amount}|{party}"
        for day, amount, party in zip(
            days[duplicated].tolist(), amounts[duplicated].tolist(), counterparty[duplicated].tolist()
        )
    ]
    return pd.DataFrame(
        {
            "side": side,
            "item_id": ids[duplicated],
            "duplicate_key": np.array(keys, dtype=object),
            "reason": "same_date_amount_counterparty",
            "item_date": dates.to_numpy()[duplicated],
            "amount_fen": amounts[duplicated],
        },
        columns=list(DUPLICATE_COLUMNS),
    )


def _bank_only_categories(summaries: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """Guess what a bank-only line is from the bank's summary.

    A fee is money out whose summary says 手续费 or 费; interest is money in saying 利息 or 结息.
    The direction matters: 电费结算 (an electricity settlement coming in) contains 费 but is no fee.
    """
    categories = _filled(len(summaries), "unknown")
    for index, (summary, amount) in enumerate(zip(summaries.tolist(), amounts.tolist())):
        if amount < 0 and "费" in summary:
            categories[index] = "fee"
        elif amount > 0 and ("利息" in summary or "结息" in summary):
            categories[index] = "interest"
    return categories


def _sorted_checked(
    frame: pd.DataFrame, columns: tuple[str, ...], id_column: str, date_column: str, name: str, rows_max: int
) -> pd.DataFrame:
    _frame_checked(frame, columns, name, rows_max)
    if frame[date_column].isna().any():
        raise ValueError(f"{name}.{date_column} must be a date on every row")
    ids = frame[id_column]
    if ids.is_monotonic_increasing and not (ids.to_numpy()[1:] == ids.to_numpy()[:-1]).any():
        # Already in id order without repeats (the books as read): nothing to sort or hash.
        return frame.reset_index(drop=True)
    if not ids.is_unique:
        duplicated = frame.loc[ids.duplicated(), id_column].head(5).tolist()
        raise ValueError(f"{name}.{id_column} must be unique; repeated: {duplicated}")
    return frame.sort_values(id_column, kind="stable").reset_index(drop=True)


def reconcile(
    statement: pd.DataFrame, book: pd.DataFrame, instructions: pd.DataFrame, settings: MatchSettings | None = None
) -> ReconciliationResult:
    """Match one bank account's statement lines to its book items and our payment instructions.

    ``statement`` has ``STATEMENT_COLUMNS``, ``book`` has ``BOOK_COLUMNS`` and ``instructions``
    has ``INSTRUCTION_COLUMNS`` (``reconciliation.model``); amounts are signed int64 fen from our
    account's point of view (+ money in). Returns a ``ReconciliationResult``: every statement line
    is in exactly one of matches (matched, confirmed or candidate) and bank_only, every book item
    in exactly one of matches and book_only. The same inputs and settings always give the same
    matches with the same ids. Raises ValueError for frames that break the contract.
    """
    settings = settings or MatchSettings()
    statement = _sorted_checked(statement, STATEMENT_COLUMNS, "line_id", "booked_on", "statement", STATEMENT_LINES_MAX)
    book = _sorted_checked(book, BOOK_COLUMNS, "book_id", "entry_date", "book", BOOK_ITEMS_MAX)
    _frame_checked(instructions, INSTRUCTION_COLUMNS, "instructions", INSTRUCTIONS_MAX)
    if not instructions["payment_reference"].is_unique:
        raise ValueError("instructions.payment_reference must be unique")
    unknown = set(instructions["status"].unique().tolist()) - INSTRUCTION_STATUSES
    if unknown:
        raise ValueError(f"instructions.status has values {sorted(unknown)}; allowed: {sorted(INSTRUCTION_STATUSES)}")
    if (instructions["amount_fen"] <= 0).any():
        raise ValueError("instructions.amount_fen must be positive (money out)")

    matcher = _Matcher(statement, book, instructions, settings)
    not_applied = matcher.apply_confirmed()
    matcher.match_payment_references()
    matcher.match_batch_references()
    matcher.match_amount_account()
    matcher.match_batches()
    matcher.match_many_to_one()
    matcher.match_fuzzy()
    matcher.match_amount_date()
    return matcher.result(not_applied)


__all__ = ["reconcile", "match_id_of", "match_hash", "PAYMENT_REFERENCE_PATTERN", "BATCH_REFERENCE_PATTERN"]
