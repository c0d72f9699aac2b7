"""`disburse generate bank-return` and `generate bank-statement` (issue 11 item 7): the bank's
files for a test or training database, in each profile's own layout, consistent with the books.

Each test runs the commands as a user does and then the rest of the month on what they wrote:
the return is applied, the statement imported and reconciled, its bank-only lines posted with
the shipped county_example.yaml.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "payouts"))

from payout_builders import ONE_APPROVER, card, owe  # noqa: E402
from reconciliation_db_builders import (  # noqa: E402
    ACCOUNT_NUMBER,
    BOOK_BALANCE_FEN,
    LEDGER_ACCOUNT,
    PERIOD,
    build_books,
)

from disburse.cli import app as cli  # noqa: E402
from disburse.dev.bankfiles import FAILURE_REASONS, FEE_PER_PAYMENT_FEN, GRID_ACCOUNT  # noqa: E402
from disburse.foundation.db import transaction  # noqa: E402
from disburse.importers.bank_profiles import load_profiles  # noqa: E402
from disburse.importers.bank_statement import parse_bank_statement  # noqa: E402
from disburse.importers.returns import parse_bank_return  # noqa: E402
from disburse.ledger.service import add_bank_account  # noqa: E402
from disburse.payouts.cards import no_cards  # noqa: E402
from disburse.payouts.service import approve_batch, export_batch, prepare_batch  # noqa: E402

RULES = Path(cli.__file__).resolve().parents[1] / "reconciliation" / "rules" / "county_example.yaml"


def run(database_url: str, *arguments: str, user: str = "dora") -> tuple[int, str]:
    result = CliRunner().invoke(
        cli.app, ["--db", database_url, *arguments], env={"DISBURSE_USER": user, "COLUMNS": "200"}
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout + result.stderr


def _exported(engine, tmp_path: Path, profile: str, payees: int = 12) -> str:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        add_bank_account(session, "COUNTY", "中国建设银行", ACCOUNT_NUMBER, "setup", "县财政专户")
        owe(
            session,
            [
                {
                    "household_id": f"H{n:03d}",
                    "amount_fen": 10_000 + n,
                    "account_no": card(n),
                    "account_name": f"户主{n}",
                }
                for n in range(1, payees + 1)
            ],
        )
    with transaction(engine) as session:
        batch = prepare_batch(
            session, "COUNTY", "alice", config=ONE_APPROVER, today=dt.date(2026, 11, 5), card_lookup=no_cards
        ).batch_reference
    with transaction(engine) as session:
        approve_batch(session, batch, "bob", ONE_APPROVER)
    with transaction(engine) as session:
        export_batch(session, batch, profile, tmp_path / "batch.csv", "carol", today=dt.date(2026, 11, 5))
    return str(batch)


@pytest.mark.parametrize(("exported_as", "profile"), [("generic", "generic"), ("icbc", "icbc"), ("icbc", "generic")])
def test_issue11_item7_generated_return_applies_with_its_failures(
    engine, database_url, tmp_path, exported_as, profile
) -> None:  # type: ignore[no-untyped-def]
    batch = _exported(engine, tmp_path, exported_as)
    out = tmp_path / "return.csv"
    code, output = run(
        database_url,
        "generate",
        "bank-return",
        batch,
        "--bank",
        profile,
        "--fail",
        "3",
        "--seed",
        "7",
        "--out",
        str(out),
    )
    assert code == 0, output
    assert "12 line(s), 9 paid and 3 failed" in output
    parsed = parse_bank_return(out, profile, load_profiles())
    assert not parsed.refused, parsed.problems
    lines = parsed.frame
    assert (lines["status"] == "failure").sum() == 3
    assert set(lines.loc[lines["status"] == "failure", "reason"]) <= set(FAILURE_REASONS)
    assert sorted(lines["amount_fen"].tolist()) == [10_000 + n for n in range(1, 13)]
    # ICBC's batch file has no memo column: the bank cannot echo our payment reference.
    assert lines["memo"].fillna("").str.contains("PAY-").all() == (exported_as == "generic")

    code, output = run(database_url, "payout", "returns", str(out), "--bank", profile, "--date", "2026-11-06")
    assert code == 0, output
    assert "9 paid" in output and "3 failed" in output
    code, output = run(database_url, "generate", "bank-return", batch, "--bank", profile, "--out", str(out))
    assert code == 1 and "already has its result" in output


def test_issue11_item7_generated_return_refusals(engine, database_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    batch = _exported(engine, tmp_path, "generic", payees=2)
    code, output = run(
        database_url,
        "generate",
        "bank-return",
        batch,
        "--bank",
        "generic",
        "--fail",
        "3",
        "--out",
        str(tmp_path / "r.csv"),
    )
    assert code == 1 and "--fail 3: batch" in output and "has 2 payment(s) waiting" in output
    code, output = run(
        database_url, "generate", "bank-return", batch, "--bank", "abc_debit", "--out", str(tmp_path / "r.csv")
    )
    assert code == 1 and "describes no return file" in output
    code, output = run(
        database_url, "generate", "bank-return", batch, "--bank", "generic", "--out", str(tmp_path / "r.txt")
    )
    assert code == 1 and "as .csv or .xlsx" in output


@pytest.mark.parametrize("style", ["control", "total", "payee"])
def test_issue11_item7_generated_statement_reconciles_and_ties(engine, database_url, tmp_path, style) -> None:  # type: ignore[no-untyped-def]
    # The worked example's November: two vouchers and a batch of three, one failed.
    build_books(engine, tmp_path)
    out = tmp_path / "statement.csv"
    code, output = run(
        database_url,
        "generate",
        "bank-statement",
        "--account",
        LEDGER_ACCOUNT,
        "--period",
        PERIOD,
        "--batch-lines",
        style,
        "--out",
        str(out),
    )
    assert code == 0, output
    assert "statement (ccb)" in output  # the account's bank, 中国建设银行
    code, output = run(database_url, "import", "bank-statement", str(out), "--account", LEDGER_ACCOUNT)
    assert code == 0 and "bank profile 中国建设银行 (ccb) (detected from the header)" in output, output
    code, output = run(database_url, "reconcile", "--account", LEDGER_ACCOUNT, "--period", PERIOD)
    assert code == 0, output
    # Only the bank's own fee (3 payments × 0.50) and its interest are bank-only; the two
    # vouchers are candidates (the books name no counterparty); nothing is left in the books.
    assert "0 book-only" in output and "2 bank-only" in output and "2 candidate(s)" in output, output
    assert "调节表 agrees" in output
    code, output = run(
        database_url,
        "reconcile",
        "post-unmatched",
        "--account",
        LEDGER_ACCOUNT,
        "--period",
        PERIOD,
        "--rules",
        str(RULES),
    )
    assert code == 0, output
    assert (
        f"银行手续费: 1 line(s), -{3 * FEE_PER_PAYMENT_FEN / 100:.2f} yuan" in output
        and "存款利息: 1 line(s)" in output
    )
    with transaction(engine) as session:
        book = session.scalar(
            text("SELECT sum(amount_fen) FROM postings WHERE account_code = :code"), {"code": LEDGER_ACCOUNT}
        )
        bank = session.scalar(text("SELECT balance_fen FROM statement_lines ORDER BY booked_on DESC, id DESC LIMIT 1"))
    # The books, with the fee and the interest posted, hold what the bank holds.
    assert book == bank and BOOK_BALANCE_FEN - 3 * FEE_PER_PAYMENT_FEN < bank


def test_issue11_item7_county_example_rules_post_a_generated_countys_statement(database_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # A generated county's October: grid settlements received (到账日期), whose receipts the
    # settlement import books on the county's account. The statement shows the grid company
    # paying each, naming its station; reconcile matches them, and the shipped rules post the
    # bank-only rest.
    county = tmp_path / "county"
    assert run(database_url, "generate", "county", "--households", "60", "--seed", "3", "--out", str(county))[0] == 0
    for snapshot in ("2026-08-31", "2026-09-30", "2026-10-31"):
        code, output = run(
            database_url, "import", "registry", str(county / f"register_{snapshot}.csv"), "--as-of", snapshot
        )
        assert code == 0, output
    for arguments in (
        ("assets", "load", str(county / "assets.yaml")),
        (
            "entities",
            "add-bank-account",
            "COUNTY",
            "--bank",
            "中国农业银行商州支行",
            "--account-number",
            "6228480012345678901",
        ),
        ("import", "pv-settlement", str(county / "pv_settlements.csv")),
    ):
        code, output = run(database_url, *arguments)
        assert code == 0, output
    out = tmp_path / "statement.csv"
    code, output = run(
        database_url,
        "generate",
        "bank-statement",
        "--account",
        "6228480012345678901",
        "--period",
        "2026-10",
        "--out",
        str(out),
    )
    assert code == 0 and "statement (abc)" in output, output
    parsed = parse_bank_statement(out, "abc")
    assert not [problem for problem in parsed.problems if problem.severity == "error"], parsed.problems
    lines = parsed.frame
    settlements = lines[lines["counterparty_account"] == GRID_ACCOUNT]
    assert len(settlements) >= 1 and settlements["memo"].str.contains("PV-611002-").all()
    assert run(database_url, "import", "bank-statement", str(out), "--account", "6228480012345678901")[0] == 0
    assert run(database_url, "reconcile", "--account", "6228480012345678901", "--period", "2026-10")[0] == 0
    code, output = run(
        database_url,
        "reconcile",
        "post-unmatched",
        "--account",
        "6228480012345678901",
        "--period",
        "2026-10",
        "--rules",
        str(RULES),
    )
    assert code == 0, output
    # The settlement import booked each receipt (Dr 102 / Cr 112), so the grid company's lines
    # match those receipts; the rules post only what the books never saw (the interest).
    others = len(lines) - len(settlements)
    assert f"posted {others} bank-only line(s)" in output and "0 line(s) match no rule" in output, output
    assert "国网电费结算" not in output and others >= 1, output
    code, output = run(database_url, "reconcile", "--account", "6228480012345678901", "--period", "2026-10")
    assert code == 0 and "0 bank-only" in output and "调节表 agrees" in output, output


@pytest.mark.parametrize(
    "profile", sorted(name for name, profile in load_profiles().items() if profile.statement is not None)
)
def test_issue11_item7_every_statement_layout_reads_back(engine, database_url, tmp_path, profile) -> None:  # type: ignore[no-untyped-def]
    build_books(engine, tmp_path)
    layout = load_profiles()[profile].statement
    suffix = "csv" if "csv" in layout.file_types else "xlsx"
    out = tmp_path / f"statement.{suffix}"
    code, output = run(
        database_url,
        "generate",
        "bank-statement",
        "--account",
        LEDGER_ACCOUNT,
        "--period",
        PERIOD,
        "--bank",
        profile,
        "--out",
        str(out),
    )
    assert code == 0, output
    parsed = parse_bank_statement(out, profile)
    assert not [problem for problem in parsed.problems if problem.severity == "error"], parsed.problems
    lines = parsed.frame
    # Receipt 10,000.00, fee voucher −15.00, the batch's control total −623.45, the refund
    # +123.45 the next day, the batch fee −1.50, and the interest of the 21st.
    assert lines["amount_fen"].tolist()[:5] == [1_000_000, -1_500, -62_345, -150, 12_345]
    assert lines["summary"].tolist()[-1] == "结息"
    if "balance" in layout.columns:
        assert int(lines["balance_fen"].iloc[-1]) == int(lines["amount_fen"].sum())


def test_issue11_item7_late_item_reaches_the_bank_next_period(engine, database_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    build_books(engine, tmp_path)
    vouchers = tmp_path / "vouchers.csv"
    vouchers.write_text(
        "凭证号,日期,摘要,科目编码,借方金额,贷方金额\n"
        "记-0901,2026-11-29,支付电站运维费,513,800.00,\n"
        f"记-0901,2026-11-29,支付电站运维费,{LEDGER_ACCOUNT},,800.00\n",
        encoding="utf-8",
    )
    assert run(database_url, "journal", "post", str(vouchers), "--entity", "COUNTY")[0] == 0
    assert run(database_url, "journal", "approve", "1", user="erin")[0] == 0  # the checker posts it
    november, december = tmp_path / "11.csv", tmp_path / "12.csv"
    code, output = run(
        database_url,
        "generate",
        "bank-statement",
        "--account",
        LEDGER_ACCOUNT,
        "--period",
        PERIOD,
        "--late",
        "--out",
        str(november),
    )
    assert code == 0 and "held back for the cut-off: 转账 -800.00 of 2026-11-29" in output, output
    assert run(database_url, "import", "bank-statement", str(november), "--account", LEDGER_ACCOUNT)[0] == 0
    code, output = run(database_url, "reconcile", "--account", LEDGER_ACCOUNT, "--period", PERIOD)
    # At 11-30 the 800.00 is 企业已付、银行未付, and the table still ties.
    assert code == 0 and "1 book-only" in output and "调节表 agrees" in output, output

    code, output = run(
        database_url,
        "generate",
        "bank-statement",
        "--account",
        LEDGER_ACCOUNT,
        "--period",
        "2026-12",
        "--out",
        str(december),
    )
    assert code == 0, output
    lines = parse_bank_statement(december, "ccb").frame
    assert lines[["booked_on", "amount_fen"]].astype(str).values.tolist()[0] == ["2026-12-01", "-80000"]
    assert run(database_url, "import", "bank-statement", str(december), "--account", LEDGER_ACCOUNT)[0] == 0
    code, output = run(database_url, "reconcile", "--account", LEDGER_ACCOUNT, "--period", "2026-12")
    # December's first line is November's payment: a candidate for it (beside November's two,
    # still unconfirmed), and nothing is left in the books.
    assert code == 0 and "0 book-only" in output and "3 candidate(s)" in output, output
    assert "2026-12-01 -800.00 转账 支付电站运维费" in output and "2026-11-29 -800.00 支付电站运维费" in output


XBANK = """
bank: 测试银行
statement:
  direction: flag
  columns:
    date: 记账日
    amount: 发生额
    direction: 收支
    balance: 当前余额
    summary: 用途
    counterparty_account: 付款人账号
    counterparty_name: 付款人名称
    memo: 附加信息
    txn_id: 柜员流水
  debit_flags: [支]
  credit_flags: [收]
  date_formats: ["%Y%m%d"]
  encodings: [gb18030]
  file_types: [csv]
