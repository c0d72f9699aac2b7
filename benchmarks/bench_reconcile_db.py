"""Benchmark: reconcile 1,000,000 statement lines against 1,000,000 postings through the
database path on SQLite (read the frames, match, store every match with its links, build the
调节表), then once more (the idempotent re-run: everything is found again, nothing is written
but the run row).

The books: N entries on the county account's 102.01 in November 2026, 60% carrying a payment
reference (the bank echoes it in the memo: strategy 1), 30% hand-written vouchers without a
counterparty (exact amount and date: candidates), 10% never cleared (book only). The statement:
the same movements one to two days later, plus N/10 fee lines (bank only). Setup (posting and
inserting the lines) is not timed. Run: ``.venv/bin/python benchmarks/bench_reconcile_db.py [N]``.
"""

from __future__ import annotations

import datetime as dt
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from disburse.foundation.bulk import bulk_insert  # noqa: E402
from disburse.foundation.db import make_engine, transaction  # noqa: E402
from disburse.ledger.model import EntryBatch  # noqa: E402
from disburse.ledger.posting import post_entries  # noqa: E402
from disburse.ledger.service import add_bank_account  # noqa: E402
from disburse.reconciliation.runs import counts_text, run_reconciliation  # noqa: E402
from disburse.reconciliation.statements import STATEMENT_LINE_COLUMNS  # noqa: E402
from disburse.schema import migrate as schema  # noqa: E402

ITEMS = 1_000_000
ACCOUNT_NUMBER = "6217000099990001"
LEDGER_ACCOUNT = "102.01"
REFERENCED_SHARE = 0.6
ANONYMOUS_SHARE = 0.3
START = dt.date(2026, 11, 1)
DAYS = 28
CHUNK_ROWS = 200_000


def books(count: int, random: np.random.Generator) -> tuple[EntryBatch, np.ndarray, np.ndarray, np.ndarray]:
    """The entries on 102.01 (Dr/Cr 211 on the other side), their amounts, days and references."""
    amounts = random.integers(1_000, 5_000_000, count, dtype=np.int64) * np.where(random.random(count) < 0.8, -1, 1)
    days = random.integers(0, DAYS, count)
    referenced = np.arange(count) < int(count * REFERENCED_SHARE)
    references = np.array(
        [f"PAY-202611-{index:06d}" if ok else None for index, ok in enumerate(referenced)], dtype=object
    )
    posting_amounts = np.column_stack([amounts, -amounts]).reshape(-1)
    batch = EntryBatch(
        entity_code=["COUNTY"] * count,
        period=["2026-11"] * count,
        entry_date=[START + dt.timedelta(days=int(day)) for day in days],
        memo=["bench"] * count,
        source_kind=["benchmark"] * count,
        source_reference=["bench"] * count,
        reverses_entry_id=[None] * count,
        label=[""] * count,
        posting_entry_index=np.repeat(np.arange(count, dtype=np.int64), 2),
        account_code=[LEDGER_ACCOUNT, "211"] * count,
        amount_fen=posting_amounts.astype(np.int64),
        household_id=[None] * (2 * count),
        fund_source=[None] * (2 * count),
        payment_reference=[value for reference in references.tolist() for value in (reference, None)],
    )
    return batch, amounts, days, references


def statement_rows(
    count: int,
    amounts: np.ndarray,
    days: np.ndarray,
    references: np.ndarray,
    import_id: int,
    random: np.random.Generator,
) -> list[tuple]:
    """The bank's lines: every cleared movement 1–2 days later, then the fees."""
    cleared = np.arange(count) < int(count * (REFERENCED_SHARE + ANONYMOUS_SHARE))
    line_amounts = np.concatenate([amounts[cleared], -random.integers(100, 2_000, count // 10)])
    line_days = np.concatenate(
        [
            np.minimum(days[cleared] + random.integers(1, 3, int(cleared.sum())), DAYS + 1),
            random.integers(0, DAYS, count // 10),
        ]
    )
    memos = np.concatenate([references[cleared], np.full(count // 10, "跨行汇款手续费", dtype=object)])
    summaries = [
        "代发" if memo and str(memo).startswith("PAY") else ("手续费" if memo else "转账") for memo in memos.tolist()
    ]
    balances = np.cumsum(line_amounts)  # not chained in date order; the run does not need it
    dates = [(START + dt.timedelta(days=int(day))).isoformat() for day in line_days.tolist()]
    return [
        (
            1,
            import_id,
            index + 1,
            index + 2,
            dates[index],
            None,
            f"T{index:09d}",
            summaries[index],
            None,
            None,
            int(line_amounts[index]),
            int(balances[index]),
            memos[index],
            f"T|T{index:09d}",
        )
        for index in range(len(line_amounts))
    ]


def peak_memory_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else ITEMS
    random = np.random.default_rng(7)
    directory = Path(tempfile.mkdtemp(prefix="bench-reconcile-db-"))
    engine = make_engine(f"sqlite:///{directory / 'books.db'}")
    schema.migrate(engine)
    started = time.perf_counter()
    with transaction(engine) as session:
        schema.seed(session)
        # The first bank account registered gets the sub-account 102.01.
        add_bank_account(session, "COUNTY", "中国建设银行", ACCOUNT_NUMBER, "bench", "县财政专户")
        batch, amounts, days, references = books(count, random)
        post_entries(session, batch, idempotency_key="bench-reconcile", user="bench")
        import_id = session.execute(schema_import_row()).scalar_one()
        rows = statement_rows(count, amounts, days, references, import_id, random)
        for start in range(0, len(rows), CHUNK_ROWS):
            bulk_insert(session, "statement_lines", STATEMENT_LINE_COLUMNS, rows[start : start + CHUNK_ROWS])
    print(
        f"setup: {count:,} entries posted and {len(rows):,} statement lines inserted in "
        f"{time.perf_counter() - started:.1f} s ({directory})"
    )
    del rows, batch

    for label in ("first run", "re-run"):
        started, cpu_started = time.perf_counter(), time.process_time()
        with transaction(engine) as session:
            outcome = run_reconciliation(session, LEDGER_ACCOUNT, "2026-11", "bench")
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        print(
            f"{label}: {seconds:.1f} s ({cpu_seconds:.1f} s of CPU); {outcome.counts.statement_lines:,} lines x "
            f"{outcome.counts.book_items:,} book items; {counts_text(outcome.counts)}; {outcome.added:,} matches "
            f"stored, {outcome.removed:,} dropped; peak memory {peak_memory_bytes() / 1024**3:.2f} GB"
        )
    engine.dispose()
    shutil.rmtree(directory)  # about 600 MB of books


def schema_import_row():  # type: ignore[no-untyped-def]
    from sqlalchemy import insert

    from disburse.reconciliation.tables import StatementImportRow

    return (
        insert(StatementImportRow)
        .values(
            bank_account_id=1,
            file_name="bench.csv",
            file_sha256="0" * 64,
            profile="canonical",
            encoding="utf-8",
            line_count=0,
            added_count=0,
            known_count=0,
            warning_count=0,
            imported_by="bench",
        )
        .returning(StatementImportRow.id)
    )


if __name__ == "__main__":
    main()
