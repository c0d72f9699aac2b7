"""Allocation runs end to end: registers → run → approval by a second person → balanced entries."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from runs_setup import EXAMPLES, county, dividend_rule, import_county, pv_rule
from sqlalchemy import select

from disburse.allocations.runs import (
    approve_run,
    calculate_run,
    cancel_run,
    explain_run,
    post_run,
    run_difference,
    run_lines,
)
from disburse.allocations.tables import AllocationRunRow
from disburse.foundation.db import transaction
from disburse.foundation.errors import DisburseError
from disburse.foundation.money import format_yuan
from disburse.reports.trial_balance import trial_balance


@pytest.fixture(scope="module")
def county_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return county(tmp_path_factory.mktemp("county"))


@pytest.fixture
def books(engine, database_url: str, county_directory: Path):  # type: ignore[no-untyped-def]
    import_county(database_url, county_directory)
    return engine


def balances(engine, period: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Closing balance (debit positive) per account code."""
    with transaction(engine) as session:
        lines = trial_balance(session, "COUNTY", period).lines
    return {line.account_code: line.closing_fen for line in lines}


def test_pv_run_is_computed_once_approved_by_another_and_posted_balanced(
    books, tmp_path: Path, county_directory: Path
) -> None:  # type: ignore[no-untyped-def]
    rule = pv_rule(tmp_path, county_directory)
    roster = county_directory / "public_welfare_jobs_2026-10.csv"
    with transaction(books) as session:
        first = calculate_run(session, rule, "2026-10", "alice", inputs_path=roster)
    assert first.created and first.run_id is not None
    pool = first.result.pool_fen
    assert pool > 0 and int(first.lines["amount_fen"].sum()) == pool  # lines conserve the pool
    with transaction(books) as session:
        again = calculate_run(session, rule, "2026-10", "alice", inputs_path=roster)
    assert (again.run_id, again.created) == (first.run_id, False)

    with pytest.raises(DisburseError, match="a different person must approve"):
        with transaction(books) as session:
            approve_run(session, first.run_id, "alice")
    with pytest.raises(DisburseError, match="must be approved"):
        with transaction(books) as session:
            post_run(session, first.run_id, "alice")
    with transaction(books) as session:
        approve_run(session, first.run_id, "bob")
    before = balances(books, "2026-10")
    with transaction(books) as session:
        outcome = post_run(session, first.run_id, "bob")
    assert outcome.changed and outcome.entry_count > 0
    after = balances(books, "2026-10")

    lines = first.lines

    def total(component: str) -> int:
        return int(lines.loc[lines["component"] == component, "amount_fen"].sum())

    # The run's debits: 322.01 takes the household and collective shares, 511 the deductions,
    # 514 wages and the unused wage part; credits go to 211, 113, 212 and 311 as the rule says.
    assert after["322.01"] - before.get("322.01", 0) == total("household_share") + total("collective_share")
    assert after["211"] - before.get("211", 0) == -(
        total("household_share") + total("om_deduction") + total("land_rent_deduction") + total("insurance_deduction")
    )
    assert after.get("113", 0) - before.get("113", 0) == -total("collective_share")
    with transaction(books) as session:
        assert trial_balance(session, "COUNTY", "2026-10").balanced
        # Posting again changes nothing; the settlements are taken, so no new PV run can take them.
        assert not post_run(session, first.run_id, "bob").changed
    # What is left has not arrived (no 到账日期): a PV run distributes only money received.
    with pytest.raises(DisburseError, match="that is not allocated yet has arrived"):
        with transaction(books) as session:
            calculate_run(session, rule, "2026-10", "alice")

    household = lines.loc[lines["component"] == "household_share", "household_id"].iloc[0]
    amounts = lines.loc[(lines["component"] == "household_share") & (lines["household_id"] == household), "amount_fen"]
    with transaction(books) as session:
        text = "\n".join(explain_run(session, first.run_id, household))
    assert "deduction" in text.lower() or "om" in text
    assert household in text and "claimed kW" in text
    assert all(f"{format_yuan(int(amount))} yuan" in text for amount in amounts)


