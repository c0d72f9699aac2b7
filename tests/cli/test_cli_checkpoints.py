"""Signed checkpoints from the command line, as a user runs it: `keys init`, a post, `verify`
passes and prints the newest checkpoint's short hash, a plain-SQL change (triggers dropped by
hand) makes `verify` fail naming the table and id block; without a key a command still works
and says that nothing was signed; printed books carry the short hash in their footer."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest
from checkpoint_support import drop_triggers
from cli_runner import run
from sqlalchemy import text

from disburse.foundation.db import make_engine

VOUCHERS = """凭证号,日期,摘要,科目编码,借方金额,贷方金额,户编号,资金来源
1,2026-10-05,收到电费,102,"1,000.00",,,PV-611002-001
1,2026-10-05,收到电费,501,,1000.00,,PV-611002-001
"""


def newest_hash(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT checkpoint_hash FROM checkpoints ORDER BY sequence DESC LIMIT 1")
            ).scalar_one()
    finally:
        engine.dispose()


def test_keys_post_verify_tamper_verify(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "keys" / "signing.key"
    key.parent.mkdir()
    monkeypatch.setenv("DISBURSE_KEY_FILE", str(key))
    created = run(database_url, "keys", "init")
    assert created.exit_code == 0, created.output
    assert re.search(r"fingerprint [0-9a-f]{64}", created.stdout) and key.stat().st_mode & 0o777 == 0o600
    again = run(database_url, "keys", "init")
    assert again.exit_code == 1 and "never overwritten" in again.stderr

    vouchers = tmp_path / "vouchers.csv"
    vouchers.write_text(VOUCHERS, encoding="utf-8")
    assert run(database_url, "journal", "post", str(vouchers), "--entity", "COUNTY").exit_code == 0
    approved = run(database_url, "journal", "approve", "1", user="bob")
    assert approved.exit_code == 0 and "no checkpoint was signed" not in approved.stderr

    clean = run(database_url, "verify")
    # journal post and journal approve each signed one.
    assert clean.exit_code == 0, clean.output
    assert f"checkpoints 2, newest {newest_hash(database_url)[:12]}" in clean.stdout
    assert "every checkpoint and money table" in clean.stdout

    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            drop_triggers(connection, "voucher_submissions")
            connection.execute(text("UPDATE voucher_submissions SET debit_total_fen = 1 WHERE id = 1"))
    finally:
        engine.dispose()
    tampered = run(database_url, "verify")
    assert tampered.exit_code == 1
    assert "voucher_submissions ids 1–1000: changed since checkpoint 2" in tampered.stderr


def test_without_a_key_the_command_works_and_says_nothing_was_signed(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISBURSE_KEY_FILE", str(tmp_path / "missing.key"))
    added = run(database_url, "entities", "add", "611002001001", "--name", "大荆村", "--kind", "village")
    assert added.exit_code == 0 and "added" in added.stdout
    assert "no checkpoint was signed: no signing key file at" in added.stderr
    verified = run(database_url, "verify")
    assert verified.exit_code == 0 and "warning: no checkpoints" in verified.stderr
    assert "checkpoints 0, newest 未签名" in verified.stdout


def test_printed_book_footer_carries_the_newest_checkpoint(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISBURSE_KEY_FILE", str(tmp_path / "signing.key"))
    unsigned = tmp_path / "before.xlsx"
    run(database_url, "report", "trial-balance", "--entity", "COUNTY", "--period", "2026-10", "--out", str(unsigned))
    assert "校验：未签名" in openpyxl.load_workbook(unsigned).active.oddFooter.right.text

    assert run(database_url, "keys", "init").exit_code == 0
    vouchers = tmp_path / "vouchers.csv"
    vouchers.write_text(VOUCHERS, encoding="utf-8")
    run(database_url, "journal", "post", str(vouchers), "--entity", "COUNTY")
    run(database_url, "journal", "approve", "1", user="bob")
    signed = tmp_path / "after.xlsx"
    run(database_url, "report", "trial-balance", "--entity", "COUNTY", "--period", "2026-10", "--out", str(signed))
    footer = openpyxl.load_workbook(signed).active.oddFooter.right.text
    assert f"校验：{newest_hash(database_url)[:12]}" in footer


def test_a_rewritten_and_rechained_audit_log_is_caught_by_the_checkpoints(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit log's own chain cannot tell a forger who drops a row and recomputes every later
    hash; the checkpoints signed meanwhile hold the head as it was, and verify names it."""
    from disburse.audit.log import GENESIS_HASH, audit_row_hash

    key = tmp_path / "signing.key"
    monkeypatch.setenv("DISBURSE_KEY_FILE", str(key))
    assert run(database_url, "keys", "init").exit_code == 0
    vouchers = tmp_path / "vouchers.csv"
    vouchers.write_text(VOUCHERS, encoding="utf-8")
    assert run(database_url, "journal", "post", str(vouchers), "--entity", "COUNTY").exit_code == 0
    assert run(database_url, "journal", "approve", "1", user="bob").exit_code == 0
    assert run(database_url, "verify").exit_code == 0
    columns = (
        'id, command, arguments, "user", started_at, finished_at, outcome, exit_code, message, input_hashes, dry_run'
    )
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            drop_triggers(connection, "audit_log")
            connection.execute(text("DELETE FROM audit_log WHERE command = 'journal post'"))
            previous = GENESIS_HASH
            for row in connection.execute(text(f"SELECT {columns} FROM audit_log ORDER BY id")).mappings().all():
                fields = dict(row)
                for name in ("started_at", "finished_at"):  # SQLite hands plain SQL its text
                    fields[name] = dt.datetime.fromisoformat(str(fields[name]))
                row_hash = audit_row_hash(previous, fields)
                connection.execute(
                    text("UPDATE audit_log SET previous_hash = :p, row_hash = :h WHERE id = :id"),
                    {"p": previous, "h": row_hash, "id": row["id"]},
                )
                previous = row_hash
    finally:
        engine.dispose()
    tampered = run(database_url, "verify")
    assert tampered.exit_code == 1, tampered.output
    assert "audit_log id" not in tampered.output  # the log's own chain is consistent again
    assert "the audit log's head then" in tampered.output and "no longer in audit_log" in tampered.output
