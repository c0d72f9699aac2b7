"""Benchmark: one PV settlement over 1,000,000 holders.

Prints two figures: the split alone (the allocation math: kW × active days → largest-remainder
shares, target ≤ 1 s) and the whole ``allocate_pv`` (deductions, parts, eligibility, proration,
lines frame with payee accounts). Run: ``.venv/bin/python benchmarks/bench_allocation_math.py``.
"""

from __future__ import annotations

import datetime
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from disburse.allocations.pv import allocate_pv  # noqa: E402
from disburse.allocations.rules import load_rule  # noqa: E402
from disburse.allocations.split import split_largest_remainder  # noqa: E402

HOLDERS = 1_000_000
MATH_SECONDS_MAX = 1.0
ALLOCATE_AND_POST_SECONDS_MAX = 15.0
STATION = "PV-611002-001"
RULE = """
kind: pv_revenue
name: benchmark
station_id: PV-611002-001
capacity_kw: "3000000"
paying_entity: COUNTY
fund_source: benchmark
stop_on_exit: true
eligibility:
  - {field: household.poverty_status, op: in, value: [未脱贫, 已脱贫, 返贫, 监测对象]}
deductions:
  - {name: om, per_watt_year_yuan: "0.03", account_code: "211", expense_account_code: "511"}
  - {name: land_rent, fixed_per_year_yuan: "600000", account_code: "211", expense_account_code: "511"}
  - {name: insurance, percent_of_revenue: "0.5%", account_code: "211", expense_account_code: "511"}
parts:
  collective: {mode: by_claimed_kw, account_code: "113", debit_account_code: "322"}
  households: {percent: "100%", account_code: "211", debit_account_code: "322"}
"""


def county(seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Holdings as the register hands them over (sorted by holder type, then id): 500 village
    holdings of 20 kW, then 1,000,000 household holdings of 3 kW (some 2 or 5 kW, some starting or ending mid-quarter,
    a few exited)."""
    random = np.random.default_rng(seed)
    household_ids = np.array([f"611002{index:010d}" for index in range(HOLDERS)], dtype=object)
    units = np.full(HOLDERS, 30_000, dtype=np.int64)
    units[random.random(HOLDERS) < 0.05] = 20_000
    units[random.random(HOLDERS) < 0.02] = 50_000
    start_on = np.full(HOLDERS, np.datetime64("2020-01-01", "D"))
    late = random.random(HOLDERS) < 0.03
    start_on[late] = np.datetime64("2026-07-01", "D") + random.integers(0, 92, late.sum())
    exited = np.full(HOLDERS, np.datetime64("NaT"), dtype="datetime64[D]")
    leaving = random.random(HOLDERS) < 0.02
    exited[leaving] = np.datetime64("2026-07-01", "D") + random.integers(0, 92, leaving.sum())
    households = pd.DataFrame(
        {
            "household_id": household_ids,
            "village_code": "611002001001",
            "household_type": "一般贫困户",
            "poverty_status": np.where(leaving, "已脱贫", "未脱贫"),
            "exited_on": exited,
            "head_name": "户主",
            "account_no": household_ids,
        }
    )
    villages = np.array([f"611002{index:06d}" for index in range(500)], dtype=object)
    holdings = pd.DataFrame(
        {
            "asset_id": STATION,
            "holder_type": np.concatenate(
                [np.full(500, "collective", dtype=object), np.full(HOLDERS, "household", dtype=object)]
            ),
            "holder_id": np.concatenate([villages, household_ids]),
            "units_e4": np.concatenate([np.full(500, 200_000, dtype=np.int64), units]),
            "principal_fen": 0,
            "start_on": np.concatenate([np.full(500, np.datetime64("2020-01-01", "D")), start_on]),
            "end_on": np.full(HOLDERS + 500, np.datetime64("NaT"), dtype="datetime64[D]"),
        }
    )
    return households, holdings


def main() -> int:
    households, holdings = county()
    # The math alone: kW e4 × active days, then the split of 2,345,678.91 yuan.
    started = time.perf_counter()
    first = np.maximum(holdings["start_on"].to_numpy().astype("datetime64[D]"), np.datetime64("2026-07-01", "D"))
    days = (np.datetime64("2026-09-30", "D") - first).astype(np.int64) + 1
    weights = holdings["units_e4"].to_numpy(dtype=np.int64) * days
    shares = split_largest_remainder(234_567_891, weights, np.arange(len(weights)))
    math_seconds = time.perf_counter() - started
    assert int(shares.sum()) == 234_567_891

    rule = load_rule(RULE)
    # 3 GW for a quarter earns far more than its O&M (0.03 yuan/W/year × 3e9 W × 1/4 = 22.5M
    # yuan): 123.5M yuan leaves a real amount for every one of the million households.
    settlement = {
        "station_id": STATION,
        "service_period": "2026Q3",
        "amount_fen": 12_345_678_901,
        "revenue_type": "base",
    }
    started = time.perf_counter()
    result = allocate_pv(
        rule,
        settlement,
        households,
        pd.DataFrame(columns=["id_number", "household_id", "name", "died_on", "person_account_no"]),
        holdings,
    )
    allocate_seconds = time.perf_counter() - started
    print(f"split over {len(weights):,} holders: {math_seconds:.3f} s (target ≤ {MATH_SECONDS_MAX} s)")
    print(
        f"allocate_pv over {len(holdings):,} holdings: {allocate_seconds:.3f} s, {len(result.lines):,} lines, "
        f"{len(result.exclusions):,} exclusions, lines sum {result.line_total_fen():,} fen = pool"
    )
    post_seconds = post(result, households)
    print(
        f"post the run's lines into fresh SQLite books: {post_seconds:.3f} s; "
        f"allocate and post: {allocate_seconds + post_seconds:.3f} s (target ≤ {ALLOCATE_AND_POST_SECONDS_MAX} s)"
    )
    return 0 if math_seconds <= MATH_SECONDS_MAX else 1


def post(result, households: pd.DataFrame) -> float:  # type: ignore[no-untyped-def]
    """Post the lines as `runs post` does (one entry per component and village, one credit line
    per household) into a fresh SQLite file; returns the seconds it took."""
    import tempfile
    from types import SimpleNamespace

    from disburse.allocations.runs import _entries
    from disburse.foundation.db import make_engine, transaction
    from disburse.ledger.posting import post_entries
    from disburse.schema import migrate as schema

    lines = result.lines.join(households.set_index("household_id")[["village_code"]], on="household_id")
    run = SimpleNamespace(
        id=1, paying_entity_code="COUNTY", period="2026-10", fund_source="benchmark", rule_name="benchmark"
    )
    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(f"sqlite:///{directory}/books.db")
        schema.migrate(engine)
        with transaction(engine) as session:
            schema.seed(session)
        started = time.perf_counter()
        batch = _entries(run, lines.assign(debit_account_code="322.01"), "amount_fen", "", datetime.date(2026, 10, 31))
        with transaction(engine) as session:
            post_entries(session, batch, idempotency_key="benchmark", user="benchmark")
        elapsed = time.perf_counter() - started
        engine.dispose()
    print(f"  {batch.entry_count:,} entries, {batch.posting_count:,} postings")
    return elapsed


if __name__ == "__main__":
    raise SystemExit(main())
