"""Payout speed: prepare one batch of N payees for the rural-credit bank file (so what that file
needs is checked at prepare) and export it (xlsx written by payouts.bank_files, split at 3,000
rows per file, each file flushed to disk under a temporary name and renamed into place after
the commit that records it), then apply an N-line return file (1% failures), then the
counter's status query for one household.

Usage: python benchmarks/bench_payouts.py [N] [--register]     (default 300000)
With ``--register`` the payees' households are in a register snapshot in which 1% have left,
1% of heads have died and 1% have a new card, so prepare's eligibility recheck (issue 14 item 4)
merges all N against the register and holds those 3% on 211.90.
PostgreSQL is measured too when DISBURSE_TEST_PG_URL (or DISBURSE_BENCH_PG_URL) is set.
Targets (issue 5): prepare + export of 300,000 payees in at most 10 s; the return file in at
most 10 s; status well under a second.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from disburse.foundation.db import make_engine, transaction  # noqa: E402
from disburse.ledger.service import add_bank_account  # noqa: E402
from disburse.payouts.cards import no_cards  # noqa: E402
from disburse.payouts.config import PayoutConfig  # noqa: E402
from disburse.payouts.payables import record_payables  # noqa: E402
from disburse.payouts.service import approve_batch, export_batch, prepare_batch  # noqa: E402
from disburse.payouts.settlement import apply_return_file  # noqa: E402
from disburse.payouts.status import household_status  # noqa: E402
from disburse.schema import migrate as schema  # noqa: E402

TARGET_SECONDS = 10.0
FAILURE_EVERY = 100
PROFILE = "rural_credit"


def payables_frame(payee_count: int) -> pd.DataFrame:
    """Two payables per payee for a tenth of them (netting has work), one for the rest."""
    rng = np.random.default_rng(payee_count)
    households = np.array([f"6110020010{n:08d}" for n in range(payee_count)], dtype=object)
    extra = households[: payee_count // 10]
    ids = np.concatenate([households, extra])
    amounts = rng.integers(1_000, 300_000, size=len(ids), dtype=np.int64)
    cards = np.array([f"6217{n:015d}" for n in range(payee_count)], dtype=object)
    accounts = np.concatenate([cards, cards[: payee_count // 10]])
    return pd.DataFrame(
        {
            "entity_code": "COUNTY",
            "run_id": None,
            "source_line": np.arange(1, len(ids) + 1),
            "household_id": ids,
            "payee_type": "household",
            "payee_id": ids,
            "programme": "光伏收益分配",
            "fund_source": "PV-2026",
            "account_code": "211",
            "amount_fen": amounts,
            "account_no": accounts,
            "account_name": [f"户主{n % 1000}" for n in range(len(ids))],
            "period": "2026-10",
            "bank_name": "农村信用合作社",
        }
    )


def write_register(session, payee_count: int) -> int:  # type: ignore[no-untyped-def]
    """One register snapshot of the payees' households (one head each), written in bulk: of
    every 100 households, number 1 is missing (left), number 2's head died on 2026-10-20 and
    number 3 has a new card. Returns how many changed."""
    from sqlalchemy import text

    from disburse.foundation.bulk import columns_insert

    session.execute(
        text(
            "INSERT INTO register_imports (kind, file_name, file_sha256, as_of, row_count, warning_count, imported_by, "
            "imported_at) VALUES ('register', 'bench.csv', :sha, :day, :rows, 0, 'bench', :day)"
        ),
        {"sha": "0" * 64, "day": dt.date(2026, 10, 31), "rows": payee_count},
    )
    snapshot = session.execute(text("SELECT max(id) FROM register_imports")).scalar_one()
    numbers = np.arange(payee_count)
    listed = numbers[numbers % 100 != 1]
    count = len(listed)
    cards = [f"6217{n:015d}" if n % 100 != 3 else f"6218{n:015d}" for n in listed.tolist()]
    households = [f"6110020010{n:08d}" for n in listed.tolist()]
    heads = [f"611002{n:012d}" for n in listed.tolist()]
    columns_insert(
        session,
        "household_versions",
        ("household_id", "valid_from_import", "village_code", "county", "town", "village", "household_type",
         "poverty_status", "head_id_number", "head_name", "bank_name", "account_no", "member_count"),
        [households, [snapshot] * count, ["611002001001"] * count, ["商州区"] * count, ["板桥镇"] * count,
         ["罗口村"] * count, ["一般贫困户"] * count, ["未脱贫"] * count, heads, ["户主"] * count,
         ["农村信用合作社"] * count, cards, [1] * count],
    )  # fmt: skip
    died = [dt.date(2026, 10, 20) if n % 100 == 2 else None for n in listed.tolist()]
    columns_insert(
        session,
        "person_versions",
        ("id_number", "household_id", "valid_from_import", "name", "relation", "boarding", "died_on"),
        [heads, households, [snapshot] * count, ["户主"] * count, ["户主"] * count, [False] * count, died],
    )
    return int((numbers % 100 == 1).sum() + (listed % 100 == 2).sum() + (listed % 100 == 3).sum())


def write_return_file(path: Path, instructions: pd.DataFrame) -> int:
    """The bank's answer to every instruction; every FAILURE_EVERY-th failed."""
    failures = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["账号", "户名", "金额", "处理结果", "失败原因", "摘要"])
        for index, row in enumerate(instructions.itertuples(index=False)):
            failed = index % FAILURE_EVERY == 0
            failures += failed
            amount = int(row.amount_fen)
            writer.writerow(
                [
                    row.account_no,
                    row.account_name,
                    f"{amount // 100}.{amount % 100:02d}",
                    "失败" if failed else "成功",
                    "账户已销户" if failed else "",
                    f"{row.payment_reference} 光伏收益分配",
                ]
            )
    return failures


