"""Issue 15 item 1: what a cashier, a maker and a checker read from payouts is Chinese by
default, with the figures of the English message, and the texts payouts keeps (a fix's reason,
a failure's reason, a return line's note) are written in the language of the command that made
them.

The worked example is the one of ``test_card_fixes``: H001 paid 100.00, H002's 80.00 failed
with 户名不符 and is held until its card is fixed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from payout_builders import NOVEMBER_20, ONE_APPROVER, card, owe
from test_card_fixes import failed, luhn_card, prepare, propose  # noqa: F401  (failed is a fixture)

from disburse.foundation.db import transaction
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import language
from disburse.foundation.masking import mask_identifier
from disburse.payouts.cards import no_holders
from disburse.payouts.netting import net_payables
from disburse.payouts.service import approve_batch, approve_fix, fix_log
from disburse.payouts.status import household_status
from disburse.payouts.stops import release_stop, stop_payable


def test_a_checker_reads_the_four_eyes_refusals_in_chinese(failed) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    with language("zh"), transaction(failed) as session:
        proposed = propose(session, "H002", luhn_card(22), bank_name="中国农业银行")
    old, new = mask_identifier(luhn_card(2)), mask_identifier(luhn_card(22))
    assert proposed.message.startswith(f"FIX-202611-0001：H002 账号 {old} → {new}，开户行 （无） → 中国农业银行，")
    assert "经办人 frank；须由 frank 以外的人审核通过后生效（payout approve-fix FIX-202611-0001）" in proposed.message
    with language("zh"), pytest.raises(DisburseError) as refused:
        with transaction(failed) as session:
            approve_fix(session, "FIX-202611-0001", "frank", card_holders=no_holders)
    assert str(refused.value) == (
        "frank 经办了 FIX-202611-0001，不能审核通过：改卡须由经办人以外的人审核（双人复核：制单人与审核人不得为同一人）"
    )
    # The default reason of a fix is kept as the maker read it.
    with transaction(failed) as session:
        assert fix_log(session)["reason"].tolist() == ["窗口办理改卡"]


def test_the_held_line_and_the_failure_read_in_chinese(failed) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    with transaction(failed) as session, language("zh"):
        status = household_status(session, "H002")
        held = prepare(session)
    reasons = {(line.state, line.reason) for line in status.lines}
    assert ("held", "上次发放失败，待改卡后重发") in reasons and ("failed", "户名不符") in reasons
    assert held.message == "COUNTY 没有新的待发款项（1 笔留待以后发放）"
    assert held.kept[0].reason == (
        "上次发往此卡的款项失败；请办理改卡（payout fix-account，再 approve-fix）或使用 --force"
    )
    with transaction(failed) as session, language("en"):
        english = household_status(session, "H002")
    assert ("held", "awaiting a card fix after a failed payment") in {(x.state, x.reason) for x in english.lines}


def test_a_preparer_cannot_approve_and_a_stop_names_its_checker_in_chinese(engine) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        owe(session, [{"household_id": "H001", "amount_fen": 10_000, "account_no": card(1)}])
    with transaction(engine) as session, language("zh"):
        stopped = stop_payable(session, 1, "户主已死亡待核实", "carol")
    assert stopped == "应付款 1（H001，光伏收益分配 2026-10）已停发，停发记录 1"
    with language("zh"), pytest.raises(DisburseError, match="须由另一人审核解除"):
        with transaction(engine) as session:
            release_stop(session, 1, "核实在世", "carol")
    with transaction(engine) as session, language("zh"):
        assert release_stop(session, 1, "核实在世", "bob") == "停发记录 1 已由 bob 解除；应付款 1 重新待发"
        batch = prepare(session, today=NOVEMBER_20)
    assert batch.message == (
        f"批次 {batch.batch_reference}：1 笔付款，合计 100.00 元，来自 COUNTY 的 1 笔应付款；须由 alice 以外的一人审核"
    )
    with language("zh"), pytest.raises(DisburseError) as refused:
        with transaction(engine) as session:
            approve_batch(session, batch.batch_reference, "alice", ONE_APPROVER)
    assert "alice 编制了批次" in str(refused.value) and "不能审核：批次须由另一人审核" in str(refused.value)


def test_netting_says_why_a_payment_waits_in_the_language_of_the_command() -> None:
    payables = pd.DataFrame(
        {
            "id": np.array([1, 2], dtype=np.int64),
            "payee_type": ["household", "household"],
            "payee_id": ["H001", "H002"],
            "household_id": ["H001", "H002"],
            "account_no": [None, card(2)],
            "account_name": ["甲", "乙"],
            "bank_name": [None, None],
            "programme": ["光伏收益分配", "光伏收益分配"],
            "period": ["2026-10", "2026-10"],
            "amount_fen": np.array([5_000, -300], dtype=np.int64),
        }
    )
    with language("zh"):
        kept = net_payables(payables).kept
    assert dict(zip(kept["payee_id"], kept["reason"])) == {
        "H001": "没有登记银行账号；请办理改卡（payout fix-account）",
        "H002": "轧差后为 0 或负数；留待以后发放",
    }
