"""Items that look recorded twice, on either side (see ``model.DUPLICATE_REASONS``). They are
listed, not removed: they are still matched or left over like any other item."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disburse.foundation.frames import stripped_texts
from disburse.reconciliation.matching.state import MatchState
from disburse.reconciliation.model import DUPLICATE_COLUMNS


def duplicates_of(state: MatchState) -> pd.DataFrame:
    """Items that look recorded twice (see ``DUPLICATE_REASONS``); listed, not removed."""
    frames = []
    transaction = stripped_texts(state.statement["txn_id"])
    # A missing or all-zero transaction number is no number (some exports fill 000000).
    real = np.fromiter(
        (value is not None and value.strip("0") != "" for value in transaction.tolist()),
        dtype=bool,
        count=len(transaction),
    )
    keys = pd.Series(np.where(real, transaction, None), dtype=object)
    frames.append(
        _duplicate_rows("statement", state.line_ids, keys, "txn_id", state.statement["booked_on"], state.line_amounts)
    )
    counterparty = np.where(state.line_accounts != None, state.line_accounts, state.line_names)  # noqa: E711
    frames.append(
        _same_date_amount_counterparty(
            "statement", state.line_ids, state.line_days, state.line_amounts, counterparty, state.statement["booked_on"]
        )
    )
    frames.append(
        _same_reference_and_amount(
            "book", state.book_ids, state.book_payment_references, state.book["entry_date"], state.book_amounts
        )
    )
    counterparty = np.where(state.book_accounts != None, state.book_accounts, state.book_names)  # noqa: E711
    frames.append(
        _same_date_amount_counterparty(
            "book", state.book_ids, state.book_days, state.book_amounts, counterparty, state.book["entry_date"]
        )
    )
    return pd.concat(frames, ignore_index=True)[list(DUPLICATE_COLUMNS)]


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
