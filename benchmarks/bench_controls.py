"""What the payment controls of issue 14 cost at `payout prepare`: one batch of N payees (the
payables of bench_payouts.py) prepared two ways:

- off: the three controls replaced by no-ops, which is prepare as it was before them;
- on: every payable comes from one of ten runs whose rule asks for 7 days of notice, each run
  noticed in its village and the period ended (so the notice gate reads them and passes), 1,000
  payables stopped (停发, left out with their reason), and a purposes file that puts the
  programme in a group with another (so the no-double-benefit check classifies every payee).

Both are measured on one database (the controls' rows are there either way; off ignores them),
each REPEATS times alternating which goes first, the batch cancelled after each; the fastest of
each is printed beside every figure (the machine may be shared).

Usage: python benchmarks/bench_controls.py [N [REPEATS]]     (default 300000 3)
PostgreSQL is measured too when DISBURSE_TEST_PG_URL (or DISBURSE_BENCH_PG_URL) is set.
Target (issue 14): prepare with the controls on within 1.3× of prepare without them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_payouts import PROFILE, payables_frame  # noqa: E402

import disburse.payouts.prepare as prepare_module  # noqa: E402
from disburse.allocations.tables import AllocationRunRow  # noqa: E402
from disburse.foundation.db import make_engine, transaction  # noqa: E402
from disburse.ledger.service import add_bank_account  # noqa: E402
from disburse.payouts.cards import no_cards  # noqa: E402
from disburse.payouts.config import PayoutConfig  # noqa: E402
from disburse.payouts.payables import record_payables  # noqa: E402
from disburse.payouts.service import cancel_batch, prepare_batch  # noqa: E402
from disburse.payouts.tables import NoticeRow, PayableStopRow  # noqa: E402
from disburse.schema import migrate as schema  # noqa: E402

RATIO_TARGET = 1.3
REPEATS = 3
RUNS = 10
STOPS = 1_000
TODAY = dt.date(2026, 11, 5)
PURPOSES = "groups:\n  - name: 光伏收益\n    programmes: [光伏收益分配, 光伏收益补发]\n"


def _runs(session, payee_count: int) -> list[int]:  # type: ignore[no-untyped-def]
    """Ten posted runs whose rule asks for notice, each noticed in one village, period ended."""
    rule = "kind: subsidy\nname: 光伏收益分配\nnotice: {days: 7}\n"
    ids = []
    for number in range(RUNS):
        run = AllocationRunRow(
            run_key=f"bench-{number}",
            rule_kind="subsidy",
            rule_name="光伏收益分配",
            rule_subject="bench",
            rule_text=rule,
            rule_sha256=hashlib.sha256(rule.encode()).hexdigest(),
            inputs_sha256="0" * 64,
            inputs_description="{}",
            period="2026-10",
            paying_entity_code="COUNTY",
            fund_source="PV-2026",
            status="posted",
            pool_fen=0,
            payable_fen=0,
            line_count=payee_count // RUNS,
            exclusion_count=0,
            summary_json="{}",
            calculated_by="bench",
        )
        session.add(run)
        session.flush()
        session.add(
            NoticeRow(
                run_id=run.id,
                village_code=f"6110020010{number:02d}",
                first_day=dt.date(2026, 10, 20),
                last_day=dt.date(2026, 10, 26),
                household_count=payee_count // RUNS,
                total_fen=0,
                hotline="0914-12317",
                created_by="bench",
            )
        )
        ids.append(run.id)
    return ids


def _stop_some(session) -> None:  # type: ignore[no-untyped-def]
    ids = session.execute(text("SELECT id FROM payables ORDER BY id")).scalars().all()
    chosen = ids[:: max(1, len(ids) // STOPS)][:STOPS]
    session.execute(
        insert(PayableStopRow),
        [{"payable_id": i, "reason": "核实中", "status": "stopped", "stopped_by": "bench"} for i in chosen],
    )


@contextmanager
def _controls_off():  # type: ignore[no-untyped-def]
    """Prepare as before the controls: the three checks it calls answer 'nothing to say'."""
    saved = (prepare_module.notice_problems, prepare_module.double_benefit_problems, prepare_module.stopped_payables)
    prepare_module.notice_problems = lambda *_args, **_kwargs: []
    prepare_module.double_benefit_problems = lambda *_args, **_kwargs: []
    prepare_module.stopped_payables = lambda *_args, **_kwargs: {}
    try:
        yield
    finally:
        (prepare_module.notice_problems, prepare_module.double_benefit_problems, prepare_module.stopped_payables) = (
            saved
        )


@contextmanager
def _controls_on(directory: Path):  # type: ignore[no-untyped-def]
    path = directory / "purposes.yaml"
    path.write_text(PURPOSES, encoding="utf-8")
    before = os.environ.get("DISBURSE_PURPOSES_CONFIG")
    os.environ["DISBURSE_PURPOSES_CONFIG"] = str(path)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("DISBURSE_PURPOSES_CONFIG", None)
        else:
            os.environ["DISBURSE_PURPOSES_CONFIG"] = before


def _prepare(engine, directory: Path, controls: bool) -> tuple[float, int, int]:  # type: ignore[no-untyped-def]
    """One prepare, timed, then the batch cancelled so that the payables are due again."""
    config = PayoutConfig(second_approval_above_fen=10**15)
    with _controls_on(directory) if controls else _controls_off():
        started = time.perf_counter()
        with transaction(engine) as session:
            prepared = prepare_batch(
                session, "COUNTY", "alice", config=config, today=TODAY, card_lookup=no_cards, bank_profile=PROFILE
            )
        seconds = time.perf_counter() - started
    with transaction(engine) as session:
        cancel_batch(session, prepared.batch_reference, "alice")
    return seconds, prepared.instruction_count, len(prepared.kept)


def run(url: str, payee_count: int, directory: Path, repeats: int) -> dict[bool, list[tuple[float, int, int]]]:
    """Prepare on one database ``repeats`` times each way, alternating which goes first (the
    machine is shared: the fastest of each is the figure least disturbed by others' work)."""
    engine = make_engine(url)
    schema.migrate(engine)
    with transaction(engine) as session:
        schema.seed(session)
        add_bank_account(session, "COUNTY", "农村信用合作社", "6230000000000001", "bench", "县财政专户")
        frame = payables_frame(payee_count)
        runs = np.asarray(_runs(session, payee_count), dtype=np.int64)
        frame["run_id"] = runs[np.arange(len(frame)) % RUNS]
        record_payables(session, frame)
        _stop_some(session)
    figures: dict[bool, list[tuple[float, int, int]]] = {False: [], True: []}
    for repeat in range(repeats):
        for controls in (False, True) if repeat % 2 == 0 else (True, False):
            figures[controls].append(_prepare(engine, directory, controls))
    engine.dispose()
    return figures


def report(name: str, figures: dict[bool, list[tuple[float, int, int]]]) -> bool:
    off, on = min(figures[False]), min(figures[True])
    every = {key: ", ".join(f"{value[0]:.2f}" for value in values) for key, values in figures.items()}
    ratio = on[0] / off[0]
    print(f"{name}: prepare without the controls {off[0]:.2f} s ({off[1]:,} payees; runs: {every[False]} s)")
    print(
        f"{name}: prepare with notice passed, {STOPS:,} stops and a purposes file {on[0]:.2f} s "
        f"({on[1]:,} payees, {on[2]:,} held back; runs: {every[True]} s) = {ratio:.2f}× (target ≤ {RATIO_TARGET}×)"
    )
    return ratio <= RATIO_TARGET


def main() -> None:
    payee_count = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else REPEATS
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        within = report("SQLite", run(f"sqlite:///{directory / 'bench.db'}", payee_count, directory, repeats))
    pg_url = os.environ.get("DISBURSE_BENCH_PG_URL") or os.environ.get("DISBURSE_TEST_PG_URL")
    if pg_url:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        name = f"disburse_bench_controls_{os.getpid()}"
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
            with tempfile.TemporaryDirectory() as temporary:
                within &= report("PostgreSQL", run(url, payee_count, Path(temporary), repeats))
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print("within target" if within else "OUTSIDE TARGET")


if __name__ == "__main__":
    main()
