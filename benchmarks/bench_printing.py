"""Printing speed: the 科目余额表 and the 明细账 of 211 应付款 of a 3,000-household county laid out
and written as PDF (WeasyPrint), as the demo's books hold them after one month: the book as
printed (one line per voucher and account), and the book of every posting (one line per
household's posting, ``report ledger --postings``), which is the long one. Also the xlsx of the
same books, and the month's 记账凭证 summarised by village.

Usage: python benchmarks/bench_printing.py [HOUSEHOLDS] [DEMO_DIRECTORY]
    (default 3000; the demo is run into a temporary folder unless a demo folder is given)
Prints seconds (wall and CPU), pages and rows per book. No target is asserted: the figures are
for the README.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from disburse.dev.demo.cycle import run_demo  # noqa: E402
from disburse.foundation.db import make_engine, transaction  # noqa: E402
from disburse.reports.ledger_detail import account_detail, write_account_detail  # noqa: E402
from disburse.reports.trial_balance import trial_balance, write_trial_balance  # noqa: E402
from disburse.reports.voucher_print import VoucherPrint, print_vouchers  # noqa: E402
from disburse.reports.vouchers import vouchers_of  # noqa: E402

RUN_PERIOD = "2026-10"  # the demo's runs post here: 211 is credited for every household


def measured(label: str, rows: int, write) -> None:  # type: ignore[no-untyped-def]
    started, cpu = time.perf_counter(), time.process_time()
    written = write()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    pages = f"{written.pages:>5,} pages" if written.pages else "           "
    per_page = f"  {seconds / written.pages * 1000:6.0f} ms/page" if written.pages else ""
    print(f"{label:<44} {rows:>7,} rows {pages}  {seconds:7.2f} s wall  {cpu_seconds:7.2f} s cpu{per_page}")


def main() -> None:
    households = int(sys.argv[1]) if len(sys.argv) > 1 else 3_000
    if len(sys.argv) > 2:
        directory = Path(sys.argv[2])
    else:
        directory = Path(tempfile.mkdtemp(prefix="disburse-bench-print-"))
        started = time.perf_counter()
        run_demo(directory, households=households, today=dt.date(2026, 12, 2))
        print(f"demo of {households:,} households in {time.perf_counter() - started:.1f} s ({directory})")
    out = directory / "bench"
    engine = make_engine(f"sqlite:///{directory / 'disburse.db'}")
    with transaction(engine) as session:
        balances = trial_balance(session, "COUNTY", RUN_PERIOD)
        book = account_detail(session, "COUNTY", RUN_PERIOD, "211")
        every = account_detail(session, "COUNTY", RUN_PERIOD, "211", by_posting=True)
        vouchers = vouchers_of(session, "COUNTY", "2026-12")
        for suffix in (".pdf", ".xlsx"):
            measured(
                f"科目余额表 {RUN_PERIOD} {suffix}",
                len(balances.lines),
                lambda: write_trial_balance(balances, out / f"tb{suffix}", year_start=True),
            )
            measured(
                f"明细账 211 {RUN_PERIOD} by voucher {suffix}",
                len(book.lines),
                lambda: write_account_detail(book, out / f"211{suffix}"),
            )
            measured(
                f"明细账 211 {RUN_PERIOD} every posting {suffix}",
                len(every.lines),
                lambda: write_account_detail(every, out / f"211-postings{suffix}"),
            )
        setting = VoucherPrint("县级扶贫资金专户（COUNTY）", "2026年12月", attachments=False)
        measured(
            "记账凭证 2026-12 by village, no 分户明细表 .pdf",
            sum(len(voucher.lines) for voucher in vouchers),
            lambda: print_vouchers(session, vouchers, out / "vouchers.pdf", setting)[0],
        )
    engine.dispose()


if __name__ == "__main__":
    main()
