"""Property tests: exclusivity, conservation, idempotency, confirmations, balanced tables."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

from reconciliation_builders import book_frame, instructions_frame, statement_frame  # noqa: E402

from disburse.reconciliation.adjusted_balance import adjusted_balance  # noqa: E402
from disburse.reconciliation.matching import reconcile  # noqa: E402
from disburse.reconciliation.model import MatchSettings, PriorMatch  # noqa: E402

START = datetime.date(2026, 10, 1)
ACCOUNTS = [None, "6222000000000001", "6222000000000002", "6222000000000003"]
NAMES = [None, "张三丰", "张三峰", "李四", "国网安康供电公司"]
BATCH = "BATCH-202610-0001"

movement = st.fixed_dictionaries(
    {
        "amount_fen": st.integers(min_value=-5_000, max_value=5_000).filter(lambda value: value != 0),
        "day": st.integers(min_value=0, max_value=20),
        "bank_delay_days": st.integers(min_value=0, max_value=2),
        "account": st.sampled_from(ACCOUNTS),
        "name": st.sampled_from(NAMES),
        "with_reference": st.booleans(),
        "bank_parts": st.integers(min_value=1, max_value=3),
        "book_parts": st.integers(min_value=1, max_value=2),
    }
)


def _split(amount_fen: int, parts: int) -> list[int]:
    """Split an amount into parts of the same sign (fewer if it is too small)."""
    parts = min(parts, abs(amount_fen))
    sign = 1 if amount_fen > 0 else -1
    base, extra = divmod(abs(amount_fen), parts)
    return [sign * (base + (1 if index < extra else 0)) for index in range(parts)]


def frames_of(movements: list[dict[str, object]], extra_lines: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same money movements on both sides, each side splitting them its own way."""
    statement_rows: list[dict[str, object]] = []
    book_rows: list[dict[str, object]] = []
    for index, item in enumerate(movements):
        reference = f"PAY-202610-{index:06d}" if item["with_reference"] else None
        book_day = START + datetime.timedelta(days=int(item["day"]))  # type: ignore[arg-type]
        bank_day = book_day + datetime.timedelta(days=int(item["bank_delay_days"]))  # type: ignore[arg-type]
        for part in _split(int(item["amount_fen"]), int(item["book_parts"])):  # type: ignore[arg-type]
            book_rows.append(
                {
                    "book_id": 1000 + len(book_rows),
                    "entry_date": book_day.isoformat(),
                    "amount_fen": part,
                    "payment_reference": reference,
                    "counterparty_account": item["account"],
                    "counterparty_name": item["name"],
                }
            )
        for part in _split(int(item["amount_fen"]), int(item["bank_parts"])):  # type: ignore[arg-type]
            statement_rows.append(
                {
                    "line_id": 1 + len(statement_rows),
                    "booked_on": bank_day.isoformat(),
                    "amount_fen": part,
                    "memo": reference,
                    "counterparty_account": item["account"],
                    "counterparty_name": item["name"],
                    "txn_id": f"T{len(statement_rows):05d}",
                }
            )
    for index in range(extra_lines):
        statement_rows.append(
            {"line_id": 5000 + index, "booked_on": "2026-10-31", "amount_fen": -100 - index, "summary": "手续费"}
        )
    return statement_frame(statement_rows), book_frame(book_rows)


def batch_instructions(movements: list[dict[str, object]]) -> pd.DataFrame:
    """Instructions for every money-out movement with a reference, half of them failed."""
    rows = []
    for index, item in enumerate(movements):
        if item["with_reference"] and int(item["amount_fen"]) < 0:  # type: ignore[arg-type]
            rows.append(
                {
                    "payment_reference": f"PAY-202610-{index:06d}",
                    "batch_reference": BATCH,
                    "account_no": item["account"],
                    "account_name": item["name"],
                    "amount_fen": -int(item["amount_fen"]),
                    "status": "success" if index % 2 else "failure",
                    "settled_on": None,
                }  # type: ignore[arg-type]
            )
    return instructions_frame(rows)


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_exclusive_and_conserved(statement: pd.DataFrame, book: pd.DataFrame, result) -> None:  # type: ignore[no-untyped-def]
    matched_lines = [line for ids in result.matches["statement_line_ids"] for line in ids]
    matched_books = [item for ids in result.matches["book_ids"] for item in ids]
    assert len(matched_lines) == len(set(matched_lines)), "a statement line is in two matches"
    assert len(matched_books) == len(set(matched_books)), "a book item is in two matches"
    bank_only = result.bank_only["line_id"].tolist()
    book_only = result.book_only["book_id"].tolist()
    assert sorted(matched_lines + bank_only) == sorted(statement["line_id"].tolist())
    assert sorted(matched_books + book_only) == sorted(book["book_id"].tolist())
    assert set(result.matches["status"]) <= {"matched", "candidate", "confirmed"}
    lines_by_status = result.statement_dispositions.set_index("line_id")["status"]
    assert set(lines_by_status[bank_only]) <= {"bank_only"}
    # Every match's amounts are the sums of its lines and items.
    line_amount = statement.set_index("line_id")["amount_fen"]
    book_amount = book.set_index("book_id")["amount_fen"]
    for match in result.matches.itertuples(index=False):
        assert match.amount_fen == int(line_amount[list(match.statement_line_ids)].sum())
        assert match.book_amount_fen == int(book_amount[list(match.book_ids)].sum())
        assert match.difference_fen == match.amount_fen - match.book_amount_fen
        assert 0 <= match.score <= 100


