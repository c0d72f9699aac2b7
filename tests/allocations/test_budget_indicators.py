"""Issue 14 item 1: budget indicators (资金指标). Worked examples through the `disburse` command
(its Typer app, in-process), the refusals with their arithmetic, and the movements of an
indicator's money tied to the payables and the ledger.

The worked example (funds_setup.py): indicators 商财社〔2025〕9号 (2025, 200.00) and 商财社〔2026〕3号
(2026, 1,000.00), both for programme test_aid; a run pays H1 and H2 150.00 each = 300.00.

- ``--fund`` the 2025 one: 200.00 available < 300.00 needed → refused with the arithmetic.
- no ``--fund``: the oldest with enough is the 2026 one (the 2025 one is short) → drawn 300.00,
  available 1,000.00 − 300.00 = 700.00.
- the batch freezes 300.00; the bank pays one 150.00 and fails the other (both 150.00, so which
  one fails does not change the figures): paid 150.00, released 150.00, frozen 0.00, awaiting
  300.00 − 0.00 − 150.00 = 150.00.
- returning 800.00 is refused (700.00 available); returning 200.00 leaves 500.00.
- identity: 1,000.00 = 500.00 available + 200.00 returned + 150.00 awaiting + 0.00 frozen + 150.00 paid.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_runner import run
from funds_setup import NEW_FUND, OLD_FUND, write_funds, write_rule
from sqlalchemy import text
from tiny_county import import_tiny_county, write_files

from disburse.foundation.db import make_engine, transaction


@pytest.fixture
def county_url(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    # The commands speak Chinese, as to their users (the suite's default is English).
    monkeypatch.setenv("DISBURSE_LANG", "zh")
    import_tiny_county(database_url, write_files(tmp_path / "county"))
    return database_url


def _scalar(url: str, sql: str):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            return session.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def _ok(url: str, *arguments: str, user: str = "clerk") -> str:
    ran = run(url, *arguments, user=user)
    assert ran.exit_code == 0, ran.output
    return ran.stdout


def test_worked_example_import_draw_freeze_pay_release_return_report(county_url: str, tmp_path: Path) -> None:
    url, funds, rule = county_url, write_funds(tmp_path), write_rule(tmp_path)
    assert "2" in _ok(url, "funds", "import", str(funds))
    again = _ok(url, "funds", "import", str(funds))
    assert re.search(r"0\D+2", again), again  # nothing added, both already there unchanged
    short = run(url, "allocate", str(rule), "--period", "2026-10", "--fund", OLD_FUND, user="clerk")
    assert short.exit_code == 1
    assert f"指标 {OLD_FUND} 可用 200.00 元（下达 200.00 − 退回 0.00 − 已用 0.00），本次需 300.00 元" in short.output
    assert NEW_FUND in _ok(url, "allocate", str(rule), "--period", "2026-10")
    _ok(url, "runs", "approve", "1", user="checker")
    _ok(url, "runs", "post", "1", user="checker")
    # The 指标文号 leads the 资金来源 of every posting of the run and of every payable.
    fund = f"{NEW_FUND} 困难群众救助资金"
    run_postings = "FROM postings p JOIN journal_entries e ON e.id = p.entry_id WHERE e.source_kind = 'allocation_run'"
    household_lines = f"SELECT count(*) {run_postings} AND p.fund_source = '{fund}' AND p.household_id IS NOT NULL"
    assert _scalar(url, household_lines) == 2
    assert _scalar(url, f"SELECT count(*) {run_postings} AND (p.fund_source IS NULL OR p.fund_source <> '{fund}')") == 0
    assert _scalar(url, f"SELECT count(*) FROM payables WHERE fund_source = '{fund}'") == 2
    _ok(url, "payout", "prepare", "--entity", "COUNTY", user="cashier")
    batch = _scalar(url, "SELECT batch_reference FROM payment_batches")
    assert _scalar(url, "SELECT sum(amount_fen) FROM fund_movements WHERE kind = 'freeze'") == 30_000
    _ok(url, "payout", "approve", batch, user="checker")
    _ok(url, "payout", "export", batch, "--bank", "generic", "--out", str(tmp_path / "batch.csv"), user="cashier")
    returned = tmp_path / "回盘.csv"
    _ok(url, "generate", "bank-return", batch, "--bank", "generic", "--fail", "1", "--out", str(returned))
    _ok(url, "payout", "returns", str(returned), "--bank", "generic", user="cashier")
    too_much = run(url, "funds", "return", NEW_FUND, "800", "--reason", "项目结余", user="checker")
    assert too_much.exit_code == 1
    assert f"指标 {NEW_FUND} 可用 700.00 元（下达 1,000.00 − 退回 0.00 − 已用 300.00）" in too_much.output
    assert "500.00" in _ok(url, "funds", "return", NEW_FUND, "200", "--reason", "项目结余", user="checker")
    report = _ok(url, "report", "funds", "--out", str(tmp_path / "资金指标执行表.xlsx"))
    line = next(line for line in report.splitlines() if NEW_FUND in line)
    # 下达, 退回, 已分配, 冻结中, 已支付, 退款, 待发放, 可用
    figures = re.findall(r"\d[\d,]*\.\d\d", line)
    assert figures == ["1,000.00", "200.00", "300.00", "0.00", "150.00", "150.00", "150.00", "500.00"], line
    assert report.count("相符") == 2 and "不相符" not in report, report
    assert (tmp_path / "资金指标执行表.xlsx").exists()
    shown = _ok(url, "funds", "show", NEW_FUND)
    assert "恒等式成立" in shown, shown
    trace = _ok(url, "report", "fund-trace", NEW_FUND)
    assert "514" in trace and "300.00" in trace


def test_a_changed_indicator_is_refused_with_file_row_column_and_value(county_url: str, tmp_path: Path) -> None:
    url = county_url
    _ok(url, "funds", "import", str(write_funds(tmp_path)))
    text_250 = (tmp_path / "资金指标.csv").read_text("utf-8").replace("200.00", "250.00")
    changed = write_funds(tmp_path, text_250, "改.csv")
    ran = run(url, "funds", "import", str(changed), user="clerk")
    assert ran.exit_code == 1
    assert "改.csv:2 [金额] '250.00'" in ran.output and "200.00" in ran.output, ran.output
    assert _scalar(url, "SELECT count(*) FROM budget_indicators") == 2


def test_a_file_with_bad_rows_is_refused_whole(county_url: str, tmp_path: Path) -> None:
    bad = write_funds(
        tmp_path,
        "指标文号,资金名称,资金级次,资金性质,功能科目,年度,金额,可用于项目\n"
        "A1,甲,省,一般公共预算,2082001,2026,100.00,test_aid\n"
        "A2,乙,乡,一般公共预算,20x,2026,-5,test_aid\n"
        "A1,丙,县,一般公共预算,2082001,2026,100.00,、\n",
        "坏.csv",
    )
    ran = run(county_url, "funds", "import", str(bad), user="clerk")
    assert ran.exit_code == 1
    places = ("坏.csv:3 [资金级次] '乡'", "坏.csv:3 [功能科目] '20x'", "坏.csv:3 [金额]", "坏.csv:4 [指标文号] 'A1'")
    for place in places:
        assert place in ran.output, (place, ran.output)
    assert "坏.csv:4 [可用于项目]" in ran.output
    assert _scalar(county_url, "SELECT count(*) FROM budget_indicators") == 0


def test_an_indicator_of_another_programme_is_refused_and_without_indicators_nothing_changes(
    county_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, rule = county_url, write_rule(tmp_path)
    # No indicator at all: today's behaviour, no control.
    assert "300.00" in _ok(url, "allocate", str(rule), "--period", "2026-10", "--dry-run")
    monkeypatch.setenv("DISBURSE_FUNDS_REQUIRED", "1")
    required = run(url, "allocate", str(rule), "--period", "2026-10", "--dry-run", user="clerk")
    assert required.exit_code == 1 and "DISBURSE_FUNDS_REQUIRED" in required.output
    monkeypatch.delenv("DISBURSE_FUNDS_REQUIRED")
    other = write_funds(
        tmp_path,
        "指标文号,资金名称,资金级次,资金性质,功能科目,年度,金额,可用于项目\nB1,甲,县,一般公共预算,2082001,2026,900,dibao\n",
        "其他.csv",
    )
    _ok(url, "funds", "import", str(other))
    ran = run(url, "allocate", str(rule), "--period", "2026-10", "--fund", "B1", user="clerk")
    assert ran.exit_code == 1 and "dibao" in ran.output and "test_aid" in ran.output, ran.output
