"""The 银行存款余额调节表: the book balance and the bank balance brought to the same figure.

    book balance + 银行已收、企业未收 − 银行已付、企业未付
        = bank balance + 企业已收、银行未收 − 企业已付、银行未付

An item is outstanding when it is in no match, or only in a fuzzy candidate a person has not
confirmed, or (with ``as_of``) in a match whose other side is dated after ``as_of``. Matched and
confirmed matches are settled; if such a match joined different amounts (an amount mismatch on a
reference, or a confirmed candidate), the difference stays in the table as a disagreement, and
the record names those matches and any duplicates as the likely causes.

Why the two sides agree when every movement is on both sides: with a common opening balance,
book = opening + Σ book items and bank = opening + Σ statement lines, so adjusted book −
adjusted bank = Σ settled book amounts − Σ settled bank amounts = −Σ differences of the
settled matches, which is 0 when each settled match joins equal sums.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

from disburse.reconciliation.model import AdjustedBalance, ReconciliationResult

ITEM_COLUMNS = ("side", "item_id", "item_date", "amount_fen", "status", "match_id")
CAUSE_COLUMNS = ("kind", "match_id", "side", "item_ids", "amount_fen", "difference_fen", "note")
SETTLED_STATUSES = ("matched", "confirmed")


def _settled_match_ids(result: ReconciliationResult, as_of: pd.Timestamp | None) -> tuple[set[str], set[str]]:
    """Matched or confirmed matches whose every line and item is dated on or before ``as_of``,
    and those of the matched or confirmed that are not (dated later, or not at all).

    As sets of ids rather than a group-by over a million string ids (two seconds): a match is
    settled unless one of its lines or items is dated after ``as_of`` (or none has a date)."""
    settled: set[str] = set()
    late: set[str] = set()
    undated: set[str] = set()
    for frame, day_column in ((result.statement_dispositions, "booked_on"), (result.book_dispositions, "entry_date")):
        ids = frame["match_id"].to_numpy(dtype=object)
        chosen = _settled_rows(frame)
        settled.update(ids[chosen].tolist())
        if as_of is not None:
            days = frame[day_column]
            late.update(ids[chosen & (days > as_of).to_numpy()].tolist())
            undated.update(ids[chosen & days.isna().to_numpy()].tolist())
    if as_of is None:
        return settled, set()
    unsettled = late
    if undated:
        # A match counts by its latest date; one with no date at all is not settled.
        dated: set[str] = set()
        for frame, day_column in (
            (result.statement_dispositions, "booked_on"),
            (result.book_dispositions, "entry_date"),
        ):
            ids = frame["match_id"].to_numpy(dtype=object)
            dated.update(ids[_settled_rows(frame) & frame[day_column].notna().to_numpy()].tolist())
        unsettled = late | (undated - dated)
    return settled - unsettled, unsettled


def _settled_rows(frame: pd.DataFrame) -> np.ndarray:
    """Lines or items in a matched or confirmed match."""
    return pd.notna(frame["match_id"].to_numpy(dtype=object)) & np.isin(
        frame["status"].to_numpy(dtype=object), SETTLED_STATUSES
    )


def _in_settled(frame: pd.DataFrame, settled: set[str], unsettled: set[str]) -> np.ndarray:
    """Which lines or items are in a settled match. A line of a matched or confirmed match is,
    unless its match is among the few ``unsettled``; only the others (candidates) are looked
    up one by one, which spares a million set lookups (or a pandas isin over string ids)."""
    ids = frame["match_id"].to_numpy(dtype=object)
    own = _settled_rows(frame)
    inside = own.copy()
    if unsettled:
        chosen = np.flatnonzero(own)
        inside[chosen] = np.fromiter(
            (value not in unsettled for value in ids[chosen].tolist()), dtype=bool, count=len(chosen)
        )
    others = np.flatnonzero(pd.notna(ids) & ~own)
    inside[others] = np.fromiter((value in settled for value in ids[others].tolist()), dtype=bool, count=len(others))
    return inside


def _items(side: str, frame: pd.DataFrame, id_column: str, date_column: str, mask: np.ndarray) -> pd.DataFrame:
    chosen = frame[mask]
    return pd.DataFrame(
        {
            "side": side,
            "item_id": chosen[id_column].to_numpy(dtype=np.int64),
            "item_date": chosen[date_column].to_numpy(),
            "amount_fen": np.abs(chosen["amount_fen"].to_numpy(dtype=np.int64)),
            "status": chosen["status"].to_numpy(dtype=object),
            "match_id": chosen["match_id"].to_numpy(dtype=object),
        },
        columns=list(ITEM_COLUMNS),
    ).reset_index(drop=True)


def _total(items: pd.DataFrame) -> int:
    return int(items["amount_fen"].sum()) if len(items) else 0


def adjusted_balance(
    book_balance_fen: int,
    bank_balance_fen: int,
    result: ReconciliationResult,
    *,
    as_of: datetime.date | None = None,
) -> AdjustedBalance:
    """Build the 银行存款余额调节表 from the two closing balances and a reconciliation result.

    ``book_balance_fen`` is the 102 sub-account's balance and ``bank_balance_fen`` the
    statement's balance, both at the same moment: ``as_of`` (inclusive) when given, in which case
    lines and items dated later are left out and a match completed only later counts as
    outstanding; without ``as_of`` every line and item of ``result`` counts. Amounts in the four
    item frames and totals are positive; see ``AdjustedBalance`` for the fields.
    """
    for name, value in (("book_balance_fen", book_balance_fen), ("bank_balance_fen", bank_balance_fen)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be int fen, not {type(value).__name__}")
    cutoff = pd.Timestamp(as_of) if as_of is not None else None
    settled, unsettled = _settled_match_ids(result, cutoff)

    statement = result.statement_dispositions
    book = result.book_dispositions
    statement_in = (
        np.ones(len(statement), dtype=bool) if cutoff is None else (statement["booked_on"] <= cutoff).to_numpy()
    )
    book_in = np.ones(len(book), dtype=bool) if cutoff is None else (book["entry_date"] <= cutoff).to_numpy()
    statement_open = statement_in & ~_in_settled(statement, settled, unsettled)
    book_open = book_in & ~_in_settled(book, settled, unsettled)
    statement_amounts = statement["amount_fen"].to_numpy(dtype=np.int64)
    book_amounts = book["amount_fen"].to_numpy(dtype=np.int64)

    bank_received = _items("statement", statement, "line_id", "booked_on", statement_open & (statement_amounts > 0))
    bank_paid = _items("statement", statement, "line_id", "booked_on", statement_open & (statement_amounts < 0))
    book_received = _items("book", book, "book_id", "entry_date", book_open & (book_amounts > 0))
    book_paid = _items("book", book, "book_id", "entry_date", book_open & (book_amounts < 0))

    adjusted_book = int(book_balance_fen) + _total(bank_received) - _total(bank_paid)
    adjusted_bank = int(bank_balance_fen) + _total(book_received) - _total(book_paid)
    difference = adjusted_book - adjusted_bank

    matches = result.matches
    differing = matches[(matches["difference_fen"] != 0).to_numpy()]
    differing = differing[
        np.fromiter((value in settled for value in differing["match_id"].tolist()), dtype=bool, count=len(differing))
    ]
    # A settled match whose bank side is larger by d leaves the adjusted book side short by d.
    explained = -int(differing["difference_fen"].sum()) if len(differing) else 0
    causes = _causes(differing, result, cutoff) if difference != 0 else pd.DataFrame(columns=list(CAUSE_COLUMNS))
    return AdjustedBalance(
        book_balance_fen=int(book_balance_fen),
        bank_balance_fen=int(bank_balance_fen),
        bank_received_book_not_fen=_total(bank_received),
        bank_paid_book_not_fen=_total(bank_paid),
        book_received_bank_not_fen=_total(book_received),
        book_paid_bank_not_fen=_total(book_paid),
        adjusted_book_balance_fen=adjusted_book,
        adjusted_bank_balance_fen=adjusted_bank,
        difference_fen=difference,
        explained_fen=explained,
        unexplained_fen=difference - explained,
        bank_received_book_not=bank_received,
        bank_paid_book_not=bank_paid,
        book_received_bank_not=book_received,
        book_paid_bank_not=book_paid,
        causes=causes,
    )


def _causes(differing: pd.DataFrame, result: ReconciliationResult, cutoff: pd.Timestamp | None) -> pd.DataFrame:
    """The lines that may explain a disagreement: settled matches joining different amounts, and
    every item that looks recorded twice (a duplicated line moves a total without a movement)."""
    rows = []
    for match in differing.itertuples(index=False):
        rows.append(
            (
                "amount_mismatch",
                match.match_id,
                "both",
                (*match.statement_line_ids, *match.book_ids),
                int(match.amount_fen),
                int(match.difference_fen),
                f"bank {int(match.amount_fen)} fen, book {int(match.book_amount_fen)} fen (rule {match.rule})",
            )
        )
    duplicates = result.duplicates
    if cutoff is not None:
        duplicates = duplicates[duplicates["item_date"] <= cutoff]
    for duplicate in duplicates.itertuples(index=False):
        rows.append(
            (
                "duplicate",
                None,
                duplicate.side,
                (int(duplicate.item_id),),
                int(duplicate.amount_fen),
                0,
                f"{duplicate.reason}: {duplicate.duplicate_key}",
            )
        )
    return pd.DataFrame(rows, columns=list(CAUSE_COLUMNS))
