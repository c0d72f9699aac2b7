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
