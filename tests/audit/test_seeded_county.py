"""Issue 18 end to end: a county seeded with every anomaly national audits found and the
near-misses that must stay quiet, built into a month of books through the engine, and every
check scored on it over three seeds (and once on PostgreSQL when it is available).

Done when: every planted anomaly is found by each check that must find it, no near-miss is
flagged, no check raises a finding that was not planted (precision 100%), running the checks
twice gives the same ids, reviews survive and a finding comes back when its evidence changes.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from database_support import PG_URL, pg_drop_database
from seeded_books import private_copy, seeded_month

from disburse.audit.anomalies import CHECKS, review_finding, run_checks
from disburse.audit.model import STATUS_CHANGED, STATUS_REVIEWED
from disburse.audit.scoring import score, score_lines
from disburse.dev.audit_month import DATES, MANIFEST_NAME
from disburse.foundation.db import make_engine, transaction
from disburse.foundation.frames import query_frame
from disburse.ledger.model import EntryBatch, EntryDraft, PostingDraft
from disburse.ledger.posting import post_entries

pytestmark = pytest.mark.slow
HOUSEHOLDS = 200
CASES = [("sqlite", 1), ("sqlite", 2), ("sqlite", 3), ("postgresql", 1)]
TODAY = DATES.checks_on


@dataclass(frozen=True)
class SeededBooks:
    url: str
    county: Path
    manifest: dict


@pytest.fixture(params=CASES, ids=[f"{backend}-seed{seed}" for backend, seed in CASES])
def seeded(request, tmp_path, tmp_path_factory, sqlite_template, pg_template):  # type: ignore[no-untyped-def]
    """A private copy of a seeded county's month: the tests review findings and post entries."""
    backend, seed = request.param
    if backend == "postgresql" and not PG_URL:
        pytest.skip("DISBURSE_TEST_PG_URL is not set")
    county, shared_url = seeded_month(backend, seed, HOUSEHOLDS, tmp_path_factory, sqlite_template, pg_template)
    manifest = json.loads((county / MANIFEST_NAME).read_text(encoding="utf-8"))
    url = private_copy(shared_url, tmp_path)
    yield SeededBooks(url, county, manifest)
    if backend == "postgresql":
        pg_drop_database(url)


def checks_of(url: str, **options):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            return run_checks(session, today=TODAY, **options)
    finally:
        engine.dispose()


def test_every_planted_anomaly_is_found_and_no_near_miss_is_flagged(seeded: SeededBooks) -> None:
    report = checks_of(seeded.url)
    scores = score(report, seeded.manifest)
    print("\n".join(score_lines(scores)))
    planted_checks = {check for anomaly in seeded.manifest["anomalies"] for check in anomaly["checks"]}
    # Every check has something planted for it.
    assert planted_checks == {check.check_id for check in CHECKS}
    for result in scores.values():
        missed = [anomaly for anomaly in result.planted if anomaly not in result.found]
        assert missed == [], f"{result.check} missed {missed}"
        assert result.recall == 1.0
        assert result.flagged_near_misses == [], f"{result.check} flagged {result.flagged_near_misses}"
        assert result.false_findings == [], f"{result.check}: {result.false_findings}"
        assert result.precision == 1.0


def test_running_the_checks_twice_gives_the_same_ids(seeded: SeededBooks) -> None:
    first, second = checks_of(seeded.url), checks_of(seeded.url)
    for check in CHECKS:
        ids = [shown.finding.finding_id for shown in first.findings[check.check_id]]
        assert ids == [shown.finding.finding_id for shown in second.findings[check.check_id]]
        assert len(ids) == len(set(ids))
        digests = [shown.finding.evidence_digest for shown in first.findings[check.check_id]]
        assert digests == [shown.finding.evidence_digest for shown in second.findings[check.check_id]]


