"""明细账 worked examples: every figure below was computed by hand from the scenario in
test_reports_books.py (amounts in fen; balances positive on the account's normal side)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from test_reports_books import (
    ENTITY,
    FORMULA_MEMO,
    FUND_PV,
    FUND_SUBSIDY,
    HOUSEHOLD_ONE,
    HOUSEHOLD_TWO,
    post_books,
)

from disburse.foundation.db import transaction
from disburse.foundation.errors import DisburseError
from disburse.reports.ledger_detail import account_detail, balance_direction, write_account_detail

OCTOBER = "2026-10"


def detail(engine, account: str, **filters):  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        return account_detail(session, ENTITY, OCTOBER, account, **filters)


def running(result) -> list[tuple[str, str, int, int, str, int]]:  # type: ignore[no-untyped-def]
    return [
        (line.entry_date.isoformat(), line.voucher, line.debit_fen, line.credit_fen, line.direction, line.balance_fen)
        for line in result.lines
    ]


def test_bank_deposits_an_asset(engine) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    result = detail(engine, "102")
    # September: +5,000.00 received, -1,200.00 paid out.
    assert (result.opening_balance_fen, result.opening_direction) == (380_000, "借")
    # Date order, not voucher order: 记-0004 is dated 10-05, before 记-0001 on 10-08.
    assert running(result) == [
        ("2026-10-05", "记-0004", 10_000, 0, "借", 390_000),
        ("2026-10-08", "记-0001", 1_640_902, 0, "借", 2_030_902),
        ("2026-10-15", "记-0003", 0, 180_000, "借", 1_850_902),
        ("2026-10-20", "记-0005", 180_000, 0, "借", 2_030_902),
    ]
    assert (result.period_debit_fen, result.period_credit_fen) == (1_830_902, 180_000)
    assert (result.closing_balance_fen, result.closing_direction) == (2_030_902, "借")
    # 本年累计: September's 5,000.00 in and 1,200.00 out are added.
    assert (result.year_debit_fen, result.year_credit_fen) == (2_330_902, 300_000)


def test_bank_deposits_by_fund_source(engine) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    pv = detail(engine, "102", fund_source=FUND_PV)
    assert pv.opening_balance_fen == 380_000
    assert [line.balance_fen for line in pv.lines] == [390_000, 210_000, 390_000]
    assert (pv.period_debit_fen, pv.period_credit_fen, pv.closing_balance_fen) == (190_000, 180_000, 390_000)
    subsidy = detail(engine, "102", fund_source=FUND_SUBSIDY)
    assert (subsidy.opening_balance_fen, subsidy.opening_direction) == (0, "平")
    assert running(subsidy) == [("2026-10-08", "记-0001", 1_640_902, 0, "借", 1_640_902)]
    assert subsidy.closing_balance_fen == 1_640_902


def test_payables_a_liability_with_sub_accounts(engine) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    result = detail(engine, "211")
    # September: 1,200.00 + 1,800.00 declared, 1,200.00 paid: 1,800.00 owed, a credit balance.
    assert (result.opening_balance_fen, result.opening_direction) == (180_000, "贷")
    assert [(line.voucher, line.account_code, line.household_id) for line in result.lines] == [
        ("记-0002", "211", HOUSEHOLD_ONE),
        ("记-0002", "211.90", HOUSEHOLD_TWO),
        ("记-0003", "211", HOUSEHOLD_TWO),
        ("记-0005", "211", HOUSEHOLD_TWO),
    ]
    assert [(line.direction, line.balance_fen) for line in result.lines] == [
        ("贷", 230_000),
        ("贷", 380_000),
        ("贷", 200_000),
        ("贷", 380_000),
    ]
    assert (result.period_debit_fen, result.period_credit_fen) == (180_000, 380_000)
    assert (result.closing_balance_fen, result.closing_direction) == (380_000, "贷")
    assert (result.year_debit_fen, result.year_credit_fen) == (300_000, 680_000)


def test_payables_without_sub_accounts(engine) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    result = detail(engine, "211", include_sub_accounts=False)
    assert result.opening_balance_fen == 180_000
    assert [line.balance_fen for line in result.lines] == [230_000, 50_000, 230_000]
    assert (result.period_debit_fen, result.period_credit_fen, result.closing_balance_fen) == (
        180_000,
        230_000,
        230_000,
    )


def test_payables_by_household(engine) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    one = detail(engine, "211", household_id=HOUSEHOLD_ONE)
    # H1 was declared 1,200.00 and paid 1,200.00 in September: nothing owed at the start.
    assert (one.opening_balance_fen, one.opening_direction) == (0, "平")
    assert running(one) == [("2026-10-12", "记-0002", 0, 50_000, "贷", 50_000)]
    assert one.closing_balance_fen == 50_000
    two = detail(engine, "211", household_id=HOUSEHOLD_TWO)
    assert two.opening_balance_fen == 180_000
    assert [line.balance_fen for line in two.lines] == [330_000, 150_000, 330_000]
    assert (two.period_debit_fen, two.period_credit_fen, two.closing_balance_fen) == (180_000, 330_000, 330_000)


def test_household_and_fund_together_reach_level(engine) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    result = detail(engine, "211", household_id=HOUSEHOLD_TWO, fund_source=FUND_PV)
    assert result.opening_balance_fen == 180_000
    # Paid in full by 记-0003 (平), then owed again once 记-0005 reversed the payment.
    assert running(result) == [
        ("2026-10-15", "记-0003", 180_000, 0, "平", 0),
        ("2026-10-20", "记-0005", 0, 180_000, "贷", 180_000),
    ]
    assert (result.closing_balance_fen, result.closing_direction) == (180_000, "贷")


def test_a_balance_on_the_other_side_shows_that_side() -> None:
    assert balance_direction(-5, debit_normal=True) == "贷"
    assert balance_direction(-5, debit_normal=False) == "借"
    assert balance_direction(5, debit_normal=False) == "贷"
    assert balance_direction(0, debit_normal=True) == "平"


def test_a_period_before_any_posting_is_empty(engine) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    with transaction(engine) as session:
        result = account_detail(session, ENTITY, "2026-08", "102")
    assert result.lines == () and result.opening_balance_fen == 0 and result.closing_direction == "平"


def test_unknown_account_and_bad_period_are_refused(engine) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        with pytest.raises(DisburseError, match="account '999' does not exist"):
            account_detail(session, ENTITY, OCTOBER, "999")
        with pytest.raises(DisburseError, match="YYYY-MM"):
            account_detail(session, ENTITY, "2026-13", "102")


def test_xlsx_book_has_numbers_and_a_neutralised_formula(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    path = tmp_path / "detail.xlsx"
    write_account_detail(detail(engine, "102"), path, prepared_by="张会计")
    sheet = openpyxl.load_workbook(path).active
    assert sheet["A1"].value == "明细账"
    assert [cell.value for cell in sheet[3]] == ["日期", "凭证字号", "摘要", "借方", "贷方", "方向", "余额"]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert rows[0][2:] == ("期初余额", None, None, "借", 3800)
    assert rows[1] == ("2026-10-05", "记-0004", "'" + FORMULA_MEMO, 100, None, "借", 3900)
    assert rows[2][3] == 16409.02 and rows[2][6] == 20309.02
    assert rows[-2][2:] == ("本月合计", 18309.02, 1800, "借", 20309.02)
    assert rows[-1][2:] == ("本年累计", 23309.02, 3000, "借", 20309.02)
    # The memo cell is text, not a formula; amounts carry the ¥ format; the header is frozen
    # and repeated on every printed page, on A4 landscape.
    assert sheet.cell(row=5, column=3).data_type == "s"
    assert sheet.cell(row=5, column=4).number_format == "¥#,##0.00"
    assert sheet.freeze_panes == "A4"
    assert sheet.print_title_rows == "$1:$3"
    assert sheet.page_setup.paperSize == 9 and sheet.page_setup.orientation == "landscape"
    assert "制表人：张会计" in sheet.oddFooter.left.text


def test_issue12_item6_detail_lines_per_voucher_or_per_posting(engine) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    # 记-0002 credits 211 for H1 and 211.90 for H2: two accounts, two lines either way; the
    # September entry 记-0002 credited 211 for both households, which one line per voucher
    # and account shows as one line of 3,000.00 (2 户).
    with transaction(engine) as session:
        merged = account_detail(session, ENTITY, "2026-09", "211")
        each = account_detail(session, ENTITY, "2026-09", "211", by_posting=True)
    assert [(line.voucher, line.credit_fen, line.household_count) for line in merged.lines] == [
        ("记-0002", 300_000, 2),
        ("记-0003", 0, 1),
    ]
    assert merged.lines[0].household_id is None and merged.lines[0].posting_count == 2
    assert [(line.voucher, line.credit_fen, line.household_id) for line in each.lines] == [
        ("记-0002", 120_000, HOUSEHOLD_ONE),
        ("记-0002", 180_000, HOUSEHOLD_TWO),
        ("记-0003", 0, HOUSEHOLD_ONE),
    ]
    assert [line.balance_fen for line in merged.lines] == [300_000, 180_000]
    assert [line.balance_fen for line in each.lines] == [120_000, 300_000, 180_000]


def test_csv_export_neutralises_a_formula(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    path = tmp_path / "detail.csv"
    write_account_detail(detail(engine, "102", fund_source=FUND_PV), path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["日期", "凭证号", "科目编码", "摘要", "户编号", "资金来源", "借方", "贷方", "方向", "余额"]
    assert rows[2] == ["2026-10-05", "记-0004", "102", "'" + FORMULA_MEMO, "", FUND_PV, "100.00", "", "借", "3900.00"]
    assert rows[-2][3:] == ["本月合计", "", "", "1900.00", "1800.00", "借", "3900.00"]


def test_entry_dates_are_dates(engine) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    assert all(isinstance(line.entry_date, dt.date) for line in detail(engine, "211").lines)
