"""Issue 14 item 5: a payment counts its sends, a failure's reason is one of six codes, and a
batch shows its partial result (部分成功).

The worked example: the county owes H001 100.00, H002 50.00 and H003 25.00 (光伏收益分配,
October 2026), one payment each, 175.00 in all. The bank pays H001 and fails the other two:
H002 with 账户已销户 (卡号已注销), H003 with 户名与账号不符 (户名不符). So the batch is 部分成功:
1 succeeded (100.00), 2 failed (50.00 + 25.00 = 75.00), 0 awaiting. H002's card is fixed and
approved; the next batch pays H002 alone, 50.00 (H003 waits for its own fix), and that payment
is resend number 1. Its return succeeds: that batch is 全部成功.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from cli_runner import run, run_script
from payout_builders import NOVEMBER_5, NOVEMBER_20, ONE_APPROVER, card, owe, with_bank_account, write_return
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from disburse.foundation.db import transaction
from disburse.payouts.cards import no_cards
from disburse.payouts.sends import batch_results, failure_text, result_state
from disburse.payouts.service import approve_batch, export_batch, prepare_batch
from disburse.payouts.settlement import apply_return_file
from disburse.payouts.status import STATE_NAMES_ZH
from disburse.schema import migrate as schema


def luhn_card(number: int) -> str:
    from disburse.foundation.identifiers import luhn_check_digit

    payload = f"621700{number:09d}"
    return payload + luhn_check_digit(payload)


def _references(path: Path) -> dict[str, str]:
    """账号 → 摘要 (the payment reference) of a generic bank file."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["收款账号"]: row["摘要"] for row in csv.DictReader(handle)}


@pytest.fixture
def owed(engine, database_url: str) -> str:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        with_bank_account(session)
        owe(
            session,
            [
                {"household_id": "H001", "amount_fen": 10_000, "account_no": card(1)},
                {"household_id": "H002", "amount_fen": 5_000, "account_no": card(2)},
                {"household_id": "H003", "amount_fen": 2_500, "account_no": card(3)},
            ],
        )
    return database_url


def _batch_of(prepared) -> str:  # type: ignore[no-untyped-def]
    assert prepared.exit_code == 0, prepared.output
    return re.search(r"BATCH-\d{6}-\d{4}", prepared.stdout).group(0)


def test_issue14_item5_partial_result_reasons_and_a_counted_resend_in_fresh_processes(
    owed: str, tmp_path: Path
) -> None:
    first = _batch_of(run_script(owed, "payout", "prepare", "--entity", "COUNTY"))
    assert run_script(owed, "payout", "approve", first, user="bob").exit_code == 0
    exported = run_script(owed, "payout", "export", first, "--bank", "generic", "--out", str(tmp_path / "1.csv"))
    assert exported.exit_code == 0, exported.output
    references = _references(tmp_path / "1.csv")
    waiting = run_script(owed, "payout", "batches")
    assert "awaiting the return file" in waiting.stdout

    returned = write_return(
        tmp_path / "return-1.csv",
        [
            (card(1), "户主H001", 10_000, "成功", "", references[card(1)]),
            (card(2), "户主H002", 5_000, "失败", "账户已销户", references[card(2)]),
            (card(3), "户主H003", 2_500, "失败", "户名与账号不符", references[card(3)]),
        ],
    )
    applied = run_script(owed, "payout", "returns", str(returned), "--bank", "generic", user="erin")
    assert applied.exit_code == 0, applied.output
    # 1 paid 100.00; 2 failed 50.00 + 25.00 = 75.00, one of each reason.
    assert "1 paid (100.00 yuan), 2 failed (75.00 yuan" in applied.stdout
    words = " ".join(applied.stdout.split())  # the console wraps long lines
    assert "failures by reason: card closed (卡号已注销) 1, name does not match (户名不符) 1" in words

    listed = run_script(owed, "payout", "batches")
    row = next(line for line in listed.stdout.splitlines() if first in line)
    assert "partly succeeded" in row and "175.00" in row
    assert [cell.strip() for cell in row.split("│")][7:11] == ["1", "2", "0", "0"]
    shown = run_script(owed, "payout", "show", first)
    assert "(partly succeeded)" in shown.stdout and "1 succeeded, 2 failed, 0 awaiting" in shown.stdout
    assert "card closed (卡号已注销): 账户已销户" in shown.stdout
    assert "name does not match (户名不符): 户名与账号不符" in shown.stdout
    fixes = run_script(owed, "payout", "fix-list")
    assert "card closed (卡号已注销): 账户已销户" in fixes.stdout and "H003" in fixes.stdout

    # H002's new card, proposed by frank and approved by grace; H003 stays on the list.
    proposed = run_script(
        owed, "payout", "fix-account", "H002", luhn_card(2), "--bank-name", "中国农业银行", user="frank"
    )
    assert proposed.exit_code == 0, proposed.output
    fix = proposed.stdout.split(":")[0].strip()
    assert run_script(owed, "payout", "approve-fix", fix, user="grace").exit_code == 0

    second = _batch_of(run_script(owed, "payout", "prepare", "--entity", "COUNTY"))
    resent = run_script(owed, "payout", "show", second)
    assert "H002" in resent.stdout, resent.output
    line = next(line for line in resent.stdout.splitlines() if "H002" in line)
    # H002's 50.00 went once and failed: this send is resend number 1.
    assert "50.00" in line and [cell.strip() for cell in line.split("│")][7] == "1", resent.stdout
    assert "H003" not in resent.stdout
    status = run_script(owed, "payout", "status", "--household", "H002")
    lines = status.stdout.splitlines()
    # The column by its header: the counter's table grew columns (享受人, 收款人, 卡别) before it.
    header = next(line for line in lines if "重发次数" in line)
    resends = [cell.strip() for cell in header.split("┃")].index("重发次数")
    in_batch = next(line for line in lines if STATE_NAMES_ZH["in_batch"] in line)
    assert [cell.strip() for cell in in_batch.split("│")][resends] == "1"
    failed = next(line for line in lines if STATE_NAMES_ZH["failed"] in line)
    assert [cell.strip() for cell in failed.split("│")][resends] == "0"
    assert "卡号已注销" in status.stdout and "账户已销户" in status.stdout

    assert run_script(owed, "payout", "approve", second, user="bob").exit_code == 0
    run_script(owed, "payout", "export", second, "--bank", "generic", "--out", str(tmp_path / "2.csv"))
    again = write_return(
        tmp_path / "return-2.csv",
        [(luhn_card(2), "户主H002", 5_000, "成功", "", _references(tmp_path / "2.csv")[luhn_card(2)])],
    )
    assert run_script(owed, "payout", "returns", str(again), "--bank", "generic", user="erin").exit_code == 0
    final = run(owed, "payout", "batches").stdout
    assert "all succeeded" in next(line for line in final.splitlines() if second in line)
    assert "partly succeeded" in next(line for line in final.splitlines() if first in line)


