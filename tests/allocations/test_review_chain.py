"""Issue 14 item 3: a review chain for allocation runs, worked by hand through the installed
`disburse` command (its Typer app, in-process; every command's own process is checked in
tests/cli/test_every_command_fresh_process.py) on SQLite and PostgreSQL.

The tiny county (tiny_county.py) has three 一般贫困户 households: H1 with 3 people, H2 and H3 with
1 each, 5 people in all. A subsidy of 50.00 a person a month pays 5 × 50.00 = 250.00; one of
40.00 pays 5 × 40.00 = 200.00. The chain is 村 → 乡镇 → 县主管部门 (above 200.00) → 财政终审, so the
250.00 run needs all four levels (250.00 > 200.00) and the 200.00 run skips 县主管部门 (200.00 is
not above 200.00): three levels.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import run
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from tiny_county import import_tiny_county, write_files

from disburse.allocations.review_chain import ReviewChain, chain_progress, review_chain_of
from disburse.allocations.rules import RuleError, load_rule
from disburse.foundation.db import make_engine, read_transaction

CHAIN = """review:
  levels:
    - {level: 村}
    - {level: 乡镇}
    - {level: 县主管部门, above_yuan: "200"}
    - {level: 财政终审}
"""
RULE = """kind: subsidy
name: {name}
programme: living_aid
paying_entity: COUNTY
fund_source: 生活补助资金
expense_account_code: "514"
{review}population:
  - {{field: household.household_type, op: eq, value: 一般贫困户}}
basis:
  type: attribute_table
  counted_per: person
  paid_to: household
  amount_per: month
  entries:
    - label: 生活补助
      amount_yuan: "{amount}"
      when: [{{field: household.household_type, op: eq, value: 一般贫困户}}]
"""


def rule_file(directory: Path, amount: str, review: str = CHAIN, name: str = "2026年10月生活补助") -> Path:
    path = directory / f"rule-{amount}-{abs(hash(review))}.yaml"
    path.write_text(RULE.format(name=name, review=review, amount=amount), encoding="utf-8")
    return path


def said(ran) -> str:  # type: ignore[no-untyped-def]
    """What a command printed, with rich's line wrapping undone."""
    return " ".join(ran.output.split())


def refused(ran, *parts: str) -> None:  # type: ignore[no-untyped-def]
    assert ran.exit_code == 1, ran.output
    assert "Traceback" not in ran.output
    for part in parts:
        assert part in said(ran), said(ran)


def ok(ran) -> str:  # type: ignore[no-untyped-def]
    assert ran.exit_code == 0, ran.output
    return said(ran)


def scalar(url: str, sql: str):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    try:
        with read_transaction(engine) as session:
            return session.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture
def county(database_url: str, tmp_path: Path) -> str:
    import_tiny_county(database_url, write_files(tmp_path / "county"))
    return database_url


