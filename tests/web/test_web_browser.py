"""The month in a real browser (Playwright driving Debian's Chromium), on SQLite and PostgreSQL:
经办 uploads a register and a settlement, previews and submits a PV run; 审核 returns it with a
comment; 经办 sees the comment and submits again; 审核 approves; 出纳 prepares a batch (审核
approves it), downloads the bank file and uploads a return file with two failures; 窗口 finds
a failed household and prints its 明白卡; 审计 imports the statement and sees the
reconciliation. Each page is photographed into the test's temporary folder."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from pathlib import Path

import pytest
from web_support import (
    BANK_ACCOUNT,
    OPENING_FEN,
    PASSWORD,
    free_port,
    make_county,
    set_up_books,
    web_app,
    write_return_file,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
JOB_TIMEOUT_MS = 60_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (apt-get install -y chromium)"),
]


class Server:
    """The application under uvicorn in a thread of this process, on a loopback port."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.server.started, "the server did not start"
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


class Person:
    """One browser context logged in as one account; every page it sees is photographed."""

    def __init__(self, browser, base: str, name: str, shots: Path) -> None:  # type: ignore[no-untyped-def]
        self.context = browser.new_context(
            accept_downloads=True, locale="zh-CN", viewport={"width": 1280, "height": 900}
        )
        self.page = self.context.new_page()
        self.base, self.name, self.shots = base, name, shots
        self.page.goto(f"{base}/login")
        self.page.fill("input[name=name]", name)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button:has-text('登录')")
        self.page.wait_for_url(f"{base}/")

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, label: str) -> None:
        self.page.screenshot(
            path=str(self.shots / f"{len(list(self.shots.iterdir())):02d}-{self.name}-{label}.png"), full_page=True
        )

    def wait_job(self, label: str) -> str:
        """Wait on a job page until it finishes; returns the page's text."""
        self.page.wait_for_selector("[data-job][data-finished=yes]", timeout=JOB_TIMEOUT_MS)
        self.shot(label)
        return self.page.inner_text("main")


def _upload(person: Person, form: str, files: dict[str, Path], fields: dict[str, str] | None = None) -> None:
    selector = f"form[action='{form}']"
    for name, path in files.items():
        person.page.set_input_files(f"{selector} input[name={name}]", str(path))
    for name, value in (fields or {}).items():
        person.page.fill(f"{selector} [name={name}]", value)
    person.page.click(f"{selector} button[type=submit]")


def _maker_submits(maker: Person, county) -> None:  # type: ignore[no-untyped-def]
    """经办 uploads the newest register, the share register and the settlement; previews the PV
    run and submits it for review."""
    maker.go("/work")
    maker.shot("work")
    newest = county.snapshot_dates[-1].isoformat()
    _upload(maker, "/work/upload/register", {"file": county.registers[-1]}, {"as_of": newest})
    assert "已导入" in maker.wait_job("register")
    maker.go("/work")
    _upload(maker, "/work/upload/shares", {"file": county.shares}, {"as_of": county.snapshot_dates[0].isoformat()})
    assert "已导入" in maker.wait_job("shares")
    maker.go("/work")
    _upload(maker, "/work/upload/settlement", {"file": county.settlements})
    assert "已导入" in maker.wait_job("settlement")
    maker.go("/work")
    _upload(maker, "/work/allocate/preview", {"rule": county.pv_rule}, {"period": "2026-10"})
    preview = maker.wait_job("preview")
    assert "分村汇总" in preview and "预览" in preview
    maker.page.click("button:has-text('提交审核')")
    assert "已提交审核" in maker.wait_job("submitted")


def _returned_resubmitted_approved(maker: Person, checker: Person) -> None:
    """审核 returns the run with a comment; 经办 sees it and submits again; 审核 approves."""
    checker.go("/review")
    checker.shot("queue")
    checker.page.click("table a[href^='/review/runs/']")
    checker.page.fill("textarea[name=comment]", "公益岗位工资名单未附，请补充后重新提交。")
    checker.shot("run")
    checker.page.click("form[action$='/return'] button")
    assert "已退回经办人" in checker.page.inner_text("main")
    maker.go("/work")
    assert "公益岗位工资名单未附" in maker.page.inner_text("main")
    maker.shot("returned")
    maker.page.click("a:has-text('重新提交')")
    maker.page.click("form#allocate button[type=submit]")
    maker.wait_job("preview-again")
    maker.page.click("button:has-text('提交审核')")
    assert "已提交审核" in maker.wait_job("resubmitted")
    checker.go("/review")
    checker.page.click("table a[href^='/review/runs/']")
    checker.page.click("form[action$='/approve'] button")
    assert "已批准并记账" in checker.page.inner_text("main")
    checker.shot("approved")


def _batch_prepared_and_approved(cashier: Person, checker: Person, browser, base: str, shots: Path) -> str:  # type: ignore[no-untyped-def]
    """出纳 prepares a batch of the approved payables; 审核 (and a second 审核 for a large one) approves it."""
    cashier.go("/cashier")
    cashier.page.select_option("form[action='/cashier/prepare'] select[name=entity]", "COUNTY")
    cashier.page.click("form[action='/cashier/prepare'] button")
    prepared = cashier.wait_job("prepared")
    found = re.search(r"批次 (BATCH-\d{6}-\d{4}) 已编制", prepared)
    assert found, prepared
    reference = found.group(1)
    checker.go(f"/review/batches/{reference}")
    checker.page.click("form[action$='/approve'] button")
    approved = checker.page.inner_text("main")
    assert "已批准" in approved
    if "还需另一位审核人" in approved:  # a large batch needs a second checker
        second = Person(browser, base, "checker2", shots)
        second.go(f"/review/batches/{reference}")
        second.page.click("form[action$='/approve'] button")
        assert "可以导出银行文件" in second.page.inner_text("main")
    return reference


