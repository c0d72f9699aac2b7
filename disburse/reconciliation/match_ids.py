"""Stable match identifiers: derived only from the ids a match joins.

A re-run over the same lines and items gives the same id, so a person's confirmation or
rejection (which names a match id) applies again; a match joining different ids gets a
different id. The id is ``M`` + 16 hex digits of a 64-bit hash: the splitmix64 finaliser folded
over the count and sorted ids of the statement lines, then of the book items. The scalar and the
vectorised forms compute the same numbers (unsigned 64-bit arithmetic that wraps), so one-to-one
matches of a million-line run get their ids without a Python loop over the hash.

With a million matches the chance that two share an id is about 3 in 100 million; the matcher
asserts that the ids of one result are unique.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

_MASK = (1 << 64) - 1
_SEED = 0x6469736275727365  # "disburse"
_BOOK_MARK = 0x626F6F6B5F696473  # "book_ids"


def _mix(value: int) -> int:
    value &= _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def _mix_array(values: np.ndarray) -> np.ndarray:
    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


def match_hash(statement_line_ids: Iterable[int], book_ids: Iterable[int]) -> int:
    """The 64-bit hash behind a match id (order of the ids does not matter)."""
    lines = sorted(int(value) for value in statement_line_ids)
    books = sorted(int(value) for value in book_ids)
    state = _mix(_SEED ^ len(lines))
    for value in lines:
        state = _mix(state ^ (value & _MASK))
    state = _mix(state ^ _BOOK_MARK ^ len(books))
    for value in books:
        state = _mix(state ^ (value & _MASK))
    return state


def match_id_of(statement_line_ids: Iterable[int], book_ids: Iterable[int]) -> str:
    """The match id for a set of statement line ids and book ids, e.g. ``M1f3a…`` (17 characters)."""
    return f"M{match_hash(statement_line_ids, book_ids):016x}"


def match_hash_pairs(line_ids: np.ndarray, book_ids: np.ndarray) -> np.ndarray:
    """``match_hash([line], [book])`` for arrays of one-to-one pairs, as uint64."""
    lines = np.asarray(line_ids, dtype=np.int64).astype(np.uint64)
    books = np.asarray(book_ids, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        state = np.full(len(lines), _mix(_SEED ^ 1), dtype=np.uint64)
        state = _mix_array(state ^ lines)
        state = _mix_array(state ^ np.uint64(_BOOK_MARK ^ 1))
        state = _mix_array(state ^ books)
    return state


_HEX_DIGITS = np.frombuffer(b"".join(f"{value:02x}".encode() for value in range(256)), dtype=np.uint8).reshape(256, 2)


def match_ids_from_hashes(hashes: np.ndarray) -> list[str]:
    """Format uint64 hashes as match ids (``f"M{hash:016x}"``). Done on bytes: the digits of
    all ids are looked up at once and decoded as one text split at newlines, which takes two
    thirds of the time of formatting a million ids one by one."""
    count = len(hashes)
    if not count:
        return []
    text = np.empty((count, 18), dtype=np.uint8)
    text[:, 0] = ord("M")
    text[:, 1:17] = _HEX_DIGITS[
        np.asarray(hashes, dtype=np.uint64).astype(">u8").view(np.uint8).reshape(count, 8)
    ].reshape(count, 16)
    text[:, 17] = ord("\n")
    return text.tobytes()[:-1].decode("ascii").split("\n")


def match_hash_from_id(match_id: str) -> int:
    """The hash inside a match id (for comparing rejected ids with hashed pairs)."""
    if len(match_id) != 17 or match_id[0] != "M":
        raise ValueError(f"{match_id!r} is not a match id (M followed by 16 hex digits)")
    return int(match_id[1:], 16)
