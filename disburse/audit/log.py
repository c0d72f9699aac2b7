"""Recording and reading the audit trail.

The CLI records every state-changing command after it ends, in a transaction of its own, so a
refused command is recorded as refused while nothing of its input was written.
"""

from __future__ import annotations

import datetime as dt
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
from disburse.foundation.masking import mask_identifier

MESSAGE_LENGTH_MAX = 2_000
DRY_RUN_OPTION = "--dry-run"
ENTRIES_MAX = 10_000
# Files larger than this are identified by size and modification time instead of a full hash,
# so logging never costs more than the command itself on a province-sized import.
HASHED_FILE_BYTES_MAX = 2 * 1024**3


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
    session.execute(
        insert(AuditLogRow).values(
            command=command[:100],
            arguments=json.dumps(list(arguments), ensure_ascii=False),
            user=user,
            started_at=started_at,
            finished_at=utc_now(),
            outcome=outcome,
            exit_code=exit_code,
            message=message[:MESSAGE_LENGTH_MAX],
            input_hashes=json.dumps(input_hashes, ensure_ascii=False),
            dry_run=is_dry_run(arguments),
        )
    )


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
        raise DisburseError(f"--limit must be between 1 and {ENTRIES_MAX:,}, not {limit:,}")
    if since is not None and until is not None and until < since:
        raise DisburseError(f"--until {until} is before --since {since}")
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
