"""No double benefit (issue 14 item 6): a payee is never in two live batches for one programme,
or two programmes configured as one purpose (同类不得重复享受), and one period.

Worked example: H001 and H002 are owed 生活补助 for 2026-10 (100.00 and 50.00) and also 生活补贴
for 2026-10 (30.00 each); a purposes file puts the two programmes in one group. Batch 1 pays
生活补助 (150.00). While it is live, preparing 生活补贴 is refused, naming batch 1 and its
payments; 生活补贴 for 2026-11 (another period) is not. Once batch 1 is cancelled, one batch may
not hold both programmes for one payee either; 生活补贴 alone goes (60.00).
"""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

import pytest
from cli_runner import CONSOLE_SCRIPT, run
from payout_builders import card, owe
from sqlalchemy import text

from disburse.foundation.db import transaction

GROUP = "groups:\n  - name: 生活救助\n    programmes: [生活补助, 生活补贴]\n"


def purposes_file(tmp_path: Path, monkeypatch) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "purposes.yaml"
    path.write_text(GROUP, encoding="utf-8")
    monkeypatch.setenv("DISBURSE_PURPOSES_CONFIG", str(path))
    return path


def owed(session, programme: str, amounts: tuple[int, int], period: str = "2026-10", key: str = "") -> None:  # type: ignore[no-untyped-def]
    rows = [{"household_id": f"H00{n}", "amount_fen": amounts[n - 1], "account_no": card(n)} for n in (1, 2)]
    owe(session, rows, programme=programme, period=period, key=key or f"{programme}-{period}")


def said(ran) -> str:  # type: ignore[no-untyped-def]
    """What a command printed, with rich's line wrapping undone."""
    return " ".join(ran.output.split())


def prepare(database_url: str, *extra: str):  # type: ignore[no-untyped-def]
    return run(database_url, "payout", "prepare", "--entity", "COUNTY", *extra, user="carol")


