"""Issue 7 end to end on a small generated county: a PV run posted and paid through the bank
(with one failure), then the 明白卡, the fund trace, the anomaly checks and the audit log."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from cli_runner import run
from runs_setup import TODAY, county, import_county, pv_rule
from sqlalchemy import select, text

from disburse.allocations.runs import approve_run, calculate_run, post_run
from disburse.audit.anomalies import review_finding, run_checks
from disburse.audit.config import AuditConfig
from disburse.audit.tables import AuditLogRow
from disburse.dev.demo.bank import write_return_file
from disburse.foundation.db import transaction
from disburse.foundation.errors import DisburseError
from disburse.importers.bank_profiles import profile_by_name
from disburse.ledger.service import add_bank_account
from disburse.payouts.payables import record_payables
from disburse.payouts.service import approve_batch, batch_by_reference, batch_instructions, export_batch, prepare_batch
from disburse.payouts.settlement import apply_return_file
from disburse.reports.fund_trace import fund_trace
from disburse.reports.household import household_statement, write_household_statement

PAY_DAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def county_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return county(tmp_path_factory.mktemp("county"))


@pytest.fixture
def paid(engine, database_url: str, county_directory: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A PV run posted, batched, exported and answered by the bank with some failures."""
    import_county(database_url, county_directory)
    with transaction(engine) as session:
        add_bank_account(session, "COUNTY", "中国农业银行", "6228480012345678901", "clerk")
        outcome = calculate_run(session, pv_rule(tmp_path, county_directory), "2026-10", "alice")
        approve_run(session, outcome.run_id, "bob")
        record_payables(session, post_run(session, outcome.run_id, "bob", today=TODAY).payables)
    with transaction(engine) as session:
        prepared = prepare_batch(session, "COUNTY", "carol", today=PAY_DAY)
        approve_batch(session, prepared.batch_reference, "dave")
        if prepared.approvals_required > 1:
            approve_batch(session, prepared.batch_reference, "erin")
        export_batch(session, prepared.batch_reference, "generic", tmp_path / "batch.csv", "carol", today=PAY_DAY)
        instructions = batch_instructions(session, batch_by_reference(session, prepared.batch_reference).id)
    decided = write_return_file(instructions, profile_by_name("generic"), tmp_path / "return.csv", 20, 3)
    with transaction(engine) as session:
        apply_return_file(session, tmp_path / "return.csv", "generic", "carol", on=PAY_DAY)
    return engine, outcome, decided


