"""Issue 14 item 3 on the 审核 pages: a run of a programme with a two-level review chain
(乡镇 → 财政终审) shows in the queue with the level it waits for and its log; the page's approve
form carries that level; one checker approves at 乡镇, cannot act again at 财政终审, a second
checker's approval there posts the run; a stale page (a level already taken) is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient
from web_support import county_with_books, form_token, log_in, text_of, web_app

from disburse.allocations.runs import calculate_run
from disburse.foundation.db import make_engine, read_transaction, transaction

CHAIN = "\nreview:\n  levels:\n    - {level: 乡镇}\n    - {level: 财政终审}\n"


def _count(url: str, sql: str) -> int:
    engine = make_engine(url)
    try:
        with read_transaction(engine) as session:
            return int(session.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


@pytest.fixture
def chained_run(database_url: str, tmp_path: Path, tmp_path_factory):  # type: ignore[no-untyped-def]
    county = county_with_books(database_url, tmp_path, tmp_path_factory, households=60)
    rule = tmp_path / "pv-chain.yaml"
    rule.write_text(county.pv_rule.read_text(encoding="utf-8") + CHAIN, encoding="utf-8")
    engine = make_engine(database_url)
    with transaction(engine) as session:
        run_id = calculate_run(session, rule, "2026-10", "maker").run_id
    engine.dispose()
    app = web_app(database_url, tmp_path)
    with TestClient(app):
        yield app, run_id


def test_two_levels_on_the_review_pages(chained_run, database_url: str) -> None:
    app, run_id = chained_run
    checker, checker2 = log_in(app, "checker"), log_in(app, "checker2")
    queue = text_of(checker.get("/review").text)
    assert "0/2 · 待 乡镇 审核" in queue
    page = checker.get(f"/review/runs/{run_id}").text
    assert "审核链" in page and 'name="level" value="乡镇"' in page
    token = form_token(checker, f"/review/runs/{run_id}")
    first = checker.post(f"/review/runs/{run_id}/approve", data={"form_token": token, "level": "乡镇"})
    assert first.status_code == 200 and "现待 财政终审 审核" in text_of(first.text)
    queue = text_of(checker.get("/review").text)
    assert "1/2 · 待 财政终审 审核" in queue and "乡镇：已审核 checker" in queue
    assert _count(database_url, f"SELECT count(*) FROM payables WHERE run_id = {run_id}") == 0

    # The same account at the second level, and a page still showing 乡镇: both refused.
    again = checker.post(f"/review/runs/{run_id}/approve", data={"form_token": token, "level": "财政终审"})
    assert again.status_code == 409 and "同一账号在一张分配表中只能审核一级" in text_of(again.text)
    stale = checker2.post(
        f"/review/runs/{run_id}/approve", data={"form_token": form_token(checker2, "/review"), "level": "乡镇"}
    )
    assert stale.status_code == 409 and "已由 checker 处理" in text_of(stale.text)

    page = checker2.get(f"/review/runs/{run_id}").text
    assert 'name="level" value="财政终审"' in page
    last = checker2.post(
        f"/review/runs/{run_id}/approve", data={"form_token": form_token(checker2, "/review"), "level": "财政终审"}
    )
    assert last.status_code == 200 and "已批准并记账" in last.text
    assert _count(database_url, f"SELECT count(*) FROM payables WHERE run_id = {run_id}") > 0
    assert _count(database_url, "SELECT count(*) FROM allocation_reviews") == 2
    assert f'/review/runs/{run_id}"' not in checker.get("/review").text
