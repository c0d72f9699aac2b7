"""Issue 15 item 1: the refusals of accounts (a wrong password, a missing role, the last
管理员) and the roles' descriptions read in Chinese by default; the role names are stored codes
and stay as they are in both languages."""

from __future__ import annotations

import datetime as dt

import pytest

from disburse.accounts.model import AccessRefused, LoginRefused
from disburse.accounts.roles import ROLE_DESCRIPTIONS, ROLE_MAKER
from disburse.accounts.service import add_account, authorise, log_in, set_active
from disburse.foundation.db import transaction
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import language

NOW = dt.datetime(2026, 11, 20, 9, 0)


def test_the_roles_are_described_in_the_language_of_the_reader() -> None:
    with language("zh"):
        assert ROLE_DESCRIPTIONS[ROLE_MAKER] == "导入名册与结算单、计算分配、编制批次"
    with language("en"):
        assert ROLE_DESCRIPTIONS[ROLE_MAKER] == (
            "imports registers and settlements, calculates allocations, prepares batches"
        )
    assert list(ROLE_DESCRIPTIONS) == ["经办", "审核", "出纳", "窗口", "审计", "管理员"]


def test_refusals_of_accounts_read_in_chinese(engine) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        add_account(session, "张管理", ["管理员"], "correct horse 1", None)
        add_account(session, "李经办", ["经办"], "correct horse 2", "张管理")
    with transaction(engine) as session, language("zh"):
        wrong = log_in(session, "李经办", "wrong password", now=NOW)
        assert isinstance(wrong, LoginRefused) and str(wrong) == "账户名或密码错误"
        with pytest.raises(AccessRefused) as refused:
            authorise(session, "李经办", "batch.review")
        assert str(refused.value) == "账户 李经办 的角色为 经办；batch.review 需要以下角色之一：审核"
        with pytest.raises(DisburseError) as last:
            set_active(session, "张管理", False, "张管理")
        assert str(last.value) == "张管理 是最后一个启用中的管理员；请先添加另一个再停用"
        with pytest.raises(DisburseError, match="密码至少 8 个字符，现有 5 个"):
            add_account(session, "王出纳", ["出纳"], "short", "张管理")


def test_a_login_refusal_says_its_kind_and_reads_in_chinese(engine) -> None:  # type: ignore[no-untyped-def]
    """The login page chooses what to show by the refusal's kind, so the refusal itself is made
    in the language of the moment (the web's: Chinese) like every other."""
    with transaction(engine) as session:
        add_account(session, "张管理", ["管理员"], "correct horse 1", None)
        add_account(session, "李经办", ["经办"], "correct horse 2", "张管理")
        set_active(session, "李经办", False, "张管理")
    with transaction(engine) as session, language("zh"):
        disabled = log_in(session, "李经办", "correct horse 2", now=NOW)
        assert isinstance(disabled, LoginRefused) and disabled.kind == "disabled"
        assert str(disabled) == "账户 李经办 已停用"
        unknown = log_in(session, "nobody", "x", now=NOW)
        assert isinstance(unknown, LoginRefused) and unknown.kind == "wrong"
        # Five wrong passwords in a row lock the account (LOGIN_FAILURES_MAX = 5).
        attempts = [log_in(session, "张管理", "wrong password", now=NOW) for _ in range(5)]
        assert [attempt.kind for attempt in attempts] == ["wrong"] * 4 + ["locked"]
        assert str(attempts[-1]) == "连续 5 次密码错误：账户 张管理 锁定 15 分钟"
        locked = log_in(session, "张管理", "correct horse 1", now=NOW)
        assert isinstance(locked, LoginRefused) and locked.kind == "locked"
