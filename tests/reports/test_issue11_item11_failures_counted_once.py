"""Issue #11 item 11: the counter and the 明白卡 count a failure once. Seen: 待改卡 10,294.09 /
发放失败 20,588.18 / outstanding 10,294.09 for a household whose payment failed, was re-issued to
a fixed card and failed again. By hand: H002 is owed 80.00 − 30.00 = 50.00; two payments of 50.00
fail; it is still owed 50.00, held for a card fix, and the two failed attempts are listed."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "payouts"))

from payout_builders import (
    NOVEMBER_5,
    NOVEMBER_20,
    ONE_APPROVER,
    card,
    instructions,
    owe,
    with_bank_account,
    write_return,
)  # noqa: E402

from disburse.foundation.db import transaction  # noqa: E402
from disburse.payouts.cards import no_cards  # noqa: E402
from disburse.payouts.fixes import approve_fix  # noqa: E402
from disburse.payouts.service import approve_batch, export_batch, fix_account, prepare_batch  # noqa: E402
from disburse.payouts.settlement import apply_return_file  # noqa: E402
from disburse.payouts.status import household_status  # noqa: E402

OWED = [
    {"household_id": "H001", "amount_fen": 10_000, "account_no": card(1)},
    {"household_id": "H002", "amount_fen": 8_000, "account_no": card(2)},
    {"household_id": "H002", "amount_fen": -3_000, "account_no": card(2)},
]


def _pay_and_fail(engine, tmp_path: Path, name: str, failing_card: str, success: tuple | None) -> None:  # type: ignore[no-untyped-def]
    """Prepare, approve and export a batch; the bank pays ``success`` and refuses H002."""
    with transaction(engine) as session:
        batch = prepare_batch(session, "COUNTY", "alice", config=ONE_APPROVER, today=NOVEMBER_5, card_lookup=no_cards)
    with transaction(engine) as session:
        approve_batch(session, batch.batch_reference, "bob", ONE_APPROVER)
    with transaction(engine) as session:
        export_batch(session, batch.batch_reference, "generic", tmp_path / f"{name}.csv", "carol", today=NOVEMBER_5)
        rows = {row.payee_id: row for row in instructions(session, batch.batch_reference)}
    lines = [(failing_card, "户主H002", 5_000, "失败", "户名不符", rows["H002"].payment_reference)]
    if success is not None:
        lines.append((*success, rows["H001"].payment_reference))
    returned = write_return(tmp_path / f"{name}-return.csv", lines)
    with transaction(engine) as session:
        apply_return_file(session, returned, "generic", "erin", on=NOVEMBER_20)


def test_issue11_item11_two_failures_are_listed_and_counted_once(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        with_bank_account(session)
        owe(session, OWED)
    _pay_and_fail(engine, tmp_path, "first", card(2), (card(1), "户主H001", 10_000, "成功", ""))
    with transaction(engine) as session:
        proposed = fix_account(
            session, "H002", card(22), "frank", account_name="张二", bank_name="中国建设银行", reason="户名不符"
        )
    with transaction(engine) as session:  # a card fix counts once someone else approves it
        approve_fix(session, proposed.fix_reference, "grace")
    _pay_and_fail(engine, tmp_path, "again", card(22), None)
    with transaction(engine) as session:
        status = household_status(session, "H002")
    failed = [line for line in status.lines if line.state == "failed"]
    assert [(line.amount_fen, line.reason) for line in failed] == [(5_000, "户名不符"), (5_000, "户名不符")]
    # Each yuan once: 50.00 held for the card fix, in no other total.
    assert status.totals_fen == {"held": 5_000}
    assert [line.state for line in status.lines if line.state != "failed"] == ["held", "held"]  # 80.00 and −30.00


def test_the_sent_date_is_the_day_the_export_was_booked_not_the_clock(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Exported with --date 2026-11-05 (whatever the clock says when the test runs): the counter
    # and the 明白卡 say 发出日期 2026-11-05 (found by the three-month scenario).
    with transaction(engine) as session:
        with_bank_account(session)
        owe(session, OWED)
    _pay_and_fail(engine, tmp_path, "first", card(2), (card(1), "户主H001", 10_000, "成功", ""))
    with transaction(engine) as session:
        paid = [line for line in household_status(session, "H001").lines if line.state == "paid"]
    assert [line.exported_on for line in paid] == [NOVEMBER_5]