def test_household_statement_shows_paid_and_failed_and_ties_to_the_ledger(paid, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine, outcome, decided = paid
    failed = decided[decided["status"] == "failure"].iloc[0]
    succeeded = decided[decided["status"] == "success"].iloc[0]
    with transaction(engine) as session:
        bad = household_statement(session, failed["household_id"], today=TODAY)
        good = household_statement(session, succeeded["household_id"], today=TODAY)
    # The failed payment is listed once as an attempt and its money counted once, as held again.
    assert [line.amount_fen for line in bad.failures] == [int(failed["amount_fen"])]
    assert "failed" not in bad.totals_fen and bad.total_fen == int(failed["amount_fen"])
    # The failed amount is payable again (due, or held for a card fix) and the books say the same.
    assert bad.statement_outstanding_fen == int(failed["amount_fen"]) == bad.ledger_outstanding_fen
    assert bad.ties_to_ledger
    assert good.totals_fen.get("paid") == int(succeeded["amount_fen"]) and good.ledger_outstanding_fen == 0
    written = write_household_statement(bad, tmp_path / "card.csv")
    with written[0].open(encoding="utf-8-sig") as handle:
        cards = [row.split(",")[6] for row in handle.read().splitlines()[1:] if row.split(",")[6]]
    assert cards and all("*" in card for card in cards)  # card numbers masked
    sheet = openpyxl.load_workbook(write_household_statement(bad, tmp_path / "card.xlsx")[0])["明白卡"]
    texts = [str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell]
    assert bad.account_no and bad.account_no not in texts and any("*" in text for text in texts)  # masked
    html = write_household_statement(bad, tmp_path / "card.html")[0].read_text(encoding="utf-8")
    assert "惠民惠农财政补贴资金明白卡" in html and "发放失败记录" in html


def test_fund_trace_ties_from_settlements_to_households(paid) -> None:  # type: ignore[no-untyped-def]
    engine, outcome, decided = paid
    station = outcome.result.lines["source_reference"].iloc[0]  # "settlement N …": the run took this station's rows
    with transaction(engine) as session:
        station_id = session.execute(text("SELECT station_id FROM pv_settlements LIMIT 1")).scalar_one()
        trace = fund_trace(session, station_id)
        settled_fen = session.execute(
            text("SELECT sum(amount_fen) FROM pv_settlements WHERE station_id = :s"), {"s": station_id}
        ).scalar_one()
    assert station.startswith("settlement")
    assert trace.settlements_fen == settled_fen
    assert trace.all_tie, trace.ties
    lines = outcome.result.lines
    to_households = int(lines.loc[lines["payee_type"].isin(["household", "person"]), "amount_fen"].sum())
    assert int(trace.households["total_fen"].sum()) == to_households
    assert int(trace.households["paid_fen"].sum()) == int(
        decided.loc[decided["status"] == "success", "amount_fen"].sum()
    )


def test_anomalies_are_found_with_stable_ids_and_stay_reviewed(paid, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine, outcome, decided = paid
    with transaction(engine) as session:
        # Two unrelated households paid to one card: a card held by someone else.
        record_payables(
            session,
            pd.DataFrame(
                {
                    "entity_code": "COUNTY",
                    "run_id": None,
                    "source_line": [1, 2],
                    "household_id": ["H-A", "H-B"],
                    "payee_type": "household",
                    "payee_id": ["H-A", "H-B"],
                    "programme": "手工补发",
                    "fund_source": "测试",
                    "account_code": "211",
                    "amount_fen": [10_000, 20_000],
                    "account_no": "6228480099999999999",
                    "account_name": "某人",
                    "period": "2026-10",
                }
            ),
        )
    with transaction(engine) as session:
        unpaid = run_checks(session, today=TODAY, only=("shared_bank_account",))
        prepared = prepare_batch(session, "COUNTY", "carol", programme="手工补发", today=PAY_DAY)
        approve_batch(session, prepared.batch_reference, "dave")
        export_batch(session, prepared.batch_reference, "generic", tmp_path / "extra.csv", "carol", today=PAY_DAY)
        instructions = batch_instructions(session, batch_by_reference(session, prepared.batch_reference).id)
    # Owed to one card is not yet paid to it: the check reads the account actually paid.
    assert unpaid.findings["shared_bank_account"] == []
    write_return_file(instructions, profile_by_name("generic"), tmp_path / "extra-return.csv", 0, 3)
    with transaction(engine) as session:
        apply_return_file(session, tmp_path / "extra-return.csv", "generic", "carol", on=PAY_DAY)
    strict = AuditConfig.model_validate({"pv_household_share": {"max_percent": 50}})
    with transaction(engine) as session:
        first = run_checks(session, today=TODAY)
        again = run_checks(session, today=TODAY)
        tight = run_checks(session, today=TODAY, config=strict, only=("pv_household_share",))
        idle = run_checks(session, today=TODAY + dt.timedelta(days=400), only=("money_idle",))
    shared = first.findings["shared_bank_account"]
    assert len(shared) == 1 and "2 households" in shared[0].finding.summary
    assert "622848*********9999" in shared[0].finding.summary and "6228480099999999999" not in shared[0].finding.summary
    assert [f.finding.finding_id for f in shared] == [
        f.finding.finding_id for f in again.findings["shared_bank_account"]
    ]
    # The example rule gives households 70% of the distributable revenue: fine at 70%, a finding at 50%.
    assert first.findings["pv_household_share"] == [] and len(tight.findings["pv_household_share"]) == 1
    # 400 days later every payment that failed is money left idle (365 days by default).
    failed = int((decided["status"] == "failure").sum())
    assert failed and len([f for f in idle.findings["money_idle"] if f.finding.kind == "payable"]) >= failed
    with transaction(engine) as session:
        message = review_finding(session, shared[0].finding.finding_id, "不属实", "两户为同一代理人，已核实", "auditor")
        with pytest.raises(DisburseError, match="note"):
            review_finding(session, shared[0].finding.finding_id, "属实", " ", "auditor")
        with pytest.raises(DisburseError, match="disposition"):
            review_finding(session, shared[0].finding.finding_id, "可疑", "note", "auditor")
    assert "reviewed 不属实 by auditor" in message
    with transaction(engine) as session:
        after = run_checks(session, today=TODAY)
    assert after.open_findings("shared_bank_account") == [] and after.reviewed_hidden == 1
    assert after.findings["shared_bank_account"][0].review.disposition == "不属实"


def test_audit_log_records_commands_and_refusals_with_input_hashes(database_url: str, engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.csv"
    good.write_text(
        "凭证号,日期,摘要,科目编码,借方金额,贷方金额\n1,2026-10-05,电费,102,10.00,\n1,2026-10-05,电费,501,,10.00\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "凭证号,日期,摘要,科目编码,借方金额,贷方金额\n1,2026-10-05,电费,102,10.00,\n1,2026-10-05,电费,501,,9.99\n",
        encoding="utf-8",
    )
    assert run(database_url, "journal", "post", str(bad), "--entity", "COUNTY", user="alice").exit_code == 1
    assert run(database_url, "journal", "post", str(good), "--entity", "COUNTY", user="bob").exit_code == 0
    assert (
        run(database_url, "journal", "show", "--entity", "COUNTY", "--period", "2026-10").exit_code == 0
    )  # reads only
    with transaction(engine) as session:
        rows = session.scalars(select(AuditLogRow).order_by(AuditLogRow.id)).all()
    assert [(row.command, row.user, row.outcome) for row in rows] == [
        ("journal post", "alice", "refused"),
        ("journal post", "bob", "ok"),
    ]
    import hashlib

    assert json.loads(rows[0].input_hashes) == {str(bad): hashlib.sha256(bad.read_bytes()).hexdigest()}
    assert "postings sum to 0.01, not 0" in rows[0].message
    shown = run(database_url, "audit", "log")
    assert "journal post" in shown.stdout and "refused" in shown.stdout and "bad.csv" in shown.stdout
