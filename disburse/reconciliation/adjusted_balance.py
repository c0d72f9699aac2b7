"""The 银行存款余额调节表: the book balance and the bank balance brought to the same figure.

    book balance + 银行已收、企业未收 − 银行已付、企业未付
        = bank balance + 企业已收、银行未收 − 企业已付、银行未付

Every line and item at or before the cut-off (``as_of``) is in exactly one of three places:

- **settled**: in a matched or confirmed match whose every line and item is dated by the
  cut-off. It is on both sides' balances already, so it is in no column of the table.
- **待确认 (pending)**: in a candidate match (``fuzzy_name``, ``amount_date``) a person has not
  confirmed or rejected yet, whose every line and item is dated by the cut-off. Each side has
  recorded its own half, so each half is already in its own side's balance; the table adds
  neither half to the other side (that would count the movement twice: the 3,000,000.00 of
  issue 11 item 8 shown as both 银行已收、企业未收 and 企业已收、银行未收, an adjusted balance of
  6,000,000.00). Pending matches are listed in their own section with both amounts. Confirming
  one changes nothing in the table; rejecting one moves its line and item into the outstanding
  columns, one on each side.
- **outstanding (未达账项)**: in no match, or in a match completed only after the cut-off (its
  other side is dated later, or not at all).

Why the two sides agree: with a common opening balance, book = opening + Σ book items and bank
= opening + Σ statement lines, so adjusted book − adjusted bank = Σ (settled and pending) book
amounts − Σ (settled and pending) bank amounts = −Σ differences of those matches. The table
therefore ties exactly when every settled and every pending match joins equal sums; when it
does not, the record says why, to the fen: ``explained_fen`` is what settled matches joining
different amounts account for (an amount mismatch on a reference, a confirmed candidate),
``pending_difference_fen`` what pending candidates joining different amounts account for,
and ``unexplained_fen`` the rest, which only a break in the common opening balance can cause
(lines or postings missing from one side, a repeated line); ``causes`` names each.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

from disburse.foundation.i18n import tr
from disburse.reconciliation.model import AdjustedBalance, ReconciliationResult

ITEM_COLUMNS = ("side", "item_id", "item_date", "amount_fen", "status", "match_id")
# The pending section lists signed amounts (+ money in), as each side recorded them.
PENDING_COLUMNS = ("match_id", "side", "item_id", "item_date", "amount_fen")
CAUSE_COLUMNS = ("kind", "match_id", "side", "item_ids", "amount_fen", "difference_fen", "note")
SETTLED_STATUSES = ("matched", "confirmed")
PENDING_STATUS = "candidate"


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


def _pending_rows(result: ReconciliationResult, cutoff: pd.Timestamp | None) -> tuple[np.ndarray, np.ndarray]:
    """Which statement lines and book items are in a pending candidate: a candidate match whose
    every line and item is dated by the cut-off. A candidate with a side dated later (or not at
    all) is not pending: its earlier side is outstanding whatever a person decides."""
    sides = (
        (result.statement_dispositions, "booked_on"),
        (result.book_dispositions, "entry_date"),
    )
    candidate = [(frame["status"].to_numpy(dtype=object) == PENDING_STATUS) for frame, _ in sides]
    late: set[str] = set()
    if cutoff is not None:
        for (frame, day_column), chosen in zip(sides, candidate):
            days = frame[day_column]
            beyond = chosen & ((days > cutoff) | days.isna()).to_numpy()
            late.update(frame["match_id"].to_numpy(dtype=object)[beyond].tolist())
    pending = []
    for (frame, _), chosen in zip(sides, candidate):
        rows = chosen.copy()
        if late:
            ids = frame["match_id"].to_numpy(dtype=object)
            where = np.flatnonzero(chosen)
            rows[where] = np.fromiter(
                (value not in late for value in ids[where].tolist()), dtype=bool, count=len(where)
            )
        pending.append(rows)
    return pending[0], pending[1]


def _pending_frame(
    result: ReconciliationResult, statement_pending: np.ndarray, book_pending: np.ndarray
) -> pd.DataFrame:
    """The pending section's rows: each pending match's lines, then its items, signed amounts."""
    parts = []
    for side, frame, id_column, date_column, mask in (
        ("statement", result.statement_dispositions, "line_id", "booked_on", statement_pending),
        ("book", result.book_dispositions, "book_id", "entry_date", book_pending),
    ):
        chosen = frame[mask]
        parts.append(
            pd.DataFrame(
                {
                    "match_id": chosen["match_id"].to_numpy(dtype=object),
                    "side": side,
                    "item_id": chosen[id_column].to_numpy(dtype=np.int64),
                    "item_date": chosen[date_column].to_numpy(),
                    "amount_fen": chosen["amount_fen"].to_numpy(dtype=np.int64),
                },
                columns=list(PENDING_COLUMNS),
            )
        )
    pending = pd.concat(parts, ignore_index=True)
    # Grouped by match, in the order of each match's first statement line (every candidate has
    # one, and the lines come first, in id order); within a match its lines, then its items.
    # Codes by first appearance, not a sort of the ids' text.
    codes, _ = pd.factorize(pending["match_id"].to_numpy(dtype=object))
    return pending.iloc[np.argsort(codes, kind="stable")].reset_index(drop=True)


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
    item frames and totals are positive; pending candidates are in neither (see the module doc)
    but in ``pending``, signed. See ``AdjustedBalance`` for the fields.
    """
    _balances_check(book_balance_fen, bank_balance_fen)
    cutoff = pd.Timestamp(as_of) if as_of is not None else None
    settled, unsettled = _settled_match_ids(result, cutoff)
    statement_pending, book_pending = _pending_rows(result, cutoff)

    statement_open, book_open = _open_items(result, cutoff, settled, unsettled, statement_pending, book_pending)
    statement_amounts = result.statement_dispositions["amount_fen"].to_numpy(dtype=np.int64)
    book_amounts = result.book_dispositions["amount_fen"].to_numpy(dtype=np.int64)
    bank_received, bank_paid, book_received, book_paid = _outstanding_items(result, statement_open, book_open)
    adjusted_book = int(book_balance_fen) + _total(bank_received) - _total(bank_paid)
    adjusted_bank = int(bank_balance_fen) + _total(book_received) - _total(book_paid)
    difference = adjusted_book - adjusted_bank

    # A settled or pending match whose bank side is larger by d leaves the adjusted book side
    # short by d.
    differing = _differing(result.matches, settled)
    explained = -int(differing["difference_fen"].sum()) if len(differing) else 0
    pending_statement_fen = int(statement_amounts[statement_pending].sum())
    pending_book_fen = int(book_amounts[book_pending].sum())
    pending_difference = pending_book_fen - pending_statement_fen
    unexplained = difference - explained - pending_difference
    pending = _pending_frame(result, statement_pending, book_pending)
    causes = (
        _causes(differing, pending, unexplained, result, cutoff)
        if difference != 0
        else pd.DataFrame(columns=list(CAUSE_COLUMNS))
    )
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
        unexplained_fen=unexplained,
        bank_received_book_not=bank_received,
        bank_paid_book_not=bank_paid,
        book_received_bank_not=book_received,
        book_paid_bank_not=book_paid,
        causes=causes,
        pending=pending,
        pending_match_count=_match_count(pending),
        pending_statement_fen=pending_statement_fen,
        pending_book_fen=pending_book_fen,
        pending_difference_fen=pending_difference,
    )


