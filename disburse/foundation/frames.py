"""Query results as frames, and the text of a cell, in one place.

Two readers: ``query_frame`` for text SQL (the driver's plain tuples, no type inference: building
a frame from a million Row objects costs seconds) and ``statement_frame`` for SQLAlchemy
statements (object columns, so values come back exactly as the driver gave them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

T = TypeVar("T")
R = TypeVar("R")


def per_distinct(values: Iterable[T], decide: Callable[[T], R]) -> list[R]:
    """``decide(value)`` for each value, called once per distinct value: a county's million rows
    share a handful of programmes, runs or filter values. The value's type is part of the key, so
    1 and True are decided apart (a NaN, unequal to itself, may be decided more than once)."""
    decided: dict[tuple[type, object], R] = {}
    found = []
    for value in values:
        key = (type(value), value)
        if key not in decided:
            decided[key] = decide(value)
        found.append(decided[key])
    return found


def blank_text(value: object) -> str:
    """Text of a cell, with pandas' and the drivers' missing markers (None, NaN, NA, NaT) as an
    empty string."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def text_or_none(value: object) -> str | None:
    """Text of a cell, None for a missing one (None, NaN, NA, NaT)."""
    text = blank_text(value)
    return None if text == "" and not isinstance(value, str) else text


def object_array(values: Sequence[object]) -> np.ndarray:
    """An object array of ``values`` as they are (numpy would take tuples apart)."""
    return np.fromiter(values, dtype=object, count=len(values))


def stripped_texts(series: pd.Series) -> np.ndarray:
    """Object array of stripped strings, with None for missing or blank cells."""
    values = series.astype(object).to_numpy(copy=True)
    missing = pd.isna(values)
    values[missing] = None
    present = np.flatnonzero(~missing)
    if len(present):
        texts = values[present].tolist()
        try:
            # str.strip mapped in C when every value is text (the usual case)...
            stripped = list(map(str.strip, texts))
        except TypeError:
            # ... and through str() when some are not.
            stripped = [str(value).strip() for value in texts]
        values[present] = object_array([value or None for value in stripped])
    return values


def blank_texts(series: pd.Series) -> list[str]:
    """Each cell as text, "" when missing."""
    values = series.astype(object).to_numpy(copy=True)
    missing = pd.isna(values)
    values[missing] = ""
    return [value if value.__class__ is str else str(value) for value in values.tolist()]


# Object columns whose equal values may share one object: equality of these types is identity
# of value (a text, a day, a moment), so sharing changes nothing a reader can see.
_SHAREABLE_KINDS = frozenset({"string", "date", "datetime"})
FRAME_FETCH_ROWS = 50_000  # rows taken from the driver at a time (see _chunked_columns)


def _shared(values: np.ndarray, canonical: dict[object, object]) -> np.ndarray:
    """``values`` (an object array) with each equal text, day or moment held as one object: the
    first one ``canonical`` met (it is updated). Missing cells keep their own marker; an array of
    other kinds (numbers, mixed types, where 1 == True) is returned as it is. Every such column is
    shared, even one whose first rows are all distinct: a run's payables list each household once
    per run, so the first hundred thousand rows may be distinct and the next million repeat them."""
    if pd.api.types.infer_dtype(values, skipna=True) not in _SHAREABLE_KINDS:
        return values
    codes, uniques = pd.factorize(values)
    if not len(uniques):
        return values
    kept = object_array([canonical.setdefault(value, value) for value in uniques.tolist()])
    shared = kept.take(np.maximum(codes, 0))
    missing = codes < 0
    shared[missing] = values[missing]
    return shared


def share_values(frame: pd.DataFrame, names: Sequence[str] | None = None) -> pd.DataFrame:
    """``frame`` with equal texts, days and moments in each column (of ``names``, or all) held as
    one object each. A driver returns a new object per cell, so a county's million payables carry
    a million copies of "2026-10" and of each household's id; shared, a row costs a pointer per
    column. Dtypes, values and missing markers are unchanged. (The readers below share as they
    read: this is for columns made afterwards.)"""
    for name in frame.columns if names is None else names:
        column = frame[name]
        if isinstance(column.dtype, pd.StringDtype):
            codes, uniques = pd.factorize(column)
            frame[name] = pd.Series(uniques.take(codes, allow_fill=True), index=frame.index, name=name)
        elif column.dtype == object:
            frame[name] = pd.Series(_shared(column.to_numpy(), {}), dtype=object, index=frame.index, name=name)
    return frame


