"""Issue 15's last points: codes from rules and configuration read as names in Chinese, lists
join as each language joins them, and a run's stored notes are shown in the reader's language.

Worked examples: the expected texts are written out by hand from the catalog's Chinese."""

from __future__ import annotations

import ast
import json

from disburse.allocations.names import component_name, filter_description, source_name, summary_name
from disburse.allocations.rules import Filter
from disburse.dev.messages import _english_joins
from disburse.foundation.i18n import join_clauses, join_list, language, render_stored, stored_form, tr_stored
from disburse.importers.bank_profiles import profile_label


def test_a_joined_list_and_joined_clauses_in_both_languages() -> None:
    with language("zh"):
        assert join_list(["未脱贫", "返贫", 3]) == "未脱贫、返贫、3"
        assert join_clauses(["缺少必填项", "未知的键"]) == "缺少必填项；未知的键"
    with language("en"):
        assert join_list(["a", "b", 3]) == "a, b, 3"
        assert join_clauses(["missing", "unknown key"]) == "missing; unknown key"
    assert join_list([]) == ""


def test_a_deduction_a_summary_figure_and_a_settlement_row_by_name() -> None:
    with language("zh"):
        assert component_name("om_deduction") == "运维费"
        assert summary_name("deduction_land_rent_fen") == "扣除土地租金"
        assert summary_name("deduction_om_uncovered_fen") == "运维费未能从收入中扣足的部分"
        # A rule's own deduction (no usual name): its code, marked as a deduction.
        assert component_name("cleaning_deduction") == "cleaning（扣除项）"
        assert source_name("settlement 11 2025Q1 subsidy") == "结算单第 11 行（2025Q1 国家补贴）"
        assert source_name("PV-611002-001") == "PV-611002-001"
        assert profile_label("generic") == "通用格式（generic）"
    with language("en"):
        assert component_name("om_deduction") == "operation and maintenance fee"
        assert summary_name("deduction_land_rent_fen") == "land rent deducted"
        assert source_name("settlement 11 2025Q1 base") == "settlement row 11 (2025Q1 benchmark price)"
        assert profile_label("canonical") == "标准格式 (canonical)"
        assert profile_label("from_my_folder") == "from_my_folder"


def test_a_filter_description_in_both_languages() -> None:
    poverty = Filter(field="household.poverty_status", op="in", value=["未脱贫", "返贫"])
    exited = Filter(field="household.poverty_status", op="eq", value="已脱贫")
    alive = Filter(field="person.died_on", op="is_null")
    with language("zh"):
        assert poverty.describe() == "户.贫困状态 为 未脱贫、返贫 之一"
        assert exited.describe() == "户.贫困状态 等于 已脱贫"
        assert alive.describe() == "人.死亡日期 为空"
        # An input file's own column keeps its name (it has no register header).
        assert filter_description("input.days", "gte", 1) == "输入.days 不小于 1"
    with language("en"):
        # The rule's own words, so that the filter can be found in the rule file.
        assert poverty.describe() == "household.poverty_status in [未脱贫, 返贫]"
        assert exited.describe() == "household.poverty_status eq 已脱贫"
        assert alive.describe() == "person.died_on is null"


def test_a_stored_note_is_shown_in_the_readers_language() -> None:
    with language("zh"):
        row = tr_stored("settlement row {id} ({period} {revenue_type})", id="14", period="2025Q4",
                        revenue_type=tr_stored("state subsidy"))  # fmt: skip
        note = tr_stored(
            "the wage roster for {period} was not used, because {row} was not allocated", period="2026-10", row=row
        )
        # What the calculating (Chinese) user saw when the run was made.
        assert note == "2026-10 的工资名单未使用，因为 结算单第 14 行（2025Q4 国家补贴） 未分配"
    stored = json.loads(json.dumps([stored_form(note), "旧的说明：按原文存储"], ensure_ascii=False))
    with language("en"):
        assert render_stored(stored[0]) == (
            "the wage roster for 2026-10 was not used, because settlement row 14 (2025Q4 state subsidy) "
            "was not allocated"
        )
        # A note stored before notes kept their ids: shown as stored.
        assert render_stored(stored[1]) == "旧的说明：按原文存储"
    with language("zh"):
        assert render_stored(stored[0]) == str(note)


def test_a_stored_list_figure_is_joined_in_the_readers_language() -> None:
    with language("zh"):
        note = tr_stored("{rule}: no settlement row could be allocated: {reasons}", rule="R", reasons=["a", "b"])
        assert note.endswith("a、b")
    with language("en"):
        assert render_stored(stored_form(note)) == "R: no settlement row could be allocated: a, b"


def test_a_list_joined_with_english_separators_inside_a_message_is_a_bypass() -> None:
    call = ast.parse('tr("known: {known}", known=", ".join(names))').body[0].value
    assert _english_joins(call, "tr", "cli/x.py") == ["cli/x.py:1 ', '.join(...) in a message (use join_list)"]
    call = ast.parse('DisburseError("; ".join(problems))').body[0].value
    assert _english_joins(call, "DisburseError", "x.py") == ["x.py:1 '; '.join(...) in a message (use join_clauses)"]
    # Machine text (SQL) outside a message is not.
    call = ast.parse('execute(", ".join(columns))').body[0].value
    assert _english_joins(call, "execute", "x.py") == []
