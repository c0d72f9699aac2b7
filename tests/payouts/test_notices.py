"""公示 before payment (issue 14 item 2), worked by hand through the commands on both engines.

The tiny county (tests/allocations/tiny_county.py) has three 一般贫困户 households: H1 (罗口村,
户主 王一 and two pupils: 3 people), H2 (罗口村, 李一: 1) and H3 (东村, 张一: 1). A subsidy of
50.00 a person a month for 2026-10 owes H1 150.00, H2 50.00 and H3 50.00: the 罗口村 notice
totals 200.00, the 东村 notice 50.00, 250.00 in all. The notice runs 7 days from 2026-11-01, so
its last day is 2026-11-07 and a batch can be prepared on 2026-11-08, not before.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).parents[1] / "allocations"))
from cli_runner import run, run_script  # noqa: E402
from tiny_county import H1, H2, H3, VILLAGE_1, VILLAGE_2, import_tiny_county, write_files  # noqa: E402

from disburse.payouts.notices import mask_name, notice_requirement  # noqa: E402

RULE = """kind: subsidy
name: 2026年10月生活补助
programme: living_aid
paying_entity: COUNTY
fund_source: 生活补助资金
expense_account_code: "514"
{notice}population:
  - {{field: household.household_type, op: eq, value: 一般贫困户}}
basis:
  type: attribute_table
  counted_per: person
  paid_to: household
  amount_per: month
  entries:
    - {{label: 生活补助, amount_yuan: "50", when: [{{field: household.household_type, op: eq, value: 一般贫困户}}]}}
"""


def posted_run(database_url: str, tmp_path: Path, notice: str = "notice: {days: 7}\n", command=run) -> None:  # type: ignore[no-untyped-def]
    """Run 1 of the rule, approved and posted by bob (alice made it)."""
    import_tiny_county(database_url, write_files(tmp_path / "county"))
    rule = tmp_path / "rule.yaml"
    rule.write_text(RULE.format(notice=notice), encoding="utf-8")
    assert command(database_url, "allocate", str(rule), "--period", "2026-10").exit_code == 0
    assert command(database_url, "runs", "approve", "1", user="bob").exit_code == 0
    assert command(database_url, "runs", "post", "1", user="bob").exit_code == 0


def said(ran) -> str:  # type: ignore[no-untyped-def]
    """What a command printed, with rich's line wrapping undone."""
    return " ".join(ran.output.split())


def prepare(database_url: str, day: str):  # type: ignore[no-untyped-def]
    return run(database_url, "payout", "prepare", "--entity", "COUNTY", "--date", day, user="carol")


def test_names_are_masked_first_and_last_kept() -> None:
    assert [mask_name(name) for name in ("王小明", "欧阳小明", "王明", "王", "", None)] == [
        "王*明",
        "欧**明",
        "王*",
        "王",
        "",
        "",
    ]


def test_notice_is_opt_in_and_a_rule_without_it_records_why() -> None:
    assert notice_requirement(RULE.format(notice="")).required is False
    assert notice_requirement(RULE.format(notice="notice: {days: 10}\n")).days == 10
    waived = notice_requirement(RULE.format(notice='notice: {required: false, reason: "按月发放的护林员工资"}\n'))
    assert (waived.required, waived.reason) == (False, "按月发放的护林员工资")


def test_a_rule_that_waives_notice_without_a_reason_is_refused(database_url: str, tmp_path: Path) -> None:
    rule = tmp_path / "rule.yaml"
    rule.write_text(RULE.format(notice="notice: {required: false}\n"), encoding="utf-8")
    refused = run(database_url, "allocate", str(rule), "--period", "2026-10")
    assert refused.exit_code == 1 and "says why in reason" in refused.output


def test_without_notice_key_a_batch_is_prepared_at_once(database_url: str, tmp_path: Path) -> None:
    posted_run(database_url, tmp_path, notice="")
    prepared = prepare(database_url, "2026-11-01")
    assert prepared.exit_code == 0, prepared.output
    assert "250.00 yuan" in said(prepared)


