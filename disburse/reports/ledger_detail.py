"""明细账 (account detail) of one entity's account for one period, with a running balance.

The layout is the one Chinese finance staff keep by hand and in 用友/金蝶: a 期初余额 line (the
balance before the period), one line per posting in date and voucher order with 日期, 凭证号,
摘要, 户编号, 资金来源, 借方, 贷方, 方向 and the running 余额, then 本月合计 and 本年累计 lines that
carry the closing balance.

A balance is kept signed towards the account's normal side (positive for a debit balance on an
asset, cost or expense account, positive for a credit balance on the others); it is shown as
方向 (借/贷/平, the side the balance sits on) and an 余额 that is never negative. Filters on
household and fund source apply to the opening balance and the totals as well as to the lines,
so a household's 明细账 of 211 应付款 is that household's own payable.

The opening balance and the totals are SQL aggregates over the entity's postings; only the
period's matching lines come back to Python, where the running balance is a cumulative sum.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from disburse.foundation.dates import as_date, period_problem
from disburse.foundation.errors import DisburseError
from disburse.foundation.workbook import write_table
from disburse.ledger.chart import is_debit_normal
from disburse.ledger.model import voucher_label
from disburse.ledger.service import entity_by_code
from disburse.ledger.tables import AccountRow, JournalEntryRow, PostingRow

COLUMNS_ZH = ("日期", "凭证号", "科目编码", "摘要", "户编号", "资金来源", "借方", "贷方", "方向", "余额")
MONEY_COLUMNS = (6, 7, 9)
# One account's postings in one period; a county's 211 应付款 for a month of payouts to every
# household is well below this. Past it the report is refused rather than exhausting memory.
DETAIL_LINES_MAX = 2_000_000

DEBIT_SIDE = "借"
CREDIT_SIDE = "贷"
LEVEL = "平"


def balance_direction(balance_fen: int, debit_normal: bool) -> str:
    """方向 of a balance kept signed towards the normal side: the side it sits on, or 平 at zero."""
    if balance_fen == 0:
        return LEVEL
    on_normal_side = balance_fen > 0
    return DEBIT_SIDE if on_normal_side == debit_normal else CREDIT_SIDE


@dataclass(frozen=True, slots=True)
class DetailLine:
    """One posting of the 明细账 and the running balance after it (signed towards the normal side)."""

    entry_id: int
    entry_date: dt.date
    voucher_number: int
    memo: str
    account_code: str
    household_id: str | None
    fund_source: str | None
    debit_fen: int
    credit_fen: int
    balance_fen: int
    direction: str

    @property
    def voucher(self) -> str:
        return voucher_label(self.voucher_number)

    @property
    def balance_shown_fen(self) -> int:
        """余额 as printed: the size of the balance; 方向 says which side it is on."""
        return abs(self.balance_fen)


@dataclass(frozen=True, slots=True)
class AccountDetail:
    """A whole 明细账: what it covers, the opening balance, the lines and the period's totals.

    ``opening_balance_fen`` and every balance are signed towards the account's normal side;
    the year's totals run from January of the period's year to the period's end.
    """

    entity_code: str
    entity_name: str
    period: str
    account_code: str
    account_name: str
    account_type: str
    include_sub_accounts: bool
    household_id: str | None
    fund_source: str | None
    opening_balance_fen: int
    lines: tuple[DetailLine, ...]
    period_debit_fen: int
    period_credit_fen: int
    year_debit_fen: int
    year_credit_fen: int

    @property
    def debit_normal(self) -> bool:
        return is_debit_normal(self.account_type)

    @property
    def closing_balance_fen(self) -> int:
        sign = 1 if self.debit_normal else -1
        return self.opening_balance_fen + sign * (self.period_debit_fen - self.period_credit_fen)

    @property
    def opening_direction(self) -> str:
        return balance_direction(self.opening_balance_fen, self.debit_normal)

    @property
    def closing_direction(self) -> str:
        return balance_direction(self.closing_balance_fen, self.debit_normal)

    @property
    def title(self) -> str:
        """明细账 611002001001 2026-10 211 应付款 (户 …, 资金来源 …)."""
        filters = []
        if self.household_id is not None:
            filters.append(f"户编号 {self.household_id}")
        if self.fund_source is not None:
            filters.append(f"资金来源 {self.fund_source}")
        if not self.include_sub_accounts:
            filters.append("不含明细科目")
        suffix = f" ({'，'.join(filters)})" if filters else ""
        return f"明细账 {self.entity_code} {self.period} {self.account_code} {self.account_name}{suffix}"


def account_detail(
    session: Session,
    entity_code: str,
    period: str,
    account_code: str,
    *,
    household_id: str | None = None,
    fund_source: str | None = None,
    include_sub_accounts: bool = True,
) -> AccountDetail:
    """The 明细账 of ``account_code`` (with its sub-accounts unless told otherwise) in one
    entity's period, optionally only the postings of one household and/or one fund source.

    Refuses a malformed period, an unknown entity and an unknown account."""
    problem = period_problem(period)
    if problem:
        raise DisburseError(problem)
    entity = entity_by_code(session, entity_code)
    account = session.get(AccountRow, account_code)
    if account is None:
        raise DisburseError(f"account {account_code!r} does not exist; `disburse accounts list` shows the chart")
    debit_normal = is_debit_normal(account.account_type)
    sign = 1 if debit_normal else -1

    conditions = [JournalEntryRow.entity_id == entity.id]
    if include_sub_accounts:
        # autoescape: a code is matched literally even if it ever held a LIKE wildcard.
        conditions.append(
            (PostingRow.account_code == account_code)
            | PostingRow.account_code.startswith(account_code + ".", autoescape=True)
        )
    else:
        conditions.append(PostingRow.account_code == account_code)
    if household_id is not None:
        conditions.append(PostingRow.household_id == household_id)
    if fund_source is not None:
        conditions.append(PostingRow.fund_source == fund_source)

    amount = PostingRow.amount_fen
    in_period = JournalEntryRow.period == period
    # Periods are YYYY-MM text, so text order is time order and January opens the year.
    in_year = JournalEntryRow.period >= f"{period[:4]}-01"
    totals = session.execute(
        select(
            func.coalesce(func.sum(case((JournalEntryRow.period < period, amount), else_=0)), 0),
            func.coalesce(func.sum(case((in_period & (amount > 0), amount), else_=0)), 0),
            func.coalesce(func.sum(case((in_period & (amount < 0), -amount), else_=0)), 0),
            func.coalesce(func.sum(case((in_year & (amount > 0), amount), else_=0)), 0),
            func.coalesce(func.sum(case((in_year & (amount < 0), -amount), else_=0)), 0),
            func.count(case((in_period, 1))),
        )
        .join(JournalEntryRow, JournalEntryRow.id == PostingRow.entry_id)
        .where(*conditions, JournalEntryRow.period <= period)
    ).one()
    opening_net_fen, period_debit_fen, period_credit_fen, year_debit_fen, year_credit_fen, line_count = (
        int(value) for value in totals
    )
    if line_count > DETAIL_LINES_MAX:
        raise DisburseError(
            f"{account_code} has {line_count:,} postings in {entity_code} {period}, more than the "
            f"{DETAIL_LINES_MAX:,} a 明细账 shows; filter by --household or --fund"
        )

    rows = session.execute(
        select(
            JournalEntryRow.id,
            JournalEntryRow.entry_date,
            JournalEntryRow.voucher_number,
            JournalEntryRow.memo,
            PostingRow.account_code,
            PostingRow.household_id,
            PostingRow.fund_source,
            amount,
        )
        .join(JournalEntryRow, JournalEntryRow.id == PostingRow.entry_id)
        .where(*conditions, in_period)
        .order_by(JournalEntryRow.entry_date, JournalEntryRow.voucher_number, PostingRow.line_number)
    ).all()

    opening_balance_fen = sign * opening_net_fen
    balance_fen = opening_balance_fen
    lines: list[DetailLine] = []
    for entry_id, entry_date, voucher_number, memo, code, household, fund, amount_fen in rows:
        amount_fen = int(amount_fen)
        balance_fen += sign * amount_fen
        lines.append(
            DetailLine(
                entry_id=entry_id,
                entry_date=as_date(entry_date),
                voucher_number=voucher_number,
                memo=memo,
                account_code=code,
                household_id=household,
                fund_source=fund,
                debit_fen=max(amount_fen, 0),
                credit_fen=max(-amount_fen, 0),
                balance_fen=balance_fen,
                direction=balance_direction(balance_fen, debit_normal),
            )
        )
    detail = AccountDetail(
        entity_code=entity.code,
        entity_name=entity.name,
        period=period,
        account_code=account.code,
        account_name=account.name,
        account_type=account.account_type,
        include_sub_accounts=include_sub_accounts,
        household_id=household_id,
        fund_source=fund_source,
        opening_balance_fen=opening_balance_fen,
        lines=tuple(lines),
        period_debit_fen=period_debit_fen,
        period_credit_fen=period_credit_fen,
        year_debit_fen=year_debit_fen,
        year_credit_fen=year_credit_fen,
    )
    # The aggregate and the lines are two reads of the same postings: they must agree.
    assert len(lines) == line_count, (len(lines), line_count)
    assert sum(line.debit_fen for line in lines) == period_debit_fen
    assert sum(line.credit_fen for line in lines) == period_credit_fen
    assert not lines or lines[-1].balance_fen == detail.closing_balance_fen
    return detail


def detail_rows(detail: AccountDetail) -> list[list[object]]:
    """The 明细账 as table rows in ``COLUMNS_ZH`` order, amounts as int fen and blank cells as
    None: 期初余额, the lines, 本月合计 and 本年累计 (each of the last two with the closing balance)."""
    rows: list[list[object]] = [
        [
            None,
            None,
            None,
            "期初余额",
            None,
            None,
            None,
            None,
            detail.opening_direction,
            abs(detail.opening_balance_fen),
        ]
    ]
    for line in detail.lines:
        rows.append(
            [
                line.entry_date.isoformat(),
                line.voucher,
                line.account_code,
                line.memo,
                line.household_id,
                line.fund_source,
                # A blank, not 0.00, on the side a posting is not on, as in a hand-kept book.
                line.debit_fen or None,
                line.credit_fen or None,
                line.direction,
                line.balance_shown_fen,
            ]
        )
    closing = [detail.closing_direction, abs(detail.closing_balance_fen)]
    rows.append([None, None, None, "本月合计", None, None, detail.period_debit_fen, detail.period_credit_fen, *closing])
    rows.append([None, None, None, "本年累计", None, None, detail.year_debit_fen, detail.year_credit_fen, *closing])
    return rows


def write_account_detail(detail: AccountDetail, path: Path) -> int:
    """Write the 明细账 as .xlsx or .csv (amounts as numbers in yuan); returns the rows written."""
    rows = detail_rows(detail)
    if Path(path).suffix.lower() == ".csv":
        # The CSV writer formats every non-text cell of a money column as a number, so a blank
        # amount goes to it as empty text; in a workbook None leaves the cell truly empty.
        rows = [
            [("" if cell is None and index in MONEY_COLUMNS else cell) for index, cell in enumerate(row)]
            for row in rows
        ]
    return write_table(
        path,
        title=detail.title,
        headers=COLUMNS_ZH,
        rows=rows,
        money_columns=MONEY_COLUMNS,
        sheet_name=f"明细账 {detail.account_code}",
    )


__all__: Sequence[str] = (
    "COLUMNS_ZH",
    "AccountDetail",
    "DetailLine",
    "account_detail",
    "balance_direction",
    "detail_rows",
    "write_account_detail",
)
