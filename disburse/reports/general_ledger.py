"""总账 (general ledger, 三栏式) of one entity up to one period: per top-level account, the 年初余额,
then for each month of the year with postings its 本月合计 and 本年累计, each with 方向 and 余额.

One SQL aggregate per (account, period) over the entity's postings of the year; the months are
then rolled up in Python (a chart of 42 accounts by twelve months).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from disburse.foundation.dates import period_problem
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr
from disburse.ledger.chart import is_debit_normal
from disburse.ledger.service import entity_by_code
from disburse.ledger.tables import AccountRow, JournalEntryRow, PostingRow
from disburse.reports.ledger_detail import balance_direction
from disburse.reports.printing import (
    CENTER,
    MONEY,
    Book,
    Column,
    PrintedFile,
    Row,
    Table,
    period_text_zh,
    write_book,
)


@dataclass(frozen=True, slots=True)
class LedgerMonth:
    """One month of a 总账 account: the month's debits and credits and the balance after it."""

    period: str
    debit_fen: int
    credit_fen: int
    year_debit_fen: int
    year_credit_fen: int
    balance_fen: int  # signed towards the account's normal side


@dataclass(frozen=True, slots=True)
class LedgerAccount:
    """One account of the 总账: its 年初余额 and its months with postings."""

    code: str
    name: str
    debit_normal: bool
    year_opening_fen: int  # signed towards the normal side
    months: tuple[LedgerMonth, ...]


@dataclass(frozen=True, slots=True)
class GeneralLedger:
    entity_code: str
    entity_name: str
    period: str
    accounts: tuple[LedgerAccount, ...]


def _sums(session: Session, entity_id: int, period: str) -> list:  # type: ignore[type-arg]
    """(top-level code, period or '' for before January, debit, credit) of the entity's
    postings up to ``period``; sub-accounts count in their top-level account."""
    amount = PostingRow.amount_fen
    year_start = f"{period[:4]}-01"
    month = case((JournalEntryRow.period < year_start, ""), else_=JournalEntryRow.period)
    return session.execute(
        select(
            PostingRow.account_code,
            month,
            func.coalesce(func.sum(case((amount > 0, amount), else_=0)), 0),
            func.coalesce(func.sum(case((amount < 0, -amount), else_=0)), 0),
        )
        .join(JournalEntryRow, JournalEntryRow.id == PostingRow.entry_id)
        .where(JournalEntryRow.entity_id == entity_id, JournalEntryRow.period <= period)
        .group_by(PostingRow.account_code, month)
    ).all()


def general_ledger(session: Session, entity_code: str, period: str, account_code: str | None = None) -> GeneralLedger:
    """The 总账 of every top-level account with a balance or postings this year (or only
    ``account_code``'s top-level account), January to ``period``."""
    problem = period_problem(period)
    if problem:
        raise DisburseError(problem)
    entity = entity_by_code(session, entity_code)
    accounts = {row.code: row for row in session.scalars(select(AccountRow))}
    if account_code is not None and account_code not in accounts:
        raise DisburseError(
            tr("account {account!r} does not exist; `disburse accounts list` shows the chart", account=account_code)
        )
    chosen_top = account_code.split(".")[0] if account_code else None
    per_account: dict[str, dict[str, list[int]]] = {}
    for code, month, debit, credit in _sums(session, entity.id, period):
        top = code.split(".")[0]
        if chosen_top is not None and top != chosen_top:
            continue
        bucket = per_account.setdefault(top, {}).setdefault(month, [0, 0])
        bucket[0] += int(debit)
        bucket[1] += int(credit)
    ledger_accounts = []
    for top in sorted(per_account):
        debit_normal = is_debit_normal(accounts[top].account_type)
        ledger_accounts.append(_account(top, accounts[top].name, debit_normal, per_account[top]))
    return GeneralLedger(entity.code, entity.name, period, tuple(ledger_accounts))


def _account(code: str, name: str, debit_normal: bool, by_month: dict[str, list[int]]) -> LedgerAccount:
    sign = 1 if debit_normal else -1
    before = by_month.get("", [0, 0])
    year_opening = sign * (before[0] - before[1])
    balance, year_debit, year_credit = year_opening, 0, 0
    months = []
    for month in sorted(key for key in by_month if key):
        debit, credit = by_month[month]
        balance += sign * (debit - credit)
        year_debit += debit
        year_credit += credit
        months.append(LedgerMonth(month, debit, credit, year_debit, year_credit, balance))
    return LedgerAccount(code, name, debit_normal, year_opening, tuple(months))


def general_ledger_book(
    ledger: GeneralLedger, *, prepared_by: str | None = None, printed_on: dt.date | None = None
) -> Book:
    """The 总账 as a printed book: one table per account, kept on one page where it fits."""
    columns = (
        Column("月份", CENTER),
        Column("摘要"),
        Column("借方", MONEY),
        Column("贷方", MONEY),
        Column("方向", CENTER),
        Column("余额", MONEY, blank_zero=False),
    )
    tables = []
    for account in ledger.accounts:

        def side(balance: int) -> tuple[str, int]:
            return balance_direction(balance, account.debit_normal), abs(balance)

        rows = [Row((f"{ledger.period[:4]}-01", "年初余额", None, None, *side(account.year_opening_fen)))]
        for month in account.months:
            rows.append(Row((month.period, "本月合计", month.debit_fen, month.credit_fen, *side(month.balance_fen))))
            rows.append(
                Row(
                    (month.period, "本年累计", month.year_debit_fen, month.year_credit_fen, *side(month.balance_fen)),
                    style="subtotal",
                )
            )
        tables.append(
            Table(
                columns,
                tuple(rows),
                caption=f"科目：{account.code} {account.name}",
                sheet_name="总账",
                keep_together=True,
            )
        )
    if not tables:
        raise DisburseError(
            tr(
                "{entity} has no postings up to {period}; there is no 总账 to print",
                entity=ledger.entity_code,
                period=ledger.period,
            )
        )
    return Book(
        title="总账",
        entity_name=f"{ledger.entity_name}（{ledger.entity_code}）",
        period_text=f"{ledger.period[:4]}年01月至{period_text_zh(ledger.period)[5:]}",
        tables=tuple(tables),
        prepared_by=prepared_by,
        printed_on=printed_on or dt.date.today(),
        landscape=False,
    )


def write_general_ledger(
    ledger: GeneralLedger, path: Path, *, prepared_by: str | None = None, printed_on: dt.date | None = None
) -> PrintedFile:
    """Write the 总账 as .pdf or .xlsx."""
    return write_book(general_ledger_book(ledger, prepared_by=prepared_by, printed_on=printed_on), path)
