"""Worked examples: small scenarios whose matches and amounts were worked out by hand."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from reconciliation_builders import book_frame, instructions_frame, no_instructions, statement_frame  # noqa: E402

from disburse.reconciliation.match_ids import match_id_of  # noqa: E402
from disburse.reconciliation.matching import reconcile  # noqa: E402
from disburse.reconciliation.model import MatchSettings, PriorMatch  # noqa: E402

PAY_1 = "PAY-202610-000001"
PAY_9 = "PAY-202610-000009"


def only_match(result):  # type: ignore[no-untyped-def]
    assert len(result.matches) == 1, result.matches.to_string()
    return result.matches.iloc[0]


def test_reference_in_memo_joins_the_book_item_with_that_reference() -> None:
    statement = statement_frame(
        [
            {
                "line_id": 1,
                "booked_on": "2026-10-05",
                "amount_fen": -50_000,
                "summary": "代发",
                "memo": f"光伏收益 {PAY_1}",
            },
            # Same amount, no reference, 20 days away: nothing for it to join.
            {"line_id": 2, "booked_on": "2026-10-25", "amount_fen": -50_000, "summary": "转账"},
        ]
    )
    book = book_frame(
        [
            {"book_id": 10, "entry_date": "2026-10-04", "amount_fen": -50_000, "payment_reference": PAY_1},
            {
                "book_id": 11,
                "entry_date": "2026-10-04",
                "amount_fen": -50_000,
                "payment_reference": "PAY-202610-000002",
            },
        ]
    )
    result = reconcile(statement, book, no_instructions())
    match = only_match(result)
    assert match["rule"] == "reference"
    assert match["status"] == "matched"
    assert match["score"] == 100
    assert match["statement_line_ids"] == (1,)
    assert match["book_ids"] == (10,)
    assert match["amount_fen"] == -50_000
    assert match["difference_fen"] == 0
    assert match["match_id"] == match_id_of([1], [10])
    assert result.bank_only["line_id"].tolist() == [2]
    assert result.book_only["book_id"].tolist() == [11]


def test_reference_naming_an_instruction_records_the_instruction() -> None:
    instructions = instructions_frame(
        [
            {
                "payment_reference": PAY_1,
                "batch_reference": "BATCH-202610-0001",
                "account_no": "6222000011112222",
                "account_name": "王五",
                "amount_fen": 50_000,
                "status": "success",
                "settled_on": "2026-10-05",
            },
        ]
    )
    statement = statement_frame(
        [{"line_id": 1, "booked_on": "2026-10-05", "amount_fen": -50_000, "summary": f"代发 {PAY_1}"}]
    )
    book = book_frame([{"book_id": 10, "entry_date": "2026-10-05", "amount_fen": -50_000, "payment_reference": PAY_1}])
    match = only_match(reconcile(statement, book, instructions))
    assert match["instruction_references"] == (PAY_1,)


def test_one_to_one_on_amount_and_account_within_the_window_only() -> None:
    statement = statement_frame(
        [
            {
                "line_id": 1,
                "booked_on": "2026-10-05",
                "amount_fen": -30_000,
                "counterparty_account": "6222000000000001",
            },
            {
                "line_id": 2,
                "booked_on": "2026-10-20",
                "amount_fen": -40_000,
                "counterparty_account": "6222000000000002",
            },
        ]
    )
    book = book_frame(
        [
            {
                "book_id": 10,
                "entry_date": "2026-10-03",
                "amount_fen": -30_000,
                "counterparty_account": "6222000000000001",
            },
            # 10 days before its line: outside the ±3-day window, so it stays book-only.
            {
                "book_id": 11,
                "entry_date": "2026-10-10",
                "amount_fen": -40_000,
                "counterparty_account": "6222000000000002",
            },
        ]
    )
    result = reconcile(statement, book, no_instructions())
    match = only_match(result)
    assert match["rule"] == "amount_account"
    assert (match["statement_line_ids"], match["book_ids"]) == ((1,), (10,))
    # 90 − 5 × 2 days apart.
    assert match["score"] == 80
    assert result.bank_only["line_id"].tolist() == [2]
    assert result.book_only["book_id"].tolist() == [11]


def test_one_to_one_prefers_the_closest_date_then_the_lowest_id() -> None:
    account = "6222000000000003"
    statement = statement_frame(
        [
            {"line_id": 1, "booked_on": "2026-10-05", "amount_fen": -10_000, "counterparty_account": account},
            {"line_id": 2, "booked_on": "2026-10-08", "amount_fen": -10_000, "counterparty_account": account},
        ]
    )
    book = book_frame(
        [
            {"book_id": 12, "entry_date": "2026-10-06", "amount_fen": -10_000, "counterparty_account": account},
            {"book_id": 11, "entry_date": "2026-10-04", "amount_fen": -10_000, "counterparty_account": account},
        ]
    )
    matches = reconcile(statement, book, no_instructions()).matches
    # Pairs by days apart: (1,11) 1, (1,12) 1, (2,12) 2, (2,11) 4. Line 1 takes 11 (lower id),
    # then line 2 takes 12.
    assert sorted(zip(matches["statement_line_ids"], matches["book_ids"])) == [((1,), (11,)), ((2,), (12,))]


BATCH_7 = "BATCH-202610-0007"


def batch_seven_instructions():  # type: ignore[no-untyped-def]
    return instructions_frame(
        [
            {
                "payment_reference": "PAY-202610-000701",
                "batch_reference": BATCH_7,
                "account_no": "6222000000000701",
                "account_name": "李一",
                "amount_fen": 30_000,
                "status": "success",
                "settled_on": "2026-10-08",
            },
            {
                "payment_reference": "PAY-202610-000702",
                "batch_reference": BATCH_7,
                "account_no": "6222000000000702",
                "account_name": "李二",
                "amount_fen": 20_000,
                "status": "success",
                "settled_on": "2026-10-08",
            },
            {
                "payment_reference": "PAY-202610-000703",
                "batch_reference": BATCH_7,
                "account_no": "6222000000000703",
                "account_name": "李三",
                "amount_fen": 15_000,
                "status": "failure",
                "settled_on": None,
            },
        ]
    )


def test_one_bank_line_for_a_batch_equal_to_its_successful_instructions() -> None:
    # Successful: 300.00 + 200.00 = 500.00 yuan; the failed 150.00 never left.
    statement = statement_frame([{"line_id": 1, "booked_on": "2026-10-08", "amount_fen": -50_000, "summary": "代发"}])
    book = book_frame(
        [
            {
                "book_id": 21,
                "entry_date": "2026-10-07",
                "amount_fen": -30_000,
                "payment_reference": "PAY-202610-000701",
                "batch_reference": BATCH_7,
            },
            {
                "book_id": 22,
                "entry_date": "2026-10-07",
                "amount_fen": -20_000,
                "payment_reference": "PAY-202610-000702",
                "batch_reference": BATCH_7,
            },
        ]
    )
    match = only_match(reconcile(statement, book, batch_seven_instructions()))
    assert match["rule"] == "batch_successful"
    assert match["statement_line_ids"] == (1,)
    assert match["book_ids"] == (21, 22)
    assert match["instruction_references"] == ("PAY-202610-000701", "PAY-202610-000702")
    assert match["amount_fen"] == -50_000
    assert match["difference_fen"] == 0


BATCH_8 = "BATCH-202610-0008"


def batch_eight_instructions():  # type: ignore[no-untyped-def]
    # Control total 300 + 200 + 150 + 100 = 750.00 yuan; 200 and 150 fail.
    return instructions_frame(
        [
            {
                "payment_reference": "PAY-202610-000801",
                "batch_reference": BATCH_8,
                "account_no": "6222000000000801",
                "account_name": "赵一",
                "amount_fen": 30_000,
                "status": "success",
                "settled_on": "2026-10-08",
            },
            {
                "payment_reference": "PAY-202610-000802",
                "batch_reference": BATCH_8,
                "account_no": "6222000000000802",
                "account_name": "赵二",
                "amount_fen": 20_000,
                "status": "failure",
                "settled_on": None,
            },
            {
                "payment_reference": "PAY-202610-000803",
                "batch_reference": BATCH_8,
                "account_no": "6222000000000803",
                "account_name": "赵三",
                "amount_fen": 15_000,
                "status": "failure",
                "settled_on": None,
            },
            {
                "payment_reference": "PAY-202610-000804",
                "batch_reference": BATCH_8,
                "account_no": "6222000000000804",
                "account_name": "赵四",
                "amount_fen": 10_000,
                "status": "success",
                "settled_on": "2026-10-08",
            },
        ]
    )


def control_total_statement():  # type: ignore[no-untyped-def]
    return statement_frame(
        [
            {"line_id": 1, "booked_on": "2026-10-08", "amount_fen": -75_000, "summary": "代发"},
            {
                "line_id": 2,
                "booked_on": "2026-10-10",
                "amount_fen": 20_000,
                "summary": "退汇",
                "counterparty_account": "6222000000000802",
            },
            {
                "line_id": 3,
                "booked_on": "2026-10-11",
                "amount_fen": 15_000,
                "summary": "退汇",
                "counterparty_account": "6222000000000803",
            },
        ]
    )


def test_batch_debited_at_control_total_with_refunds_matching_the_failed_instructions() -> None:
    book = book_frame(
        [
            {
                "book_id": 21,
                "entry_date": "2026-10-07",
                "amount_fen": -30_000,
                "payment_reference": "PAY-202610-000801",
                "batch_reference": BATCH_8,
            },
            {
                "book_id": 22,
                "entry_date": "2026-10-07",
                "amount_fen": -20_000,
                "payment_reference": "PAY-202610-000802",
                "batch_reference": BATCH_8,
            },
            {
                "book_id": 23,
                "entry_date": "2026-10-07",
                "amount_fen": -15_000,
                "payment_reference": "PAY-202610-000803",
                "batch_reference": BATCH_8,
            },
            {
                "book_id": 24,
                "entry_date": "2026-10-07",
                "amount_fen": -10_000,
                "payment_reference": "PAY-202610-000804",
                "batch_reference": BATCH_8,
            },
            # The book reverses each failure when the return file arrives.
            {
                "book_id": 25,
                "entry_date": "2026-10-10",
                "amount_fen": 20_000,
                "payment_reference": "PAY-202610-000802",
                "batch_reference": BATCH_8,
            },
            {
                "book_id": 26,
                "entry_date": "2026-10-10",
                "amount_fen": 15_000,
                "payment_reference": "PAY-202610-000803",
                "batch_reference": BATCH_8,
            },
        ]
    )
    result = reconcile(control_total_statement(), book, batch_eight_instructions())
    matches = result.matches.set_index("statement_line_ids")
    assert len(matches) == 3
    debit = matches.loc[[(1,)]].iloc[0]
    assert debit["rule"] == "batch_control_total"
    assert debit["book_ids"] == (21, 22, 23, 24)
    assert debit["amount_fen"] == -75_000 and debit["difference_fen"] == 0
    first_refund = matches.loc[[(2,)]].iloc[0]
    assert (first_refund["rule"], first_refund["book_ids"], first_refund["instruction_references"]) == (
        "batch_refund",
        (25,),
        ("PAY-202610-000802",),
    )
    second_refund = matches.loc[[(3,)]].iloc[0]
    assert (second_refund["rule"], second_refund["book_ids"], second_refund["instruction_references"]) == (
        "batch_refund",
        (26,),
        ("PAY-202610-000803",),
    )
    assert result.bank_only.empty and result.book_only.empty


def test_batch_at_control_total_against_books_holding_only_the_successes() -> None:
    # −750.00 + 200.00 + 150.00 = −400.00 = the two successful payments the book holds.
    book = book_frame(
        [
            {
                "book_id": 21,
                "entry_date": "2026-10-08",
                "amount_fen": -30_000,
                "payment_reference": "PAY-202610-000801",
                "batch_reference": BATCH_8,
            },
            {
                "book_id": 24,
                "entry_date": "2026-10-08",
                "amount_fen": -10_000,
                "payment_reference": "PAY-202610-000804",
                "batch_reference": BATCH_8,
            },
        ]
    )
    match = only_match(reconcile(control_total_statement(), book, batch_eight_instructions()))
    assert match["rule"] == "batch_control_total"
    assert match["statement_line_ids"] == (1, 2, 3)
    assert match["book_ids"] == (21, 24)
    assert match["amount_fen"] == -40_000 and match["difference_fen"] == 0


def test_two_bank_lines_summing_to_one_settlement_receipt() -> None:
    grid = "61050100000001"
    statement = statement_frame(
        [
            {
                "line_id": 1,
                "booked_on": "2026-10-14",
                "amount_fen": 600_000,
                "summary": "电费结算",
                "counterparty_account": grid,
                "counterparty_name": "国网安康供电公司",
            },
            {
                "line_id": 2,
                "booked_on": "2026-10-15",
                "amount_fen": 250_000,
                "summary": "电费结算",
                "counterparty_account": grid,
                "counterparty_name": "国网安康供电公司",
            },
            {
                "line_id": 3,
                "booked_on": "2026-10-16",
                "amount_fen": 400_000,
                "summary": "电费结算",
                "counterparty_account": grid,
                "counterparty_name": "国网安康供电公司",
            },
        ]
    )
    # 6,000 + 4,000 = 10,000 yuan; the 2,500 line pairs with neither to make 10,000.
    book = book_frame(
        [
            {
                "book_id": 40,
                "entry_date": "2026-10-15",
                "amount_fen": 1_000_000,
                "counterparty_account": grid,
                "memo": "2026Q3 电费结算",
            }
        ]
    )
    result = reconcile(statement, book, no_instructions())
    match = only_match(result)
    assert match["rule"] == "many_to_one"
    assert match["statement_line_ids"] == (1, 3)
    assert match["book_ids"] == (40,)
    assert match["amount_fen"] == 1_000_000
    assert result.bank_only["line_id"].tolist() == [2]
    assert result.bank_only["category"].tolist() == ["unknown"]


def fuzzy_scenario():  # type: ignore[no-untyped-def]
    statement = statement_frame(
        [
            {
                "line_id": 1,
                "booked_on": "2026-10-05",
                "amount_fen": -80_000,
                "counterparty_account": "6222000000000011",
                "counterparty_name": "张三丰",
            },
            {
                "line_id": 2,
                "booked_on": "2026-10-05",
                "amount_fen": -60_000,
                "counterparty_account": "6222000000000012",
                "counterparty_name": "李四",
            },
        ]
    )
    book = book_frame(
        [
            {
                "book_id": 50,
                "entry_date": "2026-10-06",
                "amount_fen": -80_000,
                "counterparty_account": "6222000000000099",
                "counterparty_name": "张三峰",
            },
            {
                "book_id": 51,
                "entry_date": "2026-10-05",
                "amount_fen": -60_000,
                "counterparty_account": "6222000000000098",
                "counterparty_name": "王五",
            },
        ]
    )
    return statement, book


def test_similar_name_with_the_same_amount_is_only_a_candidate() -> None:
    statement, book = fuzzy_scenario()
    result = reconcile(statement, book, no_instructions())
    match = only_match(result)
    assert match["rule"] == "fuzzy_name"
    assert match["status"] == "candidate"
    assert (match["statement_line_ids"], match["book_ids"]) == ((1,), (50,))
    # Name 张三丰/张三峰: 2 × 3 shared grams / 10 = 60 → 36 points; amounts equal → 20;
    # 1 day apart in a 3-day window → 20 × 2 // 3 = 13.
    assert match["score"] == 69
    # 李四 and 王五 share nothing: no candidate, both stay unmatched.
    assert result.bank_only["line_id"].tolist() == [2]
    assert result.book_only["book_id"].tolist() == [51]


def test_fuzzy_candidate_within_the_amount_tolerance() -> None:
    statement = statement_frame(
        [{"line_id": 1, "booked_on": "2026-10-05", "amount_fen": -80_300, "counterparty_name": "张三丰"}]
    )
    book = book_frame(
        [{"book_id": 50, "entry_date": "2026-10-05", "amount_fen": -80_000, "counterparty_name": "张三峰"}]
    )
    match = only_match(reconcile(statement, book, no_instructions()))
    # Allowed: max(500 fen, 80,000 × 50 bps = 400 fen) = 500; off by 300 → 20 × 200 // 500 = 8.
    assert match["score"] == 36 + 8 + 20
    assert match["difference_fen"] == -300
    too_far = statement_frame(
        [{"line_id": 1, "booked_on": "2026-10-05", "amount_fen": -80_501, "counterparty_name": "张三丰"}]
    )
    assert reconcile(too_far, book, no_instructions()).matches.empty


def test_rejected_candidate_is_never_proposed_again_and_confirmed_survives() -> None:
    statement, book = fuzzy_scenario()
    candidate_id = match_id_of([1], [50])
    rejected = reconcile(
        statement, book, no_instructions(), MatchSettings(rejected_match_ids=frozenset({candidate_id}))
    )
    assert rejected.matches.empty
    assert rejected.bank_only["line_id"].tolist() == [1, 2]
    confirmed = reconcile(
        statement, book, no_instructions(), MatchSettings(confirmed=(PriorMatch((1,), (50,), "fuzzy_name"),))
    )
    match = only_match(confirmed)
    assert (match["match_id"], match["status"], match["rule"]) == (candidate_id, "confirmed", "fuzzy_name")


def test_fee_and_interest_lines_stay_bank_only_with_a_category() -> None:
    statement = statement_frame(
        [
            {"line_id": 1, "booked_on": "2026-10-31", "amount_fen": -1_500, "summary": "跨行汇款手续费"},
            {"line_id": 2, "booked_on": "2026-09-21", "amount_fen": 2_345, "summary": "结息"},
            {"line_id": 3, "booked_on": "2026-10-21", "amount_fen": 678, "summary": "利息收入"},
            {"line_id": 4, "booked_on": "2026-10-21", "amount_fen": 500_000, "summary": "电费结算"},
        ]
    )
    result = reconcile(statement, book_frame([]), no_instructions())
    assert result.matches.empty
    assert result.bank_only["line_id"].tolist() == [1, 2, 3, 4]
    # 电费结算 is money in and contains 费, but it is a receipt, not a fee.
    assert result.bank_only["category"].tolist() == ["fee", "interest", "interest", "unknown"]


def test_uncleared_cheque_stays_book_only() -> None:
    book = book_frame(
        [
            {
                "book_id": 60,
                "entry_date": "2026-10-30",
                "amount_fen": -120_000,
                "memo": "转账支票 No.00012345 购光伏组件清洗服务",
                "counterparty_name": "安康清洁服务有限公司",
            }
        ]
    )
    statement = statement_frame([{"line_id": 1, "booked_on": "2026-10-30", "amount_fen": -1_500, "summary": "手续费"}])
    result = reconcile(statement, book, no_instructions())
    assert result.matches.empty
    assert result.book_only["book_id"].tolist() == [60]
    assert result.book_only["amount_fen"].tolist() == [-120_000]


def test_duplicate_transaction_number_is_listed() -> None:
    statement = statement_frame(
        [
            {
                "line_id": 1,
                "booked_on": "2026-10-31",
                "amount_fen": -1_500,
                "summary": "手续费",
                "txn_id": "T20261031001",
            },
            {
                "line_id": 2,
                "booked_on": "2026-10-31",
                "amount_fen": -1_500,
                "summary": "手续费",
                "txn_id": "T20261031001",
            },
            # All-zero numbers are no numbers: these two are not duplicates of each other.
            {"line_id": 3, "booked_on": "2026-10-30", "amount_fen": -200, "summary": "短信费", "txn_id": "000000"},
            {"line_id": 4, "booked_on": "2026-10-29", "amount_fen": -300, "summary": "短信费", "txn_id": "000000"},
        ]
    )
    duplicates = reconcile(statement, book_frame([]), no_instructions()).duplicates
    assert duplicates["item_id"].tolist() == [1, 2]
    assert set(duplicates["reason"]) == {"txn_id"}
    assert set(duplicates["side"]) == {"statement"}
    assert set(duplicates["duplicate_key"]) == {"T20261031001"}


def test_same_date_amount_and_counterparty_on_the_book_side_is_listed() -> None:
    book = book_frame(
        [
            {
                "book_id": 1,
                "entry_date": "2026-10-05",
                "amount_fen": -20_000,
                "counterparty_account": "6222000000000005",
            },
            {
                "book_id": 2,
                "entry_date": "2026-10-05",
                "amount_fen": -20_000,
                "counterparty_account": "6222000000000005",
            },
            {
                "book_id": 3,
                "entry_date": "2026-10-06",
                "amount_fen": -20_000,
                "counterparty_account": "6222000000000005",
            },
        ]
    )
    duplicates = reconcile(statement_frame([]), book, no_instructions()).duplicates
    assert duplicates["item_id"].tolist() == [1, 2]
    assert duplicates["duplicate_key"].tolist() == ["2026-10-05|-20000|6222000000000005"] * 2


def test_amount_mismatch_on_a_reference() -> None:
    statement = statement_frame([{"line_id": 1, "booked_on": "2026-10-05", "amount_fen": -50_000, "memo": PAY_9}])
    book = book_frame([{"book_id": 10, "entry_date": "2026-10-05", "amount_fen": -49_000, "payment_reference": PAY_9}])
    result = reconcile(statement, book, no_instructions())
    match = only_match(result)
    assert (match["rule"], match["score"], match["difference_fen"]) == ("reference", 80, -1_000)
    mismatch = result.amount_mismatches.iloc[0]
    assert mismatch["reference"] == PAY_9
    assert (mismatch["statement_amount_fen"], mismatch["book_amount_fen"], mismatch["difference_fen"]) == (
        -50_000,
        -49_000,
        -1_000,
    )
    assert len(result.amount_mismatches) == 1


def test_batch_reference_joins_the_batch_total_posting() -> None:
    statement = statement_frame(
        [{"line_id": 1, "booked_on": "2026-10-08", "amount_fen": -50_000, "summary": "代发", "memo": BATCH_7}]
    )
    book = book_frame([{"book_id": 70, "entry_date": "2026-10-08", "amount_fen": -50_000, "batch_reference": BATCH_7}])
    match = only_match(reconcile(statement, book, batch_seven_instructions()))
    assert (match["rule"], match["book_ids"], match["difference_fen"]) == ("reference", (70,), 0)


def test_refund_naming_a_payment_never_joins_the_payment_itself() -> None:
    # +200.00 back for PAY-…0802 must not pair with the −200.00 payment (difference 400.00).
    statement = statement_frame(
        [
            {
                "line_id": 1,
                "booked_on": "2026-10-10",
                "amount_fen": 20_000,
                "summary": "退汇",
                "memo": "PAY-202610-000802",
            }
        ]
    )
    book = book_frame(
        [{"book_id": 22, "entry_date": "2026-10-07", "amount_fen": -20_000, "payment_reference": "PAY-202610-000802"}]
    )
    result = reconcile(statement, book, no_instructions())
    assert result.matches.empty
    assert result.amount_mismatches.empty


def test_payment_split_by_the_bank_joins_by_reference_as_a_group() -> None:
    statement = statement_frame(
        [
            {"line_id": 1, "booked_on": "2026-10-05", "amount_fen": -30_000, "memo": PAY_1},
            {"line_id": 2, "booked_on": "2026-10-06", "amount_fen": -20_000, "memo": PAY_1},
        ]
    )
    book = book_frame([{"book_id": 10, "entry_date": "2026-10-05", "amount_fen": -50_000, "payment_reference": PAY_1}])
    result = reconcile(statement, book, no_instructions())
    match = only_match(result)
    assert (match["rule"], match["statement_line_ids"], match["book_ids"], match["difference_fen"]) == (
        "reference",
        (1, 2),
        (10,),
        0,
    )
    assert result.amount_mismatches.empty


def test_frames_that_break_the_contract_are_refused() -> None:
    statement = statement_frame([{"line_id": 1, "booked_on": "2026-10-05", "amount_fen": -1}])
    with pytest.raises(ValueError, match="amount_fen must be integer"):
        reconcile(statement.assign(amount_fen=-0.01), book_frame([]), no_instructions())
    with pytest.raises(ValueError, match="line_id must be unique"):
        reconcile(
            statement_frame([{"line_id": 1, "booked_on": "2026-10-05", "amount_fen": -1}] * 2),
            book_frame([]),
            no_instructions(),
        )
    with pytest.raises(ValueError, match="lacks columns"):
        reconcile(statement.drop(columns=["memo"]), book_frame([]), no_instructions())
    with pytest.raises(ValueError, match="date window"):
        MatchSettings(date_window_days=40)


def test_line_without_a_date_is_refused() -> None:
    statement = statement_frame([{"line_id": 1, "booked_on": None, "amount_fen": -1}])
    with pytest.raises(ValueError, match="booked_on must be a date"):
        reconcile(statement, book_frame([]), no_instructions())


def test_issue11_item13_the_duplicates_sheet_masks_the_counterpartys_card() -> None:
    from disburse.reconciliation.report import _masked_key

    assert _masked_key("2026-10-05|1250|6228480012345678901") == "2026-10-05|1250|622848*********8901"
    assert _masked_key("2026-10-05|1250|张三") == "2026-10-05|1250|张三"
    assert _masked_key("T|20261005000123") == "T|20261005000123"
