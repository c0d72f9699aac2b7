"""The annual PV revenue notice per village (issue 14 item 2), worked by hand through the command.

The tiny county's station PV-611002-009 (100 kW, declared for 罗口村 611002101201 and 东村
611002101202) is held from 2026-02-01 by H1 2 kW, H2 1 kW and 罗口村's collective 1 kW. Its rule
takes 10% of revenue for insurance (保险费) and 120.00 a year of land rent (土地租金, 10.00 a month),
then splits the rest by claimed kW (the collective shares in the split). Run 1 (2026-03) takes
the rows that have arrived: January (100.00) has no holder and is refused; February and March go.

- February: 40.00 (1,200 kWh) − 4.00 insurance − 10.00 rent = 26.00 → H1 13.00, H2 6.50, 村 6.50;
- March: 80.00 (1,500 kWh) − 8.00 insurance − 10.00 rent = 62.00 → H1 31.00, H2 15.50, 村 15.50.

So the 2026 notice of 罗口村 shows 2,700 kWh, income 120.00, 保险费 12.00, 土地租金 20.00,
可分配收益 88.00, of which 村集体收益 22.00 and 农户收益分配 66.00 (H1 44.00, H2 22.00), all of it
this village's: 88.00. 东村 is declared for the station and gets nothing: its notice shows the
station's figures and 0.00. 12.00 + 20.00 + 22.00 + 66.00 = 120.00 = the receivable entries'
credits (40.00 + 80.00) = the run's entries' debits.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).parents[1] / "allocations"))
from cli_runner import run  # noqa: E402
from tiny_county import H1, H2, VILLAGE_1, VILLAGE_2, import_tiny_county, pv_rule, write_files  # noqa: E402

from disburse.payouts.annual_pv import StationYear, tie_problems  # noqa: E402

DEDUCTIONS = """deductions:
  - {name: insurance, percent_of_revenue: "10%", account_code: "211", expense_account_code: "511"}
  - {name: land_rent, fixed_per_year_yuan: "120", account_code: "211", expense_account_code: "511"}
"""


def said(ran) -> str:  # type: ignore[no-untyped-def]
    return " ".join(ran.output.split())


def sheet_text(path: Path, sheet: str) -> list[list[object]]:
    rows = load_workbook(path)[sheet].iter_rows(values_only=True)
    return [[cell for cell in row if cell not in (None, "")] for row in rows]


@pytest.fixture
def posted_pv(database_url: str, tmp_path: Path) -> str:
    import_tiny_county(database_url, write_files(tmp_path / "county"))
    rule = pv_rule(tmp_path, extra=DEDUCTIONS)
    assert run(database_url, "allocate", str(rule), "--period", "2026-03").exit_code == 0
    assert run(database_url, "runs", "approve", "1", user="bob").exit_code == 0
    assert run(database_url, "runs", "post", "1", user="bob").exit_code == 0
    return database_url


def test_the_annual_notice_of_a_village_is_worked_by_hand(posted_pv: str, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DISBURSE_HOTLINE", "0914-12317")
    monkeypatch.setenv("DISBURSE_LANG", "en")  # the notice is Chinese whatever the operator reads
    out = tmp_path / "gs"
    made = run(posted_pv, "notice", "create-annual", "--year", "2026", "--from", "2027-01-05", "--out", str(out))
    assert made.exit_code == 0, made.output
    assert "the figures tie to the ledger" in said(made) and "4 file(s) written" in said(made)

    rows = sheet_text(out / f"光伏收益公示-2026-{VILLAGE_1}.xlsx", "收益分配")
    station = "罗口村光伏扶贫电站（PV-611002-009）"
    figures = {str(row[0]): row[1:] for row in (row[1:] if row[0] == station else row for row in rows if row)}
    assert figures["装机容量"] == ["100.0千瓦"] and figures["上网电量"] == ["2,700千瓦时"]
    assert figures["收入合计"] == [120.0] and figures["减：保险费"] == [12.0] and figures["减：土地租金"] == [20.0]
    assert figures["可分配收益"] == [88.0]
    assert figures["其中：村集体收益"] == [22.0, 22.0] and figures["其中：农户收益分配"] == ["本村2户", 66.0, 66.0]
    assert ["本村合计", 88.0] in rows
    text = "\n".join(" ".join(map(str, row)) for row in rows)
    assert "公示期：2027年01月05日至2027年01月11日" in text and "监督电话：0914-12317" in text
    assert "收入120.00元与总账应收电费分录贷方120.00元一致" in text and "总账分配分录120.00元一致" in text

    households = sheet_text(out / f"光伏收益公示-2026-{VILLAGE_1}.xlsx", "受益农户")
    assert [row[1:3] + row[-1:] for row in households if row and row[0] in ("1", "2")] == [
        [H1, "王*", 44.0],
        [H2, "李*", 22.0],
    ]
    page = (out / f"光伏收益公示-2026-{VILLAGE_2}.html").read_text(encoding="utf-8")
    assert "东村" in page and "120.00" in page and "本村合计" in page and "王一" not in page


def test_one_village_and_a_year_without_pv_runs(posted_pv: str, tmp_path: Path) -> None:
    out = tmp_path / "gs"
    one = run(posted_pv, "notice", "create-annual", "--year", "2026", "--village", VILLAGE_2, "--out", str(out))
    assert one.exit_code == 0 and sorted(path.name for path in out.iterdir()) == [
        f"光伏收益公示-2026-{VILLAGE_2}.html",
        f"光伏收益公示-2026-{VILLAGE_2}.xlsx",
    ]
    none = run(posted_pv, "notice", "create-annual", "--year", "2025", "--out", str(out))
    assert none.exit_code == 1 and "2025" in none.output and "Traceback" not in none.output
    stranger = run(posted_pv, "notice", "create-annual", "--year", "2026", "--village", "611002999999")
    assert stranger.exit_code == 1 and "611002999999" in stranger.output


def test_figures_that_do_not_tie_to_the_ledger_are_named() -> None:
    # Income 120.00, deductions 32.00, parts 88.00: lines 120.00; the ledger credits 119.99.
    station = StationYear(
        "PV-611002-009",
        "站",
        None,
        (1,),
        2700,
        12_000,
        0,
        (("保险费", 3_200),),
        {"household_share": 8_800},
        11_999,
        12_000,
    )
    problems = tie_problems(station)
    assert len(problems) == 1 and "PV-611002-009" in problems[0] and "119.99" in problems[0], problems
    assert tie_problems(StationYear("S", "站", None, (1,), 0, 100, 0, (), {"household_share": 100}, 100, 100)) == []
