"""Benchmark: import a generated household register of about 1,000,000 people (300,000
households) into a fresh SQLite database with full validation: parse, check, compare with the
(empty) register in force and write every household and person version.

Run: ``.venv/bin/python benchmarks/bench_import_register.py [--households N] [--seed S]``.
The county is generated in a child process, so the peak memory printed (this process's maximum
resident set, from resource.getrusage) is the import's alone. Target: at most 30 s and 3 GB.
Not a test: it takes tens of seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from disburse.dev.generator import generate_county  # noqa: E402
from disburse.foundation.db import make_engine, transaction  # noqa: E402
from disburse.registry.service import import_register  # noqa: E402
from disburse.schema import migrate as schema  # noqa: E402

HOUSEHOLDS_DEFAULT = 300_000
SEED_DEFAULT = 20261124
SECONDS_TARGET = 30
PEAK_MEMORY_TARGET_BYTES = 3 * 1024**3
TODAY = dt.date(2026, 11, 15)


def _generate(out_dir: str, households: int, seed: int) -> None:
    generate_county(Path(out_dir), households, seed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=HOUSEHOLDS_DEFAULT)
    parser.add_argument("--seed", type=int, default=SEED_DEFAULT)
    parser.add_argument(
        "--also-next",
        action="store_true",
        help="then import the next snapshot too (compared with a million versions in force)",
    )
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_import_register_") as directory:
        county_dir = Path(directory) / "county"
        started = time.perf_counter()
        child = multiprocessing.get_context("spawn").Process(
            target=_generate, args=(str(county_dir), arguments.households, arguments.seed)
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            print(f"generating the county failed (exit code {child.exitcode})")
            return 1
        register = sorted(county_dir.glob("register_*.csv"))[0]
        size_mb = register.stat().st_size / 1024**2
        print(f"generated {register.name} ({size_mb:,.0f} MB) in {time.perf_counter() - started:,.1f} s")

        engine = make_engine(f"sqlite:///{Path(directory) / 'books.db'}")
        schema.migrate(engine)
        with transaction(engine) as session:
            schema.seed(session)

        stages: list[tuple[str, float]] = []
        started = time.perf_counter()
        with transaction(engine) as session:
            outcome = import_register(
                session,
                register,
                user="bench",
                as_of=dt.date(2026, 8, 31),
                today=TODAY,
                progress=lambda stage: stages.append((stage, time.perf_counter())),
            )
        elapsed = time.perf_counter() - started
        if arguments.also_next:
            following = sorted(county_dir.glob("register_*.csv"))[1]
            next_started = time.perf_counter()
            with transaction(engine) as session:
                next_outcome = import_register(
                    session, following, user="bench", as_of=dt.date(2026, 9, 30), today=TODAY
                )
            print(
                f"next snapshot: {next_outcome.message} in {time.perf_counter() - next_started:,.1f} s "
                f"({next_outcome.counts})"
            )
        engine.dispose()

    peak_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    marks = [started] + [moment for _, moment in stages] + [started + elapsed]
    for (stage, _), begin, end in zip(stages, marks[1:], marks[2:]):
        print(f"  {stage}: {end - begin:,.1f} s")
    print(f"  (before reading: {marks[1] - marks[0]:,.1f} s, hashing the file and checking the sequence)")
    print(outcome.message)
    print(
        f"imported {outcome.row_count:,} people in {elapsed:,.1f} s: {outcome.row_count / elapsed:,.0f} rows/s; "
        f"peak memory {peak_bytes / 1024**3:,.2f} GB"
    )
    within = elapsed <= SECONDS_TARGET and peak_bytes <= PEAK_MEMORY_TARGET_BYTES
    print(
        f"target ≤ {SECONDS_TARGET} s and ≤ {PEAK_MEMORY_TARGET_BYTES / 1024**3:.0f} GB: "
        f"{'met' if within else 'NOT met'}"
    )
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
