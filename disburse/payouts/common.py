"""What the payout services share: the one lock, reference counters, reading a batch, query
results as frames, and the entries that move payables to and from 102.90 在途资金.

Nothing here commits; every function runs inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from disburse.foundation.dates import period_of
from disburse.foundation.errors import DisburseError
from disburse.foundation.frames import query_objects
from disburse.foundation.i18n import tr
from disburse.foundation.locks import PAYOUTS_LOCK, advisory_lock
from disburse.ledger.model import DIMENSION_LENGTH_MAX, EntryBatch
from disburse.payouts.model import ENTRY_POSTINGS_MAX
from disburse.payouts.tables import PaymentBatchRow, PaymentInstructionRow, PayoutCounterRow

IDS_PER_QUERY = 10_000


def lock_payouts(session: Session) -> None:
    """Serialise payout state changes (see the module docstring)."""
    advisory_lock(session, PAYOUTS_LOCK)


def next_numbers(session: Session, kind: str, month: str, count: int) -> int:
    """Reserve ``count`` consecutive numbers of ``kind`` in ``month``; returns the first. The
    counter row moves on in the caller's transaction, so a rolled-back command reuses nothing
    that anyone saw and a committed one never hands the same number out again."""
    assert count >= 1
    last = session.scalar(
        select(PayoutCounterRow.last_number).where(PayoutCounterRow.kind == kind, PayoutCounterRow.month == month)
    )
    if last is None:
        session.execute(insert(PayoutCounterRow).values(kind=kind, month=month, last_number=count))
        return 1
    session.execute(
        update(PayoutCounterRow)
        .where(PayoutCounterRow.kind == kind, PayoutCounterRow.month == month)
        .values(last_number=last + count)
    )
    return last + 1


def batch_by_reference(session: Session, reference: str) -> PaymentBatchRow:
    batch = session.scalar(select(PaymentBatchRow).where(PaymentBatchRow.batch_reference == reference.strip()))
    if batch is None:
        raise DisburseError(
            tr("batch {reference!r} does not exist; `disburse payout prepare` makes batches", reference=reference)
        )
    return batch


def none_for_missing(frame: pd.DataFrame, *names: str) -> pd.DataFrame:
    """Identifier columns as object dtype with None for missing (never NaN)."""
    for name in names:
        frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


def batch_instructions(session: Session, batch_id: int) -> pd.DataFrame:
    """The instructions of a batch in reference order, as ``payouts.bank_files`` takes them."""
    table = PaymentInstructionRow.__table__
    frame = query_objects(
        session,
        select(
            table.c.id,
            table.c.payment_reference,
            table.c.account_no,
            table.c.account_name,
            table.c.bank_name,
            table.c.amount_fen,
            table.c.programmes.label("memo"),
            table.c.household_id,
        )
        .where(table.c.batch_id == batch_id)
        .order_by(table.c.id),
    )
    frame["amount_fen"] = frame["amount_fen"].astype(np.int64)
    return none_for_missing(frame, "account_name", "bank_name", "household_id")


def _dimension(value: object, name: str) -> str | None:
    """A posting dimension, or None when it is missing or longer than the ledger holds."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text_value = str(value)
    return text_value if 0 < len(text_value) <= DIMENSION_LENGTH_MAX[name] else None


def entries_against_payables(
    entity_code: str,
    entry_date: dt.date,
    memo: str,
    source_kind: str,
    source_reference: str,
    payable_lines: pd.DataFrame,
    counter_account: str,
    lines_sign: int,
) -> EntryBatch:
    """Entries with one posting per payable on the payable's own account (``lines_sign`` × its
    amount, with its household, fund source and the payment reference that paid it) and, per
    entry, one balancing posting of the entry's total on ``counter_account`` (102.90). An entry
    holds at most ENTRY_POSTINGS_MAX postings; a larger batch is split into parts.

    ``payable_lines``: ``payment_reference, account_code, amount_fen, household_id, fund_source``
    in the order to post.
    """
    assert lines_sign in (1, -1) and len(payable_lines) > 0
    count = len(payable_lines)
    per_entry = ENTRY_POSTINGS_MAX - 1
    line_entry = np.arange(count, dtype=np.int64) // per_entry
    entry_count = int(line_entry[-1]) + 1
    amounts = lines_sign * payable_lines["amount_fen"].to_numpy(dtype=np.int64)
    totals = np.zeros(entry_count, dtype=np.int64)
    np.add.at(totals, line_entry, amounts)
    # Each entry's lines, then its balancing posting (an entry whose lines net to 0 needs none
    # and gets none: postings are never zero; such an entry is impossible with positive
    # instructions but the poster would refuse it anyway).
    with_counter = np.flatnonzero(totals != 0)
    posting_entry = np.concatenate([line_entry, with_counter])
    order = np.argsort(posting_entry, kind="stable")
    all_amounts = np.concatenate([amounts, -totals[with_counter]])[order]
    fund_texts = {value: _dimension(value, "fund_source") for value in set(payable_lines["fund_source"].tolist())}
    household_texts = {
        value: _dimension(value, "household_id") for value in set(payable_lines["household_id"].tolist())
    }
    none_column = [None] * len(with_counter)

    def arranged(values: list) -> list:  # noqa: E306
        return np.asarray(values + none_column, dtype=object)[order].tolist()

    accounts = np.asarray(payable_lines["account_code"].tolist() + [counter_account] * len(with_counter), dtype=object)[
        order
    ].tolist()
    return EntryBatch(
        entity_code=[entity_code] * entry_count,
        period=[period_of(entry_date)] * entry_count,
        entry_date=[entry_date] * entry_count,
        memo=[memo] * entry_count,
        source_kind=[source_kind] * entry_count,
        source_reference=[source_reference] * entry_count,
        reverses_entry_id=[None] * entry_count,
        label=[f"{source_reference} part {number + 1}" for number in range(entry_count)],
        posting_entry_index=posting_entry[order],
        account_code=accounts,
        amount_fen=all_amounts.astype(np.int64),
        household_id=arranged([household_texts[value] for value in payable_lines["household_id"].tolist()]),
        fund_source=arranged([fund_texts[value] for value in payable_lines["fund_source"].tolist()]),
        payment_reference=arranged(payable_lines["payment_reference"].tolist()),
    )


def payable_lines_of(session: Session, instruction_condition: str, parameters: dict, active_only: bool) -> pd.DataFrame:
    """The payables paid by the selected instructions: ``instruction_id, payment_reference,
    account_code, amount_fen, household_id, fund_source``, by instruction."""
    frame = query_objects(
        session,
        text(
            "SELECT l.instruction_id, i.payment_reference, p.account_code, p.amount_fen, p.household_id, p.fund_source "
            "FROM instruction_payables l JOIN payables p ON p.id = l.payable_id "
            "JOIN payment_instructions i ON i.id = l.instruction_id "
            f"WHERE {'l.active AND ' if active_only else ''}l.instruction_id IN "
            f"(SELECT id FROM payment_instructions WHERE {instruction_condition}) ORDER BY l.instruction_id, "
            "l.payable_id"
        ),
        parameters,
    )
    frame["amount_fen"] = frame["amount_fen"].astype(np.int64)
    return none_for_missing(frame, "household_id", "fund_source")