batch_payment:
  file_type: csv
  encoding: gb18030
  columns:
    - {header: 收款卡号, source: account_no}
    - {header: 收款人, source: account_name}
    - {header: 代发金额, source: amount}
    - {header: 用途, source: memo}
return:
  columns: {account_no: 收款卡号, account_name: 收款人, amount: 代发金额, status: 结果, reason: 原因, memo: 用途}
  success_values: [S]
  failure_values: [F]
  encodings: [gb18030]
  file_types: [csv]
"""


def test_issue11_item7_any_profile_with_the_layouts_works(engine, database_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "xbank.yaml").write_text(XBANK, encoding="utf-8")
    with transaction(engine) as session:
        add_bank_account(session, "COUNTY", "测试银行城关支行", ACCOUNT_NUMBER, "setup", "县财政专户")
        owe(session, [{"household_id": f"H{n:03d}", "amount_fen": 5_000 * n, "account_no": card(n)} for n in (1, 2, 3)])
    with transaction(engine) as session:
        batch = prepare_batch(
            session, "COUNTY", "alice", config=ONE_APPROVER, today=dt.date(2026, 11, 5), card_lookup=no_cards
        ).batch_reference
    with transaction(engine) as session:
        approve_batch(session, batch, "bob", ONE_APPROVER)
    extra = ("--profiles", str(profiles))
    code, output = run(
        database_url,
        "payout",
        "export",
        str(batch),
        "--bank",
        "xbank",
        "--out",
        str(tmp_path / "b.csv"),
        "--date",
        "2026-11-05",
        *extra,
    )
    assert code == 0, output
    returned = tmp_path / "return.csv"
    code, output = run(
        database_url,
        "generate",
        "bank-return",
        str(batch),
        "--bank",
        "xbank",
        "--fail",
        "1",
        "--out",
        str(returned),
        *extra,
    )
    assert code == 0, output
    assert returned.read_bytes().decode("gb18030").splitlines()[0] == "收款卡号,收款人,代发金额,结果,原因,用途"
    code, output = run(
        database_url, "payout", "returns", str(returned), "--bank", "xbank", "--date", "2026-11-06", *extra
    )
    assert code == 0 and "2 paid" in output, output
    statement = tmp_path / "statement.csv"
    code, output = run(
        database_url,
        "generate",
        "bank-statement",
        "--account",
        LEDGER_ACCOUNT,
        "--period",
        PERIOD,
        "--out",
        str(statement),
        *extra,
    )
    assert code == 0 and "测试银行 statement (xbank)" in output, output
    rows = statement.read_bytes().decode("gb18030").splitlines()
    assert rows[3].startswith("记账日,发生额,收支,当前余额") and rows[4].startswith("20261106,")
    code, output = run(database_url, "import", "bank-statement", str(statement), "--account", LEDGER_ACCOUNT, *extra)
    assert code == 0 and "bank profile xbank (detected from the header)" in output, output
    code, output = run(database_url, "reconcile", "--account", LEDGER_ACCOUNT, "--period", PERIOD)
    assert code == 0 and "0 book-only" in output and "调节表 agrees" in output, output
