"""Domain records of the ledger core: small immutable types, one docstring each.

Posting is a bulk operation, so besides the per-entry records (``EntryDraft``) there is a
columnar ``EntryBatch``: an allocation over a million households hands the poster arrays, not a
million Python objects. Both go through the same checks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from disburse.foundation.i18n import tr
from disburse.foundation.money import format_yuan

# Separators used in the canonical text that the hash chain covers; user text may not contain
# them, so two different entries can never produce the same canonical text.
FIELD_SEPARATOR = "\x1f"
RECORD_SEPARATOR = "\x1e"
FORBIDDEN_TEXT_CHARACTERS = ("\x1d", FIELD_SEPARATOR, RECORD_SEPARATOR)

# Limits (TIGER_STYLE): every input has a bound and a clear refusal past it.
ENTRIES_PER_POST_MAX = 5_000_000
POSTINGS_PER_POST_MAX = 20_000_000
POSTINGS_PER_ENTRY_MAX = 30_000  # line numbers are SMALLINT
MEMO_LENGTH_MAX = 500
SOURCE_REFERENCE_LENGTH_MAX = 200
DIMENSION_LENGTH_MAX = {"household_id": 32, "fund_source": 64, "payment_reference": 40}


@dataclass(frozen=True, slots=True)
class LedgerError:
    """One problem found while checking entries: where it is, what is wrong, and the entry."""

    source: str
    message: str
    entry: Any = None

    def __str__(self) -> str:
        return tr("{source}: {message}", source=self.source, message=self.message)


@dataclass(frozen=True, slots=True)
class PostingDraft:
    """A posting to be written: debit positive, credit negative, in fen, with optional dimensions."""

    account_code: str
    amount_fen: int
    household_id: str | None = None
    fund_source: str | None = None
    payment_reference: str | None = None


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """A journal entry to be written: two or more postings that sum to zero."""

    entity_code: str
    period: str
    entry_date: dt.date
    memo: str
    postings: tuple[PostingDraft, ...]
    source_kind: str = "manual"
    source_reference: str = ""
    reverses_entry_id: int | None = None
    label: str = ""  # how the user knows this entry (e.g. a 凭证号 in their file); not stored


@dataclass(frozen=True, slots=True)
class PostedPosting:
    """A posting read back from the books."""

    line_number: int
    account_code: str
    amount_fen: int
    household_id: str | None
    fund_source: str | None
    payment_reference: str | None


@dataclass(frozen=True, slots=True)
class PostedEntry:
    """A journal entry read back from the books, with its place in the entity's hash chain."""

    id: int
    entity_code: str
    period: str
    entry_date: dt.date
    voucher_number: int
    memo: str
    source_kind: str
    source_reference: str
    created_by: str
    created_at: dt.datetime
    reverses_entry_id: int | None
    entry_hash: str
    postings: tuple[PostedPosting, ...]

    @property
    def voucher(self) -> str:
        return voucher_label(self.voucher_number)


def voucher_label(voucher_number: int) -> str:
    """记-0001: how Chinese finance staff write a general voucher's number."""
    return f"记-{voucher_number:04d}"


