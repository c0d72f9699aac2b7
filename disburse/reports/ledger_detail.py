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

from sqlalchemy import case, distinct, func, literal, select
from sqlalchemy.orm import Session

from disburse.foundation.dates import as_date, period_problem
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr
from disburse.foundation.workbook import write_table
from disburse.ledger.chart import is_debit_normal
from disburse.ledger.model import voucher_label
from disburse.ledger.service import entity_by_code
from disburse.ledger.tables import AccountRow, JournalEntryRow, PostingRow
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
    posting_count: int = 1
    household_count: int = 0

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
    by_posting: bool = False

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


@dataclass(frozen=True, slots=True)
class DetailFilter:
    """Which postings a 明细账 covers: an account (and its sub-accounts), perhaps one household
    and one fund source, one line per posting or per voucher and account."""

    account_code: str
    household_id: str | None = None
    fund_source: str | None = None
    include_sub_accounts: bool = True
    by_posting: bool = False


def _conditions(entity_id: int, chosen: DetailFilter) -> list:  # type: ignore[type-arg]
    conditions = [JournalEntryRow.entity_id == entity_id]
    code = chosen.account_code
    if chosen.include_sub_accounts:
        # autoescape: a code is matched literally even if it ever held a LIKE wildcard.
        conditions.append(
            (PostingRow.account_code == code) | PostingRow.account_code.startswith(code + ".", autoescape=True)
        )
    else:
        conditions.append(PostingRow.account_code == code)
    if chosen.household_id is not None:
        conditions.append(PostingRow.household_id == chosen.household_id)
    if chosen.fund_source is not None:
        conditions.append(PostingRow.fund_source == chosen.fund_source)
    return conditions