def test_dry_run_stores_nothing_and_export_has_three_sheets(books, tmp_path: Path, county_directory: Path) -> None:  # type: ignore[no-untyped-def]
    from disburse.allocations.export import write_run_export

    rule = pv_rule(tmp_path, county_directory)
    with transaction(books) as session:
        outcome = calculate_run(session, rule, "2026-10", "alice", dry_run=True)
        assert outcome.run_id is None
        assert session.scalar(select(AllocationRunRow.id)) is None
    written = write_run_export(tmp_path / "run.xlsx", outcome)
    workbook = openpyxl.load_workbook(written[0])
    assert workbook.sheetnames == ["明细", "村汇总", "未纳入"]
    header = [cell.value for cell in workbook["明细"][2]]
    assert header == [
        *("户编号", "户主姓名", "村", "规则", "基数", "份额", "金额(元)", "收款账号", "说明"),
        *("享受人", "收款人", "卡别"),
    ]
    rows = list(workbook["明细"].iter_rows(min_row=3, values_only=True))
    cards = [row[7] for row in rows if row[7]]
    # Card numbers are masked in exports (first six, stars, last four) unless --unmasked.
    assert cards and all("*" in card and len(card) >= 15 for card in cards)
    full = write_run_export(tmp_path / "full.xlsx", outcome, unmasked=True)
    full_cards = [
        row[7] for row in openpyxl.load_workbook(full[0])["明细"].iter_rows(min_row=3, values_only=True) if row[7]
    ]
    assert all(card.isdigit() for card in full_cards) and [c[:6] + c[-4:] for c in full_cards] == [
        c[:6] + c[-4:] for c in cards
    ]
    amounts = [row[6] for row in rows]
    # Amounts are numbers in yuan; their sum is the pool (to the fen, compared in fen).
    assert sum(round(value * 100) for value in amounts) == outcome.result.pool_fen


def test_dividend_cancel_then_changed_pool_posts_only_the_difference(
    books, tmp_path: Path, county_directory: Path
) -> None:  # type: ignore[no-untyped-def]
    low = dividend_rule(tmp_path, county_directory, "120000")
    with transaction(books) as session:
        cancelled = calculate_run(session, low, "2026-12", "alice")
        cancel_run(session, cancelled.run_id, "alice")
    with transaction(books) as session:
        first = calculate_run(session, low, "2026-12", "alice")
        assert first.created and first.run_id != cancelled.run_id
        approve_run(session, first.run_id, "bob")
        post_run(session, first.run_id, "bob")
    high = dividend_rule(tmp_path, county_directory, "150000")
    with transaction(books) as session:
        second = calculate_run(session, high, "2026-12", "alice")
        row = session.get(AllocationRunRow, second.run_id)
        assert row.supersedes_run_id == first.run_id
        difference = run_difference(session, first.run_id, second.run_id)
        approve_run(session, second.run_id, "carol")
    net = int(difference["difference_fen"].sum())
    assert net == second.result.pool_fen - first.result.pool_fen
    before = balances(books, "2026-12")
    with transaction(books) as session:
        outcome = post_run(session, second.run_id, "carol")
    assert outcome.adjustment_of == first.run_id
    after = balances(books, "2026-12")
    assert after["322.01"] - before["322.01"] == net
    with transaction(books) as session:
        assert session.get(AllocationRunRow, first.run_id).status == "superseded"
        assert trial_balance(session, "COUNTY", "2026-12").balanced


def test_subsidy_education_aid_posts_expense_against_payables(books, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with transaction(books) as session:
        outcome = calculate_run(session, EXAMPLES / "education_aid.yaml", "2026-10", "alice")
        approve_run(session, outcome.run_id, "bob")
        post_run(session, outcome.run_id, "bob")
        lines = run_lines(session, outcome.run_id)
    # Every pupil's line is one of the table's amounts prorated to the month, paid to a card.
    assert len(lines) > 0 and lines["account_no"].notna().all()
    after = balances(books, "2026-10")
    assert after["514"] == int(lines["amount_fen"].sum())


def test_unknown_rule_key_is_refused_with_its_path(books, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text((EXAMPLES / "education_aid.yaml").read_text(encoding="utf-8") + "colour: red\n", encoding="utf-8")
    with pytest.raises(DisburseError, match="colour"):
        with transaction(books) as session:
            calculate_run(session, bad, "2026-10", "alice")
