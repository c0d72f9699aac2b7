"""``disburse verify``: recompute every chain and every balance from what is stored.

A change made behind the engine's back (a direct UPDATE, DELETE or INSERT by someone who
dropped the triggers) breaks a hash, a balance or the chain head, and the first
entry it breaks is named. Because anyone with write access could also recompute every hash,
the head hash of each chain is printed for an auditor to write down, and ``--expect`` checks
the chain against a head written down earlier. Signed checkpoints (schema/checkpoints.py) check
the chain against the heads a key outside the database signed, using ``recomputed_hashes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from disburse.foundation.i18n import tr
from disburse.ledger import chain
from disburse.ledger.model import entries_check_balanced
from disburse.ledger.reading import chain_windows
from disburse.ledger.tables import GENESIS_HASH, ChainHeadRow, EntityRow, PeriodRow


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The verification of one entity's books: how many entries, the head, the first break."""

    entity_code: str
    entry_count: int
    posting_count: int
    head_sequence: int
    head_hash: str
    problems: tuple[str, ...]
    entity_id: int = 0
    # Every entry's hash recomputed from its content, in chain order: a signed checkpoint's
    # heads are checked against these (schema/checkpoints.py).
    recomputed_hashes: list[str] = field(default_factory=list, repr=False)

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass
class _Walk:
    """What verify has learnt of one entity's chain so far, window by window: the recomputed
    hashes, the last stored hash that matched and each matching hash's position, and the first
    problem of each kind (the walk of stored hashes stops at the first that differs)."""

    entity_code: str
    closed: list[tuple[str, int, str]]
    previous: str = GENESIS_HASH
    recomputed: list[str] = field(default_factory=list)
    seen_hashes: dict[str, int] = field(default_factory=dict)
    broken: str | None = None
    miscounted: str | None = None
    unbalanced: str | None = None
    # Per closed period: the first entry dated into it but posted after its close, and how many.
    late: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    entry_total: int = 0
    posting_total: int = 0


def _walk_hashes(walk: _Walk, columns, recomputed: list[str]) -> None:  # type: ignore[no-untyped-def]
    batch = columns.batch
    for index, (entry_id, stored, computed) in enumerate(zip(columns.entry_ids, columns.entry_hashes, recomputed)):
        position = batch.first_position + index
        if stored != computed:
            walk.broken = tr(
                "{entity} entry id {entry} ({label}, chain position {position}): its hash does not match its "
                "content and its predecessor; it was changed, or an entry before it was removed or inserted, "
                "after posting",
                entity=walk.entity_code,
                entry=entry_id,
                label=batch.label[index],
                position=position,
            )
            return
        walk.seen_hashes[computed] = position
        walk.previous = computed


def _check_counts_and_balances(walk: _Walk, columns) -> None:  # type: ignore[no-untyped-def]
    batch = columns.batch
    actual_counts = np.diff(batch.posting_starts)
    mismatched = np.flatnonzero(actual_counts != np.asarray(columns.declared_posting_counts, dtype=np.int64))
    if mismatched.size and walk.miscounted is None:
        index = int(mismatched[0])
        walk.miscounted = tr(
            "{entity} {source}: holds {held} postings, {posted} were posted",
            entity=walk.entity_code,
            source=batch.entry_source(index),
            held=actual_counts[index],
            posted=columns.declared_posting_counts[index],
        )
    if walk.unbalanced is None:
        _, balance_errors = entries_check_balanced(batch)
        if balance_errors:
            walk.unbalanced = f"{walk.entity_code} {balance_errors[0]}"


def _find_late(walk: _Walk, batch) -> None:  # type: ignore[no-untyped-def]
    """Entries after the chain position recorded at a period's close that are dated into or
    before it: posted into a closed period behind the engine's back (the triggers refuse it)."""
    for period, sequence, _ in walk.closed:
        local = max(sequence - (batch.first_position - 1), 0)
        periods = np.asarray(batch.period[local:], dtype=object)
        late = np.flatnonzero(periods <= period) if len(periods) else np.array([], dtype=np.int64)
        if not late.size:
            continue
        source, dated, count = walk.late.get(period) or ("", "", 0)
        if not count:
            index = local + int(late[0])
            source, dated = batch.entry_source(index), batch.period[index]
        walk.late[period] = (source, dated, count + int(late.size))


