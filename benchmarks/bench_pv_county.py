"""Benchmark: a PV run on a generated county, as a user runs it (one process per command).

Generates a county (``disburse generate county``), imports it into fresh SQLite books, then runs
the shipped PV example rule on the county's largest station and prints, for `allocate` (the
allocation of every settlement row of the station that has arrived, over the register of each
row's own service period) and for `runs post`: wall seconds, peak resident memory of that process,
and lines per second.

    .venv/bin/python benchmarks/bench_pv_county.py --households 100000 [--dir DIR] [--keep]

``--dir`` reuses a county and books made by an earlier run (the import is then skipped).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "disburse"
EXAMPLE = Path(__file__).resolve().parents[1] / "disburse" / "allocations" / "examples" / "pv_revenue.yaml"
PERIOD = "2026-10"
BANK_ACCOUNT = "6228480012345678901"


def timed(arguments: list[str], user: str = "县财政局-张会计") -> tuple[float, int, str]:
    """Run one command as its own process: (wall seconds, that process's peak RSS in bytes, stdout)."""
    environment = dict(os.environ, DISBURSE_USER=user)
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen([str(SCRIPT), *arguments], stdout=stdout, stderr=stderr, env=environment)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(arguments)} failed ({process.returncode}):\n{stderr.read()}")
        return seconds, usage.ru_maxrss * 1024, stdout.read()


def prepare(directory: Path, households: int) -> tuple[str, Path]:
    county, books = directory / "county", directory / "books.db"
    url = f"sqlite:///{books}"
    if books.exists():
        return url, county
    print(f"generating and importing a county of {households:,} households into {books} …", flush=True)
    timed(["generate", "county", "--households", str(households), "--seed", "1", "--out", str(county)])
    timed(["--db", url, "init"])
    timed(
        [
            "--db",
            url,
            "entities",
            "add-bank-account",
            "COUNTY",
            "--bank",
            "中国农业银行",
            "--account-number",
            BANK_ACCOUNT,
        ]
    )
    for register in sorted(county.glob("register_*.csv")):
        timed(["--db", url, "import", "registry", str(register), "--as-of", register.stem.split("_")[1]])
    timed(["--db", url, "assets", "load", str(county / "assets.yaml")])
    timed(["--db", url, "import", "shares", str(county / "shares.csv"), "--as-of", "2026-08-31"])
    timed(["--db", url, "import", "pv-settlement", str(county / "pv_settlements.csv")])
    return url, county


def largest_station(county: Path) -> str:
    counts: dict[str, int] = {}
    for line in (county / "shares.csv").read_text(encoding="utf-8").splitlines()[1:]:
        asset = line.split(",", 1)[0]
        if asset.startswith("PV-"):
            counts[asset] = counts.get(asset, 0) + 1
    return max(counts, key=counts.get)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None, help="reuse (or create) the county and books here")
    parser.add_argument("--keep", action="store_true", help="keep a temporary directory")
    options = parser.parse_args()
    directory = options.dir or Path(tempfile.mkdtemp(prefix="bench-pv-"))
    directory.mkdir(parents=True, exist_ok=True)
    url, county = prepare(directory, options.households)
    station = largest_station(county)
    rule = directory / "pv.yaml"
    rule.write_text(EXAMPLE.read_text(encoding="utf-8").replace("PV-611002-001", station), encoding="utf-8")
    inputs = county / f"public_welfare_jobs_{PERIOD}.csv"
    seconds, peak, out = timed(["--db", url, "allocate", str(rule), "--period", PERIOD, "--inputs", str(inputs)])
    run_id = re.search(r"run (\d+) (?:calculated|already exists)", out)
    lines = int(re.search(r"([\d,]+) lines", out).group(1).replace(",", ""))
    print(
        f"allocate {station} ({options.households:,} households): {seconds:.1f} s, peak {peak / 2**20:,.0f} MiB, "
        f"{lines:,} lines ({lines / seconds:,.0f} lines/s)"
    )
    assert run_id is not None, out
    if "calculated" in run_id.group(0):
        timed(["--db", url, "runs", "approve", run_id.group(1)], user="县财政局-李科长")
        seconds, peak, out = timed(["--db", url, "runs", "post", run_id.group(1)], user="县财政局-李科长")
        print(f"runs post: {seconds:.1f} s, peak {peak / 2**20:,.0f} MiB; {out.strip()}")
    if options.dir is None and not options.keep:
        shutil.rmtree(directory)


if __name__ == "__main__":
    main()
