"""verify reads an entity's chain a window of whole entries at a time (its memory bounded by the
window, not the books). How the chain is cut must change nothing it reports: every problem's
wording and the entry it names, the heads, the counts and every recomputed hash."""

from __future__ import annotations

import datetime as dt

import pytest
from ledger_builders import batch, draft
from test_verify import bypass_triggers, verify

from disburse.foundation.db import transaction
from disburse.ledger import reading
from disburse.ledger.posting import post_entries
from disburse.ledger.service import close_period

NOVEMBER_3 = dt.date(2026, 11, 3)
# Two November entries moved into the closed October (with voucher numbers October has not used).
INTO_OCTOBER = (
    "UPDATE journal_entries SET period = '2026-10', voucher_number = voucher_number + 1000 WHERE id IN ({}, {})"
)
# Window sizes in postings: one entry at a time (every entry here has two or three postings),
# a few entries, and the whole chain at once.
WINDOWS = (1, 2, 3, 5, 7, 1_000_000)


def _books(engine) -> list[int]:  # type: ignore[no-untyped-def]
    """Six October entries (one of three postings), October closed, then four November ones."""
    with transaction(engine) as session:
        october = [draft(("102", 100 * (n + 1)), ("501", -100 * (n + 1)), memo=f"o{n}") for n in range(5)]
        october.append(draft(("102", 300), ("501", -100), ("501", -200), memo="three"))
        first = post_entries(session, batch(*october), idempotency_key="october", user="alice")
        close_period(session, "COUNTY", "2026-10", "carol")
        november = [draft(("102", 7 + n), ("501", -7 - n), date=NOVEMBER_3, memo=f"n{n}") for n in range(4)]
        second = post_entries(session, batch(*november), idempotency_key="november", user="alice")
    return [*first.entry_ids, *second.entry_ids]


TAMPERINGS = {
    "intact": lambda ids: [],
    "changed amount": lambda ids: [
        f"UPDATE postings SET amount_fen = 301 WHERE entry_id = {ids[2]} AND line_number = 1",
        f"UPDATE postings SET amount_fen = -301 WHERE entry_id = {ids[2]} AND line_number = 2",
    ],
    "unbalanced late entry": lambda ids: [f"UPDATE postings SET amount_fen = 9 WHERE entry_id = {ids[8]}"],
    "deleted entry": lambda ids: [
        f"DELETE FROM postings WHERE entry_id = {ids[4]}",
        f"DELETE FROM journal_entries WHERE id = {ids[4]}",
    ],
    "inserted posting": lambda ids: [
        f"INSERT INTO postings (entry_id, line_number, account_code, amount_fen) VALUES ({ids[7]}, 3, '102', 5)"
    ],
    "dated into the closed month": lambda ids: [INTO_OCTOBER.format(ids[7], ids[9])],
    "closed head rewritten": lambda ids: ["UPDATE periods SET head_hash = '" + "1" * 64 + "'"],
}


@pytest.mark.parametrize("tampering", sorted(TAMPERINGS))
def test_the_report_does_not_depend_on_the_window(engine, monkeypatch, tampering: str) -> None:  # type: ignore[no-untyped-def]
    ids = _books(engine)
    bypass_triggers(engine, *TAMPERINGS[tampering](ids))
    reports = {}
    for window in WINDOWS:
        monkeypatch.setattr(reading, "CHAIN_WINDOW_POSTINGS", window)
        reports[window] = verify(engine)["COUNTY"]
    whole = reports[WINDOWS[-1]]
    assert whole.intact == (tampering == "intact")
    for window, report in reports.items():
        assert report == whole, f"window of {window} postings"
        assert report.recomputed_hashes == whole.recomputed_hashes, f"window of {window} postings"


def test_the_late_entries_are_counted_and_the_first_named_across_windows(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ids = _books(engine)
    bypass_triggers(engine, INTO_OCTOBER.format(ids[7], ids[9]))
    monkeypatch.setattr(reading, "CHAIN_WINDOW_POSTINGS", 2)
    problems = verify(engine)["COUNTY"].problems
    # Entry 8 of the chain (0-based 7) is the first dated into October after the close; 2 in all.
    late = [problem for problem in problems if "posted after 2026-10 was closed" in problem]
    assert len(late) == 1 and "entry 8 (" in late[0] and "(2 such entries)" in late[0], problems


def test_each_window_holds_whole_entries_within_the_limit(engine) -> None:  # type: ignore[no-untyped-def]
    ids = _books(engine)
    with transaction(engine) as session:
        windows = list(reading.chain_windows(session, 1, postings_max=4))
    assert [columns.entry_ids for columns in windows] == [ids[0:2], ids[2:4], ids[4:5], ids[5:6], ids[6:8], ids[8:10]]
    assert [columns.batch.first_position for columns in windows] == [1, 3, 5, 6, 7, 9]
    assert all(columns.batch.posting_count <= 4 for columns in windows)
