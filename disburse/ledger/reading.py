"""Reading the books back: entries with their postings, as immutable records for people, or
as columns (``EntryBatch`` plus chain metadata) for verify, which reads every posting."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from disburse.foundation.dates import as_date
from disburse.ledger.model import EntryBatch, EntryDraft, PostedEntry, PostedPosting, PostingDraft, voucher_label
from disburse.ledger.tables import EntityRow, JournalEntryRow, PostingRow, PostRequestRow

IN_LIST_CHUNK = 20_000  # keeps each IN (...) under the drivers' parameter limits
# Postings verify holds at a time: its memory is bounded by this (or by the largest entry), not
# by the books (a county's month is about 26 postings per household).
CHAIN_WINDOW_POSTINGS = 250_000


@dataclass(frozen=True, slots=True)
class ChainColumns:
    """An entity's entries in chain order as columns, with the batch the poster hashed."""

    entry_ids: list[int]
    voucher_numbers: list[int]
    created_by: list[str]
    created_at: list[dt.datetime]
    entry_hashes: list[str]
    declared_posting_counts: list[int]
    batch: EntryBatch


def _entry_select():  # type: ignore[no-untyped-def]
    return (
        select(
            JournalEntryRow.id,
            EntityRow.code,
            JournalEntryRow.period,
            JournalEntryRow.entry_date,
            JournalEntryRow.voucher_number,
            JournalEntryRow.memo,
            JournalEntryRow.source_kind,
            JournalEntryRow.source_reference,
            PostRequestRow.created_by,
            PostRequestRow.created_at,
            JournalEntryRow.reverses_entry_id,
            JournalEntryRow.entry_hash,
            JournalEntryRow.posting_count,
        )
        .join(EntityRow, EntityRow.id == JournalEntryRow.entity_id)
        .join(PostRequestRow, PostRequestRow.id == JournalEntryRow.post_request_id)
    )


def _postings_of(session: Session, entry_ids: list[int]) -> dict[int, list[tuple]]:
    postings: dict[int, list[tuple]] = {entry_id: [] for entry_id in entry_ids}
    if not entry_ids:
        return postings
    columns = (
        PostingRow.entry_id,
        PostingRow.line_number,
        PostingRow.account_code,
        PostingRow.amount_fen,
        PostingRow.household_id,
        PostingRow.fund_source,
        PostingRow.payment_reference,
    )
    low, high = min(entry_ids), max(entry_ids)
    if high - low + 1 <= 2 * len(entry_ids):
        # Dense ids (the usual case: one entity's chain, a period): one range scan.
        statement = select(*columns).where(PostingRow.entry_id.between(low, high))
        chunks = [statement]
    else:
        chunks = [
            select(*columns).where(PostingRow.entry_id.in_(entry_ids[start : start + IN_LIST_CHUNK]))
            for start in range(0, len(entry_ids), IN_LIST_CHUNK)
        ]
    for statement in chunks:
        for row in session.execute(statement.order_by(PostingRow.entry_id, PostingRow.line_number)):
            bucket = postings.get(row[0])
            if bucket is not None:
                bucket.append(tuple(row))
    return postings


def load_entries(session: Session, where: Sequence, order_by: Sequence | None = None) -> list[PostedEntry]:
    """Entries matching ``where`` (conditions on JournalEntryRow/EntityRow) with their postings,
    in chain order unless told otherwise."""
    rows = session.execute(
        _entry_select().where(*where).order_by(*(order_by or (JournalEntryRow.entity_id, JournalEntryRow.id)))
    ).all()
    postings = _postings_of(session, [row[0] for row in rows])
    return [
        PostedEntry(
            id=row[0],
            entity_code=row[1],
            period=row[2],
            entry_date=as_date(row[3]),
            voucher_number=row[4],
            memo=row[5],
            source_kind=row[6],
            source_reference=row[7],
            created_by=row[8],
            created_at=row[9],
            reverses_entry_id=row[10],
            entry_hash=row[11],
            postings=tuple(PostedPosting(*posting[1:]) for posting in postings[row[0]]),
        )
        for row in rows
    ]


