"""The ledger's refusals as a Chinese-speaking user reads them (the default language)."""

from ledger_builders import batch, draft

from disburse.foundation.i18n import language
from disburse.ledger.model import entries_check_balanced


def test_an_unbalanced_entry_reads_in_chinese_with_its_arithmetic() -> None:
    unbalanced = draft(("102", 100000), ("501", -99999), label="记-0003")
    with language("zh"):
        _, errors = entries_check_balanced(batch(draft(("102", 5), ("501", -5)), unbalanced))
        assert str(errors[0]) == "第 2 张凭证（记-0003）：借贷不平：合计 0.01，应为 0（1,000.00 + -999.99）"


def test_one_posting_and_zero_postings_read_in_chinese() -> None:
    with language("zh"):
        _, errors = entries_check_balanced(batch(draft(("102", 0), ("501", 0)), draft(("102", 7))))
    assert "分录金额不得为零" in errors[0].message
    assert errors[1].message == "只有 1 笔分录；一张凭证至少需要两笔"
