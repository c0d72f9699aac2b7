"""The tamper-evident hash chain: each entry's hash covers its canonical content, its place in
its entity's chain, who posted it and when, and the hash of the entity's previous entry, so
changing, removing or inserting any entry breaks the hash of every entry after it. The poster
and ``verify`` build the canonical text and the hashes with these same functions."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Sequence

from ledger_core.model import FIELD_SEPARATOR, RECORD_SEPARATOR, EntryBatch

GROUP_SEPARATOR = "\x1d"


def entry_content_texts(batch: EntryBatch) -> list[str]:
    """The canonical text of each entry's content (what the user asked to post): entity,
    period, date, memo, source, reversal link, and every posting with its dimensions."""
    field = FIELD_SEPARATOR
    posting_texts = [
        f"{account}{field}{amount}{field}{household or ''}{field}{fund or ''}{field}{reference or ''}"
        for account, amount, household, fund, reference in zip(
            batch.account_code,
            batch.amount_fen.tolist(),
            batch.household_id,
            batch.fund_source,
            batch.payment_reference,
        )
    ]
    # Entries of one bulk post mostly share entity, period, date, memo and source: build each
    # distinct head once.
    heads: dict[tuple, str] = {}
    starts = batch.posting_starts.tolist()
    join = RECORD_SEPARATOR.join
    texts: list[str] = []
    append = texts.append
    for key, start, end in zip(
        zip(batch.entity_code, batch.period, batch.entry_date, batch.memo, batch.source_kind,
            batch.source_reference, batch.reverses_entry_id),
        starts[:-1],
        starts[1:],
    ):
        head = heads.get(key)
        if head is None:
            entity, period, date, memo, kind, reference, reverses = key
            head = heads[key] = field.join(
                (entity, period, date.isoformat(), memo, kind, reference, "" if reverses is None else str(reverses))
            ) + RECORD_SEPARATOR
        append(head + join(posting_texts[start:end]))
    return texts


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
