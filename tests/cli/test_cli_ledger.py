"""End-to-end: the ledger commands on real files, asserting output text and exit codes."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import openpyxl
from cli_runner import CONSOLE_SCRIPT, run, run_script

VOUCHERS = """凭证号,日期,摘要,科目编码,借方金额,贷方金额,户编号,资金来源
1,2026-10-05,收到电费,102,"1,000.00",,,PV-611002-001
1,2026-10-05,收到电费,501,,1000.00,,PV-611002-001
2,2026/10/06,宣告分配,322.01,999.99,,,
2,2026/10/06,宣告分配,211,,999.99,6110020010010001,
"""


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def test_init_twice_is_harmless(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'books.db'}"
    first = run_script(url, "init")
    assert first.exit_code == 0 and "47 accounts and 1 entity seeded" in first.stdout
    again = run_script(url, "init")
    assert again.exit_code == 0 and "nothing to do" in again.stdout


def test_entities_and_bank_accounts(database_url: str) -> None:
    added = run(database_url, "entities", "add", "611002001001", "--name", "大荆村", "--kind", "village")
    assert added.exit_code == 0 and "added" in added.stdout
    assert (
        "nothing changed"
        in run(database_url, "entities", "add", "611002001001", "--name", "大荆村", "--kind", "village").stdout
    )
    bad = run(database_url, "entities", "add", "6110020010", "--name", "x", "--kind", "village")
    assert bad.exit_code == 1 and "exactly 12 digits" in bad.stderr
    warned = run(database_url, "entities", "add", "93611002MA0000000A", "--name", "某合作社", "--kind", "cooperative")
    assert warned.exit_code == 0 and "check character" in warned.stderr
    bank = run(
        database_url,
        "entities",
        "add-bank-account",
        "COUNTY",
        "--bank",
        "中国农业银行",
        "--account-number",
        "6228480012345678",
    )
    assert bank.exit_code == 0 and "102.01" in bank.stdout
    listing = run(database_url, "entities", "list")
    assert "大荆村" in listing.stdout and "6228480012345678 (102.01)" in listing.stdout


def test_missing_user_is_a_usage_error(database_url: str) -> None:
    result = run(database_url, "entities", "add", "X1", "--name", "n", "--kind", "county", user=None)
    assert result.exit_code == 2 and "--user" in result.output


def test_post_show_reverse_close_trial_balance_verify(database_url: str, tmp_path: Path) -> None:
    vouchers = write(tmp_path / "vouchers.csv", VOUCHERS, encoding="gbk")
    submitted = run(database_url, "journal", "post", str(vouchers), "--entity", "COUNTY")
    assert submitted.exit_code == 0 and "2 voucher(s)" in submitted.stdout and "凭证批 1" in submitted.stdout
    again = run(database_url, "journal", "post", str(vouchers), "--entity", "COUNTY")
    assert again.exit_code == 0 and "nothing changed" in again.stdout
    assert "no entries" in run(database_url, "journal", "show", "--entity", "COUNTY", "--period", "2026-10").stdout
    assert "vouchers.csv" in run(database_url, "journal", "pending").stdout
    approved = run(database_url, "journal", "approve", "1", user="bob")
    assert approved.exit_code == 0 and "2 voucher(s) posted" in approved.stdout

    shown = run(database_url, "journal", "show", "--entity", "COUNTY", "--period", "2026-10").stdout
    assert "记-0001" in shown and "记-0002" in shown and "6110020010010001" in shown and "999.99" in shown

    reversed_ = run(database_url, "journal", "reverse", "1", user="bob")
    assert reversed_.exit_code == 0 and "entry 1 reversed by entry 3" in reversed_.stdout
    twice = run(database_url, "journal", "reverse", "1", user="bob")
    assert twice.exit_code == 1 and "already reversed" in twice.stderr

    out = tmp_path / "tb.xlsx"
    balance = run(
        database_url, "report", "trial-balance", "--entity", "COUNTY", "--period", "2026-10", "--out", str(out)
    )
    assert balance.exit_code == 0
    # By hand: 102 and 501 each 1,000.00 in and out (posted, then reversed); 322.01 999.99 debit;
    # 211 999.99 credit. Period debits = 1,000 + 1,000 (reversal of 501) + 999.99 = 2,999.99.
    # The printed book: 期初, 本期, 本年累计 and 期末, each 借方 and 贷方, from the third column.
    sheet = openpyxl.load_workbook(out).active
    rows = {row[0]: row for row in sheet.iter_rows(min_row=5, values_only=True)}
    assert rows["211"][5] == 999.99 and rows["211"][9] == 999.99
    assert rows["322.01"][4] == 999.99 and rows["322.01"][8] == 999.99
    assert rows["合计"][4] == rows["合计"][5] == 2999.99
    assert rows["合计"][8] == rows["合计"][9] == 999.99

    closed = run(database_url, "periods", "close", "COUNTY", "2026-10", user="carol")
    assert closed.exit_code == 0 and "closed with 3 entries" in closed.stdout
    late = write(
        tmp_path / "late.csv", VOUCHERS.replace("2026-10-05", "2026-10-07").replace("2026/10/06", "2026/10/08")
    )
    refused = run(database_url, "journal", "post", str(late), "--entity", "COUNTY")
    assert refused.exit_code == 1 and "in or before 2026-10, the last closed period of COUNTY" in refused.stderr

    verified = run(database_url, "verify")
    assert verified.exit_code == 0 and "every chain and every balance verified" in verified.stdout
    head = re.search(r"head COUNTY=([0-9a-f]{64})", verified.stdout).group(1)
    assert run(database_url, "verify", "--expect", f"COUNTY={head}").exit_code == 0
    wrong = run(database_url, "verify", "--expect", "COUNTY=" + "ab" * 32)
    assert wrong.exit_code == 1 and "not in the chain" in wrong.stderr


def test_unbalanced_voucher_file_is_refused_with_the_arithmetic(database_url: str, tmp_path: Path) -> None:
    bad = write(
        tmp_path / "bad.csv",
        "voucher,date,memo,account,debit,credit\n7,2026-10-05,电费,102,1000.00,\n7,2026-10-05,电费,501,,999.99\n",
    )
    result = run(database_url, "journal", "post", str(bad), "--entity", "COUNTY")
    assert result.exit_code == 1
    assert "bad.csv 凭证号 7, rows 2-3): postings sum to 0.01, not 0: 1,000.00 + -999.99" in result.stderr
    assert "nothing was posted" in result.stderr
    assert "no entries" in run(database_url, "journal", "show", "--entity", "COUNTY", "--period", "2026-10").stdout


def test_bad_cells_are_all_reported_with_row_and_column(database_url: str, tmp_path: Path) -> None:
    bad = write(
        tmp_path / "cells.csv",
        "凭证号,日期,摘要,科目编码,借方金额,贷方金额\n1,2026-13-05,x,102,1.234,\n1,2026-10-05,x,501,,abc\n",
    )
    result = run(database_url, "journal", "post", str(bad), "--entity", "COUNTY")
    assert result.exit_code == 1
    assert "cells.csv:2 [借方金额] '1.234': amount 1.234 has more than two decimal places" in result.stderr
    assert "cells.csv:3 [贷方金额] 'abc'" in result.stderr
    assert "cells.csv:2 [日期] '2026-13-05'" in result.stderr


def test_accounts_add_from_xlsx(database_url: str, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["科目编码", "科目名称", "科目类型"])
    sheet.append(["211.01", "应付款—农户", "负债"])
    sheet.append(["211.01.01", "应付款—农户—光伏", "负债"])
    path = tmp_path / "accounts.xlsx"
    workbook.save(path)
    added = run(database_url, "accounts", "add", str(path))
    assert added.exit_code == 0 and "2 account(s) added" in added.stdout
    assert "0 account(s) added, 2 already present" in run(database_url, "accounts", "add", str(path)).stdout
    listing = run(database_url, "accounts", "list").stdout
    assert "211.01.01" in listing and "应付款—农户—光伏" in listing
    sheet.append(["514.01", "公益支出—岗位", "资产"])  # wrong type for a child of 514 (expense)
    workbook.save(path)
    refused = run(database_url, "accounts", "add", str(path))
    assert refused.exit_code == 1 and "514.01 is asset but its parent 514 is expense" in refused.stderr


def test_every_command_has_help(tmp_path: Path) -> None:
    for arguments in (
        ["--help"],
        ["init", "--help"],
        ["journal", "post", "--help"],
        ["verify", "--help"],
        ["report", "trial-balance", "--help"],
        ["periods", "close", "--help"],
    ):
        result = run(f"sqlite:///{tmp_path / 'unused.db'}", *arguments)
        assert result.exit_code == 0 and "Usage" in result.stdout


def test_issue11_item12_manual_vouchers_need_a_second_person(database_url: str, tmp_path: Path) -> None:
    vouchers = write(tmp_path / "vouchers.csv", VOUCHERS, encoding="gbk")
    assert run(database_url, "journal", "post", str(vouchers), "--entity", "COUNTY", user="alice").exit_code == 0
    own = run(database_url, "journal", "approve", "1", user="alice")
    assert own.exit_code == 1 and "a different person must review it" in own.stderr
    returned = run(database_url, "journal", "return", "1", "--reason", "摘要不全", user="bob")
    assert returned.exit_code == 0 and "returned to alice: 摘要不全" in returned.stdout
    late = run(database_url, "journal", "approve", "1", user="carol")
    assert late.exit_code == 1 and "is returned by bob" in late.stderr
    assert "no entries" in run(database_url, "journal", "show", "--entity", "COUNTY", "--period", "2026-10").stdout
    listing = run(database_url, "journal", "pending", "--all").stdout
    assert "returned" in listing and "摘要不全" in listing


def test_issue11_item13_the_county_can_be_renamed_and_verify_lists_only_books_with_entries(
    database_url: str, tmp_path: Path
) -> None:
    renamed = run(database_url, "entities", "rename", "COUNTY", "--name", "商州区扶贫资金专户")
    assert renamed.exit_code == 0 and "renamed from 县级扶贫资金专户 to 商州区扶贫资金专户" in renamed.stdout
    assert "商州区扶贫资金专户" in run(database_url, "entities", "list").stdout
    assert "nothing changed" in run(database_url, "entities", "rename", "COUNTY", "--name", "商州区扶贫资金专户").stdout
    run(database_url, "entities", "add", "611002001001", "--name", "大荆村", "--kind", "village")
    vouchers = write(tmp_path / "vouchers.csv", VOUCHERS, encoding="gbk")
    run(database_url, "journal", "post", str(vouchers), "--entity", "COUNTY")
    run(database_url, "journal", "approve", "1", user="bob")
    verified = run(database_url, "verify")
    assert verified.exit_code == 0
    assert "head COUNTY=" in verified.stdout and "611002001001" not in verified.stdout
    assert "1 entities have no entries yet" in verified.stdout


def test_a_defect_reaches_the_user_as_a_message_not_a_traceback(database_url: str, tmp_path: Path) -> None:
    # A defect planted in a service function: the process shows one sentence, exits 70, writes
    # nothing, and keeps the traceback in a file for whoever supports disburse.
    plant = tmp_path / "sitecustomize.py"
    plant.write_text(
        "import disburse.ledger.service as service\n"
        "def broken(*args, **kwargs):\n    raise ZeroDivisionError('planted defect')\n"
        "service.list_entities = broken\n",
        encoding="utf-8",
    )
    environment = {key: value for key, value in os.environ.items() if key != "DISBURSE_DEBUG"}
    environment["PYTHONPATH"] = str(tmp_path)
    environment["TMPDIR"] = str(tmp_path)
    completed = subprocess.run(
        [str(CONSOLE_SCRIPT), "--db", database_url, "entities", "list"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert completed.returncode == 70
    assert "Traceback" not in completed.stdout + completed.stderr
    assert "internal error" in completed.stderr and "planted defect" in completed.stderr
    log = (tmp_path / "disburse-errors.log").read_text(encoding="utf-8")
    assert "Traceback" in log and "ZeroDivisionError: planted defect" in log
