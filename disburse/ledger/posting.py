"""The bulk poster: the only code that writes journal entries and postings.

One call posts a whole batch atomically (inside the caller's transaction; it never commits),
with bulk inserts (sqlite3 executemany, PostgreSQL COPY), idempotent by a caller-given key
stored with a hash of the input. Every entry is checked balanced before it is written and the
written sums are read back before the caller commits (on PostgreSQL a deferred constraint
trigger checks them once more at commit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from disburse.foundation.actors import require_user
from disburse.foundation.bulk import columns_insert
from disburse.foundation.dates import period_of, period_problem
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr
from disburse.foundation.locks import POSTING_LOCK, advisory_lock
from disburse.ledger import chain
from disburse.ledger.model import (
    DIMENSION_LENGTH_MAX,
    ENTRIES_PER_POST_MAX,
    FORBIDDEN_TEXT_CHARACTERS,
    MEMO_LENGTH_MAX,
    POSTINGS_PER_ENTRY_MAX,
    POSTINGS_PER_POST_MAX,
    SOURCE_REFERENCE_LENGTH_MAX,
    EntryBatch,
    LedgerError,
    entries_check_balanced,
)
from disburse.ledger.parallel import produced_in_parallel
from disburse.ledger.tables import (
    GENESIS_HASH,
    AccountRow,
    ChainHeadRow,
    EntityRow,
    PeriodRow,
    PostRequestRow,
    VoucherCounterRow,
)

IDEMPOTENCY_KEY_LENGTH_MAX = 200
ERRORS_SHOWN_MAX = 50
# Entries hashed per chunk, at most: the writer starts on the first chunk while the rest are
# hashed, so a post is cut into at least HASH_CHUNKS_MIN chunks (the writer then waits only for
# the first) of no fewer than HASH_CHUNK_ENTRIES_MIN entries (each chunk costs a write to the
# worker's pipe and two insert calls).
HASH_CHUNK_ENTRIES = 50_000
HASH_CHUNK_ENTRIES_MIN = 2_000
HASH_CHUNKS_MIN = 16
# Below this many entries a worker process costs more than it saves.
PARALLEL_HASHING_ENTRIES_MIN = 20_000


@dataclass(frozen=True, slots=True)
class PostResult:
    """What one bulk post did: the entries written (or found again for a repeated key)."""

    post_request_id: int
    entry_ids: tuple[int, ...]
    created: bool

    @property
    def entry_count(self) -> int:
        return len(self.entry_ids)


@dataclass(frozen=True, slots=True)
class PostContext:
    """What the checks of a batch need to know about the books."""

    entity_ids: dict[str, int]
    account_codes: frozenset[str]
    # The latest closed period of each entity: nothing may be posted into it or before it.
    last_closed: dict[str, str]


def batch_check_shape(batch: EntryBatch, context: PostContext) -> tuple[EntryBatch, list[LedgerError]]:
    """Entities, accounts, periods, dates, text lengths and limits of every entry. Each check
    runs over the distinct values (a bulk post repeats them), and looks for the first entry
    holding a bad value only when there is one."""
    errors = _batch_limit_errors(batch)
    errors += _period_errors(batch, context)
    errors += _text_errors(batch)
    errors += _account_and_dimension_errors(batch, context)
    return batch, errors


def _batch_limit_errors(batch: EntryBatch) -> list[LedgerError]:
    """An empty batch, and entries or postings beyond the limits of one post and of one entry."""
    errors: list[LedgerError] = []
    if batch.entry_count == 0:
        errors.append(LedgerError(tr("batch"), tr("has no entries")))
    if batch.entry_count > ENTRIES_PER_POST_MAX:
        errors.append(
            LedgerError(
                tr("batch"),
                tr(
                    "has {count:,} entries; at most {limit:,} per post",
                    count=batch.entry_count,
                    limit=ENTRIES_PER_POST_MAX,
                ),
            )
        )
    if batch.posting_count > POSTINGS_PER_POST_MAX:
        errors.append(
            LedgerError(
                tr("batch"),
                tr(
                    "has {count:,} postings; at most {limit:,} per post",
                    count=batch.posting_count,
                    limit=POSTINGS_PER_POST_MAX,
                ),
            )
        )
    counts = np.diff(batch.posting_starts)
    for index in np.flatnonzero(counts > POSTINGS_PER_ENTRY_MAX).tolist():
        errors.append(
            LedgerError(
                batch.entry_source(index),
                tr("has {count:,} postings; at most {limit:,}", count=int(counts[index]), limit=POSTINGS_PER_ENTRY_MAX),
            )
        )
    return errors


def _period_errors(batch: EntryBatch, context: PostContext) -> list[LedgerError]:
    """Per distinct (entity, period, date): the entity exists, the period is valid and holds the
    date, and the period is after the entity's last closed one."""
    errors: list[LedgerError] = []
    for key in sorted(set(zip(batch.entity_code, batch.period, batch.entry_date)), key=str):
        entity_code, period, entry_date = key
        problems = []
        if entity_code not in context.entity_ids:
            problems.append(tr("entity {entity!r} does not exist", entity=entity_code))
        problem = period_problem(period)
        if problem:
            problems.append(problem)
        elif not isinstance(entry_date, dt.date) or period_of(entry_date) != period:
            problems.append(tr("date {date} is not in period {period}", date=entry_date, period=period))
        closed = context.last_closed.get(entity_code)
        if closed is not None and not problem and period <= closed:
            problems.append(
                tr(
                    "is dated {date}, in or before {closed}, the last closed period of {entity}; "
                    "post it into an open period (after {closed})",
                    date=entry_date,
                    closed=closed,
                    entity=entity_code,
                )
            )
        if problems:
            index = list(zip(batch.entity_code, batch.period, batch.entry_date)).index(key)
            errors.extend(LedgerError(batch.entry_source(index), problem, index) for problem in problems)
    return errors


