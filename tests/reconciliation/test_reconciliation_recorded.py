"""The matcher's whole output on a seeded synthetic set, against a digest recorded before the
matcher was split by strategy (issue 12 item 6): every frame of the result, with its column
types, must stay byte for byte what it was.

The set mixes every strategy on purpose and makes them compete: a small pool of amounts,
accounts and names (so pairs collide and the greedy order decides), references on half the
movements, splits on either side, three batches (successful total, control total with refunds
and reversals, a batch reference), fees, interest, repeated transaction numbers and lines
recorded twice. It is reconciled twice: plainly, and again with the first candidate confirmed
and the second rejected, as a person would.
"""

from __future__ import annotations

import datetime
import hashlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from reconciliation_builders import book_frame, instructions_frame, statement_frame  # noqa: E402

from disburse.reconciliation.matching import reconcile  # noqa: E402
from disburse.reconciliation.model import MatchSettings, PriorMatch, ReconciliationResult  # noqa: E402

START = datetime.date(2026, 10, 1)
MOVEMENTS = 600
ACCOUNTS = [None, "6222000000000001", "6222000000000002", "6222000000000003", "6222000000000004"]
NAMES = [None, "张三丰", "张三峰", "李四", "李泗", "国网安康供电公司"]
# Recorded with the matcher as it stood before the split (commit 6e59011).
EXPECTED_SHA256 = "d8646c28f9785f921597e60aef978147df2704f28772bbfb5b536c6a2a58c33a"


def _day(offset: int) -> str:
    return (START + datetime.timedelta(days=int(offset))).isoformat()


def _split(amount_fen: int, parts: int) -> list[int]:
    parts = min(parts, abs(amount_fen))
    sign = 1 if amount_fen > 0 else -1
    base, extra = divmod(abs(amount_fen), parts)
    return [sign * (base + (1 if index < extra else 0)) for index in range(parts)]


def _movements(random: np.random.Generator) -> tuple[list[dict], list[dict]]:
    """The same movements on both sides, each side splitting them its own way, plus a few
    changed on one side (a mismatch, a name typo, a shifted date)."""
    lines: list[dict] = []
    books: list[dict] = []
    for index in range(MOVEMENTS):
        amount = int(
            random.choice([-1, 1]) * random.choice([1_500, 5_000, 12_345, 50_000, int(random.integers(1, 90_000))])
        )
        book_day = int(random.integers(0, 28))
        bank_day = book_day + int(random.integers(0, 4))
        account = ACCOUNTS[int(random.integers(len(ACCOUNTS)))]
        name = NAMES[int(random.integers(len(NAMES)))]
        reference = f"PAY-202610-{index:06d}" if random.random() < 0.5 else None
        bank_name = name
        if name and random.random() < 0.1:
            bank_name = NAMES[int(random.integers(1, len(NAMES)))]
        bank_amount = amount + (int(random.integers(-300, 300)) if random.random() < 0.05 else 0)
        if bank_amount == 0:
            bank_amount = amount
        for part in _split(amount, int(random.integers(1, 3))):
            books.append(
                {
                    "book_id": 5000 + len(books),
                    "entry_date": _day(book_day),
                    "amount_fen": part,
                    "payment_reference": reference,
                    "counterparty_account": account if random.random() < 0.8 else None,
                    "counterparty_name": name,
                    "memo": "转账" if reference is None else f"收益 {reference}",
                }
            )
        if random.random() < 0.05:
            continue  # never reached the bank: book only
        for part in _split(bank_amount, int(random.integers(1, 4))):
            lines.append(
                {
                    "line_id": 1 + len(lines),
                    "booked_on": _day(bank_day),
                    "amount_fen": part,
                    "summary": "代发" if part < 0 else "转账",
                    "memo": reference if random.random() < 0.9 else None,
                    "counterparty_account": account,
                    "counterparty_name": bank_name,
                    "txn_id": f"T{len(lines):06d}" if random.random() < 0.97 else "000000",
                }
            )
    return lines, books


