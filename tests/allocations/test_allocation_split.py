"""Property tests and worked examples for the largest-remainder split and rate × base."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from disburse.allocations.split import (
    SplitError,
    rate_times_base_fen,
    split_check_within_one_fen,
    split_largest_remainder,
)

pools = st.integers(min_value=-(10**12), max_value=10**12)
weight_lists = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=60).filter(lambda w: sum(w) > 0)


@settings(max_examples=100, deadline=None)
@given(pools, weight_lists)
def test_split_sums_to_the_pool_and_each_share_is_within_one_fen(pool_fen, weights):
    shares = split_largest_remainder(pool_fen, weights, list(range(len(weights))))
    assert int(shares.sum()) == pool_fen
    total = sum(weights)
    for weight, share in zip(weights, shares):
        assert abs(Fraction(int(share)) - Fraction(pool_fen * weight, total)) < 1


@settings(max_examples=100, deadline=None)
@given(pools, weight_lists, st.randoms(use_true_random=False))
def test_permuting_holders_permutes_the_results(pool_fen, weights, random):
    ids = [f"H{index:04d}" for index in range(len(weights))]
    shares = split_largest_remainder(pool_fen, weights, ids)
    order = list(range(len(weights)))
    random.shuffle(order)
    permuted = split_largest_remainder(pool_fen, [weights[i] for i in order], [ids[i] for i in order])
    assert list(permuted) == [int(shares[i]) for i in order]


@settings(max_examples=100, deadline=None)
@given(pools, weight_lists)
def test_zero_weight_gets_zero_and_a_negative_pool_mirrors(pool_fen, weights):
    weights = weights + [0]
    shares = split_largest_remainder(pool_fen, weights, list(range(len(weights))))
    assert shares[-1] == 0
    assert list(split_largest_remainder(-pool_fen, weights, list(range(len(weights))))) == list(-shares)


@settings(max_examples=60)
@given(
    st.integers(min_value=0, max_value=10**15),
    st.lists(st.integers(min_value=0, max_value=2**70), min_size=1, max_size=20).filter(lambda w: sum(w) > 0),
)
def test_huge_pools_and_weights_take_the_exact_path(pool_fen, weights):
    # pool × weight far beyond 2^63: the overflow path must stay exact.
    shares = split_largest_remainder(pool_fen, weights, list(range(len(weights))))
    assert int(shares.sum()) == pool_fen
    assert split_check_within_one_fen(pool_fen, weights, shares) == []


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**9),
    st.lists(st.fractions(min_value=0, max_value=1000, max_denominator=97), min_size=1, max_size=20).filter(
        lambda w: sum(w) > 0
    ),
)
def test_rational_weights(pool_fen, weights):
    shares = split_largest_remainder(pool_fen, weights, list(range(len(weights))))
    total = sum(weights)
    assert int(shares.sum()) == pool_fen
    for weight, share in zip(weights, shares):
        assert abs(share - pool_fen * weight / total) < 1


def test_worked_examples():
    # 100 fen in three equal parts: 33.33 each, one spare fen, all remainders tie → lowest id "a".
    assert list(split_largest_remainder(100, [1, 1, 1], ["b", "a", "c"])) == [33, 34, 33]
    # 10 fen by 1 : 2 : 3 → 1.67, 3.33, 5; floors 1, 3, 5 = 9; the spare fen to the .67.
    assert list(split_largest_remainder(10, [1, 2, 3], [1, 2, 3])) == [2, 3, 5]
    # Weights as fractions 1/3 : 1/6 (= 2 : 1): 100 fen → 66.67 / 33.33 → 67 / 33.
    assert list(split_largest_remainder(100, [Fraction(1, 3), Fraction(1, 6)], [1, 2])) == [67, 33]
    # 10^15 fen over weights 2^62, 2^62, 1: pool × weight overflows int64 (exact path).
    # Total 2^63 + 1. Each big holder: 5 × 10^14 × 2^63/(2^63 + 1) = 5 × 10^14 − 0.000054,
    # floor 499,999,999,999,999 with remainder 0.99995; the small one: 10^15/(2^63 + 1)
    # = 0.000108, floor 0. Floors sum to 10^15 − 2: the two spare fen go to the big holders.
    assert list(split_largest_remainder(10**15, [2**62, 2**62, 1], [1, 2, 3])) == [5 * 10**14, 5 * 10**14, 0]
    # 10^15 fen in three parts of 2^62: 333,333,333,333,333.33 each; one spare fen to id 1.
    assert list(split_largest_remainder(10**15, [2**62] * 3, [3, 1, 2])) == [
        333_333_333_333_333,
        333_333_333_333_334,
        333_333_333_333_333,
    ]


def test_refusals():
    with pytest.raises(SplitError, match="every weight is zero"):
        split_largest_remainder(5, [0, 0], [1, 2])
    with pytest.raises(SplitError, match="negative"):
        split_largest_remainder(5, [1, -1], [1, 2])
    with pytest.raises(SplitError, match="floats"):
        split_largest_remainder(5, [0.5, 0.5], [1, 2])
    with pytest.raises(SplitError, match="unique"):
        split_largest_remainder(1, [1, 1], ["a", "a"])
    assert list(split_largest_remainder(0, [0, 0], [1, 2])) == [0, 0]


def test_rate_times_base_rounds_half_up_per_line():
    # 3% of 150 fen = 4.5 → 5; of 149 = 4.47 → 4; of −150 mirrors to −5; 1/3 of 5 = 1.67 → 2;
    # 12.5% (Fraction 1/8) of 12 fen = 1.5 → 2.
    assert list(rate_times_base_fen(300, np.array([150, 149, -150]))) == [5, 4, -5]
    assert rate_times_base_fen(Fraction(1, 3), 5) == 2
    assert rate_times_base_fen(Fraction(1, 8), 12) == 2
    # 10,000 bps × 10^15 fen overflows int64 in the product: the exact path gives 10^15.
    assert list(rate_times_base_fen(10_000, np.array([10**15]))) == [10**15]


def test_million_holders_sorted_and_tied_are_fast_enough():
    count = 1_000_000
    weights = np.full(count, 30_000 * 92, dtype=np.int64)
    weights[::7] = 30_000 * 45
    shares = split_largest_remainder(123_456_789, weights, np.arange(count))
    assert int(shares.sum()) == 123_456_789


def test_rates_and_shares_are_shown_exactly_without_floats():
    from disburse.allocations.split import decimal_text, percent_text

    assert percent_text(Fraction(1, 200)) == "0.5%"
    assert percent_text(Fraction(3, 100)) == "3%"
    assert percent_text(Fraction(1, 3)) == "33.3333%"  # 33.33333… rounded half-up at 4 places
    assert percent_text(Fraction(2, 3)) == "66.6667%"
    assert decimal_text(Fraction(3, 100), places_max=6) == "0.03"
    assert decimal_text(Fraction(1_000_000, 10), places_max=1) == "100000"
