"""Benchmark: appending one signed checkpoint, and verifying it, over N payables (default
100,000) plus N allocation lines and N/7 payment instructions, on SQLite (and on PostgreSQL
when DISBURSE_BENCH_PG_URL names an empty database to use).

A checkpoint reads every money table through the driver in primary-key order and hashes each
block of 1,000 ids; this prints the seconds for the append (digest + sign + insert), for the
digest check verify makes against the newest checkpoint, and the size of the stored digest.
Run: ``.venv/bin/python benchmarks/bench_checkpoint.py [N]``.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from disburse.foundation.db import make_engine, transaction  # noqa: E402
from disburse.foundation.signing import key_create  # noqa: E402
from disburse.schema import migrate as schema  # noqa: E402
from disburse.schema.checkpoints import checkpoint_append, verify_checkpoints  # noqa: E402

PAYABLES = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
INSERT_ROWS = 10_000


def fill(engine, payables: int) -> None:  # type: ignore[no-untyped-def]
    """Rows shaped like a county's (the digest does not care whether the foreign keys resolve,
    so they are switched off while filling)."""
    now = dt.datetime(2026, 11, 1, 9, 0, 0)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # The pragma works only outside a transaction, so on the driver's connection.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        else:
            connection.exec_driver_sql("SET session_replication_role = replica")
        _insert(connection, payables, now)
        connection.commit()
        if connection.dialect.name == "sqlite":
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def _insert(connection, payables: int, now: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    for start in range(1, payables + 1, INSERT_ROWS):
        ids = range(start, min(start + INSERT_ROWS, payables + 1))
        connection.execute(
            text(
                "INSERT INTO payables (id, entity_id, run_id, source_line, household_id, payee_type, payee_id,"
                " programme, fund_source, account_code, amount_fen, account_no, account_name, bank_name, period,"
                " status, created_at) VALUES (:id, 1, 1, :id, :household, 'household', :household, 'pv_revenue',"
                " 'PV-611002-001', '211', :amount, '6228480012345678901', '张三', '农业银行', '2026-10', 'open', :now)"
            ),
            [{"id": i, "household": f"61100200100{i:08d}", "amount": 10_000 + i % 977, "now": now} for i in ids],
        )
        connection.execute(
            text(
                "INSERT INTO allocation_lines (id, run_id, line_number, payee_type, payee_id, household_id,"
                " village_code, component, account_code, debit_account_code, amount_fen, basis, note)"
                " VALUES (:id, 1, :id, 'household', :household, :household, '611002001001', 'households',"
                " '211', '322', :amount, 'kw', '')"
            ),
            [{"id": i, "household": f"61100200100{i:08d}", "amount": 10_000 + i % 977} for i in ids],
        )


def measure(url: str, key_path: Path) -> None:
    engine = make_engine(url)
    try:
        schema.migrate(engine)
        with transaction(engine) as session:
            schema.seed(session)
        fill(engine, PAYABLES)
        started = time.perf_counter()
        with transaction(engine) as session:
            outcome = checkpoint_append(session, "post", "bench", "bench", key_path)
        append_seconds = time.perf_counter() - started
        assert outcome.signed, outcome.note
        started = time.perf_counter()
        with transaction(engine) as session:
            report = verify_checkpoints(session, [], key_path)
        verify_seconds = time.perf_counter() - started
        assert not report.problems, report.problems
        with engine.connect() as connection:
            digest_bytes = connection.execute(text("SELECT LENGTH(money_digest) FROM checkpoints")).scalar_one()
        print(
            f"{engine.dialect.name}: checkpoint over {PAYABLES:,} payables + {PAYABLES:,} allocation lines: "
            f"append {append_seconds:.2f} s, verify {verify_seconds:.2f} s, digest {digest_bytes / 1024:.0f} KiB"
        )
    finally:
        engine.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        key_path = Path(directory) / "bench.key"
        key_create(key_path)
        measure(f"sqlite:///{Path(directory) / 'bench.db'}", key_path)
        pg_url = os.environ.get("DISBURSE_BENCH_PG_URL")
        if pg_url:
            measure(pg_url, key_path)


if __name__ == "__main__":
    main()
