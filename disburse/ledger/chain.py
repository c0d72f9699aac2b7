"""The tamper-evident hash chain: each entry's hash covers its canonical content, its place in
its entity's chain, who posted it and when, and the hash of the entity's previous entry, so
changing, removing or inserting any entry breaks the hash of every entry after it. The poster
and ``verify`` build the canonical text and the hashes with these same functions."""

from __future__ import annotations

import datetime as dt
import hashlib
import operator
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from disburse.ledger.model import FIELD_SEPARATOR, RECORD_SEPARATOR, EntryBatch

GROUP_SEPARATOR = "\x1d"
# A post is hashed in chunks of at most this many postings' text; an entry that alone holds more
# (a run's single entry may hold a county's million postings) is hashed piece by piece.
STREAMED_POSTINGS = 50_000


def entry_content_texts(batch: EntryBatch, start: int = 0, end: int | None = None) -> list[str]:
    """The canonical text of each entry's content (what the user asked to post): entity,
    period, date, memo, source, reversal link, and every posting with its dimensions; for the
    entries ``start``..``end`` (all by default)."""
    end = batch.entry_count if end is None else end
    starts = batch.posting_starts[start : end + 1].tolist()
    first, last = starts[0], starts[-1]
    posting_texts = _posting_texts(batch, first, last)
    count = end - start
    join = RECORD_SEPARATOR.join
    # Entries of one bulk post mostly share entity, period, date, memo and source: build each
    # distinct head once, and when all entries share one, no key per entry at all.
    head_columns = (
        batch.entity_code[start:end],
        batch.period[start:end],
        batch.entry_date[start:end],
        batch.memo[start:end],
        batch.source_kind[start:end],
        batch.source_reference[start:end],
        batch.reverses_entry_id[start:end],
    )
    if count and all(len(set(column)) == 1 for column in head_columns):
        entry_heads: list[str] = [_head(tuple(column[0] for column in head_columns))] * count
    else:
        heads: dict[tuple, str] = {}
        entry_heads = []
        append_head = entry_heads.append
        for key in zip(*head_columns):
            head = heads.get(key)
            if head is None:
                head = heads[key] = _head(key)
            append_head(head)
    sizes = np.diff(np.asarray(starts, dtype=np.int64))
    if count and (sizes == sizes[0]).all():
        # Every entry has the same number of postings (a run's or a batch's usual shape): the
        # bodies come from striding the posting texts, in C loops.
        size = int(sizes[0])
        bodies = list(map(join, zip(*(posting_texts[offset::size] for offset in range(size)))))
    else:
        bodies = [
            join(posting_texts[entry_start - first : entry_end - first])
            for entry_start, entry_end in zip(starts[:-1], starts[1:])
        ]
    return list(map(operator.add, entry_heads, bodies))


def _posting_texts(batch: EntryBatch, first: int, last: int) -> list[str]:
    """The canonical text of each of the postings ``first``..``last``."""
    field = FIELD_SEPARATOR
    return [
        f"{account}{field}{amount}{field}{household or ''}{field}{fund or ''}{field}{reference or ''}"
        for account, amount, household, fund, reference in zip(
            batch.account_code[first:last],
            batch.amount_fen[first:last].tolist(),
            batch.household_id[first:last],
            batch.fund_source[first:last],
            batch.payment_reference[first:last],
        )
    ]


def _entry_head(batch: EntryBatch, index: int) -> str:
    return _head(
        (
            batch.entity_code[index],
            batch.period[index],
            batch.entry_date[index],
            batch.memo[index],
            batch.source_kind[index],
            batch.source_reference[index],
            batch.reverses_entry_id[index],
        )
    )


def entry_content_pieces(batch: EntryBatch, index: int) -> Iterator[bytes]:
    """Entry ``index``'s content text (as ``entry_content_texts`` makes it), encoded, in pieces of
    at most STREAMED_POSTINGS postings: a run's entry of a million postings is hashed without
    its text (and that text's copies) ever being held whole."""
    yield _entry_head(batch, index).encode("utf-8")
    first, last = int(batch.posting_starts[index]), int(batch.posting_starts[index + 1])
    separator = RECORD_SEPARATOR.encode("utf-8")
    for low in range(first, last, STREAMED_POSTINGS):
        if low > first:
            yield separator
        yield RECORD_SEPARATOR.join(_posting_texts(batch, low, min(low + STREAMED_POSTINGS, last))).encode("utf-8")


def _head(key: tuple) -> str:
    """The canonical text of an entry's own fields, ended by the record separator."""
    entity, period, date, memo, kind, reference, reverses = key
    return (
        FIELD_SEPARATOR.join(
            (entity, period, date.isoformat(), memo, kind, reference, "" if reverses is None else str(reverses))
        )
        + RECORD_SEPARATOR
    )


def input_hash(content_texts: list[str]) -> str:
    """SHA-256 of a whole post request's content, for idempotency: same key, same input."""
    return hashlib.sha256(GROUP_SEPARATOR.join(content_texts).encode("utf-8")).hexdigest()


def _stamp(user: str, moment: dt.datetime) -> str:
    """Who posted an entry and when, as its hash ends with it."""
    return f"{FIELD_SEPARATOR}{user}{FIELD_SEPARATOR}{moment.isoformat(timespec='microseconds')}"