def run(url: str, payee_count: int, directory: Path, with_register: bool = False) -> dict[str, float]:
    engine = make_engine(url)
    schema.migrate(engine)
    with transaction(engine) as session:
        schema.seed(session)
        add_bank_account(session, "COUNTY", "农村信用合作社", "6230000000000001", "bench", "县财政专户")
    frame = payables_frame(payee_count)
    started = time.perf_counter()
    with transaction(engine) as session:
        record_payables(session, frame)
    record_seconds = time.perf_counter() - started
    changed = 0
    if with_register:
        with transaction(engine) as session:
            changed = write_register(session, payee_count)

    config = PayoutConfig(second_approval_above_fen=10**15)
    today = dt.date(2026, 11, 5)
    started = time.perf_counter()
    with transaction(engine) as session:
        prepared = prepare_batch(
            session, "COUNTY", "alice", config=config, today=today, card_lookup=no_cards, bank_profile=PROFILE
        )
    prepare_seconds = time.perf_counter() - started
    if with_register:
        kept = sum(1 for payee in prepared.kept if "211.90" in payee.reason)
        print(f"  (register: {changed:,} households changed; {kept:,} payables held on 211.90)")
    with transaction(engine) as session:
        approve_batch(session, prepared.batch_reference, "bob", config)
    started = time.perf_counter()
    with transaction(engine) as session:
        exported = export_batch(
            session, prepared.batch_reference, PROFILE, directory / "batch.xlsx", "carol", today=today
        )
    export_seconds = time.perf_counter() - started

    with transaction(engine) as session:
        from disburse.payouts.service import batch_by_reference, batch_instructions

        instructions = batch_instructions(session, batch_by_reference(session, prepared.batch_reference).id)
    return_path = directory / "return.csv"
    failures = write_return_file(return_path, instructions)
    started = time.perf_counter()
    with transaction(engine) as session:
        applied = apply_return_file(session, return_path, "generic", "erin", on=dt.date(2026, 11, 20))
    return_seconds = time.perf_counter() - started
    assert applied.success_count == len(instructions) - failures and applied.failure_count == failures

    household = instructions["household_id"].iloc[len(instructions) // 2]
    started = time.perf_counter()
    with transaction(engine) as session:
        status = household_status(session, household)
    status_seconds = time.perf_counter() - started
    assert status.lines
    engine.dispose()
    return {
        "payables": float(len(frame)),
        "payees": float(prepared.instruction_count),
        "files": float(len(exported.files)),
        "record_s": record_seconds,
        "prepare_s": prepare_seconds,
        "export_s": export_seconds,
        "return_s": return_seconds,
        "status_s": status_seconds,
    }


def report(name: str, figures: dict[str, float]) -> bool:
    prepare_export = figures["prepare_s"] + figures["export_s"]
    print(
        f"{name}: {int(figures['payees']):,} payees from {int(figures['payables']):,} payables "
        f"(recorded in {figures['record_s']:.2f} s)"
    )
    print(
        f"  prepare {figures['prepare_s']:.2f} s + export {figures['export_s']:.2f} s "
        f"({int(figures['files'])} xlsx files, posting) = {prepare_export:.2f} s  (target ≤ {TARGET_SECONDS:.0f} s)"
    )
    print(
        f"  return file of {int(figures['payees']):,} lines applied in {figures['return_s']:.2f} s  "
        f"(target ≤ {TARGET_SECONDS:.0f} s)"
    )
    print(f"  counter status of one household: {figures['status_s'] * 1000:.1f} ms")
    return prepare_export <= TARGET_SECONDS and figures["return_s"] <= TARGET_SECONDS


def main() -> None:
    arguments = [argument for argument in sys.argv[1:] if argument != "--register"]
    with_register = "--register" in sys.argv[1:]
    payee_count = int(arguments[0]) if arguments else 300_000
    within = True
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        within &= report("SQLite", run(f"sqlite:///{directory / 'bench.db'}", payee_count, directory, with_register))
    pg_url = os.environ.get("DISBURSE_BENCH_PG_URL") or os.environ.get("DISBURSE_TEST_PG_URL")
    if pg_url:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        name = f"disburse_bench_payouts_{os.getpid()}"
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            with tempfile.TemporaryDirectory() as temporary:
                url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
                within &= report("PostgreSQL", run(url, payee_count, Path(temporary), with_register))
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print("within targets" if within else "OUTSIDE TARGETS")


if __name__ == "__main__":
    main()
