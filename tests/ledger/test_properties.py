"""Any sequence of posts and reversals keeps the books balanced (hypothesis, on a real database)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from database_support import new_database
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from disburse.foundation.db import make_engine, transaction
from disburse.ledger.model import EntryBatch, EntryDraft, PostingDraft
from disburse.ledger.posting import post_entries
from disburse.ledger.service import reverse_entry
from disburse.ledger.verify import verify_books
from disburse.reports.trial_balance import trial_balance

ACCOUNTS = ["102", "112", "211", "322.01", "501", "513"]
amounts = st.integers(min_value=1, max_value=10**12)


@st.composite
def entries(draw):  # type: ignore[no-untyped-def]
    """A balanced entry of 2-5 postings: debits on some accounts, the opposite sum spread over others."""
    debit_count = draw(st.integers(1, 3))
    debits = draw(st.lists(amounts, min_size=debit_count, max_size=debit_count))
    total = sum(debits)
    credit_count = draw(st.integers(1, 2))
    cut = draw(st.integers(1, total)) if credit_count == 2 and total > 1 else total
    credits = [cut, total - cut] if credit_count == 2 and total - cut > 0 else [total]
    accounts = draw(
        st.lists(st.sampled_from(ACCOUNTS), min_size=len(debits) + len(credits), max_size=len(debits) + len(credits))
    )
    signed = debits + [-c for c in credits]
    month = draw(st.integers(9, 11))
    return EntryDraft(
        "COUNTY",
        f"2026-{month:02d}",
        dt.date(2026, month, 3),
        "p",
        tuple(PostingDraft(a, s) for a, s in zip(accounts, signed)),
    )


operations = st.lists(
    st.one_of(
        st.tuples(st.just("post"), st.lists(entries(), min_size=1, max_size=4)),
        st.tuples(st.just("reverse"), st.integers(0, 50)),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
def test_any_sequence_of_posts_and_reversals_keeps_the_books_balanced(
    backend: str,
    tmp_path: Path,
    sqlite_template,
    pg_template,
    steps,  # type: ignore[no-untyped-def]
) -> None:
    url = new_database(backend, tmp_path, sqlite_template, pg_template)
    engine = make_engine(url)
    try:
        posted: list[int] = []
        for number, (kind, value) in enumerate(steps):
            with transaction(engine) as session:
                if kind == "post":
                    posted += post_entries(
                        session, EntryBatch.from_drafts(value), idempotency_key=f"s{number}", user="alice"
                    ).entry_ids
                elif posted:
                    target = posted[value % len(posted)]
                    reversed_already = session.execute(
                        text("SELECT 1 FROM journal_entries WHERE reverses_entry_id = :e"), {"e": target}
                    ).first()
                    if reversed_already is None:
                        posted += reverse_entry(session, target, "bob", on_date=dt.date(2026, 11, 20)).entry_ids
        with transaction(engine) as session:
            debit, credit = session.execute(
                text(
                    "SELECT coalesce(sum(CASE WHEN amount_fen > 0 THEN amount_fen END), 0), "
                    "coalesce(sum(CASE WHEN amount_fen < 0 THEN -amount_fen END), 0) FROM postings"
                )
            ).one()
            assert debit == credit
            for period in ("2026-09", "2026-10", "2026-11"):
                assert trial_balance(session, "COUNTY", period).balanced
            assert all(report.intact for report in verify_books(session))
    finally:
        engine.dispose()
        if backend == "postgresql":
            from database_support import pg_drop_database

            pg_drop_database(url)