def test_issue14_item5_each_failed_send_counts_and_cancelled_batches_do_not(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """H001's 100.00 and H002's 50.00: H001's card fails twice (forced resends to the same card),
    one batch is cancelled before export. Send numbers: 0, then 1, then (cancelled: not a send)
    2. H002, paid in the first batch, never counts."""
    with transaction(engine) as session:
        with_bank_account(session)
        owe(
            session,
            [
                {"household_id": "H001", "amount_fen": 10_000, "account_no": card(1)},
                {"household_id": "H002", "amount_fen": 5_000, "account_no": card(2)},
            ],
        )

    def send(number: int, *, fail: bool, cancel: bool = False) -> tuple[str, list[int]]:
        with transaction(engine) as session:
            outcome = prepare_batch(
                session, "COUNTY", "alice", force=True, config=ONE_APPROVER, today=NOVEMBER_5, card_lookup=no_cards
            )
        batch = outcome.batch_reference
        with transaction(engine) as session:
            if cancel:
                from disburse.payouts.service import cancel_batch

                cancel_batch(session, batch, "alice")
            else:
                approve_batch(session, batch, "bob", ONE_APPROVER)
        with transaction(engine) as session:
            rows = session.execute(
                text(
                    "SELECT i.payment_reference, i.account_no, i.amount_fen, i.send_number FROM payment_instructions i "
                    "JOIN payment_batches b ON b.id = i.batch_id WHERE b.batch_reference = :b ORDER BY i.id"
                ),
                {"b": batch},
            ).all()
        if cancel:
            return batch, [row.send_number for row in rows]
        with transaction(engine) as session:
            export_batch(session, batch, "generic", tmp_path / f"{number}.csv", "carol", today=NOVEMBER_5)
        lines = [
            (row.account_no, "户主", row.amount_fen, "失败" if fail and row.account_no == card(1) else "成功",
             "余额不足" if fail and row.account_no == card(1) else "", row.payment_reference)
            for row in rows
        ]  # fmt: skip
        path = write_return(tmp_path / f"return-{number}.csv", lines)
        with transaction(engine) as session:
            apply_return_file(session, path, "generic", "erin", on=NOVEMBER_20)
        return batch, [row.send_number for row in rows]

    first, numbers = send(1, fail=True)
    assert numbers == [0, 0]  # H001 and H002, both first sends
    second, numbers = send(2, fail=True)
    assert numbers == [1]  # H001 only (H002 was paid): resend 1
    _cancelled, numbers = send(3, fail=False, cancel=True)
    assert numbers == [2]
    last, numbers = send(4, fail=False)
    assert numbers == [2]  # the cancelled batch never reached the bank: still resend 2
    with transaction(engine) as session:
        states = session.execute(text("SELECT id, batch_reference, status FROM payment_batches ORDER BY id")).all()
        results = batch_results(session, [(row.id, row.status) for row in states])
        reasons = session.execute(
            text("SELECT reason, reason_code FROM return_lines WHERE outcome = 'failure' ORDER BY return_file_id")
        ).all()
    by_reference = {row.batch_reference: results[row.id] for row in states}
    assert by_reference[first].state == "partly_succeeded" and by_reference[second].state == "all_failed"
    assert by_reference[last].state == "all_succeeded" and by_reference[last].most_sends == 2
    assert by_reference[_cancelled].state is None
    # 余额不足 names none of the six reasons: other, with the bank's words kept.
    assert [(row.reason, row.reason_code) for row in reasons] == [("余额不足", "other")] * 2

    # Migration 0113 counts the same from the rows alone: down to 0112 and up again.
    numbers_sql = "SELECT send_number FROM payment_instructions ORDER BY id"
    with transaction(engine) as session:
        counted = [row[0] for row in session.execute(text(numbers_sql))]
    assert counted == [0, 0, 1, 2, 2]
    schema.migrate(engine, "0112", downgrade=True)
    schema.migrate(engine)
    with transaction(engine) as session:
        assert [row[0] for row in session.execute(text(numbers_sql))] == counted
    # The guard made again covers the new column: a send number is never rewritten.
    with pytest.raises(DBAPIError, match="payment_instructions"):
        with transaction(engine) as session:
            session.execute(text("UPDATE payment_instructions SET send_number = 0 WHERE send_number = 2"))


@pytest.mark.parametrize(
    ("status", "succeeded", "failed", "awaiting", "state"),
    [
        ("prepared", 0, 0, 0, None),
        ("approved", 0, 0, 0, None),
        ("cancelled", 0, 0, 0, None),
        ("exported", 0, 0, 3, "awaiting"),
        ("exported", 1, 0, 2, "partly_returned"),
        ("exported", 1, 1, 1, "partly_returned"),
        ("closed", 3, 0, 0, "all_succeeded"),
        ("closed", 0, 3, 0, "all_failed"),
        ("closed", 1, 2, 0, "partly_succeeded"),
    ],
)
def test_issue14_item5_result_state_of_a_batch(status: str, succeeded: int, failed: int, awaiting: int, state) -> None:  # type: ignore[no-untyped-def]
    assert result_state(status, succeeded, failed, awaiting) == state


def test_issue14_item5_failure_text_names_the_reason_and_keeps_the_banks_words() -> None:
    assert failure_text("name_mismatch", "户名不符", chinese=True) == "户名不符"
    assert failure_text("card_closed", "账户已销户", chinese=True) == "卡号已注销：账户已销户"
    assert failure_text("other", "系统繁忙", chinese=True) == "其他：系统繁忙"
    assert failure_text(None, "户名不符") == "户名不符"  # a line applied before 0113
    assert failure_text(float("nan"), None) == ""


def test_issue14_item5_the_web_cashier_and_batch_pages_show_the_partial_result(engine, database_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The worked example's first batch on the pages: 部分成功 (1 succeeded, 2 failed), each
    failure with its reason's name and the bank's words."""
    from starlette.testclient import TestClient

    from disburse.accounts.service import add_account
    from disburse.web.app import create_app
    from disburse.web.settings import WebSettings

    with transaction(engine) as session:
        with_bank_account(session)
        add_account(session, "admin", ["管理员"], "correct-horse-9", None)
        add_account(session, "cashier", ["出纳"], "correct-horse-9", "admin")
        owe(
            session,
            [
                {"household_id": "H001", "amount_fen": 10_000, "account_no": card(1)},
                {"household_id": "H002", "amount_fen": 5_000, "account_no": card(2)},
                {"household_id": "H003", "amount_fen": 2_500, "account_no": card(3)},
            ],
        )
    with transaction(engine) as session:
        batch = prepare_batch(
            session, "COUNTY", "alice", config=ONE_APPROVER, today=NOVEMBER_5, card_lookup=no_cards
        ).batch_reference
    with transaction(engine) as session:
        approve_batch(session, batch, "bob", ONE_APPROVER)
    with transaction(engine) as session:
        export_batch(session, batch, "generic", tmp_path / "1.csv", "carol", today=NOVEMBER_5)
    references = _references(tmp_path / "1.csv")
    returned = write_return(
        tmp_path / "return.csv",
        [
            (card(1), "户主H001", 10_000, "成功", "", references[card(1)]),
            (card(2), "户主H002", 5_000, "失败", "账户已销户", references[card(2)]),
            (card(3), "户主H003", 2_500, "失败", "户名与账号不符", references[card(3)]),
        ],
    )
    with transaction(engine) as session:
        apply_return_file(session, returned, "generic", "erin", on=NOVEMBER_20)

    app = create_app(WebSettings.build(database_url, tmp_path / "files"))
    with TestClient(app) as client:
        login = client.get("/login")
        token = re.search(r'name="form_token" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"name": "cashier", "password": "correct-horse-9", "form_token": token})
        cashier = " ".join(re.sub(r"<[^>]+>", " ", client.get("/cashier").text).split())
        page = " ".join(re.sub(r"<[^>]+>", " ", client.get(f"/review/batches/{batch}").text).split())
    assert "部分成功 (失败 2 笔)" in cashier
    assert "卡号已注销：账户已销户" in cashier or "卡号已注销: 账户已销户" in cashier
    assert "回盘结果 部分成功 (成功 1 笔，失败 2 笔，待回盘 0 笔)" in page
    assert "户名不符: 户名与账号不符" in page or "户名不符：户名与账号不符" in page
