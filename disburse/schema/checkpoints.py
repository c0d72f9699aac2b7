"""Signed checkpoints: tamper evidence for every money table, anchored outside the database.

A checkpoint records, at the end of a command that changed money (a post, a batch export, a
card fix, a period close and the other changes the CLI makes), the head of every entity's
journal chain, the audit-log head, and a digest of every money table: per table its row count,
a SHA-256 over its rows in primary-key order, and a digest per block of ``BLOCK_IDS`` primary
keys, so ``verify`` can name the block a change lies in ("payables ids 2001–3000"). It carries
the previous checkpoint's hash and an Ed25519 signature by a key kept in a file outside the
database. Whoever rewrites rows and recomputes every hash still cannot sign, so ``verify``
catches it; a forger who also swaps the public key is caught by the key file (when ``verify``
can read it) and by the head's short form printed on every book and 明白卡.

This module reads every stage's tables, so it sits at the schema level.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from disburse.audit.tables import AuditLogRow
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr
from disburse.foundation.locks import CHECKPOINT_LOCK, advisory_lock
from disburse.foundation.orm import Base, utc_now
from disburse.foundation.signing import SigningKey, key_load, public_key_fingerprint, sign, signature_valid
from disburse.ledger.tables import GENESIS_HASH, ChainHeadRow, CheckpointRow, SigningKeyRow
from disburse.ledger.verify import ChainReport

# The tables whose rows record money or who gets it. The journal (journal_entries, postings)
# has its own hash chain; its heads are in every checkpoint.
MONEY_TABLES: tuple[str, ...] = (
    "entities",
    "bank_accounts",
    "periods",
    "chain_heads",
    "voucher_submissions",
    "household_versions",
    "person_versions",
    "holdings",
    "pv_settlements",
    "allocation_runs",
    "allocation_lines",
    "allocation_steps",
    "settlement_allocations",
    "payables",
    "payment_batches",
    "payment_batch_files",
    "payment_instructions",
    "instruction_payables",
    "return_files",
    "return_lines",
    "card_fixes",
    "account_fixes",
    "statement_lines",
    "matches",
    "match_statement_lines",
    "match_postings",
    "match_instructions",
    "match_payment_references",
    "unmatched_postings",
)
TRIGGERS = ("post", "batch_export", "card_fix", "period_close", "change")
# The web's changes (web/base.py `change`), by the command name they are audited under, and the
# checkpoint each appends; a command not named here changes no money table (login, password …).
WEB_COMMAND_TRIGGERS: dict[str, str] = {
    "import bank-statement": "change",
    "reconcile": "change",
    "reconcile confirm": "change",
    "reconcile reject": "change",
    "payout prepare": "change",
    "payout approve": "post",
    "payout return": "change",
    "payout export": "batch_export",
    "payout fix-account": "card_fix",
    "runs approve": "change",
    "runs return": "change",
}
BLOCK_IDS = 1_000  # primary keys per block digest
FETCH_ROWS = 10_000  # rows read per round trip
TABLE_ROWS_MAX = 50_000_000  # a money table beyond this is refused a checkpoint, not read for hours
CHECKPOINTS_MAX = 10_000_000
DIFFERENCES_SHOWN_MAX = 10  # per table; the rest are counted
BLOCK_HASH_CHARS = 32  # 128 bits per block: collisions are out of reach, the digest stays small
SIGNED_PREFIX = "disburse-checkpoint-v1"
UNSIGNED_MARK = "未签名"
SHORT_HASH_CHARS = 12


# ------------------------------------------------------------------------------------- digests
@dataclass(frozen=True, slots=True)
class TableDigest:
    """One table's digest: the columns read, row count, SHA-256, and ``{block: (rows, hash)}``."""

    columns: tuple[str, ...]
    row_count: int
    sha256: str
    blocks: dict[int, tuple[int, str]]

    def as_json(self) -> dict:
        return {
            "columns": list(self.columns),
            "rows": self.row_count,
            "sha256": self.sha256,
            "blocks": {str(block): [rows, digest] for block, (rows, digest) in sorted(self.blocks.items())},
        }

    @classmethod
    def from_json(cls, value: dict) -> TableDigest:
        blocks = {int(block): (int(rows), str(digest)) for block, (rows, digest) in value["blocks"].items()}
        return cls(tuple(value["columns"]), int(value["rows"]), str(value["sha256"]), blocks)


