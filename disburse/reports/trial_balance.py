"""科目余额表 (trial balance) of one entity for one period.

Per account: 期初余额 借/贷 (the balance before the period), 本期发生额 借/贷 (the period's debits
and credits), 本年累计发生额 借/贷 (January to the period's end), 期末余额 借/贷 (the balance at
its end), and on request 年初余额 借/贷 (the balance before January). A balance is shown on the
side its sign puts it. Parent accounts roll up their sub-accounts and are printed above them with
the sub-accounts indented; the totals are taken over top-level accounts only, and debit totals
equal credit totals because every entry balances.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from disburse.foundation.dates import period_problem
from disburse.foundation.errors import DisburseError
from disburse.foundation.workbook import write_table
from disburse.ledger.service import entity_by_code
from disburse.ledger.tables import AccountRow, JournalEntryRow, PostingRow
from disburse.reports.printing import MONEY, Book, Column, PrintedFile, Row, Table, period_text_zh, write_book

COLUMNS_ZH = ("科目编码", "科目名称", "期初借方", "期初贷方", "本期借方", "本期贷方", "期末借方", "期末贷方")


@dataclass(frozen=True, slots=True)
class TrialBalanceLine:
    """One account's line: opening balance, the period's debits and credits, closing balance."""

    account_code: str
    account_name: str
    level: int
    opening_fen: int
    debit_fen: int
    credit_fen: int
    year_opening_fen: int = 0
    year_debit_fen: int = 0
    year_credit_fen: int = 0

    @property
    def closing_fen(self) -> int:
        return self.opening_fen + self.debit_fen - self.credit_fen

    def sides(self) -> tuple[int, int, int, int, int, int]:
        """The six amount columns, balances split onto the side their sign puts them."""
        opening, closing = self.opening_fen, self.closing_fen
        return (max(opening, 0), max(-opening, 0), self.debit_fen, self.credit_fen, max(closing, 0), max(-closing, 0))

    def book_sides(self, year_start: bool = False) -> tuple[int, ...]:
        """The printed book's amount columns: [年初 借/贷,] 期初 借/贷, 本期 借/贷, 本年累计 借/贷,
        期末 借/贷."""
        year = self.year_opening_fen
        opening_debit, opening_credit, debit, credit, closing_debit, closing_credit = self.sides()
        middle = (opening_debit, opening_credit, debit, credit, self.year_debit_fen, self.year_credit_fen)
        return ((max(year, 0), max(-year, 0)) if year_start else ()) + middle + (closing_debit, closing_credit)

    @property
    def is_zero(self) -> bool:
        """Nothing to show: no balance at any point and no movement in the period or the year."""
        return not any(
            (
                self.opening_fen,
                self.debit_fen,
                self.credit_fen,
                self.year_opening_fen,
                self.year_debit_fen,
                self.year_credit_fen,
            )
        )


@dataclass(frozen=True, slots=True)
class TrialBalance:
    """The whole 科目余额表, with totals over top-level accounts."""

    entity_code: str
    period: str
    lines: tuple[TrialBalanceLine, ...]
    totals: tuple[int, int, int, int, int, int]
    entity_name: str = ""

    def book_totals(self, year_start: bool = False) -> tuple[int, ...]:
        """合计 of the printed book's amount columns, over top-level accounts."""
        top = [line.book_sides(year_start) for line in self.lines if line.level == 0]
        width = 10 if year_start else 8
        return tuple(sum(column) for column in zip(*top)) if top else (0,) * width

    @property
    def balanced(self) -> bool:
        opening_debit, opening_credit, debit, credit, closing_debit, closing_credit = self.totals
        return opening_debit == opening_credit and debit == credit and closing_debit == closing_credit


def _own_sums(session: Session, entity_id: int, period: str) -> dict[str, tuple[int, ...]]:
    """Per account code with postings: before the period, the period's debits and credits,
    before January, and the year's debits and credits (periods are YYYY-MM text, so text order
    is time order and YYYY-01 opens the year)."""
    amount = PostingRow.amount_fen
    in_period = JournalEntryRow.period == period
    in_year = JournalEntryRow.period >= f"{period[:4]}-01"

    def total(condition):  # type: ignore[no-untyped-def]
        return func.coalesce(func.sum(case((condition, amount), else_=0)), 0)

    def negated(condition):  # type: ignore[no-untyped-def]
        return func.coalesce(func.sum(case((condition, -amount), else_=0)), 0)

    rows = session.execute(
        select(
            PostingRow.account_code,
            total(JournalEntryRow.period < period),
            total(in_period & (amount > 0)),
            negated(in_period & (amount < 0)),
            total(JournalEntryRow.period < f"{period[:4]}-01"),
            total(in_year & (amount > 0)),
            negated(in_year & (amount < 0)),
        )
        .join(JournalEntryRow, JournalEntryRow.id == PostingRow.entry_id)
        .where(JournalEntryRow.entity_id == entity_id, JournalEntryRow.period <= period)
        .group_by(PostingRow.account_code)
    ).all()
    return {row[0]: tuple(int(value) for value in row[1:]) for row in rows}


