"""A payable's purpose is decided once per distinct (programme, run) and spread to every payable of
the pair; this compares that with deciding it payable by payable, on random batches (missing
runs and programmes among them: a hand-made list has no run)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from disburse.payouts.purposes import Purposes, _with_purpose

PURPOSES = Purposes({"education_aid": "教育", "rain_dew": "教育", "subject-3": "低保"})
SUBJECTS = {1: "subject-1", 2: "education_aid", 3: "subject-3"}

payable = st.tuples(
    st.sampled_from(["education_aid", "rain_dew", "dibao", "pv", None]),
    st.sampled_from([1, 2, 3, 4, None]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(payable, max_size=30))
def test_purposes_spread_per_pair_are_those_decided_one_by_one(payables) -> None:
    frame = pd.DataFrame(
        {
            "programme": np.array([programme for programme, _ in payables], dtype=object),
            "run_id": np.array([run for _, run in payables], dtype=object),
        }
    )
    # One by one over the frame's own values (pandas may hold a missing programme as NaN).
    expected = [
        PURPOSES.purpose(programme, None if run is None else SUBJECTS.get(run))
        for programme, run in zip(frame["programme"].tolist(), [run for _, run in payables])
    ]
    assert list(_with_purpose(frame, SUBJECTS, PURPOSES)["purpose"]) == expected
