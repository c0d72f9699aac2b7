"""Splitting a pool of fen over holders, and rate × base, exactly and without floats.

Every amount that leaves an allocation is produced here. Two operations:

- ``split_largest_remainder(pool_fen, weights, holder_ids)``: each holder's exact share is
  ``pool_fen × weight / Σ weights``; every holder first gets the floor of it, and the fen left
  over (fewer than the number of holders) go one each to the holders with the largest
  remainders, ties broken by holder id ascending. The result sums to the pool, each share is
  within one fen of its exact value, and a zero weight gets zero (django-hordak's
  ``ratio_split`` is the model).
- ``rate_times_base_fen(rate, base_fen)``: a rate (integer basis points or an exact
  ``Fraction``) times an amount, rounded half-up to the fen per line.

The arithmetic is integer throughout. numpy int64 is used while every intermediate product
provably fits; otherwise the same formulas run on Python integers in numpy object arrays,
which are slower but exact. Floats never appear.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from disburse.foundation.i18n import tr
from disburse.foundation.money import AMOUNT_FEN_MAX

INT64_MAX = np.iinfo(np.int64).max
# One allocation run pays at most this many holders; a county has a few hundred thousand
# registered households, a province a few million. Larger inputs are refused, not truncated.
RUN_PAYEES_MAX = 5_000_000
BASIS_POINTS_PER_ONE = 10_000


class SplitError(ValueError):
    """An input that cannot be split: negative weights, no weight at all, too many holders."""


def _as_integer_weights(weights: object) -> np.ndarray:
    """Weights as an int64 array when they fit, else an object array of Python ints.

    Rational weights (``Fraction``) are brought to their least common denominator first, which
    leaves every ratio between weights, and so every share, unchanged.
    """
    if isinstance(weights, np.ndarray) and weights.dtype.kind in "iu":
        array = weights.astype(np.int64, copy=False)
        if weights.dtype.kind == "u" and weights.size and int(weights.max()) > INT64_MAX:
            array = np.array([int(value) for value in weights], dtype=object)
        return array
    if isinstance(weights, np.ndarray) and weights.dtype.kind == "f":
        raise SplitError(tr("weights must be integers or Fractions, never floats"))
    values = list(weights.tolist() if isinstance(weights, np.ndarray) else weights)
    if any(isinstance(value, (float, np.floating)) for value in values):
        raise SplitError(tr("weights must be integers or Fractions, never floats"))
    if any(isinstance(value, Fraction) for value in values):
        denominator = math.lcm(*(Fraction(value).denominator for value in values)) if values else 1
        values = [int(Fraction(value) * denominator) for value in values]
    values = [int(value) for value in values]
    if values and (max(values) > INT64_MAX or min(values) < -INT64_MAX):
        return np.array(values, dtype=object)
    return np.array(values, dtype=np.int64)


def _holder_order(holder_ids: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """The candidate positions ordered by holder id ascending (deterministic tie-break).

    The registers hand holders over sorted by id, so the common case is checked first and costs
    one vectorised comparison; otherwise only the candidates are sorted.
    """
    ids = holder_ids[candidates]
    if ids.size < 2:
        return candidates
    try:
        already_sorted = bool(np.all(ids[:-1] <= ids[1:]))
    except TypeError:
        already_sorted = False
    if already_sorted:
        order = np.arange(ids.size)
    else:
        order = np.argsort(ids, kind="stable")
    ordered = ids[order]
    if ordered.size > 1 and bool(np.any(ordered[:-1] == ordered[1:])):
        raise SplitError(tr("holder ids must be unique: two holders tie with the same id"))
    return candidates[order]


def split_largest_remainder(pool_fen: int, weights: object, holder_ids: object) -> np.ndarray:
    """Split ``pool_fen`` over holders in proportion to ``weights``; return int64 fen per holder.

    ``weights`` are non-negative integers (e.g. ``units_e4 × active_days``) or Fractions, one per
    holder; ``holder_ids`` are unique ids in the same order, used only to break ties between
    equal remainders (lowest id first). A zero weight gets zero. A negative pool (a reversal)
    is split as the exact negation of the positive split, so reversing an allocation gives the
    same lines with opposite signs. Refuses an all-zero weight vector unless the pool is zero.
    The result always sums to ``pool_fen`` (asserted).
    """
    if isinstance(pool_fen, bool) or not isinstance(pool_fen, (int, np.integer)):
        raise SplitError(tr("pool_fen must be an int number of fen, not {kind}", kind=type(pool_fen).__name__))
    pool_fen = int(pool_fen)
    if abs(pool_fen) > AMOUNT_FEN_MAX:
        raise SplitError(
            tr("pool of {pool} fen is larger than the limit of {limit} fen", pool=pool_fen, limit=AMOUNT_FEN_MAX)
        )
    weight_array = _as_integer_weights(weights)
    holder_count = weight_array.size
    if holder_count > RUN_PAYEES_MAX:
        raise SplitError(
            tr("{count:,} holders exceed RUN_PAYEES_MAX = {limit:,}", count=holder_count, limit=RUN_PAYEES_MAX)
        )
    ids = np.asarray(holder_ids)
    if ids.shape != (holder_count,):
        raise SplitError(tr("{ids} holder ids for {weights} weights", ids=ids.size, weights=holder_count))
    if holder_count == 0:
        if pool_fen != 0:
            raise SplitError(tr("cannot split {pool} fen over no holders", pool=pool_fen))
        return np.zeros(0, dtype=np.int64)
    smallest_weight = int(weight_array.min())
    if smallest_weight < 0:
        raise SplitError(tr("weights must not be negative (found {weight})", weight=smallest_weight))
    if pool_fen < 0:
        return -split_largest_remainder(-pool_fen, weight_array, ids)

    largest_weight = int(weight_array.max())
    fits_int64 = (
        weight_array.dtype != object
        and largest_weight * holder_count <= INT64_MAX
        and largest_weight * pool_fen <= INT64_MAX
    )
    if fits_int64:
        total_weight = int(weight_array.sum())
        exact_numerators = weight_array * np.int64(pool_fen)
    else:
        # Overflow path: the same formulas on Python integers. Exact, roughly ten times slower.
        weight_array = weight_array.astype(object)
        total_weight = int(sum(weight_array.tolist()))
        exact_numerators = weight_array * pool_fen
    if total_weight == 0:
        if pool_fen != 0:
            raise SplitError(tr("cannot split {pool} fen: every weight is zero", pool=pool_fen))
        return np.zeros(holder_count, dtype=np.int64)

    if fits_int64:
        floors, remainders = np.divmod(exact_numerators, np.int64(total_weight))
    else:
        floors = exact_numerators // total_weight
        remainders = exact_numerators % total_weight
        # Each floor is at most the pool, which fits int64; remainders may not and stay exact.
        floors = floors.astype(np.int64)
    shares = floors.astype(np.int64, copy=True)
    leftover_fen = pool_fen - int(shares.sum())
    # Σ remainders = leftover × total and every remainder < total, so 0 ≤ leftover < holders.
    assert 0 <= leftover_fen < holder_count, leftover_fen
    if leftover_fen:
        _leftover_to_largest(shares, remainders, ids, leftover_fen)
    assert int(shares.sum()) == pool_fen, "largest-remainder split must sum to the pool"
    return shares


def _leftover_to_largest(shares: np.ndarray, remainders: np.ndarray, ids: np.ndarray, leftover_fen: int) -> None:
    """Add one fen to each of the ``leftover_fen`` holders with the largest remainders, in place;
    among equal remainders at the threshold the lowest holder ids win."""
    holder_count = shares.size
    if remainders.dtype == object:
        order = np.argsort(remainders, kind="stable")
        threshold = remainders[order[holder_count - leftover_fen]]
    else:
        threshold = np.partition(remainders, holder_count - leftover_fen)[holder_count - leftover_fen]
    assert threshold > 0, "a zero remainder can never be among the largest"
    above = np.flatnonzero(remainders > threshold)
    tied = np.flatnonzero(remainders == threshold)
    needed_from_tied = leftover_fen - above.size
    assert 0 < needed_from_tied <= tied.size
    shares[above] += 1
    shares[_holder_order(ids, tied)[:needed_from_tied]] += 1


def _rate_as_fraction(rate: int | Fraction) -> Fraction:
    """An integer is basis points (300 = 3%); a Fraction is the rate itself (3/100)."""
    if isinstance(rate, bool):
        raise TypeError("a rate is int basis points or a Fraction, not a bool")
    if isinstance(rate, (int, np.integer)):
        return Fraction(int(rate), BASIS_POINTS_PER_ONE)
    if isinstance(rate, Fraction):
        return rate
    raise TypeError(f"a rate is int basis points or a Fraction, not {type(rate).__name__}")


def divide_half_up(numerators: object, denominator: int) -> np.ndarray | int:
    """Round ``numerators / denominator`` to the nearest integer, halves away from zero.

    ``numerators`` is an int, an int64 array or an object array of Python ints; the result has
    the same shape (int64 array or int). Half away from zero makes a reversal the exact mirror
    of the original (half-up for the positive amounts every line normally carries).
    """
    denominator = int(denominator)
    assert denominator > 0, "the denominator must be positive"
    if isinstance(numerators, (int, np.integer)) and not isinstance(numerators, bool):
        quotient, remainder = divmod(abs(int(numerators)), denominator)
        rounded = quotient + (1 if 2 * remainder >= denominator else 0)
        return rounded if numerators >= 0 else -rounded
    array = np.asarray(numerators)
    if array.dtype == object or denominator > INT64_MAX // 2:
        values = [divide_half_up(int(value), denominator) for value in array.tolist()]
        return np.array(values, dtype=np.int64)
    magnitudes = np.abs(array.astype(np.int64))
    quotients, remainders = np.divmod(magnitudes, np.int64(denominator))
    rounded = quotients + (2 * remainders >= denominator)
    return np.where(array < 0, -rounded, rounded).astype(np.int64)


def multiply_exact(values: object, factor: int) -> np.ndarray:
    """``values × factor`` as int64 when the largest product fits, else Python ints (object)."""
    array = np.asarray(values)
    factor = int(factor)
    if array.dtype == object:
        return array * factor
    array = array.astype(np.int64, copy=False)
    largest = int(np.abs(array).max()) if array.size else 0
    if largest * abs(factor) <= INT64_MAX:
        return array * np.int64(factor)
    return array.astype(object) * factor


def multiply_arrays_exact(left: object, right: object) -> np.ndarray:
    """Element-wise product of two integer arrays, exact (object dtype when int64 could overflow)."""
    left_array, right_array = np.asarray(left), np.asarray(right)
    if left_array.dtype != object and right_array.dtype != object and left_array.size:
        left_array = left_array.astype(np.int64, copy=False)
        right_array = right_array.astype(np.int64, copy=False)
        bound = int(np.abs(left_array).max()) * int(np.abs(right_array).max())
        if bound <= INT64_MAX:
            return left_array * right_array
    return left_array.astype(object) * right_array.astype(object)


def rate_times_base_fen(rate: int | Fraction, base_fen: object) -> np.ndarray | int:
    """``rate × base_fen`` rounded half-up to the fen, per line.

    ``rate`` is integer basis points (``300`` = 3%) or an exact ``Fraction`` (``Fraction(3, 100)``);
    ``base_fen`` is an int or an array of ints. Returns the same shape. Exact for any sizes.
    """
    fraction = _rate_as_fraction(rate)
    if isinstance(base_fen, (int, np.integer)) and not isinstance(base_fen, bool):
        return divide_half_up(int(base_fen) * fraction.numerator, fraction.denominator)
    products = multiply_exact(base_fen, fraction.numerator)
    return divide_half_up(products, fraction.denominator)


def split_check_within_one_fen(pool_fen: int, weights: Sequence[int], shares: Sequence[int]) -> list[str]:
    """Problems (as text) where a share is not within one fen of its exact value; [] when sound.

    A slow, exact check with Fractions, for tests and for ``verify``-style audits.
    """
    total = sum(int(weight) for weight in weights)
    problems = []
    for index, (weight, share) in enumerate(zip(weights, shares, strict=True)):
        exact = Fraction(pool_fen * int(weight), total) if total else Fraction(0)
        if abs(Fraction(int(share)) - exact) >= 1:
            problems.append(f"holder {index}: share {share} fen, exact {exact} fen")
    return problems


def decimal_text(value: object, places_max: int = 4) -> str:
    """A rational number (a Fraction, or anything Fraction takes) as decimal text, without a
    float: exact when it terminates within ``places_max`` places, else rounded half-up."""
    from decimal import ROUND_HALF_UP, Decimal

    exact = Fraction(value)  # type: ignore[arg-type]
    quotient = Decimal(exact.numerator) / Decimal(exact.denominator)
    return format(quotient.quantize(Decimal(1).scaleb(-places_max), rounding=ROUND_HALF_UP).normalize(), "f")


def percent_text(rate: object, places_max: int = 4) -> str:
    """A rate as percent text: ``Fraction(1, 200) -> "0.5%"``."""
    return f"{decimal_text(Fraction(rate) * 100, places_max)}%"  # type: ignore[arg-type]
