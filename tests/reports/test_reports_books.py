"""The small books the report tests read, posted by hand across two months, with a reversal.

2026-09 (COUNTY):
  记-0001 09-03 收到光伏收益     Dr 102 5,000.00 / Cr 501 5,000.00                     fund PV
  记-0002 09-10 宣告光伏分配     Dr 322.01 3,000.00 / Cr 211 1,200.00 H1 / Cr 211 1,800.00 H2   fund PV
  记-0003 09-20 支付H1分配       Dr 211 1,200.00 H1 / Cr 102 1,200.00                   fund PV
2026-10 (COUNTY):
  记-0001 10-08 收到补助资金     Dr 102 16,409.02 / Cr 503 16,409.02                   fund SUB
  记-0002 10-12 补助到户         Dr 322.01 2,000.00 / Cr 211 500.00 H1 / Cr 211.90 1,500.00 H2  fund SUB
  记-0003 10-15 支付H2分配<script> Dr 211 1,800.00 H2 / Cr 102 1,800.00                  fund PV
  记-0004 10-05 =HYPERLINK memo  Dr 102 100.00 / Cr 504 100.00 (dated before 记-0001)    fund PV
  记-0005 10-20 冲销 记-0003 (by bob): Dr 102 1,800.00 / Cr 211 1,800.00 H2             fund PV
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from disburse.foundation.db import transaction
from disburse.ledger.model import EntryBatch, EntryDraft, PostingDraft
from disburse.ledger.posting import post_entries
from disburse.ledger.service import reverse_entry
from disburse.ledger.tables import JournalEntryRow

ENTITY = "COUNTY"
HOUSEHOLD_ONE = "6110020010010001"
HOUSEHOLD_TWO = "6110020010010002"
FUND_PV = "PV-611002-001"
FUND_SUBSIDY = "SUB-2026-农机"
SCRIPT_MEMO = "支付H2分配 <script>alert('x')</script> & 其他"
FORMULA_MEMO = '=HYPERLINK("http://example.invalid","点此")'


@dataclass(frozen=True, slots=True)
class PostedBooks:
    """Entry ids of the October vouchers, by voucher number, and of the reversal."""

    october_entry_ids: dict[int, int]
    reversal_entry_id: int


def _draft(date: dt.date, memo: str, *postings: PostingDraft) -> EntryDraft:
    return EntryDraft(entity_code=ENTITY, period=f"{date:%Y-%m}", entry_date=date, memo=memo, postings=postings)


def _line(account: str, amount_fen: int, household: str | None = None, fund: str | None = None) -> PostingDraft:
    return PostingDraft(account, amount_fen, household, fund)


def post_books(engine) -> PostedBooks:  # type: ignore[no-untyped-def]
    """Post the scenario above; returns the ids the tests need."""
    september = [
        _draft(
            dt.date(2026, 9, 3),
            "收到光伏收益",
            _line("102", 500_000, fund=FUND_PV),
            _line("501", -500_000, fund=FUND_PV),
        ),
        _draft(
            dt.date(2026, 9, 10),
            "宣告光伏分配",
            _line("322.01", 300_000, fund=FUND_PV),
            _line("211", -120_000, HOUSEHOLD_ONE, FUND_PV),
            _line("211", -180_000, HOUSEHOLD_TWO, FUND_PV),
        ),
        _draft(
            dt.date(2026, 9, 20),
            "支付H1分配",
            _line("211", 120_000, HOUSEHOLD_ONE, FUND_PV),
            _line("102", -120_000, fund=FUND_PV),
        ),
    ]
    october = [
        _draft(
            dt.date(2026, 10, 8),
            "收到补助资金",
            _line("102", 1_640_902, fund=FUND_SUBSIDY),
            _line("503", -1_640_902, fund=FUND_SUBSIDY),
        ),
        _draft(
            dt.date(2026, 10, 12),
            "补助到户",
            _line("322.01", 200_000, fund=FUND_SUBSIDY),
            _line("211", -50_000, HOUSEHOLD_ONE, FUND_SUBSIDY),
            _line("211.90", -150_000, HOUSEHOLD_TWO, FUND_SUBSIDY),
        ),
        _draft(
            dt.date(2026, 10, 15),
            SCRIPT_MEMO,
            _line("211", 180_000, HOUSEHOLD_TWO, FUND_PV),
            _line("102", -180_000, fund=FUND_PV),
        ),
    ]
    late = [
        _draft(
            dt.date(2026, 10, 5), FORMULA_MEMO, _line("102", 10_000, fund=FUND_PV), _line("504", -10_000, fund=FUND_PV)
        ),
    ]
    with transaction(engine) as session:
        post_entries(session, EntryBatch.from_drafts(september), idempotency_key="report-tests:september", user="alice")
        post_entries(session, EntryBatch.from_drafts(october), idempotency_key="report-tests:october", user="alice")
        post_entries(session, EntryBatch.from_drafts(late), idempotency_key="report-tests:late", user="alice")
    with transaction(engine) as session:
        october_ids = dict(
            session.execute(
                select(JournalEntryRow.voucher_number, JournalEntryRow.id).where(JournalEntryRow.period == "2026-10")
            ).all()
        )
        reversal = reverse_entry(session, october_ids[3], "bob", on_date=dt.date(2026, 10, 20))
    return PostedBooks(october_entry_ids=october_ids, reversal_entry_id=reversal.entry_ids[0])


def test_the_scenario_posts_five_october_vouchers(engine) -> None:  # type: ignore[no-untyped-def]
    books = post_books(engine)
    assert sorted(books.october_entry_ids) == [1, 2, 3, 4]
    with transaction(engine) as session:
        reversal = session.get(JournalEntryRow, books.reversal_entry_id)
        assert reversal is not None
        assert (reversal.period, reversal.voucher_number, reversal.entry_date) == ("2026-10", 5, dt.date(2026, 10, 20))
        assert reversal.reverses_entry_id == books.october_entry_ids[3]
