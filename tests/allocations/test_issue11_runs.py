"""Runs on a county small enough to compute by hand (tiny_county.py), on both engines: issue 11
items 5 (reversing a posted run), 6 (rules that contradict the register) and 9 (PV on a cash
basis), and issue 19 items 4 (a roster a run does not use), 6 (a row with nobody to go to, alone)
and 7 (explain from what a run stored).

The settlements, computed by hand: January 100.00 (nobody holds a claim yet), February 40.00 and
March 80.00 (H1 2 kW, H2 1 kW, village 611002101201 1 kW, the whole month: shares 2:1:1) have
arrived; April 64.00 has not (no 到账日期).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from tiny_county import (
    COOPERATIVE,
    H1,
    H2,
    STATION,
    TODAY,
    VILLAGE_1,
    import_tiny_county,
    pv_rule,
    write_files,
)

from disburse.allocations.reversal import reverse_run
from disburse.allocations.runs import approve_run, calculate_run, explain_run, post_run, run_lines, run_row
from disburse.foundation.db import transaction
from disburse.foundation.errors import DisburseError
from disburse.payouts.payables import record_payables, withdraw_run_payables
from disburse.payouts.service import cancel_batch, prepare_batch
from disburse.registry import service as registry_service
from disburse.reports.trial_balance import trial_balance


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_files(tmp_path / "county")


@pytest.fixture
def books(engine, database_url: str, tiny: Path):  # type: ignore[no-untyped-def]
    import_tiny_county(database_url, tiny)
    return engine


def line_amounts(lines) -> dict[tuple[str, str], int]:  # type: ignore[no-untyped-def]
    totals: dict[tuple[str, str], int] = {}
    for row in lines.itertuples():
        totals[(row.component, row.payee_id)] = totals.get((row.component, row.payee_id), 0) + int(row.amount_fen)
    return totals


def balances(engine, period: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        return {line.account_code: line.closing_fen for line in trial_balance(session, "COUNTY", period).lines}


def calculate_and_post(engine, rule: Path, period: str, **options):  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        outcome = calculate_run(session, rule, period, "alice", **options)
    with transaction(engine) as session:
        approve_run(session, outcome.run_id, "bob")
        record_payables(session, post_run(session, outcome.run_id, "bob", today=TODAY).payables)
    return outcome


# --- issue 11 item 9: PV on a cash basis ----------------------------------------------------------


def test_issue11_item9_receipts_are_booked_when_the_money_arrives(books, tiny: Path, tmp_path: Path) -> None:
    # Receivables 100.00 + 40.00 + 80.00 + 64.00 = 284.00 Dr 112 / Cr 501; the three rows with a
    # 到账日期 are received too, 220.00 Dr 102.01 / Cr 112, each on its own 到账日期. 112 keeps
    # only April's 64.00.
    with books.connect() as connection:
        receipts = connection.execute(
            text(
                "SELECT e.entry_date, p.account_code, p.amount_fen FROM journal_entries e JOIN postings p "
                "ON p.entry_id = e.id WHERE e.source_kind = 'pv_receipt' AND p.amount_fen > 0 ORDER BY e.entry_date"
            )
        ).all()
    assert [(str(day)[:10], account, int(amount)) for day, account, amount in receipts] == [
        ("2026-02-20", "102.01", 10_000),
        ("2026-03-20", "102.01", 4_000),
        ("2026-04-20", "102.01", 8_000),
    ]
    assert balances(books, TODAY.strftime("%Y-%m"))["112"] == 6_400
    assert balances(books, TODAY.strftime("%Y-%m"))["102.01"] == 22_000

    # April arrives: a settlement file carrying its 到账日期 books the late receipt (and no second
    # receivable); 112 is cleared, and the row is distributable.
    late = tmp_path / "april.csv"
    late.write_text(
        f"电站编号,所属期,上网电量,收入类型,结算金额,到账日期\n{STATION},2026-04,1600,标杆电价,64.00,2026-11-18\n",
        encoding="utf-8",
    )
    with transaction(books) as session:
        outcome = registry_service.import_settlements(session, late, user="clerk", today=TODAY)
    assert (outcome.counts["posted"], outcome.counts["late_receipts"]) == (0, 1)
    assert balances(books, "2026-11")["112"] == 0 and balances(books, "2026-11")["102.01"] == 28_400


def test_issue11_item9_unreceived_rows_wait_unless_the_rule_allows_advance_payment(books, tmp_path: Path) -> None:
    # March run: February and March (40.00 + 80.00) are distributed; January is refused on its
    # own (nobody holds a claim); April (64.00) waits for its money and is reported.
    with transaction(books) as session:
        outcome = calculate_run(session, pv_rule(tmp_path), "2026-03", "alice", dry_run=True)
    summary = outcome.result.summary
    assert outcome.result.pool_fen == 12_000
    assert (summary["settlements_not_received"], summary["not_received_fen"]) == (1, 6_400)
    assert any("have no 到账日期" in note and "2026-04" in note for note in outcome.notes)
    assert line_amounts(outcome.lines) == {
        ("household_share", H1): 6_000,
        ("household_share", H2): 3_000,
        ("collective_share", VILLAGE_1): 3_000,
    }
    # allow_unreceived: April is paid in advance (2:1:1 of 64.00 = 32.00, 16.00, 16.00), and said so.
    rule = pv_rule(tmp_path, extra="allow_unreceived: true\n")
    with transaction(books) as session:
        advance = calculate_run(session, rule, "2026-03", "alice", dry_run=True)
    assert advance.result.pool_fen == 18_400 and advance.result.summary["advance_fen"] == 6_400
    assert any("paid in advance" in note for note in advance.notes)


def test_issue11_item9_receipts_need_the_owners_bank_account(engine, database_url: str, tiny: Path) -> None:
    # Three rows carry a 到账日期: without a bank account of COUNTY their receipts have nowhere to
    # go, and the import is refused with nothing written.
    import_tiny_county(database_url, tiny, bank_account=False, settlements=False)
    with pytest.raises(
        DisburseError, match="COUNTY has no registered bank account, so the receipt of 3 settlement row"
    ):
        with transaction(engine) as session:
            registry_service.import_settlements(session, tiny / "pv_settlements.csv", user="clerk", today=TODAY)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM pv_settlements")).scalar_one() == 0
    # With two accounts, the first registered takes them and a warning says so.
    from disburse.ledger.service import add_bank_account

    with transaction(engine) as session:
        add_bank_account(session, "COUNTY", "中国农业银行", "6228480012345678901", "clerk")
        add_bank_account(session, "COUNTY", "中国建设银行", "6217000012345678901", "clerk")
        outcome = registry_service.import_settlements(session, tiny / "pv_settlements.csv", user="clerk", today=TODAY)
    assert any("booked to the first registered, 6228480012345678901 (102.01)" in p.reason for p in outcome.problems)


# --- issue 19 items 4 and 6 -------------------------------------------------------------------------


def test_issue19_item6_a_row_with_nobody_to_go_to_is_refused_alone(books, tmp_path: Path) -> None:
    # January: nobody holds a claim, the rule names no residual account: that row alone is left
    # out (named, with its amount, and free for later); February and March are allocated.
    with transaction(books) as session:
        outcome = calculate_run(session, pv_rule(tmp_path), "2026-03", "alice")
    summary = outcome.result.summary
    assert (summary["settlements_refused"], summary["refused_fen"], summary["settlements_allocated"]) == (1, 10_000, 2)
    assert any("2026-01" in note and "not allocated" in note and "100.00" in note for note in outcome.notes)
    with transaction(books) as session:
        taken = json.loads(run_row(session, outcome.run_id).inputs_description)["settlements"]
    assert [row[1] for row in taken] == ["2026-02", "2026-03"]
    # With a residual account for the households part, January's 100.00 goes there instead.
    rule = pv_rule(tmp_path, households_part=', residual_account_code: "311"')
    with transaction(books) as session:
        outcome = calculate_run(session, rule, "2026-03", "alice", dry_run=True)
    assert line_amounts(outcome.lines)[("unclaimed_part", "COUNTY")] == 10_000
    assert outcome.result.pool_fen == 22_000


def test_issue19_item4_a_roster_the_run_does_not_use_is_reported(books, tiny: Path, tmp_path: Path) -> None:
    # The March roster owes 2 days × 3.00 = 6.00. Run as 2026-05, no settlement row of May is
    # allocated: the roster is not paid and the run says so, with the 6.00 it owes.
    rule = pv_rule(tmp_path, wages=True)
    roster = tiny / "roster_2026-03.csv"
    with transaction(books) as session:
        outcome = calculate_run(session, rule, "2026-05", "alice", inputs_path=roster, dry_run=True)
    assert outcome.result.summary["wage_roster_not_paid_fen"] == 600
    assert outcome.result.summary["wages_paid_fen"] == 0
    assert any("owing 6.00" in note and "was not paid" in note for note in outcome.notes)
    # Run as 2026-03, the roster is paid from March's wage part (10% of 80.00 = 8.00): 6.00 paid,
    # 2.00 unused; February's wage part (4.00) stays unused too, and the run says so.
    with transaction(books) as session:
        paid = calculate_run(session, rule, "2026-03", "alice", inputs_path=roster, dry_run=True)
    amounts = line_amounts(paid.lines)
    assert (
        amounts[
            (
                "public_welfare_wage",
                paid.lines.loc[paid.lines["component"] == "public_welfare_wage", "payee_id"].iloc[0],
            )
        ]
        == 600
    )
    assert amounts[("wage_pool_unused", "COUNTY")] == 200 + 400
    assert any("not paid to the 2026-03 roster" in note for note in paid.notes)


# --- issue 11 item 6: a rule that contradicts the register ----------------------------------------


def test_issue11_item6_a_rule_that_contradicts_the_register_is_refused(books, tiny: Path, tmp_path: Path) -> None:
    om = 'deductions:\n  - {name: om, per_watt_year_yuan: "0.03", account_code: "211", expense_account_code: "511"}\n'
    with pytest.raises(
        DisburseError, match=r"capacity_kw 300 contradicts the register: PV-611002-009 is declared with 100 kW"
    ):
        with transaction(books) as session:
            calculate_run(session, pv_rule(tmp_path, extra='capacity_kw: "300"\n' + om), "2026-03", "alice")
    # Left out, the register's 100 kW is used and said: O&M of a month, 100,000 W × 3 fen / 12 =
    # 250.00, takes all of January's 100.00, February's 40.00 and March's 80.00 (so January has
    # nothing left to distribute and is not refused); uncovered 150.00 + 210.00 + 170.00.
    with transaction(books) as session:
        outcome = calculate_run(session, pv_rule(tmp_path, extra=om), "2026-03", "alice", dry_run=True)
    assert any("capacity 100 kW of PV-611002-009 taken from the register" in note for note in outcome.notes)
    assert outcome.result.summary["deduction_om_uncovered_fen"] == (25_000 - 10_000) + (25_000 - 4_000) + (
        25_000 - 8_000
    )
    # A wage part and the run period's own settlement, but no roster: refused.
    with pytest.raises(DisburseError, match="no wage roster was given"):
        with transaction(books) as session:
            calculate_run(session, pv_rule(tmp_path, wages=True), "2026-03", "alice")
    # The wrong paying entity, an unknown station, an unknown collective.
    with pytest.raises(DisburseError, match="the register books PV-611002-009 in COUNTY"):
        with transaction(books) as session:
            # The village's own books exist (the register import opens them), but the station is COUNTY's.
            rule = tmp_path / "village.yaml"
            rule.write_text(
                pv_rule(tmp_path)
                .read_text(encoding="utf-8")
                .replace("paying_entity: COUNTY", f'paying_entity: "{VILLAGE_1}"'),
                encoding="utf-8",
            )
            calculate_run(session, rule, "2026-03", "alice")
    with pytest.raises(DisburseError, match="PV-611002-008 is not a declared station"):
        with transaction(books) as session:
            rule = tmp_path / "other.yaml"
            rule.write_text(
                pv_rule(tmp_path).read_text(encoding="utf-8").replace(STATION, "PV-611002-008"), encoding="utf-8"
            )
            calculate_run(session, rule, "2026-03", "alice")
    dividend = tmp_path / "dividend.yaml"
    dividend.write_text(
        DIVIDEND.replace(
            "exit_handling: remaining_holders", 'exit_handling: collective\ncollective_id: "611002001001"'
        ),
        encoding="utf-8",
    )
    with pytest.raises(DisburseError, match="collective_id 611002001001 is not a village the register knows"):
        with transaction(books) as session:
            calculate_run(session, dividend, "2026-12", "alice")


# --- issue 11 item 5: reversing a posted run ------------------------------------------------------


def test_issue11_item5_reverse_a_posted_run_and_calculate_a_corrected_one(books, tmp_path: Path) -> None:
    # Posted: 322.01 Dr 120.00; 211 Cr 90.00 (H1 60.00, H2 30.00); 113 Cr 30.00 (the village).
    first = calculate_and_post(books, pv_rule(tmp_path), "2026-03")
    posted = balances(books, "2026-03")
    assert (posted["322.01"], posted["211"], posted["113"]) == (12_000, -9_000, -3_000)
    # In a batch: refused, naming the batch; nothing written.
    with transaction(books) as session:
        batch = prepare_batch(session, "COUNTY", "carol", today=TODAY).batch_reference
    with pytest.raises(DisburseError, match=rf"in batch {batch}, not sent to the bank yet"):
        with transaction(books) as session:
            withdraw_run_payables(session, first.run_id)
            reverse_run(session, first.run_id, "alice")
    with transaction(books) as session:
        cancel_batch(session, batch, "carol")
    with transaction(books) as session:
        withdrawn = withdraw_run_payables(session, first.run_id)
        outcome = reverse_run(
            session, first.run_id, "alice", reason="wrong rule", withdrawn=withdrawn.as_record(), today=TODAY
        )
    # One reversing entry set: every balance of March back to zero; the payables (H1 60.00 and
    # H2 30.00, one per household and row: 4) withdrawn; February's and March's rows freed.
    assert (withdrawn.count, withdrawn.total_fen) == (4, 9_000) and len(withdrawn.history) == 4
    assert outcome.changed and outcome.settlements_freed == (2, 3)
    reversed_balances = balances(books, "2026-03")
    assert all(reversed_balances.get(code, 0) == 0 for code in ("322.01", "211", "113"))
    with books.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM payables")).scalar_one() == 0
        assert connection.execute(text("SELECT count(*) FROM settlement_allocations")).scalar_one() == 0
    # Again: nothing changes.
    with transaction(books) as session:
        assert not reverse_run(session, first.run_id, "alice").changed
    # The same rule again is a new run (the reversed run's key is freed), replacing the reversed one.
    with transaction(books) as session:
        same = calculate_run(session, pv_rule(tmp_path), "2026-03", "alice", dry_run=False)
        assert same.created and same.run_id != first.run_id and same.supersedes_run_id == first.run_id
        from disburse.allocations.runs import cancel_run

        cancel_run(session, same.run_id, "alice")
    # A corrected run (the village now takes 20% off the top) takes the freed rows and names the
    # run it replaces.
    corrected = tmp_path / "corrected.yaml"
    corrected.write_text(
        pv_rule(tmp_path)
        .read_text(encoding="utf-8")
        .replace("mode: by_claimed_kw,", 'mode: percentage, percent: "20%",')
        .replace('percent: "100%"', 'percent: "80%"'),
        encoding="utf-8",
    )
    second = calculate_and_post(books, corrected, "2026-03")
    assert second.supersedes_run_id == first.run_id
    assert any(f"supersedes run {first.run_id}, reversed" in note for note in second.notes)
    with transaction(books) as session:
        assert run_row(session, first.run_id).status == "reversed"
        assert run_row(session, second.run_id).supersedes_run_id == first.run_id
    # 120.00: village 20% = 24.00; households 96.00 by 2:1 = 64.00 and 32.00.
    assert balances(books, "2026-03")["211"] == -9_600 and balances(books, "2026-03")["113"] == -2_400


def test_issue11_item5_a_paid_or_unposted_run_is_not_reversed(books, tmp_path: Path) -> None:
    with transaction(books) as session:
        outcome = calculate_run(session, pv_rule(tmp_path), "2026-03", "alice")
    with pytest.raises(DisburseError, match="only a posted run is reversed"):
        with transaction(books) as session:
            reverse_run(session, outcome.run_id, "alice")
    with books.connect() as connection:
        paid = connection.execute(text("SELECT count(*) FROM payables")).scalar_one()
    assert paid == 0


# --- issue 19 item 7: explain from what a run stored ----------------------------------------------

DIVIDEND = f"""kind: coop_dividend
name: tiny dividend
cooperative_id: {COOPERATIVE}
paying_entity: COUNTY
fund_source: {COOPERATIVE} 拨改股分红
period: {{start: 2026-01-01, end: 2026-12-31}}
pool_yuan: "1200"
floor_rate: "5%"
ceiling_rate: "10%"
exit_handling: remaining_holders
accounts: {{debit: "322.01", household: "211", collective: "113", suspense: "211", cap_held_back: "113"}}
"""


def test_issue19_item7_runs_explain_retells_a_stored_dividend(books, tmp_path: Path) -> None:
    # H1 and H2: 5 shares and 5,000.00 each for 2026; floors 250.00 each; 700.00 above them,
    # 350.00 each; totals 600.00 capped at 500.00; 100.00 each held back.
    rule = tmp_path / "dividend.yaml"
    rule.write_text(DIVIDEND, encoding="utf-8")
    with transaction(books) as session:
        outcome = calculate_run(session, rule, "2026-12", "alice")
    with transaction(books) as session:
        text_lines = "\n".join(explain_run(session, outcome.run_id, H1))
        stored = run_lines(session, outcome.run_id)
    for expected in (
        f"{H1} dividend from converted funds: 500.00 yuan",
        "floor: 250.00 on principal 5,000.00 over 365 active day(s)",
        "of 700.00 = 350 yuan exactly; 350.00 after the largest-remainder rounding",
        "floor + pro rata = 250.00 + 350.00 = 600.00",
        "paid 500.00, 100.00 held back by the cap",
    ):
        assert expected in text_lines, expected
    assert int(stored.set_index("payee_id").loc[H1, "cap_fen"]) == 50_000
