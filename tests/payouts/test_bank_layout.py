"""The batch-payment layout of a bank profile: the built-in ones, and refusals that name the path
inside the profile file."""

from __future__ import annotations

import pytest

from disburse.importers.bank_profiles import ProfileError, profile_from_text
from disburse.payouts.bank_layout import load_payment_profiles, payment_profile


def test_built_in_payment_profiles() -> None:
    profiles = load_payment_profiles()
    assert set(profiles) == {"abc", "generic", "ccb", "icbc", "rural_credit"}
    assert profiles["rural_credit"].batch_payment.rows_per_file_max == 3000
    assert profiles["ccb"].batch_payment.encoding == "gbk"
    assert profiles["ccb"].bank == "中国建设银行"


def test_layout_errors_name_the_path_inside_the_file() -> None:
    profile = profile_from_text(
        """
bank: 某银行
batch_payment:
  file_type: csv
  rows_per_file_max: 0
  columns:
    - {header: 账号, source: account_no}
    - {header: 金额, source: amount_yuan}
""",
        "somebank",
        "somebank.yaml",
    )
    with pytest.raises(ProfileError) as raised:
        payment_profile(profile)
    paths = {path for _, path, _ in raised.value.problems}
    assert {"batch_payment.rows_per_file_max", "batch_payment.columns.1.source"} <= paths
    assert "somebank.yaml: batch_payment.rows_per_file_max" in str(raised.value)


def test_layout_consistency_errors() -> None:
    with pytest.raises(ProfileError, match="unknown encoding"):
        payment_profile(
            profile_from_text(
                "bank: X\nbatch_payment:\n  file_type: csv\n  encoding: klingon\n"
                "  columns: [{header: 账号, source: account_no}, {header: 金额, source: amount}]\n",
                "x",
            )
        )
    with pytest.raises(ProfileError, match="needs a column with source amount"):
        payment_profile(
            profile_from_text(
                "bank: X\nbatch_payment:\n  file_type: csv\n  columns: [{header: 账号, source: account_no}]\n", "x"
            )
        )
    with pytest.raises(ProfileError, match="describes no batch-payment file"):
        payment_profile(
            profile_from_text(
                "bank: X\nstatement:\n  direction: signed\n  columns: {date: 日期, amount: 金额, balance: 余额}\n", "x"
            )
        )
