"""资金指标执行表: per budget indicator, issued / returned / drawn / frozen / paid / released /
available (allocations.funds), tied to the ledger.

Two ties per indicator that has drawn anything, each computed from the postings that carry its
指标文号 in their 资金来源 (alone, or as the first word):

- drawn = the net debits on the accounts its runs debit (the distribution or expense side; a
  reversal's credits take them back);
- drawn − paid − at the bank = the net credits on every other account (the payables its runs
  credited, less what export sent to the bank, plus what a failure gave back), where "at the
  bank" is the payables of its runs in exported instructions the bank has not answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from disburse.allocations.funds import IndicatorFigures, indicator_figures
from disburse.foundation.workbook import Sheet, write_workbook

# Postings of one indicator: its number alone or as the first word of the 资金来源.
_POSTINGS_OF = r"(p.fund_source = :number OR p.fund_source LIKE :like ESCAPE '\')"
_DEBIT_ACCOUNTS = (
    "SELECT DISTINCT l.debit_account_code FROM allocation_lines l JOIN fund_movements m "
    "ON m.run_id = l.run_id AND m.kind = 'draw' WHERE m.indicator_id = :indicator"
)
_LEDGER = f"""
SELECT coalesce(sum(CASE WHEN p.account_code IN ({_DEBIT_ACCOUNTS}) THEN p.amount_fen END), 0) AS debit_side_fen,
       coalesce(sum(CASE WHEN p.account_code NOT IN ({_DEBIT_ACCOUNTS}) THEN -p.amount_fen END), 0) AS owed_fen
  FROM postings p WHERE {_POSTINGS_OF}
"""
_AT_BANK = """
SELECT coalesce(sum(p.amount_fen), 0)
  FROM payables p
  JOIN instruction_payables l ON l.payable_id = p.id AND l.active
  JOIN payment_instructions i ON i.id = l.instruction_id AND i.status = 'exported'
 WHERE p.run_id IN (SELECT run_id FROM fund_movements WHERE kind = 'draw' AND indicator_id = :indicator)
"""
HEADERS = (
    "指标文号",
    "资金名称",
    "资金级次",
    "资金性质",
    "功能科目",
    "年度",
    "下达",
    "退回",
    "已分配",
    "冻结中",
    "已支付",
    "退款",
    "待发放",
    "可用",
)


@dataclass(frozen=True, slots=True)
class FundsReport:
    """The figures of every indicator and the ties (what, left, right)."""

    figures: tuple[IndicatorFigures, ...]
    ties: tuple[tuple[str, int, int], ...]

    @property
    def all_tie(self) -> bool:
        return all(left == right for _, left, right in self.ties) and not any(f.problems() for f in self.figures)


def _ties(session: Session, figures: IndicatorFigures) -> list[tuple[str, int, int]]:
    number = figures.document_number
    like = number.replace("%", r"\%").replace("_", r"\_") + " %"
    values = {"number": number, "like": like, "indicator": figures.indicator_id}
    ledger = session.execute(text(_LEDGER), values).one()
    at_bank = int(session.execute(text(_AT_BANK), values).scalar_one())
    return [
        (f"{number} 已分配 = 账簿借方（分配科目）", figures.drawn_fen, int(ledger.debit_side_fen)),
        (
            f"{number} 已分配 − 已支付 − 银行处理中 = 账簿贷方余额（应付科目）",
            figures.drawn_fen - figures.paid_fen - at_bank,
            int(ledger.owed_fen),
        ),
    ]


def funds_report(session: Session) -> FundsReport:
    """Every indicator's figures, with the ledger ties of those that have drawn anything."""
    figures = tuple(indicator_figures(session))
    ties: list[tuple[str, int, int]] = []
    for row in figures:
        if row.drawn_fen or row.paid_fen or row.frozen_total_fen:
            ties.extend(_ties(session, row))
    return FundsReport(figures, tuple(ties))


def report_row(row: IndicatorFigures) -> list[object]:
    """One indicator's line of the 资金指标执行表 (money in fen)."""
    return [
        row.document_number,
        row.fund_name,
        row.level,
        row.nature,
        row.budget_line,
        row.year,
        row.issued_fen,
        row.returned_fen,
        row.drawn_fen,
        row.frozen_fen,
        row.paid_fen,
        row.released_fen,
        row.awaiting_fen,
        row.available_fen,
    ]


def write_funds_report(report: FundsReport, path: Path) -> list[Path]:
    """The 资金指标执行表 and its ties as a workbook (Chinese in every language, like the books)."""
    money = tuple(range(6, len(HEADERS)))
    total = ["合计", "", "", "", "", ""] + [
        sum(int(report_row(row)[index]) for row in report.figures)  # type: ignore[call-overload]
        for index in money
    ]
    return write_workbook(
        Path(path),
        [
            Sheet(
                "资金指标执行表",
                "资金指标执行表",
                HEADERS,
                [report_row(row) for row in report.figures] + [total],
                money,
            ),
            Sheet(
                "核对",
                "与账簿核对",
                ("项目", "左", "右", "一致"),
                [[what, left, right, "是" if left == right else "否"] for what, left, right in report.ties],
                (1, 2),
            ),
        ],
    )
