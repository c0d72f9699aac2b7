"""Bank profiles: the built-ins load, every statement layout is told apart from the others by
its header, and a broken profile file is reported with the path of each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest
from importer_helpers import write_csv

from disburse.importers.bank_profiles import (
    BUILT_IN_DIRECTORY,
    ProfileError,
    detect_profile,
    load_profiles,
    profile_by_name,
    profile_from_text,
)

STATEMENT_PROFILES = {
    "canonical",
    "icbc_debit",
    "abc_debit",
    "boc_debit",
    "cmb_debit",
    "icbc",
    "ccb",
    "abc",
    "boc",
    "bocom",
    "cmb",
    "spdb",
    "psbc",
    "rural_credit",
}


def test_built_in_profiles() -> None:
    profiles = load_profiles()
    assert {name for name, profile in profiles.items() if profile.statement} == STATEMENT_PROFILES
    assert {name for name, profile in profiles.items() if profile.bank_return} == {
        "abc",
        "generic",
        "ccb",
        "icbc",
        "rural_credit",
    }
    assert profiles["ccb"].bank == "中国建设银行"
    # Corporate accounts and the canonical layout refuse a break in the balance; the personal
    # samples whose balances do not chain or are masked only warn.
    checks = {name: profiles[name].statement.balance_check for name in STATEMENT_PROFILES}
    assert {name for name, check in checks.items() if check == "warn"} == {"icbc_debit", "abc_debit", "cmb_debit"}
    styles = {profiles[name].statement.direction for name in STATEMENT_PROFILES}
    assert styles == {"signed", "split", "flag"}
    assert "xls" in profiles["ccb"].statement.file_types


@pytest.mark.parametrize("name", sorted(STATEMENT_PROFILES))
def test_each_statement_header_is_recognised_as_its_own(name: str, tmp_path: Path) -> None:
    profiles = load_profiles()
    layout = profiles[name].statement
    header = [names[0] for names in layout.columns.values()] + list(layout.other_headers)
    path = write_csv(tmp_path / "h.csv", [["对账单"], header], encoding="gbk")
    assert detect_profile(path, profiles, "statement", "bank statement") == (name, [])


@pytest.mark.parametrize("name", ["generic", "ccb", "icbc", "rural_credit"])
def test_each_return_header_is_recognised_as_its_own(name: str, tmp_path: Path) -> None:
    profiles = load_profiles()
    layout = profiles[name].bank_return
    header = [names[0] for names in layout.columns.values()] + list(layout.other_headers)
    path = write_csv(tmp_path / "h.csv", [header])
    assert detect_profile(path, profiles, "bank_return", "bank return") == (name, [])


def test_profile_errors_name_the_path_inside_the_file() -> None:
    text = """
bank: 某银行
statement:
  direction: split
  columns:
    date: 日期
    debit: 支出
    credit: 收入
  balance_chek: warn
"""
    with pytest.raises(ProfileError) as raised:
        profile_from_text(text, "somebank", "somebank.yaml")
    problems = {(path, message) for _, path, message in raised.value.problems}
    paths = {path for path, _ in problems}
    assert "statement.balance_chek" in paths
    assert ("statement.balance_chek", "unknown key (not allowed here)") in problems
    assert "somebank.yaml: statement.balance_chek: unknown key" in str(raised.value)


def test_profile_consistency_errors() -> None:
    with pytest.raises(ProfileError, match="direction flag needs columns direction"):
        profile_from_text("bank: X\nstatement:\n  direction: flag\n  columns: {date: 日期, amount: 金额}\n", "x")
    with pytest.raises(ProfileError, match="header '金额' names both"):
        profile_from_text(
            "bank: X\nstatement:\n  direction: signed\n  balance_check: warn\n"
            "  columns: {date: 日期, amount: 金额, memo: [附言, 金额]}\n",
            "x",
        )
    with pytest.raises(ProfileError, match="needs at least one"):
        profile_from_text("bank: X\n", "x")
    with pytest.raises(ProfileError, match="profile name"):
        profile_from_text("bank: X\n", "Bad-Name")


def test_user_directory_adds_and_replaces_profiles(tmp_path: Path) -> None:
    text = (BUILT_IN_DIRECTORY / "icbc.yaml").read_text(encoding="utf-8")
    (tmp_path / "icbc.yaml").write_text(text.replace("bank: 中国工商银行", "bank: 工行（本县版）"), encoding="utf-8")
    (tmp_path / "county_bank.yaml").write_text(
        "bank: 县村镇银行\nstatement:\n  direction: signed\n  columns: {date: 日期, amount: 金额, balance: 结余}\n",
        encoding="utf-8",
    )
    profiles = load_profiles(tmp_path)
    assert profiles["icbc"].bank == "工行（本县版）"
    assert profiles["county_bank"].statement.required_fields() == ("date", "amount", "balance")
    assert profile_by_name("county_bank", profiles).bank == "县村镇银行"
    with pytest.raises(KeyError, match="known: abc"):
        profile_by_name("nobank", profiles)


def test_user_directory_problems_are_all_reported(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text("bank: X\nstatement: [1, 2]\n", encoding="utf-8")
    (tmp_path / "two.yaml").write_text("bank: [unclosed\n", encoding="utf-8")
    with pytest.raises(ProfileError) as raised:
        load_profiles(tmp_path)
    files = {Path(file).name for file, _, _ in raised.value.problems}
    assert files == {"one.yaml", "two.yaml"}