def _text_errors(batch: EntryBatch) -> list[LedgerError]:
    """Memos and source references within their lengths and free of control characters."""
    errors: list[LedgerError] = []
    for name, values, limit in (
        (tr("memo"), batch.memo, MEMO_LENGTH_MAX),
        (tr("source reference"), batch.source_reference, SOURCE_REFERENCE_LENGTH_MAX),
    ):
        for value in set(values):
            if len(value) > limit:
                index = values.index(value)
                errors.append(
                    LedgerError(
                        batch.entry_source(index),
                        tr("{name} is {length} characters; at most {limit}", name=name, length=len(value), limit=limit),
                        index,
                    )
                )
            if any(character in value for character in FORBIDDEN_TEXT_CHARACTERS):
                index = values.index(value)
                errors.append(
                    LedgerError(batch.entry_source(index), tr("{name} contains a control character", name=name), index)
                )
    return errors


def _account_and_dimension_errors(batch: EntryBatch, context: PostContext) -> list[LedgerError]:
    """Accounts in the chart, and the posting dimensions (household, fund source, payment
    reference) either absent or 1 to their limit characters of text."""
    errors: list[LedgerError] = []
    entry_of_posting = batch.posting_entry_index
    for code in sorted(set(batch.account_code) - context.account_codes):
        index = int(entry_of_posting[batch.account_code.index(code)])
        errors.append(
            LedgerError(
                batch.entry_source(index), tr("account {code!r} is not in the chart of accounts", code=code), index
            )
        )
    for name in ("household_id", "fund_source", "payment_reference"):
        limit = DIMENSION_LENGTH_MAX[name]
        values = getattr(batch, name)
        distinct = set(values)
        distinct.discard(None)
        # The common case, decided by C loops over the distinct values: all text, none empty,
        # none too long. Only otherwise is each value looked at.
        if not distinct or (
            set(map(type, distinct)) == {str} and "" not in distinct and max(map(len, distinct)) <= limit
        ):
            continue
        for value in distinct:
            if not isinstance(value, str) or len(value) > limit or value == "":
                index = int(entry_of_posting[values.index(value)])
                errors.append(
                    LedgerError(
                        batch.entry_source(index),
                        tr("{name} {value!r} must be 1 to {limit} characters", name=name, value=value, limit=limit),
                        index,
                    )
                )
    return errors