def test_a_payee_in_a_live_batch_is_not_paid_the_same_purpose_again(
    engine, database_url: str, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    purposes_file(tmp_path, monkeypatch)
    with transaction(engine) as session:
        owed(session, "生活补助", (10_000, 5_000))
        owed(session, "生活补贴", (3_000, 3_000))
        owed(session, "生活补贴", (3_000, 3_000), period="2026-11")
    first = prepare(database_url, "--programme", "生活补助")
    assert first.exit_code == 0 and "2 payment(s), 150.00 yuan" in said(first), first.output
    batch = first.stdout.split()[1].rstrip(":")

    refused = prepare(database_url, "--programme", "生活补贴", "--period", "2026-10")
    assert refused.exit_code == 1
    assert "2 payee(s) would be paid twice for one purpose and period" in said(refused)
    assert f"household H001 is already in live batch {batch}, payment PAY-" in said(refused)
    assert "(生活补助, 2026-10); this prepare would pay it 生活补贴 for 2026-10 again" in said(refused)
    other_period = prepare(database_url, "--programme", "生活补贴", "--period", "2026-11")
    assert other_period.exit_code == 0 and "60.00 yuan" in said(other_period), other_period.output

    assert run(database_url, "payout", "cancel", batch, user="carol").exit_code == 0
    both = prepare(database_url, "--period", "2026-10")
    assert both.exit_code == 1
    assert "household H001 is owed 生活补助 and 生活补贴 for 2026-10, one purpose" in said(both)
    alone = prepare(database_url, "--programme", "生活补贴", "--period", "2026-10")
    assert alone.exit_code == 0 and "2 payment(s), 60.00 yuan" in said(alone), alone.output


def test_the_same_programme_and_period_twice_is_refused_without_a_purposes_file(engine, database_url: str) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        owed(session, "生活补助", (10_000, 5_000), key="first")
    assert prepare(database_url).exit_code == 0
    with transaction(engine) as session:
        owed(session, "生活补助", (10_000, 5_000), key="second")
    refused = prepare(database_url)
    assert refused.exit_code == 1 and "already in live batch BATCH-" in said(refused)


PROCESSES = 8
HOUSEHOLDS = 500


def test_eight_prepares_at_once_never_put_a_payee_in_two_live_batches(
    engine, database_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Eight programmes of one purpose owe the same households for one period; eight
    `payout prepare --programme` processes start together. Without the control all eight would
    make a batch; with it exactly one does and the other seven are refused."""
    programmes = [f"补助{n}" for n in range(PROCESSES)]
    path = tmp_path / "purposes.yaml"
    path.write_text(f"groups:\n  - name: 同类\n    programmes: [{', '.join(programmes)}]\n", encoding="utf-8")
    with transaction(engine) as session:
        for programme in programmes:
            rows = [
                {"household_id": f"H{n:05d}", "amount_fen": 100 + n, "account_no": card(n)} for n in range(HOUSEHOLDS)
            ]
            owe(session, rows, programme=programme, key=programme)
    engine.dispose()
    environment = {**os.environ, "DISBURSE_PURPOSES_CONFIG": str(path), "DISBURSE_USER": "carol"}
    processes = [
        subprocess.Popen(
            [str(CONSOLE_SCRIPT), "--db", database_url, "payout", "prepare", "--entity", "COUNTY", "--programme", name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for name in programmes
    ]
    outcomes = [(process.wait(timeout=300), *process.communicate()) for process in processes]
    assert not [o for o in outcomes if "Traceback" in o[1] + o[2]], outcomes
    made = [o for o in outcomes if o[0] == 0]
    refused = [o for o in outcomes if o[0] == 1]
    assert len(made) == 1 and len(refused) == PROCESSES - 1, outcomes
    assert all(f"{HOUSEHOLDS} payee(s) would be paid twice" in o[2] for o in refused), refused
    with transaction(engine) as session:
        twice = session.execute(
            text(
                "SELECT count(*) FROM (SELECT p.payee_id FROM payables p "
                "JOIN instruction_payables l ON l.payable_id = p.id AND l.active "
                "JOIN payment_instructions i ON i.id = l.instruction_id "
                "JOIN payment_batches b ON b.id = i.batch_id "
                "WHERE b.status IN ('prepared', 'approved', 'exported') "
                "GROUP BY p.payee_id, p.period HAVING count(DISTINCT b.id) > 1) x"
            )
        ).scalar_one()
        batches = session.execute(text("SELECT count(*) FROM payment_batches")).scalar_one()
    assert (twice, batches) == (0, 1)


def _owing(households: list[int]) -> list[dict]:
    return [{"household_id": f"H{n:05d}", "amount_fen": 100 + n, "account_no": card(n)} for n in households]


@pytest.mark.parametrize("seed", [1])
def test_eight_prepares_of_two_purposes_with_overlapping_and_disjoint_payees(
    engine, database_url: str, tmp_path: Path, seed: int
) -> None:  # type: ignore[no-untyped-def]
    """Two purposes of four programmes each. In each purpose three programmes owe random 60 of
    households 0-99 (any two such sets share a household: 60 + 60 > 100) and the fourth owes
    households of its own (100-119, 120-139). Whatever order the eight processes take, each
    purpose makes exactly two batches (the first of the three overlapping ones, and the
    disjoint one), the other two are refused, and no payee is ever in two live batches of one
    purpose and period; a household in both purposes may be in one batch of each."""
    rng = random.Random(seed)
    groups = {"甲类": [f"甲{n}" for n in range(4)], "乙类": [f"乙{n}" for n in range(4)]}
    path = tmp_path / "purposes.yaml"
    path.write_text(
        "groups:\n" + "".join(f"  - name: {g}\n    programmes: [{', '.join(p)}]\n" for g, p in groups.items()),
        encoding="utf-8",
    )
    purpose_of = {programme: group for group, programmes in groups.items() for programme in programmes}
    with transaction(engine) as session:
        for offset, programmes in zip((100, 120), groups.values()):
            for programme in programmes[:3]:
                owe(session, _owing(sorted(rng.sample(range(100), 60))), programme=programme, key=programme)
            owe(session, _owing(list(range(offset, offset + 20))), programme=programmes[3], key=programmes[3])
    engine.dispose()
    environment = {**os.environ, "DISBURSE_PURPOSES_CONFIG": str(path), "DISBURSE_USER": "carol"}
    names = [name for programmes in groups.values() for name in programmes]
    rng.shuffle(names)
    processes = {
        name: subprocess.Popen(
            [str(CONSOLE_SCRIPT), "--db", database_url, "payout", "prepare", "--entity", "COUNTY", "--programme", name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for name in names
    }
    outcomes = {name: (process.wait(timeout=300), *process.communicate()) for name, process in processes.items()}
    assert not [o for o in outcomes.values() if "Traceback" in o[1] + o[2]], outcomes
    made = {name for name, outcome in outcomes.items() if outcome[0] == 0}
    assert {name for name, outcome in outcomes.items() if outcome[0] == 1} == set(names) - made, outcomes
    for programmes in groups.values():
        assert programmes[3] in made and len(made & set(programmes[:3])) == 1, outcomes
    with transaction(engine) as session:
        live = session.execute(
            text(
                "SELECT p.payee_id, p.period, p.programme, b.id FROM payables p "
                "JOIN instruction_payables l ON l.payable_id = p.id AND l.active "
                "JOIN payment_instructions i ON i.id = l.instruction_id "
                "JOIN payment_batches b ON b.id = i.batch_id "
                "WHERE b.status IN ('prepared', 'approved', 'exported')"
            )
        ).all()
    batches: dict[tuple[str, str, str], set[int]] = {}
    for payee, period, programme, batch in live:
        batches.setdefault((payee, period, purpose_of[programme]), set()).add(batch)
    assert all(len(ids) == 1 for ids in batches.values())
    assert len({batch for *_, batch in live}) == 4