def block_of(key: int) -> int:
    """The block of a primary key: ids 1–1000 are block 0, 1001–2000 block 1, …"""
    return (key - 1) // BLOCK_IDS


def block_text(block: int) -> str:
    return f"{block * BLOCK_IDS + 1}–{(block + 1) * BLOCK_IDS}"


def _chunks(session: Session, table: str, columns: Sequence[str], order: Sequence[str]) -> Iterator[list[tuple]]:
    """The table's rows (plain tuples from the driver, no ORM), ``FETCH_ROWS`` at a time, in
    primary-key order; a server-side cursor on PostgreSQL so memory stays flat."""
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    quoted = ", ".join(f'"{name}"' for name in columns)
    ordering = ", ".join(f'"{name}"' for name in order)
    sql = f'SELECT {quoted} FROM "{table}" ORDER BY {ordering}'
    postgresql = session.get_bind().dialect.name == "postgresql"
    cursor = raw.cursor(name=f"disburse_digest_{table}") if postgresql else raw.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(FETCH_ROWS):
            yield rows
    finally:
        cursor.close()


def table_digest(session: Session, table: str, columns: Sequence[str] | None = None) -> TableDigest:
    """Digest ``table`` over ``columns`` (all of its columns by default; a checkpoint's own list
    when verifying, so a column added by a later migration does not read as a change)."""
    schema_table = Base.metadata.tables[table]
    order = [column.name for column in schema_table.primary_key.columns]
    chosen = tuple(columns) if columns is not None else tuple(column.name for column in schema_table.columns)
    row_total = session.execute(select(func.count()).select_from(schema_table)).scalar_one()
    if row_total > TABLE_ROWS_MAX:
        raise DisburseError(
            tr(
                "{table} holds {count:,} rows, more than a checkpoint reads ({count_max:,})",
                table=table,
                count=row_total,
                count_max=TABLE_ROWS_MAX,
            )
        )
    # The first primary-key column leads the rendering, whatever the chosen columns, so blocks
    # are found from it.
    read = (order[0], *chosen)
    blocks: dict[int, tuple[int, str]] = {}
    current_block: int | None = None
    hasher = hashlib.sha256()
    block_rows = 0
    row_count = 0
    for rows in _chunks(session, table, read, order):
        keys = [row[0] for row in rows]
        start = 0
        while start < len(rows):
            block = block_of(keys[start])
            end = bisect.bisect_right(keys, (block + 1) * BLOCK_IDS, lo=start)
            if block != current_block:
                if current_block is not None:
                    blocks[current_block] = (block_rows, hasher.hexdigest()[:BLOCK_HASH_CHARS])
                current_block, hasher, block_rows = block, hashlib.sha256(), 0
            # One repr per row (a C call on a tuple): the same rows give the same text however
            # the fetches fall, and NULL (None) never reads as the text 'None'.
            hasher.update(("\n".join(map(repr, rows[start:end])) + "\n").encode("utf-8"))
            block_rows += end - start
            start = end
        row_count += len(rows)
    if current_block is not None:
        blocks[current_block] = (block_rows, hasher.hexdigest()[:BLOCK_HASH_CHARS])
    whole = hashlib.sha256(
        "".join(f"{block}:{rows}:{digest}\n" for block, (rows, digest) in sorted(blocks.items())).encode()
    ).hexdigest()
    return TableDigest(chosen, row_count, whole, blocks)


def money_digest(session: Session) -> dict[str, TableDigest]:
    return {table: table_digest(session, table) for table in MONEY_TABLES}


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_heads_now(session: Session) -> dict[str, list]:
    rows = session.execute(
        select(ChainHeadRow.entity_id, ChainHeadRow.last_sequence, ChainHeadRow.head_hash).order_by(
            ChainHeadRow.entity_id
        )
    ).all()
    return {str(entity): [int(sequence), head] for entity, sequence, head in rows}


