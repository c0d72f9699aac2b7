"""辅助核算余额表: one account's balances and movements per household (户编号 / 户主) or per fund
source (资金来源 / 指标文号), for one entity and period.

Chinese accounting software keeps the per-household detail of 211 应付款 as an auxiliary
dimension of the account rather than as thousands of accounts; this is the report that shows it.
Per dimension value: 期初余额 借/贷, 本期发生额 借/贷, 本年累计发生额 借/贷, 期末余额 借/贷, with a
合计 line equal to the account's own line in the 科目余额表 (postings without the dimension are
one line of their own, 未指定).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from disburse.foundation.dates import period_problem
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr
from disburse.ledger.service import entity_by_code
from disburse.ledger.tables import AccountRow, JournalEntryRow, PostingRow
from disburse.registry.queries import newest_versions
from disburse.registry.tables import HouseholdVersionRow
from disburse.reports.printing import MONEY, Book, Column, PrintedFile, Row, Table, period_text_zh, write_book

HOUSEHOLD = "household"
FUND = "fund"
DIMENSIONS = (HOUSEHOLD, FUND)
UNSPECIFIED = "未指定"
# A fund source that starts with a code (a station's or cooperative's id, a budget indicator's
# document number) followed by its name: "PV-611002-001 光伏扶贫收益", "商财教〔2026〕21号 学生资助补助资金".
_CODE_THEN_NAME = re.compile(r"^([\x21-\x7e]+|\S*〔\d{4}〕\S*号)\s+(.+)$")


@dataclass(frozen=True, slots=True)
class AuxiliaryLine:
    """One value of the dimension: balances and movements, signed as debit minus credit."""

    key: str | None
    opening_fen: int
    debit_fen: int
    credit_fen: int
    year_debit_fen: int
    year_credit_fen: int

    @property
    def closing_fen(self) -> int:
        return self.opening_fen + self.debit_fen - self.credit_fen

    def sides(self) -> tuple[int, ...]:
        opening, closing = self.opening_fen, self.closing_fen
        return (
            max(opening, 0),
            max(-opening, 0),
            self.debit_fen,
            self.credit_fen,
            self.year_debit_fen,
            self.year_credit_fen,
            max(closing, 0),
            max(-closing, 0),
        )

    @property
    def is_zero(self) -> bool:
        return not any((self.opening_fen, self.debit_fen, self.credit_fen, self.year_debit_fen, self.year_credit_fen))


@dataclass(frozen=True, slots=True)
class AuxiliaryBalance:
    entity_code: str
    entity_name: str
    period: str
    account_code: str
    account_name: str
    dimension: str
    lines: tuple[AuxiliaryLine, ...]
    names: dict[str, tuple[str, str]]  # household id -> (户主, 村)

    def totals(self) -> tuple[int, ...]:
        return tuple(sum(column) for column in zip(*(line.sides() for line in self.lines))) or (0,) * 8


def auxiliary_balance(
    session: Session, entity_code: str, period: str, account_code: str, dimension: str = HOUSEHOLD
) -> AuxiliaryBalance:
    """The 辅助核算余额表 of ``account_code`` (with its sub-accounts) by household or by fund."""
    problem = period_problem(period)
    if problem:
        raise DisburseError(problem)
    if dimension not in DIMENSIONS:
        raise DisburseError(
            tr(
                "辅助核算 is by {dimensions}, not {dimension!r}",
                dimensions=tr(" or ").join(DIMENSIONS),
                dimension=dimension,
            )
        )
    entity = entity_by_code(session, entity_code)
    account = session.get(AccountRow, account_code)
    if account is None:
        raise DisburseError(
            tr("account {account!r} does not exist; `disburse accounts list` shows the chart", account=account_code)
        )
    key = PostingRow.household_id if dimension == HOUSEHOLD else PostingRow.fund_source
    amount = PostingRow.amount_fen
    in_period = JournalEntryRow.period == period
    in_year = JournalEntryRow.period >= f"{period[:4]}-01"

    def total(condition, value=amount):  # type: ignore[no-untyped-def]
        return func.coalesce(func.sum(case((condition, value), else_=0)), 0)

    rows = session.execute(
        select(
            key,
            total(JournalEntryRow.period < period),
            total(in_period & (amount > 0)),
            total(in_period & (amount < 0), -amount),
            total(in_year & (amount > 0)),
            total(in_year & (amount < 0), -amount),
        )
        .join(JournalEntryRow, JournalEntryRow.id == PostingRow.entry_id)
        .where(
            JournalEntryRow.entity_id == entity.id,
            JournalEntryRow.period <= period,
            (PostingRow.account_code == account_code)
            | PostingRow.account_code.startswith(account_code + ".", autoescape=True),
        )
        .group_by(key)
    ).all()
    lines = tuple(
        sorted(
            (AuxiliaryLine(row[0], *(int(value) for value in row[1:])) for row in rows),
            key=lambda line: (line.key is None, line.key or ""),
        )
    )
    names = _household_names(session) if dimension == HOUSEHOLD and lines else {}
    return AuxiliaryBalance(entity.code, entity.name, period, account.code, account.name, dimension, lines, names)


def _household_names(session: Session) -> dict[str, tuple[str, str]]:
    """户主 and 村 of every household, as the newest register snapshot says."""
    frame = newest_versions(
        session, HouseholdVersionRow.__table__, "household_id", ("household_id", "head_name", "village")
    )
    return {
        household: (head or "", village or "")
        for household, head, village in zip(frame["household_id"], frame["head_name"], frame["village"])
    }


def fund_parts(fund_source: str | None) -> tuple[str, str]:
    """(指标文号 or code, name) of a fund source: the leading code when it has one."""
    if fund_source is None:
        return "", UNSPECIFIED
    match = _CODE_THEN_NAME.match(fund_source)
    return (match.group(1), match.group(2)) if match else ("", fund_source)


def auxiliary_book(
    balance: AuxiliaryBalance,
    *,
    hide_zero: bool = False,
    prepared_by: str | None = None,
    printed_on: dt.date | None = None,
) -> Book:
    """The 辅助核算余额表 as a printed book with a 合计 line."""
    if balance.dimension == HOUSEHOLD:
        keys = (Column("户编号"), Column("户主"), Column("村"))
        title = "辅助核算余额表（按户）"
    else:
        keys = (Column("指标文号/编号"), Column("资金来源"))
        title = "辅助核算余额表（按资金来源）"
    groups = ("期初余额", "本期发生额", "本年累计发生额", "期末余额")
    columns = keys + tuple(Column(side, MONEY, group) for group in groups for side in ("借方", "贷方"))
    rows = []
    for line in balance.lines:
        if hide_zero and line.is_zero:
            continue
        if balance.dimension == HOUSEHOLD:
            head, village = balance.names.get(line.key or "", ("", ""))
            key_cells: tuple[str, ...] = (line.key or UNSPECIFIED, head, village)
        else:
            key_cells = fund_parts(line.key)
        rows.append(Row((*key_cells, *line.sides())))
    blanks = ("",) * (len(keys) - 1)
    rows.append(Row((f"合计（{len(balance.lines):,}项）", *blanks, *balance.totals()), style="total"))
    return Book(
        title=title,
        entity_name=f"{balance.entity_name}（{balance.entity_code}）",
        period_text=period_text_zh(balance.period),
        tables=(Table(columns, tuple(rows), sheet_name="辅助核算余额表"),),
        covers=(f"科目：{balance.account_code} {balance.account_name}（含明细科目）",),
        prepared_by=prepared_by,
        printed_on=printed_on or dt.date.today(),
        notes=("已隐藏余额和发生额均为零的项目。",) if hide_zero else (),
    )


def write_auxiliary_balance(
    balance: AuxiliaryBalance,
    path: Path,
    *,
    hide_zero: bool = False,
    prepared_by: str | None = None,
    printed_on: dt.date | None = None,
) -> PrintedFile:
    """Write the 辅助核算余额表 as .pdf or .xlsx."""
    book = auxiliary_book(balance, hide_zero=hide_zero, prepared_by=prepared_by, printed_on=printed_on)
    return write_book(book, path)
