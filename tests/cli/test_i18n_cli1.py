"""Issue 15 item 1 for the registry, report, audit, users, keys, db, demo and serve commands: what a
user sees is Chinese by default. The expected Chinese is written out by hand here; the other tests
keep asserting the English ids (they run with DISBURSE_LANG=en)."""

from __future__ import annotations

import os
import subprocess

import pytest
from cli_runner import CONSOLE_SCRIPT, run

from disburse.foundation.i18n import language, tr, trn
from disburse.registry.model import shown_count


def _flat(text: str) -> str:
    # The piped console wraps at 200 columns; a long refusal may be split over two lines.
    return " ".join(text.split())


def test_a_card_with_personal_numbers_needs_a_named_user_in_chinese(database_url: str) -> None:
    refused = run(database_url, "--lang", "zh", "report", "household", "H0001", "--unmasked", user=None)
    assert refused.exit_code == 1
    assert "--unmasked 会显示完整的个人号码；请用 --user 写明您是谁（将记入审计日志）" in _flat(refused.stderr)


def test_a_book_with_the_wrong_extension_is_refused_in_chinese(database_url: str) -> None:
    refused = run(
        database_url, "--lang", "zh", "report", "trial-balance", "--entity", "X", "--period", "2026-10",
        "--out", "book.txt",
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "book.txt：科目余额表只能写成 .pdf、.xlsx 或 .csv 文件（当前扩展名：.txt）" in _flat(refused.stderr)
    no_suffix = run(
        database_url, "--lang", "zh", "report", "general-ledger", "--entity", "X", "--period", "2026-10",
        "--out", "book",
    )  # fmt: skip
    assert "book：总账只能写成 .pdf 或 .xlsx 文件（当前扩展名：无）" in _flat(no_suffix.stderr)


def test_audit_log_refusals_and_headers_in_chinese(database_url: str) -> None:
    refused = run(database_url, "--lang", "zh", "audit", "log", "--outcome", "maybe")
    assert refused.exit_code == 1
    assert "--outcome 'maybe' 必须是 ok、refused、usage、failed 之一" in _flat(refused.stderr)
    bad_date = run(database_url, "--lang", "zh", "audit", "log", "--since", "2026-13-01")
    assert "--since '2026-13-01' 不是形如 2026-11-30 的日期" in _flat(bad_date.stderr)
    listed = run(database_url, "--lang", "zh", "audit", "log")
    assert listed.exit_code == 0, listed.output
    assert "时间（UTC）" in listed.stdout and "输入文件" in listed.stdout
    assert listed.stdout.rstrip().endswith("条")


def test_users_and_serve_speak_chinese(database_url: str) -> None:
    listed = run(database_url, "--lang", "zh", "users", "list", user=None)
    assert listed.exit_code == 0, listed.output
    assert "还没有账户：`disburse users add NAME --role 管理员` 可创建第一个账户" in _flat(listed.stdout)
    port = run(database_url, "--lang", "zh", "serve", "--port", "0")
    assert port.exit_code == 1
    assert "--port 0 不是有效的 TCP 端口（应为 1 到 65535）" in _flat(port.stderr)


def test_generating_a_messy_seeded_county_is_refused_in_chinese(database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    plan = tmp_path / "plan.yaml"
    plan.write_text("{}\n", encoding="utf-8")
    refused = run(
        database_url, "--lang", "zh", "generate", "county", "--households", "10", "--seed", "1",
        "--out", str(tmp_path / "county"), "--messy", "--seed-anomalies", str(plan),
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "--seed-anomalies 只能植入规整的文件：请去掉 --messy" in _flat(refused.stderr)


def test_the_counts_of_an_import_and_the_pages_written_read_in_chinese() -> None:
    with language("zh"):
        assert shown_count("household_versions_opened", 1234) == ("新开的户版本", "1,234")
        assert shown_count("warnings_already_shown", 2)[0] == "此前已提示过的警告"
        # An amount among the counts is in yuan, not a number of fen.
        assert shown_count("amount_fen", 123456)[1] == "1,234.56"
        assert tr("written to {path}", path="tb.pdf") + tr(" ({pages:,} page(s))", pages=1234) == (
            "已写到 tb.pdf（1,234 页）"
        )
        assert trn("{count:,} entry", "{count:,} entries", 2) == "2 条"
    with language("en"):
        # The ids are the English the command printed before the catalog.
        assert shown_count("household_versions_opened", 1)[0] == "household versions opened"
        assert shown_count("no_such_count", 3) == ("no such count", "3")
        assert trn("{count:,} entry", "{count:,} entries", 1) == "1 entry"
        assert trn("{count:,} entry", "{count:,} entries", 1_001) == "1,001 entries"


@pytest.mark.slow
def test_the_command_groups_help_is_chinese_without_any_setting() -> None:
    environment = {key: value for key, value in os.environ.items() if key != "DISBURSE_LANG"}

    def shown(*arguments: str) -> str:
        ran = subprocess.run([str(CONSOLE_SCRIPT), *arguments], capture_output=True, text=True, env=environment)
        return ran.stdout + ran.stderr

    report = shown("report", "--help")
    assert "账簿与报表。" in report and "明细账（三栏式）：某科目的记账凭证及逐笔余额。" in report
    # No command's summary is cut to "..." (Click cuts a summary at a space, and Chinese has none);
    # the first line is the usage line, whose "[ARGS]..." is Click's own.
    listing = report.splitlines()[1:]
    assert "Reports." not in report and not [line for line in listing if line.rstrip().endswith("...")]
    imported = shown("import", "registry", "--help")
    assert "导入一期户籍名册快照；其中的变动记为带日期的事件。" in imported
    assert "只检查和计数，不写入任何数据" in imported and "check and count" not in imported
    users = shown("users", "--help")
    assert "账户与角色（经办、审核、出纳、窗口、审计、管理员）。" in users and "为账户设置新密码并解除锁定。" in users