def _bank_file_and_returns(cashier: Person, reference: str, database_url: str, directory: Path):  # type: ignore[no-untyped-def]
    """出纳 downloads the bank file and uploads the bank's return file with two failures; returns
    the batch's instructions and the two failed payment references."""
    from disburse.foundation.db import make_engine, read_transaction
    from disburse.payouts.service import batch_by_reference, batch_instructions

    cashier.go("/cashier")
    export_form = f"form[action='/cashier/batches/{reference}/export']"
    cashier.page.select_option(f"{export_form} select[name=profile]", "generic")
    cashier.page.click(f"{export_form} button")
    assert "银行文件已生成" in cashier.wait_job("exported")
    with cashier.page.expect_download() as download_info:
        cashier.page.click("ul.downloads a")
    bank_file = directory / download_info.value.suggested_filename
    download_info.value.save_as(str(bank_file))
    assert bank_file.read_bytes().startswith("\ufeff序号".encode())
    engine = make_engine(database_url)
    with read_transaction(engine) as session:
        instructions = batch_instructions(session, batch_by_reference(session, reference).id)
    engine.dispose()
    rows = instructions.sort_values("payment_reference").to_dict("records")
    failing = {rows[0]["payment_reference"], rows[1]["payment_reference"]}
    returned = directory / "回盘.csv"
    write_return_file(rows, failing, returned)
    cashier.go("/cashier")
    cashier.page.select_option("form[action='/cashier/returns'] select[name=profile]", "generic")
    _upload(cashier, "/cashier/returns", {"file": returned})
    assert "失败 2 笔" in cashier.wait_job("returns")
    cashier.go("/cashier")
    cashier.shot("failures")
    assert rows[0]["household_id"] in cashier.page.inner_text("main")
    return instructions, failing, rows[0]["household_id"]


def _counter_prints_the_card(clerk: Person, household_id: str, shots: Path) -> None:
    """窗口 finds the failed household by typing, opens it and prints its 明白卡."""
    clerk.go("/counter")
    clerk.page.fill("input[name=q]", household_id[:10])
    result = f"[data-search-results] a[href$='{household_id}']"
    clerk.page.wait_for_selector(result, timeout=10_000)
    clerk.shot("search")
    clerk.page.click(result)
    household = clerk.page.inner_text("main")
    assert "发放失败" in household and "改卡后重新发放" in household
    clerk.shot("household")
    clerk.page.click("a:has-text('打印明白卡')")
    card = clerk.page.inner_text("body")
    assert "惠民惠农资金明白卡" in card and "一致（分毫不差）" in card
    clerk.shot("card")
    clerk.page.pdf(path=str(shots / "card.pdf"), format="A4")


def _auditor_reconciles(auditor: Person, reference: str, instructions, failing: set[str], directory: Path) -> None:  # type: ignore[no-untyped-def]
    """审计 imports the month's statement and sees the reconciliation and its 调节表."""
    from disburse.dev.demo import bank
    from disburse.foundation.dates import period_of

    today = dt.date.today()
    decided = instructions.assign(
        status=["failure" if ref in failing else "success" for ref in instructions["payment_reference"]],
        reason="账户已销户",
    )
    statement = directory / "对账单.csv"
    lines = bank.month_statement_lines(
        on=today,
        batch_reference=reference,
        decided=decided,
        settlement_receipts=[],
        fee_per_payee_fen=50,
        interest_fen=1_234,
    )
    bank.write_statement(statement, OPENING_FEN, lines, first_transaction=1)
    auditor.go("/audit")
    auditor.shot("audit")
    _upload(auditor, "/audit/statement", {"file": statement})
    assert "新增" in auditor.wait_job("statement")
    auditor.go("/audit")
    auditor.page.fill("form[action='/audit/reconcile'] input[name=period]", period_of(today))
    auditor.page.click("form[action='/audit/reconcile'] button")
    reconciled = auditor.wait_job("reconciled")
    assert "银行存款余额调节表" in reconciled and "调节后的存款余额" in reconciled
    assert BANK_ACCOUNT[-4:] in reconciled


def test_the_month_in_a_browser(database_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    county = make_county(tmp_path, households=80)
    set_up_books(database_url, county, registers=False, earlier_snapshots=True)
    shots, bank_files = tmp_path / "screenshots", tmp_path / "bank"
    shots.mkdir()
    bank_files.mkdir()
    app = web_app(database_url, tmp_path)
    with Server(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        maker, checker = Person(browser, base, "maker", shots), Person(browser, base, "checker", shots)
        _maker_submits(maker, county)
        _returned_resubmitted_approved(maker, checker)
        cashier = Person(browser, base, "cashier", shots)
        reference = _batch_prepared_and_approved(cashier, checker, browser, base, shots)
        instructions, failing, failed_household = _bank_file_and_returns(cashier, reference, database_url, bank_files)
        _counter_prints_the_card(Person(browser, base, "clerk", shots), failed_household, shots)
        _auditor_reconciles(Person(browser, base, "auditor", shots), reference, instructions, failing, bank_files)
        browser.close()
    assert len(list(shots.glob("*.png"))) >= 18
