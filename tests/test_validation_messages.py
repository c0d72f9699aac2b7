"""Refusals of configuration files read in the user's language: pydantic's problems (a missing
key, a wrong type, an unknown key, a value not among the allowed ones) and our validators' own
reasons, each at its place in the file, in Chinese by default and as the English ids with
``en``. The expected texts are written out by hand: they are what an accountant reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from disburse.allocations.rules import RuleError, load_rule
from disburse.audit.config import load_config
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import language
from disburse.importers.bank_profiles import ProfileError, profile_from_text
from disburse.reconciliation.unmatched import load_rules

# No programme (missing), notice days in words (wrong type), a weekly amount (not allowed), an
# empty list for `in` (our own validator) and a colour (unknown key) inside the basis.
RULE = """\
kind: subsidy
name: 2026年10月低保金
paying_entity: COUNTY
fund_source: 城乡低保资金
expense_account_code: "514"
notice: {days: 一周}
basis:
  type: attribute_table
  counted_per: person
  paid_to: household
  amount_per: weekly
  colour: red
  entries:
    - {amount_yuan: "330", when: [{field: household.household_type, op: in, value: []}]}
"""
# The bank's name as a number (wrong type), a misspelt key, a return layout without columns.
PROFILE = """\
bank: 123
statement:
  direction: split
  columns: {date: 日期, debit: 支出, credit: 收入}
  balance_check: warn
  balance_chek: warn
return:
  success_values: [成功]