def load_post_context(session: Session, batch: EntryBatch) -> PostContext:
    entity_codes = sorted(set(batch.entity_code))
    entity_ids = dict(
        session.execute(select(EntityRow.code, EntityRow.id).where(EntityRow.code.in_(entity_codes))).all()
    )
    account_codes = frozenset(session.scalars(select(AccountRow.code)).all())
    return PostContext(entity_ids, account_codes, last_closed_periods(session, entity_codes))


def last_closed_periods(session: Session, entity_codes: list[str]) -> dict[str, str]:
    """The latest closed period (YYYY-MM) of each entity that has one."""
    rows = session.execute(
        select(EntityRow.code, func.max(PeriodRow.period))
        .join(PeriodRow, PeriodRow.entity_id == EntityRow.id)
        .where(PeriodRow.status == "closed", EntityRow.code.in_(entity_codes))
        .group_by(EntityRow.code)
    ).all()
    return {code: period for code, period in rows}


def refuse(errors: list[LedgerError], what: str = "entries") -> DisburseError:
    """A refusal listing the first problems; the full list travels with the error."""
    shown = "\n".join(f"  {error}" for error in errors[:ERRORS_SHOWN_MAX])
    more = (
        "\n  " + tr("… and {count:,} more", count=len(errors) - ERRORS_SHOWN_MAX)
        if len(errors) > ERRORS_SHOWN_MAX
        else ""
    )
    return DisburseError(
        tr("{count:,} problem(s); nothing was posted:", count=len(errors)) + f"\n{shown}{more}", errors
    )


def check_entries(batch: EntryBatch, context: PostContext) -> list[LedgerError]:
    """Every problem that would refuse ``batch``: its shape against the books (entities,
    accounts, periods open, limits) and its balance. The poster runs this before writing;
    a voucher submission runs it when submitted, so a reviewer never reviews what cannot post."""
    errors: list[LedgerError] = []
    for check in (batch_check_shape, entries_check_balanced):
        batch, found = check(batch, context)
        errors.extend(found)
    return errors


def _lock_posting(session: Session) -> None:
    advisory_lock(session, POSTING_LOCK)


