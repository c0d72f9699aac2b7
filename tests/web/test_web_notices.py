"""The run's notices page (公示): each village's notice with its period, the objections, and why a
batch cannot be prepared from the run today (issue 14 item 2, on the web).

The tiny county's subsidy run (see tests/payouts/test_notices.py) owes 罗口村 200.00 (H1 150.00,
H2 50.00) and 东村 50.00; noticed from today for 7 days, both notices run until today + 6 and an
objection to H2 is open, so the page names both reasons; a run without notices says so.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from starlette.testclient import TestClient
from web_support import ACCOUNTS, PASSWORD, log_in, text_of, web_app

sys.path.insert(0, str(Path(__file__).parents[1] / "payouts"))
sys.path.insert(0, str(Path(__file__).parents[1] / "allocations"))
from cli_runner import run  # noqa: E402
from test_notices import posted_run  # noqa: E402
from tiny_county import H2  # noqa: E402

from disburse.accounts.service import add_account  # noqa: E402
from disburse.foundation.db import make_engine, transaction  # noqa: E402


def test_the_notices_page_shows_periods_objections_and_the_refusal(
    database_url: str, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DISBURSE_HOTLINE", "0914-12317")
    posted_run(database_url, tmp_path)
    engine = make_engine(database_url)
    with transaction(engine) as session:
        for name, roles in ACCOUNTS.items():
            add_account(session, name, roles, PASSWORD, None)
    engine.dispose()
    app = web_app(database_url, tmp_path)
    with TestClient(app):
        checker = log_in(app, "checker")
        before = text_of(checker.get("/review/runs/1/notices").text)
        assert "disburse notice create 1" in before, before[-800:]

        today = dt.date.today()
        last = today + dt.timedelta(days=6)
        made = run(database_url, "notice", "create", "1", "--out", str(tmp_path / "gs"), user="maker")
        assert made.exit_code == 0, made.output
        assert run(database_url, "notice", "object", "1", H2, "--reason", "李一已外出务工", user="clerk").exit_code == 0
        page = checker.get("/review/runs/1/notices")
        assert page.status_code == 200
        shown = text_of(page.text)
        assert "罗口村" in shown and "东村" in shown and "¥200.00" in shown and "¥50.00" in shown
        assert f"{today.isoformat()}" in shown and last.isoformat() in shown and "0914-12317" in shown
        assert "李一已外出务工" in shown and "clerk" in shown
        # An open objection awaits a decision (待处理); it is not a payable's 待发放.
        assert "待处理" in shown and "待发放" not in shown
        # The refusal payout prepare would give today: the period and the open objection.
        assert (today + dt.timedelta(days=7)).isoformat() in shown
        assert f"({H2})" in shown or H2 in shown
        assert (
            "run 1" in checker.get("/review/runs/1").text
            or "/review/runs/1/notices" in checker.get("/review/runs/1").text
        )
        assert checker.get("/review/runs/999999/notices").status_code == 404
