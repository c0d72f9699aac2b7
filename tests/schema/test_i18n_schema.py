"""Issue 15 item 1: what the schema stage tells a user (an old database, no checkpoint yet)
reads in Chinese by default."""

from __future__ import annotations

import pytest

from disburse.foundation.db import make_engine, transaction
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import language
from disburse.schema.checkpoints import verify_checkpoints
from disburse.schema.migrate import head_revision, require_current


def test_an_uninitialised_database_is_refused_in_chinese(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    with language("zh"), pytest.raises(DisburseError) as refused:
        require_current(engine)
    message = str(refused.value)
    assert f"的数据库结构版本为 无，不是 {head_revision()}；请先运行 `disburse init`" in message
    engine.dispose()


def test_books_without_checkpoints_say_so_in_chinese(engine) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session, language("zh"):
        report = verify_checkpoints(session, [], None)
    assert report.warnings == ("没有检查点：尚未签名（先 `disburse keys init`，之后任何一次记账都会签一个）",)
    assert report.problems == ()
