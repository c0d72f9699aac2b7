"""Recording and reading the audit trail.

A command that changes something is recorded in the same transaction as the change (the CLI's
``books()`` and the web's ``record`` write the row before the commit), so a change that
committed always has its row and a row never describes a change that rolled back. A refused or
failed attempt is recorded afterwards, in a transaction of its own, since its own rolled back.

The log is append-only (database triggers refuse UPDATE and DELETE) and hash-chained like the
journal: each row's ``row_hash`` is the SHA-256 of the previous row's hash and the row's own
fields, so ``verify_audit_log`` names the first row a change behind the engine's back has
broken, and a deleted row breaks the link of the one after it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from disburse.audit.tables import AuditLogRow, utc_now
from disburse.foundation.errors import DisburseError
from disburse.foundation.files import file_sha256
from disburse.foundation.i18n import tr
from disburse.foundation.locks import AUDIT_LOG_LOCK, advisory_lock
from disburse.foundation.masking import mask_identifier

MESSAGE_LENGTH_MAX = 2_000
DRY_RUN_OPTION = "--dry-run"
ENTRIES_MAX = 10_000
# Files larger than this are identified by size and modification time instead of a full hash,
# so logging never costs more than the command itself on a province-sized import.
HASHED_FILE_BYTES_MAX = 2 * 1024**3
# The hash the first row of the chain links to.
GENESIS_HASH = "0" * 64
# verify reads the log in pages of this many rows (a county's years of commands stay in memory
# one page at a time).
VERIFY_PAGE_ROWS = 20_000


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of `disburse audit log`."""

    id: int
    command: str
    user: str | None
    started_at: dt.datetime
    finished_at: dt.datetime
    outcome: str
    exit_code: int
    message: str
    arguments: list[str]
    input_hashes: dict[str, str]
    dry_run: bool = False

    @property
    def mode(self) -> str:
        """``dry run`` (checked and counted, nothing written) or ``change``."""
        return "dry run" if self.dry_run else "change"


def file_hashes(arguments: Sequence[str]) -> dict[str, str]:
    """SHA-256 of every argument that names an existing file."""
    hashes: dict[str, str] = {}
    for argument in arguments:
        candidate = argument.split("=", 1)[-1]
        path = Path(candidate)
        try:
            if not path.is_file():
                continue
            if path.stat().st_size > HASHED_FILE_BYTES_MAX:
                hashes[str(path)] = f"size {path.stat().st_size} mtime {int(path.stat().st_mtime)}"
                continue
            hashes[str(path)] = file_sha256(path)
        except OSError:
            continue
    return hashes


def _naive_utc(value: dt.datetime) -> dt.datetime:
    """As stored: naive, in UTC."""
    return value if value.tzinfo is None else value.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _timestamp(value: dt.datetime) -> str:
    """A timestamp as stored, to the microsecond: the same text on both engines."""
    return _naive_utc(value).isoformat(sep=" ", timespec="microseconds")


def audit_row_hash(previous_hash: str, fields: dict) -> str:
    """SHA-256 of the previous row's hash and this row's fields, in one canonical JSON text."""
    canonical = [
        previous_hash,
        fields["command"],
        fields["arguments"],
        fields["user"],
        _timestamp(fields["started_at"]),
        _timestamp(fields["finished_at"]),
        fields["outcome"],
        int(fields["exit_code"]),
        fields["message"],
        fields["input_hashes"],
        bool(fields["dry_run"]),
    ]
    text = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _last_hash(session: Session) -> str:
    last = session.execute(select(AuditLogRow.row_hash).order_by(AuditLogRow.id.desc()).limit(1)).scalar()
    return last or GENESIS_HASH


def record_command(
    session: Session,
    *,
    command: str,
    arguments: Sequence[str],
    user: str | None,
    started_at: dt.datetime,
    outcome: str,
    exit_code: int,
    message: str,
    input_hashes: dict[str, str],
) -> None:
    """Append one row to the chain, in the caller's transaction."""
    # One writer at a time extends the chain (SQLite's write lock already serialises writers).
    advisory_lock(session, AUDIT_LOG_LOCK)
    fields = {
        "command": command[:100],
        "arguments": json.dumps(list(arguments), ensure_ascii=False),
        "user": user,
        "started_at": _naive_utc(started_at),
        "finished_at": utc_now(),
        "outcome": outcome,
        "exit_code": exit_code,
        "message": message[:MESSAGE_LENGTH_MAX],
        "input_hashes": json.dumps(input_hashes, ensure_ascii=False),
        "dry_run": is_dry_run(arguments),
    }
    previous = _last_hash(session)
    session.execute(
        insert(AuditLogRow).values(**fields, previous_hash=previous, row_hash=audit_row_hash(previous, fields))
    )