"""


def _rule_problems() -> list[tuple[str, str]]:
    with pytest.raises(RuleError) as refused:
        load_rule(RULE)
    return refused.value.problems


def _profile_refusal() -> ProfileError:
    with pytest.raises(ProfileError) as refused:
        profile_from_text(PROFILE, "somebank", "somebank.yaml")
    return refused.value


def test_a_rule_file_is_refused_in_chinese_at_each_place() -> None:
    with language("zh"):
        problems = _rule_problems()
    # The union's member names (subsidy, attribute_table) are not in the places: the file has none.
    assert problems == [
        ("programme", "缺少必填项"),
        ("notice.days", "应为整数"),
        ("basis.amount_per", "应为 'year'、'month'、'once' 之一"),
        ("basis.entries.0.when.0", "op 'in' 的 value 应为非空列表"),
        ("basis.colour", "未知的键（此处不允许）"),
    ]


def test_a_rule_file_is_refused_with_the_english_ids() -> None:
    with language("en"):
        problems = _rule_problems()
    assert problems == [
        ("programme", "required key missing"),
        ("notice.days", "should be a whole number"),
        ("basis.amount_per", "should be one of 'year', 'month', 'once'"),
        ("basis.entries.0.when.0", "op 'in' needs a non-empty list as value"),
        ("basis.colour", "unknown key (not allowed here)"),
    ]


def test_a_wrong_or_missing_kind_points_at_the_tag_key() -> None:
    with language("zh"):
        with pytest.raises(RuleError) as refused:
            load_rule(RULE.replace("type: attribute_table", "type: table"))
    assert refused.value.problems == [
        ("programme", "缺少必填项"),
        ("notice.days", "应为整数"),
        ("basis.type", "'table' 不是 'attribute_table', 'roster', 'medical_topup' 之一"),
    ]
    with language("en"):
        with pytest.raises(RuleError) as refused:
            load_rule(RULE.replace("  type: attribute_table\n", ""))
    assert refused.value.problems[-1] == ("basis.type", "required key missing (it says which kind this is)")


MEDICAL = """\
kind: subsidy
name: 2026年医疗救助
programme: medical_topup
paying_entity: COUNTY
fund_source: 医疗救助资金
expense_account_code: "514"
basis: {type: medical_topup, own_share_cap: 0.1}
"""


def test_a_rate_written_as_a_float_is_refused_with_our_own_reason() -> None:
    with language("zh"):
        with pytest.raises(RuleError) as refused:
            load_rule(MEDICAL)
    assert refused.value.problems == [("basis.own_share_cap", '比率应写作加引号的字符串（如 "0.1"）：0.1 是浮点数')]
    with language("en"):
        with pytest.raises(RuleError) as refused:
            load_rule(MEDICAL)
    assert refused.value.problems == [
        ("basis.own_share_cap", 'write a rate as a quoted string (e.g. "0.1"): 0.1 is a float')
    ]


def test_a_bank_profile_is_refused_in_chinese_at_each_place() -> None:
    with language("zh"):
        refused = _profile_refusal()
        shown = str(refused)
    assert refused.problems == [
        ("somebank.yaml", "bank", "应为文本"),
        ("somebank.yaml", "statement.balance_chek", "未知的键（此处不允许）"),
        ("somebank.yaml", "return.columns", "缺少必填项"),
    ]
    assert shown == (
        "银行配置无效：\n"
        "somebank.yaml: bank: 应为文本\n"
        "somebank.yaml: statement.balance_chek: 未知的键（此处不允许）\n"
        "somebank.yaml: return.columns: 缺少必填项"
    )


def test_a_bank_profile_is_refused_with_the_english_ids() -> None:
    with language("en"):
        refused = _profile_refusal()
        shown = str(refused)
    assert refused.problems == [
        ("somebank.yaml", "bank", "should be text"),
        ("somebank.yaml", "statement.balance_chek", "unknown key (not allowed here)"),
        ("somebank.yaml", "return.columns", "required key missing"),
    ]
    assert shown == (
        "invalid bank profile:\n"
        "somebank.yaml: bank: should be text\n"
        "somebank.yaml: statement.balance_chek: unknown key (not allowed here)\n"
        "somebank.yaml: return.columns: required key missing"
    )


def test_a_post_unmatched_rules_file_is_refused_in_chinese(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - name: 手续费\n    when: {direction: sideways, summary_contains: [手续费]}\n    colour: red\n",
        encoding="utf-8",
    )
    with language("zh"):
        with pytest.raises(DisburseError) as refused:
            load_rules(rules)
    assert str(refused.value) == (
        f"{rules}：规则文件被拒绝：\n"
        "  rules.0.when.direction: 应为 'in'、'out'、'any' 之一\n"
        "  rules.0.account: 缺少必填项\n"
        "  rules.0.colour: 未知的键（此处不允许）"
    )


def test_an_audit_configuration_is_refused_in_chinese(tmp_path: Path) -> None:
    config = tmp_path / "audit.yaml"
    config.write_text("money_idle: {days: 0}\nequal_split: {lines_min: many}\n", encoding="utf-8")
    with language("zh"):
        with pytest.raises(DisburseError) as refused:
            load_config(config)
    assert str(refused.value) == (
        f"审计配置 {config} 无法使用：money_idle.days: 应不小于 1；equal_split.lines_min: 应为整数"
    )


def test_foundation_problems_read_in_both_languages() -> None:
    # The identifier and period checks hand back texts that refusals and warnings show whole.
    from disburse.foundation.dates import period_problem
    from disburse.foundation.i18n import language
    from disburse.foundation.identifiers import card_number_problem, resident_id_problem

    with language("zh"):
        assert period_problem("2026-13") == "期间 '2026-13' 的格式应为 YYYY-MM（例如 2026-11）"
        # GB 11643-1999's own worked example is 11010519491231002X: a final 1 is wrong.
        assert resident_id_problem("110105194912310021") == "校验码为 1，应为 X"
        assert card_number_problem("62220200000000000a") == "银行账号只能由数字组成"
    with language("en"):
        assert period_problem("2026-13") == "period '2026-13' is not of the form YYYY-MM (e.g. 2026-11)"
        assert resident_id_problem("110105194912310021") == "check character is 1, expected X"