def test_levels_approve_in_order_and_the_last_one_approves_the_run(county: str, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DISBURSE_LANG", "zh")  # what the users read
    url = county
    ok(run(url, "allocate", str(rule_file(tmp_path, "50")), "--period", "2026-10", user="alice"))
    assert scalar(url, "SELECT payable_fen FROM allocation_runs WHERE id = 1") == 25_000  # 5 × 50.00

    refused(run(url, "runs", "approve", "1", user="bob"), "须逐级审核", "--level 村")
    refused(run(url, "runs", "approve", "1", "--level", "乡镇", user="bob"), "待 村 审核", "按顺序")
    refused(run(url, "runs", "approve", "1", "--level", "村", user="alice"), "由 alice 计算")
    assert "现待 乡镇 审核" in ok(
        run(url, "runs", "approve", "1", "--level", "村", "--comment", "已核对花名册", user="bob")
    )
    refused(run(url, "runs", "approve", "1", "--level", "乡镇", user="bob"), "只能审核一级")
    ok(run(url, "runs", "approve", "1", "--level", "乡镇", user="carol"))
    refused(run(url, "runs", "post", "1", user="carol"), "须经另一人审核通过")
    # 250.00 is above 200.00: 县主管部门 is required before 财政终审.
    refused(run(url, "runs", "approve", "1", "--level", "财政终审", user="erin"), "待 县主管部门 审核")
    ok(run(url, "runs", "approve", "1", "--level", "县主管部门", user="dave"))
    assert "最后一级" in ok(run(url, "runs", "approve", "1", "--level", "财政终审", user="erin"))
    assert scalar(url, "SELECT status || ' ' || approved_by FROM allocation_runs WHERE id = 1") == "approved erin"
    ok(run(url, "runs", "post", "1", user="erin"))

    shown = ok(run(url, "runs", "show", "1"))
    assert "审核链：村 → 乡镇 → 县主管部门 → 财政终审" in shown
    for line in (
        "村：bob 已审核 — 已核对花名册",
        "乡镇：carol 已审核",
        "县主管部门：dave 已审核",
        "财政终审：erin 已审核",
    ):
        assert line in shown
    assert "待" not in shown.split("审核链")[1].split("分配方案 sha256")[0]


def test_a_small_run_skips_the_level_its_amount_does_not_exceed_and_a_return_cancels(
    county: str, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DISBURSE_LANG", "zh")
    url = county
    small = rule_file(tmp_path, "40")
    ok(run(url, "allocate", str(small), "--period", "2026-10", user="alice"))
    assert scalar(url, "SELECT payable_fen FROM allocation_runs WHERE id = 1") == 20_000  # 5 × 40.00
    ok(run(url, "runs", "approve", "1", "--level", "村", user="bob"))
    assert "现待 财政终审 审核" in ok(run(url, "runs", "approve", "1", "--level", "乡镇", user="carol"))
    refused(
        run(url, "runs", "approve", "1", "--level", "县主管部门", user="dave"),
        "无需 县主管部门 级审核：应付合计 200.00 未超过 200.00",
    )
    blank = run(url, "runs", "return", "1", "--level", "财政终审", "--comment", " ", user="erin")
    refused(blank, "须写明意见")
    returned = run(url, "runs", "return", "1", "--level", "财政终审", "--comment", "缺村委会盖章", user="erin")
    assert "已撤销" in ok(returned)
    shown = ok(run(url, "runs", "show", "1"))
    assert "县主管部门（此金额无需此级）" in shown and "财政终审：erin 已退回 — 缺村委会盖章" in shown
    assert scalar(url, "SELECT status FROM allocation_runs WHERE id = 1") == "cancelled"
    # The web's list of returns shows it to the maker too.
    assert scalar(url, "SELECT comment FROM review_decisions WHERE decision = 'returned'") == "缺村委会盖章"

    # The corrected run (the same inputs compute again: the cancelled run's key was freed)
    # climbs from the first level; erin, who returned run 1, may act on run 2.
    ok(run(url, "allocate", str(small), "--period", "2026-10", user="alice"))
    refused(run(url, "runs", "approve", "2", "--level", "财政终审", user="erin"), "待 村 审核")
    ok(run(url, "runs", "approve", "2", "--level", "村", user="erin"))


def test_a_rule_without_a_chain_keeps_the_single_approval(county: str, tmp_path: Path) -> None:
    url = county
    ok(run(url, "allocate", str(rule_file(tmp_path, "50", review="")), "--period", "2026-10"))
    refused(run(url, "runs", "approve", "1", "--level", "村", user="bob"), "has no review chain")
    assert "run 1 approved by bob" in ok(run(url, "runs", "approve", "1", user="bob"))
    assert scalar(url, "SELECT count(*) FROM allocation_reviews") == 0


def test_a_chained_run_cannot_be_approved_by_the_single_approval(county: str, tmp_path: Path) -> None:
    from disburse.allocations.runs import approve_run
    from disburse.foundation.db import transaction
    from disburse.foundation.errors import DisburseError

    ok(run(county, "allocate", str(rule_file(tmp_path, "50")), "--period", "2026-10"))
    engine = make_engine(county)
    try:
        with pytest.raises(DisburseError, match="level by level"):
            with transaction(engine) as session:
                approve_run(session, 1, "bob")
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("review", "problem"),
    [
        ('review:\n  levels:\n    - {level: 乡镇, above_yuan: "10"}\n', "at least one review level has no above_yuan"),
        ("review:\n  levels:\n    - {level: 村}\n    - {level: 村}\n", "named twice: 村"),
        ("review:\n  levels:\n    - {level: 村, above_yuan: 100.5}\n", "above_yuan"),
        ("review:\n  levels: []\n", "review.levels"),
        ("review:\n  levels:\n    - {level: 村, who: x}\n", "who"),
    ],
)
def test_a_bad_chain_is_refused_when_the_rule_loads(tmp_path: Path, review: str, problem: str) -> None:
    with pytest.raises(RuleError) as raised:
        load_rule(rule_file(tmp_path, "50", review=review))
    assert problem in str(raised.value)


def test_the_chain_is_read_from_the_stored_rule_text() -> None:
    chain = review_chain_of(RULE.format(name="x", review=CHAIN, amount="1"))
    assert chain is not None and chain.names == ("村", "乡镇", "县主管部门", "财政终审")
    assert chain.levels[2].above_yuan == 20_000  # "200" yuan in fen
    assert review_chain_of(RULE.format(name="x", review="", amount="1")) is None


LEVEL_NAMES = ("村", "乡镇", "县主管部门", "财政终审", "复核")


@given(
    thresholds=st.lists(st.one_of(st.none(), st.integers(0, 10_000)), min_size=1, max_size=5),
    payable_fen=st.integers(0, 20_000),
)
def test_approving_the_pending_level_each_time_completes_after_exactly_the_required_levels(
    thresholds: list[int | None], payable_fen: int
) -> None:
    if all(threshold is not None for threshold in thresholds):
        thresholds[-1] = None
    chain = ReviewChain.model_validate(
        {
            "levels": [
                {"level": LEVEL_NAMES[i], **({} if t is None else {"above_yuan": str(t)})}
                for i, t in enumerate(thresholds)
            ]
        }
    )
    # A level is required exactly when it has no threshold or the run's total is above it (yuan → fen × 100).
    expected = [LEVEL_NAMES[i] for i, t in enumerate(thresholds) if t is None or payable_fen > t * 100]
    actions: list[tuple[str, str]] = []
    taken = []
    while (pending := chain_progress(chain, payable_fen, actions).pending) is not None:
        taken.append(pending.level)
        actions.append((pending.level, "approved"))
        assert len(taken) <= len(thresholds)
    assert taken == expected and chain_progress(chain, payable_fen, actions).complete
    assert chain_progress(chain, payable_fen, [*actions[:1], (expected[0], "returned")]).pending is None


def test_two_reviewers_acting_at_once_one_passes_and_the_other_is_told(
    county: str, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """carol's approval checked the chain before bob's approval of the same level committed (the
    stale state stands in for that moment): the unique key refuses hers, with a message."""
    from disburse.allocations import run_review
    from disburse.allocations.runs import run_row
    from disburse.foundation.db import transaction
    from disburse.foundation.errors import DisburseError

    ok(run(county, "allocate", str(rule_file(tmp_path, "50")), "--period", "2026-10"))
    engine = make_engine(county)
    try:
        with transaction(engine) as session:
            stale = run_review.review_state(session, run_row(session, 1))
        ok(run(county, "runs", "approve", "1", "--level", "村", user="bob"))
        monkeypatch.setattr(run_review, "review_state", lambda session, run: stale)
        with pytest.raises(DisburseError, match="at the same moment"):
            with transaction(engine) as session:
                run_review.approve_at_level(session, 1, "carol", "村")
    finally:
        engine.dispose()
    assert scalar(county, "SELECT count(*) FROM allocation_reviews") == 1
