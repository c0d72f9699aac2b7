"""Issue #11 item 12: 凭证号 in date order within a period. Within one post the numbers follow
the entry dates, and entries of one date keep the order they were given in; a later post goes
on after the numbers already given (posted vouchers are never renumbered)."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from disburse.foundation.db import transaction
from disburse.ledger.model import EntryBatch, EntryDraft, PostingDraft
from disburse.ledger.posting import post_entries
from disburse.ledger.service import add_entity
from disburse.ledger.tables import JournalEntryRow


def _draft(day: int, memo: str, entity: str = "COUNTY", month: int = 10, year: int = 2026) -> EntryDraft:
    date = dt.date(year, month, day)
    return EntryDraft(entity, f"{date:%Y-%m}", date, memo, (PostingDraft("102", 100), PostingDraft("501", -100)))


def _numbers(engine, period: str | None = None) -> dict[str, tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    query = select(
        JournalEntryRow.memo, JournalEntryRow.period, JournalEntryRow.entry_date, JournalEntryRow.voucher_number
    )
    if period is not None:
        query = query.where(JournalEntryRow.period == period)
    with transaction(engine) as session:
        rows = session.execute(query).all()
    return {memo: (period, str(date), number) for memo, period, date, number in rows}


def test_issue11_item12_vouchers_numbered_by_date_within_a_post(engine) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        add_entity(session, "611002001001", "大荆村", "village", "alice")
        batch = EntryBatch.from_drafts(
            [
                _draft(25, "a 10-25"),
                _draft(1, "b 10-01"),
                _draft(1, "c 10-01", entity="611002001001"),
                _draft(12, "d 10-12"),
                _draft(1, "e 10-01"),
                _draft(3, "f 11-03", month=11),
                _draft(2, "g 11-02", month=11),
            ]
        )
        post_entries(session, batch, idempotency_key="dates", user="alice")
    with transaction(engine) as session:
        post_entries(session, EntryBatch.from_drafts([_draft(2, "h 10-02")]), idempotency_key="later", user="alice")
    numbers = _numbers(engine)
    # By hand: COUNTY 2026-10 is b, e (10-01, in input order), d (10-12), a (10-25); the
    # village's own books start at 1; November is g (11-02) before f (11-03); the later post
    # of 10-02 continues after 4.
    assert {memo: number for memo, (_, _, number) in numbers.items()} == {
        "b 10-01": 1,
        "e 10-01": 2,
        "d 10-12": 3,
        "a 10-25": 4,
        "c 10-01": 1,
        "g 11-02": 1,
        "f 11-03": 2,
        "h 10-02": 5,
    }


def test_issue11_item12_one_date_keeps_input_order(engine) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        batch = EntryBatch.from_drafts([_draft(31, f"x{index}") for index in range(5)])
        post_entries(session, batch, idempotency_key="one-date", user="alice")
    assert [_numbers(engine)[f"x{index}"][2] for index in range(5)] == [1, 2, 3, 4, 5]


_years = iter(range(2030, 2400))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.lists(st.integers(min_value=1, max_value=31), min_size=1, max_size=30))
def test_issue11_item12_numbers_are_gap_free_and_follow_dates(engine, days: list[int]) -> None:  # type: ignore[no-untyped-def]
    year = next(_years)  # each example posts into a period of its own on the one database
    with transaction(engine) as session:
        post_entries(
            session,
            EntryBatch.from_drafts([_draft(day, f"{index}", year=year) for index, day in enumerate(days)]),
            idempotency_key=f"property {year}",
            user="alice",
        )
    numbers = _numbers(engine, f"{year}-10")
    by_number = sorted(numbers.items(), key=lambda item: item[1][2])
    assert [number for _, (_, _, number) in by_number] == list(range(1, len(days) + 1))
    # Sorted by number, the dates never go back, and one date's entries keep input order.
    keys = [(days[int(memo)], int(memo)) for memo, _ in by_number]
    assert keys == sorted(keys)