@dataclass(frozen=True, slots=True)
class EntryBatch:
    """Entries in columns. ``posting_entry_index`` maps each posting to its entry (0-based),
    non-decreasing, so the postings of entry i are one contiguous slice."""

    entity_code: list[str]
    period: list[str]
    entry_date: list[dt.date]
    memo: list[str]
    source_kind: list[str]
    source_reference: list[str]
    reverses_entry_id: list[int | None]
    label: list[str]
    posting_entry_index: np.ndarray
    account_code: list[str]
    amount_fen: np.ndarray
    household_id: list[str | None]
    fund_source: list[str | None]
    payment_reference: list[str | None]
    # The chain position (1-based) of entry 0, when the batch is a window of a longer chain read
    # back by verify: errors then name the entry by its place in the whole chain.
    first_position: int = 1
    posting_starts: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        entry_count = len(self.entity_code)
        for name in ("period", "entry_date", "memo", "source_kind", "source_reference", "reverses_entry_id", "label"):
            assert len(getattr(self, name)) == entry_count, name
        posting_count = len(self.amount_fen)
        for name in ("posting_entry_index", "account_code", "household_id", "fund_source", "payment_reference"):
            assert len(getattr(self, name)) == posting_count, name
        assert self.amount_fen.dtype == np.int64
        assert self.posting_entry_index.dtype == np.int64
        assert self.first_position >= 1, self.first_position
        if posting_count:
            assert np.all(np.diff(self.posting_entry_index) >= 0), "postings grouped by entry"
            assert self.posting_entry_index[0] >= 0
            assert self.posting_entry_index[-1] < entry_count
        counts = np.bincount(self.posting_entry_index, minlength=entry_count)
        starts = np.zeros(entry_count + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        object.__setattr__(self, "posting_starts", starts)

    @property
    def entry_count(self) -> int:
        return len(self.entity_code)

    @property
    def posting_count(self) -> int:
        return len(self.amount_fen)

    def entry_source(self, index: int) -> str:
        """How an error names entry ``index``: its position and the user's own label."""
        label, number = self.label[index], self.first_position + index
        if label:
            return tr("entry {number} ({label})", number=number, label=label)
        return tr("entry {number}", number=number)

    @classmethod
    def from_drafts(cls, drafts: Sequence[EntryDraft]) -> "EntryBatch":
        """Columns from a list of entry drafts (manual vouchers, reversals, small posts)."""
        entry_index: list[int] = []
        postings: list[PostingDraft] = []
        for index, draft in enumerate(drafts):
            entry_index.extend([index] * len(draft.postings))
            postings.extend(draft.postings)
        return cls(
            entity_code=[d.entity_code for d in drafts],
            period=[d.period for d in drafts],
            entry_date=[d.entry_date for d in drafts],
            memo=[d.memo for d in drafts],
            source_kind=[d.source_kind for d in drafts],
            source_reference=[d.source_reference for d in drafts],
            reverses_entry_id=[d.reverses_entry_id for d in drafts],
            label=[d.label for d in drafts],
            posting_entry_index=np.asarray(entry_index, dtype=np.int64),
            account_code=[p.account_code for p in postings],
            amount_fen=np.asarray([p.amount_fen for p in postings], dtype=np.int64),
            household_id=[p.household_id for p in postings],
            fund_source=[p.fund_source for p in postings],
            payment_reference=[p.payment_reference for p in postings],
        )


def arithmetic_text(amounts_fen: Sequence[int]) -> str:
    """``1,000.00 + -999.99``: the postings of an entry as a sum a person can check."""
    return " + ".join(format_yuan(int(amount)) for amount in amounts_fen)


def entries_check_balanced(batch: EntryBatch, context: Any = None) -> tuple[EntryBatch, list[LedgerError]]:
    """The one balancing check, used when entries are built, before they are written and by
    ``verify`` after reading them back: every entry has two or more non-zero postings that sum
    to exactly zero. Errors show the arithmetic, as hledger does."""
    errors: list[LedgerError] = []
    counts = np.diff(batch.posting_starts)
    sums = np.zeros(batch.entry_count, dtype=np.int64)
    if batch.posting_count:
        # bincount would go through float64; add.at keeps exact int64 sums.
        np.add.at(sums, batch.posting_entry_index, batch.amount_fen)
    zero_lines = np.zeros(batch.entry_count, dtype=bool)
    if batch.posting_count:
        zero_postings = batch.amount_fen == 0
        if zero_postings.any():
            zero_lines[batch.posting_entry_index[zero_postings]] = True
    bad = np.flatnonzero((sums != 0) | (counts < 2) | zero_lines)
    for index in bad.tolist():
        start, end = int(batch.posting_starts[index]), int(batch.posting_starts[index + 1])
        amounts = batch.amount_fen[start:end].tolist()
        source = batch.entry_source(index)
        if counts[index] < 2:
            message = tr("has {count} posting(s); an entry needs at least two", count=counts[index])
        elif zero_lines[index]:
            message = tr("has a posting of 0.00 ({terms}); postings are never zero", terms=arithmetic_text(amounts))
        else:
            message = tr(
                "postings sum to {total}, not 0: {terms}",
                total=format_yuan(int(sums[index])),
                terms=arithmetic_text(amounts),
            )
        errors.append(LedgerError(source, message, index))
    return batch, errors
