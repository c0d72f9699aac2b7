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


CELLS = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["2026-10", "张三", "", "6110021012010001"]),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(["text", "integer", "mixed", "empty"]), min_size=1, max_size=5),
    rows=st.integers(0, 12),
    data=st.data(),
)
def test_a_query_read_in_small_chunks_is_the_frame_of_all_its_rows_at_once(kinds: list, rows: int, data) -> None:  # type: ignore[no-untyped-def]
    """query_frame takes rows a chunk at a time and infers dtypes once: the frame must equal
    ``DataFrame.from_records`` over every row at once, whatever the chunk and the cells."""
    import sqlite3

    from sqlalchemy import column, create_engine, select
    from sqlalchemy import table as table_of
    from sqlalchemy.orm import Session

    from disburse.foundation import frames

    strategies = {
        "text": st.one_of(st.none(), st.sampled_from(["a", "2026-10", "张三"])),
        "integer": st.one_of(st.none(), st.integers(-(2**40), 2**40)),
        "mixed": CELLS,
        "empty": st.none(),
    }
    table = [tuple(data.draw(strategies[kind]) for kind in kinds) for _ in range(rows)]
    names = [f"c{index}" for index in range(len(kinds))]
    t = table_of("t", *(column(name) for name in names))
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)
        raw.execute(f"CREATE TABLE t (n INTEGER PRIMARY KEY, {', '.join(names)})")
        raw.executemany(
            f"INSERT INTO t ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", table
        )
        expected_rows = raw.execute(f"SELECT {', '.join(names)} FROM t ORDER BY n").fetchall()
        with Session(bind=connection) as session:
            for chunk in (1, 2, 5, 1_000):
                frames.FRAME_FETCH_ROWS = chunk
                try:
                    found = frames.query_frame(session, f"SELECT {', '.join(names)} FROM t ORDER BY n")
                    objects = frames.query_objects(session, select(*(column(name) for name in names)).select_from(t))
                    plain = frames.statement_frame(session, select(*(column(name) for name in names)).select_from(t))
                finally:
                    frames.FRAME_FETCH_ROWS = 50_000
                if expected_rows:
                    expected = pd.DataFrame.from_records(expected_rows, columns=names)
                    # query_objects: from_records' values as objects; statement_frame: the driver's.
                    expected_objects = pd.DataFrame.from_records(expected_rows, columns=names, coerce_float=False)
                    expected_plain = pd.DataFrame(
                        {name: pd.Series(values, dtype=object) for name, values in zip(names, zip(*expected_rows))}
                    )
                    expected_objects = expected_objects.astype(object)
                else:
                    expected = expected_objects = expected_plain = frames.empty_frame(names)
                pd.testing.assert_frame_equal(found, expected)
                pd.testing.assert_frame_equal(objects, expected_objects)
                pd.testing.assert_frame_equal(plain, expected_plain)


def test_a_column_read_in_chunks_is_shared_across_them() -> None:
    """A period repeats through the whole read, across the 50,000-row chunks, and is held once
    per value; distinct identity numbers come back as they are."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from disburse.foundation.frames import query_frame

    rows = [(f"61100219800101{number:06d}", "2026-10" if number % 2 else "2026-11") for number in range(120_000)]
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        raw.execute("CREATE TABLE t (id_number TEXT, period TEXT)")
        raw.executemany("INSERT INTO t VALUES (?, ?)", rows)
        with Session(bind=connection) as session:
            frame = query_frame(session, "SELECT id_number, period FROM t ORDER BY rowid")
    assert frame["id_number"].tolist() == [row[0] for row in rows]
    assert frame["period"].tolist() == [row[1] for row in rows]
    assert len({id(value) for value in frame["period"]}) == 2
