"""Small builders for hand-written reconciliation scenarios: rows in, contract frames out."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

from disburse.reconciliation.model import BOOK_COLUMNS, INSTRUCTION_COLUMNS, STATEMENT_COLUMNS


def _dates(values: list[object]) -> pd.Series:
    return pd.Series(pd.to_datetime(pd.Series(values, dtype=object)), dtype="datetime64[s]")


def statement_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Statement lines; each row needs line_id, booked_on and amount_fen, the rest default to None."""
    frame = pd.DataFrame(
        {column: pd.Series([row.get(column) for row in rows], dtype=object) for column in STATEMENT_COLUMNS}
    )
    frame["line_id"] = frame["line_id"].astype(np.int64)
    frame["amount_fen"] = frame["amount_fen"].astype(np.int64)
    frame["booked_on"] = _dates(frame["booked_on"].tolist())
    frame["balance_fen"] = frame["balance_fen"].astype("Int64")
    return frame


def book_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Book items; each row needs book_id, entry_date and amount_fen; memo defaults to ''."""
    frame = pd.DataFrame(
        {column: pd.Series([row.get(column) for row in rows], dtype=object) for column in BOOK_COLUMNS}
    )
    frame["book_id"] = frame["book_id"].astype(np.int64)
    frame["amount_fen"] = frame["amount_fen"].astype(np.int64)
    frame["entry_date"] = _dates(frame["entry_date"].tolist())
    frame["memo"] = frame["memo"].fillna("")
    return frame


def instructions_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {column: pd.Series([row.get(column) for row in rows], dtype=object) for column in INSTRUCTION_COLUMNS}
    )
    frame["amount_fen"] = frame["amount_fen"].astype(np.int64)
    frame["settled_on"] = _dates(frame["settled_on"].tolist())
    return frame


def no_instructions() -> pd.DataFrame:
    return instructions_frame([])


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)