def _closed_head_gone(entity_code: str, period: str, hash_at_close: str) -> str:
    return tr(
        "{entity}: the head recorded when {period} was closed ({head}…) is no longer in the chain",
        entity=entity_code,
        period=period,
        head=hash_at_close[:16],
    )


def _walk_entity(session: Session, entity_id: int, entity_code: str) -> _Walk:
    """Recompute one entity's chain, counts and balances, a window of entries at a time."""
    closed = session.execute(
        select(PeriodRow.period, PeriodRow.head_sequence, PeriodRow.head_hash).where(
            PeriodRow.entity_id == entity_id, PeriodRow.status == "closed"
        )
    ).all()
    walk = _Walk(entity_code, [(period, sequence or 0, head or "") for period, sequence, head in closed])
    for columns in chain_windows(session, entity_id):
        batch = columns.batch
        recomputed = chain.chain_hashes(
            walk.recomputed[-1] if walk.recomputed else GENESIS_HASH,
            chain.entry_content_texts(batch),
            columns.voucher_numbers,
            batch.first_position,
            columns.created_by,
            columns.created_at,
        )
        if walk.broken is None:
            _walk_hashes(walk, columns, recomputed)
        _check_counts_and_balances(walk, columns)
        _find_late(walk, batch)
        walk.recomputed.extend(recomputed)
        walk.entry_total += batch.entry_count
        walk.posting_total += batch.posting_count
    return walk


def verify_entity(
    session: Session, entity_id: int, entity_code: str, expected_heads: tuple[str, ...] = ()
) -> ChainReport:
    """Recompute one entity's chain and balances; name the first entry that breaks."""
    walk = _walk_entity(session, entity_id, entity_code)
    problems = [problem for problem in (walk.broken, walk.miscounted, walk.unbalanced) if problem]
    head = session.execute(
        select(ChainHeadRow.last_sequence, ChainHeadRow.head_hash).where(ChainHeadRow.entity_id == entity_id)
    ).first()
    head_sequence, head_hash = (head.last_sequence, head.head_hash) if head else (0, GENESIS_HASH)
    if not problems and (head_sequence != walk.entry_total or head_hash != walk.previous):
        problems.append(
            tr(
                "{entity}: the chain head says {head_count} entries ending in {head}…, the journal holds "
                "{count} ending in {last}…; entries were removed or added at the end",
                entity=entity_code,
                head_count=head_sequence,
                head=head_hash[:16],
                count=walk.entry_total,
                last=walk.previous[:16],
            )
        )
    for period, sequence, hash_at_close in walk.closed:
        if hash_at_close and hash_at_close != GENESIS_HASH and walk.seen_hashes.get(hash_at_close) != sequence:
            problems.append(_closed_head_gone(entity_code, period, hash_at_close))
        if period in walk.late:
            source, dated, count = walk.late[period]
            problems.append(
                tr(
                    "{entity} {source}: dated into {dated}, but posted after {period} was closed ({count:,} such "
                    "entries); closed periods never change",
                    entity=entity_code,
                    source=source,
                    dated=dated,
                    period=period,
                    count=count,
                )
            )
    for expected in expected_heads:
        if expected not in walk.seen_hashes:
            problems.append(
                tr(
                    "{entity}: the expected head {head}… is not in the chain; the books were rewritten "
                    "since it was noted",
                    entity=entity_code,
                    head=expected[:16],
                )
            )
    return ChainReport(
        entity_code=entity_code,
        entry_count=walk.entry_total,
        posting_count=walk.posting_total,
        head_sequence=walk.entry_total,
        head_hash=walk.previous,
        problems=tuple(problems),
        entity_id=entity_id,
        recomputed_hashes=walk.recomputed,
    )


def verify_books(session: Session, expected: dict[str, list[str]] | None = None) -> list[ChainReport]:
    """Verify every entity's books. ``expected`` maps entity codes to head hashes noted earlier."""
    expected = expected or {}
    entities = session.execute(select(EntityRow.id, EntityRow.code).order_by(EntityRow.code)).all()
    known = {code for _, code in entities}
    reports = [verify_entity(session, entity_id, code, tuple(expected.get(code, ()))) for entity_id, code in entities]
    for code in sorted(set(expected) - known):
        reports.append(ChainReport(code, 0, 0, 0, GENESIS_HASH, (tr("{code}: no such entity", code=code),)))
    return reports
