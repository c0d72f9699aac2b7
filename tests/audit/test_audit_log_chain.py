"""Issue 16 item 2: an audit log that cannot miss a change.

- A command killed right after its change commits (SIGKILL, in a subprocess) still has its
  audit row: the row is written in the change's own transaction.
- The log is append-only: UPDATE and DELETE are refused by triggers in both engines.
- It is hash-chained: with the triggers dropped by hand, a changed row, a deleted row and a
  forged row are each named by ``disburse verify`` (exit 1) by their id.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from cli_runner import run
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from disburse.audit.log import verify_audit_log
from disburse.foundation.db import make_engine, transaction

# Kill the process the moment the command's first transaction has committed: before the fix,
# the audit row was written afterwards, in a transaction of its own, and was lost.
DRIVER = textwrap.dedent(
    """
    import contextlib, os, signal, sys
    import disburse.foundation.db as db

    original = db.transaction

    @contextlib.contextmanager
    def transaction_then_die(engine):
        with original(engine) as session:
            yield session
        os.kill(os.getpid(), signal.SIGKILL)

    db.transaction = transaction_then_die
    from disburse.cli.app import main
    sys.argv = ["disburse", *sys.argv[1:]]
    main()
    """
)
COMMANDS = [
    ("entities", "add-bank-account", "COUNTY", "--bank", "中国农业银行", "--account-number", "6228480012345678901"),
    ("entities", "add", "611002001099", "--name", "九村", "--kind", "village"),
]


def _killed_after_commit(database_url: str, arguments: tuple[str, ...]) -> int:
    environment = {**os.environ, "DISBURSE_USER": "clerk", "PYTHONPATH": os.getcwd()}
    completed = subprocess.run(
        [sys.executable, "-c", DRIVER, "--db", database_url, *arguments],
        capture_output=True,
        env=environment,
        timeout=120,
        check=False,
    )
    return completed.returncode


@pytest.mark.parametrize("arguments", COMMANDS, ids=[" ".join(command[:2]) for command in COMMANDS])
def test_issue16_item2_a_command_killed_after_its_commit_keeps_its_audit_row(database_url, arguments) -> None:  # type: ignore[no-untyped-def]
    assert _killed_after_commit(database_url, arguments) == -signal.SIGKILL
    engine = make_engine(database_url)
    try:
        with transaction(engine) as session:
            rows = session.execute(text('SELECT command, "user", outcome FROM audit_log ORDER BY id')).all()
            changed = session.execute(
                text("SELECT count(*) FROM bank_accounts")
                if arguments[1] == "add-bank-account"
                else text("SELECT count(*) FROM entities WHERE code = '611002001099'")
            ).scalar_one()
            count, _, problems = verify_audit_log(session)
    finally:
        engine.dispose()
    assert changed == 1, "the change committed before the kill"
    assert [tuple(row) for row in rows][-1] == (" ".join(arguments[:2]), "clerk", "ok")
    assert count == len(rows) and problems == []


def _drop_audit_triggers(session) -> None:  # type: ignore[no-untyped-def]
    if session.get_bind().dialect.name == "postgresql":
        names = session.execute(
            text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass AND NOT tgisinternal")
        ).scalars()
        for name in list(names):
            session.execute(text(f'DROP TRIGGER "{name}" ON audit_log'))
    else:
        names = session.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")
        ).scalars()
        for name in list(names):
            session.execute(text(f'DROP TRIGGER "{name}"'))


def _three_commands(database_url: str) -> None:
    """Two changes and a refusal: rows 1 to 3 of the log."""
    for arguments in (*COMMANDS, ("import", "registry", "no-such-file.csv")):
        ran = run(database_url, *arguments, user="clerk")
        assert ran.exit_code == (1 if arguments[0] == "import" else 0), ran.output


def test_issue16_item2_the_log_refuses_update_and_delete(database_url, engine) -> None:  # type: ignore[no-untyped-def]
    _three_commands(database_url)
    for statement in ("UPDATE audit_log SET outcome = 'refused' WHERE id = 1", "DELETE FROM audit_log WHERE id = 1"):
        with pytest.raises(DBAPIError, match="audit_log"):
            with transaction(engine) as session:
                session.execute(text(statement))


@pytest.mark.parametrize("tamper", ["change", "delete", "forge"])
def test_issue16_item2_verify_names_the_row_a_tamper_broke(database_url, engine, tamper: str) -> None:  # type: ignore[no-untyped-def]
    _three_commands(database_url)
    assert run(database_url, "verify").exit_code == 0
    with transaction(engine) as session:
        _drop_audit_triggers(session)
        if tamper == "change":
            session.execute(text("UPDATE audit_log SET outcome = 'refused' WHERE id = 2"))
        elif tamper == "delete":
            session.execute(text("DELETE FROM audit_log WHERE id = 2"))
        else:  # a row slipped in after row 1, with a made-up hash linking to row 1
            first = session.execute(text("SELECT row_hash, started_at FROM audit_log WHERE id = 1")).one()
            session.execute(
                text(
                    'INSERT INTO audit_log (id, command, arguments, "user", started_at, finished_at, outcome, '
                    "exit_code, message, input_hashes, dry_run, previous_hash, row_hash) VALUES (1000, "
                    "'payout approve', '[]', 'clerk', :at, :at, 'ok', 0, '', '{}', false, :previous, :forged)"
                ),
                {"at": first.started_at, "previous": first.row_hash, "forged": "f" * 64},
            )
    ran = run(database_url, "verify")
    code, output = ran.exit_code, ran.output
    assert code == 1, output
    named = {"change": "audit_log id 2", "delete": "audit_log id 3", "forge": "audit_log id 1000"}[tamper]
    assert named in output, output
