"""Benchmark: reconcile 1,000,000 statement lines against 1,000,000 book items.

The data is built to resemble one county special account over a month: most payments carry our
reference in the bank's memo, many movements match only on amount and account, some batches
show as one bank line (half at the successful total, half at the control total with refunds),
some settlements arrive in two transfers, some names differ by a character, and the rest are
fees and interest (bank only) and uncleared payments (book only). Prints matched and unmatched
counts per rule, the time of ``reconcile`` and the peak memory of the process (including the
generated data). Target: ≤ 20 s and ≤ 4 GB. Run: ``.venv/bin/python benchmarks/bench_reconcile.py``.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from disburse.reconciliation.adjusted_balance import adjusted_balance  # noqa: E402
from disburse.reconciliation.matching import reconcile  # noqa: E402

ITEMS = 1_000_000
SECONDS_MAX = 20.0
MEMORY_BYTES_MAX = 4 * 1024**3
REFERENCE_PAYMENTS = 600_000
ACCOUNT_PAYMENTS = 300_000
BATCHES = 200
BATCH_SIZE = 250
FAILED_PER_CONTROL_BATCH = 5
SETTLEMENTS_IN_TWO = 1_000
FUZZY_PAIRS = 1_000
START = np.datetime64("2026-10-01", "s")
DAY = np.timedelta64(86_400, "s")


def _dates(random: np.random.Generator, count: int) -> np.ndarray:
    return START + random.integers(0, 28, count) * DAY


def county_month(seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Statement, book and instructions frames of about a million rows each."""
    random = np.random.default_rng(seed)
    statement_parts: list[dict[str, object]] = []
    book_parts: list[dict[str, object]] = []

    def add(side: list[dict[str, object]], **columns: object) -> None:
        side.append(columns)

    # 1. Payments with our reference echoed in the memo.
    count = REFERENCE_PAYMENTS
    references = np.array([f"PAY-202610-{index:06d}" for index in range(count)], dtype=object)
    accounts = np.array([f"6222{index:012d}" for index in range(count)], dtype=object)
    amounts = -random.integers(10_000, 300_000, count)
    dates = _dates(random, count)
    add(book_parts, entry_date=dates, amount_fen=amounts, payment_reference=references, counterparty_account=accounts)
    add(
        statement_parts,
        booked_on=dates + random.integers(0, 3, count) * DAY,
        amount_fen=amounts,
        summary="代发",
        memo=np.array([f"收益 {reference}" for reference in references], dtype=object),
        counterparty_account=accounts,
    )

    # 2. Movements that match only on amount and account (no reference echoed).
    count = ACCOUNT_PAYMENTS
    accounts = np.array([f"6228{index:012d}" for index in range(count)], dtype=object)
    amounts = random.integers(1_000, 500_000, count) * np.where(random.random(count) < 0.7, -1, 1)
    dates = _dates(random, count)
    add(book_parts, entry_date=dates, amount_fen=amounts, counterparty_account=accounts)
    add(
        statement_parts,
        booked_on=dates + random.integers(0, 4, count) * DAY,
        amount_fen=amounts,
        summary="转账",
        counterparty_account=accounts,
    )

    # 3. Batches shown as one bank line; the book has one item per payment.
    instruction_rows = []
    batch_statement = []
    batch_book = []
    payment_number = REFERENCE_PAYMENTS
    for batch_index in range(BATCHES):
        batch = f"BATCH-202610-{batch_index:04d}"
        control = batch_index % 2 == 1
        day = START + (batch_index % 25) * DAY
        amounts = random.integers(20_000, 200_000, BATCH_SIZE)
        failed = np.zeros(BATCH_SIZE, dtype=bool)
        failed[:FAILED_PER_CONTROL_BATCH] = True
        references = [f"PAY-202610-{payment_number + index:06d}" for index in range(BATCH_SIZE)]
        payment_number += BATCH_SIZE
        accounts = [f"6217{batch_index:04d}{index:08d}" for index in range(BATCH_SIZE)]
        for reference, account, amount, is_failed in zip(references, accounts, amounts.tolist(), failed.tolist()):
            instruction_rows.append(
                (
                    reference,
                    batch,
                    account,
                    "户名",
                    amount,
                    "failure" if is_failed else "success",
                    pd.NaT if is_failed else day,
                )
            )
            if control or not is_failed:
                batch_book.append((day, -amount, reference, batch))
            if control and is_failed:
                batch_book.append((day + 2 * DAY, amount, reference, batch))
                batch_statement.append((day + 2 * DAY, amount, "退汇", None, account))
        debit = int(amounts.sum()) if control else int(amounts[~failed].sum())
        batch_statement.append((day, -debit, "代发", None, None))
    instructions = pd.DataFrame(
        instruction_rows,
        columns=[
            "payment_reference",
            "batch_reference",
            "account_no",
            "account_name",
            "amount_fen",
            "status",
            "settled_on",
        ],
    )
    instructions["settled_on"] = instructions["settled_on"].astype("datetime64[s]")
    frame = pd.DataFrame(batch_book, columns=["entry_date", "amount_fen", "payment_reference", "batch_reference"])
    add(book_parts, **{column: frame[column].to_numpy() for column in frame.columns})
    frame = pd.DataFrame(
        batch_statement, columns=["booked_on", "amount_fen", "summary", "memo", "counterparty_account"]
    )
    add(statement_parts, **{column: frame[column].to_numpy() for column in frame.columns})

    # 4. Settlements received in two transfers.
    count = SETTLEMENTS_IN_TWO
    accounts = np.array([f"6105{index:010d}" for index in range(count)], dtype=object)
    first = random.integers(100_000, 5_000_000, count)
    second = random.integers(100_000, 5_000_000, count)
    dates = _dates(random, count)
    add(
        book_parts,
        entry_date=dates,
        amount_fen=first + second,
        counterparty_account=accounts,
        counterparty_name="国网安康供电公司",
    )
    add(
        statement_parts,
        booked_on=np.concatenate([dates, dates + DAY]),
        amount_fen=np.concatenate([first, second]),
        summary="电费结算",
        counterparty_account=np.concatenate([accounts, accounts]),
    )

    # 5. Names that differ by one character, on different accounts: candidates only.
    count = FUZZY_PAIRS
    amounts = -random.integers(10_000, 90_000, count)
    dates = _dates(random, count)
    add(
        book_parts,
        entry_date=dates,
        amount_fen=amounts,
        counterparty_account=np.array([f"6230{index:012d}" for index in range(count)], dtype=object),
        counterparty_name="张三峰",
    )
    add(
        statement_parts,
        booked_on=dates + DAY,
        amount_fen=amounts,
        summary="转账",
        counterparty_account=np.array([f"6231{index:012d}" for index in range(count)], dtype=object),
        counterparty_name="张三丰",
    )

    # 6. Fill both sides to a million: fees and interest on the bank, uncleared items in the book.
    book_rows = sum(len(part["amount_fen"]) for part in book_parts)  # type: ignore[arg-type]
    statement_rows = sum(len(part["amount_fen"]) for part in statement_parts)  # type: ignore[arg-type]
    count = ITEMS - book_rows
    add(
        book_parts,
        entry_date=_dates(random, count),
        amount_fen=-random.integers(10_000, 900_000, count),
        memo="转账支票",
    )
    count = ITEMS - statement_rows
    interest = random.random(count) < 0.2
    add(
        statement_parts,
        booked_on=_dates(random, count),
        amount_fen=np.where(interest, random.integers(1, 5_000, count), -random.integers(100, 2_000, count)),
        summary=np.where(interest, "结息", "手续费"),
    )

    def assemble(parts: list[dict[str, object]], columns: list[str]) -> pd.DataFrame:
        frames = []
        for part in parts:
            length = len(part["amount_fen"])  # type: ignore[arg-type]
            frames.append(
                pd.DataFrame(
                    {
                        column: part.get(column, np.full(length, None, dtype=object))
                        if not np.isscalar(part.get(column))
                        else np.full(length, part[column], dtype=object)
                        for column in columns
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    statement = assemble(
        statement_parts, ["booked_on", "amount_fen", "summary", "memo", "counterparty_account", "counterparty_name"]
    )
    statement.insert(0, "line_id", np.arange(1, len(statement) + 1, dtype=np.int64))
    statement["txn_id"] = np.array([f"T{index:09d}" for index in range(len(statement))], dtype=object)
    statement["balance_fen"] = pd.array([None] * len(statement), dtype="Int64")
    statement["booked_on"] = statement["booked_on"].astype("datetime64[s]")
    statement["amount_fen"] = statement["amount_fen"].astype(np.int64)
    book = assemble(
        book_parts,
        [
            "entry_date",
            "amount_fen",
            "payment_reference",
            "batch_reference",
            "counterparty_account",
            "counterparty_name",
            "memo",
        ],
    )
    book.insert(0, "book_id", np.arange(1, len(book) + 1, dtype=np.int64))
    book["entry_date"] = book["entry_date"].astype("datetime64[s]")
    book["amount_fen"] = book["amount_fen"].astype(np.int64)
    book["memo"] = book["memo"].fillna("")
    return statement, book, instructions


def peak_memory_bytes() -> int:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> int:
    started = time.perf_counter()
    statement, book, instructions = county_month()
    print(
        f"generated {len(statement):,} statement lines, {len(book):,} book items, {len(instructions):,} instructions "
        f"in {time.perf_counter() - started:.1f} s; peak memory so far {peak_memory_bytes() / 1024**2:,.0f} MiB"
    )

    started, cpu_started = time.perf_counter(), time.process_time()
    result = reconcile(statement, book, instructions)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    peak = peak_memory_bytes()

    matches = result.matches
    matched_lines = int(result.statement_dispositions["status"].isin(["matched", "confirmed"]).sum())
    candidate_lines = int((result.statement_dispositions["status"] == "candidate").sum())
    matched_books = int(result.book_dispositions["status"].isin(["matched", "confirmed"]).sum())
    candidate_books = int((result.book_dispositions["status"] == "candidate").sum())
    print(f"matches: {len(matches):,}")
    for (rule, status), count in matches.groupby(["rule", "status"]).size().items():
        print(f"  {rule:<20} {status:<10} {count:>9,}")
    print(
        f"statement lines: matched {matched_lines:,}, candidate {candidate_lines:,}, bank-only "
        f"{len(result.bank_only):,}"
    )
    print(f"  bank-only by category: {result.bank_only['category'].value_counts().to_dict()}")
    print(
        f"book items:      matched {matched_books:,}, candidate {candidate_books:,}, book-only "
        f"{len(result.book_only):,}"
    )
    print(f"amount mismatches {len(result.amount_mismatches):,}, duplicate rows {len(result.duplicates):,}")
    table = adjusted_balance(int(book["amount_fen"].sum()), int(statement["amount_fen"].sum()), result)
    print(
        f"adjusted balances: book {table.adjusted_book_balance_fen:,} fen, bank {table.adjusted_bank_balance_fen:,} "
        f"fen, difference {table.difference_fen:,}"
    )
    print(
        f"reconcile took {seconds:.1f} s (limit {SECONDS_MAX:.0f} s; {cpu_seconds:.1f} s of CPU, which another "
        f"process's load on the machine changes less); peak memory {peak / 1024**2:,.0f} MiB (limit "
        f"{MEMORY_BYTES_MAX / 1024**2:,.0f} MiB)"
    )
    return 0 if seconds <= SECONDS_MAX and peak <= MEMORY_BYTES_MAX else 1


if __name__ == "__main__":
    raise SystemExit(main())
