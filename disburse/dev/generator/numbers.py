"""Vectorised makers of identifiers and text columns.

The generator makes a million resident IDs, card numbers and names in a fraction of a second by
working on digit matrices (one row per value, one column per character) and viewing them as
fixed-width strings, instead of formatting values one by one in Python. The check characters
follow ``ledger_core.identifiers``; the tests check a sample against it.
"""

from __future__ import annotations

import numpy as np

from disburse.foundation.identifiers import RESIDENT_ID_CHECK, RESIDENT_ID_WEIGHTS

ASCII_ZERO = ord("0")
# Resident IDs are unique per (area, birth date, sex) through a three-digit sequence: odd
# numbers 001..997 for men, even 002..998 for women, so at most 499 people of one sex can be born
# on one day in one county.
SEQUENCES_PER_DAY_AND_SEX_MAX = 499


def digits_of(numbers: np.ndarray, width: int) -> np.ndarray:
    """The decimal digits of non-negative integers as an (n, width) int64 matrix, most
    significant first, zero-padded on the left."""
    numbers = np.asarray(numbers, dtype=np.int64)
    assert (numbers >= 0).all()
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (numbers[:, None] // powers[None, :]) % 10


def text_of_digits(digits: np.ndarray) -> np.ndarray:
    """An (n, width) matrix of digits 0-9 as an array of n strings of that width."""
    width = digits.shape[1]
    codes = np.ascontiguousarray(digits.astype(np.uint8) + ASCII_ZERO)
    return codes.view(f"S{width}").ravel().astype(f"U{width}")


def text_of_code_points(code_points: np.ndarray) -> np.ndarray:
    """An (n, width) matrix of Unicode code points, zero-padded on the right, as n strings.

    NumPy stores ``U`` strings as UCS-4 and drops trailing NUL characters, which is what makes
    the zero padding disappear.
    """
    width = code_points.shape[1]
    matrix = np.ascontiguousarray(code_points.astype(np.uint32))
    return matrix.view(f"U{width}").ravel()


def luhn_check_digits(payload_digits: np.ndarray) -> np.ndarray:
    """The Luhn check digit for each row of a payload digit matrix (the digits before the check)."""
    width = payload_digits.shape[1]
    # Counting from the right end of the payload, every first, third, fifth ... digit is doubled.
    doubled = ((width - 1 - np.arange(width)) % 2) == 0
    values = payload_digits.copy()
    values[:, doubled] *= 2
    values = np.where(values > 9, values - 9, values)
    return (10 - values.sum(axis=1) % 10) % 10


def card_numbers(
    rng: np.random.Generator, prefixes: tuple[str, ...], banks: np.ndarray, length: int = 19
) -> np.ndarray:
    """Luhn-valid card numbers of ``length`` digits; row i starts with ``prefixes[banks[i]]``."""
    banks = np.asarray(banks, dtype=np.int64)
    prefix_table = np.array([[int(character) for character in prefix] for prefix in prefixes])
    prefix_digits = prefix_table[banks].reshape(len(banks), prefix_table.shape[1])
    body = rng.integers(0, 10, size=(len(banks), length - prefix_table.shape[1] - 1))
    payload = np.concatenate([prefix_digits, body], axis=1)
    check = luhn_check_digits(payload)
    return text_of_digits(np.concatenate([payload, check[:, None]], axis=1))


def passbook_numbers(rng: np.random.Generator, count: int, prefix: str, length: int = 19) -> np.ndarray:
    """Passbook account numbers that deliberately fail the Luhn check, as many rural ones do."""
    prefix_digits = np.tile(np.array([int(character) for character in prefix]), (count, 1))
    body = rng.integers(0, 10, size=(count, length - len(prefix) - 1))
    payload = np.concatenate([prefix_digits, body], axis=1)
    wrong = (luhn_check_digits(payload) + 1 + rng.integers(0, 9, size=count)) % 10
    return text_of_digits(np.concatenate([payload, wrong[:, None]], axis=1))


def phone_numbers(rng: np.random.Generator, count: int) -> np.ndarray:
    """Mainland mobile numbers: 1, a network digit (3, 5, 7, 8 or 9) and nine digits."""
    network = rng.choice(np.array([3, 5, 7, 8, 9]), size=count, p=[0.35, 0.25, 0.05, 0.25, 0.10])
    digits = np.concatenate(
        [np.ones((count, 1), dtype=np.int64), network[:, None], rng.integers(0, 10, size=(count, 9))],
        axis=1,
    )
    return text_of_digits(digits)


def resident_ids(rng: np.random.Generator, area_code: str, birth_days: np.ndarray, is_male: np.ndarray) -> np.ndarray:
    """Unique GB 11643 resident IDs for people with the given birth dates (datetime64[D]) and sex.

    People with the same birth date and sex get distinct sequence numbers: their rank within that
    group, spread over the 499 available numbers with a random stride and offset per group.
    """
    count = len(birth_days)
    birth_days = birth_days.astype("datetime64[D]")
    day_numbers = birth_days.astype(np.int64)
    group = day_numbers * 2 + (~is_male).astype(np.int64)
    # Rank within group: sort by group with a random tie-break, then subtract each group's start.
    order = np.lexsort((rng.random(count), group))
    sorted_groups = group[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    sizes = np.diff(np.r_[starts, count])
    if sizes.max(initial=0) > SEQUENCES_PER_DAY_AND_SEX_MAX:
        raise ValueError(
            f"more than {SEQUENCES_PER_DAY_AND_SEX_MAX} people of one sex born on one day; "
            "resident ID sequence numbers would repeat"
        )
    rank_sorted = np.arange(count) - np.repeat(starts, sizes)
    offsets = rng.integers(0, SEQUENCES_PER_DAY_AND_SEX_MAX, size=len(starts))
    slot_sorted = (rank_sorted * 37 + np.repeat(offsets, sizes)) % SEQUENCES_PER_DAY_AND_SEX_MAX
    slot = np.empty(count, dtype=np.int64)
    slot[order] = slot_sorted
    sequence = np.where(is_male, 2 * slot + 1, 2 * slot + 2)

    years = birth_days.astype("datetime64[Y]").astype(np.int64) + 1970
    months = birth_days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (birth_days - birth_days.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    area_digits = np.tile(np.array([int(character) for character in area_code]), (count, 1))
    first_seventeen = np.concatenate(
        [
            area_digits,
            digits_of(years, 4),
            digits_of(months, 2),
            digits_of(days, 2),
            digits_of(sequence, 3),
        ],
        axis=1,
    )
    weights = np.array(RESIDENT_ID_WEIGHTS, dtype=np.int64)
    check_index = (first_seventeen * weights).sum(axis=1) % 11
    check_codes = np.frombuffer(RESIDENT_ID_CHECK.encode("ascii"), dtype=np.uint8)[check_index]
    codes = np.concatenate([first_seventeen.astype(np.uint8) + ASCII_ZERO, check_codes[:, None]], axis=1)
    return np.ascontiguousarray(codes).view("S18").ravel().astype("U18")


def date_texts(days: np.ndarray) -> np.ndarray:
    """ISO date strings for datetime64[D] values; NaT becomes the empty string."""
    days = days.astype("datetime64[D]")
    texts = np.datetime_as_string(days, unit="D").astype("U10")
    return np.where(np.isnat(days), "", texts)


def weighted_choice(rng: np.random.Generator, weights: tuple[float, ...], size: int) -> np.ndarray:
    """Indices 0..len(weights)-1 drawn with the given (not necessarily normalised) weights."""
    probabilities = np.asarray(weights, dtype=np.float64)
    probabilities = probabilities / probabilities.sum()
    return rng.choice(len(weights), size=size, p=probabilities)
