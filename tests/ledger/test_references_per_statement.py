"""What the ledger's foreign keys refused is still refused, by a writer that goes around the poster.

On PostgreSQL the five foreign keys of journal_entries and postings are statement triggers and the
balance check runs once per post request (migration 0115, ``disburse.schema.ledger_references``);
on SQLite they are still foreign keys. Either way the same rows are refused; on PostgreSQL the
refusal names what was wrong.
"""

from __future__ import annotations

import datetime as dt

import pytest
from ledger_builders import batch, draft
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from disburse.foundation.db import transaction
from disburse.ledger.posting import post_entries

OCTOBER_5 = dt.date(2026, 10, 5)
ENTRY_COLUMNS = (
    "id, entity_id, period, entry_date, voucher_number, memo, source_kind, source_reference, "
    "post_request_id, entry_hash, posting_count"
)


def posted(engine) -> list[int]:  # type: ignore[no-untyped-def]
    """Two balanced entries through the poster; their ids."""
    with transaction(engine) as session:
        result = post_entries(
            session,
            batch(
                draft(("102", 1_000), ("501", -1_000), date=OCTOBER_5), draft(("102", 7), ("501", -7), date=OCTOBER_5)
            ),
            idempotency_key="october",
            user="alice",
        )
    return list(result.entry_ids)


def refused(engine, *statements: str, match: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """Each statement, in one transaction, is refused (the message checked on PostgreSQL)."""
    expected = match if engine.dialect.name == "postgresql" else None
    with pytest.raises(DBAPIError, match=expected):
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))


def count(engine, sql: str) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar_one())


def test_a_posting_of_no_entry_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    ids = posted(engine)
    refused(
        engine,
        f"INSERT INTO postings (entry_id, line_number, account_code, amount_fen) VALUES ({ids[-1] + 50}, 1, '102', 5)",
        match="posting 1 of entry .* belongs to no journal entry",
    )
    assert count(engine, "SELECT count(*) FROM postings") == 4


def test_a_posting_on_an_account_outside_the_chart_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    ids = posted(engine)
    refused(
        engine,
        f"INSERT INTO postings (entry_id, line_number, account_code, amount_fen) VALUES ({ids[0]}, 3, '999.99', 5)",
        match="names account 999.99, which is not in the chart",
    )


def test_an_entry_of_an_entity_that_does_not_exist_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    posted(engine)
    refused(
        engine,
        f"INSERT INTO journal_entries ({ENTRY_COLUMNS}) SELECT max(e.id) + 1, 4242, '2026-10', '2026-10-06', 99, "
        "'forged', 'manual', '', max(e.post_request_id), 'f', 2 FROM journal_entries e",
        match="names entity 4242, which does not exist",
    )


def test_an_account_or_entity_in_use_is_not_deleted(engine) -> None:  # type: ignore[no-untyped-def]
    posted(engine)
    refused(engine, "DELETE FROM accounts WHERE code = '501'", match="DELETE of account 501 is refused")
    refused(engine, "DELETE FROM entities WHERE code = 'COUNTY'", match="journal entries are in its books")
    assert count(engine, "SELECT count(*) FROM accounts WHERE code = '501'") == 1


def test_a_post_request_keeps_its_range_and_its_entries(engine) -> None:  # type: ignore[no-untyped-def]
    # Its guard (disburse.schema.guards), on both engines: the balance check reads this range.
    posted(engine)
    refused(engine, "UPDATE post_requests SET last_entry_id = last_entry_id + 1", match="UPDATE on post_requests")
    refused(engine, "DELETE FROM post_requests", match="DELETE on post_requests")
    assert count(engine, "SELECT count(*) FROM post_requests") == 1


def test_postgresql_an_entry_outside_its_requests_range_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    if engine.dialect.name != "postgresql":
        pytest.skip("on SQLite the poster's read-back is the check")
    ids = posted(engine)
    refused(
        engine,
        f"INSERT INTO journal_entries ({ENTRY_COLUMNS}) SELECT {ids[-1] + 1}, entity_id, period, entry_date, 99, "
        f"'forged', 'manual', '', post_request_id, 'f', 2 FROM journal_entries WHERE id = {ids[0]}",
        match=f"journal entry {ids[-1] + 1} lies outside the entries of its post request",
    )


def test_postgresql_an_unbalanced_post_written_by_hand_is_refused_at_commit(engine) -> None:  # type: ignore[no-untyped-def]
    """A writer who makes the request, the entry and the postings by hand gets past every insert
    trigger; the request's deferred check refuses the commit, and nothing stays."""
    if engine.dialect.name != "postgresql":
        pytest.skip("on SQLite the poster's read-back is the check")
    ids = posted(engine)
    entry = ids[-1] + 1
    refused(
        engine,
        "INSERT INTO post_requests (id, idempotency_key, input_hash, entry_count, posting_count, first_entry_id, "
        f"last_entry_id, created_by, created_at) VALUES (900, 'by-hand', '', 1, 2, {entry}, {entry}, 'mallory', now())",
        f"INSERT INTO journal_entries ({ENTRY_COLUMNS}) SELECT {entry}, entity_id, period, entry_date, 99, 'by hand', "
        f"'manual', '', 900, 'f', 2 FROM journal_entries WHERE id = {ids[0]}",
        f"INSERT INTO postings (entry_id, line_number, account_code, amount_fen) VALUES ({entry}, 1, '102', 500), "
        f"({entry}, 2, '501', -499)",
        match=f"journal entry {entry} does not balance: 2 posting\\(s\\) \\(2 declared\\) sum to 1 fen, not 0",
    )
    assert count(engine, "SELECT count(*) FROM journal_entries") == len(ids)
