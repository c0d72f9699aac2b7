"""Manual vouchers from a file, whole process against whole process: N two-posting vouchers
written as a 凭证 CSV, submitted (`disburse journal post`) and approved (`disburse journal
approve`) as two separate commands on a fresh SQLite file, next to Beancount's `bean-check` on
the same N transactions when it is installed (on PATH, or named by BEAN_CHECK).

Usage: python benchmarks/bench_journal_post.py [N]        (default: 100000)
Target (issue 17): submit + approve at least 10x as fast as bean-check on the same vouchers.
Prints wall and CPU seconds and peak memory of each process.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DISBURSE = Path(sys.executable).parent / "disburse"


def write_files(count: int, directory: Path) -> tuple[Path, Path]:
    """The same vouchers as a 凭证 CSV (Dr 211 / Cr 102 per household) and as a Beancount file."""
    rng = random.Random(count)
    vouchers, ledger = directory / "vouchers.csv", directory / "ledger.beancount"
    with vouchers.open("w", encoding="utf-8") as csv, ledger.open("w", encoding="utf-8") as bean:
        csv.write("凭证号,日期,摘要,科目编码,借方金额,贷方金额,户编号\n")
        bean.write('option "operating_currency" "CNY"\n')
        bean.write("2026-01-01 open Liabilities:Payable CNY\n2026-01-01 open Assets:Bank CNY\n")
        for number in range(1, count + 1):
            day = dt.date(2026, 10, 1 + number % 28)
            fen = rng.randint(1, 10_000_000)
            yuan = f"{fen // 100}.{fen % 100:02d}"
            csv.write(f"{number},{day},发放 {number},211,{yuan},,611002{number % 5000:010d}\n")
            csv.write(f"{number},{day},发放 {number},102,,{yuan},\n")
            bean.write(f'{day} * "发放 {number}"\n  Liabilities:Payable  {yuan} CNY\n  Assets:Bank  -{yuan} CNY\n')
    return vouchers, ledger


def timed(command: list[str], **environment: str) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and peak resident MiB of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **environment})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{completed.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss // 1024


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        vouchers, ledger = write_files(count, directory)
        database = f"sqlite:///{directory / 'books.db'}"
        subprocess.run([str(DISBURSE), "--db", database, "init"], check=True, capture_output=True)
        submit = timed(
            [str(DISBURSE), "--db", database, "journal", "post", str(vouchers), "--entity", "COUNTY"],
            DISBURSE_USER="maker",
        )
        approve = timed([str(DISBURSE), "--db", database, "journal", "approve", "1"], DISBURSE_USER="checker")
        print(f"{count:,} two-posting vouchers ({2 * count:,} postings)")
        print(f"  journal post (submit):  {submit[0]:6.2f} s wall, {submit[1]:6.2f} s CPU, {submit[2]:,} MiB peak")
        print(f"  journal approve (post): {approve[0]:6.2f} s wall, {approve[1]:6.2f} s CPU, {approve[2]:,} MiB peak")
        ours = submit[0] + approve[0]
        print(f"  together:               {ours:6.2f} s wall")
        bean_check = os.environ.get("BEAN_CHECK") or shutil.which("bean-check")
        if not bean_check:
            print("  bean-check not found (install beancount, or set BEAN_CHECK): no ratio")
            return
        beancount = timed([bean_check, str(ledger)])
        print(f"  bean-check:             {beancount[0]:6.2f} s wall, {beancount[1]:6.2f} s CPU")
        print(f"  bean-check / ours:      {beancount[0] / ours:6.2f}x (target: at least 10x)")


if __name__ == "__main__":
    main()
