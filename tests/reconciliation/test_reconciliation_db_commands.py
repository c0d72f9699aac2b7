"""The reconciliation commands (`import bank-statement`, `reconcile ...`) run through the real app,
on real files; output text and exit codes."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from reconciliation_db_builders import LEDGER_ACCOUNT, LINES, PERIOD, RULES, build_books, write_statement  # noqa: E402

from disburse.cli import app as cli  # noqa: E402


def run(database_url: str, *arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, ["--db", database_url, *arguments], env={"DISBURSE_USER": "dora"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout + result.stderr


@pytest.fixture
def books(engine, database_url: str, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    build_books(engine, tmp_path)
    return database_url


def test_the_whole_cycle_on_the_command_line(books: str, tmp_path: Path) -> None:
    statement = write_statement(tmp_path / "statement.csv", LINES)
    code, output = run(books, "import", "bank-statement", str(statement), "--account", "6217000099990001")
    assert code == 0, output
    assert "bank profile 标准格式 (canonical) (detected from the header); 6 line(s)" in output and "6 new" in output
    code, output = run(books, "import", "bank-statement", str(statement), "--account", LEDGER_ACCOUNT)
    assert code == 0 and "nothing changed" in output

    code, output = run(books, "reconcile", "--account", LEDGER_ACCOUNT, "--period", PERIOD)
    assert code == 0, output
    assert (
        "1 matched, 2 candidate(s), 0 confirmed, 2 bank-only, 0 book-only, 0 amount mismatch(es), 0 duplicate(s)"
        in output
    )
    # The two candidates are 待确认, counted on neither side (issue 11 item 8).
    assert "调节表 agrees: adjusted book 9,483.21 = adjusted bank 9,483.21" in output

    report = tmp_path / "report.xlsx"
    code, output = run(
        books, "reconcile", "report", "--account", LEDGER_ACCOUNT, "--period", PERIOD, "--out", str(report)
    )
    assert code == 0, output
    candidates = re.findall(r"M[0-9a-f]{16}", _candidate_ids(report))
    assert len(candidates) == 2
    code, output = run(books, "reconcile", "confirm", candidates[0])
    assert code == 0 and "confirmed" in output
    code, output = run(books, "reconcile", "reject", candidates[1])
    assert code == 0 and "will not be proposed again" in output
    code, output = run(books, "reconcile", "confirm", "M0000000000000000")
    assert code == 1 and "no match 'M0000000000000000'" in output

    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    code, output = run(
        books, "reconcile", "post-unmatched", "--account", LEDGER_ACCOUNT, "--period", PERIOD, "--rules", str(rules)
    )
    assert code == 0, output
    # The rejected fee candidate left its 15.00 line bank-only, so three lines are posted now.
    assert (
        "posted 3 bank-only line(s) in 3 entries (银行手续费: 2 line(s), -20.00 yuan; 存款利息: 1 line(s), +3.21 yuan)"
        in output
    )
    code, output = run(
        books, "reconcile", "post-unmatched", "--account", LEDGER_ACCOUNT, "--period", PERIOD, "--rules", str(rules)
    )
    assert code == 0 and "nothing to post" in output

    code, output = run(books, "reconcile", "run", "--account", LEDGER_ACCOUNT, "--period", PERIOD)
    assert code == 0, output
    assert "0 bank-only, 1 book-only" in output  # the hand-written fee voucher, its candidate rejected


def test_refusals_exit_with_1_and_usage_errors_with_2(books: str, tmp_path: Path) -> None:
    broken = list(LINES)
    broken[2] = (*broken[2][:7], broken[2][7] + 100, broken[2][8])
    statement = write_statement(tmp_path / "broken.csv", broken)
    code, output = run(books, "import", "bank-statement", str(statement), "--account", LEDGER_ACCOUNT)
    assert code == 1
    assert "refused, nothing was written" in output and "line 4: balance 9,362.55" in output
    code, output = run(books, "reconcile", "--period", PERIOD)
    assert code == 2 and "--account" in output
    code, output = run(books, "reconcile", "--account", LEDGER_ACCOUNT, "--period", "2026-13")
    assert code == 1 and "not of the form YYYY-MM" in output


def _candidate_ids(report: Path) -> str:
    import openpyxl

    workbook = openpyxl.load_workbook(report, read_only=True)
    try:
        rows = list(workbook["匹配"].iter_rows(min_row=3, values_only=True))
    finally:
        workbook.close()
    return " ".join(str(row[0]) for row in rows if row[3] == "待确认")


def test_issue11_item8_reconcile_lists_the_candidates_with_their_ids(books: str, tmp_path: Path) -> None:
    statement = write_statement(tmp_path / "statement.csv", LINES)
    code, output = run(books, "import", "bank-statement", str(statement), "--account", LEDGER_ACCOUNT)
    assert code == 0, output
    code, output = run(books, "reconcile", "--account", LEDGER_ACCOUNT, "--period", PERIOD)
    assert code == 0, output
    listed = re.findall(r"M[0-9a-f]{16}", output)
    report = tmp_path / "report.xlsx"
    code, _ = run(books, "reconcile", "report", "--account", LEDGER_ACCOUNT, "--period", PERIOD, "--out", str(report))
    assert code == 0
    # The same two candidates the report marks 待确认, each with what it joins: the grid
    # company's 10,000.00 and the 15.00 fee, on the statement and in the books.
    assert sorted(set(listed)) == sorted(re.findall(r"M[0-9a-f]{16}", _candidate_ids(report)))
    assert "amount_date" in output and "10,000.00 电费结算 国网安康供电公司" in output and "-15.00 手续费" in output
    assert "待确认: 2 candidate match(es) are counted on neither side of the 调节表" in output
    code, output = run(books, "reconcile", "confirm", listed[0])
    assert code == 0 and "confirmed" in output
    code, output = run(books, "reconcile", "--account", LEDGER_ACCOUNT, "--period", PERIOD, "--show", "0")
    assert code == 0 and "1 more candidate(s) not listed here" in output
    assert listed[0] not in output