def test_a_notice_that_has_not_run_its_period_blocks_the_batch(database_url: str, tmp_path: Path) -> None:
    posted_run(database_url, tmp_path)
    none_yet = prepare(database_url, "2026-11-01")
    assert none_yet.exit_code == 1 and "has no notice: `disburse notice create 1`" in said(none_yet)

    created = run(database_url, "notice", "create", "1", "--from", "2026-11-01", "--out", str(tmp_path / "gs"))
    assert created.exit_code == 0, created.output
    assert "from 2026-11-01 to 2026-11-07" in said(created) and "prepared from 2026-11-08" in said(created)
    again = run(database_url, "notice", "create", "1", "--out", str(tmp_path / "gs"))
    assert again.exit_code == 0 and "nothing changed" in said(again)

    sheet = load_workbook(tmp_path / "gs" / f"公示-1-{VILLAGE_1}.xlsx").active
    cells = [[cell for cell in row if cell is not None] for row in sheet.iter_rows(values_only=True)]
    text = "\n".join(" ".join(map(str, row)) for row in cells)
    # 户主 王一 → 王*, 李一 → 李*; the ID shows its first six and last four characters.
    assert f"1 {H1} 王* 611002********" in text and f"2 {H2} 李* 611002********" in text
    amounts = [row[-1] for row in cells if row and str(row[0]) in ("1", "2", "合计")]
    assert [f"{amount:.2f}" for amount in amounts] == ["150.00", "50.00", "200.00"]
    assert "2026年11月01日至2026年11月07日" in text and "监督电话" in text
    page = (tmp_path / "gs" / f"公示-1-{VILLAGE_2}.html").read_text(encoding="utf-8")
    assert H3 in page and "张*" in page and "50.00" in page and "张一" not in page

    on_last_day = prepare(database_url, "2026-11-07")
    assert on_last_day.exit_code == 1
    assert "notice 1 (罗口村), 2 (东村) runs until 2026-11-07" in said(on_last_day)
    assert "prepared from 2026-11-08" in said(on_last_day)
    a_day_later = prepare(database_url, "2026-11-08")
    assert a_day_later.exit_code == 0, a_day_later.output
    assert "3 payment(s), 250.00 yuan" in said(a_day_later)


def test_an_open_objection_blocks_until_a_checker_dismisses_it(database_url: str, tmp_path: Path) -> None:
    posted_run(database_url, tmp_path)
    assert (
        run(
            database_url, "notice", "create", "1", "--from", "2026-11-01", "--days", "3", "--out", str(tmp_path / "gs")
        ).exit_code
        == 0
    )
    stranger = run(database_url, "notice", "object", "2", H1, "--reason", "不在本村", user="dora")
    assert stranger.exit_code == 1 and f"household {H1} is not on notice 2" in said(stranger)
    objected = run(database_url, "notice", "object", "1", H2, "--reason", "李一已外出务工", user="dora")
    assert objected.exit_code == 0 and "objection 1 to notice 1" in said(objected)

    blocked = prepare(database_url, "2026-11-04")
    assert blocked.exit_code == 1 and f"objection 1 to notice 1 (household {H2}) is open" in said(blocked)
    own = run(database_url, "notice", "dismiss", "1", "--reason", "核实仍在册", user="alice")
    assert own.exit_code == 1 and "alice made notice 1 and cannot dismiss" in said(own)
    dismissed = run(database_url, "notice", "dismiss", "1", "--reason", "核实仍在册", user="bob")
    assert dismissed.exit_code == 0 and "dismissed by bob" in said(dismissed)
    listed = run(database_url, "notice", "list", "--run", "1")
    assert "dismissed; 李一已外出务工 — bob: 核实仍在册" in said(listed)
    prepared = prepare(database_url, "2026-11-04")
    assert prepared.exit_code == 0 and "250.00 yuan" in said(prepared)


@pytest.mark.parametrize("days", ["0", "61"])
def test_a_notice_runs_at_least_one_day(database_url: str, tmp_path: Path, days: str) -> None:
    posted_run(database_url, tmp_path)
    refused = run(database_url, "notice", "create", "1", "--days", days, "--out", str(tmp_path / "gs"))
    assert refused.exit_code == 1 and "a notice runs for 1 to 60 days" in said(refused)


def test_in_fresh_processes_a_running_notice_blocks_and_a_day_later_does_not(database_url: str, tmp_path: Path) -> None:
    """The same worked example, each step the installed `disburse` in a process of its own, in
    Chinese as a user reads it: on 2026-11-07 (the last day) refused, on 2026-11-08 250.00 paid."""
    posted_run(database_url, tmp_path, command=run_script)
    created = run_script(database_url, "notice", "create", "1", "--from", "2026-11-01", "--out", str(tmp_path / "gs"))
    assert created.exit_code == 0, created.output

    def prepare_on(day: str):  # type: ignore[no-untyped-def]
        return run_script(database_url, "payout", "prepare", "--entity", "COUNTY", "--date", day, user="carol")

    on_last_day = prepare_on("2026-11-07")
    assert on_last_day.exit_code == 1 and "Traceback" not in on_last_day.output
    assert "2026-11-07" in said(on_last_day) and "2026-11-08" in said(on_last_day), on_last_day.output
    a_day_later = prepare_on("2026-11-08")
    assert a_day_later.exit_code == 0, a_day_later.output
    assert "250.00" in said(a_day_later)
