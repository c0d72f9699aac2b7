"""The share register's overlap check against a pairwise comparison of every two holdings.

The check is vectorised (a grouped running maximum of the ends, so that a million holders cost no
Python call each); this compares it, on random registers, with the definition read literally: a
holding is refused when it starts on or before the end of an earlier holding (earlier by start,
then by row) of the same holder in the same asset, a blank end being open; its reason names every
such earlier row.
"""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from importer_helpers import write_csv
from test_import_shares_settlements_returns import SHARES_HEADER

from disburse.importers.shares import parse_shares

FIRST_DAY = dt.date(2020, 1, 1)
OPEN_END = dt.date.max

holding = st.tuples(
    st.sampled_from(["PV01", "PV02"]),
    st.sampled_from(["H001", "H002", "H003"]),
    st.integers(min_value=0, max_value=40),  # start, days after FIRST_DAY
    st.one_of(st.none(), st.integers(min_value=0, max_value=15)),  # length in days; None: open end
)


def expected_overlaps(holdings: list[tuple]) -> dict[int, list[int]]:
    """File row → the earlier rows it overlaps, by comparing every two holdings of a holder."""
    rows = [
        (asset, holder, FIRST_DAY + dt.timedelta(days=start),
         OPEN_END if length is None else FIRST_DAY + dt.timedelta(days=start + length), index + 2)
        for index, (asset, holder, start, length) in enumerate(holdings)
    ]  # fmt: skip
    found: dict[int, list[int]] = {}
    for asset, holder, start, _, row in rows:
        earlier = [
            other_row
            for other_asset, other_holder, other_start, other_end, other_row in rows
            if (other_asset, other_holder) == (asset, holder)
            and (other_start, other_row) < (start, row)
            and start <= other_end
        ]
        if earlier:
            found[row] = sorted(earlier)
    return found


@settings(max_examples=200, deadline=None)
@given(st.lists(holding, min_size=1, max_size=10))
def test_overlaps_found_are_exactly_the_pairwise_overlaps(tmp_path_factory, holdings) -> None:
    body = [
        [asset, "农户", holder, "1", "",
         (FIRST_DAY + dt.timedelta(days=start)).isoformat(),
         "" if length is None else (FIRST_DAY + dt.timedelta(days=start + length)).isoformat()]
        for asset, holder, start, length in holdings
    ]  # fmt: skip
    path = write_csv(tmp_path_factory.mktemp("shares") / "shares.csv", [SHARES_HEADER, *body])
    parsed = parse_shares(path)
    found = {
        problem.row: sorted(int(number) for number in re.findall(r"\d+", problem.reason.split(" of the same")[0]))
        for problem in parsed.problems
        if "overlaps" in problem.reason
    }
    assert found == expected_overlaps(holdings)
    assert all(problem.column == "持有人编号" for problem in parsed.problems if "overlaps" in problem.reason)
