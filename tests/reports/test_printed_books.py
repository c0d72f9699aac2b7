"""Issue #15 items 2 and 3, and issue #11 items 2, 11 and 12, on the demo's own books: every
printed book is laid out to PDF, its page count is checked, every page must carry its header
(title, 编制单位, 期间, 页次 i/n, 制表人, print date, the table's header), and with pdftoppm
present the pages are written as PNG files to the test's folder for a person to look at.

The demo runs once per test run, shared by every worker (a small county, on SQLite: the demo makes
its own file); each worker prints from its own copy.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from database_support import built_once, sqlite_copy
from sqlalchemy import text
from sqlalchemy.engine import make_url

from disburse.dev.demo.cycle import CENTRE_USER, run_demo
from disburse.foundation.db import make_engine, transaction
from disburse.foundation.money import format_yuan
from disburse.payouts.status import household_status
from disburse.reports.auxiliary import FUND, HOUSEHOLD, auxiliary_balance, auxiliary_book
from disburse.reports.bank_reconciliation import reconciliation_book, reconciliation_statement
from disburse.reports.fund_trace import fund_trace
from disburse.reports.general_ledger import general_ledger, general_ledger_book
from disburse.reports.household import CardFooter, card_book, household_statement
from disburse.reports.ledger_detail import account_detail, detail_book
from disburse.reports.printing import book_html, page_texts, render_pdf
from disburse.reports.trial_balance import trial_balance, trial_balance_book
from disburse.reports.voucher_print import (
    ATTACHMENT_ROWS_PER_PAGE,
    VOUCHER_LINES_PER_PAGE,
    VoucherPrint,
    document_pages,
    printed_voucher,
    voucher_households,
    vouchers_document_html,
)
from disburse.reports.vouchers import vouchers_of

TODAY = dt.date(2026, 12, 2)
MONTH = "2026-12"
PRINTER = "县财政局-张会计"
BANK_ACCOUNT = "6228480012345678901"
# Identifiers that are Latin by design (references, station and cooperative ids); anything else
# Latin on a 明白卡 is English that reached the household.
# Identifiers (BATCH-…, PAY-…) and the checkpoint's short hash every page carries (校验：dd9184bc9740,
# whose hex letters vary with the books' contents) are not English.
_IDENTIFIER = re.compile(r"[A-Z]+(?:-[0-9A-Z]+)+|校验：[0-9a-f]+")


def _build_demo(directory: Path) -> None:
    summary = run_demo(directory, households=300, today=TODAY)
    (directory / "books").write_text(make_url(summary.database_url).database, encoding="utf-8")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The demo's books (about 15 s to make), made once per run for every worker; each module's
    worker prints from its own copy."""
    built = built_once(tmp_path_factory, "printed-books-demo", _build_demo)
    shared = Path((built / "books").read_text(encoding="utf-8"))
    url = sqlite_copy(shared, tmp_path_factory.mktemp("demo"))
    engine = make_engine(url)
    yield url, engine
    engine.dispose()


def pictures(pdf: Path, folder: Path, pages: int = 2) -> list[Path]:
    """The first pages of ``pdf`` as PNG files in ``folder`` (when pdftoppm is installed)."""
    if shutil.which("pdftoppm") is None:
        return []
    prefix = folder / pdf.stem
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-l", str(pages), str(pdf), str(prefix)], check=True, timeout=120)
    return sorted(folder.glob(f"{pdf.stem}*.png"))


def laid_out(html: str, path: Path) -> list[str]:
    """Lay ``html`` out, write it to ``path`` and return each page's text."""
    document = render_pdf(html)
    document.write_pdf(str(path))
    return page_texts(document)


def check_headers(texts: list[str], *expected: str) -> None:
    """Every page carries the expected texts and its own 页次 i/n."""
    assert texts, "no pages"
    for number, page in enumerate(texts, start=1):
        for wanted in (*expected, f"页次：{number}/{len(texts)}", f"制表人：{PRINTER}", f"打印日期：{TODAY}"):
            assert wanted in page, (number, wanted)


