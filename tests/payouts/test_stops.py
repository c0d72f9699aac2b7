"""Stop (停发, issue 14 item 5): a stopped line is kept out of every batch, with its reason,
until a checker other than the one who stopped it releases it.

H001 is owed 100.00 (payable 1) and H002 50.00 (payable 2). With payable 2 stopped the batch
pays 100.00 only; once released, the next batch pays the 50.00.
"""

from __future__ import annotations

from cli_runner import run
from payout_builders import card, owe

from disburse.foundation.db import transaction


def said(ran) -> str:  # type: ignore[no-untyped-def]
    return " ".join(ran.output.split())


def test_a_stopped_line_waits_for_a_checker(engine, database_url: str) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        owe(
            session,
            [
                {"household_id": "H001", "amount_fen": 10_000, "account_no": card(1)},
                {"household_id": "H002", "amount_fen": 5_000, "account_no": card(2)},
            ],
        )
    no_reason = run(database_url, "payout", "stop", "2", "--reason", " ", user="carol")
    assert no_reason.exit_code == 1 and "need a reason" in said(no_reason)
    stopped = run(database_url, "payout", "stop", "2", "--reason", "户主已死亡待核实", user="carol")
    assert stopped.exit_code == 0 and "stopped as stop 1" in said(stopped)

    first = run(database_url, "payout", "prepare", "--entity", "COUNTY", user="carol")
    assert first.exit_code == 0
    assert "1 payment(s), 100.00 yuan" in said(first) and "停发 (stop 1): 户主已死亡待核实" in said(first)
    in_batch = run(database_url, "payout", "stop", "1", "--reason", "重复", user="carol")
    assert in_batch.exit_code == 1 and "cancel the batch first" in said(in_batch)

    own = run(database_url, "payout", "release", "1", "--reason", "核实在世", user="carol")
    assert own.exit_code == 1 and "carol made stop 1 and cannot release it" in said(own)
    released = run(database_url, "payout", "release", "1", "--reason", "核实在世", user="bob")
    assert released.exit_code == 0 and "payable 2 is due again" in said(released)
    second = run(database_url, "payout", "prepare", "--entity", "COUNTY", user="carol")
    assert second.exit_code == 0 and "1 payment(s), 50.00 yuan" in said(second)