def _chain_rows(session: Session, entity_id: int) -> list:  # type: ignore[type-arg]
    return session.execute(
        _entry_select().where(JournalEntryRow.entity_id == entity_id).order_by(JournalEntryRow.id)
    ).all()


def load_chain(session: Session, entity_id: int) -> ChainColumns:
    """Every entry of one entity in chain order, as columns."""
    return _chain_columns(session, _chain_rows(session, entity_id), first_position=1)


def chain_windows(session: Session, entity_id: int, postings_max: int | None = None) -> Iterator[ChainColumns]:
    """Every entry of one entity in chain order, as columns, a window of whole entries at a
    time: each window holds at most ``postings_max`` postings, or one entry that alone holds
    more. Windows are planned by each entry's declared posting count (a forged count changes
    only how much is read at once: the postings themselves are read by entry id)."""
    postings_max = postings_max or CHAIN_WINDOW_POSTINGS
    assert postings_max >= 1, postings_max
    rows = _chain_rows(session, entity_id)
    start = 0
    while start < len(rows):
        end, held = start + 1, int(rows[start][12] or 0)
        while end < len(rows) and held + int(rows[end][12] or 0) <= postings_max:
            held += int(rows[end][12] or 0)
            end += 1
        yield _chain_columns(session, rows[start:end], first_position=start + 1)
        start = end


def _chain_columns(session: Session, rows: Sequence, first_position: int) -> ChainColumns:  # type: ignore[type-arg]
    """Entries ``rows`` (of ``_entry_select``, consecutive in one chain from ``first_position``)
    with their postings, as columns."""
    entry_ids = [row[0] for row in rows]
    postings = _postings_of(session, entry_ids)
    entry_index: list[int] = []
    flat: list[tuple] = []
    for index, entry_id in enumerate(entry_ids):
        lines = postings.pop(entry_id)
        entry_index.extend([index] * len(lines))
        flat.extend(lines)
    columns = list(zip(*flat)) if flat else [()] * 7
    del flat
    batch = EntryBatch(
        entity_code=[row[1] for row in rows],
        period=[row[2] for row in rows],
        entry_date=[as_date(row[3]) for row in rows],
        memo=[row[5] for row in rows],
        source_kind=[row[6] for row in rows],
        source_reference=[row[7] for row in rows],
        reverses_entry_id=[row[10] for row in rows],
        label=[f"id {row[0]}, {row[2]} {voucher_label(row[4])}" for row in rows],
        posting_entry_index=np.asarray(entry_index, dtype=np.int64),
        account_code=list(columns[2]),
        amount_fen=np.asarray(columns[3], dtype=np.int64),
        household_id=list(columns[4]),
        fund_source=list(columns[5]),
        payment_reference=list(columns[6]),
        first_position=first_position,
    )
    return ChainColumns(
        entry_ids=entry_ids,
        voucher_numbers=[row[4] for row in rows],
        created_by=[row[8] for row in rows],
        created_at=[row[9] for row in rows],
        entry_hashes=[row[11] for row in rows],
        declared_posting_counts=[row[12] for row in rows],
        batch=batch,
    )


def batch_of_posted(entries: Sequence[PostedEntry]) -> EntryBatch:
    """The same columns the poster hashed, rebuilt from entries read back."""
    return EntryBatch.from_drafts(
        [
            EntryDraft(
                entry.entity_code,
                entry.period,
                entry.entry_date,
                entry.memo,
                tuple(
                    PostingDraft(p.account_code, p.amount_fen, p.household_id, p.fund_source, p.payment_reference)
                    for p in entry.postings
                ),
                entry.source_kind,
                entry.source_reference,
                entry.reverses_entry_id,
                label=f"id {entry.id}, {entry.period} {voucher_label(entry.voucher_number)}",
            )
            for entry in entries
        ]
    )