def chain_hashes(
    previous_hash: str,
    content_texts: Sequence[str],
    voucher_numbers: Sequence[int],
    first_position: int,
    created_by: Sequence[str],
    created_at: Sequence[dt.datetime],
) -> list[str]:
    """Hashes of consecutive entries of one entity's chain, starting after ``previous_hash``
    at chain position ``first_position`` (1 for an entity's first entry)."""
    sha256 = hashlib.sha256
    group, field = GROUP_SEPARATOR, FIELD_SEPARATOR
    stamps: dict[tuple[str, dt.datetime], str] = {}
    hashes: list[str] = []
    previous = previous_hash
    position = first_position
    for content, voucher, user, moment in zip(content_texts, voucher_numbers, created_by, created_at):
        stamp = stamps.get((user, moment))
        if stamp is None:
            stamp = stamps[(user, moment)] = _stamp(user, moment)
        previous = sha256(f"{previous}{group}{content}{group}{position}{field}{voucher}{stamp}".encode()).hexdigest()
        hashes.append(previous)
        position += 1
    return hashes


@dataclass(frozen=True, slots=True)
class ChainStart:
    """Where one entity's chain stands before a post: its head hash and the position its next
    entry takes (1 for an entity's first entry)."""

    previous_hash: str
    first_position: int


@dataclass(frozen=True, slots=True)
class HashChunk:
    """The hashes of the entries ``start``..``end`` of a post. The last chunk of a post has no
    entries and carries the request's input hash and each entity's new head hash."""

    start: int
    end: int
    hashes: list[str]
    input_hash: str | None = None
    heads: dict[int, str] | None = None


def _chunk_bounds(batch: EntryBatch, chunk_entries: int) -> Iterator[tuple[int, int]]:
    """Consecutive chunks of at most ``chunk_entries`` entries and STREAMED_POSTINGS postings (or
    one entry that alone holds more), so the texts hashed at once stay small."""
    starts = batch.posting_starts
    start = 0
    while start < batch.entry_count:
        end = min(start + chunk_entries, batch.entry_count)
        if int(starts[end] - starts[start]) > STREAMED_POSTINGS:
            fitting = int(np.searchsorted(starts, starts[start] + STREAMED_POSTINGS, side="right")) - 1
            end = max(start + 1, min(end, fitting))
        yield start, end
        start = end


def _streamed_hashes(
    batch: EntryBatch,
    start: int,
    end: int,
    entity_ids: Sequence[int],
    voucher_numbers: Sequence[int],
    stamp: str,
    previous: dict[int, str],
    position: dict[int, int],
    request,  # type: ignore[no-untyped-def]
) -> list[str]:
    """The chain hashes of entries ``start``..``end`` fed piece by piece (``entry_content_pieces``)
    to each entry's hash and the request's: the same bytes in the same order as ``chain_hashes``
    and ``input_hash`` hash, so the same hashes. Updates ``previous`` and ``position``."""
    group = GROUP_SEPARATOR.encode("utf-8")
    hashes = []
    for index in range(start, end):
        entity = entity_ids[index]
        entry = hashlib.sha256(f"{previous[entity]}{GROUP_SEPARATOR}".encode())
        if index:
            request.update(group)
        for piece in entry_content_pieces(batch, index):
            entry.update(piece)
            request.update(piece)
        entry.update(f"{GROUP_SEPARATOR}{position[entity]}{FIELD_SEPARATOR}{voucher_numbers[index]}{stamp}".encode())
        previous[entity], position[entity] = entry.hexdigest(), position[entity] + 1
        hashes.append(previous[entity])
    return hashes


def post_hash_chunks(
    batch: EntryBatch,
    entity_ids: Sequence[int],
    chain_starts: dict[int, ChainStart],
    voucher_numbers: Sequence[int],
    user: str,
    created_at: dt.datetime,
    chunk_entries: int,
) -> Iterator[HashChunk]:
    """The chain hashes of a whole post, ``chunk_entries`` entries at a time, then the input
    hash (the same as ``input_hash(entry_content_texts(batch))``) and the new heads. Entries of
    several entities may interleave: each entity's chain runs through its own entries in order."""
    assert chunk_entries > 0 and len(entity_ids) == batch.entry_count == len(voucher_numbers)
    request = hashlib.sha256()
    group = GROUP_SEPARATOR.encode()
    previous = {entity: start.previous_hash for entity, start in chain_starts.items()}
    position = {entity: start.first_position for entity, start in chain_starts.items()}
    stamp = _stamp(user, created_at)
    for start, end in _chunk_bounds(batch, chunk_entries):
        if int(batch.posting_starts[end] - batch.posting_starts[start]) > STREAMED_POSTINGS:
            yield HashChunk(
                start,
                end,
                _streamed_hashes(batch, start, end, entity_ids, voucher_numbers, stamp, previous, position, request),
            )
            continue
        texts = entry_content_texts(batch, start, end)
        if start:
            request.update(group)
        request.update(GROUP_SEPARATOR.join(texts).encode("utf-8"))
        chunk_entities = entity_ids[start:end]
        distinct = set(chunk_entities)
        hashes: list[str]
        if len(distinct) == 1:
            (entity,) = distinct
            hashes = chain_hashes(
                previous[entity],
                texts,
                voucher_numbers[start:end],
                position[entity],
                [user] * len(texts),
                [created_at] * len(texts),
            )
            previous[entity], position[entity] = hashes[-1], position[entity] + len(hashes)
        else:
            hashes = [""] * len(texts)
            entity_array = np.asarray(chunk_entities)
            for entity in sorted(distinct):
                places = np.flatnonzero(entity_array == entity).tolist()
                found = chain_hashes(
                    previous[entity],
                    [texts[i] for i in places],
                    [voucher_numbers[start + i] for i in places],
                    position[entity],
                    [user] * len(places),
                    [created_at] * len(places),
                )
                for place, value in zip(places, found):
                    hashes[place] = value
                previous[entity], position[entity] = found[-1], position[entity] + len(found)
        yield HashChunk(start, end, hashes)
    yield HashChunk(
        batch.entry_count,
        batch.entry_count,
        [],
        request.hexdigest(),
        {entity: previous[entity] for entity in chain_starts},
    )
