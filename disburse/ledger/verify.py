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
from disburse.ledger.reading import load_chain
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


def _walk_chain(entity_code: str, columns, recomputed, problems: list[str]) -> tuple[str, dict[str, int]]:  # type: ignore[no-untyped-def]
    """The last hash that matches and every matching hash's position; the first entry whose stored
    hash differs from the recomputed one is named in ``problems``, and the walk stops there."""
    previous = GENESIS_HASH
    seen_hashes: dict[str, int] = {}
    batch = columns.batch
    for index, (entry_id, stored, computed) in enumerate(zip(columns.entry_ids, columns.entry_hashes, recomputed)):
        if stored != computed:
            problems.append(
                tr(
                    "{entity} entry id {entry} ({label}, chain position {position}): its hash does not match its "
                    "content and its predecessor; it was changed, or an entry before it was removed or inserted, "
                    "after posting",
                    entity=entity_code,
                    entry=entry_id,
                    label=batch.label[index],
                    position=index + 1,
                )
            )
            break
        seen_hashes[computed] = index + 1
        previous = computed
    return previous, seen_hashes


def _closed_head_gone(entity_code: str, period: str, hash_at_close: str) -> str:
    return tr(
        "{entity}: the head recorded when {period} was closed ({head}…) is no longer in the chain",
        entity=entity_code,
        period=period,
        head=hash_at_close[:16],
    )


def verify_entity(
    session: Session, entity_id: int, entity_code: str, expected_heads: tuple[str, ...] = ()
) -> ChainReport:
    """Recompute one entity's chain and balances; name the first entry that breaks."""
    columns = load_chain(session, entity_id)
    batch = columns.batch
    problems: list[str] = []
    contents = chain.entry_content_texts(batch)
    recomputed = chain.chain_hashes(
        GENESIS_HASH, contents, columns.voucher_numbers, 1, columns.created_by, columns.created_at
    )
    previous, seen_hashes = _walk_chain(entity_code, columns, recomputed, problems)
    actual_counts = np.diff(batch.posting_starts)
    mismatched = np.flatnonzero(actual_counts != np.asarray(columns.declared_posting_counts, dtype=np.int64))
    if mismatched.size:
        index = int(mismatched[0])
        problems.append(
            tr(
                "{entity} {source}: holds {held} postings, {posted} were posted",
                entity=entity_code,
                source=batch.entry_source(index),
                held=actual_counts[index],
                posted=columns.declared_posting_counts[index],
            )
        )
    _, balance_errors = entries_check_balanced(batch)
    if balance_errors:
        problems.append(f"{entity_code} {balance_errors[0]}")
    head = session.execute(
        select(ChainHeadRow.last_sequence, ChainHeadRow.head_hash).where(ChainHeadRow.entity_id == entity_id)
    ).first()
    head_sequence, head_hash = (head.last_sequence, head.head_hash) if head else (0, GENESIS_HASH)
    entry_total = len(columns.entry_ids)
    if not problems and (head_sequence != entry_total or head_hash != previous):
        problems.append(
            tr(
                "{entity}: the chain head says {head_count} entries ending in {head}…, the journal holds "
                "{count} ending in {last}…; entries were removed or added at the end",
                entity=entity_code,
                head_count=head_sequence,
                head=head_hash[:16],
                count=entry_total,
                last=previous[:16],
            )
        )
    closed_heads = session.execute(
        select(PeriodRow.period, PeriodRow.head_sequence, PeriodRow.head_hash).where(
            PeriodRow.entity_id == entity_id, PeriodRow.status == "closed"
        )
    ).all()
    for period, sequence, hash_at_close in closed_heads:
        if hash_at_close and hash_at_close != GENESIS_HASH and seen_hashes.get(hash_at_close) != sequence:
            problems.append(_closed_head_gone(entity_code, period, hash_at_close))
        problems.extend(_posted_after_close(entity_code, batch, period, sequence or 0))
    for expected in expected_heads:
        if expected not in seen_hashes:
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
        entry_count=entry_total,
        posting_count=batch.posting_count,
        head_sequence=entry_total,
        head_hash=previous,
        problems=tuple(problems),
        entity_id=entity_id,
        recomputed_hashes=recomputed,
    )


def _posted_after_close(entity_code: str, batch, period: str, sequence: int) -> list[str]:  # type: ignore[no-untyped-def]
    """An entry after the chain position recorded at the close of ``period`` that is dated into
    or before it: posted into a closed period behind the engine's back (the triggers refuse it)."""
    periods = np.asarray(batch.period[sequence:], dtype=object)
    late = np.flatnonzero(periods <= period) if len(periods) else np.array([], dtype=np.int64)
    if not late.size:
        return []
    index = sequence + int(late[0])
    return [
        tr(
            "{entity} {source}: dated into {dated}, but posted after {period} was closed ({count:,} such entries); "
            "closed periods never change",
            entity=entity_code,
            source=batch.entry_source(index),
            dated=batch.period[index],
            period=period,
            count=late.size,
        )
    ]


def verify_books(session: Session, expected: dict[str, list[str]] | None = None) -> list[ChainReport]:
    """Verify every entity's books. ``expected`` maps entity codes to head hashes noted earlier."""
    expected = expected or {}
    entities = session.execute(select(EntityRow.id, EntityRow.code).order_by(EntityRow.code)).all()
    known = {code for _, code in entities}
    reports = [verify_entity(session, entity_id, code, tuple(expected.get(code, ()))) for entity_id, code in entities]
    for code in sorted(set(expected) - known):
        reports.append(ChainReport(code, 0, 0, 0, GENESIS_HASH, (tr("{code}: no such entity", code=code),)))
    return reports
