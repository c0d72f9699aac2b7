"""Worked examples of the pieces the checks stand on, computed by hand: money idle counted oldest
credit first, clusters of payments just under a threshold, which rules stop on exit, stable ids
and evidence digests, review states, the thresholds file, the migration of old reviews, and the
audit log's dry runs and filters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from cli_runner import run
from sqlalchemy import text

from disburse.allocations.rules import EXAMPLES_DIRECTORY, load_rule
from disburse.audit.anomalies import CHECKS_BY_ID, review_state, run_checks
from disburse.audit.checks_payments import _clusters
from disburse.audit.checks_people import _exit_filters, _status_passes, stops_on_exit
from disburse.audit.config import AuditConfig, load_config
from disburse.audit.model import Evidence, Review
from disburse.foundation.db import make_engine, transaction
from disburse.foundation.errors import DisburseError
from disburse.ledger.model import EntryBatch, EntryDraft, PostingDraft
from disburse.ledger.posting import post_entries
from disburse.schema import migrate as schema

FUND = "2025年衔接资金"


def _entry(on: dt.date, amount_fen: int, memo: str) -> EntryDraft:
    """+amount: money credited to the fund (Dr 101 / Cr 241); -amount: paid out of it."""
    return EntryDraft(
        "COUNTY",
        f"{on:%Y-%m}",
        on,
        memo,
        (PostingDraft("101", amount_fen, fund_source=FUND), PostingDraft("241", -amount_fen, fund_source=FUND)),
    )


def test_money_idle_counts_a_fund_oldest_credit_first(engine) -> None:  # type: ignore[no-untyped-def]
    # Credited 100.00 on 2025-01-10 and 50.00 on 2025-06-01; 120.00 paid out on 2026-01-15. Oldest
    # first, the payment uses all of the 100.00 and 20.00 of the 50.00: 30.00 of the June credit
    # is unspent. On 2026-07-01 (365 days: before 2025-07-01 is idle) that 30.00 is idle; on
    # 2026-05-01 the June credit is not a year old yet.
    with transaction(engine) as session:
        post_entries(
            session,
            EntryBatch.from_drafts(
                [
                    _entry(dt.date(2025, 1, 10), 10_000, "收到"),
                    _entry(dt.date(2025, 6, 1), 5_000, "收到"),
                    _entry(dt.date(2026, 1, 15), -12_000, "拨付"),
                ]
            ),
            idempotency_key="test:fund",
            user="clerk",
        )
    with transaction(engine) as session:
        late = run_checks(session, today=dt.date(2026, 7, 1), only=("money_idle",)).findings["money_idle"]
        early = run_checks(session, today=dt.date(2026, 5, 1), only=("money_idle",)).findings["money_idle"]
    assert [(shown.finding.kind, shown.finding.amount_fen) for shown in late] == [("fund", 3_000)]
    assert (
        "30.00 yuan credited before 2025-07-01 is still not paid out (120.00 yuan paid out" in late[0].finding.summary
    )
    assert [row.amount_fen for row in late[0].finding.rows] == [3_000]
    assert early == []


def test_clusters_are_runs_within_the_window_of_their_first_day() -> None:
    days = [dt.date(2026, 11, day) for day in (1, 3, 9, 20, 21)]
    frame = pd.DataFrame({"on": days, "reference": [f"B{day.day}" for day in days]})
    clusters = _clusters(frame, window_days=7, count_min=2)
    # 11-09 is eight days after 11-01: it starts a cluster of its own, too small to count.
    assert [cluster["reference"].tolist() for cluster in clusters] == [["B1", "B3"], ["B20", "B21"]]


@pytest.mark.parametrize(
    ("example", "stops"),
    [
        ("education_aid.yaml", True),
        ("medical_topup.yaml", True),
        ("dibao.yaml", False),
        ("forest_ranger.yaml", False),
        ("pv_revenue.yaml", False),
        ("coop_dividend.yaml", True),
    ],
)
def test_which_example_rules_stop_on_exit(example: str, stops: bool) -> None:
    assert stops_on_exit(load_rule(EXAMPLES_DIRECTORY / example)) is stops


def test_a_subsidy_filter_decides_who_is_still_eligible() -> None:
    filters = _exit_filters(load_rule(EXAMPLES_DIRECTORY / "education_aid.yaml"))
    assert [_status_passes(filters, status) for status in ("未脱贫", "返贫", "监测对象", "已脱贫")] == [
        True,
        True,
        True,
        False,
    ]


def test_ids_follow_what_was_found_and_digests_follow_the_evidence() -> None:
    check = CHECKS_BY_ID["paid_twice"]
    row = Evidence("payable", "payable 7", dt.date(2026, 10, 31), 33_000, "6228480012345678901", "张三", "H1", None, "")
    first = check.finding("benefit", ("H1", "dibao", "2026-10"), "H1 twice", "once", ["household:H1"], [row], 66_000)
    reworded = check.finding(
        "benefit", ("H1", "dibao", "2026-10"), "H1 is owed twice", "once", ["household:H1"], [row], 66_000
    )
    more = check.finding(
        "benefit", ("H1", "dibao", "2026-10"), "H1 twice", "once", ["household:H1"], [row, row], 99_000
    )
    other = check.finding("benefit", ("H2", "dibao", "2026-10"), "H2 twice", "once", ["household:H2"], [row], 66_000)
    assert first.finding_id.startswith("A06-") and len(first.finding_id) == 20
    assert first.finding_id == reworded.finding_id == more.finding_id != other.finding_id
    assert first.evidence_digest == reworded.evidence_digest != more.evidence_digest
    seen = Review(
        first.finding_id, "paid_twice", "属实", "核实", first.evidence_digest, "auditor", dt.datetime(2026, 12, 1)
    )
    old = Review(first.finding_id, "paid_twice", None, "已复核", None, "auditor", dt.datetime(2026, 1, 1))
    assert review_state(first, None) == "new"
    assert (review_state(first, seen), review_state(more, seen), review_state(more, old)) == (
        "reviewed",
        "changed",
        "reviewed",
    )


def test_the_shipped_thresholds_are_the_defaults_and_a_broken_file_is_refused(tmp_path: Path) -> None:
    assert load_config() == AuditConfig()
    assert load_config().money_idle.days == 365 and load_config().payee_not_beneficiary.large_payment_fen == 1_000_000
    broken = tmp_path / "audit.yaml"
    for content, reason in (
        ("money_idle: {days: 0}\n", "money_idle"),
        ("unknown_check: {}\n", "unknown_check"),
        ("dividend_below_floor: {floor_percent: five}\n", "percentage"),
        ("above_norm: {floor_yuan: 1000.5}\n", "above_norm.floor_yuan: should be text"),
        ("money_idle: [\n", "not YAML"),
    ):
        broken.write_text(content, encoding="utf-8")
        with pytest.raises(DisburseError, match=reason):
            load_config(broken)


def test_old_reviews_are_kept_by_the_migration_and_come_back_on_downgrade(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        schema.migrate(engine, "0008")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO finding_reviews (finding_id, check_name, note, reviewed_by, reviewed_at) "
                    "VALUES ('F-0123456789abcdef', 'paid_twice', '已核实', 'auditor', '2026-11-30 10:00:00')"
                )
            )
        schema.migrate(engine)
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT finding_id, check_name, disposition, note, evidence_digest, reviewed_by FROM "
                    "audit_finding_reviews"
                )
            ).all()
            dry = connection.execute(text("SELECT count(*) FROM audit_log WHERE dry_run")).scalar_one()
        assert [tuple(row) for row in rows] == [("F-0123456789abcdef", "paid_twice", None, "已核实", None, "auditor")]
        assert dry == 0
        schema.migrate(engine, "0008", downgrade=True)
        with engine.connect() as connection:
            back = connection.execute(text("SELECT finding_id, note FROM finding_reviews")).all()
        assert [tuple(row) for row in back] == [("F-0123456789abcdef", "已核实")]
    finally:
        engine.dispose()


def test_the_audit_log_shows_dry_runs_as_dry_runs_and_filters(database_url: str, tmp_path: Path) -> None:
    from disburse.dev.generator import generate_county

    county = generate_county(tmp_path / "county", 50, 3)
    register = str(county.register_paths[0])
    assert run(database_url, "import", "registry", register, "--as-of", "2026-08-31", "--dry-run").exit_code == 0
    assert run(database_url, "import", "registry", register, "--as-of", "2026-08-31", user="bob").exit_code == 0
    refused = run(database_url, "payout", "fix-account", "6110021012010001", "6228480012345678901")
    assert refused.exit_code == 1
    dry = run(database_url, "audit", "log", "--dry-runs")
    assert dry.stdout.count("dry run") == 1 and "import registry" in dry.stdout and "payout" not in dry.stdout
    changes = run(database_url, "audit", "log", "--changes")
    assert (
        "dry run" not in changes.stdout
        and changes.stdout.count("import registry") == 1
        and "payout fix-account" in changes.stdout
    )
    by_bob = run(database_url, "audit", "log", "--by", "bob")
    assert "bob" in by_bob.stdout and "alice" not in by_bob.stdout and "1 entry" in by_bob.stdout
    payouts = run(database_url, "audit", "log", "--command", "payout", "--outcome", "refused")
    assert "payout fix-account" in payouts.stdout and "import registry" not in payouts.stdout
    # The card number typed on the command line is masked; the household id is not.
    assert "622848*********8901" in payouts.stdout and "6228480012345678901" not in payouts.stdout
    assert "6110021012010001" in payouts.stdout
    today = dt.datetime.now(dt.timezone.utc).date()
    dated = run(database_url, "audit", "log", "--since", str(today), "--until", str(today))
    assert "3 entries" in dated.stdout
    before = run(database_url, "audit", "log", "--until", str(today - dt.timedelta(days=1)))
    assert "0 entries" in before.stdout
    wrong = run(database_url, "audit", "log", "--since", "yesterday")
    assert wrong.exit_code == 1 and "not a date" in wrong.output


def test_every_check_runs_on_books_with_nothing_in_them(database_url: str) -> None:
    listing = run(database_url, "audit", "anomalies")
    assert listing.exit_code == 0, listing.output
    assert "A19" in listing.stdout and "A19-" not in listing.stdout
    wrong = run(database_url, "audit", "anomalies", "--period", "2026/10")
    assert wrong.exit_code == 1 and "YYYY-MM" in wrong.output