def test_reviews_survive_and_a_finding_whose_evidence_changes_comes_back(seeded: SeededBooks) -> None:
    engine = make_engine(seeded.url)
    fund = next(a for a in seeded.manifest["anomalies"] if a["kind"] == "money_idle.fund")["subjects"][0].split(":", 1)[
        1
    ]
    try:
        report = checks_of(seeded.url)
        chosen = {check_id: found[0].finding for check_id, found in report.findings.items()}
        chosen["money_idle"] = next(s.finding for s in report.findings["money_idle"] if s.finding.kind == "fund")
        with transaction(engine) as session:
            for check_id, finding in chosen.items():
                message = review_finding(
                    session, finding.finding_id, "属实", f"核实 {check_id}", "县审计局-孙审计", today=TODAY
                )
                assert "reviewed 属实" in message
            again = review_finding(
                session, chosen["money_idle"].finding_id, "属实", "再次核实", "县审计局-孙审计", today=TODAY
            )
        assert "nothing changed" in again
        reviewed = checks_of(seeded.url)
        for check_id, finding in chosen.items():
            shown = next(s for s in reviewed.findings[check_id] if s.finding.finding_id == finding.finding_id)
            assert shown.status == STATUS_REVIEWED and shown.review.reviewed_by == "县审计局-孙审计"
        # The county pays 100,000.00 yuan out of the idle fund: the idle amount changes, so the
        # finding (the same id) is shown again as changed, its old review still attached.
        idle = chosen["money_idle"]
        with transaction(engine) as session:
            post_entries(
                session,
                EntryBatch.from_drafts(
                    [
                        EntryDraft(
                            "COUNTY",
                            "2026-11",
                            dt.date(2026, 11, 28),
                            f"拨付{fund}",
                            (
                                PostingDraft("241", 10_000_000, fund_source=fund),
                                PostingDraft("102.01", -10_000_000, fund_source=fund),
                            ),
                        )
                    ]
                ),  # fmt: skip
                idempotency_key="test:fund-paid-out",
                user="县财政局-张会计",
            )
        changed = checks_of(seeded.url)
        shown = next(s for s in changed.findings["money_idle"] if s.finding.finding_id == idle.finding_id)
        assert shown.finding.amount_fen == idle.amount_fen - 10_000_000
        assert shown.status == STATUS_CHANGED and shown.review.disposition == "属实"
        with transaction(engine) as session:
            message = review_finding(
                session, idle.finding_id, "已整改", "已拨付 10 万元", "县审计局-孙审计", today=TODAY
            )
        assert "reviewed 已整改" in message
        final = checks_of(seeded.url)
        assert (
            next(s for s in final.findings["money_idle"] if s.finding.finding_id == idle.finding_id).status
            == STATUS_REVIEWED
        )
    finally:
        engine.dispose()


def test_the_findings_workbook_masks_resident_ids_and_card_numbers(seeded: SeededBooks, tmp_path: Path) -> None:
    from disburse.audit.anomalies import write_findings

    report = checks_of(seeded.url)
    [path] = write_findings(report, tmp_path / "异常检查.xlsx")
    engine = make_engine(seeded.url)
    try:
        with transaction(engine) as session:
            cards = set(query_frame(session, "SELECT DISTINCT account_no FROM payment_instructions")["account_no"])
            people = set(query_frame(session, "SELECT DISTINCT id_number FROM person_versions")["id_number"])
    finally:
        engine.dispose()
    workbook = openpyxl.load_workbook(path, read_only=True)
    assert workbook.sheetnames == ["汇总", "发现", "证据"]
    cells = [
        str(cell) for sheet in workbook for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None
    ]
    text = "\n".join(cells)
    assert sum(len(list(sheet.iter_rows())) for sheet in workbook) > 40
    leaked = sorted(number for number in cards | people if number in text)
    assert leaked == []
    assert "*" in text  # the masked forms are there


def test_the_commands_run_the_checks_review_and_score(seeded: SeededBooks, tmp_path: Path) -> None:
    from cli_runner import run

    if not seeded.url.startswith("sqlite"):
        pytest.skip("the command run once, on SQLite")
    listing = run(seeded.url, "audit", "anomalies", "--all", "--today", str(TODAY), "--out", str(tmp_path / "f.xlsx"))
    assert listing.exit_code == 0, listing.output
    assert "A06 paid_twice 重复发放" in listing.stdout and (tmp_path / "f.xlsx").exists()
    finding = next(line.split()[0] for line in listing.stdout.splitlines() if line.strip().startswith("A16-"))
    refused = run(seeded.url, "audit", "review", finding, "--disposition", "可疑", "--note", "x", "--today", str(TODAY))
    assert refused.exit_code == 1 and "属实" in refused.output
    reviewed = run(seeded.url, "audit", "review", finding, "--disposition", "不属实", "--note", "一卡两户，已追回",
                   "--today", str(TODAY), user="auditor")  # fmt: skip
    assert reviewed.exit_code == 0 and "reviewed 不属实 by auditor" in reviewed.stdout
    history = run(seeded.url, "audit", "reviews", finding)
    assert "一卡两户，已追回" in history.stdout and "auditor" in history.stdout
    again = run(seeded.url, "audit", "anomalies", "--today", str(TODAY), "--check", "shared_bank_account")
    assert finding not in again.stdout and "reviewed on the same evidence not listed" in again.stdout
    scored = run(seeded.url, "audit", "score", str(seeded.county / "anomalies.json"))
    assert scored.exit_code == 0 and "not planted" not in scored.stdout and "did not find" not in scored.stdout
    checks = run(seeded.url, "audit", "checks")
    assert "A10" in checks.stdout and "公益岗位工资回流" in checks.stdout and "tolerance_percent" in checks.stdout
    fresh = run(seeded.url, "audit", "build-month", str(seeded.county))
    assert fresh.exit_code == 1 and "fresh database" in fresh.output
