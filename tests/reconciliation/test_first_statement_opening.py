"""The first statement of an account: a book item dated a day or two before its first line is
either in transit (the bank shows it later, so the matcher's date window must reach it) or
already in the statement's opening balance (then it is settled, never outstanding). The books'
balance the day before the first line, against the statement's opening balance, tells which.

Worked by hand, in fen. Books on 102.01: 10-30 a receipt of +100,000 (电费到账).
- In transit: the statement opens at 0 and shows +100,000 on 11-02 (balance 100,000), then a
  fee of −500 on 11-01. The receipt matches the 11-02 line; only the fee is bank-only.
- In the opening: the statement opens at 100,000 (its first line, the fee on 11-01, leaves
  99,500; the date window of 3 days reaches back to the receipt). The receipt is in that balance: no
  book-only item, and the 调节表 ties at 99,500 after the fee
  (book 100,000 − 500 银行已付、企业未付 = bank 99,500).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reconciliation_db_builders import ACCOUNT_NUMBER, write_statement  # noqa: E402

from disburse.foundation.db import transaction  # noqa: E402
from disburse.ledger.model import EntryBatch, EntryDraft, PostingDraft  # noqa: E402
from disburse.ledger.posting import post_entries  # noqa: E402
from disburse.ledger.service import add_bank_account  # noqa: E402
from disburse.reconciliation.runs import run_reconciliation  # noqa: E402
from disburse.reconciliation.statements import import_statement  # noqa: E402

RECEIPT_FEN = 100_000
FEE_FEN = 500
FEE_LINE = ("2026-11-01", "10:00:00", "T20261101001", "手续费", "", "", -FEE_FEN)


def _books_with_a_receipt_on_october_30(engine) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        add_bank_account(session, "COUNTY", "中国建设银行", ACCOUNT_NUMBER, "setup", "县财政专户")
        draft = EntryDraft(
            "COUNTY",
            "2026-10",
            dt.date(2026, 10, 30),
            "PV-001 2026-09 标杆电价 电费到账",
            (PostingDraft("102.01", RECEIPT_FEN), PostingDraft("112", -RECEIPT_FEN, fund_source="PV-001")),
        )
        post_entries(session, EntryBatch.from_drafts([draft]), idempotency_key="receipt", user="setup")


def _reconcile(engine, tmp_path: Path, lines: list[tuple]):  # type: ignore[no-untyped-def]
    path = write_statement(tmp_path / "statement.csv", lines)
    with transaction(engine) as session:
        import_statement(session, path, ACCOUNT_NUMBER, "dora")
    with transaction(engine) as session:
        return run_reconciliation(session, "102.01", "2026-11", "dora")


def test_a_receipt_in_transit_before_the_first_line_is_matched(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _books_with_a_receipt_on_october_30(engine)
    receipt = ("2026-11-02", "09:00:00", "T20261102001", "电费结算", "2605000000000001", "国网", RECEIPT_FEN)
    lines = [(*FEE_LINE, -FEE_FEN, "年费"), (*receipt, RECEIPT_FEN - FEE_FEN, "PV-001")]
    outcome = _reconcile(engine, tmp_path, lines)
    assert outcome.counts.book_items == 1
    assert outcome.counts.book_only == 0 and outcome.counts.bank_only == 1
    assert outcome.balance is not None and outcome.balance.difference_fen == 0


def test_a_receipt_already_in_the_first_opening_balance_is_not_outstanding(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _books_with_a_receipt_on_october_30(engine)
    outcome = _reconcile(engine, tmp_path, [(*FEE_LINE, RECEIPT_FEN - FEE_FEN, "年费")])
    assert outcome.counts.book_items == 0 and outcome.counts.book_only == 0
    balance = outcome.balance
    assert balance is not None
    assert (balance.book_balance_fen, balance.bank_balance_fen) == (RECEIPT_FEN, RECEIPT_FEN - FEE_FEN)
    assert balance.bank_paid_book_not_fen == FEE_FEN and balance.book_received_bank_not_fen == 0
    assert balance.adjusted_book_balance_fen == balance.adjusted_bank_balance_fen == RECEIPT_FEN - FEE_FEN
