"""记账凭证 on the scenario of test_reports_books.py: what is read from the books, and how a page
of the printed voucher reads (its HTML before layout, one page per voucher of ten lines or fewer)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_reports_books import ENTITY, FUND_SUBSIDY, HOUSEHOLD_TWO, post_books

from disburse.foundation.db import transaction
from disburse.foundation.errors import DisburseError
from disburse.reports.voucher_print import (
    VoucherPrint,
    account_parts,
    printed_voucher,
    vouchers_document_html,
    write_vouchers,
)
from disburse.reports.vouchers import voucher_number_of, vouchers_of

OCTOBER = "2026-10"
SETTING = VoucherPrint("县级扶贫资金专户（COUNTY）", "2026年10月", "张会计")


def sections(html: str) -> list[str]:
    """The text of each printed page."""
    return re.findall(r'<section class="page voucher".*?</section>', html, flags=re.S)


def october_html(engine, **choice) -> str:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        vouchers = vouchers_of(session, ENTITY, choice.pop("period", OCTOBER), **choice)
    return vouchers_document_html([printed_voucher(voucher, {}) for voucher in vouchers], SETTING)


class _Tags(HTMLParser):
    """Collects start tags, so a test can see that no <script> element reached the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:  # type: ignore[type-arg]
        self.tags.append(tag)


def test_one_page_per_voucher_in_number_order(engine) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    pages = sections(october_html(engine))
    assert [re.search(r"凭证字号：(记-\d{4})", page).group(1) for page in pages] == [  # type: ignore[union-attr]
        "记-0001",
        "记-0002",
        "记-0003",
        "记-0004",
        "记-0005",
    ]
    assert all("第 1/1 页" in page and "记账凭证" in page and "会计主管" in page for page in pages)


def test_totals_in_figures_and_capitals(engine) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    pages = sections(october_html(engine))
    first = pages[0]
    assert "合计：人民币壹万陆仟肆佰零玖元零贰分" in first
    assert first.count(">16,409.02</td>") == 4  # two lines and the two 合计 cells
    assert "2026年10月08日" in first and "制单：alice" in first
    # 记-0002: 2,000.00 declared to two households, 500.00 + 1,500.00.
    assert "合计：人民币贰仟元整" in pages[1]
    assert f"户编号 {HOUSEHOLD_TWO}；资金来源 {FUND_SUBSIDY}" in pages[1]
    # 211.90 prints as 总账科目 211 应付款 and 明细科目 211.90 待决定款项.
    assert '<div class="cell">211 应付款</div>' in pages[1] and "211.90 待决定款项" in pages[1]
    assert "合计：人民币壹佰元整" in pages[3]


def test_account_parts() -> None:
    assert account_parts("211.90", "应付款—待决定款项") == ("211 应付款", "211.90 待决定款项")
    assert account_parts("102", "银行存款") == ("102 银行存款", "")


def test_text_is_escaped(engine) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    html = october_html(engine)
    assert "<script>" not in html
    assert "支付H2分配 &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; 其他" in sections(html)[2]
    parser = _Tags()
    parser.feed(html)
    assert "script" not in parser.tags


def test_reversal_names_the_voucher_it_reverses(engine) -> None:  # type: ignore[no-untyped-def]
    books = post_books(engine)
    pages = sections(october_html(engine))
    original = books.october_entry_ids[3]
    assert f"本凭证冲销 2026-10 记-0003 号凭证（分录 {original}）" in pages[4]
    assert "制单：bob" in pages[4]
    assert f"本凭证已被 2026-10 记-0005 号凭证冲销（分录 {books.reversal_entry_id}）" in pages[2]
    assert "冲销" not in pages[0]


def test_one_voucher_by_number_or_entry(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    books = post_books(engine)
    by_number = sections(october_html(engine, voucher="记-0004"))
    assert len(by_number) == 1 and "凭证字号：记-0004" in by_number[0]
    by_entry = sections(october_html(engine, period=None, entry_id=books.reversal_entry_id))
    assert len(by_entry) == 1 and "凭证字号：记-0005" in by_entry[0]
    with transaction(engine) as session:
        chosen = vouchers_of(session, ENTITY, OCTOBER, voucher="1")
    written = write_vouchers([printed_voucher(chosen[0], {})], tmp_path / "v.pdf", SETTING)
    assert written.pages == 1 and written.path.read_bytes().startswith(b"%PDF")


def test_refusals(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    post_books(engine)
    with transaction(engine) as session:
        with pytest.raises(DisburseError, match="COUNTY 2026-10 has no voucher 记-0009"):
            vouchers_of(session, ENTITY, OCTOBER, voucher="记-0009")
        with pytest.raises(DisburseError, match="period"):
            vouchers_of(session, ENTITY, None)
        with pytest.raises(DisburseError, match="COUNTY 2026-08 has no vouchers"):
            vouchers_of(session, ENTITY, "2026-08")
        chosen = vouchers_of(session, ENTITY, OCTOBER, voucher="记-0001")
    with pytest.raises(DisburseError, match="written as .pdf, .xlsx or .html"):
        write_vouchers([printed_voucher(chosen[0], {})], tmp_path / "v.doc", SETTING)


@pytest.mark.parametrize("text, number", [("记-0003", 3), ("记3", 3), ("0003", 3), ("12", 12), (" 记－0007 ", 7)])
def test_voucher_numbers_as_users_write_them(text: str, number: int) -> None:
    assert voucher_number_of(text) == number


@pytest.mark.parametrize("text", ["付-0003", "记-", "0", "abc"])
def test_not_voucher_numbers(text: str) -> None:
    with pytest.raises(DisburseError):
        voucher_number_of(text)
