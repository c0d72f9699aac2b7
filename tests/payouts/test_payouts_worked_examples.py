"""Worked examples of the payout cycle, amounts computed by hand, on SQLite and PostgreSQL.

The county owes four households (October 2026, 光伏收益分配):
  H001: 100.00 + 50.00 on one card            → one payment of 150.00
  H002:  80.00 and a downward adjustment −30.00 → one payment of  50.00
  H003:  20.00 and −20.00                       → nets to 0: kept for later
  H004:  12.34                                  → one payment of  12.34
Batch total 150.00 + 50.00 + 12.34 = 212.34 yuan = 21,234 fen, three payments.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from payout_builders import (
    LOW_THRESHOLD,
    NOVEMBER_5,
    NOVEMBER_20,
    ONE_APPROVER,
    balances,
    card,
    entry_count,
    instructions,
    owe,
    postings_total,
    with_bank_account,
    write_return,
)
from sqlalchemy import text

from disburse.foundation.db import transaction
from disburse.foundation.errors import DisburseError, ImportRefused
from disburse.ledger.chart import PAYMENTS_IN_TRANSIT
from disburse.payouts.cards import CARD_COLUMNS, no_cards
from disburse.payouts.service import (
    approve_batch,
    approve_fix,
    cancel_batch,
    export_batch,
    fix_account,
    fix_list,
    prepare_batch,
)
from disburse.payouts.settlement import apply_return_file
from disburse.payouts.status import household_status

OWED = [
    {"household_id": "H001", "amount_fen": 10_000, "account_no": card(1)},
    {"household_id": "H001", "amount_fen": 5_000, "account_no": card(1)},
    {"household_id": "H002", "amount_fen": 8_000, "account_no": card(2)},
    {"household_id": "H002", "amount_fen": -3_000, "account_no": card(2)},
    {"household_id": "H003", "amount_fen": 2_000, "account_no": card(3)},
    {"household_id": "H003", "amount_fen": -2_000, "account_no": card(3)},
    {"household_id": "H004", "amount_fen": 1_234, "account_no": card(4)},
]


def prepare(session, user="alice", **options):  # type: ignore[no-untyped-def]
    options.setdefault("config", ONE_APPROVER)
    options.setdefault("today", NOVEMBER_5)
    options.setdefault("card_lookup", no_cards)
    return prepare_batch(session, "COUNTY", user, **options)


@pytest.fixture
def owed(engine):  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        with_bank_account(session)
        assert owe(session, OWED) == 7
    return engine


def exported(engine, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """Prepare, approve and export the worked example; returns the batch reference."""
    with transaction(engine) as session:
        batch = prepare(session).batch_reference
    with transaction(engine) as session:
        approve_batch(session, batch, "bob", ONE_APPROVER)
    with transaction(engine) as session:
        export_batch(session, batch, "generic", tmp_path / "batch.csv", "carol", today=NOVEMBER_5)
    return batch


def test_netting_two_payables_of_one_household_into_one_instruction(owed) -> None:  # type: ignore[no-untyped-def]
    with transaction(owed) as session:
        outcome = prepare(session)
    assert outcome.batch_reference == "BATCH-202611-0001"
    assert (outcome.instruction_count, outcome.payable_count, outcome.total_fen) == (3, 5, 21_234)
    assert [(kept.payee_id, kept.amount_fen, kept.payable_count) for kept in outcome.kept] == [("H003", 0, 2)]
    with transaction(owed) as session:
        rows = instructions(session, outcome.batch_reference)
    assert [(row.payment_reference, row.payee_id, row.account_no, row.amount_fen, row.status) for row in rows] == [
        ("PAY-202611-000001", "H001", card(1), 15_000, "pending"),
        ("PAY-202611-000002", "H002", card(2), 5_000, "pending"),
        ("PAY-202611-000003", "H004", card(4), 1_234, "pending"),
    ]


def test_prepare_twice_finds_nothing_new_and_references_keep_counting(owed) -> None:  # type: ignore[no-untyped-def]
    with transaction(owed) as session:
        first = prepare(session)
    with transaction(owed) as session:
        second = prepare(session)
    assert first.instruction_count == 3
    assert second.batch_reference is None and second.instruction_count == 0
    assert "nothing new" in second.message
    # A new payable later goes into a new batch with the next references.
    with transaction(owed) as session:
        owe(session, [{"household_id": "H005", "amount_fen": 700, "account_no": card(5)}], key="owe-2")
    with transaction(owed) as session:
        third = prepare(session)
        rows = instructions(session, third.batch_reference)
    assert third.batch_reference == "BATCH-202611-0002"
    assert [row.payment_reference for row in rows] == ["PAY-202611-000004"]


def test_the_database_refuses_a_second_active_claim(owed) -> None:  # type: ignore[no-untyped-def]
    with transaction(owed) as session:
        batch = prepare(session).batch_reference
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with transaction(owed) as session:
            payable_id, instruction_id = session.execute(
                text(
                    "SELECT payable_id, instruction_id FROM instruction_payables WHERE active ORDER BY payable_id "
                    "LIMIT 1"
                )
            ).one()
            other = session.execute(text("SELECT max(id) FROM payment_instructions")).scalar_one()
            assert other != instruction_id
            session.execute(
                text("INSERT INTO instruction_payables (instruction_id, payable_id, active) VALUES (:i, :p, true)"),
                {"i": other, "p": payable_id},
            )
    assert batch


def test_approval_by_the_preparer_is_refused(owed) -> None:  # type: ignore[no-untyped-def]
    with transaction(owed) as session:
        batch = prepare(session).batch_reference
    with pytest.raises(DisburseError, match="alice prepared batch .* cannot approve it"):
        with transaction(owed) as session:
            approve_batch(session, batch, "alice", ONE_APPROVER)
    with transaction(owed) as session:
        outcome = approve_batch(session, batch, "bob", ONE_APPROVER)
    assert (outcome.status, outcome.changed) == ("approved", True)
    with transaction(owed) as session:
        again = approve_batch(session, batch, "bob", ONE_APPROVER)
    assert (again.status, again.changed) == ("approved", False)


def test_a_second_approver_is_needed_above_the_threshold(owed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with transaction(owed) as session:
        outcome = prepare(session, config=LOW_THRESHOLD)
    batch = outcome.batch_reference
    assert outcome.approvals_required == 2  # 21,234 fen > 10,000 fen
    with transaction(owed) as session:
        first = approve_batch(session, batch, "bob", LOW_THRESHOLD)
    assert (first.status, first.changed) == ("prepared", True) and "second approver" in first.message
    with pytest.raises(DisburseError, match="not approved yet"):
        with transaction(owed) as session:
            export_batch(session, batch, "generic", tmp_path / "early.csv", "carol", today=NOVEMBER_5)
    with transaction(owed) as session:
        same = approve_batch(session, batch, "bob", LOW_THRESHOLD)
    assert (same.status, same.changed) == ("prepared", False)
    with pytest.raises(DisburseError, match="cannot approve"):
        with transaction(owed) as session:
            approve_batch(session, batch, "alice", LOW_THRESHOLD)
    with transaction(owed) as session:
        second = approve_batch(session, batch, "dave", LOW_THRESHOLD)
    assert (second.status, second.changed) == ("approved", True)


def test_export_posts_payables_to_payments_in_transit_and_writes_matching_files(owed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with transaction(owed) as session:
        before = balances(session)
    batch = exported(owed, tmp_path)
    with transaction(owed) as session:
        after = balances(session)
        files = session.execute(text("SELECT file_name, row_count, total_fen, sha256 FROM payment_batch_files")).all()
        status = session.execute(text("SELECT status, bank_profile FROM payment_batches")).one()
        references = (
            session.execute(text("SELECT DISTINCT payment_reference FROM postings WHERE payment_reference IS NOT NULL"))
            .scalars()
            .all()
        )
        assert postings_total(session) == 0
    # Dr 211 21,234 (H003's payables stay owed) / Cr 102.90 21,234.
    assert after["211"] - before["211"] == 21_234
    assert after[PAYMENTS_IN_TRANSIT] == -21_234
    assert [(row.row_count, row.total_fen) for row in files] == [(3, 21_234)]
    assert status == ("exported", "generic")
    assert sorted(references) == ["PAY-202611-000001", "PAY-202611-000002", "PAY-202611-000003"]
    written = pd.read_csv(tmp_path / "batch.csv", dtype=str, encoding="utf-8-sig")
    assert len(written) == 3
    assert sum(int(amount.replace(".", "")) for amount in written["金额"]) == 21_234
    assert written["摘要"].str.startswith("PAY-202611-00000").all()
    # Exporting again writes the same file and posts nothing.
    with transaction(owed) as session:
        entries = entry_count(session)
        again = export_batch(session, batch, "generic", tmp_path / "again.csv", "carol", today=NOVEMBER_5)
    with transaction(owed) as session:
        assert entry_count(session) == entries
    assert not again.changed and again.files[0].sha256 == files[0].sha256
    with pytest.raises(DisburseError, match="never to a second bank"):
        with transaction(owed) as session:
            export_batch(session, batch, "ccb", tmp_path / "ccb.csv", "carol", today=NOVEMBER_5)


def test_a_return_file_settles_success_and_failure(owed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    batch = exported(owed, tmp_path)
    with transaction(owed) as session:
        bank = session.scalar(text("SELECT ledger_account_code FROM bank_accounts"))
        before = balances(session)
    returned = write_return(
        tmp_path / "return-1.csv",
        [
            (card(1), "户主H001", 15_000, "成功", "", "PAY-202611-000001 光伏收益分配"),
            (card(2), "户主H002", 5_000, "失败", "账户已销户", "PAY-202611-000002 光伏收益分配"),
            (card(9), "某人", 999, "成功", "", "PAY-202611-999999"),
        ],
    )
    with transaction(owed) as session:
        outcome = apply_return_file(session, returned, "generic", "erin", on=NOVEMBER_20)
    assert (outcome.success_count, outcome.success_fen, outcome.failure_count, outcome.failure_fen) == (
        1,
        15_000,
        1,
        5_000,
    )
    assert [(line.source_row, line.outcome) for line in outcome.reported] == [(4, "unmatched")]
    assert "not one of ours" in outcome.reported[0].note
    with transaction(owed) as session:
        after = balances(session)
        rows = instructions(session, batch)
        fixes = fix_list(session)
        periods = session.execute(
            text("SELECT DISTINCT e.period, e.entry_date FROM journal_entries e WHERE e.source_kind = 'payout_return'")
        ).all()
    # Success: Dr 102.90 150.00 / Cr 102.xx 150.00. Failure: Dr 102.90 50.00 / Cr 211 50.00.
    assert after[bank] - before.get(bank, 0) == -15_000
    assert after[PAYMENTS_IN_TRANSIT] - before[PAYMENTS_IN_TRANSIT] == 20_000
    assert after["211"] - before["211"] == -5_000
    assert [str(period) for period, _ in periods] == ["2026-11"]
    assert [(row.payee_id, row.status, row.failure_reason) for row in rows] == [
        ("H001", "success", None),
        ("H002", "failed", "账户已销户"),
        ("H004", "exported", None),
    ]
    assert list(fixes["household_id"]) == ["H002"] and list(fixes["reason"]) == ["账户已销户"]

    # The same file again changes nothing.
    with transaction(owed) as session:
        entries = entry_count(session)
        again = apply_return_file(session, returned, "generic", "erin", on=NOVEMBER_20)
    with transaction(owed) as session:
        assert entry_count(session) == entries and balances(session) == after
    assert not again.applied and "nothing changed" in again.message

    # A second, partial file: H004 paid; a repeated line for H001 is reported as already settled.
    second = write_return(
        tmp_path / "return-2.csv",
        [
            (card(4), "户主H004", 1_234, "成功", "", "PAY-202611-000003"),
            (card(1), "户主H001", 15_000, "成功", "", "PAY-202611-000001"),
        ],
    )
    with transaction(owed) as session:
        outcome = apply_return_file(session, second, "generic", "erin", on=NOVEMBER_20)
    assert outcome.success_count == 1 and [line.outcome for line in outcome.reported] == ["already_settled"]
    assert outcome.closed_batches == (batch,)
    with transaction(owed) as session:
        final = balances(session)
        assert postings_total(session) == 0
    # Every instruction has a result: nothing is left in transit.
    assert final[PAYMENTS_IN_TRANSIT] == 0
    # Still owed: H002's 50.00 (failed) and H003's 20.00 − 20.00.
    assert final["211"] == -5_000


def test_a_failed_payee_waits_for_a_fixed_card(owed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    exported(owed, tmp_path)
    returned = write_return(
        tmp_path / "return.csv",
        [
            (card(1), "户主H001", 15_000, "成功", "", "PAY-202611-000001"),
            (card(2), "户主H002", 5_000, "失败", "户名不符", "PAY-202611-000002"),
            (card(4), "户主H004", 1_234, "成功", "", "PAY-202611-000003"),
        ],
    )
    with transaction(owed) as session:
        apply_return_file(session, returned, "generic", "erin", on=NOVEMBER_20)
    with transaction(owed) as session:
        waiting = prepare(session)
    assert waiting.batch_reference is None
    assert [(kept.payee_id, kept.amount_fen) for kept in waiting.kept if "failed" in kept.reason] == [("H002", 5_000)]

    with transaction(owed) as session:
        fixed = fix_account(
            session,
            "H002",
            card(22),
            "frank",
            account_name="张二",
            bank_name="中国农业银行",
            reason="户名不符, new card",
            today=NOVEMBER_20,
        )
    assert fixed.changed and fixed.fix_reference == "FIX-202611-0001" and fixed.status == "proposed"
    with transaction(owed) as session:
        # Proposed is not in force: the payee is still held.
        assert prepare(session).batch_reference is None and len(fix_list(session)) == 1
    with transaction(owed) as session:
        approved = approve_fix(session, fixed.fix_reference, "grace")
    assert approved.changed and approved.resolved_count == 1
    with transaction(owed) as session:
        assert not fix_account(session, "H002", card(22), "frank", account_name="张二").changed
        assert len(fix_list(session)) == 0
        fixes = session.execute(
            text("SELECT old_account_no, new_account_no, fixed_by, checked_by, status, reason FROM account_fixes")
        ).all()
    assert fixes == [(card(2), card(22), "frank", "grace", "approved", "户名不符, new card")]
    with transaction(owed) as session:
        reissued = prepare(session)
        rows = instructions(session, reissued.batch_reference)
    assert [(row.payee_id, row.account_no, row.account_name, row.amount_fen) for row in rows] == [
        ("H002", card(22), "张二", 5_000)
    ]
    # A later payable to the old card also goes to the new one.
    with transaction(owed) as session:
        owe(
            session, [{"household_id": "H002", "amount_fen": 600, "account_no": card(2)}], key="owe-2", period="2026-11"
        )
        later = prepare(session)
        assert [row.account_no for row in instructions(session, later.batch_reference)] == [card(22)]


def test_force_pays_a_failed_payee_again_without_a_fix(owed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    exported(owed, tmp_path)
    returned = write_return(
        tmp_path / "return.csv", [(card(2), "户主H002", 5_000, "失败", "账户冻结", "PAY-202611-000002")]
    )
    with transaction(owed) as session:
        apply_return_file(session, returned, "generic", "erin", on=NOVEMBER_20)
    with transaction(owed) as session:
        forced = prepare(session, force=True)
        rows = instructions(session, forced.batch_reference)
        entries = session.execute(text("SELECT status, resolved_by FROM card_fixes")).all()
    assert [(row.payee_id, row.account_no, row.amount_fen) for row in rows] == [("H002", card(2), 5_000)]
    assert entries == [("forced", "alice")]


def test_a_register_update_releases_a_failed_payee(owed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    exported(owed, tmp_path)
    returned = write_return(
        tmp_path / "return.csv", [(card(2), "户主H002", 5_000, "失败", "账户已销户", "PAY-202611-000002")]
    )
    with transaction(owed) as session:
        apply_return_file(session, returned, "generic", "erin", on=NOVEMBER_20)

    def register(session, payees, on):  # type: ignore[no-untyped-def]
        # The register as of today lists a new card for H002.
        return pd.DataFrame([["household", "H002", card(222), "户主H002", "农业银行"]], columns=list(CARD_COLUMNS))

    with transaction(owed) as session:
        outcome = prepare(session, card_lookup=register)
        rows = instructions(session, outcome.batch_reference)
        log = session.execute(text("SELECT source, old_account_no, new_account_no FROM account_fixes")).all()
    assert outcome.register_fixes == 1
    assert [(row.payee_id, row.account_no) for row in rows] == [("H002", card(222))]
    assert log == [("register", card(2), card(222))]


def test_the_real_register_lookup_reads_the_card_in_force(owed) -> None:  # type: ignore[no-untyped-def]
    from disburse.payouts.cards import register_cards

    with transaction(owed) as session:
        session.execute(
            text(
                "INSERT INTO register_imports (id, kind, file_name, file_sha256, as_of, row_count, warning_count, "
                "imported_by, imported_at) VALUES (1, 'register', 'r.csv', :h, '2026-09-01', 1, 0, 't', "
                "'2026-09-01 00:00:00'), (2, 'register', 'r2.csv', :h2, '2026-11-01', 1, 0, 't', '2026-11-01 00:00:00')"
            ),
            {"h": "a" * 64, "h2": "b" * 64},
        )
        for version_id, valid_from, valid_to, account in ((1, 1, 2, card(2)), (2, 2, None, card(222))):
            session.execute(
                text(
                    "INSERT INTO household_versions (id, household_id, valid_from_import, valid_to_import, "
                    "village_code, county, town, village, household_type, poverty_status, head_name, bank_name, "
                    "account_no, member_count) VALUES (:id, 'H002', :f, :t, '611002001001', '县', '镇', '村', "
                    "'一般贫困户', '未脱贫', '张二', '农业银行', :a, 3)"
                ),
                {"id": version_id, "f": valid_from, "t": valid_to, "a": account},
            )
    with transaction(owed) as session:
        payees = pd.DataFrame({"payee_type": ["household", "household"], "payee_id": ["H002", "H404"]})
        in_october = register_cards(session, payees, NOVEMBER_5.replace(month=10))
        in_november = register_cards(session, payees, NOVEMBER_5)
    assert list(in_october["account_no"]) == [card(2)]
    assert list(in_november["account_no"]) == [card(222)]
    assert list(in_november["account_name"]) == ["张二"]


def test_status_shows_due_in_transit_paid_and_failed(owed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    exported(owed, tmp_path)
    returned = write_return(
        tmp_path / "return.csv",
        [
            (card(1), "户主H001", 15_000, "成功", "", "PAY-202611-000001"),
            (card(2), "户主H002", 5_000, "失败", "账号不存在", "PAY-202611-000002"),
        ],
    )
    with transaction(owed) as session:
        apply_return_file(session, returned, "generic", "erin", on=NOVEMBER_20)
        owe(
            session, [{"household_id": "H001", "amount_fen": 300, "account_no": card(1)}], key="owe-2", period="2026-11"
        )
    with transaction(owed) as session:
        paid_and_due = household_status(session, "H001")
        failed = household_status(session, "H002")
        in_transit = household_status(session, "H004")
        nothing = household_status(session, "H999")
    assert [(line.state, line.period, line.amount_fen, line.payment_reference) for line in paid_and_due.lines] == [
        ("paid", "2026-10", 10_000, "PAY-202611-000001"),
        ("paid", "2026-10", 5_000, "PAY-202611-000001"),
        ("due", "2026-11", 300, None),
    ]
    assert paid_and_due.lines[0].settled_on == NOVEMBER_20 and paid_and_due.lines[0].programme == "光伏收益分配"
    assert paid_and_due.totals_fen == {"paid": 15_000, "due": 300}
    # The failed 50.00 is held for a card fix, once; the failed attempt is listed, not added.
    assert failed.totals_fen == {"held": 5_000}
    assert [(line.state, line.amount_fen) for line in failed.lines if line.state == "failed"] == [("failed", 5_000)]
    assert sum(line.amount_fen for line in failed.lines if line.state != "failed") == 5_000
    assert [line.reason for line in failed.lines if line.state == "failed"] == ["账号不存在"]
    assert [(line.state, line.batch_reference) for line in in_transit.lines] == [("in_transit", "BATCH-202611-0001")]
    assert in_transit.lines[0].exported_on is not None
    assert nothing.lines == ()


def test_a_cancelled_batch_gives_its_payables_back(owed) -> None:  # type: ignore[no-untyped-def]
    with transaction(owed) as session:
        batch = prepare(session).batch_reference
    with transaction(owed) as session:
        assert cancel_batch(session, batch, "bob").changed
    with transaction(owed) as session:
        assert not cancel_batch(session, batch, "bob").changed
        again = prepare(session)
    assert again.instruction_count == 3 and again.total_fen == 21_234
    with pytest.raises(DisburseError, match="cancelled"):
        with transaction(owed) as session:
            approve_batch(session, batch, "bob", ONE_APPROVER)


def test_lines_without_a_reference_match_on_account_and_amount(owed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    batch = exported(owed, tmp_path)
    # A bank that echoes no memo (ICBC's three columns): account and amount within the batch.
    returned = tmp_path / "icbc-return.csv"
    returned.write_text(
        f"账号,户名,金额,交易结果,失败原因\n{card(4)},户主H004,12.34,交易成功,\n{card(2)},户主H002,49.99,交易成功,\n",
        encoding="gbk",
    )
    with transaction(owed) as session:
        outcome = apply_return_file(session, returned, "icbc", "erin", on=NOVEMBER_20, batch=batch)
    assert outcome.success_count == 1
    assert [(line.source_row, line.outcome) for line in outcome.reported] == [(3, "unmatched")]


def test_a_mismatched_amount_is_reported_not_applied(owed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    exported(owed, tmp_path)
    returned = write_return(tmp_path / "return.csv", [(card(1), "户主H001", 14_999, "成功", "", "PAY-202611-000001")])
    with transaction(owed) as session:
        outcome = apply_return_file(session, returned, "generic", "erin", on=NOVEMBER_20)
    assert outcome.success_count == 0 and outcome.reported[0].outcome == "mismatch"
    assert "149.99 differs" in outcome.reported[0].note


def test_returns_are_refused_when_the_entity_has_no_bank_account(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        owe(session, OWED)
    exported(engine, tmp_path)
    returned = write_return(tmp_path / "return.csv", [(card(1), "户主H001", 15_000, "成功", "", "PAY-202611-000001")])
    with pytest.raises(DisburseError, match="no registered bank account"):
        with transaction(engine) as session:
            apply_return_file(session, returned, "generic", "erin", on=NOVEMBER_20)
    with transaction(engine) as session:
        # Nothing of the refused file was kept: it can be applied once the account is registered.
        assert session.scalar(text("SELECT count(*) FROM return_files")) == 0
        with_bank_account(session)
    with transaction(engine) as session:
        assert apply_return_file(session, returned, "generic", "erin", on=NOVEMBER_20).success_count == 1


def test_a_broken_return_file_is_refused(owed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    exported(owed, tmp_path)
    broken = tmp_path / "broken.csv"
    broken.write_text(
        "账号,户名,金额,处理结果,摘要\n6217000000000001,某,abc,成功,PAY-202611-000001\n", encoding="utf-8"
    )
    with pytest.raises(ImportRefused):
        with transaction(owed) as session:
            apply_return_file(session, broken, "generic", "erin", on=NOVEMBER_20)


def test_payables_take_the_bank_of_the_card_from_the_register(engine) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        session.execute(
            text(
                "INSERT INTO register_imports (id, kind, file_name, file_sha256, as_of, row_count, warning_count, "
                "imported_by, imported_at) VALUES (1, 'register', 'r.csv', :h, '2026-09-01', 1, 0, 't', "
                "'2026-09-01 00:00:00')"
            ),
            {"h": "a" * 64},
        )
        session.execute(
            text(
                "INSERT INTO household_versions (household_id, valid_from_import, village_code, county, town, village, "
                "household_type, poverty_status, head_name, bank_name, account_no, member_count) "
                "VALUES ('H005', 1, '611002001001', '县', '镇', '村', '一般贫困户', '未脱贫', '李五', '中国农业银行', "
                ":a, 2)"
            ),
            {"a": card(5)},
        )
        owe(
            session,
            [
                {"household_id": "H005", "amount_fen": 500, "account_no": card(5)},
                {"household_id": "H006", "amount_fen": 600, "account_no": card(6)},
            ],
        )
    with transaction(engine) as session:
        banks = session.execute(text("SELECT household_id, bank_name FROM payables ORDER BY id")).all()
    assert banks == [("H005", "中国农业银行"), ("H006", None)]


def test_an_xlsx_batch_exported_again_holds_the_same_payments(owed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import openpyxl

    with transaction(owed) as session:
        batch = prepare(session).batch_reference
    with transaction(owed) as session:
        approve_batch(session, batch, "bob", ONE_APPROVER)
    with transaction(owed) as session:
        first = export_batch(session, batch, "rural_credit", tmp_path / "first.xlsx", "carol", today=NOVEMBER_5)
    with transaction(owed) as session:
        entries = entry_count(session)
        again = export_batch(session, batch, "rural_credit", tmp_path / "again.xlsx", "carol", today=NOVEMBER_5)
        assert entry_count(session) == entries
    assert first.changed and not again.changed
    assert (
        [(f.row_count, f.total_fen) for f in again.files]
        == [(f.row_count, f.total_fen) for f in first.files]
        == [(3, 21_234)]
    )
    sheets = [
        list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))
        for path in (tmp_path / "first.xlsx", tmp_path / "again.xlsx")
    ]
    assert sheets[0] == sheets[1]
    assert sheets[0][0][:4] == ("总金额", 212.34, "总笔数", 3)