def verify_audit_log(session: Session) -> tuple[int, str, list[str]]:
    """Recompute the audit log's chain: (rows, head hash, problems). Each problem names the row
    id and what is wrong: a changed row (its hash no longer matches its fields) or a broken link
    (the row before it was deleted, inserted or changed)."""
    problems: list[str] = []
    expected_previous, count, after_id = GENESIS_HASH, 0, 0
    columns = [getattr(AuditLogRow, name) for name in (
        "id", "command", "arguments", "user", "started_at", "finished_at", "outcome", "exit_code",
        "message", "input_hashes", "dry_run", "previous_hash", "row_hash",
    )]  # fmt: skip
    while True:
        rows = session.execute(
            select(*columns).where(AuditLogRow.id > after_id).order_by(AuditLogRow.id).limit(VERIFY_PAGE_ROWS)
        ).all()
        for row in rows:
            count += 1
            fields = row._asdict()
            if row.previous_hash != expected_previous:
                problems.append(
                    tr(
                        "audit_log id {id}: links to {linked}, but the row before it hashes to {expected} (a row "
                        "before it was deleted, inserted or changed)",
                        id=row.id,
                        linked=str(row.previous_hash)[:12],
                        expected=expected_previous[:12],
                    )
                )
            recomputed = audit_row_hash(str(row.previous_hash or ""), fields)
            if recomputed != row.row_hash:
                problems.append(
                    tr(
                        "audit_log id {id} ({command}, {user}, {started}): its fields no longer match its hash "
                        "{hash} (changed after it was written)",
                        id=row.id,
                        command=row.command,
                        user=row.user,
                        started=_timestamp(row.started_at),
                        hash=str(row.row_hash)[:12],
                    )
                )
            expected_previous = str(row.row_hash)
        if len(rows) < VERIFY_PAGE_ROWS:
            break
        after_id = rows[-1].id
    return count, expected_previous, problems


def is_dry_run(arguments: Sequence[str]) -> bool:
    """A command run with --dry-run checks and counts but writes nothing: the log says so."""
    return any(argument == DRY_RUN_OPTION or argument.startswith(DRY_RUN_OPTION + "=true") for argument in arguments)


def audit_entries(
    session: Session,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    user: str | None = None,
    command: str | None = None,
    outcome: str | None = None,
    dry_run: bool | None = None,
    limit: int = 200,
) -> list[AuditEntry]:
    """The newest ``limit`` entries (shown oldest first) that pass every filter given: started on
    or after ``since`` and on or before ``until`` (UTC dates), by ``user``, of a command starting
    with ``command`` (``payout`` or ``payout fix-account``), with ``outcome``, dry runs only
    (``dry_run=True``) or changes only (``False``)."""
    if not 1 <= limit <= ENTRIES_MAX:
        raise DisburseError(
            tr("--limit must be between 1 and {limit_max:,}, not {limit:,}", limit_max=ENTRIES_MAX, limit=limit)
        )
    if since is not None and until is not None and until < since:
        raise DisburseError(tr("--until {until} is before --since {since}", until=until, since=since))
    statement = select(AuditLogRow).order_by(AuditLogRow.id.desc()).limit(limit)
    if since is not None:
        statement = statement.where(AuditLogRow.started_at >= dt.datetime.combine(since, dt.time()))
    if until is not None:
        statement = statement.where(
            AuditLogRow.started_at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time())
        )
    if user is not None:
        statement = statement.where(AuditLogRow.user == user)
    if command is not None:
        words = " ".join(command.split())
        statement = statement.where(or_(AuditLogRow.command == words, AuditLogRow.command.startswith(words + " ")))
    if outcome is not None:
        statement = statement.where(AuditLogRow.outcome == outcome)
    if dry_run is not None:
        statement = statement.where(AuditLogRow.dry_run == dry_run)
    return [
        AuditEntry(
            row.id,
            row.command,
            row.user,
            row.started_at,
            row.finished_at,
            row.outcome,
            row.exit_code,
            row.message,
            json.loads(row.arguments),
            json.loads(row.input_hashes),
            bool(row.dry_run),
        )
        for row in session.scalars(statement)
    ][::-1]


PERSONAL_NUMBER = re.compile(r"^(\d{17}[\dXx]|\d{17,30})$")


def shown_arguments(arguments: Sequence[str], command: str) -> str:
    """The arguments as typed, after the command's words, with resident IDs and card numbers
    masked (a household id of 16 digits stays as it is)."""
    words = command.split()
    rest = list(arguments[len(words) :]) if list(arguments[: len(words)]) == words else list(arguments)
    shown = []
    for argument in rest:
        name, equals, value = (
            argument.partition("=") if argument.startswith("--") and "=" in argument else ("", "", argument)
        )
        masked = mask_identifier(value) if PERSONAL_NUMBER.match(value) else value
        shown.append(f"{name}{equals}{masked}" if equals else str(masked))
    return " ".join(shown)


def acting_user(arguments: Sequence[str]) -> str | None:
    """The --user given on the command line, else DISBURSE_USER."""
    for index, argument in enumerate(arguments):
        if argument == "--user" and index + 1 < len(arguments):
            return arguments[index + 1]
        if argument.startswith("--user="):
            return argument.split("=", 1)[1]
    return os.environ.get("DISBURSE_USER")