def post_entries(
    session: Session,
    batch: EntryBatch,
    *,
    idempotency_key: str,
    user: str,
    now: dt.datetime | None = None,
) -> PostResult:
    """Post every entry of ``batch`` or none. A repeated key with the same input returns the
    entries it posted before; a repeated key with different input is refused."""
    user = require_user(user)
    if not idempotency_key or len(idempotency_key) > IDEMPOTENCY_KEY_LENGTH_MAX:
        raise DisburseError(tr("idempotency key must be 1 to {limit} characters", limit=IDEMPOTENCY_KEY_LENGTH_MAX))
    created_at = (now or dt.datetime.now(dt.timezone.utc)).replace(tzinfo=None)

    _lock_posting(session)
    repeated = _repeated_post(session, batch, idempotency_key)
    if repeated is not None:
        return repeated

    context = load_post_context(session, batch)
    errors = check_entries(batch, context)
    if errors:
        raise refuse(errors)

    import pandas as pd  # here, not at the top: the ledger's read-only commands never need pandas

    codes, distinct_codes = pd.factorize(pd.Series(batch.entity_code, dtype=object))
    distinct_ids = [context.entity_ids[code] for code in distinct_codes]
    entity_ids = np.asarray(distinct_ids, dtype=np.int64)[codes].tolist()
    entries_per_entity = dict(zip(distinct_ids, np.bincount(codes, minlength=len(distinct_ids)).tolist()))
    voucher_numbers = _assign_voucher_numbers(session, batch, entity_ids)
    chain_starts = _chain_starts(session, sorted(distinct_ids))
    entry_count = batch.entry_count

    def hash_chunks():  # type: ignore[no-untyped-def]
        chunk_entries = min(HASH_CHUNK_ENTRIES, max(HASH_CHUNK_ENTRIES_MIN, entry_count // HASH_CHUNKS_MIN))
        return chain.post_hash_chunks(batch, entity_ids, chain_starts, voucher_numbers, user, created_at, chunk_entries)

    # The hashes are computed on another core, from here on, while this process lays out the
    # rows and writes each chunk of entries as its hashes arrive.
    with produced_in_parallel(hash_chunks, parallel=entry_count >= PARALLEL_HASHING_ENTRIES_MIN) as chunks:
        first_id = session.execute(text("SELECT coalesce(max(id), 0) + 1 FROM journal_entries")).scalar_one()
        entry_ids = list(range(first_id, first_id + entry_count))
        # The input hash comes with the last chunk of hashes; the request row (which the entries
        # reference) is written now and given its hash then, in this same transaction.
        request_id = _request_insert(session, batch, idempotency_key, entry_ids, user, created_at)
        entry_values, posting_values = _row_columns(session, batch, entry_ids, entity_ids, voucher_numbers, request_id)
        final = _chunks_write(session, chunks, batch, entry_values, posting_values)
    assert final is not None and final.heads is not None
    session.execute(
        PostRequestRow.__table__.update().where(PostRequestRow.id == request_id).values(input_hash=final.input_hash)
    )
    _move_chain_heads(session, chain_starts, final.heads, entries_per_entity)
    _check_written(session, entry_ids, batch)
    return PostResult(request_id, tuple(entry_ids), created=True)


def _repeated_post(session: Session, batch: EntryBatch, idempotency_key: str) -> PostResult | None:
    """The earlier post of a repeated key, if its input was the same; a repeated key with other
    input is refused (a correction is a new entry, never a second post under the same key)."""
    existing = session.execute(
        select(
            PostRequestRow.id, PostRequestRow.input_hash, PostRequestRow.first_entry_id, PostRequestRow.last_entry_id
        ).where(PostRequestRow.idempotency_key == idempotency_key)
    ).first()
    if existing is not None:
        if existing.input_hash != chain.input_hash(chain.entry_content_texts(batch)):
            raise DisburseError(
                tr(
                    "{key!r} was posted before with different content; "
                    "nothing was posted (a correction is a reversing entry)",
                    key=idempotency_key,
                )
            )
        return PostResult(existing.id, tuple(range(existing.first_entry_id, existing.last_entry_id + 1)), created=False)
    return None


def _request_insert(
    session: Session,
    batch: EntryBatch,
    idempotency_key: str,
    entry_ids: list[int],
    user: str,
    created_at: dt.datetime,
) -> int:
    """Write the post request row; its input hash is blank until the last chunk of hashes gives it."""
    entry_count = batch.entry_count
    return session.execute(
        insert(PostRequestRow)
        .values(
            idempotency_key=idempotency_key,
            input_hash="",
            entry_count=entry_count,
            posting_count=batch.posting_count,
            first_entry_id=entry_ids[0],
            last_entry_id=entry_ids[-1],
            created_by=user,
            created_at=created_at,
        )
        .returning(PostRequestRow.id)
    ).scalar_one()


def _chunks_write(
    session: Session,
    chunks: Iterable[chain.HashChunk],
    batch: EntryBatch,
    entry_values: list[list],
    posting_values: list[list],
) -> chain.HashChunk | None:
    """Write each chunk of entries (with its hashes) and their postings as the chunks arrive;
    return the final chunk, which carries the input hash and the new chain heads."""
    final: chain.HashChunk | None = None
    posting_starts = batch.posting_starts.tolist()
    for chunk in chunks:
        if chunk.input_hash is not None:
            final = chunk
            continue
        assert len(chunk.hashes) == chunk.end - chunk.start
        low, high = posting_starts[chunk.start], posting_starts[chunk.end]
        columns_insert(
            session,
            "journal_entries",
            ENTRY_COLUMNS,
            [column[chunk.start : chunk.end] for column in entry_values] + [chunk.hashes],
        )
        columns_insert(session, "postings", POSTING_COLUMNS, [column[low:high] for column in posting_values])
    return final


def _row_columns(
    session: Session,
    batch: EntryBatch,
    entry_ids: list[int],
    entity_ids: list[int],
    voucher_numbers: list[int],
    request_id: int,
) -> tuple[list[list], list[list]]:
    """The entries' columns (in ENTRY_COLUMNS order, less the hash) and the postings' columns
    (in POSTING_COLUMNS order), as plain lists for the bulk insert."""
    if session.get_bind().dialect.name == "sqlite":
        # sqlite3's default date adapter is deprecated; write the ISO text SQLAlchemy reads back.
        date_text = {value: value.isoformat() for value in set(batch.entry_date)}
        dates: list = [date_text[value] for value in batch.entry_date]
    else:
        dates = batch.entry_date
    entry_values = [
        entry_ids,
        entity_ids,
        batch.period,
        dates,
        voucher_numbers,
        batch.memo,
        batch.source_kind,
        batch.source_reference,
        batch.reverses_entry_id,
        [request_id] * batch.entry_count,
        np.diff(batch.posting_starts).tolist(),
    ]
    starts = batch.posting_starts
    line_numbers = np.arange(batch.posting_count, dtype=np.int64) - starts[batch.posting_entry_index] + 1
    entry_id_array = np.asarray(entry_ids, dtype=np.int64)
    posting_values = [
        entry_id_array[batch.posting_entry_index].tolist(),
        line_numbers.tolist(),
        batch.account_code,
        batch.amount_fen.tolist(),
        batch.household_id,
        batch.fund_source,
        batch.payment_reference,
    ]
    return entry_values, posting_values


ENTRY_COLUMNS = (
    "id",
    "entity_id",
    "period",
    "entry_date",
    "voucher_number",
    "memo",
    "source_kind",
    "source_reference",
    "reverses_entry_id",
    "post_request_id",
    "posting_count",
    "entry_hash",
)
POSTING_COLUMNS = (
    "entry_id",
    "line_number",
    "account_code",
    "amount_fen",
    "household_id",
    "fund_source",
    "payment_reference",
)


def _check_written(session: Session, entry_ids: list[int], batch: EntryBatch) -> None:
    """Read back what was written (the pair of the check before writing): every entry of the
    request balances and has the postings it declares."""
    written_entries, written_postings, unbalanced = session.execute(
        text(
            "SELECT count(*), coalesce(sum(lines), 0), coalesce(sum(CASE WHEN total <> 0 OR lines < 2 THEN 1 ELSE 0 "
            "END), 0) FROM (SELECT entry_id, count(*) AS lines, sum(amount_fen) AS total FROM postings "
            "WHERE entry_id BETWEEN :first AND :last GROUP BY entry_id) AS written"
        ),
        {"first": entry_ids[0], "last": entry_ids[-1]},
    ).one()
    # The same property as entries_check_balanced, on what the database now holds.
    assert (written_entries, written_postings, unbalanced) == (batch.entry_count, batch.posting_count, 0), (
        written_entries,
        written_postings,
        unbalanced,
    )


def _chain_starts(session: Session, entity_ids: list[int]) -> dict[int, chain.ChainStart]:
    """Where each entity's chain stands now."""
    heads = {
        row.entity_id: (row.last_sequence, row.head_hash)
        for row in session.execute(
            select(ChainHeadRow.entity_id, ChainHeadRow.last_sequence, ChainHeadRow.head_hash).where(
                ChainHeadRow.entity_id.in_(entity_ids)
            )
        )
    }
    return {
        entity_id: chain.ChainStart(heads[entity_id][1], heads[entity_id][0] + 1)
        if entity_id in heads
        else chain.ChainStart(GENESIS_HASH, 1)
        for entity_id in entity_ids
    }


def _move_chain_heads(
    session: Session, starts: dict[int, chain.ChainStart], heads: dict[int, str], entries_per_entity: dict[int, int]
) -> None:
    """Each entity's chain head moves to its last new entry, in the same transaction."""
    for entity_id, start in starts.items():
        values = dict(
            last_sequence=start.first_position - 1 + entries_per_entity[entity_id], head_hash=heads[entity_id]
        )
        if start.first_position > 1:
            session.execute(ChainHeadRow.__table__.update().where(ChainHeadRow.entity_id == entity_id).values(**values))
        else:
            session.execute(insert(ChainHeadRow).values(entity_id=entity_id, **values))


def _assign_voucher_numbers(session: Session, batch: EntryBatch, entity_ids: list[int]) -> list[int]:
    """Gap-free voucher numbers per entity and period, in date order within a period (entries
    of the same date keep their batch order, which is how a clerk entered them); moves the
    counters on in the same transaction. A later post continues after the numbers already
    given: posted vouchers are never renumbered, since the chain covers their numbers."""
    distinct_entities = sorted(set(entity_ids))
    counters = {
        (row.entity_id, row.period): row.last_number
        for row in session.execute(
            select(VoucherCounterRow.entity_id, VoucherCounterRow.period, VoucherCounterRow.last_number).where(
                VoucherCounterRow.entity_id.in_(distinct_entities),
                VoucherCounterRow.period.in_(sorted(set(batch.period))),
            )
        )
    }
    distinct_periods = set(batch.period)
    if len(distinct_periods) == 1 and len(distinct_entities) == 1 and len(set(batch.entry_date)) == 1:
        # One entity, one period, one date (a run's or a batch's usual post): batch order.
        key = (distinct_entities[0], next(iter(distinct_periods)))
        start_number = counters.get(key, 0)
        _move_voucher_counter(session, key, key in counters, start_number + batch.entry_count)
        return list(range(start_number + 1, start_number + batch.entry_count + 1))
    # Number each entry within its (entity, period) group by date, then batch order: a stable
    # sort by group and date rank, each entry's rank in its group's run, then back to batch order.
    import pandas as pd

    period_codes, periods = pd.factorize(pd.Series(batch.period, dtype=object), sort=False)
    entity_codes, entities = pd.factorize(pd.Series(entity_ids, dtype=np.int64), sort=False)
    date_ranks, _ = pd.factorize(pd.Series(batch.entry_date, dtype=object), sort=True)
    groups = entity_codes.astype(np.int64) * len(periods) + period_codes
    order = np.lexsort((date_ranks, groups))  # lexsort is stable: equal keys keep batch order
    sorted_groups = groups[order]
    run_starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    run_lengths = np.diff(np.r_[run_starts, len(groups)])
    ranks = np.empty(len(groups), dtype=np.int64)
    ranks[order] = np.arange(len(groups), dtype=np.int64) - np.repeat(run_starts, run_lengths)
    group_keys = [
        (int(entities[group // len(periods)]), str(periods[group % len(periods)]))
        for group in sorted_groups[run_starts].tolist()
    ]
    start_numbers = np.asarray([counters.get(key, 0) for key in group_keys], dtype=np.int64)
    offsets = np.empty(len(groups), dtype=np.int64)
    offsets[order] = np.repeat(start_numbers, run_lengths)
    voucher_numbers = (ranks + 1 + offsets).tolist()
    for key, start_number, length in zip(group_keys, start_numbers.tolist(), run_lengths.tolist()):
        _move_voucher_counter(session, key, key in counters, start_number + length)
    return voucher_numbers


def _move_voucher_counter(session: Session, key: tuple[int, str], exists: bool, last_number: int) -> None:
    if exists:
        session.execute(
            VoucherCounterRow.__table__.update()
            .where(VoucherCounterRow.entity_id == key[0], VoucherCounterRow.period == key[1])
            .values(last_number=last_number)
        )
    else:
        session.execute(insert(VoucherCounterRow).values(entity_id=key[0], period=key[1], last_number=last_number))
