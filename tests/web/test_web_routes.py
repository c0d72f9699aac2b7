"""Every route for every role (allowed or refused), logging in, lock-out, the form token, escaping,
and the public page's rate limit and its refusal to show another household."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient
from web_support import (
    ACCOUNTS,
    PASSWORD,
    county_with_books,
    form_token,
    job_page,
    log_in,
    make_county,
    set_up_books,
    text_of,
    web_app,
)

from disburse.accounts.roles import may
from disburse.audit.log import audit_entries
from disburse.foundation.db import make_engine, read_transaction
from disburse.web.base import ROUTE_ACTIONS

# Values for the routes' path parameters: ids that exist nowhere (a refusal, never a change).
PATH_VALUES = {
    "job_id": "no-such-job",
    "key": "problems",
    "household_id": "0000000000000000",
    "kind": "register",
    "run_id": "999999",
    "reference": "BATCH-209901-0001",
    "number": "1",
    "match_id": "M0000000000000000",
    "decision": "confirm",
    "finding_id": "F-0000",
    "what": "disable",
}
# Routes left out of the matrix: logging out ends the session the matrix goes on with.
SKIPPED = {("POST", "/logout")}


def _routes(app) -> list[tuple[str, str, str | None]]:  # type: ignore[no-untyped-def]
    found = []
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        wrapped = getattr(route.endpoint, "__wrapped__", route.endpoint)
        action = ROUTE_ACTIONS[wrapped.__module__ + "." + wrapped.__name__]
        for method in route.methods - {"HEAD"}:
            path = re.sub(r"\{(\w+)\}", lambda match: PATH_VALUES[match.group(1)], route.path)
            if (method, route.path) not in SKIPPED:
                found.append((method, path, action))
    return sorted(found)


def _entries(url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    try:
        with read_transaction(engine) as session:
            return audit_entries(session, limit=10_000)
    finally:
        engine.dispose()


@pytest.fixture
def books(database_url: str, tmp_path: Path, tmp_path_factory):  # type: ignore[no-untyped-def]
    county = county_with_books(database_url, tmp_path, tmp_path_factory, households=60)
    app = web_app(database_url, tmp_path)
    with TestClient(app) as lifespan:  # starts and stops the app's threads once
        yield app, county, lifespan


def test_every_route_for_every_role(books, database_url: str) -> None:
    app, _county, anonymous = books
    routes = _routes(app)
    assert len(routes) >= 35
    refused_count = 0
    for name, roles in ACCOUNTS.items():
        client = log_in(app, name)
        token = form_token(client, "/password")
        for method, path, action in routes:
            if method == "GET":
                response = client.get(path, follow_redirects=False)
            else:
                response = client.post(path, data={"form_token": token}, follow_redirects=False)
            allowed = action is None or may(frozenset(roles), action)
            if allowed:
                assert response.status_code != 403, (name, method, path, response.text[:300])
                assert response.status_code < 500, (name, method, path, response.text[:300])
            else:
                assert response.status_code == 403, (name, method, path, response.status_code)
                assert "无权访问" in response.text
                refused_count += 1
    # By hand: what a role must never reach.
    clerk = log_in(app, "clerk")
    assert clerk.get("/work").status_code == 403
    assert clerk.get("/review").status_code == 403
    auditor = log_in(app, "auditor")
    auditor_token = form_token(auditor, "/audit")
    assert auditor.get("/review").status_code == 200  # reads everything
    assert auditor.post("/review/runs/1/approve", data={"form_token": auditor_token}).status_code == 403
    assert auditor.post("/cashier/prepare", data={"form_token": auditor_token, "entity": "COUNTY"}).status_code == 403
    maker = log_in(app, "maker")
    assert maker.get("/admin").status_code == 403
    assert maker.get("/review/runs/999999").status_code == 404  # a maker reads a run's page, and cannot decide
    assert log_in(app, "cashier").get("/review/batches/BATCH-209901-0001").status_code == 404
    assert maker.get("/counter").status_code == 403
    # Not logged in: pages send to the login page, forms are refused.
    for method, path, action in routes:
        if action is None:
            continue
        if method == "GET":
            response = anonymous.get(path, follow_redirects=False)
            assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
        else:
            assert anonymous.post(path, data={}, follow_redirects=False).status_code == 401, path
    app.state.web.audit.flush()
    refusals = [entry for entry in _entries(database_url) if entry.command == "web refused"]
    assert len(refusals) >= refused_count + 5  # every refusal is logged, with who asked


def test_login_lock_out_and_reset(books) -> None:
    app, _county, client = books
    token = form_token(client, "/login")
    for _attempt in range(5):
        wrong = client.post("/login", data={"name": "cashier", "password": "wrong-password", "form_token": token})
        assert wrong.status_code == 401
    right = client.post("/login", data={"name": "cashier", "password": PASSWORD, "form_token": token})
    assert right.status_code == 401 and "已被锁定" in right.text
    admin = log_in(app, "admin")
    admin_token = form_token(admin, "/admin")
    reset = admin.post(
        "/admin/accounts/reset-password",
        data={"name": "cashier", "password": "new-password-1", "form_token": admin_token},
    )
    assert reset.status_code == 200 and "密码已重置" in reset.text
    log_in(app, "cashier", "new-password-1")
    nobody = client.post("/login", data={"name": "nobody", "password": PASSWORD, "form_token": token})
    assert nobody.status_code == 401 and "账户名或密码错误" in nobody.text


def test_form_token_is_required(books, database_url: str) -> None:
    app, _county, _client = books
    admin = log_in(app, "admin")
    other = log_in(app, "auditor")
    stolen = form_token(other, "/audit")
    for token in ("", "forged", stolen):
        refused = admin.post("/admin/accounts/disable", data={"name": "maker", "form_token": token})
        assert refused.status_code == 403 and "表单已失效" in refused.text
    assert log_in(app, "maker")  # still active: nothing was changed
    # A visitor's login form needs the token its cookie holds, too.
    visitor = TestClient(app)
    assert visitor.post("/login", data={"name": "admin", "password": PASSWORD, "form_token": "x"}).status_code == 403


def test_disabled_account_and_idle_session(books) -> None:
    app, _county, _client = books
    clerk = log_in(app, "clerk")
    assert clerk.get("/counter").status_code == 200
    admin = log_in(app, "admin")
    admin.post("/admin/accounts/disable", data={"name": "clerk", "form_token": form_token(admin, "/admin")})
    assert clerk.get("/counter", follow_redirects=False).status_code == 303  # its session ended
    token = form_token(TestClient(app), "/login")
    again = TestClient(app)
    token = form_token(again, "/login")
    disabled = again.post("/login", data={"name": "clerk", "password": PASSWORD, "form_token": token})
    # The page is Chinese by default and says why (the refusal's kind, not its English words).
    assert disabled.status_code == 401 and "账户已停用。" in disabled.text and "disabled" not in disabled.text
    # Idle past the timeout: the session is gone.
    app.state.web.sessions.idle_seconds = 0
    auditor = log_in(app, "auditor")
    assert auditor.get("/audit", follow_redirects=False).status_code == 303


def _household_row(county) -> dict:  # type: ignore[no-untyped-def]
    with county.registers[-1].open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    heads = [row for row in rows if row["与户主关系"] == "户主"]
    return heads[0] | {"other_head": heads[1]["姓名"], "other_id": heads[1]["证件号码"]}


def test_counter_search_household_page_and_masking(books, database_url: str) -> None:
    app, county, _client = books
    head = _household_row(county)
    clerk = log_in(app, "clerk")
    for query in (head["户编号"], head["姓名"], head["证件号码"], head["证件号码"][-6:]):
        page = clerk.get("/counter", params={"q": query})
        assert page.status_code == 200 and head["户编号"] in page.text, query
    found = clerk.get("/counter/search", params={"q": head["姓名"][:1]}).json()
    assert any(item["household_id"] == head["户编号"] for item in found) or len(found) == 20
    page = clerk.get(f"/counter/households/{head['户编号']}")
    assert page.status_code == 200 and head["姓名"] in page.text
    assert head["证件号码"] not in page.text and head["证件号码"][:6] + "********" + head["证件号码"][-4:] in page.text
    token = form_token(clerk, f"/counter/households/{head['户编号']}")
    unmasked = clerk.post(f"/counter/households/{head['户编号']}", data={"form_token": token, "reason": "户主持证核对"})
    assert unmasked.status_code == 200 and head["证件号码"] in unmasked.text
    app.state.web.audit.flush()
    logged = [entry for entry in _entries(database_url) if entry.command == "web counter unmask"]
    assert len(logged) == 1 and logged[0].user == "clerk" and logged[0].message == "户主持证核对"
    assert clerk.get("/counter/households/123").status_code == 400
    assert clerk.get("/counter/households/0000000000000000").status_code == 404


def test_public_page_shows_only_the_own_household_and_is_rate_limited(
    database_url: str, tmp_path: Path, tmp_path_factory
) -> None:
    county = county_with_books(database_url, tmp_path, tmp_path_factory, households=50)
    app = web_app(database_url, tmp_path, public_lookups_per_window=4)
    head = _household_row(county)
    with TestClient(app) as visitor:
        token = form_token(visitor, "/public")
        own = visitor.post("/public", data={"form_token": token, "name": head["姓名"], "id_number": head["证件号码"]})
        assert own.status_code == 200 and f"户主 {head['姓名']}" in own.text
        assert head["other_head"] not in own.text and head["证件号码"] not in own.text
        mixed = visitor.post(
            "/public", data={"form_token": token, "name": head["other_head"], "id_number": head["证件号码"]}
        )
        assert mixed.status_code == 404 and head["other_head"] not in text_of(mixed.text).replace("没有查到", "")
        member = visitor.post(
            "/public", data={"form_token": token, "name": head["姓名"], "id_number": head["other_id"]}
        )
        assert member.status_code == 404
        fourth = visitor.post(
            "/public", data={"form_token": token, "name": head["姓名"], "id_number": head["证件号码"]}
        )
        assert fourth.status_code == 200
        limited = visitor.post(
            "/public", data={"form_token": token, "name": head["姓名"], "id_number": head["证件号码"]}
        )
        assert limited.status_code == 429 and "过于频繁" in limited.text
        app.state.web.audit.flush()
    lookups = [entry for entry in _entries(database_url) if entry.command == "web public lookup"]
    assert [entry.outcome for entry in lookups] == ["ok", "ok", "ok", "ok", "refused"]
    assert all(head["证件号码"] not in " ".join(entry.arguments) for entry in lookups)


def test_a_household_named_script_shows_as_text(database_url: str, tmp_path: Path) -> None:
    county = make_county(tmp_path, households=50)
    set_up_books(database_url, county, registers=False)
    with county.registers[-1].open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    name_column = rows[0].index("姓名")
    household_column = rows[0].index("户编号")
    rows[1][name_column] = "<script>alert(1)</script>"
    hostile = tmp_path / "名册<b>.csv"
    with hostile.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    app = web_app(database_url, tmp_path)
    with TestClient(app):
        maker = log_in(app, "maker")
        token = form_token(maker, "/work")
        with hostile.open("rb") as handle:
            job = maker.post(
                "/work/upload/register",
                data={"form_token": token, "as_of": "2026-10-31"},
                files={"file": (hostile.name, handle, "text/csv")},
            )
            job = job_page(maker, job)
        assert job.status_code == 200 and "已导入" in job.text, text_of(job.text)[:800]
        assert "<b>" not in job.text and "名册_b_.csv" in job.text  # the file name was made safe
        clerk = log_in(app, "clerk")
        for page in (
            clerk.get("/counter", params={"q": rows[1][household_column]}),
            clerk.get(f"/counter/households/{rows[1][household_column]}"),
        ):
            assert "<script>alert(1)</script>" not in page.text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_refused_upload_lists_every_problem_and_offers_a_workbook(books) -> None:
    app, county, _client = books
    bad = county.directory / "bad.csv"
    with county.registers[-1].open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    id_column = rows[0].index("证件号码")
    rows[2][id_column] = "12345"
    rows[3][id_column] = "61010219900101123X"
    with bad.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    maker = log_in(app, "maker")
    with bad.open("rb") as handle:
        page = maker.post(
            "/work/upload/register",
            data={"form_token": form_token(maker, "/work")},
            files={"file": ("bad.csv", handle, "text/csv")},
        )
        page = job_page(maker, page)
    assert page.status_code == 200 and "文件被拒绝，没有写入任何内容" in page.text
    assert "<th>文件</th><th>行</th><th>列</th><th>值</th><th>原因</th>" in page.text
    assert '<td>bad.csv</td><td class="number">3</td><td>证件号码</td><td>12345</td>' in page.text
    link = re.search(r'href="(/jobs/[^"]+/files/problems)"', page.text)
    assert link, "no errors workbook offered"
    workbook = maker.get(link.group(1))
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
    other = log_in(app, "auditor")
    assert other.get(link.group(1)).status_code == 404  # a job's files are its owner's only


def test_upload_limits_and_file_names(database_url: str, tmp_path: Path) -> None:
    county = make_county(tmp_path, households=50)
    set_up_books(database_url, county, registers=False)
    app = web_app(database_url, tmp_path, upload_bytes_max=4096)
    with TestClient(app):
        maker = log_in(app, "maker")
        token = form_token(maker, "/work")
        big = maker.post(
            "/work/upload/register", data={"form_token": token}, files={"file": ("big.csv", b"x" * 200_000, "text/csv")}
        )
        assert big.status_code == 413 and "上限" in big.text
        wrong = maker.post(
            "/work/upload/register",
            data={"form_token": token},
            files={"file": ("../../etc/passwd", b"a,b\n", "text/plain")},
        )
        assert wrong.status_code == 400 and "类型不对" in wrong.text
        empty = maker.post(
            "/work/upload/register", data={"form_token": token}, files={"file": ("a.csv", b"", "text/csv")}
        )
        assert empty.status_code == 400 and "是空的" in empty.text
        assert not list((tmp_path / "files").rglob("passwd"))


def test_no_stack_trace_reaches_a_page(books, monkeypatch: pytest.MonkeyPatch) -> None:
    app, _county, _client = books
    import disburse.web.pages.review as review

    def broken(session):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals")

    monkeypatch.setattr(review, "review_queue", broken)
    checker = log_in(app, "checker")
    page = TestClient(app, raise_server_exceptions=False, cookies=checker.cookies).get("/review")
    assert page.status_code == 500 and "服务器内部错误" in page.text
    assert "secret internals" not in page.text and "Traceback" not in page.text


def test_issue16_item2_the_verify_page_checks_the_audit_log_too(books) -> None:
    app, _county, _client = books
    auditor = log_in(app, "auditor")
    page = job_page(auditor, auditor.post("/audit/verify", data={"form_token": form_token(auditor, "/audit")}))
    assert page.status_code == 200, page.text
    assert "每个单位的哈希链和余额都已校验无误，审计日志的哈希链也完好。" in page.text
    assert "<td>审计日志</td>" in page.text
