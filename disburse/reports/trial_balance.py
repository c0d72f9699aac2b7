"""科目余额表 (trial balance) of one entity for one period.

Six amount columns per account: 期初借方, 期初贷方 (balance before the period), 本期借方, 本期贷方
(the period's debits and credits), 期末借方, 期末贷方 (balance at its end). A balance is shown on
the side its sign puts it. Parent accounts roll up their sub-accounts; the totals are taken over
top-level accounts only, and debit totals equal credit totals because every entry balances.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from disburse.foundation.dates import period_problem
from disburse.foundation.errors import DisburseError
from disburse.foundation.workbook import write_table
from disburse.ledger.service import entity_by_code
from disburse.ledger.tables import AccountRow, JournalEntryRow, PostingRow

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

    @property
    def closing_fen(self) -> int:
        return self.opening_fen + self.debit_fen - self.credit_fen

    def sides(self) -> tuple[int, int, int, int, int, int]:
        """The six amount columns, balances split onto the side their sign puts them."""
        opening, closing = self.opening_fen, self.closing_fen
        return (max(opening, 0), max(-opening, 0), self.debit_fen, self.credit_fen, max(closing, 0), max(-closing, 0))


@dataclass(frozen=True, slots=True)
class TrialBalance:
    """The whole 科目余额表, with totals over top-level accounts."""

    entity_code: str
    period: str
    lines: tuple[TrialBalanceLine, ...]
    totals: tuple[int, int, int, int, int, int]

    @property
    def balanced(self) -> bool:
        opening_debit, opening_credit, debit, credit, closing_debit, closing_credit = self.totals
        return opening_debit == opening_credit and debit == credit and closing_debit == closing_credit


def trial_balance(session: Session, entity_code: str, period: str) -> TrialBalance:
    problem = period_problem(period)
    if problem:
        raise DisburseError(problem)
    entity = entity_by_code(session, entity_code)
    amount = PostingRow.amount_fen
    rows = session.execute(
        select(
            PostingRow.account_code,
            func.coalesce(func.sum(case((JournalEntryRow.period < period, amount), else_=0)), 0),
            func.coalesce(func.sum(case(((JournalEntryRow.period == period) & (amount > 0), amount), else_=0)), 0),
            func.coalesce(func.sum(case(((JournalEntryRow.period == period) & (amount < 0), -amount), else_=0)), 0),
        )
        .join(JournalEntryRow, JournalEntryRow.id == PostingRow.entry_id)
        .where(JournalEntryRow.entity_id == entity.id, JournalEntryRow.period <= period)
        .group_by(PostingRow.account_code)
    ).all()
    own = {code: (int(opening), int(debit), int(credit)) for code, opening, debit, credit in rows}
    accounts = {row.code: row for row in session.scalars(select(AccountRow))}
    totals_by_code: dict[str, list[int]] = {}
    for code, values in own.items():
        # Roll each account's own postings up into itself and every ancestor.
        current: str | None = code
        while current is not None:
            bucket = totals_by_code.setdefault(current, [0, 0, 0])
            for position in range(3):
                bucket[position] += values[position]
            current = accounts[current].parent_code
    lines = tuple(
        TrialBalanceLine(code, accounts[code].name, code.count("."), *totals_by_code[code])
        for code in sorted(totals_by_code)
    )
    top = [line.sides() for line in lines if line.level == 0]
    totals = tuple(sum(column) for column in zip(*top)) if top else (0, 0, 0, 0, 0, 0)
    result = TrialBalance(entity_code, period, lines, totals)  # type: ignore[arg-type]
    # Every posted entry balances, so the books' totals must: anything else is a defect here.
    assert result.balanced, result.totals
    return result


def write_trial_balance(result: TrialBalance, path: Path) -> None:
    """Write the 科目余额表 as .xlsx or .csv with amounts as numbers in yuan."""
    rows = [[line.account_code, ("  " * line.level) + line.account_name, *line.sides()] for line in result.lines]
    rows.append(["合计", "", *result.totals])
    write_table(
        path,
        title=f"科目余额表 {result.entity_code} {result.period}",
        headers=COLUMNS_ZH,
        rows=rows,
        money_columns=range(2, 8),
    )
