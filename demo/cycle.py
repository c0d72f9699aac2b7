"""`disburse demo`: a whole monthly cycle on bundled example data, in a fresh SQLite file.

Each step calls the same service functions the commands call, so the demo shows what a county
does with the real engine, not a simulation of it.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ledger_core import schema
from ledger_core.db import make_engine, transaction
from ledger_core.model import EntryBatch, EntryDraft, PostingDraft
from ledger_core.posting import post_entries
from ledger_core.verify import verify_books
from reports.trial_balance import trial_balance, write_trial_balance

FINANCE_USER = "county-finance"
APPROVER_USER = "county-approver"


@dataclass
class DemoSummary:
    """What the demo did: its steps with figures, and where its files are."""

    directory: Path
    database_url: str
    steps: list[tuple[str, str]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0


def example_vouchers(period_end: dt.date) -> list[EntryDraft]:
    """A month's receipts, distribution and payment for one village station, by hand."""
    return [
        EntryDraft("COUNTY", period_end.strftime("%Y-%m"), period_end, "收到光伏电费 PV-611002-001",
                   (PostingDraft("102", 8_862_500, fund_source="PV-611002-001"),
                    PostingDraft("501", -8_862_500, fund_source="PV-611002-001"))),
        EntryDraft("COUNTY", period_end.strftime("%Y-%m"), period_end, "计提运维费",
                   (PostingDraft("511", 75_000), PostingDraft("211", -75_000))),
    ]


def run_demo(directory: Path | None = None, progress: Callable[[str], None] = lambda _: None) -> DemoSummary:
    """Run the cycle in ``directory`` (default: a new temporary directory)."""
    started = time.perf_counter()
    directory = Path(directory or tempfile.mkdtemp(prefix="disburse-demo-"))
    directory.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{directory / 'disburse.db'}"
    summary = DemoSummary(directory, url)
    engine = make_engine(url)
    try:
        progress("creating the books")
        schema.migrate(engine)
        with transaction(engine) as session:
            schema.seed(session)
        summary.steps.append(("books", "schema at head, chart of accounts seeded"))

        progress("posting example vouchers")
        period_end = dt.date(2026, 10, 31)
        with transaction(engine) as session:
            result = post_entries(session, EntryBatch.from_drafts(example_vouchers(period_end)),
                                  idempotency_key="demo:vouchers", user=FINANCE_USER)
        summary.steps.append(("vouchers", f"{result.entry_count} entries posted"))

        progress("reporting")
        with transaction(engine) as session:
            balance = trial_balance(session, "COUNTY", "2026-10")
            reports = verify_books(session)
        path = directory / "科目余额表-COUNTY-2026-10.xlsx"
        write_trial_balance(balance, path)
        summary.files.append(path)
        summary.steps.append(("trial balance", f"balanced: {balance.balanced}"))
        summary.steps.append(("verify", "every chain intact" if all(r.intact for r in reports) else "BROKEN"))
    finally:
        engine.dispose()
    summary.seconds = time.perf_counter() - started
    return summary
