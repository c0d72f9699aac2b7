"""`report ledger` and `report vouchers` run as commands of the real app, asserting output text,
files and exit codes."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from test_reports_books import FORMULA_MEMO, FUND_PV, HOUSEHOLD_TWO, post_books
from typer.testing import CliRunner

from disburse.cli import app as cli


def table_rows(output: str) -> list[list[str]]:
    """The cells of each body row of a rich table printed with box characters."""
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in output.splitlines() if line.startswith("│")]


@pytest.fixture
def run(engine, database_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def invoke(*arguments: str):  # type: ignore[no-untyped-def]
        result = CliRunner().invoke(cli.app, ["--db", database_url, *arguments])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return invoke


def test_ledger_prints_and_writes(engine, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    out = tmp_path / "211.xlsx"
    result = run(
        "report",
        "ledger",
        "--entity",
        "COUNTY",
        "--period",
        "2026-10",
        "--account",
        "211",
        "--household",
        HOUSEHOLD_TWO,
        "--fund",
        FUND_PV,
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert f"明细账 COUNTY 2026-10 211 应付款 (户编号 {HOUSEHOLD_TWO}，资金来源 {FUND_PV})" in result.stdout
    table = {cells[1] or cells[3]: cells for cells in table_rows(result.stdout)}
    # 借方, 贷方, 方向, 余额 of each line, as worked out by hand for H2's PV payable.
    assert table["期初余额"][6:] == ["", "", "贷", "1,800.00"]
    assert table["记-0003"][6:] == ["1,800.00", "", "平", "0.00"]
    assert table["记-0005"][6:] == ["", "1,800.00", "贷", "1,800.00"]
    assert table["本月合计"][6:] == ["1,800.00", "1,800.00", "贷", "1,800.00"]
    assert table["本年累计"][6:] == ["1,800.00", "3,600.00", "贷", "1,800.00"]
    # The printed book: title, 编制单位 line, the header, then 日期 凭证字号 摘要 借方 贷方 方向 余额.
    sheet = openpyxl.load_workbook(out).active
    assert [cell.value for cell in sheet[3]] == ["日期", "凭证字号", "摘要", "借方", "贷方", "方向", "余额"]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert [row[6] for row in rows] == [1800, 0, 1800, 1800, 1800]
    assert [row[5] for row in rows] == ["贷", "平", "贷", "贷", "贷"]
    assert sheet.cell(row=5, column=4).number_format == "¥#,##0.00"


def test_ledger_csv_neutralises_formula_memo(engine, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    out = tmp_path / "102.csv"
    result = run("report", "ledger", "--entity", "COUNTY", "--period", "2026-10", "--account", "102", "--out", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8-sig")
    assert "'" + FORMULA_MEMO.replace('"', '""') in text
    assert "\n2026-10-05,记-0004,102,\"'=HYPERLINK" in text


def test_ledger_refusals(engine, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("report", "ledger", "--entity", "COUNTY", "--period", "2026-10", "--account", "999")
    assert result.exit_code == 1 and "account '999' does not exist" in result.stderr
    result = run(
        "report",
        "ledger",
        "--entity",
        "COUNTY",
        "--period",
        "2026-10",
        "--account",
        "102",
        "--out",
        str(tmp_path / "detail.txt"),
    )
    assert result.exit_code == 1 and "written as .pdf, .xlsx or .csv, not .txt" in result.stderr
    assert result.stdout == ""


def test_vouchers_writes_pdf_html_and_xlsx(engine, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    books = post_books(engine)
    out = tmp_path / "vouchers.pdf"
    result = run(
        "report", "vouchers", "--entity", "COUNTY", "--period", "2026-10", "--out", str(out), "--user", "张会计"
    )
    assert result.exit_code == 0, result.output
    # Five vouchers of at most ten lines: one page each.
    assert "5 voucher(s) of COUNTY 2026-10 written to" in result.stdout and "(5 page(s))" in result.stdout
    assert out.read_bytes().startswith(b"%PDF")
    one = tmp_path / "one.html"
    result = run("report", "vouchers", "--entity", "COUNTY", "--entry", str(books.reversal_entry_id), "--out", str(one))
    assert result.exit_code == 0, result.output
    page = one.read_text(encoding="utf-8")
    assert page.count('<section class="page voucher"') == 1 and "本凭证冲销 2026-10 记-0003" in page
    assert "<title>记账凭证 县级扶贫资金专户（COUNTY） 2026年10月</title>" in page
    workbook = tmp_path / "vouchers.xlsx"
    result = run("report", "vouchers", "--entity", "COUNTY", "--period", "2026-10", "--out", str(workbook))
    assert result.exit_code == 0, result.output
    titles = [row[0] for row in openpyxl.load_workbook(workbook)["记账凭证"].iter_rows(values_only=True)]
    assert titles.count("记账凭证") == 5


def test_vouchers_refusals(engine, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    missing = run(
        "report",
        "vouchers",
        "--entity",
        "COUNTY",
        "--period",
        "2026-10",
        "--voucher",
        "记-0042",
        "--out",
        str(tmp_path / "v.pdf"),
    )
    assert missing.exit_code == 1 and "has no voucher 记-0042" in missing.stderr
    wrong = run("report", "vouchers", "--entity", "COUNTY", "--period", "2026-10", "--out", str(tmp_path / "v.doc"))
    assert wrong.exit_code == 1 and "written as .pdf, .xlsx or .html" in wrong.stderr
    assert not (tmp_path / "v.pdf").exists()
