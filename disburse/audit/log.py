"""Recording and reading the audit trail.

The CLI records every state-changing command after it ends, in a transaction of its own, so a
refused command is recorded as refused while nothing of its input was written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from disburse.audit.tables import AuditLogRow, utc_now
from disburse.foundation.files import file_sha256

MESSAGE_LENGTH_MAX = 2_000
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
        )
    )


def audit_entries(
    session: Session, *, since: dt.date | None = None, user: str | None = None, limit: int = 200
) -> list[AuditEntry]:
    statement = select(AuditLogRow).order_by(AuditLogRow.id.desc()).limit(limit)
    if since is not None:
        statement = statement.where(AuditLogRow.started_at >= dt.datetime.combine(since, dt.time()))
    if user is not None:
        statement = statement.where(AuditLogRow.user == user)
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
        )
        for row in session.scalars(statement)
    ][::-1]


def acting_user(arguments: Sequence[str]) -> str | None:
    """The --user given on the command line, else DISBURSE_USER."""
    for index, argument in enumerate(arguments):
        if argument == "--user" and index + 1 < len(arguments):
            return arguments[index + 1]
        if argument.startswith("--user="):
            return argument.split("=", 1)[1]
    return os.environ.get("DISBURSE_USER")
