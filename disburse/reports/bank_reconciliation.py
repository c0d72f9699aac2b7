"""银行存款余额调节表 as a printed book: the two sides brought to the same figure, and under it the
list of 未达账项 that make the difference, by kind, each with its date, description and amount.

The figures are the reconciliation's own: ``reconciliation.runs.compute`` reads and matches the
period afresh and builds the table with ``reconciliation.adjusted_balance``; nothing here adds
or nets an amount of its own except the subtotal of each kind of 未达账项, which must equal the
table's line (checked).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from disburse.foundation.dates import as_date_or_none
from disburse.foundation.errors import DisburseError
from disburse.foundation.frames import blank_text
from disburse.foundation.i18n import TranslatedNames, tr, tr_noop
from disburse.ledger.service import entity_by_code
from disburse.reconciliation.model import AdjustedBalance
from disburse.reconciliation.runs import compute
from disburse.reconciliation.statements import BankAccountRef, bank_account_by_reference
from disburse.reports.printing import CENTER, MONEY, Book, Column, PrintedFile, Row, Table, period_text_zh, write_book

# The 调节表 is Chinese in every language.
STATUS_NAMES_ZH = TranslatedNames(
    {
        "candidate": tr_noop("a match to confirm"),
        "bank_only": tr_noop("not matched"),
        "book_only": tr_noop("not matched"),
        "matched": tr_noop("arrived the next period"),
        "confirmed": tr_noop("arrived the next period"),
    },
    "zh",
)
KINDS = (
    ("加：银行已收、企业未收", "bank_received_book_not"),
    ("减：银行已付、企业未付", "bank_paid_book_not"),
    ("加：企业已收、银行未收", "book_received_bank_not"),
    ("减：企业已付、银行未付", "book_paid_bank_not"),
)


@dataclass(frozen=True, slots=True)
class PrintedReconciliation:
    """What the printed 调节表 shows, with the frames its 未达账项 are described from."""

    account: BankAccountRef
    entity_name: str
    period: str
    balance: AdjustedBalance
    statement: pd.DataFrame
    book: pd.DataFrame


def reconciliation_statement(session: Session, account: str, period: str) -> PrintedReconciliation:
    """The period's 调节表 of a bank account (its number or 102.xx code); refuses when the
    statement gives no balance at the period's end."""
    reference = bank_account_by_reference(session, account)
    inputs, _, balance, problem = compute(session, reference, period)
    if balance is None:
        raise DisburseError(
            tr(
                "no 银行存款余额调节表 for {account} {period}: {reason}",
                account=reference.describe(),
                period=period,
                reason=problem,
            )
        )
    entity_name = entity_by_code(session, reference.entity_code).name
    return PrintedReconciliation(reference, entity_name, period, balance, inputs.statement, inputs.book)


def _balance_rows(balance: AdjustedBalance) -> list[Row]:
    rows = [
        Row(("企业银行存款日记账余额", balance.book_balance_fen, "银行对账单余额", balance.bank_balance_fen)),
        Row(
            (
                "加：银行已收、企业未收",
                balance.bank_received_book_not_fen,
                "加：企业已收、银行未收",
                balance.book_received_bank_not_fen,
            )
        ),
        Row(
            (
                "减：银行已付、企业未付",
                balance.bank_paid_book_not_fen,
                "减：企业已付、银行未付",
                balance.book_paid_bank_not_fen,
            )
        ),
        Row(
            (
                "调节后的存款余额",
                balance.adjusted_book_balance_fen,
                "调节后的存款余额",
                balance.adjusted_bank_balance_fen,
            ),
            style="total",
        ),
    ]
    if balance.agrees:
        rows.append(Row(("结论", None, "两方调节后余额相符", None)))
    else:
        rows.append(Row(("差额（企业−银行）", balance.difference_fen, "不符：请查明差异原因", None)))
        rows.append(Row(("其中：金额不符可解释", balance.explained_fen, "无法解释", balance.unexplained_fen)))
    return rows


def _describe(item, statement: pd.DataFrame, book: pd.DataFrame) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """(说明, 对方户名) of an outstanding item, from its statement line or book item."""
    if item.side == "statement":
        found = statement[statement["line_id"] == item.item_id]
        names = ("summary", "memo")
    else:
        found = book[book["book_id"] == item.item_id]
        names = ("memo", "payment_reference")
    if found.empty:
        return "", ""
    source = found.iloc[0]
    text = " ".join(str(blank_text(source[name])) for name in names if blank_text(source[name]))
    return text, str(blank_text(source["counterparty_name"]) or "")


def _item_rows(printed: PrintedReconciliation) -> list[Row]:
    rows: list[Row] = []
    for label, name in KINDS:
        items: pd.DataFrame = getattr(printed.balance, name)
        total_fen = int(items["amount_fen"].sum()) if len(items) else 0
        # Each kind's list adds up to its line in the table above.
        assert total_fen == getattr(printed.balance, name + "_fen"), (name, total_fen)
        for item in items.sort_values(["item_date", "item_id"]).itertuples(index=False):
            text, counterparty = _describe(item, printed.statement, printed.book)
            day = as_date_or_none(item.item_date)
            rows.append(
                Row(
                    (
                        label[2:],
                        "对账单" if item.side == "statement" else "账簿",
                        day.isoformat() if day else "",
                        text,
                        counterparty,
                        int(item.amount_fen),
                        STATUS_NAMES_ZH.get(item.status, item.status),
                    )
                )
            )
        rows.append(Row((f"{label[2:]}小计（{len(items):,}笔）", "", "", "", "", total_fen, ""), style="subtotal"))
    return rows


def reconciliation_book(
    printed: PrintedReconciliation, *, prepared_by: str | None = None, printed_on: dt.date | None = None
) -> Book:
    account = printed.account
    table = Table(
        (
            Column("企业账面"),
            Column("金额", MONEY, blank_zero=False),
            Column("银行对账单"),
            Column("金额", MONEY, blank_zero=False),
        ),
        tuple(_balance_rows(printed.balance)),
        keep_together=True,
        sheet_name="调节表",
    )
    items = Table(
        (
            Column("未达账项"),
            Column("来源", CENTER),
            Column("日期", CENTER),
            Column("摘要", wrap=True),
            Column("对方户名", wrap=True),
            Column("金额", MONEY, blank_zero=False),
            Column("状态", CENTER),
        ),
        tuple(_item_rows(printed)),
        caption="未达账项明细",
        sheet_name="调节表",
    )
    return Book(
        title="银行存款余额调节表",
        entity_name=f"{printed.entity_name}（{account.entity_code}）",
        period_text=period_text_zh(printed.period),
        tables=(table, items),
        covers=(f"开户行：{account.bank_name}", f"账号：{account.account_number}（{account.ledger_account_code}）"),
        prepared_by=prepared_by,
        printed_on=printed_on or dt.date.today(),
        landscape=False,
    )


def write_reconciliation(
    printed: PrintedReconciliation, path: Path, *, prepared_by: str | None = None, printed_on: dt.date | None = None
) -> PrintedFile:
    """Write the 调节表 and its 未达账项 as .pdf or .xlsx."""
    return write_book(reconciliation_book(printed, prepared_by=prepared_by, printed_on=printed_on), path)
