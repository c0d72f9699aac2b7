"""The poster's refusals in Chinese, as a user sees them by default (issue 15 item 1)."""

from __future__ import annotations

import pytest
from ledger_builders import batch, draft

from disburse.foundation.db import transaction
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import language
from disburse.ledger.posting import post_entries


def test_unknown_account_and_entity_are_refused_in_chinese(engine) -> None:  # type: ignore[no-untyped-def]
    with language("zh"), pytest.raises(DisburseError) as refused, transaction(engine) as session:
        entries = batch(draft(("999", 100), ("501", -100)), draft(("102", 100), ("501", -100), entity="NOPE"))
        post_entries(session, entries, idempotency_key="k1", user="alice")
    message = str(refused.value)
    assert message.startswith("共 2 个问题；未记账：")
    assert "会计科目 '999' 不在科目表中" in message
    assert "核算单位 'NOPE' 不存在" in message


def test_a_bad_idempotency_key_is_refused_in_chinese(engine) -> None:  # type: ignore[no-untyped-def]
    with language("zh"), pytest.raises(DisburseError) as refused, transaction(engine) as session:
        post_entries(session, batch(draft(("102", 100), ("501", -100))), idempotency_key="", user="alice")
    assert "幂等键须为 1 至" in str(refused.value)
