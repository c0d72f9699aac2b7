"""Golden literals for everything persisted whose value must never drift: a stored match id, an
anomaly finding id, a payment and batch reference, and the chain head of a fixed post. Each was
written down once; a change of the hashing, the canonical text or a format that would orphan
what the books already hold (a confirmation naming a match id, a review naming a finding, a
head an auditor noted on paper) fails here."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent / "ledger"))

from ledger_builders import batch, draft  # noqa: E402

from disburse.audit.model import finding_id  # noqa: E402
from disburse.foundation.db import transaction  # noqa: E402
from disburse.ledger.posting import post_entries  # noqa: E402
from disburse.payouts.model import batch_reference, payment_reference  # noqa: E402
from disburse.reconciliation.match_ids import match_id_of  # noqa: E402


def test_match_ids_are_pinned() -> None:
    assert match_id_of([7, 3], [11]) == "M449bbdd9c52085db"
    assert match_id_of([3, 7], [11]) == "M449bbdd9c52085db"  # order does not matter
    assert match_id_of([1], [2, 5]) == "M2dc5465bea675a4f"


def test_finding_id_is_pinned() -> None:
    # The check's code, the finding's kind and its keys (issue 18 rewrote the checks, so their
    # findings have new ids; reviews of the old ids are kept by migration 0040).
    assert (
        finding_id("A13", "period_after_death", ("PAY-202610-000123", "110101199001011234", 1))
        == "A13-3d6f53ea36fe5384"
    )


def test_references_are_pinned() -> None:
    assert payment_reference("202610", 123) == "PAY-202610-000123"
    assert batch_reference("202610", 1) == "BATCH-202610-0001"


def test_chain_head_of_a_fixed_post_is_pinned(engine) -> None:  # type: ignore[no-untyped-def]
    entries = batch(
        draft(("102", 100_000), ("501", -100_000), memo="golden one"),
        draft(("211", 2_500), ("102", -2_500), memo="golden two", household="H001"),
    )
    with transaction(engine) as session:
        post_entries(session, entries, idempotency_key="golden", user="alice", now=dt.datetime(2026, 10, 5, 9, 30))
    with engine.connect() as connection:
        head = connection.execute(text("SELECT head_hash FROM chain_heads")).scalar_one()
    assert head == "6806c3805668fd69bede60c1ba64d17fa4b08297b356862fed34880a6ee204f3"
