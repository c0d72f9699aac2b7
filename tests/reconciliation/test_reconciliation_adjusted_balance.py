"""The 银行存款余额调节表 on hand-worked scenarios: one that agrees, ones that do not."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from reconciliation_builders import book_frame, day, no_instructions, statement_frame  # noqa: E402

from disburse.reconciliation.adjusted_balance import adjusted_balance  # noqa: E402
from disburse.reconciliation.match_ids import match_id_of  # noqa: E402
from disburse.reconciliation.matching import reconcile  # noqa: E402
from disburse.reconciliation.model import MatchSettings  # noqa: E402

OPENING_FEN = 1_000_000
MISMATCHED = "PAY-202610-000044"


def october_statement_rows() -> list[dict[str, object]]:
    return [
        {"line_id": 1, "booked_on": "2026-10-05", "amount_fen": -50_000, "counterparty_account": "6222000000000001"},
        {"line_id": 2, "booked_on": "2026-10-31", "amount_fen": -1_500, "summary": "手续费", "txn_id": "T-FEE-1031"},
        {"line_id": 3, "booked_on": "2026-10-21", "amount_fen": 2_345, "summary": "结息"},
        # Cleared after the month end: at 10-31 the book's payment 5 is still 企业已付、银行未付.
        {"line_id": 6, "booked_on": "2026-11-02", "amount_fen": -70_000, "counterparty_account": "6222000000000007"},
    ]


def october_book_rows() -> list[dict[str, object]]:
    return [
        {"book_id": 1, "entry_date": "2026-10-05", "amount_fen": -50_000, "counterparty_account": "6222000000000001"},
        {"book_id": 2, "entry_date": "2026-10-28", "amount_fen": -120_000, "memo": "转账支票 No.00012345"},
        {"book_id": 3, "entry_date": "2026-10-31", "amount_fen": 300_000, "memo": "收合作社分红 (支票已送存)"},
        {"book_id": 5, "entry_date": "2026-10-30", "amount_fen": -70_000, "counterparty_account": "6222000000000007"},
    ]


def test_adjusted_balances_agree_at_the_month_end() -> None:
    result = reconcile(statement_frame(october_statement_rows()), book_frame(october_book_rows()), no_instructions())
    # Book at 10-31: 10,000.00 − 500.00 − 1,200.00 + 3,000.00 − 700.00 = 10,600.00.
    # Bank at 10-31: 10,000.00 − 500.00 − 15.00 + 23.45 = 9,508.45 (line 6 is in November).
    table = adjusted_balance(1_060_000, 950_845, result, as_of=day("2026-10-31"))
    assert table.bank_received_book_not_fen == 2_345
    assert table.bank_paid_book_not_fen == 1_500
    assert table.book_received_bank_not_fen == 300_000
    assert table.book_paid_bank_not_fen == 190_000
    # 10,600.00 + 23.45 − 15.00 = 10,608.45 and 9,508.45 + 3,000.00 − 1,900.00 = 10,608.45.
    assert table.adjusted_book_balance_fen == 1_060_845
    assert table.adjusted_bank_balance_fen == 1_060_845
    assert table.agrees and table.difference_fen == 0
    assert table.causes.empty
    assert table.book_paid_bank_not["item_id"].tolist() == [2, 5]
    assert table.book_paid_bank_not["amount_fen"].tolist() == [120_000, 70_000]
    assert table.bank_received_book_not["item_id"].tolist() == [3]
    assert table.bank_paid_book_not["item_id"].tolist() == [2]


def test_without_a_cutoff_every_line_counts() -> None:
    result = reconcile(statement_frame(october_statement_rows()), book_frame(october_book_rows()), no_instructions())
    # Bank with November's line: 9,508.45 − 700.00 = 8,808.45; payment 5 is now settled.
    table = adjusted_balance(1_060_000, 880_845, result)
    assert table.book_paid_bank_not_fen == 120_000
    assert table.adjusted_book_balance_fen == table.adjusted_bank_balance_fen == 1_060_845


def test_adjusted_balances_disagree_by_an_amount_mismatch_and_a_duplicate_line() -> None:
    statement_rows = october_statement_rows() + [
        {"line_id": 4, "booked_on": "2026-10-12", "amount_fen": -50_000, "memo": MISMATCHED},
        # The export repeats the fee line; the bank's balance took the fee once.
        {"line_id": 5, "booked_on": "2026-10-31", "amount_fen": -1_500, "summary": "手续费", "txn_id": "T-FEE-1031"},
    ]
    book_rows = october_book_rows() + [
        {"book_id": 4, "entry_date": "2026-10-12", "amount_fen": -49_000, "payment_reference": MISMATCHED}
    ]
    result = reconcile(statement_frame(statement_rows), book_frame(book_rows), no_instructions())
    # Book: 10,600.00 − 490.00 = 10,110.00. Bank: 9,508.45 − 500.00 = 9,008.45.
    table = adjusted_balance(1_011_000, 900_845, result, as_of=day("2026-10-31"))
    # Adjusted book: 10,110.00 + 23.45 − 30.00 (the fee twice) = 10,103.45.
    # Adjusted bank: 9,008.45 + 3,000.00 − 1,900.00 = 10,108.45.
    assert table.adjusted_book_balance_fen == 1_010_345
    assert table.adjusted_bank_balance_fen == 1_010_845
    assert not table.agrees
    assert table.difference_fen == -500
    # The mismatch (bank 500.00 out, book 490.00) explains +10.00; the repeated fee the other −15.00.
    assert table.explained_fen == 1_000
    assert table.unexplained_fen == -1_500
    causes = table.causes
    mismatch = causes[causes["kind"] == "amount_mismatch"]
    assert mismatch["match_id"].tolist() == [match_id_of([4], [4])]
    assert mismatch["difference_fen"].tolist() == [-1_000]
    duplicate = causes[causes["kind"] == "duplicate"]
    assert duplicate["item_ids"].tolist() == [(2,), (5,)]
    assert set(duplicate["side"]) == {"statement"}


def test_issue11_item8_adjusted_balance_never_doubles() -> None:
    """October of issue 11: a 3,000,000.00 receipt on the statement and in the books, joined
    only by a candidate (the book names no counterparty). It used to show as both
    银行已收、企业未收 and 企业已收、银行未收, an adjusted balance of 6,000,000.00 on each side."""
    statement = statement_frame(
        [{"line_id": 1, "booked_on": "2026-10-10", "amount_fen": 300_000_000, "summary": "电费结算"}]
    )
    book = book_frame([{"book_id": 7, "entry_date": "2026-10-10", "amount_fen": 300_000_000, "memo": "收电费"}])
    result = reconcile(statement, book, no_instructions())
    assert result.matches[["rule", "status"]].values.tolist() == [["amount_date", "candidate"]]
    table = adjusted_balance(300_000_000, 300_000_000, result, as_of=day("2026-10-31"))
    assert (table.bank_received_book_not_fen, table.book_received_bank_not_fen) == (0, 0)
    # 3,000,000.00 on each side, not 6,000,000.00: the movement is counted once, by each side.
    assert table.adjusted_book_balance_fen == table.adjusted_bank_balance_fen == 300_000_000
    assert table.agrees
    assert table.pending_match_count == 1
    assert (table.pending_statement_fen, table.pending_book_fen) == (300_000_000, 300_000_000)
    assert table.pending[["side", "item_id", "amount_fen"]].values.tolist() == [
        ["statement", 1, 300_000_000],
        ["book", 7, 300_000_000],
    ]


def test_issue11_item8_rejected_candidate_is_outstanding_on_both_sides() -> None:
    statement = statement_frame(
        [{"line_id": 1, "booked_on": "2026-10-10", "amount_fen": 300_000_000, "summary": "电费结算"}]
    )
    book = book_frame([{"book_id": 7, "entry_date": "2026-10-10", "amount_fen": 300_000_000, "memo": "收电费"}])
    rejected = MatchSettings(rejected_match_ids=frozenset({match_id_of([1], [7])}))
    table = adjusted_balance(300_000_000, 300_000_000, reconcile(statement, book, no_instructions(), rejected))
    # Rejected, they are two movements: each is outstanding on the other side.
    assert (table.bank_received_book_not_fen, table.book_received_bank_not_fen) == (300_000_000, 300_000_000)
    assert table.adjusted_book_balance_fen == table.adjusted_bank_balance_fen == 600_000_000
    assert table.pending_match_count == 0 and table.pending.empty


def test_issue11_item8_pending_candidate_with_different_amounts_says_why() -> None:
    statement = statement_frame(
        [{"line_id": 1, "booked_on": "2026-10-05", "amount_fen": -80_300, "counterparty_name": "张三丰"}]
    )
    book = book_frame(
        [{"book_id": 50, "entry_date": "2026-10-05", "amount_fen": -80_000, "counterparty_name": "张三峰"}]
    )
    result = reconcile(statement, book, no_instructions())
    assert result.matches["status"].tolist() == ["candidate"]
    table = adjusted_balance(OPENING_FEN - 80_000, OPENING_FEN - 80_300, result)
    # Neither 803.00 nor 800.00 is outstanding: book 9,200.00, bank 9,197.00, apart by exactly the
    # candidate's 3.00, which the table names instead of hiding it.
    assert (table.bank_paid_book_not_fen, table.book_paid_bank_not_fen) == (0, 0)
    assert (table.adjusted_book_balance_fen, table.adjusted_bank_balance_fen) == (920_000, 919_700)
    assert (table.difference_fen, table.explained_fen, table.pending_difference_fen, table.unexplained_fen) == (
        300,
        0,
        300,
        0,
    )
    assert table.causes[["kind", "match_id", "difference_fen"]].values.tolist() == [
        ["pending_difference", match_id_of([1], [50]), -300]
    ]


def test_issue11_item8_candidate_completed_after_the_cutoff_is_outstanding() -> None:
    # The book's receipt is dated 11-01: at 10-31 the bank's line is 银行已收、企业未收 whatever a
    # person decides about the candidate, and the November item is not in the table.
    statement = statement_frame([{"line_id": 1, "booked_on": "2026-10-31", "amount_fen": 5_000, "summary": "转账"}])
    book = book_frame([{"book_id": 9, "entry_date": "2026-11-01", "amount_fen": 5_000, "memo": "收款"}])
    result = reconcile(statement, book, no_instructions())
    assert result.matches["status"].tolist() == ["candidate"]
    table = adjusted_balance(0, 5_000, result, as_of=day("2026-10-31"))
    assert (table.bank_received_book_not_fen, table.book_received_bank_not_fen) == (5_000, 0)
    assert table.pending_match_count == 0
    assert table.adjusted_book_balance_fen == table.adjusted_bank_balance_fen == 5_000
