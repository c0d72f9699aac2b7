"""`payout ...` commands run through the real app: real files, output text and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from payout_builders import card, owe, with_bank_account, write_return
from typer.testing import CliRunner

from disburse.cli import app as cli
from disburse.foundation.db import transaction


def run(database_url: str, *arguments: str, user: str = "alice"):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli.app, ["--db", database_url, "payout", *arguments], env={"DISBURSE_USER": user})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.fixture
def books(engine, database_url: str) -> str:  # type: ignore[no-untyped-def]
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


def test_the_payout_cycle_through_the_commands(books: str, tmp_path: Path) -> None:
    prepared = run(books, "prepare", "--entity", "COUNTY")
    assert prepared.exit_code == 0, prepared.output
    batch = prepared.stdout.split()[1].rstrip(":")
    assert batch.startswith("BATCH-") and "2 payment(s), 200.00 yuan from 3 payable(s)" in prepared.stdout

    nothing = run(books, "prepare", "--entity", "COUNTY")
    assert nothing.exit_code == 0 and "nothing new to pay" in nothing.stdout

    own = run(books, "approve", batch)
    assert own.exit_code == 1 and "cannot approve it" in own.stderr and "Traceback" not in own.output
    early = run(books, "export", batch, "--bank", "generic", "--out", str(tmp_path / "b.csv"), user="carol")
    assert early.exit_code == 1 and "not approved yet" in early.stderr
    assert run(books, "approve", batch, user="bob").exit_code == 0

    exported = run(books, "export", batch, "--bank", "ccb", "--out", str(tmp_path / "ccb.csv"), user="carol")
    assert exported.exit_code == 0, exported.output
    assert "ccb.csv" in exported.stdout and "200.00" in exported.stdout
    header = (tmp_path / "ccb.csv").read_bytes().decode("gbk").splitlines()[0]
    assert header == "序号,账户,户名,金额,跨行标识,行名,联行行号,摘要,备注"
    again = run(books, "export", batch, "--bank", "ccb", "--out", str(tmp_path / "ccb.csv"), user="carol")
    assert again.exit_code == 0 and "already exported" in again.stdout

    reference = (tmp_path / "ccb.csv").read_bytes().decode("gbk").splitlines()[1].split(",")[-1]
    returned = write_return(
        tmp_path / "return.csv",
        [
            (card(1), "户主H001", 15_000, "成功", "", reference),
            (card(2), "户主H002", 5_000, "失败", "账户已销户", reference[:-1] + "2"),
            (card(7), "某人", 100, "成功", "", "PAY-202601-123456"),
        ],
    )
    applied = run(books, "returns", str(returned), "--bank", "generic", "--date", "2026-11-20", user="erin")
    assert applied.exit_code == 0, applied.output
    assert "1 paid (150.00 yuan), 1 failed (50.00 yuan" in applied.stdout and "not one of ours" in applied.stdout
    repeat = run(books, "returns", str(returned), "--bank", "generic", "--date", "2026-11-20", user="erin")
    assert repeat.exit_code == 0 and "nothing changed" in repeat.stdout
    bad_date = run(books, "returns", str(returned), "--bank", "generic", "--date", "20.11.2026", user="erin")
    assert bad_date.exit_code == 1 and "YYYY-MM-DD" in bad_date.stderr

    fixes = run(books, "fix-list")
    assert "H002" in fixes.stdout and "账户已销户" in fixes.stdout
    status = run(books, "status", "--household", "H002")
    assert "失败" in status.stdout and "待改卡" in status.stdout and "账户已销户" in status.stdout
    paid = run(books, "status", "--household", "H001")
    # The same state names as the 明白卡: 已到账 (paid into the account).
    assert "已到账" in paid.stdout and "2026-11-20" in paid.stdout

    held = run(books, "prepare", "--entity", "COUNTY")
    assert "nothing new to pay" in held.stdout and "fix the card" in held.stdout
    fixed = run(books, "fix-account", "H002", card(22), "--bank-name", "中国农业银行", "--reason", "新卡", user="frank")
    assert fixed.exit_code == 0 and "FIX-" in fixed.stdout and "6217000000000022" not in fixed.stdout
    assert "621700******0022" in fixed.stdout
    fix = fixed.stdout.split(":")[0].strip()
    own = run(books, "approve-fix", fix, user="frank")
    assert own.exit_code == 1 and "cannot approve it" in own.stderr
    assert run(books, "approve-fix", fix, user="grace").exit_code == 0
    reissued = run(books, "prepare", "--entity", "COUNTY")
    assert reissued.exit_code == 0 and "1 payment(s), 50.00 yuan" in reissued.stdout


def test_refusals_are_one_paragraph_and_exit_1(books: str, tmp_path: Path) -> None:
    unknown = run(books, "approve", "BATCH-209901-0001", user="bob")
    assert unknown.exit_code == 1 and "does not exist" in unknown.stderr
    no_entity = run(books, "prepare", "--entity", "NOWHERE")
    assert no_entity.exit_code == 1 and "does not exist" in no_entity.stderr
    batch = run(books, "prepare", "--entity", "COUNTY").stdout.split()[1].rstrip(":")
    run(books, "approve", batch, user="bob")
    no_profile = run(books, "export", batch, "--bank", "nobank", "--out", str(tmp_path / "x.csv"))
    assert no_profile.exit_code == 1 and "no bank profile named 'nobank'" in no_profile.stderr
    bad_account = run(books, "fix-account", "H001", "12ab")
    assert bad_account.exit_code == 1 and "8 to 30 digits" in bad_account.stderr


def test_issue11_item3_card_fix_commands_in_separate_processes(books: str, tmp_path: Path) -> None:
    """The maker and the checker each run the installed `disburse` in a process of their own."""
    from cli_runner import run_script

    batch = run(books, "prepare", "--entity", "COUNTY", "--bank", "ccb").stdout.split()[1].rstrip(":")
    run(books, "approve", batch, user="bob")
    run(books, "export", batch, "--out", str(tmp_path / "ccb.csv"), user="carol")
    lines = (tmp_path / "ccb.csv").read_bytes().decode("gbk").splitlines()
    returned = write_return(
        tmp_path / "return.csv",
        [
            (card(1), "户主H001", 15_000, "成功", "", lines[1].split(",")[-1]),
            (card(2), "户主H002", 5_000, "失败", "户名不符", lines[2].split(",")[-1]),
        ],
    )
    assert run(books, "returns", str(returned), "--bank", "generic", user="erin").exit_code == 0

    luhn = run_script(
        books, "payout", "fix-account", "H002", "6214490000000000001", "--bank-name", "中国农业银行", user="frank"
    )
    assert luhn.exit_code == 0, luhn.output
    assert "Luhn check digit does not match" in luhn.stderr and "6214490000000000001" not in luhn.output
    fix = luhn.stdout.split(":")[0].strip()
    rejected = run(books, "reject-fix", fix, "--reason", "卡号抄错", user="grace")
    assert rejected.exit_code == 0 and "rejected by grace" in rejected.stdout
    named = run(books, "fix-account", "H002", card(2), "--name", "唐根莉", user="frank")
    assert named.exit_code == 0 and "户名 户主H002 → 唐根莉" in named.stdout
    second = named.stdout.split(":")[0].strip()
    assert run(books, "approve-fix", second, user="frank").exit_code == 1
    approved = run_script(books, "payout", "approve-fix", second, user="grace")
    assert approved.exit_code == 0 and "1 failed payment(s) can be paid again" in approved.stdout
    log = run(books, "fixes", "--payee", "H002")
    assert "已退回" in log.stdout and "已生效" in log.stdout and "户主H002 → 唐根莉" in log.stdout
    assert "退回: 卡号抄错" in log.stdout
    reissued = run(books, "prepare", "--entity", "COUNTY", "--bank", "ccb")
    assert reissued.exit_code == 0 and "1 payment(s), 50.00 yuan" in reissued.stdout
    from cli_runner import run as run_command

    audit = run_command(books, "audit", "log")
    assert "payout approve-fix" in audit.stdout and "payout reject-fix" in audit.stdout
