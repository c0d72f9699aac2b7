"""Migration 0008 rewrites the payout status checks on tables that other tables refer to: on a
database holding payables, a prepared batch and its links, going down and up again keeps every
row and every reference, and the checks still refuse a status that does not exist."""

from __future__ import annotations

import datetime as dt

import pytest
from payout_builders import card, owe, with_bank_account
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from disburse.foundation.db import transaction
from disburse.payouts.cards import no_cards
from disburse.payouts.service import prepare_batch
from disburse.schema import migrate as schema

COUNTS = (
    "SELECT (SELECT count(*) FROM payables), (SELECT count(*) FROM payment_instructions), "
    "(SELECT count(*) FROM instruction_payables), (SELECT count(*) FROM payables WHERE status = 'claimed')"
)


def test_status_checks_survive_down_and_up_with_rows_referring_to_them(engine) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        with_bank_account(session)
        owe(
            session,
            [{"household_id": f"61100200100{n}", "amount_fen": 1_000 * n, "account_no": card(n)} for n in range(1, 4)],
        )
        prepare_batch(session, "COUNTY", "alice", today=dt.date(2026, 11, 5), card_lookup=no_cards)
    with transaction(engine) as session:
        before = tuple(session.execute(text(COUNTS)).one())
    assert before == (3, 3, 3, 3)

    schema.migrate(engine, "0007", downgrade=True)
    schema.migrate(engine)
    with transaction(engine) as session:
        assert tuple(session.execute(text(COUNTS)).one()) == before
    for statement in (
        "UPDATE payables SET status = 'lost' WHERE id = 1",
        "UPDATE payment_instructions SET status = 'lost' WHERE id = 1",
    ):
        with pytest.raises(IntegrityError):
            with transaction(engine) as session:
                session.execute(text(statement))


def test_0060_keeps_fixes_and_batches_and_refuses_to_downgrade_past_a_pending_fix(engine) -> None:  # type: ignore[no-untyped-def]
    from disburse.payouts.cards import no_holders
    from disburse.payouts.service import approve_fix, fix_account

    with transaction(engine) as session:
        with_bank_account(session)
        owe(session, [{"household_id": "H001", "amount_fen": 1_000, "account_no": card(1)}])
        prepare_batch(session, "COUNTY", "alice", today=dt.date(2026, 11, 5), card_lookup=no_cards)
        reference = fix_account(
            session,
            "H001",
            card(11),
            "frank",
            bank_name="中国农业银行",
            today=dt.date(2026, 11, 5),
            card_holders=no_holders,
        ).fix_reference
    with pytest.raises(RuntimeError, match="1 proposed or rejected fix"):
        schema.migrate(engine, "0008", downgrade=True)
    with transaction(engine) as session:
        approve_fix(session, reference, "grace", card_holders=no_holders)
    schema.migrate(engine, "0008", downgrade=True)
    with transaction(engine) as session:
        # Before 0060 a fix is simply in force; batches and instructions are untouched.
        assert session.execute(text("SELECT old_account_no, new_account_no FROM account_fixes")).one() == (
            card(1),
            card(11),
        )
        assert session.execute(text("SELECT count(*) FROM payment_instructions")).scalar_one() == 1
    schema.migrate(engine)
    with transaction(engine) as session:
        fixes = session.execute(text("SELECT status, fix_reference, checked_by FROM account_fixes")).all()
        batches = session.execute(text("SELECT netting FROM payment_batches")).all()
    # A fix that came through the downgrade is an unreviewed old fix: in force, no reference.
    assert [tuple(row) for row in fixes] == [("approved", None, None)]
    assert [tuple(row) for row in batches] == [("merged",)]
