"""Issue 15 item 1: an anomaly finding reads in Chinese by default, and its evidence digest is
the same in every language: the digest hashes the English texts, as it did before the texts were
translated, so a finding reviewed in one language is not shown as changed in another (nor after
the upgrade that translated them)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from disburse.audit.anomalies import CHECKS_BY_ID
from disburse.audit.evidence import payable_evidence, status_name
from disburse.audit.model import STATUS_NAMES, english_kept
from disburse.foundation.i18n import language
from disburse.payouts.model import PAYABLE_STATUS_NAMES

PAYABLE = {
    "payable_id": 2654,
    "run_id": None,
    "payee_id": "6110021052050003",
    "payee_type": "household",
    "household_id": "6110021052050003",
    "programme": "低保金",
    "benefit_period": "2025-09",
    "amount_fen": 52_000,
    "due_on": dt.date(2025, 9, 30),
    "status": "open",
}


def _finding():  # type: ignore[no-untyped-def]
    """A01's finding for the payable above, 457 days idle on 2026-12-31, built as the check builds it."""
    check = CHECKS_BY_ID["money_idle"]
    return check.finding(
        "payable",
        (2654,),
        english_kept.tr(
            "payable {payable} ({payee} {programme} {period}, {amount} yuan) has been owed since {due}, "
            "{idle_days} days, unpaid",
            payable=2654,
            payee="6110021052050003",
            programme="低保金",
            period="2025-09",
            amount="520.00",
            due=dt.date(2025, 9, 30),
            idle_days=457,
        ),
        english_kept.tr(
            "money owed to a beneficiary must be paid within {days} days; this payable is {status}",
            days=365,
            status=status_name("open", PAYABLE_STATUS_NAMES),
        ),
        ["household:6110021052050003"],
        [payable_evidence(PAYABLE)],
        52_000,
    )


def test_a_finding_reads_in_chinese_and_hashes_its_english() -> None:
    with language("zh"):
        chinese = _finding()
    with language("en"):
        english = _finding()
    assert (
        chinese.summary
        == "应付款 2654（6110021052050003 低保金 2025-09，520.00 元）自 2025-09-30 起应付，已 457 天仍未发放"
    )
    assert chinese.rule == "应付给受益人的款项须在 365 天内发放；该应付款为“待发放”"
    assert chinese.rows[0].note == "低保金 2025-09（待发放）"
    assert english.rule == "money owed to a beneficiary must be paid within 365 days; this payable is open"
    # The digest of the English document, written out by hand.
    row = [
        "payable",
        "payable 2654",
        "2025-09-30",
        52_000,
        None,
        None,
        "6110021052050003",
        None,
        "低保金 2025-09 (open)",
    ]
    document = [
        "payable",
        "money owed to a beneficiary must be paid within 365 days; this payable is open",
        52_000,
        [row],
    ]
    digest = hashlib.sha256(json.dumps(document, ensure_ascii=False, default=str).encode()).hexdigest()
    assert chinese.evidence_digest == english.evidence_digest == digest
    assert chinese.finding_id == english.finding_id
    # What a reviewer saw is what is stored with the review.
    assert json.loads(chinese.evidence_json())["rule"] == chinese.rule


def test_checks_are_explained_and_review_states_named_in_chinese() -> None:
    with language("zh"):
        assert CHECKS_BY_ID["paid_twice"].shown_explanation.startswith("同一人或同一户、同一项目、同一所属期的待遇")
        assert [STATUS_NAMES[state] for state in ("new", "reviewed", "changed")] == ["未复核", "已复核", "证据已变化"]
    with language("en"):
        assert CHECKS_BY_ID["paid_twice"].shown_explanation.startswith("The same benefit of the same person")
    # The check's name is the auditors' own word in every language.
    assert CHECKS_BY_ID["paid_twice"].title_zh == "重复发放"