# ----------------------------------------------------------------------------- hash and signing
def checkpoint_hash(row: CheckpointRow | dict) -> str:
    """The hash of a checkpoint: every column but the hash and the signature, in a fixed order."""
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    created_at: dt.datetime = get("created_at")
    parts = (
        str(get("sequence")),
        created_at.isoformat(timespec="microseconds"),
        get("created_by"),
        get("trigger"),
        get("command"),
        get("chain_heads"),
        get("audit_log_head") or "",
        get("money_digest"),
        get("previous_hash"),
        get("key_fingerprint"),
    )
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def signed_message(hash_hex: str) -> bytes:
    return f"{SIGNED_PREFIX}\x1f{hash_hex}".encode()


# ------------------------------------------------------------------------------------ appending
@dataclass(frozen=True, slots=True)
class CheckpointOutcome:
    """What appending did: the checkpoint's sequence and short hash, or why none was signed."""

    signed: bool
    sequence: int | None = None
    short_hash: str = UNSIGNED_MARK
    note: str = ""


def signing_key_register(session: Session, key: SigningKey, user: str) -> None:
    """Store the public half of ``key`` (once) so verify can check its signatures."""
    known = session.get(SigningKeyRow, key.fingerprint)
    if known is None:
        session.execute(
            insert(SigningKeyRow).values(
                fingerprint=key.fingerprint, public_key_hex=key.public_hex, created_by=user, created_at=utc_now()
            )
        )


def checkpoint_append(session: Session, trigger: str, command: str, user: str, key_path: Path) -> CheckpointOutcome:
    """Append a signed checkpoint in the caller's transaction (so it commits with the change it
    covers). Without a usable key file nothing is appended and the note says why: the change
    still stands, and verify will name what changed since the last signed checkpoint."""
    assert trigger in TRIGGERS, trigger
    key, reason = key_load(key_path)
    if key is None:
        return CheckpointOutcome(False, note=tr("no checkpoint was signed: {reason}", reason=reason))
    advisory_lock(session, CHECKPOINT_LOCK)
    session.flush()  # the digest reads through the driver: the command's own ORM changes first
    signing_key_register(session, key, user)
    last = session.execute(
        select(CheckpointRow.sequence, CheckpointRow.checkpoint_hash).order_by(CheckpointRow.sequence.desc()).limit(1)
    ).first()
    sequence = (last.sequence if last else 0) + 1
    if sequence > CHECKPOINTS_MAX:
        raise DisburseError(tr("{count_max:,} checkpoints is the most one database holds", count_max=CHECKPOINTS_MAX))
    values = {
        "sequence": sequence,
        "created_at": utc_now(),
        "created_by": user[:64],
        "trigger": trigger,
        "command": command[:64],
        "chain_heads": _canonical(chain_heads_now(session)),
        # The audit log's head: a forger who rewrites the log and re-chains it loses this hash.
        "audit_log_head": session.execute(
            select(AuditLogRow.row_hash).order_by(AuditLogRow.id.desc()).limit(1)
        ).scalar_one_or_none(),
        "money_digest": _canonical({table: digest.as_json() for table, digest in money_digest(session).items()}),
        "previous_hash": last.checkpoint_hash if last else GENESIS_HASH,
        "key_fingerprint": key.fingerprint,
    }
    values["checkpoint_hash"] = checkpoint_hash(values)
    values["signature"] = sign(key, signed_message(values["checkpoint_hash"]))
    session.execute(insert(CheckpointRow).values(**values))
    short = values["checkpoint_hash"][:SHORT_HASH_CHARS]
    return CheckpointOutcome(
        True, sequence, short, tr("checkpoint {sequence} signed ({hash})", sequence=sequence, hash=short)
    )


def checkpoint_mark(session: Session) -> str:
    """The short form of the newest checkpoint's hash, or 未签名 when there is none."""
    newest = session.execute(
        select(CheckpointRow.checkpoint_hash).order_by(CheckpointRow.sequence.desc()).limit(1)
    ).scalar_one_or_none()
    return newest[:SHORT_HASH_CHARS] if newest else UNSIGNED_MARK


# ------------------------------------------------------------------------------------ verifying
@dataclass(frozen=True, slots=True)
class CheckpointReport:
    """What verify found in the checkpoints: how many, the newest's short hash, the keys that
    signed them, the problems (each naming a checkpoint, a table and a block) and warnings."""

    checkpoint_count: int
    head_short: str
    fingerprints: tuple[str, ...]
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)


