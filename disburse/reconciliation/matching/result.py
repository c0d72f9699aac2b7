"""The one result builder: the matches every strategy took, as a ``ReconciliationResult``.

Matches come from ``MatchState`` as blocks of one-to-one pairs (one rule each) and as group
matches; here they become one matches frame (sorted by first statement line, each with its
stable id), what is left on each side, the amount mismatches, the duplicates and where every
line and item ended up.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from disburse.foundation.frames import object_array
from disburse.reconciliation.match_ids import match_hash, match_hash_pairs, match_ids_from_hashes
from disburse.reconciliation.matching.duplicates import duplicates_of
from disburse.reconciliation.matching.state import MatchState, PairBlock
from disburse.reconciliation.model import (
    AMOUNT_MISMATCH_COLUMNS,
    BANK_ONLY_COLUMNS,
    BOOK_DISPOSITION_COLUMNS,
    BOOK_ONLY_COLUMNS,
    MATCH_COLUMNS,
    STATEMENT_DISPOSITION_COLUMNS,
    ReconciliationResult,
)


def result_of(state: MatchState, confirmations_not_applied: tuple[str, ...]) -> ReconciliationResult:
    matches, dispositions = _matches_frame(state)
    line_match, book_match = dispositions.line_match, dispositions.book_match
    line_status, book_status = dispositions.line_status, dispositions.book_status
    assert (line_match != None).sum() == state.line_used.sum() and (book_match != None).sum() == state.book_used.sum()  # noqa: E711

    bank_only_positions = np.flatnonzero(~state.line_used)
    bank_only = state.statement.iloc[bank_only_positions][list(BANK_ONLY_COLUMNS[:-1])].reset_index(drop=True)
    bank_only["category"] = _bank_only_categories(
        state.line_summaries[bank_only_positions], state.line_amounts[bank_only_positions]
    )
    book_only = state.book.iloc[np.flatnonzero(~state.book_used)][list(BOOK_ONLY_COLUMNS)].reset_index(drop=True)

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
            "line_id": state.line_ids,
            "booked_on": state.statement["booked_on"].to_numpy(),
            "amount_fen": state.line_amounts,
            "match_id": pd.Series(line_match, dtype=object),
            "status": pd.Series(line_status, dtype=object),
        },
        columns=list(STATEMENT_DISPOSITION_COLUMNS),
    )
    book_dispositions = pd.DataFrame(
        {
            "book_id": state.book_ids,
            "entry_date": state.book["entry_date"].to_numpy(),
            "amount_fen": state.book_amounts,
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
        duplicates=duplicates_of(state),
        statement_dispositions=statement_dispositions,
        book_dispositions=book_dispositions,
        confirmations_not_applied=confirmations_not_applied,
    )


@dataclass(slots=True)
class _Dispositions:
    """The match id and status of every line and item (None, bank_only or book_only if in none)."""

    line_match: np.ndarray
    book_match: np.ndarray
    line_status: np.ndarray
    book_status: np.ndarray

    @classmethod
    def empty(cls, state: MatchState) -> _Dispositions:
        return cls(
            np.full(len(state.line_ids), None, dtype=object),
            np.full(len(state.book_ids), None, dtype=object),
            _filled(len(state.line_ids), "bank_only"),
            _filled(len(state.book_ids), "book_only"),
        )


def _matches_frame(state: MatchState) -> tuple[pd.DataFrame, _Dispositions]:
    """All matches as one frame, plus where every line and item ended up.

    Built column by column from the blocks' arrays and sorted once, with the text columns
    as plain objects (a frame per block, concatenated and sorted, with pandas inferring a
    string type for every text column, cost a second more for a million matches)."""
    dispositions = _Dispositions.empty(state)
    hashes: list[np.ndarray] = []
    columns: dict[str, list] = {name: [] for name in (*MATCH_COLUMNS, "_reference", "_first_line_id")}
    for block in state.pair_blocks:
        hashes.append(_add_pair_block(state, block, dispositions, columns))
    if state.groups:
        hashes.append(_add_groups(state, dispositions, columns))
    if not hashes:
        empty = pd.DataFrame({column: pd.Series(dtype=object) for column in (*MATCH_COLUMNS, "_reference")})
        for column in ("score", "amount_fen", "book_amount_fen", "difference_fen"):
            empty[column] = empty[column].astype(np.int64)
        return empty, dispositions
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
    return pd.DataFrame(frame), dispositions


def _add_pair_block(
    state: MatchState, block: PairBlock, dispositions: _Dispositions, columns: dict[str, list]
) -> np.ndarray:
    """One block of one-to-one matches into the columns (as arrays); returns its hashes."""
    line_ids = state.line_ids[block.line_positions]
    book_ids = state.book_ids[block.book_positions]
    block_hashes = match_hash_pairs(line_ids, book_ids)
    match_ids = object_array(match_ids_from_hashes(block_hashes))
    dispositions.line_match[block.line_positions] = match_ids
    dispositions.book_match[block.book_positions] = match_ids
    dispositions.line_status[block.line_positions] = block.status
    dispositions.book_status[block.book_positions] = block.status
    amounts = state.line_amounts[block.line_positions]
    book_amounts = state.book_amounts[block.book_positions]
    references = state.book_instruction_references[block.book_positions]
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
    columns["_reference"].append(state.book_payment_references[block.book_positions])
    columns["_first_line_id"].append(line_ids)
    return block_hashes


def _add_groups(state: MatchState, dispositions: _Dispositions, columns: dict[str, list]) -> np.ndarray:
    """The group matches into the columns (one row each); returns their hashes."""
    rows = []
    group_hashes = []
    for group in state.groups:
        line_ids = tuple(sorted(int(value) for value in state.line_ids[list(group.line_positions)]))
        book_ids = tuple(sorted(int(value) for value in state.book_ids[list(group.book_positions)]))
        group_hash = match_hash(line_ids, book_ids)
        group_hashes.append(group_hash)
        match_id = f"M{group_hash:016x}"  # = match_id_of(line_ids, book_ids)
        dispositions.line_match[list(group.line_positions)] = match_id
        dispositions.line_status[list(group.line_positions)] = group.status
        if group.book_positions:
            dispositions.book_match[list(group.book_positions)] = match_id
            dispositions.book_status[list(group.book_positions)] = group.status
        amount = int(state.line_amounts[list(group.line_positions)].sum())
        book_amount = int(state.book_amounts[list(group.book_positions)].sum()) if group.book_positions else 0
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
    for name, values in zip(columns, zip(*rows)):
        columns[name].append(object_array(values))
    return np.array(group_hashes, dtype=np.uint64)


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