def _totals(session: Session, conditions: list, period: str) -> tuple[int, int, int, int, int, int]:  # type: ignore[type-arg]
    """Net before the period, the period's debits and credits, the year's debits and credits
    and the period's posting count, as SQL aggregates."""
    amount = PostingRow.amount_fen
    in_period = JournalEntryRow.period == period
    # Periods are YYYY-MM text, so text order is time order and January opens the year.
    in_year = JournalEntryRow.period >= f"{period[:4]}-01"
    row = session.execute(
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
    return tuple(int(value) for value in row)  # type: ignore[return-value]


def _period_rows(session: Session, conditions: list, period: str, by_posting: bool) -> list:  # type: ignore[type-arg]
    """The period's lines in date and voucher order: each posting, or the postings of one entry
    on one account and side summed into one line (with how many postings and households)."""
    amount = PostingRow.amount_fen
    where = (*conditions, JournalEntryRow.period == period)
    entry = (JournalEntryRow.id, JournalEntryRow.entry_date, JournalEntryRow.voucher_number, JournalEntryRow.memo)

    def joined(query):  # type: ignore[no-untyped-def]
        return query.join(JournalEntryRow, JournalEntryRow.id == PostingRow.entry_id).where(*where)

    if by_posting:
        query = select(
            *entry,
            PostingRow.account_code,
            PostingRow.household_id,
            PostingRow.household_id,
            PostingRow.fund_source,
            PostingRow.fund_source,
            amount,
            literal(1),
            case((PostingRow.household_id.is_(None), 0), else_=1),
        )
        order = (JournalEntryRow.entry_date, JournalEntryRow.voucher_number, PostingRow.line_number)
        return session.execute(joined(query).order_by(*order)).all()
    side = case((amount > 0, 1), else_=0)
    query = select(
        *entry,
        PostingRow.account_code,
        func.min(PostingRow.household_id),
        func.max(PostingRow.household_id),
        func.min(PostingRow.fund_source),
        func.max(PostingRow.fund_source),
        func.sum(amount),
        func.count(),
        func.count(distinct(PostingRow.household_id)),
    ).group_by(*entry, PostingRow.account_code, side)
    order = (JournalEntryRow.entry_date, JournalEntryRow.voucher_number, func.min(PostingRow.line_number))
    return session.execute(joined(query).order_by(*order)).all()


def _running_lines(rows: list, opening_balance_fen: int, debit_normal: bool) -> list[DetailLine]:  # type: ignore[type-arg]
    """Each line with the running balance after it (signed towards the normal side)."""
    sign = 1 if debit_normal else -1
    balance_fen = opening_balance_fen
    lines: list[DetailLine] = []
    for (
        entry_id,
        entry_date,
        number,
        memo,
        code,
        first_household,
        last_household,
        first_fund,
        last_fund,
        amount_fen,
        postings,
        households,
    ) in rows:
        amount_fen = int(amount_fen)
        balance_fen += sign * amount_fen
        lines.append(
            DetailLine(
                entry_id=entry_id,
                entry_date=as_date(entry_date),
                voucher_number=number,
                memo=memo,
                account_code=code,
                household_id=first_household if first_household == last_household else None,
                fund_source=first_fund if first_fund == last_fund else None,
                debit_fen=max(amount_fen, 0),
                credit_fen=max(-amount_fen, 0),
                balance_fen=balance_fen,
                direction=balance_direction(balance_fen, debit_normal),
                posting_count=int(postings),
                household_count=int(households),
            )
        )
    return lines


def account_detail(
    session: Session,
    entity_code: str,
    period: str,
    account_code: str,
    *,
    household_id: str | None = None,
    fund_source: str | None = None,
    include_sub_accounts: bool = True,
    by_posting: bool = False,
) -> AccountDetail:
    """The 明细账 of ``account_code`` (with its sub-accounts unless told otherwise) in one
    entity's period, optionally only the postings of one household and/or one fund source.
    A line is one voucher's postings on one account and side (a distribution to a village's
    households is one line; the 辅助核算 reports show each household), or with ``by_posting``
    one posting.

    Refuses a malformed period, an unknown entity and an unknown account."""
    problem = period_problem(period)
    if problem:
        raise DisburseError(problem)
    entity = entity_by_code(session, entity_code)
    account = session.get(AccountRow, account_code)
    if account is None:
        raise DisburseError(
            tr("account {account!r} does not exist; `disburse accounts list` shows the chart", account=account_code)
        )
    chosen = DetailFilter(account_code, household_id, fund_source, include_sub_accounts, by_posting)
    conditions = _conditions(entity.id, chosen)
    opening_net_fen, period_debit_fen, period_credit_fen, year_debit_fen, year_credit_fen, posting_count = _totals(
        session, conditions, period
    )
    if posting_count > DETAIL_LINES_MAX:
        raise DisburseError(
            tr(
                "{account} has {count:,} postings in {entity} {period}, more than the {limit:,} a 明细账 shows; "
                "filter by --household or --fund",
                account=account_code,
                count=posting_count,
                entity=entity_code,
                period=period,
                limit=DETAIL_LINES_MAX,
            )
        )
    debit_normal = is_debit_normal(account.account_type)
    opening_balance_fen = (1 if debit_normal else -1) * opening_net_fen
    lines = _running_lines(_period_rows(session, conditions, period, by_posting), opening_balance_fen, debit_normal)
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
        by_posting=by_posting,
    )
    # The aggregate and the lines are two reads of the same postings: they must agree.
    assert sum(line.posting_count for line in lines) == posting_count, (len(lines), posting_count)
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
                line_memo(line),
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


def line_memo(line: DetailLine) -> str:
    """摘要 as printed: a line that sums several households' postings says how many."""
    return f"{line.memo}（{line.household_count:,}户）" if line.household_count > 1 else line.memo


