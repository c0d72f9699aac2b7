"""Two (here four) `payout prepare` at once, each in its own process with its own engine on the
same database, never put one payable into two batches: on SQLite (BEGIN IMMEDIATE serialises
writers) and on PostgreSQL (an advisory lock, and the unique index on active claims)."""

from __future__ import annotations

import multiprocessing

from payout_builders import card, owe, prepare_in_own_process
from sqlalchemy import text

from disburse.foundation.db import transaction

PROCESSES = 4
HOUSEHOLDS = 3_000


def test_parallel_prepares_never_claim_a_payable_twice(engine, database_url: str) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        # Two payables per household, so netting has work to do while the others wait.
        owe(
            session,
            [{"household_id": f"H{n:05d}", "amount_fen": 100 + n, "account_no": card(n)} for n in range(HOUSEHOLDS)]
            * 2,
        )
    engine.dispose()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(target=prepare_in_own_process, args=(database_url, f"clerk{n}", barrier, results))
        for n in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=240) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert not [outcome for outcome in outcomes if outcome[1] == "error"], outcomes
    made = [outcome for outcome in outcomes if outcome[1] is not None]
    # One prepare took every payable; the others found nothing new.
    assert len(made) == 1, outcomes
    assert made[0][2:] == (HOUSEHOLDS, 2 * HOUSEHOLDS)
    with transaction(engine) as session:
        claims = session.execute(
            text("SELECT count(*), count(DISTINCT payable_id) FROM instruction_payables WHERE active")
        ).one()
        batches = session.execute(text("SELECT count(*) FROM payment_batches")).scalar_one()
        unclaimed = session.execute(text("SELECT count(*) FROM payables WHERE status <> 'claimed'")).scalar_one()
    assert tuple(claims) == (2 * HOUSEHOLDS, 2 * HOUSEHOLDS)
    assert (batches, unclaimed) == (1, 0)