def _balances_check(book_balance_fen: object, bank_balance_fen: object) -> None:
    """Both closing balances must be int fen: a float or a bool here is a programmer's error."""
    for name, value in (("book_balance_fen", book_balance_fen), ("bank_balance_fen", bank_balance_fen)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be int fen, not {type(value).__name__}")


def _open_items(
    result: ReconciliationResult,
    cutoff: pd.Timestamp | None,
    settled: set[str],
    unsettled: set[str],
    statement_pending: np.ndarray,
    book_pending: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The statement lines and book items outstanding on the cutoff: dated by then, in no match
    settled by then and in no pending candidate."""
    statement = result.statement_dispositions
    book = result.book_dispositions
    statement_in = (
        np.ones(len(statement), dtype=bool) if cutoff is None else (statement["booked_on"] <= cutoff).to_numpy()
    )
    book_in = np.ones(len(book), dtype=bool) if cutoff is None else (book["entry_date"] <= cutoff).to_numpy()
    statement_open = statement_in & ~_in_settled(statement, settled, unsettled) & ~statement_pending
    book_open = book_in & ~_in_settled(book, settled, unsettled) & ~book_pending
    return statement_open, book_open


def _outstanding_items(
    result: ReconciliationResult, statement_open: np.ndarray, book_open: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The four sections of the 调节表: received and paid by the bank, not in the books; received
    and paid in the books, not by the bank."""
    statement = result.statement_dispositions
    book = result.book_dispositions
    statement_amounts = statement["amount_fen"].to_numpy(dtype=np.int64)
    book_amounts = book["amount_fen"].to_numpy(dtype=np.int64)
    bank_received = _items("statement", statement, "line_id", "booked_on", statement_open & (statement_amounts > 0))
    bank_paid = _items("statement", statement, "line_id", "booked_on", statement_open & (statement_amounts < 0))
    book_received = _items("book", book, "book_id", "entry_date", book_open & (book_amounts > 0))
    book_paid = _items("book", book, "book_id", "entry_date", book_open & (book_amounts < 0))
    return bank_received, bank_paid, book_received, book_paid


def _match_count(pending: pd.DataFrame) -> int:
    """How many matches the pending section holds."""
    return len(pd.unique(pending["match_id"].to_numpy(dtype=object))) if len(pending) else 0


def _differing(matches: pd.DataFrame, settled: set[str]) -> pd.DataFrame:
    """Settled matches joining different amounts."""
    differing = matches[(matches["difference_fen"] != 0).to_numpy()]
    return differing[
        np.fromiter((value in settled for value in differing["match_id"].tolist()), dtype=bool, count=len(differing))
    ]


def _pending_causes(pending: pd.DataFrame) -> list[tuple]:
    """Pending candidates whose two sides differ in amount, one row each."""
    rows: list[tuple] = []
    bank = pending[pending["side"] == "statement"].groupby("match_id")["amount_fen"].sum()
    book = pending[pending["side"] == "book"].groupby("match_id")["amount_fen"].sum()
    sums = pd.DataFrame({"bank": bank, "book": book}).fillna(0).astype(np.int64)
    sums = sums[sums["bank"] != sums["book"]]
    # The items of the differing ones only (a few, against 300,000 pending matches).
    differing_items = pending[pending["match_id"].isin(set(sums.index.tolist())).to_numpy()]
    ids = {match_id: tuple(items["item_id"].tolist()) for match_id, items in differing_items.groupby("match_id")}
    for match_id, row in sums.iterrows():
        rows.append(
            (
                "pending_difference",
                match_id,
                "both",
                ids[match_id],
                int(row["bank"]),
                int(row["bank"] - row["book"]),
                tr(
                    "candidate not yet confirmed or rejected: bank {bank} fen, book {book} fen",
                    bank=int(row["bank"]),
                    book=int(row["book"]),
                ),
            )
        )
    return rows


def _causes(
    differing: pd.DataFrame,
    pending: pd.DataFrame,
    unexplained_fen: int,
    result: ReconciliationResult,
    cutoff: pd.Timestamp | None,
) -> pd.DataFrame:
    """Why the two adjusted balances differ: settled matches joining different amounts, pending
    candidates joining different amounts, the part no match explains, and every item that looks
    recorded twice (a duplicated line moves a total without a movement)."""
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
                tr(
                    "bank {bank} fen, book {book} fen (rule {rule})",
                    bank=int(match.amount_fen),
                    book=int(match.book_amount_fen),
                    rule=match.rule,
                ),
            )
        )
    if len(pending):
        rows += _pending_causes(pending)
    if unexplained_fen:
        rows.append(
            (
                "unexplained",
                None,
                "both",
                (),
                0,
                -unexplained_fen,
                tr(
                    "{amount} fen that no match explains: the book and the statement do not start from the "
                    "same balance (postings before the first statement line, lines or postings missing from one "
                    "side, or a line recorded twice, listed below)",
                    amount=unexplained_fen,
                ),
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
