"""The four-eyes workflow through the pages: a run previewed and submitted, returned with a
comment its maker sees, submitted again, approved (posted, its payables recorded) by another
account; nobody approves their own run or batch; long work does not hold up other pages."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient
from web_support import county_with_books, form_token, job_page, log_in, web_app

from disburse.accounts.service import add_account
from disburse.foundation.db import make_engine, read_transaction, transaction


def _count(url: str, sql: str) -> int:
    engine = make_engine(url)
    try:
        with read_transaction(engine) as session:
            return int(session.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


def _preview_and_submit(client: TestClient, county, **fields: str) -> str:  # type: ignore[no-untyped-def]
    token = form_token(client, "/work")
    with county.pv_rule.open("rb") as handle:
        files = {"rule": ("pv.yaml", handle, "application/yaml")} if "from_run" not in fields else {}
        preview = client.post(
            "/work/allocate/preview", data={"form_token": token, "period": "2026-10", **fields}, files=files or None
        )
        preview = job_page(client, preview)
    assert preview.status_code == 200 and "分村汇总" in preview.text, preview.text[-1500:]
    job = re.search(r'name="job" value="([^"]+)"', preview.text).group(1)  # type: ignore[union-attr]
    submitted = job_page(client, client.post("/work/allocate/submit", data={"form_token": token, "job": job}))
    assert "已提交审核" in submitted.text, submitted.text[-1500:]
    return re.search(r"分配 (\d+)（", submitted.text).group(1)  # type: ignore[union-attr]


@pytest.fixture
def books(database_url: str, tmp_path: Path, tmp_path_factory):  # type: ignore[no-untyped-def]
    county = county_with_books(database_url, tmp_path, tmp_path_factory, households=60)
    engine = make_engine(database_url)
    with transaction(engine) as session:
        add_account(session, "both", ["经办", "审核"], "correct-horse-9", "admin")
    engine.dispose()
    app = web_app(database_url, tmp_path)
    with TestClient(app):
        yield app, county


def test_return_resubmit_approve(books, database_url: str) -> None:
    app, county = books
    maker, checker = log_in(app, "maker"), log_in(app, "checker")
    run_id = _preview_and_submit(maker, county)
    queue = checker.get("/review")
    assert f"/review/runs/{run_id}" in queue.text and "无上期" in queue.text
    token = form_token(checker, f"/review/runs/{run_id}")
    no_comment = checker.post(f"/review/runs/{run_id}/return", data={"form_token": token, "comment": " "})
    assert no_comment.status_code == 400 and "请填写退回意见" in no_comment.text
    returned = checker.post(
        f"/review/runs/{run_id}/return", data={"form_token": token, "comment": "请核对 <b>运维费</b>"}
    )
    assert "已退回经办人" in returned.text
    work = maker.get("/work")
    assert "请核对 &lt;b&gt;运维费&lt;/b&gt;" in work.text and f"/work?resubmit={run_id}" in work.text
    again = _preview_and_submit(maker, county, from_run=run_id)
    assert again != run_id
    approved = checker.post(f"/review/runs/{again}/approve", data={"form_token": form_token(checker, "/review")})
    assert "已批准并记账" in approved.text
    assert _count(database_url, f"SELECT count(*) FROM payables WHERE run_id = {again}") > 0
    assert _count(database_url, "SELECT count(*) FROM review_decisions") == 2
    twice = checker.post(f"/review/runs/{again}/approve", data={"form_token": form_token(checker, "/review")})
    assert twice.status_code == 409


def test_nobody_approves_their_own_run_or_batch(books, database_url: str) -> None:
    app, county = books
    both = log_in(app, "both")
    run_id = _preview_and_submit(both, county)
    own = both.post(f"/review/runs/{run_id}/approve", data={"form_token": form_token(both, "/review")})
    assert own.status_code == 409 and f"分配表 {run_id} 由 both 计算；须由另一人审核" in own.text
    assert (
        _count(database_url, f"SELECT count(*) FROM allocation_runs WHERE id = {run_id} AND status = 'calculated'") == 1
    )
    checker = log_in(app, "checker")
    checker.post(f"/review/runs/{run_id}/approve", data={"form_token": form_token(checker, "/review")})
    cashier = log_in(app, "cashier")
    prepared = cashier.post(
        "/cashier/prepare", data={"form_token": form_token(cashier, "/cashier"), "entity": "COUNTY"}
    )
    prepared = job_page(cashier, prepared)
    reference = re.search(r"批次 (BATCH-\d{6}-\d{4}) 已编制", prepared.text).group(1)  # type: ignore[union-attr]
    engine = make_engine(database_url)
    with transaction(engine) as session:
        add_account(session, "cashier-checker", ["出纳", "审核"], "correct-horse-9", "admin")
    engine.dispose()
    other = log_in(app, "cashier-checker")
    returned = other.post(
        f"/review/batches/{reference}/return", data={"form_token": form_token(other, "/review"), "comment": "金额待核"}
    )
    assert "已退回" in returned.text
    assert (
        _count(
            database_url,
            f"SELECT count(*) FROM payment_batches WHERE batch_reference = '{reference}' AND status = 'cancelled'",
        )
        == 1
    )
    again = job_page(
        other, other.post("/cashier/prepare", data={"form_token": form_token(other, "/cashier"), "entity": "COUNTY"})
    )
    second = re.search(r"批次 (BATCH-\d{6}-\d{4}) 已编制", again.text).group(1)  # type: ignore[union-attr]
    own_batch = other.post(f"/review/batches/{second}/approve", data={"form_token": form_token(other, "/review")})
    # The web speaks Chinese (DISBURSE_WEB_LANG defaults to zh), so the refusal is the catalog's.
    assert own_batch.status_code == 409 and f"编制了批次 {second}，不能审核" in own_batch.text


def test_long_work_does_not_hold_up_other_pages(books, monkeypatch: pytest.MonkeyPatch) -> None:
    app, county = books
    import disburse.registry.service as registry_service

    started, release = threading.Event(), threading.Event()
    real = registry_service.import_shares

    def slow(*arguments, **keywords):  # type: ignore[no-untyped-def]
        outcome = real(*arguments, **keywords)  # inside the job's write transaction
        started.set()
        release.wait(30)
        return outcome

    monkeypatch.setattr(registry_service, "import_shares", slow)
    maker, clerk = log_in(app, "maker"), log_in(app, "clerk")
    with county.shares.open("rb") as handle:
        page = maker.post(
            "/work/upload/shares",
            data={"form_token": form_token(maker, "/work"), "as_of": "2026-08-31"},
            files={"file": ("shares.csv", handle, "text/csv")},
        )
    assert page.status_code == 200 and "运行中" in page.text and "<progress" in page.text
    assert started.wait(30)
    job = app.state.web.jobs.of_owner("maker")[0]
    assert not job.finished
    # While the job holds its transaction, another user's pages are served.
    assert clerk.get("/counter", params={"q": "6110"}).status_code == 200
    status = maker.get(f"/jobs/{job.id}/status").json()
    assert status["state"] == "running" and status["state_zh"] == "运行中"
    release.set()
    assert job.done_event.wait(30) and job.state == "done"
