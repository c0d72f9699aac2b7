"""Issue 15 item 1 for the books', runs', payout, notice and reconciliation commands: what a
user sees is Chinese unless asked otherwise — the help, the refusal's label, the lines printed.

The other tests run with DISBURSE_LANG=en and assert the message ids; these set the language
themselves and assert Chinese written by hand."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from disburse.cli import app as cli
from disburse.foundation.db import transaction

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "payouts"))
from payout_builders import card, owe, with_bank_account  # noqa: E402


def run(*arguments: str, lang: str | None, user: str = "alice"):  # type: ignore[no-untyped-def]
    """The command in-process; ``lang=None`` removes DISBURSE_LANG, as a user who set nothing."""
    environment = {"DISBURSE_USER": user, "DISBURSE_LANG": lang}
    result = CliRunner().invoke(cli.app, list(arguments), env=environment)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_the_payout_and_journal_help_is_chinese_without_any_setting() -> None:
    exported = run("payout", "export", "--help", lang=None)
    assert exported.exit_code == 0, exported.output
    assert "为已审核的批次生成银行代发文件，并记账：借 应付款，贷 102.90 在途资金。" in exported.stdout
    assert "批次编号" in exported.stdout and "要写出的代发文件（按银行要求为 .csv 或 .xlsx）" in exported.stdout
    assert "操作人（每次改动都会记录）；也可设置 DISBURSE_USER" in exported.stdout
    assert "the batch reference" not in exported.stdout and "approved batch" not in exported.stdout
    journal = run("journal", "--help", lang=None)
    assert "审核已提交的记账凭证（制单人本人不得审核）" in journal.stdout and "Journal entries" not in journal.stdout
    # The long help of `runs reverse` has a short Chinese line of its own in the list, not "...".
    runs = run("runs", "--help", lang=None)
    assert "冲销已记账的分配表，撤回其未付的应付款。" in runs.stdout
    english = run("--lang", "en", "payout", "export", "--help", lang=None)
    assert "the batch reference" in english.stdout and "批次编号" not in english.stdout


def test_a_refusal_says_refused_and_names_the_file_in_chinese(tmp_path: Path) -> None:
    missing = tmp_path / "回盘.csv"
    url = f"sqlite:///{tmp_path / 'books.db'}"
    refused = run("--db", url, "payout", "returns", str(missing), "--bank", "generic", lang="zh")
    assert refused.exit_code == 1
    assert "已拒绝：" in refused.stderr and f"找不到文件：{missing}" in refused.stderr.replace("\n", "")
    english = run("--db", url, "payout", "returns", str(missing), "--bank", "generic", lang="en")
    assert "refused:" in english.stderr and "no such file" in english.stderr


def test_a_bad_status_is_refused_with_the_choices_in_chinese(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'books.db'}"
    refused = run("--db", url, "payout", "fixes", "--status", "done", lang="zh")
    assert refused.exit_code == 1
    assert "--status 'done' 不在可选值 proposed、approved、rejected 之中" in refused.stderr


def test_the_accounts_note_and_an_empty_counter_answer_in_chinese(database_url: str) -> None:
    added = run("--db", database_url, "entities", "add", "611002001001", "--name", "大荆村", "--kind", "village",
                lang=None)  # fmt: skip
    assert added.exit_code == 0, added.output
    said = added.stderr.replace("\n", "")
    assert "注意：" in said and "尚未建立用户账号：--user 按所填内容记录，不作核验" in said
    nobody = run("--db", database_url, "payout", "status", "--household", "H404", lang="zh")
    assert nobody.exit_code == 0 and "户 H404 没有发放记录" in nobody.stdout


@pytest.fixture
def owing(engine, database_url: str) -> str:  # type: ignore[no-untyped-def]
    """H001 is owed 100.00 and 50.00 on one card, H002 50.00 (worked by hand: 2 payments, 200.00)."""
    with transaction(engine) as session:
        with_bank_account(session)
        owe(
            session,
            [
                {"household_id": "H001", "amount_fen": 10_000, "account_no": card(1), "bank_name": "中国建设银行"},
                {"household_id": "H001", "amount_fen": 5_000, "account_no": card(1), "bank_name": "中国建设银行"},
                {"household_id": "H002", "amount_fen": 5_000, "account_no": card(2), "bank_name": "中国农业银行"},
            ],
        )
    return database_url


def test_a_prepared_batch_is_told_in_chinese_and_the_counter_table_stays_chinese(owing: str) -> None:
    prepared = run("--db", owing, "payout", "prepare", "--entity", "COUNTY", lang="zh")
    assert prepared.exit_code == 0, prepared.output
    assert "付款 2 笔，合计 200.00 元，来自 3 笔应付款；须由 alice 以外的 1 人审核" in prepared.stdout
    own = run("--db", owing, "payout", "approve", prepared.stdout.split()[1].split("：")[0], lang="zh")
    # The reason is the payouts service's (translated there); the label in front of it is ours.
    assert own.exit_code == 1 and "\n已拒绝： " in own.stderr
    # 户 H001 兑付情况 is a Chinese layout: its states are Chinese whatever the language.
    for lang in ("zh", "en"):
        status = run("--db", owing, "payout", "status", "--household", "H001", lang=lang)
        assert status.exit_code == 0 and "已编批 150.00" in status.stdout