@FAST
@given(st.lists(movement, max_size=14), st.integers(min_value=0, max_value=3), st.booleans())
def test_matches_are_exclusive_and_every_item_is_accounted_for(movements, extra_lines, with_batch) -> None:  # type: ignore[no-untyped-def]
    statement, book = frames_of(movements, extra_lines)
    instructions = batch_instructions(movements) if with_batch else batch_instructions([])
    result = reconcile(statement, book, instructions)
    assert_exclusive_and_conserved(statement, book, result)


@FAST
@given(st.lists(movement, max_size=14), st.randoms(use_true_random=False))
def test_reconciling_twice_or_shuffled_gives_the_same_matches_and_ids(movements, random) -> None:  # type: ignore[no-untyped-def]
    statement, book = frames_of(movements, 2)
    first = reconcile(statement, book, batch_instructions(movements))
    again = reconcile(statement, book, batch_instructions(movements))
    pd.testing.assert_frame_equal(first.matches, again.matches)
    # Row order of the inputs is no part of the answer.
    shuffled = reconcile(
        statement.sample(frac=1, random_state=random.randint(0, 1000)),
        book.sample(frac=1, random_state=random.randint(0, 1000)),
        batch_instructions(movements),
    )
    pd.testing.assert_frame_equal(first.matches, shuffled.matches)


@FAST
@given(st.lists(movement, min_size=1, max_size=12), st.lists(movement, max_size=6))
def test_confirmed_matches_survive_a_rerun_with_new_lines(movements, later) -> None:  # type: ignore[no-untyped-def]
    statement, book = frames_of(movements)
    first = reconcile(statement, book, batch_instructions([]))
    confirmed = tuple(
        PriorMatch(tuple(match.statement_line_ids), tuple(match.book_ids), match.rule)
        for match in first.matches.itertuples(index=False)
    )
    # New lines and items arrive with ids of their own, dated like the old ones.
    new_statement, new_book = frames_of(later)
    new_statement = new_statement.assign(line_id=new_statement["line_id"] + 10_000)
    new_book = new_book.assign(book_id=new_book["book_id"] + 10_000)
    rerun = reconcile(
        pd.concat([statement, new_statement], ignore_index=True),
        pd.concat([book, new_book], ignore_index=True),
        batch_instructions([]),
        MatchSettings(confirmed=confirmed),
    )
    kept = rerun.matches.set_index("match_id")
    for match in first.matches.itertuples(index=False):
        assert kept.loc[match.match_id, "status"] == "confirmed"
        assert kept.loc[match.match_id, "statement_line_ids"] == match.statement_line_ids
        assert kept.loc[match.match_id, "book_ids"] == match.book_ids
    assert rerun.confirmations_not_applied == ()


@FAST
@given(st.lists(movement, max_size=16), st.integers(min_value=-10_000_000, max_value=10_000_000), st.booleans())
def test_adjusted_balances_agree_when_both_sides_hold_the_same_movements(movements, opening_fen, with_batch) -> None:  # type: ignore[no-untyped-def]
    statement, book = frames_of(movements)
    instructions = batch_instructions(movements) if with_batch else batch_instructions([])
    result = reconcile(statement, book, instructions)
    book_balance_fen = opening_fen + int(book["amount_fen"].sum())
    bank_balance_fen = opening_fen + int(statement["amount_fen"].sum())
    table = adjusted_balance(book_balance_fen, bank_balance_fen, result)
    # Both sides start from one balance, so every fen of difference is a match joining
    # different amounts, settled or pending (issue 11 item 8): nothing is left unexplained, and
    # the table ties whenever every match joins equal sums.
    assert table.unexplained_fen == 0, (table.difference_fen, result.matches.to_string())
    assert table.difference_fen == table.explained_fen + table.pending_difference_fen
    if (result.matches["difference_fen"] == 0).all():
        assert table.difference_fen == 0
        assert table.adjusted_book_balance_fen == table.adjusted_bank_balance_fen
    # Never doubled: a pending line or item is in none of the outstanding columns.
    outstanding = pd.concat(
        [table.bank_received_book_not, table.bank_paid_book_not, table.book_received_bank_not, table.book_paid_bank_not]
    )
    both = set(zip(outstanding["side"], outstanding["item_id"])) & set(
        zip(table.pending["side"], table.pending["item_id"])
    )
    assert not both
