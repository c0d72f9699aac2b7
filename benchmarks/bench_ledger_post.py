"""Posting speed: N generated two-posting entries through the real poster (hash chain, balance
checks before and after writing, idempotency record), next to a raw sqlite3 executemany of the
same posting rows into a bare table in the same run — the physical limit of this store.

Usage: python benchmarks/bench_ledger_post.py [N ...]     (default: 100000 1000000)
PostgreSQL is measured too when DISBURSE_TEST_PG_URL (or DISBURSE_BENCH_PG_URL) is set.
Targets (issue 2): at least 250,000 postings/s on SQLite, and within 4x of the raw rate.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from disburse.foundation.db import make_engine, transaction  # noqa: E402
from disburse.ledger.model import EntryBatch  # noqa: E402
from disburse.ledger.posting import post_entries  # noqa: E402
from disburse.schema import migrate as schema  # noqa: E402


def generated_batch(entry_count: int) -> EntryBatch:
    """N entries of Dr 322.01 / Cr 211 (one household each), like a distribution run."""
    rng = np.random.default_rng(entry_count)
    amounts = rng.integers(1, 500_000, size=entry_count, dtype=np.int64)
    posting_amounts = np.empty(2 * entry_count, dtype=np.int64)
    posting_amounts[0::2] = amounts
    posting_amounts[1::2] = -amounts
    households = [f"H{n:09d}" for n in range(entry_count)]
    household_column: list[str | None] = [None] * (2 * entry_count)
    household_column[1::2] = households
    return EntryBatch(
        entity_code=["COUNTY"] * entry_count,
        period=["2026-10"] * entry_count,
        entry_date=[dt.date(2026, 10, 31)] * entry_count,
        memo=["2026-10 光伏收益分配"] * entry_count,
        source_kind=["benchmark"] * entry_count,
        source_reference=["bench"] * entry_count,
        reverses_entry_id=[None] * entry_count,
        label=[""] * entry_count,
        posting_entry_index=np.repeat(np.arange(entry_count, dtype=np.int64), 2),
        account_code=["322.01", "211"] * entry_count,
        amount_fen=posting_amounts,
        household_id=household_column,
        fund_source=["PV-611002-001"] * (2 * entry_count),
        payment_reference=[None] * (2 * entry_count),
    )


def raw_rate(batch: EntryBatch, directory: Path) -> float:
    """Postings per second of a bare sqlite3 executemany of the same posting rows."""
    path = directory / "raw.db"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        "CREATE TABLE postings (entry_id INTEGER, line_number INTEGER, account_code TEXT, amount_fen INTEGER,"
        " household_id TEXT, fund_source TEXT, payment_reference TEXT)"
    )
    rows = list(
        zip(
            (batch.posting_entry_index + 1).tolist(),
            [1, 2] * batch.entry_count,
            batch.account_code,
            batch.amount_fen.tolist(),
            batch.household_id,
            batch.fund_source,
            batch.payment_reference,
        )
    )
    started = time.perf_counter()
    connection.execute("BEGIN")
    connection.executemany("INSERT INTO postings VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return batch.posting_count / elapsed


def engine_rate(url: str, batch: EntryBatch) -> float:
    engine = make_engine(url)
    try:
        schema.migrate(engine)
        with transaction(engine) as session:
            schema.seed(session)
        started = time.perf_counter()
        with transaction(engine) as session:
            result = post_entries(session, batch, idempotency_key=f"bench-{batch.entry_count}", user="bench")
        elapsed = time.perf_counter() - started
        assert result.entry_count == batch.entry_count
        return batch.posting_count / elapsed
    finally:
        engine.dispose()


def postgres_url() -> str | None:
    url = os.environ.get("DISBURSE_BENCH_PG_URL") or os.environ.get("DISBURSE_TEST_PG_URL")
    if not url:
        return None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"disburse_bench_{os.getpid()}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the database postgres_url made for this run (a benchmark leaves nothing behind)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    sizes = [int(value) for value in sys.argv[1:]] or [100_000, 1_000_000]
    print(f"{'entries':>10} {'postings':>10} {'engine':>10} {'postings/s':>12} {'raw/s':>12} {'raw÷engine':>10}")
    for entry_count in sizes:
        batch = generated_batch(entry_count)
        with tempfile.TemporaryDirectory() as directory:
            raw = raw_rate(batch, Path(directory))
            rate = engine_rate(f"sqlite:///{Path(directory) / 'books.db'}", batch)
            print(
                f"{entry_count:>10,} {batch.posting_count:>10,} {'sqlite':>10} {rate:>12,.0f} {raw:>12,.0f} "
                f"{raw / rate:>10.2f}"
            )
        url = postgres_url()
        if url:
            try:
                rate = engine_rate(url, batch)
            finally:
                drop_database(url)
            print(f"{entry_count:>10,} {batch.posting_count:>10,} {'postgresql':>10} {rate:>12,.0f} {'':>12} {'':>10}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
