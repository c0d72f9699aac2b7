"""Reconciliation names and counts in Chinese, and the 调节表 workbook Chinese in every language
(issue 15 item 1)."""

from __future__ import annotations

from disburse.foundation.i18n import language
from disburse.reconciliation import report
from disburse.reconciliation.runs import RunCounts, counts_text
from disburse.web.labels import zh


def test_rule_and_status_names_follow_the_language() -> None:
    with language("zh"):
        assert zh("confirmed", "match_rule") == "人工确认"
        assert zh("bank_only", "match_status") == "银行有企业无"
        assert report.RULE_NAMES_ZH.get("no_such_rule", "no_such_rule") == "no_such_rule"
    with language("en"):
        assert zh("amount_date", "match_rule") == "amount + date (to confirm)"
        assert report.STATUS_NAMES_ZH["candidate"] == "to confirm"


def test_the_workbook_names_stay_chinese_in_english() -> None:
    with language("en"):
        assert report._REPORT_STATUS_NAMES["candidate"] == "待确认"
        assert report._REPORT_CATEGORY_NAMES["fee"] == "手续费"


def test_a_run_counts_line_in_chinese() -> None:
    counts = RunCounts(10, 9, 0, 7, 1, 0, 2, 1, 0, 0)
    with language("zh"):
        text = counts_text(counts)
    assert text == "已匹配 7，待确认 1，已确认 0，银行有企业无 2，企业有银行无 1，金额不符 0，疑似重复 0"
