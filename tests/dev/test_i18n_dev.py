"""The simulated bank's refusals and the demo's words in Chinese (issue 15 item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from disburse.dev import bankfiles
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import language, tr


def test_an_unknown_bank_profile_is_refused_in_chinese() -> None:
    with language("zh"), pytest.raises(DisburseError) as refused:
        bankfiles._profile_with({}, "农商行", "bank_return")
    assert str(refused.value) == "没有银行格式 '农商行'；有回盘格式的银行格式："


def test_a_return_file_under_a_wrong_suffix_is_refused_in_chinese() -> None:
    with language("zh"), pytest.raises(DisburseError) as refused:
        bankfiles._checked_out(Path("回盘.txt"), ["csv"], "generic", "bank_return")
    assert str(refused.value) == "回盘.txt：回盘文件只能写成 .csv 或 .xlsx，不能是 .txt"


def test_the_demos_summary_reads_in_chinese() -> None:
    with language("zh"):
        assert tr("adjusted balances agree") == "调节后余额相符"
        assert tr("every chain and balance intact") == "每条哈希链和余额都完好"
        assert tr("COUNTY 2026-10 {balanced}", balanced=tr("balanced: True")) == "COUNTY 2026-10 借贷平衡"