def trial_balance(session: Session, entity_code: str, period: str) -> TrialBalance:
    """The 科目余额表 of ``entity_code`` for ``period``: every account with postings up to the
    period's end and every ancestor of one, parents before their sub-accounts."""
    problem = period_problem(period)
    if problem:
        raise DisburseError(problem)
    entity = entity_by_code(session, entity_code)
    own = _own_sums(session, entity.id, period)
    accounts = {row.code: row for row in session.scalars(select(AccountRow))}
    totals_by_code: dict[str, list[int]] = {}
    for code, values in own.items():
        # Roll each account's own postings up into itself and every ancestor.
        current: str | None = code
        while current is not None:
            bucket = totals_by_code.setdefault(current, [0] * len(values))
            for position, value in enumerate(values):
                bucket[position] += value
            current = accounts[current].parent_code
    lines = tuple(
        TrialBalanceLine(
            code,
            accounts[code].name,
            code.count("."),
            *totals_by_code[code][:3],
            year_opening_fen=totals_by_code[code][3],
            year_debit_fen=totals_by_code[code][4],
            year_credit_fen=totals_by_code[code][5],
        )
        for code in sorted(totals_by_code, key=lambda code: code.split("."))
    )
    top = [line.sides() for line in lines if line.level == 0]
    totals = tuple(sum(column) for column in zip(*top)) if top else (0, 0, 0, 0, 0, 0)
    result = TrialBalance(entity_code, period, lines, totals, entity.name)  # type: ignore[arg-type]
    # Every posted entry balances, so the books' totals must: anything else is a defect here.
    assert result.balanced, result.totals
    return result


def trial_balance_book(
    result: TrialBalance,
    *,
    year_start: bool = False,
    hide_zero: bool = False,
    prepared_by: str | None = None,
    printed_on: dt.date | None = None,
) -> Book:
    """The 科目余额表 as a printed book: two-level headers (期初余额 over 借方 and 贷方 …), levels
    indented, zero lines left out when ``hide_zero``, and a 合计 line that balances."""
    groups = (("年初余额",) if year_start else ()) + ("期初余额", "本期发生额", "本年累计发生额", "期末余额")
    columns = (
        Column("科目编码"),
        Column("科目名称"),
        *(Column(side, MONEY, group) for group in groups for side in ("借方", "贷方")),
    )
    rows = [
        Row((line.account_code, line.account_name, *line.book_sides(year_start)), indent=line.level)
        for line in result.lines
        if not (hide_zero and line.is_zero)
    ]
    rows.append(Row(("合计", "", *result.book_totals(year_start)), style="total"))
    notes = ("已隐藏余额和发生额均为零的科目。",) if hide_zero else ()
    return Book(
        title="科目余额表",
        entity_name=f"{result.entity_name or result.entity_code}（{result.entity_code}）",
        period_text=period_text_zh(result.period),
        tables=(Table(columns, tuple(rows), sheet_name="科目余额表", indent_column=1),),
        prepared_by=prepared_by,
        printed_on=printed_on or dt.date.today(),
        notes=notes,
    )


def write_trial_balance(
    result: TrialBalance,
    path: Path,
    *,
    year_start: bool = False,
    hide_zero: bool = False,
    prepared_by: str | None = None,
    printed_on: dt.date | None = None,
) -> PrintedFile:
    """Write the 科目余额表 as a printed book (.pdf, or .xlsx set up for printing), or as a plain
    .csv table with amounts as numbers in yuan."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        headers = COLUMNS_ZH[:2] + tuple(
            f"{group}{side}"
            for group in (("年初",) if year_start else ()) + ("期初", "本期", "本年累计", "期末")
            for side in ("借方", "贷方")
        )
        rows = [
            [line.account_code, ("  " * line.level) + line.account_name, *line.book_sides(year_start)]
            for line in result.lines
            if not (hide_zero and line.is_zero)
        ]
        rows.append(["合计", "", *result.book_totals(year_start)])
        write_table(path, title=None, headers=headers, rows=rows, money_columns=range(2, len(headers)))
        return PrintedFile(path)
    book = trial_balance_book(
        result, year_start=year_start, hide_zero=hide_zero, prepared_by=prepared_by, printed_on=printed_on
    )
    return write_book(book, path)
