"""A process killed in the middle of a bulk post leaves nothing of it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from sqlalchemy import func, select

from disburse.foundation.db import transaction
from disburse.ledger.tables import JournalEntryRow, PostingRow, PostRequestRow
from disburse.ledger.verify import verify_books

KILLER = textwrap.dedent(
    """
    import datetime as dt, os, signal, sys
    import numpy as np
    import disburse.ledger.posting as posting
    from disburse.foundation.db import make_engine, transaction
    from disburse.ledger.model import EntryBatch

    original = posting._check_written

    def insert_then_die(*args, **kwargs):
        original(*args, **kwargs)           # every row is written and read back inside the transaction...
        os.kill(os.getpid(), signal.SIGKILL)  # ...and the process dies before it commits

    posting._check_written = insert_then_die
    count = 20_000
    amounts = np.tile(np.array([100, -100], dtype=np.int64), count)
    batch = EntryBatch(
        entity_code=["COUNTY"] * count, period=["2026-10"] * count, entry_date=[dt.date(2026, 10, 9)] * count,
        memo=["bulk"] * count, source_kind=["test"] * count, source_reference=["crash"] * count,
        reverses_entry_id=[None] * count, label=[""] * count,
        posting_entry_index=np.repeat(np.arange(count, dtype=np.int64), 2),
        account_code=["102", "501"] * count, amount_fen=amounts,
        household_id=[None] * (2 * count), fund_source=[None] * (2 * count), payment_reference=[None] * (2 * count),
    )
    engine = make_engine(sys.argv[1])
    with transaction(engine) as session:
        posting.post_entries(session, batch, idempotency_key="crash", user="alice")
    print("committed")  # never reached
    """
)


def test_killed_bulk_post_leaves_nothing(engine, database_url: str) -> None:  # type: ignore[no-untyped-def]
    completed = subprocess.run(
        [sys.executable, "-c", KILLER, database_url],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert completed.returncode == -9, completed.stderr
    assert "committed" not in completed.stdout
    engine.dispose()
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(JournalEntryRow)) == 0
        assert session.scalar(select(func.count()).select_from(PostingRow)) == 0
        assert session.scalar(select(func.count()).select_from(PostRequestRow)) == 0
        assert all(report.intact for report in verify_books(session))
