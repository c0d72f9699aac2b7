"""Allocation names and refusals as a Chinese-speaking user reads them (the default language)."""

import re
from pathlib import Path

import openpyxl
from cli_runner import run
from runs_setup import county, import_county, pv_rule

from disburse.allocations.runs import COMPONENT_NAMES_ZH
from disburse.foundation.i18n import language, tr


def test_component_names_follow_the_language_and_are_still_a_mapping() -> None:
    with language("zh"):
        assert COMPONENT_NAMES_ZH["household_share"] == "农户收益分配"
        assert COMPONENT_NAMES_ZH.get("cap_held_back", "cap_held_back") == "封顶留存"
        assert COMPONENT_NAMES_ZH.get("no_such_part", "no_such_part") == "no_such_part"
    with language("en"):
        assert COMPONENT_NAMES_ZH["benefit"] == "benefit payment"
    assert len(COMPONENT_NAMES_ZH) == 15


def test_the_four_eyes_refusal_of_a_run_reads_in_chinese() -> None:
    with language("zh"):
        said = tr(
            "run {run} was calculated by {user}; a different person must approve it (four eyes)", run=7, user="张会计"
        )
    assert said == "分配表 7 由 张会计 计算；须由另一人审核（双人复核：制单人与审核人不得为同一人）"


def test_a_pv_run_reads_in_chinese_end_to_end(database_url: str, tmp_path: Path) -> None:
    """The `disburse` command, step by step, as a Chinese-speaking clerk uses it: the
    codes of the rule (om, land_rent …), the run's kind, its components and summary figures, the
    settlement rows and the run's notes read as names, in the run export too; the notes, stored
    as message ids when the (Chinese) clerk calculated, read in English for an English reader."""
    county_directory = county(tmp_path / "county")
    import_county(database_url, county_directory)
    rule = pv_rule(tmp_path, county_directory)
    out = tmp_path / "pv.xlsx"
    calculated = run(database_url, "--lang", "zh", "allocate", str(rule), "--period", "2026-10",
                            "--out", str(out), user="alice")  # fmt: skip
    assert calculated.exit_code == 0, calculated.stderr
    run_id = re.search(r"分配表 (\d+)", calculated.stdout).group(1)

    shown = run(database_url, "--lang", "zh", "runs", "show", run_id)
    assert "（光伏电站收益）" in shown.stdout and "pv_revenue" not in shown.stdout
    for name in ("扣除运维费", "扣除土地租金", "扣除保险费", "农户收益分配", "村集体收益", "分配总额"):
        assert name in shown.stdout, name
    for code in ("deduction_om", "household_share", "om_deduction", "settlement "):
        assert code not in shown.stdout, code
    # The capacity note, stored by the Chinese clerk, in each reader's language.
    assert "的装机容量 " in shown.stdout and "取自登记簿" in shown.stdout
    english = run(database_url, "--lang", "en", "runs", "show", run_id)
    assert "taken from the register (the rule states no capacity_kw)" in english.stdout
    assert "operation and maintenance fee deducted" in english.stdout

    workbook = openpyxl.load_workbook(out)
    villages = [row[1] for row in workbook["村汇总"].iter_rows(min_row=3, values_only=True)]
    assert "运维费" in villages and "农户收益分配" in villages and "om_deduction" not in villages
    notes = [row[8] for row in workbook["明细"].iter_rows(min_row=3, values_only=True)]
    assert any(note.startswith("农户收益分配；结算单第 ") for note in notes)
    assert not any("settlement " in note or "_share" in note for note in notes)

    household = next(row[0] for row in workbook["明细"].iter_rows(min_row=3, values_only=True)
                     if row[8].startswith("农户收益分配"))  # fmt: skip
    explained = run(database_url, "--lang", "zh", "runs", "explain", run_id, household).stdout
    # The steps were written in the clerk's Chinese: the rule's deductions by name.
    assert "减 运维费（" in explained and "减 土地租金（" in explained and "减 保险费（" in explained
    assert " 结算单第 " in explained and "农户收益分配：" in explained
    for code in ("om", "land_rent", "household_share", "subsidy", "base"):
        assert not re.search(rf"(?<![A-Za-z_]){code}(?![A-Za-z_])", explained), code
