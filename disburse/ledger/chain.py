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


def entry_content_texts(batch: EntryBatch, start: int = 0, end: int | None = None) -> list[str]:
    """The canonical text of each entry's content (what the user asked to post): entity,
    period, date, memo, source, reversal link, and every posting with its dimensions; for the
    entries ``start``..``end`` (all by default)."""
    end = batch.entry_count if end is None else end
    field = FIELD_SEPARATOR
    starts = batch.posting_starts[start : end + 1].tolist()
    first, last = starts[0], starts[-1]
    posting_texts = [
        f"{account}{field}{amount}{field}{household or ''}{field}{fund or ''}{field}{reference or ''}"
        for account, amount, household, fund, reference in zip(
            batch.account_code[first:last],
            batch.amount_fen[first:last].tolist(),
            batch.household_id[first:last],
            batch.fund_source[first:last],
            batch.payment_reference[first:last],
        )
    ]
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
            stamp = stamps[(user, moment)] = f"{field}{user}{field}{moment.isoformat(timespec='microseconds')}"
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
    for start in range(0, batch.entry_count, chunk_entries):
        end = min(start + chunk_entries, batch.entry_count)
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
