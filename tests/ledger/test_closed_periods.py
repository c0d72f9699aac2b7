"""Issue #11 item 4: a closed period never changes. Periods close in order; nothing is posted
into or before the last closed period, on any path (the poster refuses, and the database refuses
a writer that bypasses it); a closed period's row cannot be changed or deleted."""

from __future__ import annotations

import datetime as dt

import pytest
from ledger_builders import batch, draft
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from disburse.foundation.db import transaction
from disburse.foundation.errors import DisburseError
from disburse.ledger.posting import post_entries
from disburse.ledger.service import close_period, reverse_entry
from disburse.reports.trial_balance import trial_balance

SEPTEMBER_30 = dt.date(2026, 9, 30)
OCTOBER_5 = dt.date(2026, 10, 5)


def post(engine, *drafts, key: str):  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        return post_entries(session, batch(*drafts), idempotency_key=key, user="alice")


def close(engine, period: str):  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        return close_period(session, "COUNTY", period, "carol")


def october_balances(engine) -> list[tuple]:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        result = trial_balance(session, "COUNTY", "2026-10")
    return [(line.account_code, *line.sides()) for line in result.lines] + [tuple(result.totals)]


def test_issue11_item4_periods_close_in_order(engine) -> None:  # type: ignore[no-untyped-def]
    post(engine, draft(("102", 1_000), ("501", -1_000), date=SEPTEMBER_30), key="september")
    post(engine, draft(("102", 500), ("501", -500), date=OCTOBER_5), key="october")
    with pytest.raises(DisburseError, match="close 2026-09 first"):
        close(engine, "2026-10")
    assert close(engine, "2026-09").changed
    with pytest.raises(DisburseError, match="close 2026-10 first"):
        close(engine, "2026-11")
    assert close(engine, "2026-10").changed
    with pytest.raises(DisburseError, match="comes before 2026-10, which is already closed"):
        close(engine, "2026-08")


def test_issue11_item4_nothing_is_posted_into_or_before_a_closed_period(engine) -> None:  # type: ignore[no-untyped-def]
    first = post(
        engine,
        draft(("102", 1_000), ("501", -1_000), date=OCTOBER_5),
        draft(("102", 300), ("501", -300), date=OCTOBER_5),
        key="october",
    )
    close(engine, "2026-10")
    closed = october_balances(engine)
    # A September voucher would change October's opening balances: refused, naming the dates.
    with pytest.raises(DisburseError, match="dated 2026-09-30, in or before 2026-10, the last closed period"):
        post(engine, draft(("102", 1_000), ("501", -1_000), date=SEPTEMBER_30), key="late september")
    with pytest.raises(DisburseError, match="in or before 2026-10"):
        post(engine, draft(("102", 7), ("501", -7), date=OCTOBER_5), key="late october")
    # A reversal of a closed period's entry lands in the open period of its date.
    with transaction(engine) as session:
        reversal = reverse_entry(session, first.entry_ids[0], "bob", on_date=dt.date(2026, 11, 2))
    assert reversal.entry_ids
    with pytest.raises(DisburseError, match="in or before 2026-10"):
        with transaction(engine) as session:
            reverse_entry(session, first.entry_ids[1], "bob", on_date=dt.date(2026, 10, 31))
    assert october_balances(engine) == closed


def _insert_entry_behind_the_poster(engine, period: str) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO journal_entries (id, entity_id, period, entry_date, voucher_number, memo, source_kind, "
                "source_reference, post_request_id, entry_hash, posting_count) "
                "SELECT (SELECT max(id) + 1 FROM journal_entries), e.id, :period, :day, 99, 'forged', 'manual', '', "
                "r.id, :hash, 2 FROM entities e, post_requests r WHERE e.code = 'COUNTY'"
            ),
            {"period": period, "day": f"{period}-15", "hash": "f" * 64},
        )


def test_issue11_item4_the_database_refuses_what_bypasses_the_poster(engine) -> None:  # type: ignore[no-untyped-def]
    post(engine, draft(("102", 1_000), ("501", -1_000), date=OCTOBER_5), key="october")
    close(engine, "2026-10")
    for period in ("2026-09", "2026-10"):
        with pytest.raises(DBAPIError, match="closed period"):
            _insert_entry_behind_the_poster(engine, period)
    for statement in ("UPDATE periods SET status = 'open'", "DELETE FROM periods"):
        with pytest.raises(DBAPIError, match="closed period never changes"):
            with engine.begin() as connection:
                connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT status FROM periods")).scalars().all() == ["closed"]


def test_issue11_item4_verify_names_an_entry_posted_into_a_closed_period(engine) -> None:  # type: ignore[no-untyped-def]
    from test_verify import bypass_triggers, verify

    post(engine, draft(("102", 1_000), ("501", -1_000), date=OCTOBER_5), key="october")
    close(engine, "2026-10")
    # A forger drops the triggers, moves the closed period's recorded state aside and posts a
    # September entry through the poster itself, so every hash is right.
    bypass_triggers(engine, "UPDATE periods SET status = 'open'")
    post(engine, draft(("102", 9), ("501", -9), date=SEPTEMBER_30), key="forged")
    bypass_triggers(engine, "UPDATE periods SET status = 'closed'")
    problems = verify(engine)["COUNTY"].problems
    assert any("posted after 2026-10 was closed" in problem for problem in problems), problems
