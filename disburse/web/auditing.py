"""The audit log of the web application: every action under the logged-in account.

A change is recorded in the same transaction as the change (``record``). What changes nothing
— a public look-up, a refusal, a page refused to a role — is handed to a writer thread that
records each in a transaction of its own, so a page never waits for SQLite's write lock while a
long import holds it; the queue is flushed when the server stops.
"""

from __future__ import annotations

import datetime as dt
import queue
import sys
import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from disburse.audit.log import record_command
from disburse.foundation.db import transaction
from disburse.foundation.orm import utc_now

WEB_PREFIX = "web "
QUEUE_ENTRIES_MAX = 100_000
WRITE_ATTEMPTS_MAX = 3


@dataclass(frozen=True, slots=True)
class AuditNote:
    command: str
    user: str | None
    arguments: tuple[str, ...] = ()
    outcome: str = "ok"
    exit_code: int = 0
    message: str = ""
    input_hashes: dict[str, str] = field(default_factory=dict)
    started_at: dt.datetime = field(default_factory=utc_now)


def record(session: Session, note: AuditNote) -> None:
    """Record ``note`` in the caller's transaction."""
    record_command(
        session,
        command=(WEB_PREFIX + note.command)[:100],
        arguments=list(note.arguments),
        user=note.user,
        started_at=note.started_at,
        outcome=note.outcome,
        exit_code=note.exit_code,
        message=note.message,
        input_hashes=dict(note.input_hashes),
    )


class AuditWriter:
    """One thread that writes queued notes, each in its own transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._queue: queue.Queue[AuditNote | None] = queue.Queue(QUEUE_ENTRIES_MAX)
        self._thread = threading.Thread(target=self._run, name="disburse-audit-writer", daemon=True)
        self._thread.start()

    def put(self, note: AuditNote) -> None:
        try:
            self._queue.put_nowait(note)
        except queue.Full:
            # The server's log (for the administrator, English, not the catalog's).
            sys.stderr.write(f"disburse web: audit queue full; not recorded: {note}\n")

    def flush(self) -> None:
        """Wait until every note put so far is written."""
        self._queue.join()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=60)

    def _run(self) -> None:
        while True:
            note = self._queue.get()
            try:
                if note is None:
                    return
                self._write(note)
            finally:
                self._queue.task_done()

    def _write(self, note: AuditNote) -> None:
        for attempt in range(WRITE_ATTEMPTS_MAX):
            try:
                with transaction(self._engine) as session:
                    record(session, note)
                return
            except DBAPIError as error:
                if attempt == WRITE_ATTEMPTS_MAX - 1:
                    sys.stderr.write(f"disburse web: audit note not written ({error}): {note}\n")
