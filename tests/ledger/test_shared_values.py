"""foundation.frames.share_values: equal texts, days and moments of a column become one object,
and nothing a reader can see changes (values, dtypes, missing markers, columns left alone)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from disburse.foundation.frames import share_values

TEXTS = st.one_of(st.none(), st.sampled_from(["2026-10", "6110021012010001", "张三", ""]))
DAYS = st.one_of(st.none(), st.dates(dt.date(2026, 1, 1), dt.date(2026, 1, 5)))


def _fresh(value: object) -> object:
    """A value equal to ``value`` but a different object (as a driver returns each cell)."""
    if isinstance(value, str):
        return "".join(list(value))
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, value.day)
    return value


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(TEXTS, min_size=1, max_size=30), days=st.lists(DAYS, min_size=1, max_size=30))
def test_sharing_changes_no_value_dtype_or_missing_marker(texts: list, days: list) -> None:
    rows = max(len(texts), len(days))
    texts, days = (texts * rows)[:rows], (days * rows)[:rows]
    frame = pd.DataFrame(
        {
            "text": [_fresh(value) for value in texts],
            "day": pd.Series([_fresh(value) for value in days], dtype=object),
            "amount_fen": range(rows),
            "mixed": pd.Series([1, True] * rows, dtype=object)[:rows].to_numpy(),
        }
    )
    before = frame.copy(deep=True)
    shared = share_values(frame)
    pd.testing.assert_frame_equal(shared, before)
    assert [type(value) for value in shared["day"]] == [type(value) for value in before["day"]]
    # 1 and True are equal but not the same value: a mixed column is left as it was.
    assert [type(value) for value in shared["mixed"]] == [type(value) for value in before["mixed"]]
    for name in ("text", "day"):
        objects: dict[object, int] = {}
        for value in shared[name]:
            if isinstance(value, (str, dt.date)):
                assert objects.setdefault(value, id(value)) == id(value), f"{name}: {value!r} held twice"


def test_a_column_of_nothing_but_missing_cells_is_unchanged() -> None:
    frame = pd.DataFrame({"day": pd.Series([None, None], dtype=object), "text": pd.Series([None, None])})
    before = frame.copy(deep=True)
    pd.testing.assert_frame_equal(share_values(frame), before)
