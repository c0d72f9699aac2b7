"""The bulk poster against a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import datetime as dt
import sqlite3

import psycopg
import pytest
from ledger_builders import batch, draft
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from disburse.foundation.db import transaction
from disburse.foundation.errors import DisburseError
from disburse.ledger.posting import post_entries
from disburse.ledger.reading import load_entries
from disburse.ledger.service import add_entity, close_period, reverse_entry
from disburse.ledger.tables import JournalEntryRow, PostingRow


def post(engine, *drafts, key="k1", user="alice"):  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        return post_entries(session, batch(*drafts), idempotency_key=key, user=user)


def counts(engine) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(JournalEntryRow)),
            session.scalar(select(func.count()).select_from(PostingRow)),
        )


def test_post_assigns_gap_free_vouchers_per_entity_and_period(engine) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        add_entity(session, "611002001001", "大荆村", "village", "alice")
    post(
        engine,
        draft(("102", 100), ("501", -100)),
        draft(("102", 200), ("501", -200), entity="611002001001"),
        draft(("102", 300), ("501", -300)),
        key="a",
    )
    post(
        engine,
        draft(("102", 400), ("501", -400)),
        draft(("102", 500), ("501", -500), date=dt.date(2026, 11, 2)),
        key="b",
    )
    with transaction(engine) as session:
        entries = load_entries(session, [])
    vouchers = [(e.entity_code, e.period, e.voucher, e.postings[0].amount_fen) for e in entries]
    assert vouchers == [
        ("COUNTY", "2026-10", "记-0001", 100),
        ("COUNTY", "2026-10", "记-0002", 300),
        ("COUNTY", "2026-10", "记-0003", 400),
        ("COUNTY", "2026-11", "记-0001", 500),
        ("611002001001", "2026-10", "记-0001", 200),
    ]
    assert all(e.created_by == "alice" for e in entries)


def test_unbalanced_entry_refused_and_nothing_written(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DisburseError) as refused:
        post(engine, draft(("102", 100), ("501", -100)), draft(("102", 100000), ("501", -99999), label="V7"))
    assert "entry 2 (V7): postings sum to 0.01, not 0: 1,000.00 + -999.99" in str(refused.value)
    assert counts(engine) == (0, 0)


def test_unknown_account_entity_and_wrong_period_are_refused(engine) -> None:  # type: ignore[no-untyped-def]
    bad_account = draft(("999", 100), ("501", -100))
    bad_entity = draft(("102", 100), ("501", -100), entity="NOPE")
    with pytest.raises(DisburseError) as refused:
        post(engine, bad_account, bad_entity)
    message = str(refused.value)
    assert "account '999' is not in the chart of accounts" in message
    assert "entity 'NOPE' does not exist" in message
    assert counts(engine) == (0, 0)


def test_same_key_same_input_is_a_no_op_and_different_input_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    first = post(engine, draft(("102", 100), ("501", -100)), key="run-1")
    again = post(engine, draft(("102", 100), ("501", -100)), key="run-1", user="bob")
    assert first.created and not again.created
    assert again.entry_ids == first.entry_ids
    with pytest.raises(DisburseError, match="different content"):
        post(engine, draft(("102", 101), ("501", -101)), key="run-1")
    assert counts(engine) == (1, 2)


def test_postings_and_entries_cannot_be_updated_or_deleted(engine) -> None:  # type: ignore[no-untyped-def]
    post(engine, draft(("102", 100), ("501", -100)))
    for statement in (
        "UPDATE postings SET amount_fen = 999",
        "DELETE FROM postings",
        "UPDATE journal_entries SET memo = 'changed'",
        "DELETE FROM journal_entries",
    ):
        with pytest.raises(DBAPIError) as refused:
            with engine.begin() as connection:
                connection.execute(text(statement))
        assert "refused" in str(refused.value)
    assert counts(engine) == (1, 2)


def test_a_second_reversal_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    result = post(engine, draft(("102", 100), ("501", -100)))
    with transaction(engine) as session:
        reversal = reverse_entry(session, result.entry_ids[0], "bob", on_date=dt.date(2026, 10, 20))
    with transaction(engine) as session:
        entries = {e.id: e for e in load_entries(session, [])}
    reversing = entries[reversal.entry_ids[0]]
    assert reversing.reverses_entry_id == result.entry_ids[0]
    assert [(p.account_code, p.amount_fen) for p in reversing.postings] == [("102", -100), ("501", 100)]
    assert reversing.period == "2026-10"
    with pytest.raises(DisburseError, match="already reversed"):
        with transaction(engine) as session:
            reverse_entry(session, result.entry_ids[0], "bob")
    # The database refuses a second reversal even if a caller skipped the check (the bulk path
    # raises the driver's own integrity error: sqlite3's or psycopg's).
    with pytest.raises((IntegrityError, sqlite3.IntegrityError, psycopg.errors.IntegrityError), match="(?i)unique"):
        with transaction(engine) as session:
            post_entries(session, _reversing_batch(result.entry_ids[0]), idempotency_key="sneaky", user="eve")


def _reversing_batch(entry_id: int):  # type: ignore[no-untyped-def]
    from disburse.ledger.model import EntryBatch, EntryDraft, PostingDraft

    return EntryBatch.from_drafts(
        [
            EntryDraft(
                "COUNTY",
                "2026-10",
                dt.date(2026, 10, 21),
                "again",
                (PostingDraft("102", -100), PostingDraft("501", 100)),
                reverses_entry_id=entry_id,
            )
        ]
    )


def test_closed_period_refuses_posts_and_reversals_go_to_the_open_period(engine) -> None:  # type: ignore[no-untyped-def]
    result = post(engine, draft(("102", 100), ("501", -100)))
    with transaction(engine) as session:
        outcome = close_period(session, "COUNTY", "2026-10", "carol")
    assert outcome.changed
    with pytest.raises(DisburseError, match="in or before 2026-10, the last closed period of COUNTY"):
        post(engine, draft(("102", 5), ("501", -5)), key="late")
    with transaction(engine) as session:
        reversal = reverse_entry(session, result.entry_ids[0], "bob", on_date=dt.date(2026, 11, 3))
    with transaction(engine) as session:
        reversing = load_entries(session, [JournalEntryRow.id == reversal.entry_ids[0]])[0]
    assert (reversing.period, reversing.entry_date, reversing.voucher) == ("2026-11", dt.date(2026, 11, 3), "记-0001")
    with transaction(engine) as session:
        assert not close_period(session, "COUNTY", "2026-10", "carol").changed