def _batches(random: np.random.Generator, lines: list[dict], books: list[dict]) -> list[dict]:
    """Three batches: paid at the successful total, at the control total with refunds (and the
    books reversing each failure), and one the bank names by its batch reference."""
    instructions: list[dict] = []
    number = 900_000
    for batch_index, style in enumerate(("successful", "control", "named")):
        batch = f"BATCH-202610-{batch_index + 1:04d}"
        day = 5 + 7 * batch_index
        amounts = random.integers(20_000, 60_000, 12).tolist()
        failed = [index < 2 for index in range(12)]
        for index, (amount, is_failed) in enumerate(zip(amounts, failed)):
            reference = f"PAY-202610-{number:06d}"
            number += 1
            account = f"6217{batch_index:04d}{index:08d}"
            instructions.append(
                {
                    "payment_reference": reference,
                    "batch_reference": batch,
                    "account_no": account,
                    "account_name": f"户主{index}",
                    "amount_fen": amount,
                    "status": "failure" if is_failed else "success",
                    "settled_on": None if is_failed else _day(day),
                }
            )
            if style == "control" or not is_failed:
                books.append(
                    {
                        "book_id": 5000 + len(books),
                        "entry_date": _day(day),
                        "amount_fen": -amount,
                        "payment_reference": reference,
                        "batch_reference": batch,
                    }
                )
            if style == "control" and is_failed:
                books.append(
                    {
                        "book_id": 5000 + len(books),
                        "entry_date": _day(day + 2),
                        "amount_fen": amount,
                        "payment_reference": reference,
                        "batch_reference": batch,
                    }
                )
                lines.append(
                    {
                        "line_id": 1 + len(lines),
                        "booked_on": _day(day + 2),
                        "amount_fen": amount,
                        "summary": "退汇",
                        "counterparty_account": account,
                        "txn_id": f"R{len(lines):06d}",
                    }
                )
        success = sum(amount for amount, is_failed in zip(amounts, failed) if not is_failed)
        debit = sum(amounts) if style == "control" else success
        lines.append(
            {
                "line_id": 1 + len(lines),
                "booked_on": _day(day),
                "amount_fen": -debit if style != "named" else -debit - 100,
                "summary": "批量代发",
                "memo": batch if style == "named" else None,
                "txn_id": f"B{len(lines):06d}",
            }
        )
    return instructions


def synthetic_set(seed: int = 20261012) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    random = np.random.default_rng(seed)
    lines, books = _movements(random)
    instructions = _batches(random, lines, books)
    for index in range(40):
        interest = index % 4 == 0
        lines.append(
            {
                "line_id": 1 + len(lines),
                "booked_on": _day(int(random.integers(0, 28))),
                "amount_fen": int(random.integers(1, 3_000)) if interest else -1_500,
                "summary": "结息" if interest else "手续费",
                "txn_id": f"F{len(lines):06d}" if index % 7 else "F000007",
            }
        )
    lines.append({**lines[3], "line_id": 1 + len(lines)})  # the export repeats a line
    return statement_frame(lines), book_frame(books), instructions_frame(instructions)


def result_digest(results: list[ReconciliationResult]) -> str:
    """SHA-256 over every frame of every result, with the column types."""
    digest = hashlib.sha256()
    for result in results:
        for name in (
            "matches",
            "bank_only",
            "book_only",
            "amount_mismatches",
            "duplicates",
            "statement_dispositions",
            "book_dispositions",
        ):
            frame = getattr(result, name)
            digest.update(f"{name} {list(frame.columns)} {[str(dtype) for dtype in frame.dtypes]}\n".encode())
            digest.update(frame.to_csv(index=False).encode())
        digest.update(repr(result.confirmations_not_applied).encode())
    return digest.hexdigest()


def reconciled_twice() -> list[ReconciliationResult]:
    statement, book, instructions = synthetic_set()
    first = reconcile(statement, book, instructions)
    candidates = first.matches[first.matches["status"] == "candidate"]
    confirmed, rejected = candidates.iloc[0], candidates.iloc[1]
    settings = MatchSettings(
        confirmed=(PriorMatch(tuple(confirmed["statement_line_ids"]), tuple(confirmed["book_ids"]), "fuzzy_name"),),
        rejected_match_ids=frozenset({str(rejected["match_id"])}),
    )
    second = reconcile(statement, book, instructions, settings)
    return [first, second]


def test_issue12_item6_split_matcher_gives_the_recorded_result() -> None:
    results = reconciled_twice()
    # The set reaches every strategy, so the digest covers each of them.
    rules = set(results[0].matches["rule"]) | set(results[1].matches["rule"])
    assert rules >= {
        "reference",
        "amount_account",
        "batch_successful",
        "batch_control_total",
        "batch_refund",
        "many_to_one",
        "fuzzy_name",
        "amount_date",
    }, rules
    assert "confirmed" in set(results[1].matches["status"])
    assert len(results[0].duplicates) and len(results[0].amount_mismatches)
    assert result_digest(results) == EXPECTED_SHA256
