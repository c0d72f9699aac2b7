"""The web application's language is its own setting (DISBURSE_WEB_LANG, Chinese by default),
not the command line's DISBURSE_LANG: the tests run with DISBURSE_LANG=en, and the pages stay
Chinese unless the web application is told otherwise."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from web_support import PASSWORD, log_in, web_app

from disburse.accounts.service import add_account
from disburse.foundation.db import make_engine, transaction
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import language
from disburse.web.jobs import JobRunner
from disburse.web.settings import WebSettings


def _app(url: str, directory: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            add_account(session, "admin", ("管理员",), PASSWORD, None)
            add_account(session, "clerk", ("窗口",), PASSWORD, "admin")
    finally:
        engine.dispose()
    return web_app(url, directory)


def test_pages_are_chinese_by_default_whatever_the_command_lines_language(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISBURSE_WEB_LANG", raising=False)
    app = _app(database_url, tmp_path)
    page = TestClient(app).get("/login").text
    assert '<html lang="zh-CN">' in page
    assert "账户名" in page and "农户查询本户兑付情况，请用" in page and "（无需登录）。" in page
    assert "Account name" not in page
    client = log_in(app, "clerk")
    refused = client.get("/counter/households/123")  # not 16 digits
    assert refused.status_code == 400
    assert "请检查填写的内容" in refused.text and "户编号应为 16 位数字。" in refused.text
    assert "页面不存在" in client.get("/no-such-page").text


def test_with_disburse_web_lang_en_the_pages_show_the_english_ids(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISBURSE_LANG", "zh")  # the shell's language does not decide the web's
    monkeypatch.setenv("DISBURSE_WEB_LANG", "en")
    app = _app(database_url, tmp_path)
    page = TestClient(app).get("/login").text
    assert '<html lang="en">' in page
    assert "Account name" in page and "A household looks up its own payments with" in page
    assert "账户名" not in page and "登录" not in page
    client = log_in(app, "clerk")
    counter = client.get("/counter").text
    assert "<h1>Counter</h1>" in counter and "Log out" in counter
    refused = client.get("/counter/households/123")
    assert "Please check what you filled in" in refused.text and "A household number is 16 digits." in refused.text
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "Page not found" in missing.text


def test_a_misspelt_web_language_is_refused_when_the_server_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISBURSE_WEB_LANG", "fr")
    with language("zh"), pytest.raises(DisburseError) as refused:
        WebSettings.build("sqlite://", tmp_path / "files")
    assert str(refused.value) == "DISBURSE_WEB_LANG 的值 'fr' 无效：请选择 zh 或 en"


def test_a_job_speaks_the_language_of_the_request_that_started_it(tmp_path: Path) -> None:
    """The pool's threads do not inherit a request's context: the runner hands the language on."""
    runner = JobRunner(tmp_path / "jobs", 1, 10)

    def missing_file(_job):  # type: ignore[no-untyped-def]
        raise FileNotFoundError(2, "No such file", str(tmp_path / "名册.csv"))

    try:
        with language("zh"):
            chinese = runner.start(runner.new("clerk", "导入", "import"), missing_file)
        with language("en"):
            english = runner.start(runner.new("clerk", "import", "import"), missing_file)
        deadline = time.monotonic() + 30
        while not (chinese.finished and english.finished):
            assert time.monotonic() < deadline, "the jobs did not finish"
            time.sleep(0.05)
    finally:
        runner.shutdown()
    assert chinese.message == "没有这个文件：名册.csv"
    assert english.message == "no such file: 名册.csv"
    with language("zh"):
        assert chinese.state_zh == "已拒绝"
    with language("en"):
        assert chinese.state_zh == "refused"