def detail_covers(detail: AccountDetail) -> tuple[str, ...]:
    """The lines under 编制单位 that say what the 明细账 covers."""
    account = f"科目：{detail.account_code} {detail.account_name}"
    if detail.include_sub_accounts:
        account += "（含明细科目）"
    covers = [account]
    if detail.household_id is not None:
        covers.append(f"户编号：{detail.household_id}")
    if detail.fund_source is not None:
        covers.append(f"资金来源：{detail.fund_source}")
    return tuple(covers)


def detail_book(detail: AccountDetail, *, prepared_by: str | None = None, printed_on: dt.date | None = None) -> Book:
    """The 明细账 (三栏式) as a printed book: 日期, 凭证字号, 摘要, 借方, 贷方, 方向, 余额, with a
    科目 column when sub-accounts have lines and a 户编号 column for a book of every posting."""
    with_account = len({line.account_code for line in detail.lines}) > 1
    with_household = detail.by_posting and detail.household_id is None
    columns = [Column("日期", CENTER), Column("凭证字号", CENTER)]
    columns += [Column("科目")] if with_account else []
    columns += [Column("摘要", wrap=True)]
    columns += [Column("户编号")] if with_household else []
    columns += [
        Column("借方", MONEY),
        Column("贷方", MONEY),
        Column("方向", CENTER),
        Column("余额", MONEY, blank_zero=False),
    ]

    def row(date, voucher, code, memo, household, debit, credit, direction, balance, style=""):  # type: ignore[no-untyped-def]
        cells = [date, voucher] + ([code] if with_account else []) + [memo] + ([household] if with_household else [])
        return Row(tuple(cells + [debit, credit, direction, balance]), style=style)

    closing = (detail.closing_direction, abs(detail.closing_balance_fen))
    rows = [
        row(None, None, None, "期初余额", None, None, None, detail.opening_direction, abs(detail.opening_balance_fen))
    ]
    rows += [
        row(
            line.entry_date.isoformat(),
            line.voucher,
            line.account_code,
            line_memo(line),
            line.household_id,
            line.debit_fen,
            line.credit_fen,
            line.direction,
            line.balance_shown_fen,
        )
        for line in detail.lines
    ]
    rows.append(
        row(
            None,
            None,
            None,
            "本月合计",
            None,
            detail.period_debit_fen,
            detail.period_credit_fen,
            *closing,
            style="total",
        )
    )
    rows.append(
        row(
            None,
            None,
            None,
            "本年累计",
            None,
            detail.year_debit_fen,
            detail.year_credit_fen,
            *closing,
            style="subtotal",
        )
    )
    return Book(
        title="明细账",
        entity_name=f"{detail.entity_name}（{detail.entity_code}）",
        period_text=period_text_zh(detail.period),
        tables=(Table(tuple(columns), tuple(rows), sheet_name=f"明细账 {detail.account_code}"),),
        covers=detail_covers(detail),
        prepared_by=prepared_by,
        printed_on=printed_on or dt.date.today(),
    )


def write_account_detail(
    detail: AccountDetail, path: Path, *, prepared_by: str | None = None, printed_on: dt.date | None = None
) -> PrintedFile:
    """Write the 明细账 as a printed book (.pdf, or .xlsx set up for printing), or as a plain
    .csv table of ``COLUMNS_ZH`` with amounts as numbers in yuan."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        return write_book(detail_book(detail, prepared_by=prepared_by, printed_on=printed_on), path)
    # The CSV writer formats every non-text cell of a money column as a number, so a blank
    # amount goes to it as empty text.
    rows = [
        [("" if cell is None and index in MONEY_COLUMNS else cell) for index, cell in enumerate(row)]
        for row in detail_rows(detail)
    ]
    write_table(path, title=None, headers=COLUMNS_ZH, rows=rows, money_columns=MONEY_COLUMNS)
    return PrintedFile(path)


__all__: Sequence[str] = (
    "COLUMNS_ZH",
    "AccountDetail",
    "DetailLine",
    "account_detail",
    "balance_direction",
    "detail_book",
    "detail_rows",
    "write_account_detail",
)
