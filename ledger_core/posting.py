"""The bulk poster: the only code that writes journal entries and postings.

One call posts a whole batch atomically (inside the caller's transaction; it never commits),
with bulk inserts (sqlite3 executemany, PostgreSQL COPY), idempotent by a caller-given key
stored with a hash of the input. Every entry is checked balanced before it is written and the
written sums are read back before the caller commits (on PostgreSQL a deferred constraint
trigger checks them once more at commit).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from ledger_core import chain
from ledger_core.bulk import bulk_insert
from ledger_core.model import (
    DIMENSION_LENGTH_MAX,
    ENTRIES_PER_POST_MAX,
    FORBIDDEN_TEXT_CHARACTERS,
    MEMO_LENGTH_MAX,
    POSTINGS_PER_ENTRY_MAX,
    POSTINGS_PER_POST_MAX,
    SOURCE_REFERENCE_LENGTH_MAX,
    DisburseError,
    EntryBatch,
    LedgerError,
    entries_check_balanced,
    period_of,
    period_problem,
)
from ledger_core.tables import (
    GENESIS_HASH,
    AccountRow,
    ChainHeadRow,
    EntityRow,
    PeriodRow,
    PostRequestRow,
    VoucherCounterRow,
)

USER_LENGTH_MAX = 64
IDEMPOTENCY_KEY_LENGTH_MAX = 200
ERRORS_SHOWN_MAX = 50
# PostgreSQL serialises posters with one advisory lock (numbering and chains are per entity,
# but posting is batch work where waiting a moment is cheaper than a deadlock). SQLite already
# serialises writers with BEGIN IMMEDIATE.
POSTGRESQL_POSTING_LOCK = 7_305_202_611


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
    closed_periods: frozenset[tuple[str, str]]


def batch_check_shape(batch: EntryBatch, context: PostContext) -> tuple[EntryBatch, list[LedgerError]]:
    """Entities, accounts, periods, dates, text lengths and limits of every entry. Each check
    runs over the distinct values (a bulk post repeats them), and looks for the first entry
    holding a bad value only when there is one."""
    errors: list[LedgerError] = []
    if batch.entry_count == 0:
        errors.append(LedgerError("batch", "has no entries"))
    if batch.entry_count > ENTRIES_PER_POST_MAX:
        errors.append(LedgerError("batch", f"has {batch.entry_count:,} entries; at most {ENTRIES_PER_POST_MAX:,} per post"))
    if batch.posting_count > POSTINGS_PER_POST_MAX:
        errors.append(LedgerError("batch", f"has {batch.posting_count:,} postings; at most {POSTINGS_PER_POST_MAX:,} per post"))
    counts = np.diff(batch.posting_starts)
    for index in np.flatnonzero(counts > POSTINGS_PER_ENTRY_MAX).tolist():
        errors.append(LedgerError(batch.entry_source(index), f"has {counts[index]:,} postings; at most {POSTINGS_PER_ENTRY_MAX:,}"))

    for key in sorted(set(zip(batch.entity_code, batch.period, batch.entry_date)), key=str):
        entity_code, period, entry_date = key
        problems = []
        if entity_code not in context.entity_ids:
            problems.append(f"entity {entity_code!r} does not exist")
        problem = period_problem(period)
        if problem:
            problems.append(problem)
        elif not isinstance(entry_date, dt.date) or period_of(entry_date) != period:
            problems.append(f"date {entry_date} is not in period {period}")
        if (entity_code, period) in context.closed_periods:
            problems.append(f"period {period} of {entity_code} is closed; post into an open period")
        if problems:
            index = list(zip(batch.entity_code, batch.period, batch.entry_date)).index(key)
            errors.extend(LedgerError(batch.entry_source(index), problem, index) for problem in problems)

    for name, values, limit in (
        ("memo", batch.memo, MEMO_LENGTH_MAX),
        ("source reference", batch.source_reference, SOURCE_REFERENCE_LENGTH_MAX),
    ):
        for value in set(values):
            if len(value) > limit:
                index = values.index(value)
                errors.append(LedgerError(batch.entry_source(index), f"{name} is {len(value)} characters; at most {limit}", index))
            if any(character in value for character in FORBIDDEN_TEXT_CHARACTERS):
                index = values.index(value)
                errors.append(LedgerError(batch.entry_source(index), f"{name} contains a control character", index))

    entry_of_posting = batch.posting_entry_index
    for code in sorted(set(batch.account_code) - context.account_codes):
        index = int(entry_of_posting[batch.account_code.index(code)])
        errors.append(LedgerError(batch.entry_source(index), f"account {code!r} is not in the chart of accounts", index))
    for name in ("household_id", "fund_source", "payment_reference"):
        limit = DIMENSION_LENGTH_MAX[name]
        values = getattr(batch, name)
        for value in set(values):
            if value is not None and (not isinstance(value, str) or len(value) > limit or value == ""):
                index = int(entry_of_posting[values.index(value)])
                errors.append(LedgerError(batch.entry_source(index), f"{name} {value!r} must be 1 to {limit} characters", index))
    return batch, errors


def load_post_context(session: Session, batch: EntryBatch) -> PostContext:
    entity_codes = sorted(set(batch.entity_code))
    entity_ids = dict(
        session.execute(select(EntityRow.code, EntityRow.id).where(EntityRow.code.in_(entity_codes))).all()
    )
    account_codes = frozenset(session.scalars(select(AccountRow.code)).all())
    closed = session.execute(
        select(EntityRow.code, PeriodRow.period)
        .join(PeriodRow, PeriodRow.entity_id == EntityRow.id)
        .where(PeriodRow.status == "closed", EntityRow.code.in_(entity_codes))
    ).all()
    return PostContext(entity_ids, account_codes, frozenset((code, period) for code, period in closed))


def refuse(errors: list[LedgerError], what: str = "entries") -> DisburseError:
    """A refusal listing the first problems; the full list travels with the error."""
    shown = "\n".join(f"  {error}" for error in errors[:ERRORS_SHOWN_MAX])
    more = f"\n  … and {len(errors) - ERRORS_SHOWN_MAX:,} more" if len(errors) > ERRORS_SHOWN_MAX else ""
    return DisburseError(f"{len(errors):,} problem(s); nothing was posted:\n{shown}{more}", errors)


def _lock_posting(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRESQL_POSTING_LOCK})


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
    if not user or len(user) > USER_LENGTH_MAX:
        raise DisburseError(f"a user name of 1 to {USER_LENGTH_MAX} characters is required (--user or DISBURSE_USER)")
    if not idempotency_key or len(idempotency_key) > IDEMPOTENCY_KEY_LENGTH_MAX:
        raise DisburseError(f"idempotency key must be 1 to {IDEMPOTENCY_KEY_LENGTH_MAX} characters")
    created_at = (now or dt.datetime.now(dt.timezone.utc)).replace(tzinfo=None)

    _lock_posting(session)
    content_texts = chain.entry_content_texts(batch)
    request_hash = chain.input_hash(content_texts)
    existing = session.execute(
        select(PostRequestRow.id, PostRequestRow.input_hash, PostRequestRow.first_entry_id, PostRequestRow.last_entry_id).where(
            PostRequestRow.idempotency_key == idempotency_key
        )
    ).first()
    if existing is not None:
        if existing.input_hash != request_hash:
            raise DisburseError(
                f"{idempotency_key!r} was posted before with different content; "
                "nothing was posted (a correction is a reversing entry)"
            )
        return PostResult(existing.id, tuple(range(existing.first_entry_id, existing.last_entry_id + 1)), created=False)

    context = load_post_context(session, batch)
    errors: list[LedgerError] = []
    for check in (batch_check_shape, entries_check_balanced):
        batch, found = check(batch, context)
        errors.extend(found)
    if errors:
        raise refuse(errors)

    codes, distinct_codes = pd.factorize(pd.Series(batch.entity_code, dtype=object))
    entity_ids = np.asarray([context.entity_ids[code] for code in distinct_codes], dtype=np.int64)[codes]
    voucher_numbers, entry_hashes = _assign_numbers(session, batch, entity_ids, content_texts, user, created_at)
    first_id = session.execute(text("SELECT coalesce(max(id), 0) + 1 FROM journal_entries")).scalar_one()
    entry_ids = list(range(first_id, first_id + batch.entry_count))
    request_id = session.execute(
        insert(PostRequestRow)
        .values(
            idempotency_key=idempotency_key,
            input_hash=request_hash,
            entry_count=batch.entry_count,
            posting_count=batch.posting_count,
            first_entry_id=entry_ids[0],
            last_entry_id=entry_ids[-1],
            created_by=user,
            created_at=created_at,
        )
        .returning(PostRequestRow.id)
    ).scalar_one()

    posting_counts = np.diff(batch.posting_starts).tolist()
    if session.get_bind().dialect.name == "sqlite":
        # sqlite3's default date adapter is deprecated; write the ISO text SQLAlchemy reads back.
        date_text = {value: value.isoformat() for value in set(batch.entry_date)}
        dates: list = [date_text[value] for value in batch.entry_date]
    else:
        dates = batch.entry_date
    entry_rows = list(
        zip(
            entry_ids,
            entity_ids.tolist(),
            batch.period,
            dates,
            voucher_numbers,
            batch.memo,
            batch.source_kind,
            batch.source_reference,
            batch.reverses_entry_id,
            [request_id] * batch.entry_count,
            posting_counts,
            entry_hashes,
        )
    )
    starts = batch.posting_starts
    line_numbers = (np.arange(batch.posting_count, dtype=np.int64) - starts[batch.posting_entry_index] + 1)
    entry_id_array = np.asarray(entry_ids, dtype=np.int64)
    posting_rows = list(
        zip(
            entry_id_array[batch.posting_entry_index].tolist(),
            line_numbers.tolist(),
            batch.account_code,
            batch.amount_fen.tolist(),
            batch.household_id,
            batch.fund_source,
            batch.payment_reference,
        )
    )
    _bulk_insert(session, entry_rows, posting_rows)
    _check_written(session, entry_ids, batch)
    return PostResult(request_id, tuple(entry_ids), created=True)


ENTRY_COLUMNS = (
    "id", "entity_id", "period", "entry_date", "voucher_number", "memo", "source_kind",
    "source_reference", "reverses_entry_id", "post_request_id", "posting_count", "entry_hash",
)
POSTING_COLUMNS = (
    "entry_id", "line_number", "account_code", "amount_fen", "household_id", "fund_source",
    "payment_reference",
)


def _bulk_insert(session: Session, entry_rows: list[tuple], posting_rows: list[tuple]) -> None:
    """Write rows with the driver's fastest path, inside the session's transaction."""
    bulk_insert(session, "journal_entries", ENTRY_COLUMNS, entry_rows)
    bulk_insert(session, "postings", POSTING_COLUMNS, posting_rows)


def _check_written(session: Session, entry_ids: list[int], batch: EntryBatch) -> None:
    """Read back what was written (the pair of the check before writing): every entry of the
    request balances and has the postings it declares."""
    written_entries, written_postings, unbalanced = session.execute(
        text(
            "SELECT count(*), coalesce(sum(lines), 0), coalesce(sum(CASE WHEN total <> 0 OR lines < 2 THEN 1 ELSE 0 END), 0) "
            "FROM (SELECT entry_id, count(*) AS lines, sum(amount_fen) AS total FROM postings "
            "WHERE entry_id BETWEEN :first AND :last GROUP BY entry_id) AS written"
        ),
        {"first": entry_ids[0], "last": entry_ids[-1]},
    ).one()
    # The same property as entries_check_balanced, on what the database now holds.
    assert (written_entries, written_postings, unbalanced) == (batch.entry_count, batch.posting_count, 0), (
        written_entries, written_postings, unbalanced)


def _assign_numbers(
    session: Session,
    batch: EntryBatch,
    entity_ids: np.ndarray,
    content_texts: list[str],
    user: str,
    created_at: dt.datetime,
) -> tuple[list[int], list[str]]:
    """Gap-free voucher numbers per entity and period and the chain hashes per entity; moves the
    heads and counters on in the same transaction."""
    distinct_entities = sorted(set(entity_ids.tolist()))
    heads = {
        row.entity_id: (row.last_sequence, row.head_hash)
        for row in session.execute(
            select(ChainHeadRow.entity_id, ChainHeadRow.last_sequence, ChainHeadRow.head_hash).where(
                ChainHeadRow.entity_id.in_(distinct_entities)
            )
        )
    }
    counters = {
        (row.entity_id, row.period): row.last_number
        for row in session.execute(
            select(VoucherCounterRow.entity_id, VoucherCounterRow.period, VoucherCounterRow.last_number).where(
                VoucherCounterRow.entity_id.in_(distinct_entities), VoucherCounterRow.period.in_(sorted(set(batch.period)))
            )
        )
    }
    frame = pd.DataFrame({"entity": entity_ids, "period": batch.period})
    group = frame.groupby(["entity", "period"], sort=False)
    if counters:
        start_numbers = np.fromiter(
            (counters.get(key, 0) for key in zip(frame["entity"].tolist(), frame["period"].tolist())),
            dtype=np.int64,
            count=len(frame),
        )
    else:
        start_numbers = np.zeros(len(frame), dtype=np.int64)
    voucher_numbers = (group.cumcount().to_numpy(dtype=np.int64) + 1 + start_numbers).tolist()

    entry_hashes: list[str] = [""] * batch.entry_count
    created_by = [user] * batch.entry_count
    created_at_column = [created_at] * batch.entry_count
    for entity_id in distinct_entities:
        last_sequence, previous = heads.get(entity_id, (0, GENESIS_HASH))
        if len(distinct_entities) == 1:
            positions = range(batch.entry_count)
        else:
            positions = np.flatnonzero(entity_ids == entity_id).tolist()
        hashes = chain.chain_hashes(
            previous,
            [content_texts[i] for i in positions] if len(distinct_entities) > 1 else content_texts,
            [voucher_numbers[i] for i in positions] if len(distinct_entities) > 1 else voucher_numbers,
            last_sequence + 1,
            created_by,
            created_at_column,
        )
        for position, value in zip(positions, hashes):
            entry_hashes[position] = value
        values = dict(last_sequence=last_sequence + len(hashes), head_hash=hashes[-1])
        if entity_id in heads:
            session.execute(ChainHeadRow.__table__.update().where(ChainHeadRow.entity_id == entity_id).values(**values))
        else:
            session.execute(insert(ChainHeadRow).values(entity_id=entity_id, **values))

    last_numbers = frame.assign(number=voucher_numbers).groupby(["entity", "period"], sort=False)["number"].max()
    for (entity_id, period), last in last_numbers.items():
        key = (int(entity_id), period)
        if key in counters:
            session.execute(
                VoucherCounterRow.__table__.update()
                .where(VoucherCounterRow.entity_id == key[0], VoucherCounterRow.period == period)
                .values(last_number=int(last))
            )
        else:
            session.execute(insert(VoucherCounterRow).values(entity_id=key[0], period=period, last_number=int(last)))
    return voucher_numbers, entry_hashes