def _check_keys(session: Session) -> tuple[dict[str, str], list[str]]:
    keys: dict[str, str] = {}
    problems: list[str] = []
    for fingerprint, public_hex in session.execute(select(SigningKeyRow.fingerprint, SigningKeyRow.public_key_hex)):
        try:
            matches = public_key_fingerprint(public_hex) == fingerprint
        except ValueError:
            matches = False
        if not matches:
            problems.append(
                tr(
                    "signing_keys {fingerprint}…: the public key does not match its fingerprint",
                    fingerprint=fingerprint[:16],
                )
            )
        else:
            keys[fingerprint] = public_hex
    return keys, problems


def _check_heads(sequence: int, heads_json: str, chains: dict[int, ChainReport], broken: set[int]) -> list[str]:
    """Each entity's head in checkpoint ``sequence`` must still be the recomputed hash of the
    journal at that position: a rewritten and re-hashed journal no longer passes through it."""
    problems: list[str] = []
    for entity_text, (position, head) in json.loads(heads_json).items():
        entity = int(entity_text)
        if entity in broken or position == 0:
            continue
        report = chains.get(entity)
        code = report.entity_code if report else tr("entity id {entity}", entity=entity)
        hashes = report.recomputed_hashes if report else ()
        if position > len(hashes):
            problems.append(
                tr(
                    "journal {entity}: checkpoint {sequence} recorded {position:,} entries, the journal holds "
                    "{count:,}; entries were removed",
                    entity=code,
                    sequence=sequence,
                    position=position,
                    count=len(hashes),
                )
            )
        elif hashes[position - 1] != head:
            problems.append(
                tr(
                    "journal {entity}: the journal up to chain position {position:,} is not what checkpoint "
                    "{sequence} signed; entries were changed, removed or inserted and the chain re-hashed",
                    entity=code,
                    position=position,
                    sequence=sequence,
                )
            )
        else:
            continue
        broken.add(entity)
    return problems


def _compare_tables(session: Session, sequence: int, digest_json: str) -> list[str]:
    problems: list[str] = []
    recorded = json.loads(digest_json)
    for table in sorted(recorded):
        then = TableDigest.from_json(recorded[table])
        if table not in Base.metadata.tables:
            problems.append(
                tr("{table}: in checkpoint {sequence}, no longer in the schema", table=table, sequence=sequence)
            )
            continue
        now = table_digest(session, table, then.columns)
        if now.sha256 == then.sha256 and now.row_count == then.row_count:
            continue
        differing = sorted(
            block for block in set(then.blocks) | set(now.blocks) if then.blocks.get(block) != now.blocks.get(block)
        )
        for block in differing[:DIFFERENCES_SHOWN_MAX]:
            rows_then = then.blocks.get(block, (0, ""))[0]
            rows_now = now.blocks.get(block, (0, ""))[0]
            counts = (
                tr("{then:,} rows then, {now:,} now", then=rows_then, now=rows_now)
                if rows_then != rows_now
                else tr("{now:,} rows", now=rows_now)
            )
            problems.append(
                tr(
                    "{table} {key} {block}: changed since checkpoint {sequence} ({counts})",
                    table=table,
                    key=_key_name(table),
                    block=block_text(block),
                    sequence=sequence,
                    counts=counts,
                )
            )
        if len(differing) > DIFFERENCES_SHOWN_MAX:
            problems.append(
                tr(
                    "{table}: {count:,} more blocks changed since checkpoint {sequence}",
                    table=table,
                    count=len(differing) - DIFFERENCES_SHOWN_MAX,
                    sequence=sequence,
                )
            )
    return problems


def _key_name(table: str) -> str:
    first = next(iter(Base.metadata.tables[table].primary_key.columns)).name
    return "ids" if first == "id" else first


def _check_audit_heads(session: Session) -> list[str]:
    """Every checkpoint's audit-log head must still be a row of the audit log: rewriting the log
    and re-chaining it (a row dropped, every later hash recomputed) changes every later hash."""
    heads = session.execute(
        select(CheckpointRow.sequence, CheckpointRow.audit_log_head)
        .where(CheckpointRow.audit_log_head.is_not(None))
        .order_by(CheckpointRow.sequence)
    ).all()
    wanted = {head for _, head in heads}
    found: set[str] = set()
    chunk = sorted(wanted)
    for start in range(0, len(chunk), 1_000):
        part = chunk[start : start + 1_000]
        found.update(session.execute(select(AuditLogRow.row_hash).where(AuditLogRow.row_hash.in_(part))).scalars())
    return [
        tr(
            "checkpoints sequence {sequence}: the audit log's head then ({head}) is no longer in audit_log; "
            "its rows were changed or removed and the chain recomputed",
            sequence=sequence,
            head=head[:12],
        )
        for sequence, head in heads
        if head not in found
    ][:10]