def test_issue15_item2_trial_balance_prints_with_headers(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _url, engine = demo
    with transaction(engine) as session:
        result = trial_balance(session, "COUNTY", MONTH)
    book = trial_balance_book(result, year_start=True, hide_zero=True, prepared_by=PRINTER, printed_on=TODAY)
    texts = laid_out(book_html(book), tmp_path / "科目余额表.pdf")
    check_headers(
        texts, "科目余额表", "编制单位：县级扶贫资金专户（COUNTY）", "期间：2026年12月", "年初余额", "本年累计发生额"
    )
    assert len(texts) == 1  # a county's chart fits one landscape page
    totals = result.book_totals(year_start=True)
    # Debits equal credits in every pair of columns, and the 合计 line prints them.
    assert totals[0::2] == totals[1::2]
    assert f"合计{format_yuan(totals[2])}" in texts[0].replace("\n", "")
    assert pictures(tmp_path / "科目余额表.pdf", tmp_path) or shutil.which("pdftoppm") is None


def test_issue15_item2_ledger_and_general_ledger_print(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _url, engine = demo
    with transaction(engine) as session:
        payables = account_detail(session, "COUNTY", MONTH, "211")
        every = account_detail(session, "COUNTY", MONTH, "211", by_posting=True)
        ledger = general_ledger(session, "COUNTY", MONTH)
    # One line per voucher and account: the batch's postings to hundreds of households are one.
    assert len(payables.lines) < 10 < len(every.lines)
    for detail, name in ((payables, "明细账"), (every, "明细账-每笔")):
        texts = laid_out(
            book_html(detail_book(detail, prepared_by=PRINTER, printed_on=TODAY)), tmp_path / f"{name}.pdf"
        )
        check_headers(texts, "明细账", "科目：211 应付款（含明细科目）", "凭证字号", "摘要", "方向", "余额")
        assert "期初余额" in texts[0] and "本月合计" in texts[-1] and "本年累计" in texts[-1]
    texts = laid_out(
        book_html(general_ledger_book(ledger, prepared_by=PRINTER, printed_on=TODAY)), tmp_path / "总账.pdf"
    )
    check_headers(texts, "总账", "期间：2026年01月至12月")
    assert "科目：102 银行存款" in texts[0] and "年初余额" in texts[0]
    pictures(tmp_path / "明细账-每笔.pdf", tmp_path)


def test_issue15_item2_auxiliary_balances_by_household_and_fund(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _url, engine = demo
    with transaction(engine) as session:
        by_household = auxiliary_balance(session, "COUNTY", MONTH, "211", HOUSEHOLD)
        by_fund = auxiliary_balance(session, "COUNTY", MONTH, "211", FUND)
        account = next(line for line in trial_balance(session, "COUNTY", MONTH).lines if line.account_code == "211")
    # Each dimension's 合计 is the account's own line of the 科目余额表.
    for balance in (by_household, by_fund):
        totals = balance.totals()
        assert totals[2:4] == (account.debit_fen, account.credit_fen)
        assert totals[6] - totals[7] == max(account.closing_fen, 0) - max(-account.closing_fen, 0)
    texts = laid_out(
        book_html(auxiliary_book(by_household, prepared_by=PRINTER, printed_on=TODAY)), tmp_path / "按户.pdf"
    )
    check_headers(texts, "辅助核算余额表（按户）", "户编号", "户主", "期末余额")
    texts = laid_out(book_html(auxiliary_book(by_fund, prepared_by=PRINTER, printed_on=TODAY)), tmp_path / "按资金.pdf")
    check_headers(texts, "辅助核算余额表（按资金来源）", "指标文号/编号", "资金来源")
    assert "PV-611002-001" in texts[0] and "教育扶贫资助资金" in texts[0]


def test_issue15_item2_reconciliation_with_its_outstanding_items(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _url, engine = demo
    with transaction(engine) as session:
        printed = reconciliation_statement(session, BANK_ACCOUNT, MONTH)
    texts = laid_out(
        book_html(reconciliation_book(printed, prepared_by=PRINTER, printed_on=TODAY)), tmp_path / "调节表.pdf"
    )
    check_headers(texts, "银行存款余额调节表", f"账号：{BANK_ACCOUNT}（102.01）")
    page = texts[0]
    # The labels print whole, and the list of 未达账项 follows the table.
    for label in ("企业银行存款日记账余额", "加：银行已收、企业未收", "减：企业已付、银行未付", "调节后的存款余额"):
        assert label in page
    assert page.index("调节后的存款余额") < page.index("未达账项明细")
    assert printed.balance.agrees and "两方调节后余额相符" in page


def test_issue15_item2_vouchers_carry_number_and_page_on_every_page(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _url, engine = demo
    with transaction(engine) as session:
        vouchers = vouchers_of(session, "COUNTY", MONTH)
        households = voucher_households(session)
    printed = [printed_voucher(voucher, households) for voucher in vouchers]
    setting = VoucherPrint("县级扶贫资金专户（COUNTY）", "2026年12月", PRINTER, TODAY, attachments=False)
    texts = laid_out(vouchers_document_html(printed, setting), tmp_path / "记账凭证.pdf")
    assert len(texts) == document_pages(printed, attachments=False)
    check_headers(texts, "记账凭证", "编制单位：县级扶贫资金专户（COUNTY）", "会计主管", "制单：")
    position = 0
    for one in printed:
        for page in range(1, one.pages + 1):
            assert (
                f"凭证字号：{one.voucher.voucher}" in texts[position] and f"第 {page}/{one.pages} 页" in texts[position]
            )
            if page > 1:
                assert "承前页" in texts[position]
            assert ("过次页" if page < one.pages else "合计：人民币") in texts[position]
            position += 1
    # The batch to every household prints by village, far shorter than its postings.
    batch = next(one for one in printed if one.attachment)
    assert (
        len(batch.lines) < len(batch.voucher.lines) / 3
        and len(batch.attachment) < len(batch.voucher.lines)
        and batch.pages == -(-len(batch.lines) // VOUCHER_LINES_PER_PAGE)
    )
    by_village = [line for line in batch.lines if re.search(r"\d户", line.note)]
    assert len(by_village) >= len(batch.lines) - 1  # all but the one line to 102.90 在途资金
    pictures(tmp_path / "记账凭证.pdf", tmp_path, pages=3)


def test_issue15_item2_a_summarised_voucher_attaches_its_household_list(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _url, engine = demo
    with transaction(engine) as session:
        vouchers = vouchers_of(session, "COUNTY", MONTH)
        households = voucher_households(session)
    # The smallest voucher that prints by village (the bank return's failures, or the batch).
    summarised = [voucher for voucher in vouchers if printed_voucher(voucher, households).attachment]
    vouchers = [min(summarised, key=lambda voucher: len(voucher.lines))]
    one = printed_voucher(vouchers[0], households)
    assert one.attachment and one.attachment_pages == -(-len(one.attachment) // ATTACHMENT_ROWS_PER_PAGE)
    setting = VoucherPrint("县级扶贫资金专户（COUNTY）", "2026年12月", PRINTER, TODAY)
    texts = laid_out(vouchers_document_html([one], setting), tmp_path / "附件.pdf")
    assert len(texts) == one.pages + one.attachment_pages
    assert f"附单据 {one.attachment_pages} 张" in texts[0]
    for page, body in enumerate(texts[one.pages :], start=1):
        assert "分户明细表" in body and f"凭证字号：{one.voucher.voucher}" in body
        assert f"第 {page}/{one.attachment_pages} 页" in body and "本页合计" in body
    households_count = len({row.household_id for row in one.attachment})
    assert f"合计（{households_count:,}户）{format_yuan(one.voucher.total_fen)}" in texts[-1]


def _failed_household(engine) -> str:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        return session.execute(
            text("SELECT household_id FROM payment_instructions WHERE status = 'failed' ORDER BY id LIMIT 1")
        ).scalar_one()


def test_issue15_item2_household_card_on_one_page_in_chinese(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _url, engine = demo
    failed = _failed_household(engine)
    with transaction(engine) as session:
        paid = session.execute(
            text("SELECT household_id FROM payables WHERE status = 'paid' ORDER BY household_id LIMIT 1")
        ).scalar_one()
        cards = [household_statement(session, household, today=TODAY) for household in (paid, failed)]
    footer = CardFooter(CENTRE_USER, "0914-12317", TODAY)
    for card in cards:
        book = card_book(card, footer)
        texts = page_texts(render_pdf(book_html(book)))
        assert len(texts) == 1, (card.household_id, len(texts))
        page = texts[0]
        for wanted in ("惠民惠农财政补贴资金明白卡", "监督电话：0914-12317", f"经办人：{CENTRE_USER}", "户主（签字）"):
            assert wanted in page
        latin = re.findall(r"[A-Za-z]{2,}", _IDENTIFIER.sub("", page))
        assert latin == [], (latin, page)
    assert "发放失败记录（1 次" in page_texts(render_pdf(book_html(card_book(cards[1], footer))))[0]


def test_issue11_item2_fund_trace_ties_for_every_fund(demo) -> None:  # type: ignore[no-untyped-def]
    _url, engine = demo
    with transaction(engine) as session:
        funds = session.execute(text("SELECT DISTINCT fund_source FROM allocation_runs ORDER BY 1")).scalars().all()
        traces = [fund_trace(session, fund) for fund in funds]
        stations = session.execute(text("SELECT DISTINCT station_id FROM pv_settlements ORDER BY 1")).scalars().all()
        traces += [fund_trace(session, station) for station in stations[:1]]
    assert len(funds) == 4  # PV, the cooperative, education aid, forest rangers
    for trace in traces:
        assert trace.all_tie, (trace.fund, trace.ties)
        assert any("payables recorded" in what for what, _, _ in trace.ties) or trace.fund in stations
    cooperative = next(trace for trace in traces if trace.fund.startswith("COOP"))
    with transaction(engine) as session:
        to_households = session.execute(
            text(
                "SELECT sum(l.amount_fen) FROM allocation_lines l JOIN allocation_runs r ON r.id = l.run_id "
                "WHERE r.fund_source = :fund AND l.payee_type IN ('household', 'person')"
            ),
            {"fund": cooperative.fund},
        ).scalar_one()
    # The collective's dividend is not a household line: the tie counts only households'.
    tie = next(tie for tie in cooperative.ties if "payables recorded" in tie[0])
    assert tie[1] == tie[2] == int(to_households)


def test_issue11_item11_a_failure_is_counted_once(demo) -> None:  # type: ignore[no-untyped-def]
    _url, engine = demo
    household = _failed_household(engine)
    with transaction(engine) as session:
        status = household_status(session, household)
        card = household_statement(session, household, today=TODAY)
        failed_fen = session.execute(
            text("SELECT sum(amount_fen) FROM payment_instructions WHERE household_id = :h AND status = 'failed'"),
            {"h": household},
        ).scalar_one()
        owed_fen = session.execute(
            text("SELECT sum(amount_fen) FROM payables WHERE household_id = :h"), {"h": household}
        ).scalar_one()
    # The money owed is counted once, in its state now; the failed attempt is listed, not added.
    assert "failed" not in status.totals_fen and sum(status.totals_fen.values()) == owed_fen
    assert [line.amount_fen for line in status.lines if line.state == "failed"] == [failed_fen]
    assert card.total_fen == owed_fen and card.statement_outstanding_fen == card.ledger_outstanding_fen
    assert sum(line.amount_fen for line in card.failures) == failed_fen


def test_issue11_item11_pv_lines_keep_their_service_periods(demo) -> None:  # type: ignore[no-untyped-def]
    _url, engine = demo
    with transaction(engine) as session:
        household = session.execute(
            text("SELECT household_id FROM payables WHERE programme LIKE '%光伏%' ORDER BY household_id LIMIT 1")
        ).scalar_one()
        periods = [line.period for line in household_status(session, household).lines if "光伏" in line.programme]
        card = household_statement(session, household, today=TODAY)
        year_card = household_statement(session, household, 2026, today=TODAY)
    # The year's card is the year's books (the run posted in 2026-10), whatever the service period.
    assert year_card.ties_to_ledger and "2025Q1" in [line.period for line in year_card.lines]
    # The run is for 2026-10; its lines share out the late national subsidy of 2025 by quarter
    # and the monthly base price of 2026.
    assert "2025Q1" in periods and "2026-01" in periods and "2026-10" in periods
    printed = page_texts(render_pdf(book_html(card_book(card, CardFooter(printed_on=TODAY)))))[0]
    assert "2025年第1季度" in printed and "2026年01月" in printed
