"""Issue #11: every command, run as a user runs it: the installed console script, one process,
on a database that only `disburse init` and that command have touched. A process that loads
only what its own command needs must still know the whole schema (the reconcile crash of item
1) and must never show a traceback: it succeeds, or refuses with a message (exit 1).

The table names every command of the application; a test fails when a command is added
without an entry here, so no command escapes this check.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from disburse.allocations.rules import EXAMPLES_DIRECTORY
from disburse.cli.app import app
from disburse.dev.generator import generate_county
from disburse.reconciliation import unmatched

CONSOLE_SCRIPT = Path(sys.executable).parent / "disburse"
HOUSEHOLD = "6110021012010001"
ACCOUNT = "6228480012345678"
RECONCILIATION_RULES = Path(unmatched.__file__).with_name("rules") / "county_example.yaml"
VOUCHERS = "凭证号,日期,摘要,科目编码,借方金额,贷方金额\n1,2026-10-05,电费,102,10.00,\n1,2026-10-05,电费,501,,10.00\n"
ACCOUNTS = "科目编码,科目名称,科目类型\n211.01,应付农户收益,负债\n"

# {county} is a generated county's directory, {tmp} the test's own folder.
COMMANDS: dict[str, list[str]] = {
    "accounts add": ["{tmp}/accounts.csv"],
    "accounts list": [],
    "allocate": [str(EXAMPLES_DIRECTORY / "pv_revenue.yaml"), "--period", "2026-10"],
    "assets list": [],
    "assets load": ["{county}/assets.yaml"],
    "audit anomalies": [],
    "audit log": [],
    "audit build-month": ["{county}", "--work", "{tmp}/month"],
    "audit checks": [],
    "audit review": ["A06-0000000000000000", "--disposition", "不属实", "--note", "查无此事"],
    "audit reviews": [],
    "audit score": ["{tmp}/anomalies.json"],
    "db roles": [],
    "entities add": ["611002001001", "--name", "大荆村", "--kind", "village"],
    "entities add-bank-account": ["COUNTY", "--bank", "中国农业银行", "--account-number", ACCOUNT],
    "entities list": [],
    "entities rename": ["COUNTY", "--name", "商州区扶贫资金专户"],
    "generate bank-return": ["BATCH-202610-0001", "--bank", "ccb", "--out", "{tmp}/return.csv"],
    "generate bank-statement": ["--account", ACCOUNT, "--period", "2026-10", "--out", "{tmp}/statement-out.csv"],
    "generate county": ["--households", "50", "--seed", "3", "--out", "{tmp}/generated"],
    "import bank-statement": ["{tmp}/statement.csv", "--account", ACCOUNT],
    "import pv-settlement": ["{county}/pv_settlements.csv"],
    "import registry": ["{county}/register_2026-08-31.csv", "--as-of", "2026-08-31"],
    "import shares": ["{county}/shares.csv"],
    "init": [],
    "journal approve": ["1"],
    "journal pending": [],
    "journal post": ["{tmp}/vouchers.csv", "--entity", "COUNTY"],
    "journal return": ["1", "--reason", "摘要不全"],
    "journal reverse": ["1"],
    "journal show": ["--entity", "COUNTY", "--period", "2026-10"],
    "notice create": ["1", "--out", "{tmp}/notices"],
    "notice create-annual": ["--year", "2026", "--out", "{tmp}/notices"],
    "notice dismiss": ["1", "--reason", "核实无误"],
    "notice list": [],
    "funds import": ["{tmp}/funds.csv"],
    "funds list": [],
    "funds show": ["商财〔2026〕1号"],
    "funds return": ["商财〔2026〕1号", "10", "--reason", "结余"],
    "report funds": [],
    "notice object": ["1", HOUSEHOLD, "--reason", "家庭人数有误"],
    "payout approve": ["BATCH-202610-0001"],
    "payout cancel": ["BATCH-202610-0001"],
    "payout export": ["BATCH-202610-0001", "--bank", "ccb", "--out", "{tmp}/bank.csv"],
    "payout approve-fix": ["FIX-202610-0001"],
    "payout batches": [],
    "payout show": ["BATCH-202610-0001"],
    "payout fix-account": [HOUSEHOLD, ACCOUNT, "--bank-name", "中国农业银行", "--reason", "卡号已注销"],
    "payout fixes": [],
    "payout reject-fix": ["FIX-202610-0001", "--reason", "证明材料不全"],
    "payout fix-list": [],
    "payout prepare": ["--entity", "COUNTY"],
    "payout release": ["1", "--reason", "核实无误"],
    "payout stop": ["1", "--reason", "户主已死亡待核实"],
    "payout returns": ["{tmp}/returns.csv", "--bank", "ccb"],
    "payout status": ["--household", HOUSEHOLD],
    "periods close": ["COUNTY", "2026-10"],
    "reconcile": ["--account", ACCOUNT, "--period", "2026-10"],
    "reconcile confirm": ["M0000000000000000"],
    "reconcile post-unmatched": ["--account", ACCOUNT, "--period", "2026-10", "--rules", str(RECONCILIATION_RULES)],
    "reconcile reject": ["M0000000000000000"],
    "reconcile report": ["--account", ACCOUNT, "--period", "2026-10", "--out", "{tmp}/reconciliation.xlsx"],
    "reconcile run": ["--account", ACCOUNT, "--period", "2026-10"],
    "registry changes": ["--since", "2026-01-01"],
    "registry show": [HOUSEHOLD],
    "report auxiliary": ["--entity", "COUNTY", "--period", "2026-10", "--account", "211", "--out", "{tmp}/aux.pdf"],
    "report fund-trace": ["PV-611002-001"],
    "report general-ledger": ["--entity", "COUNTY", "--period", "2026-10", "--out", "{tmp}/gl.pdf"],
    "report household": [HOUSEHOLD],
    "report ledger": ["--entity", "COUNTY", "--period", "2026-10", "--account", "102"],
    "report reconciliation": ["--account", ACCOUNT, "--period", "2026-10", "--out", "{tmp}/rec.pdf"],
    "report trial-balance": ["--entity", "COUNTY", "--period", "2026-10"],
    "report vouchers": ["--entity", "COUNTY", "--period", "2026-10", "--out", "{tmp}/vouchers.html"],
    "runs approve": ["1"],
    "runs cancel": ["1"],
    "runs diff": ["1", "2"],
    "runs explain": ["1", HOUSEHOLD],
    "runs list": [],
    "runs post": ["1"],
    "keys init": ["--out", "{tmp}/signing.key"],
    "runs return": ["1", "--comment", "花名册缺盖章"],
    "runs reverse": ["1", "--reason", "规则有误"],
    "runs show": ["1"],
    "users add": ["管理员甲", "--role", "管理员", "--password-stdin"],
    "users disable": ["nobody"],
    "users enable": ["nobody"],
    "users list": [],
    "users reset-password": ["nobody", "--password-stdin"],
    "users roles": ["nobody", "--role", "审计"],
    "verify": [],
}
# What a command reads from standard input (a password).
STDIN = {"users add": "一个够长的口令 2026\n", "users reset-password": "另一个够长的口令 2026\n"}
# Commands that make their own database (so "a database only they touched" is what they do).
OWN_DATABASE = {
    "demo": "tests/dev/demo runs it as a process on its own books",
    "serve": "tests/web/test_web_serve.py starts it as a process, asks a page and stops it",
}


def leaf_commands() -> set[str]:
    """Every command a user can type: the leaves of the command tree, and groups that run by
    themselves (``reconcile --account … --period …``)."""
    found: set[str] = set()

    def walk(group, prefix: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
        for name, command in group.commands.items():
            words = (*prefix, name)
            if getattr(command, "commands", None):
                if getattr(command, "invoke_without_command", False):
                    found.add(" ".join(words))
                walk(command, words)
            else:
                found.add(" ".join(words))

    walk(typer.main.get_command(app), ())
    return found


def test_every_command_is_in_the_table() -> None:
    missing = leaf_commands() - set(COMMANDS) - set(OWN_DATABASE)
    assert not missing, f"add these commands to COMMANDS: {sorted(missing)}"
    assert not set(COMMANDS) - leaf_commands(), "COMMANDS names commands that no longer exist"


@pytest.fixture(scope="module")
def county_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("fresh_county")
    generate_county(directory, 50, 7)
    return directory


def _input_files(directory: Path) -> None:
    (directory / "vouchers.csv").write_text(VOUCHERS, encoding="utf-8")
    (directory / "anomalies.json").write_text('{"anomalies": [], "near_misses": []}', encoding="utf-8")
    (directory / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (directory / "funds.csv").write_text(
        "指标文号,资金名称,资金级次,资金性质,功能科目,年度,金额,可用于项目\n"
        "商财〔2026〕1号,补助资金,省,一般公共预算,2130599,2026,1000.00,dibao\n",
        encoding="utf-8",
    )
    (directory / "statement.csv").write_text(
        "交易日期,流水号,摘要,支出金额,收入金额,余额\n2026-10-05,T1,利息,,1.00,101.00\n", encoding="utf-8"
    )
    (directory / "returns.csv").write_text(
        "账号,户名,金额,处理结果,失败原因,摘要\n6228480012345678,张三,10.00,成功,,PAY-202610-000001\n", encoding="utf-8"
    )


@pytest.fixture
def fresh_sqlite(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, seeded SQLite file. Which tables a process loads does not depend on the
    engine, so this runs on SQLite only (the scenario suite runs every command on both)."""
    import shutil

    path = tmp_path / "books.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def _python_path() -> dict[str, str]:
    """PYTHONPATH when the tests run against a checkout other than the installed one (a
    worktree), so the console script imports the code under test."""
    value = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": value} if value else {}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_command_in_a_fresh_process(command: str, fresh_sqlite: str, county_directory: Path, tmp_path: Path) -> None:
    database_url = fresh_sqlite
    _input_files(tmp_path)
    arguments = [part.format(county=county_directory, tmp=tmp_path) for part in COMMANDS[command]]
    completed = subprocess.run(
        [str(CONSOLE_SCRIPT), "--db", database_url, *command.split(), *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        input=STDIN.get(command, ""),
        env={"PATH": "/usr/bin:/bin", "DISBURSE_USER": "clerk", "HOME": str(tmp_path), **_python_path()},
        cwd=tmp_path,
    )
    output = completed.stdout + completed.stderr
    assert "Traceback" not in output, output
    assert completed.returncode in (0, 1), output
    if completed.returncode == 1:
        assert completed.stderr.strip(), "a refusal says why"