def _row_problems(row: CheckpointRow, expected_sequence: int, previous_hash: str, keys: dict[str, str]) -> list[str]:
    """What is wrong with one checkpoint by itself: its place in the sequence, its link to the one
    before, its hash, and its signature."""
    problems: list[str] = []
    sequence = row.sequence
    if row.sequence != expected_sequence:
        problems.append(
            tr(
                "checkpoints sequence {sequence}: expected sequence {expected}; checkpoints were removed",
                sequence=sequence,
                expected=expected_sequence,
            )
        )
    if row.previous_hash != previous_hash:
        problems.append(
            tr(
                "checkpoints sequence {sequence}: its previous hash is not the hash of the checkpoint before it",
                sequence=sequence,
            )
        )
    recomputed = checkpoint_hash(row)
    if recomputed != row.checkpoint_hash:
        problems.append(
            tr(
                "checkpoints sequence {sequence}: its content does not match its hash; it was changed after signing",
                sequence=sequence,
            )
        )
    public_hex = keys.get(row.key_fingerprint)
    if public_hex is None:
        problems.append(
            tr(
                "checkpoints sequence {sequence}: signed by an unknown key {fingerprint}…",
                sequence=sequence,
                fingerprint=row.key_fingerprint[:16],
            )
        )
    elif not signature_valid(public_hex, signed_message(row.checkpoint_hash), row.signature):
        problems.append(
            tr(
                "checkpoints sequence {sequence}: the signature is not valid; its hash was recomputed without the key",
                sequence=sequence,
            )
        )
    return problems


def verify_checkpoints(session: Session, chains: Sequence[ChainReport], key_path: Path | None) -> CheckpointReport:
    """Check every checkpoint's hash, chain and signature, each one's journal heads against the
    recomputed journal, and the money tables against the newest checkpoint."""
    keys, problems = _check_keys(session)
    by_entity = {report.entity_id: report for report in chains}
    # Each entity's journal is named once, at the first checkpoint it no longer matches.
    broken_entities: set[int] = set()
    previous_hash, expected_sequence = GENESIS_HASH, 1
    newest: CheckpointRow | None = None
    used: set[str] = set()
    count = 0
    rows = session.execute(select(CheckpointRow).order_by(CheckpointRow.sequence)).scalars()
    for row in rows.yield_per(1_000):
        count += 1
        problems.extend(_row_problems(row, expected_sequence, previous_hash, keys))
        used.add(row.key_fingerprint)
        problems.extend(_check_heads(row.sequence, row.chain_heads, by_entity, broken_entities))
        previous_hash, expected_sequence = row.checkpoint_hash, row.sequence + 1
        newest = row
        session.expunge(row)
    warnings: list[str] = []
    if newest is None:
        warnings.append(tr("no checkpoints: nothing is signed yet (`disburse keys init`, then any post, signs one)"))
        return CheckpointReport(0, UNSIGNED_MARK, tuple(sorted(keys)), tuple(problems), tuple(warnings))
    problems.extend(_compare_tables(session, newest.sequence, newest.money_digest))
    problems.extend(_check_audit_heads(session))
    if key_path is not None:
        key, reason = key_load(key_path)
        if key is None:
            warnings.append(tr("the signing key was not compared: {reason}", reason=reason))
        elif key.fingerprint != newest.key_fingerprint:
            problems.append(
                tr(
                    "checkpoints sequence {sequence}: signed by key {recorded}…, not by the key in {path} ({key}…); "
                    "the checkpoints were re-signed with another key",
                    sequence=newest.sequence,
                    recorded=newest.key_fingerprint[:16],
                    path=key_path,
                    key=key.fingerprint[:16],
                )
            )
    return CheckpointReport(
        count,
        newest.checkpoint_hash[:SHORT_HASH_CHARS],
        tuple(sorted(used)),
        tuple(problems),
        tuple(warnings),
    )
