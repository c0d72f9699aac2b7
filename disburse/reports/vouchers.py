"""记账凭证 (general vouchers) of one entity: what the books hold, read for printing.

``vouchers_of`` reads the posted entries of a period (or one of them) as ``Voucher`` records;
``reports.voucher_print`` lays them out on paper.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disburse.foundation.dates import period_problem
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr
from disburse.ledger.model import PostedEntry, voucher_label
from disburse.ledger.reading import IN_LIST_CHUNK, load_entries
from disburse.ledger.service import entity_by_code
from disburse.ledger.tables import AccountRow, EntityRow, JournalEntryRow

# One file for a period; a county whose month holds more vouchers than this prints them one
# voucher (or a smaller period) at a time.
VOUCHERS_PER_FILE_MAX = 20_000
_VOUCHER_TEXT = re.compile(r"^\s*(?:记\s*[-－]?\s*)?0*(\d{1,9})\s*$")


@dataclass(frozen=True, slots=True)
class VoucherLine:
    """One line of a printed voucher: 摘要, 科目, the amount on its side and its dimensions."""

    memo: str
    account_code: str
    account_name: str
    debit_fen: int
    credit_fen: int
    household_id: str | None
    fund_source: str | None


@dataclass(frozen=True, slots=True)
class Voucher:
    """A posted entry as it is printed. ``reverses`` and ``reversed_by`` name other vouchers
    (``2026-10 记-0001``, with their entry ids) or are None."""

    entry_id: int
    entity_code: str
    entity_name: str
    period: str
    entry_date: dt.date
    voucher_number: int
    memo: str
    lines: tuple[VoucherLine, ...]
    prepared_by: str
    source_kind: str
    source_reference: str
    reverses: str | None
    reverses_entry_id: int | None
    reversed_by: str | None
    reversed_by_entry_id: int | None

    @property
    def voucher(self) -> str:
        return voucher_label(self.voucher_number)

    @property
    def total_fen(self) -> int:
        """合计: the debits, which equal the credits of a posted entry."""
        debit_fen = sum(line.debit_fen for line in self.lines)
        assert debit_fen == sum(line.credit_fen for line in self.lines), (self.entry_id, debit_fen)
        return debit_fen


def voucher_number_of(text: str) -> int:
    """The number in a voucher label as users write it: ``记-0003``, ``记3``, ``0003`` or ``3``."""
    match = _VOUCHER_TEXT.match(text)
    if match is None or int(match.group(1)) == 0:
        raise DisburseError(tr("voucher {text!r} is not a voucher number like 记-0003", text=text))
    return int(match.group(1))


def _labels_of(session: Session, column, values: list[int]) -> dict[int, tuple[int, str, int]]:  # type: ignore[no-untyped-def]
    """(id, period, voucher number) of the entries whose ``column`` is in ``values``, keyed by it."""
    found: dict[int, tuple[int, str, int]] = {}
    for start in range(0, len(values), IN_LIST_CHUNK):
        chunk = values[start : start + IN_LIST_CHUNK]
        rows = session.execute(
            select(column, JournalEntryRow.id, JournalEntryRow.period, JournalEntryRow.voucher_number).where(
                column.in_(chunk)
            )
        )
        for key, entry_id, period, voucher_number in rows:
            found[key] = (entry_id, period, voucher_number)
    return found


def _voucher_reference(found: tuple[int, str, int] | None) -> tuple[str | None, int | None]:
    """``('2026-10 记-0003', 6)`` for a found entry, ``(None, None)`` otherwise."""
    if found is None:
        return None, None
    entry_id, period, voucher_number = found
    return f"{period} {voucher_label(voucher_number)}", entry_id


def vouchers_of(
    session: Session,
    entity_code: str,
    period: str | None,
    *,
    voucher: str | None = None,
    entry_id: int | None = None,
) -> list[Voucher]:
    """The vouchers of an entity's period in number order, or only one of them (``voucher``
    like 记-0003 within the period, or ``entry_id`` within the entity, when the period may be
    None). Refuses what does not exist, and more than ``VOUCHERS_PER_FILE_MAX`` vouchers."""
    entity = entity_by_code(session, entity_code)
    if period is not None:
        problem = period_problem(period)
        if problem:
            raise DisburseError(problem)
    if voucher is not None and entry_id is not None:
        raise DisburseError(tr("choose one voucher: --voucher or --entry, not both"))
    conditions = [JournalEntryRow.entity_id == entity.id]
    if period is not None:
        conditions.append(JournalEntryRow.period == period)
    elif entry_id is None:
        raise DisburseError(tr("a period (--period YYYY-MM) is needed unless one entry is chosen with --entry"))
    if voucher is not None:
        conditions.append(JournalEntryRow.voucher_number == voucher_number_of(voucher))
    if entry_id is not None:
        conditions.append(JournalEntryRow.id == entry_id)
    else:
        count = session.scalar(select(func.count()).select_from(JournalEntryRow).where(*conditions)) or 0
        if count > VOUCHERS_PER_FILE_MAX:
            raise DisburseError(
                tr(
                    "{entity} {period} has {count:,} vouchers, more than the {limit:,} one file holds; "
                    "print them with --voucher or --entry",
                    entity=entity_code,
                    period=period,
                    count=count,
                    limit=VOUCHERS_PER_FILE_MAX,
                )
            )
    entries = load_entries(session, conditions, order_by=(JournalEntryRow.period, JournalEntryRow.voucher_number))
    if not entries:
        where = f"{entity_code} {period}" if period else entity_code
        if voucher is not None:
            raise DisburseError(tr("{where} has no voucher {voucher}", where=where, voucher=voucher))
        if entry_id is not None:
            raise DisburseError(tr("{where} has no journal entry {entry}", where=where, entry=entry_id))
        raise DisburseError(tr("{where} has no vouchers", where=where))
    return _vouchers(session, entity, entries)


def _vouchers(session: Session, entity: EntityRow, entries: Sequence[PostedEntry]) -> list[Voucher]:
    account_codes = sorted({posting.account_code for entry in entries for posting in entry.postings})
    names = dict(
        session.execute(select(AccountRow.code, AccountRow.name).where(AccountRow.code.in_(account_codes))).all()
    )
    reversed_ids = sorted({entry.reverses_entry_id for entry in entries if entry.reverses_entry_id is not None})
    reversed_entries = _labels_of(session, JournalEntryRow.id, reversed_ids)
    reversing_entries = _labels_of(session, JournalEntryRow.reverses_entry_id, [entry.id for entry in entries])
    vouchers = []
    for entry in entries:
        reverses, reverses_entry_id = _voucher_reference(
            reversed_entries.get(entry.reverses_entry_id) if entry.reverses_entry_id is not None else None
        )
        reversed_by, reversed_by_entry_id = _voucher_reference(reversing_entries.get(entry.id))
        lines = tuple(
            VoucherLine(
                memo=entry.memo,
                account_code=posting.account_code,
                account_name=names.get(posting.account_code, ""),
                debit_fen=max(posting.amount_fen, 0),
                credit_fen=max(-posting.amount_fen, 0),
                household_id=posting.household_id,
                fund_source=posting.fund_source,
            )
            for posting in entry.postings
        )
        vouchers.append(
            Voucher(
                entry_id=entry.id,
                entity_code=entity.code,
                entity_name=entity.name,
                period=entry.period,
                entry_date=entry.entry_date,
                voucher_number=entry.voucher_number,
                memo=entry.memo,
                lines=lines,
                prepared_by=entry.created_by,
                source_kind=entry.source_kind,
                source_reference=entry.source_reference,
                reverses=reverses,
                reverses_entry_id=reverses_entry_id,
                reversed_by=reversed_by,
                reversed_by_entry_id=reversed_by_entry_id,
            )
        )
    return vouchers


__all__ = (
    "Voucher",
    "VoucherLine",
    "voucher_number_of",
    "vouchers_of",
)
