"""A change made through the web appends the same signed checkpoint as the CLI, in the change's
own transaction; a web action that changes no money table (a login) appends none."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from disburse.foundation.signing import key_create
from disburse.web.auditing import AuditNote
from disburse.web.base import change


def checkpoints(engine) -> list[tuple]:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text("SELECT sequence, trigger, command FROM checkpoints"))]


def test_web_changes_sign_checkpoints(engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    key = tmp_path / "signing.key"
    key_create(key)
    monkeypatch.setenv("DISBURSE_KEY_FILE", str(key))
    state = SimpleNamespace(engine=engine, audit=None)

    def rename(session) -> str:  # type: ignore[no-untyped-def]
        session.execute(text("UPDATE entities SET name = '县级专户' WHERE code = 'COUNTY'"))
        return "renamed"

    change(state, AuditNote("payout export", "alice"), rename)
    change(state, AuditNote("login", "alice"), lambda session: "welcome")
    assert checkpoints(engine) == [(1, "batch_export", "payout export")]