def empty_frame(columns) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """A frame with ``columns`` (object dtype) and no rows."""
    return pd.DataFrame({name: pd.Series([], dtype=object) for name in columns})


def _chunked_columns(fetch: Callable[[int], Sequence[Sequence[object]]], width: int) -> list[np.ndarray] | None:
    """The rows ``fetch`` hands over, FRAME_FETCH_ROWS at a time, as one object array per column
    (None when there are none). Each chunk's cells go straight into the arrays with equal texts
    and days shared as they come, so a million rows of tuples and their per-cell strings are
    never held at once."""
    parts: list[list[np.ndarray]] = [[] for _ in range(width)]
    canonical: list[dict[object, object]] = [{} for _ in range(width)]
    while rows := fetch(FRAME_FETCH_ROWS):
        for position, values in enumerate(zip(*rows)):
            parts[position].append(_shared(object_array(values), canonical[position]))
    if not width or not parts[0]:
        return None
    return [np.concatenate(chunks) for chunks in parts]


def _inferred_frame(columns: list[np.ndarray], keys: list[str]) -> pd.DataFrame:
    """Object arrays as a frame with the dtypes ``DataFrame.from_records`` infers from the same
    rows: the constructor makes text columns ``str``, ``infer_objects`` numbers, booleans and
    moments (tests/ledger/test_shared_values.py holds the two to each other)."""
    frame = pd.DataFrame(dict(enumerate(columns)))
    frame.columns = keys
    return frame.infer_objects()


def query_frame(
    session: Session, sql: str, parameters: dict[str, object] | None = None, **named: object
) -> pd.DataFrame:
    """Rows of a text query as a frame with the query's column names; parameters as a dict or
    by name. Dtypes are inferred as ``DataFrame.from_records`` infers them from the rows."""
    result = session.execute(text(sql), {**(parameters or {}), **named})
    keys = list(result.keys())
    # The driver's plain tuples: a text query has no result types to convert, and building a
    # frame from a million Row objects costs seconds (pandas probes each one).
    columns = _chunked_columns(result.cursor.fetchmany, len(keys)) if result.cursor is not None else None
    result.close()
    return empty_frame(keys) if columns is None else _inferred_frame(columns, keys)


def query_objects(session: Session, statement, parameters: dict | None = None) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The rows of a SELECT of plain values (numbers, text) as a frame of object columns, each
    value as ``DataFrame.from_records`` would make it (an integer column with a missing cell is
    floats), straight from the driver's tuples. Dates come back as the driver gives them (ISO
    text on SQLite); callers convert the few date columns they read."""
    result = session.connection().execute(statement, parameters or {})
    keys = list(result.keys())
    columns = _chunked_columns(result.cursor.fetchmany, len(keys))
    result.close()
    return empty_frame(keys) if columns is None else _inferred_frame(columns, keys).astype(object)


def _converts_values(statement, dialect) -> bool:  # type: ignore[no-untyped-def]
    """Whether any selected column's type changes what the driver returns (a result processor:
    SQLite's dates and booleans, numerics); True when it cannot be told."""
    try:
        return any(
            column.type.dialect_impl(dialect).result_processor(dialect, None) is not None
            for column in statement.selected_columns
        )
    except Exception:  # noqa: BLE001 - a type that needs the driver's column type to answer
        return True


def statement_frame(session: Session, statement) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The rows of a SELECT as a frame with the statement's column names (object columns)."""
    converts = _converts_values(statement, session.get_bind().dialect)
    result = session.execute(statement)
    keys = list(result.keys())
    cursor = getattr(result, "cursor", None)
    # Nothing to convert: the driver's own tuples, without a Row object per row (a third of
    # reading a county's register as of a day).
    fetch = cursor.fetchmany if not converts and cursor is not None else result.fetchmany
    columns = _chunked_columns(fetch, len(keys))
    result.close()
    if columns is None:
        return empty_frame(keys)
    return pd.DataFrame({key: pd.Series(values, dtype=object) for key, values in zip(keys, columns)})
