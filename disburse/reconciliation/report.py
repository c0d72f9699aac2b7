"""The reconciliation report (``disburse reconcile report``): one workbook with the
银行存款余额调节表 at the period end, the matches, what is left on each side, the amount
mismatches, the duplicates and, when the two adjusted balances differ, the lines that cause it.

The report reconciles the period afresh (with every stored confirmation and rejection), so it
shows what a run would store now; it stores nothing. Amounts are int fen in money columns
(``reports.export`` writes them as yuan).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from disburse.foundation.dates import as_date_or_none
from disburse.foundation.errors import DisburseError
from disburse.foundation.frames import blank_text
from disburse.foundation.i18n import TranslatedNames, tr, tr_noop
from disburse.foundation.masking import mask_identifier
from disburse.foundation.workbook import Sheet, write_workbook
from disburse.reconciliation.model import AdjustedBalance, ReconciliationResult
from disburse.reconciliation.runs import RunCounts, compute, run_counts
from disburse.reconciliation.statements import BankAccountRef, bank_account_by_reference

# Descriptions of lines and items are looked up for at most this many of them; past it the
# workbook lists ids and amounts only (a million-line run's report stays a report).
TEXTS_ITEMS_MAX = 400_000
# The names of the codes, as catalog ids; the Chinese is in the catalog.
CATEGORY_NAMES = {"fee": tr_noop("bank fee"), "interest": tr_noop("interest"), "unknown": tr_noop("unknown")}
RULE_NAMES = {
    "confirmed": tr_noop("confirmed by hand"),
    "reference": tr_noop("payment reference"),
    "amount_account": tr_noop("amount + counterparty account"),
    "batch_successful": tr_noop("batch total of the successful payments"),
    "batch_control_total": tr_noop("batch total (with the returned payments)"),
    "batch_refund": tr_noop("failed payments returned"),
    "many_to_one": tr_noop("many lines into one"),
    "fuzzy_name": tr_noop("similar account name (to confirm)"),
    "amount_date": tr_noop("amount + date (to confirm)"),
    "post_unmatched": tr_noop("posted by a rule"),
}
STATUS_NAMES = {
    "matched": tr_noop("matched"),
    "candidate": tr_noop("to confirm"),
    "confirmed": tr_noop("confirmed"),
    "bank_only": tr_noop("in the bank, not in the books"),
    "book_only": tr_noop("in the books, not in the bank"),
}

# Why a line looks recorded twice (model.DUPLICATE_REASONS).
DUPLICATE_REASON_NAMES = {
    "txn_id": tr_noop("the same bank transaction number"),
    "payment_reference": tr_noop("the same payment reference"),
    "same_date_amount_counterparty": tr_noop("the same date, amount and counterparty"),
}


# The web pages show the names in the reader's language.
RULE_NAMES_ZH = TranslatedNames(RULE_NAMES)
STATUS_NAMES_ZH = TranslatedNames(STATUS_NAMES)
CATEGORY_NAMES_ZH = TranslatedNames(CATEGORY_NAMES)
# The workbook is the 银行存款余额调节表 book layout, Chinese like its headers in every language.
_REPORT_RULE_NAMES = TranslatedNames(RULE_NAMES, "zh")
_REPORT_STATUS_NAMES = TranslatedNames(STATUS_NAMES, "zh")
_REPORT_CATEGORY_NAMES = TranslatedNames(CATEGORY_NAMES, "zh")
_REPORT_DUPLICATE_REASON_NAMES = TranslatedNames(DUPLICATE_REASON_NAMES, "zh")


@dataclass(frozen=True, slots=True, eq=False)
class ReconciliationReport:
    """What the report shows, and the files written."""

    account: BankAccountRef
    period: str
    counts: RunCounts
    balance: AdjustedBalance
    result: ReconciliationResult
    files: tuple[Path, ...]

    @property
    def agrees(self) -> bool:
        return self.balance.agrees


# A run of at least this many digits in a key is an account or card number.
ACCOUNT_DIGITS_MIN = 8


def _iso_day(value: object) -> str:
    day = as_date_or_none(value)
    return "" if day is None else day.isoformat()


def _ids(values: object) -> str:
    return ", ".join(str(value) for value in values) if values else ""  # type: ignore[union-attr]


def balance_rows(balance: AdjustedBalance) -> list[list[object]]:
    """The 调节表 as four columns: the book side and the bank side, line by line. Pending
    candidates (待确认) get their own line after the adjusted balances, with each side's own
    amount, counted in neither column (``adjusted_balance``'s module doc says why); when the
    table does not tie, the difference is taken apart to the fen."""
    rows: list[list[object]] = [
        ["企业银行存款日记账余额", balance.book_balance_fen, "银行对账单余额", balance.bank_balance_fen],
        [
            "加：银行已收、企业未收",
            balance.bank_received_book_not_fen,
            "加：企业已收、银行未收",
            balance.book_received_bank_not_fen,
        ],
        [
            "减：银行已付、企业未付",
            balance.bank_paid_book_not_fen,
            "减：企业已付、银行未付",
            balance.book_paid_bank_not_fen,
        ],
        ["调节后的存款余额", balance.adjusted_book_balance_fen, "调节后的存款余额", balance.adjusted_bank_balance_fen],
    ]
    if balance.pending_match_count:
        count = balance.pending_match_count
        rows.append(
            [
                f"待确认匹配 {count} 笔：对账单金额(未计入上列)",
                balance.pending_statement_fen,
                f"待确认匹配 {count} 笔：账簿金额(未计入上列)",
                balance.pending_book_fen,
            ]
        )
    if balance.agrees:
        rows.append(["结论", "", "两方调节后余额相符", ""])
    else:
        rows.append(["差额(企业−银行)", balance.difference_fen, "不符：见「差异原因」", ""])
        rows.append(
            ["其中：已匹配金额不符", balance.explained_fen, "待确认匹配金额不符", balance.pending_difference_fen]
        )
        rows.append(["无法由匹配解释", balance.unexplained_fen, "", ""])
    return rows


def _pending_sheet_rows(
    balance: AdjustedBalance, result: ReconciliationResult, texts: dict[tuple[str, int], str]
) -> list[list[object]]:
    """One row per line or item of a pending candidate, under its match id."""
    rules = result.matches.set_index("match_id")[["rule", "score"]]
    rows = []
    for item in balance.pending.itertuples(index=False):
        rule, score = rules.loc[item.match_id] if item.match_id in rules.index else ("", 0)
        rows.append(
            [
                item.match_id,
                _REPORT_RULE_NAMES.get(rule, rule),
                int(score),
                "对账单" if item.side == "statement" else "账簿",
                int(item.item_id),
                _iso_day(item.item_date),
                int(item.amount_fen),
                texts.get((item.side, int(item.item_id)), ""),
            ]
        )
    return rows


def _texts(statement: pd.DataFrame, book: pd.DataFrame) -> dict[tuple[str, int], str]:
    """What the statement says about each line and the books about each item, by (side, id)."""
    texts: dict[tuple[str, int], str] = {}
    for side, frame, id_column, names in (
        ("statement", statement, "line_id", ("summary", "counterparty_name", "memo")),
        ("book", book, "book_id", ("memo", "payment_reference", "counterparty_name")),
    ):
        columns = [frame[name].tolist() for name in names]
        for item_id, *values in zip(frame[id_column].tolist(), *columns):
            texts[(side, int(item_id))] = " ".join(str(blank_text(value)) for value in values if blank_text(value))
    return texts


def _item_rows(items: pd.DataFrame, texts: dict[tuple[str, int], str]) -> list[list[object]]:
    """Outstanding items of one kind with what the statement or the books say about them."""
    return [
        [
            "对账单" if item.side == "statement" else "账簿",
            int(item.item_id),
            _iso_day(item.item_date),
            int(item.amount_fen),
            _REPORT_STATUS_NAMES.get(item.status, item.status),
            blank_text(item.match_id),
            texts.get((item.side, int(item.item_id)), ""),
        ]
        for item in items.itertuples(index=False)
    ]


def report_sheets(
    account: BankAccountRef,
    period: str,
    result: ReconciliationResult,
    balance: AdjustedBalance,
    statement: pd.DataFrame,
    book: pd.DataFrame,
) -> list[Sheet]:
    """The workbook's sheets (pure: frames in, sheets out): the 调节表 and what it leaves open,
    the matches, what is left on each side, and, when the table does not tie, why."""
    title = (
        f"{account.entity_code} {account.bank_name} {account.account_number} ({account.ledger_account_code}) {period}"
    )
    texts = _texts(statement, book) if len(statement) + len(book) <= TEXTS_ITEMS_MAX else {}
    sheets = [
        *_balance_sheets(title, balance, result, texts),
        _matches_sheet(title, result.matches),
        *_left_over_sheets(title, result),
    ]
    if not balance.agrees:
        sheets.append(_causes_sheet(title, balance))
    return sheets


def _balance_sheets(
    title: str, balance: AdjustedBalance, result: ReconciliationResult, texts: dict[tuple[str, int], str]
) -> list[Sheet]:
    """调节表, 未达账项 (the outstanding items of its four columns) and 待确认."""
    item_headers = ("方", "编号", "日期", "金额", "状态", "匹配编号", "说明")
    outstanding = []
    for label, items in (
        ("银行已收、企业未收", balance.bank_received_book_not),
        ("银行已付、企业未付", balance.bank_paid_book_not),
        ("企业已收、银行未收", balance.book_received_bank_not),
        ("企业已付、银行未付", balance.book_paid_bank_not),
    ):
        outstanding += [[label, *row] for row in _item_rows(items, texts)]
    return [
        Sheet(
            "调节表",
            f"银行存款余额调节表 {title}",
            ("企业账面", "金额", "银行对账单", "金额"),
            balance_rows(balance),
            (1, 3),
        ),
        Sheet("未达账项", f"未达账项 {title}", ("类别", *item_headers), outstanding, (4,)),
        Sheet(
            "待确认",
            f"待确认匹配(未计入调节表两方；确认后不变，拒绝后两方各列为未达账项) {title}",
            ("匹配编号", "规则", "得分", "方", "编号", "日期", "金额", "说明"),
            _pending_sheet_rows(balance, result, texts),
            (6,),
        ),
    ]


def _matches_sheet(title: str, matches: pd.DataFrame) -> Sheet:
    return Sheet(
        "匹配",
        f"匹配结果 {title}",
        ("匹配编号", "规则", "得分", "状态", "对账单行", "账簿分录行", "付款编号", "银行金额", "账簿金额", "差额"),
        [
            [
                row.match_id,
                _REPORT_RULE_NAMES.get(row.rule, row.rule),
                int(row.score),
                _REPORT_STATUS_NAMES.get(row.status, row.status),
                _ids(row.statement_line_ids),
                _ids(row.book_ids),
                _ids(row.instruction_references),
                int(row.amount_fen),
                int(row.book_amount_fen),
                int(row.difference_fen),
            ]
            for row in matches.itertuples(index=False)
        ],
        (7, 8, 9),
    )


def _left_over_sheets(title: str, result: ReconciliationResult) -> list[Sheet]:
    """银行有企业无, 企业有银行无, 金额不符 and 重复."""
    return [
        _bank_only_sheet(title, result),
        _book_only_sheet(title, result),
        _mismatch_sheet(title, result),
        _duplicates_sheet(title, result),
    ]


def _bank_only_sheet(title: str, result: ReconciliationResult) -> Sheet:
    """银行有企业无: statement lines no book item accounts for."""
    return Sheet(
        "银行有企业无",
        f"银行有、账簿无 {title}",
        ("对账单行", "日期", "金额", "摘要", "附言", "对方账号", "对方户名", "类别"),
        [
            [
                int(row.line_id),
                _iso_day(row.booked_on),
                int(row.amount_fen),
                blank_text(row.summary),
                blank_text(row.memo),
                blank_text(mask_identifier(row.counterparty_account)),
                blank_text(row.counterparty_name),
                _REPORT_CATEGORY_NAMES.get(row.category, row.category),
            ]
            for row in result.bank_only.itertuples(index=False)
        ],
        (2,),
    )


def _book_only_sheet(title: str, result: ReconciliationResult) -> Sheet:
    """企业有银行无: book items no statement line accounts for."""
    return Sheet(
        "企业有银行无",
        f"账簿有、银行无 {title}",
        ("账簿分录行", "日期", "金额", "付款编号", "批次", "对方账号", "对方户名", "摘要"),
        [
            [
                int(row.book_id),
                _iso_day(row.entry_date),
                int(row.amount_fen),
                blank_text(row.payment_reference),
                blank_text(row.batch_reference),
                blank_text(mask_identifier(row.counterparty_account)),
                blank_text(row.counterparty_name),
                blank_text(row.memo),
            ]
            for row in result.book_only.itertuples(index=False)
        ],
        (2,),
    )


def _mismatch_sheet(title: str, result: ReconciliationResult) -> Sheet:
    """金额不符: matches joining different amounts."""
    return Sheet(
        "金额不符",
        f"金额不符 {title}",
        ("匹配编号", "编号", "对账单行", "账簿分录行", "银行金额", "账簿金额", "差额"),
        [
            [
                row.match_id,
                blank_text(row.reference),
                _ids(row.statement_line_ids),
                _ids(row.book_ids),
                int(row.statement_amount_fen),
                int(row.book_amount_fen),
                int(row.difference_fen),
            ]
            for row in result.amount_mismatches.itertuples(index=False)
        ],
        (4, 5, 6),
    )


def _duplicates_sheet(title: str, result: ReconciliationResult) -> Sheet:
    """重复: lines and items that look recorded twice."""
    return Sheet(
        "重复",
        f"疑似重复 {title}",
        ("方", "编号", "重复依据", "原因", "日期", "金额"),
        [
            [
                "对账单" if row.side == "statement" else "账簿",
                int(row.item_id),
                _masked_key(blank_text(row.duplicate_key)),
                _REPORT_DUPLICATE_REASON_NAMES.get(row.reason, row.reason),
                _iso_day(row.item_date),
                int(row.amount_fen),
            ]
            for row in result.duplicates.itertuples(index=False)
        ],
        (5,),
    )


def _masked_key(key: str) -> str:
    """A duplicate's key with the counterparty's account or card number masked, like every number
    a report shows (issue #11 item 13): ``date|amount_fen|counterparty`` keys end in the
    counterparty, which is an account number or a name."""
    parts = key.split("|")
    if len(parts) == 3 and parts[2].isdigit() and len(parts[2]) >= ACCOUNT_DIGITS_MIN:
        parts[2] = mask_identifier(parts[2]) or ""
    return "|".join(parts)


def _causes_sheet(title: str, balance: AdjustedBalance) -> Sheet:
    return Sheet(
        "差异原因",
        f"调节后余额差额 {balance.difference_fen} 分的可能原因 {title}",
        ("类型", "匹配编号", "方", "编号", "金额", "差额", "说明"),
        [
            [
                row.kind,
                blank_text(row.match_id),
                row.side,
                _ids(row.item_ids),
                int(row.amount_fen),
                int(row.difference_fen),
                row.note,
            ]
            for row in balance.causes.itertuples(index=False)
        ],
        (4, 5),
    )


def write_report(session: Session, account: str | BankAccountRef, period: str, out: Path) -> ReconciliationReport:
    """Reconcile the period afresh and write the report to ``out`` (.xlsx, or .csv files).
    Refuses when the statement gives no balance at the period end."""
    reference = account if isinstance(account, BankAccountRef) else bank_account_by_reference(session, account)
    inputs, result, balance, problem = compute(session, reference, period)
    if balance is None:
        raise DisburseError(
            tr(
                "no 银行存款余额调节表 for {account} {period}: {problem}",
                account=reference.describe(),
                period=period,
                problem=problem,
            )
        )
    sheets = report_sheets(reference, period, result, balance, inputs.statement, inputs.book)
    files = write_workbook(Path(out), sheets)
    return ReconciliationReport(reference, period, run_counts(inputs, result), balance, result, tuple(files))
