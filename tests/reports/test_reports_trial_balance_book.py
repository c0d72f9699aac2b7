"""科目余额表 worked example on the scenario of test_reports_books.py: 本年累计 and 年初 by hand,
the printed book's header and totals, indentation and hiding zero lines."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from test_reports_books import ENTITY, post_books

from disburse.foundation.db import transaction
from disburse.reports.trial_balance import trial_balance, trial_balance_book, write_trial_balance


def test_year_to_date_and_year_start_by_hand(engine) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    with transaction(engine) as session:
        result = trial_balance(session, ENTITY, "2026-10")
    bank = next(line for line in result.lines if line.account_code == "102")
    # 102 in 2026: 5,000.00 + 16,409.02 + 100.00 + 1,800.00 in, 1,200.00 + 1,800.00 out; nothing before 2026.
    assert (bank.year_opening_fen, bank.year_debit_fen, bank.year_credit_fen) == (0, 2_330_902, 300_000)
    assert bank.book_sides(year_start=True) == (0, 0, 380_000, 0, 1_830_902, 180_000, 2_330_902, 300_000, 2_030_902, 0)
    totals = result.book_totals(year_start=True)
    assert totals[0::2] == totals[1::2]  # every pair of columns balances


def test_printed_book_indents_and_hides_zero(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    with transaction(engine) as session:
        result = trial_balance(session, ENTITY, "2026-10")
    book = trial_balance_book(result, hide_zero=True, prepared_by="张会计")
    table = book.tables[0]
    groups = [column.group for column in table.columns[2:]]
    assert groups == [
        "期初余额",
        "期初余额",
        "本期发生额",
        "本期发生额",
        "本年累计发生额",
        "本年累计发生额",
        "期末余额",
        "期末余额",
    ]
    indents = {row.cells[0]: row.indent for row in table.rows}
    assert indents["211"] == 0 and indents["211.90"] == 1 and indents["322.01"] == 1
    assert table.rows[-1].cells[0] == "合计" and table.rows[-1].style == "total"
    path = tmp_path / "tb.xlsx"
    write_trial_balance(result, path, hide_zero=True, prepared_by="张会计")
    sheet = openpyxl.load_workbook(path).active
    # Title, 编制单位 line, two header rows (期初余额 over 借方 and 贷方), then the accounts.
    assert sheet["A1"].value == "科目余额表" and sheet["C3"].value == "期初余额" and sheet["C4"].value == "借方"
    assert "C3:D3" in {str(merged) for merged in sheet.merged_cells.ranges}
    names = [row[1] for row in sheet.iter_rows(min_row=5, values_only=True)]
    assert "　应付款—待决定款项" in names  # indented one level
    assert sheet.freeze_panes == "A5" and sheet.print_title_rows == "$1:$4"
