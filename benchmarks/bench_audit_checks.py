"""Benchmark and score of the audit checks on seeded counties.

For each seed: generate a county, seed it with every anomaly and near-miss, build its month of
books, run all the checks (timed) and score them against what was planted. Prints, per seed and
over all seeds, each check's planted anomalies, findings, recall and precision and any near-miss
flagged, and the seconds the checks took. Run:
``.venv/bin/python benchmarks/bench_audit_checks.py [--households 300] [--seeds 1 2 3] [--db-dir DIR]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import json  # noqa: E402

from disburse.audit.anomalies import run_checks  # noqa: E402
from disburse.audit.scoring import CheckScore, score, score_lines  # noqa: E402
from disburse.dev.audit_month import DATES, build_month  # noqa: E402
from disburse.dev.generator import generate_county  # noqa: E402
from disburse.dev.generator.seeding import seed_county  # noqa: E402
from disburse.foundation.db import make_engine, transaction  # noqa: E402


def one_seed(directory: Path, households: int, seed: int) -> tuple[dict[str, CheckScore], float, float]:
    county = directory / f"county-{seed}"
    generate_county(county, households, seed)
    manifest = json.loads(seed_county(county, seed).read_text(encoding="utf-8"))
    url = f"sqlite:///{directory / f'books-{seed}.db'}"
    started = time.perf_counter()
    build_month(county, url)
    built = time.perf_counter() - started
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            started = time.perf_counter()
            report = run_checks(session, today=DATES.checks_on)
            checked = time.perf_counter() - started
    finally:
        engine.dispose()
    return score(report, manifest), built, checked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=300)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--db-dir", type=Path, default=None)
    options = parser.parse_args()
    directory = options.db_dir or Path(tempfile.mkdtemp(prefix="disburse-audit-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    total: dict[str, CheckScore] = {}
    for seed in options.seeds:
        scores, built, checked = one_seed(directory, options.households, seed)
        print(
            f"seed {seed}: {options.households} households, month built in {built:.1f} s, checks ran in {checked:.2f} s"
        )
        print("\n".join(score_lines(scores)))
        for name, result in scores.items():
            into = total.setdefault(name, CheckScore(name))
            into.planted += [f"{seed}:{a}" for a in result.planted]
            into.found += [f"{seed}:{a}" for a in result.found]
            into.findings += result.findings
            into.true_findings += result.true_findings
            into.flagged_near_misses += [f"{seed}:{n}" for n in result.flagged_near_misses]
    print(f"over seeds {', '.join(map(str, options.seeds))}:")
    print("\n".join(score_lines(total)))


if __name__ == "__main__":
    main()
