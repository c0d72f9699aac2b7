"""Properties of netting: every fen of every payable is either in exactly one instruction or
kept for later; instructions are positive; the same payables give the same instructions."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from disburse.payouts.netting import net_payables

payable = st.tuples(
    st.integers(0, 5),
    st.integers(0, 2),
    st.integers(-50_000, 100_000).filter(lambda v: v != 0),
    st.sampled_from(["光伏收益分配", "教育补助"]),
    st.sampled_from(["2026-10", "2026-11"]),
)


def frame_of(rows: list[tuple[int, int, int, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": np.arange(1, len(rows) + 1, dtype=np.int64),
            "payee_type": "household",
            "payee_id": [f"H{row[0]}" for row in rows],
            "household_id": [f"H{row[0]}" for row in rows],
            "account_no": pd.Series(
                [None if row[1] == 0 else f"6217{row[0]}{row[1]:012d}" for row in rows], dtype=object
            ),
            "account_name": "name",
            "bank_name": "bank",
            "programme": [row[3] for row in rows],
            "period": [row[4] for row in rows],
            "amount_fen": np.asarray([row[2] for row in rows], dtype=np.int64),
        }
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(payable, max_size=40), st.booleans())
def test_netting_conserves_every_fen(rows: list[tuple[int, int, int, str, str]], merge: bool) -> None:
    frame = frame_of(rows)
    result = net_payables(frame, merge_programmes=merge)
    instructions, links, kept = result.instructions, result.links, result.kept
    assert (instructions["amount_fen"] > 0).all()
    kept_fen = int(kept["amount_fen"].sum()) if len(kept) else 0
    assert int(instructions["amount_fen"].sum()) + kept_fen == int(frame["amount_fen"].sum())
    assert links["payable_id"].is_unique
    # Each instruction is the sum of its linked payables.
    linked = links.merge(frame[["id", "amount_fen"]], left_on="payable_id", right_on="id")
    sums = linked.groupby("instruction_index")["amount_fen"].sum()
    assert sums.to_dict() == dict(zip(instructions["instruction_index"], instructions["amount_fen"]))
    # The order of the payables does not change the instructions.
    shuffled = net_payables(frame.sample(frac=1, random_state=len(rows)), merge_programmes=merge)
    pd.testing.assert_frame_equal(shuffled.instructions.reset_index(drop=True), instructions.reset_index(drop=True))


@settings(max_examples=100, deadline=None)
@given(st.lists(payable, max_size=40))
def test_issue11_item10_one_payment_per_programme_and_period(rows: list[tuple[int, int, int, str, str]]) -> None:
    """Unmerged, an instruction is exactly the positive net of one payee account, programme and
    period, computed here with a plain groupby; merged, of one payee account over all of them."""
    frame = frame_of(rows)
    with_account = frame[frame["account_no"].notna()]
    for merge, key in ((False, ["payee_id", "account_no", "programme", "period"]), (True, ["payee_id", "account_no"])):
        expected = with_account.groupby(key)["amount_fen"].sum()
        expected = {k if isinstance(k, tuple) else (k,): int(v) for k, v in expected[expected > 0].items()}
        instructions = net_payables(frame, merge_programmes=merge).instructions
        names = ["payee_id", "account_no", "programmes", "period"] if not merge else ["payee_id", "account_no"]
        got = {tuple(row[:-1]): int(row[-1]) for row in instructions[[*names, "amount_fen"]].itertuples(index=False)}
        assert got == expected
        if not merge:
            assert instructions["programmes"].str.contains("、").sum() == 0


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=999_990), st.integers(min_value=0, max_value=12))
def test_payment_references_in_bulk_are_the_single_references(first: int, count: int) -> None:
    from disburse.payouts.model import payment_reference, payment_references

    references = payment_references("202611", first, count)
    assert references == [payment_reference("202611", number) for number in range(first, first + count)]
    assert all(len(reference) == len("PAY-202611-000001") for reference in references if first + count <= 1_000_000)
