"""Issue #16 item 6: least-privilege PostgreSQL roles. The application role, which the CLI and
the web server connect as, posts and reads but cannot drop a trigger, alter a table, truncate,
or delete a posting; the auditor role reads and cannot write."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from disburse.foundation.db import make_engine, transaction
from disburse.foundation.errors import DisburseError
from disburse.ledger.posting import post_entries
from disburse.schema.roles import Roles, set_up_roles

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ledger"))
from ledger_builders import batch, draft  # noqa: E402


@pytest.fixture
def roles(backend: str, database_url: str):  # type: ignore[no-untyped-def]
    if backend != "postgresql":
        pytest.skip("roles are a PostgreSQL matter")
    suffix = secrets.token_hex(3)
    names = Roles(f"t_owner_{suffix}", f"t_app_{suffix}", f"t_auditor_{suffix}")
    yield names
    engine = make_engine(database_url)
    with engine.begin() as connection:
        for name in (names.application, names.auditor, names.owner):
            connection.execute(text(f'REASSIGN OWNED BY "{name}" TO CURRENT_USER'))
            connection.execute(text(f'DROP OWNED BY "{name}"'))
            connection.execute(text(f'DROP ROLE "{name}"'))
    engine.dispose()


def as_role(database_url: str, role: str) -> str:
    return make_url(database_url).set(username=role).render_as_string(hide_password=False)


def test_issue16_item6_roles_refuse_what_they_may_not_do(database_url: str, engine, roles: Roles) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        done = set_up_roles(session, roles)
    assert f"role {roles.application} created" in done
    application = make_engine(as_role(database_url, roles.application))
    try:
        with transaction(application) as session:
            post_entries(session, batch(draft(("102", 500), ("501", -500))), idempotency_key="app", user="alice")
        for statement in (
            "DROP TRIGGER postings_immutable ON postings",
            "ALTER TABLE postings DISABLE TRIGGER USER",
            "ALTER TABLE journal_entries ADD COLUMN forged text",
            "TRUNCATE postings",
            "DELETE FROM postings",
            "UPDATE journal_entries SET memo = 'forged'",
        ):
            with pytest.raises(DBAPIError):
                with application.begin() as connection:
                    connection.execute(text(statement))
    finally:
        application.dispose()
    auditor = make_engine(as_role(database_url, roles.auditor))
    try:
        with auditor.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM postings")).scalar_one() == 2
        with pytest.raises(DBAPIError):
            with auditor.begin() as connection:
                connection.execute(text("INSERT INTO audit_log (command) VALUES ('forged')"))
    finally:
        auditor.dispose()


def test_roles_are_refused_on_sqlite(backend: str, engine) -> None:  # type: ignore[no-untyped-def]
    if backend != "sqlite":
        pytest.skip("the refusal is SQLite's")
    with pytest.raises(DisburseError, match="PostgreSQL matter"):
        with transaction(engine) as session:
            set_up_roles(session, Roles("a_owner", "a_app", "a_auditor"))
