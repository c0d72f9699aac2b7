"""Fund trace: from one fund source to every account and household it reached.

A fund source is what the postings carry in their 资金来源 dimension: a station id on its
settlements (``PV-611002-001``), a rule's fund source on its run (``PV-611002-001 光伏扶贫收益``,
``COOP-001 拨改股分红``, ``教育扶贫资助资金``). Tracing ``FUND`` takes every posting whose fund
source is ``FUND`` or starts with ``FUND`` and a space, so a station's settlements and the runs
that shared them out are traced together.

The trace shows: the postings per account; the money received and not yet allocated (settlement
rows no posted run has taken); what each run did with it per component; and every household's
payables by state. Its ties say whether the pieces add up exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from disburse.allocations.names import component_name, in_chinese
from disburse.allocations.runs import PAYABLE_PAYEE_TYPES, UNPAID_COMPONENTS
from disburse.foundation.errors import DisburseError
from disburse.foundation.frames import query_frame as _frame
from disburse.foundation.i18n import TranslatedNames, tr, tr_noop
from disburse.foundation.masking import mask_payee
from disburse.foundation.workbook import Sheet, write_workbook

FUND_LENGTH_MAX = 200
# The trace workbook is Chinese like its headers in every language.
RUN_STATUS_ZH = TranslatedNames({"posted": tr_noop("posted"), "superseded": tr_noop("superseded")}, "zh")
PAYEE_TYPES_ZH = TranslatedNames(
    {
        "household": tr_noop("a household"),
        "person": tr_noop("a person"),
        "collective": tr_noop("a village collective"),
        "account": tr_noop("an account"),
    },
    "zh",
)


@dataclass(frozen=True, slots=True)
class FundTrace:
    """The trace of one fund source (frames are small: per account, per run, per household)."""

    fund: str
    by_account: pd.DataFrame  # account_code, name, debit_fen, credit_fen
    settlements_fen: int  # settlement rows of a station with this id
    unallocated_fen: int  # of which no posted run has taken
    runs: pd.DataFrame  # run_id, rule_name, period, status, component, payee_type, amount_fen
    households: pd.DataFrame  # household_id, payee_id, due_fen, in_batch_fen, in_transit_fen, paid_fen, held_fen
    ties: tuple[tuple[str, int, int], ...]  # (what, left side, right side)

    @property
    def all_tie(self) -> bool:
        return all(left == right for _, left, right in self.ties)


def run_payable_fen(runs: pd.DataFrame) -> int:
    """What the runs made payable: the lines of households and people (whatever the component
    is called: a subsidy's lines are named after the programme) that are paid through the bank,
    not the parts kept in the books, nor a collective's share or dividend. A superseded run's
    payables stay recorded and its successor records only the difference, so together they owe
    what the run now posted says: only posted runs' lines count."""
    payable = (
        (runs["status"] == "posted")
        & runs["payee_type"].isin(sorted(PAYABLE_PAYEE_TYPES))
        & ~runs["component"].isin(sorted(UNPAID_COMPONENTS))
    )
    return int(runs.loc[payable, "amount_fen"].sum())


def fund_trace(session: Session, fund: str) -> FundTrace:
    fund = fund.strip()
    if not fund or len(fund) > FUND_LENGTH_MAX:
        raise DisburseError(tr("a fund source of 1 to {limit} characters is required", limit=FUND_LENGTH_MAX))
    like = fund.replace("%", r"\%").replace("_", r"\_") + " %"
    by_account = _frame(
        session,
        r"""
        SELECT p.account_code, a.name,
               coalesce(sum(CASE WHEN p.amount_fen > 0 THEN p.amount_fen END), 0) AS debit_fen,
               coalesce(sum(CASE WHEN p.amount_fen < 0 THEN -p.amount_fen END), 0) AS credit_fen
          FROM postings p JOIN accounts a ON a.code = p.account_code
         WHERE p.fund_source = :fund OR p.fund_source LIKE :like ESCAPE '\'
         GROUP BY p.account_code, a.name ORDER BY p.account_code
    """,
        fund=fund,
        like=like,
    )
    settlements = _frame(
        session,
        """
        SELECT s.id, s.amount_fen, (SELECT count(*) FROM settlement_allocations a WHERE a.settlement_id = s.id) AS taken
          FROM pv_settlements s WHERE s.station_id = :fund
    """,
        fund=fund,
    )
    runs = _frame(
        session,
        r"""
        SELECT r.id AS run_id, r.rule_name, r.period, r.status, l.component, l.payee_type,
               sum(l.amount_fen) AS amount_fen
          FROM allocation_runs r JOIN allocation_lines l ON l.run_id = r.id
         WHERE (r.fund_source = :fund OR r.fund_source LIKE :like ESCAPE '\') AND r.status IN ('posted', 'superseded')
         GROUP BY r.id, r.rule_name, r.period, r.status, l.component, l.payee_type
         ORDER BY r.id, l.component, l.payee_type
    """,
        fund=fund,
        like=like,
    )
    households = _frame(
        session,
        r"""
        SELECT p.household_id, p.payee_id,
               coalesce(sum(CASE WHEN p.status = 'open' THEN p.amount_fen END), 0) AS due_fen,
               coalesce(sum(CASE WHEN p.status = 'claimed' AND i.status = 'pending' THEN p.amount_fen END), 0)
                 AS in_batch_fen,
               coalesce(sum(CASE WHEN p.status = 'claimed' AND i.status = 'exported' THEN p.amount_fen END), 0)
                 AS in_transit_fen,
               coalesce(sum(CASE WHEN p.status = 'paid' THEN p.amount_fen END), 0) AS paid_fen,
               coalesce(sum(p.amount_fen), 0) AS total_fen
          FROM payables p
          LEFT JOIN instruction_payables l ON l.payable_id = p.id AND l.active
          LEFT JOIN payment_instructions i ON i.id = l.instruction_id
         WHERE p.fund_source = :fund OR p.fund_source LIKE :like ESCAPE '\'
         GROUP BY p.household_id, p.payee_id ORDER BY p.household_id, p.payee_id
    """,
        fund=fund,
        like=like,
    )
    if by_account.empty and settlements.empty and runs.empty:
        raise DisburseError(tr("no posting, settlement or run carries the fund source {fund!r}", fund=fund))
    settlements_fen = int(settlements["amount_fen"].sum()) if len(settlements) else 0
    unallocated_fen = int(settlements.loc[settlements["taken"] == 0, "amount_fen"].sum()) if len(settlements) else 0
    ties: list[tuple[str, int, int]] = []
    if len(settlements):
        income = int(by_account.loc[by_account["account_code"].str.startswith("501"), "credit_fen"].sum())
        ties.append(("settlements imported = income recognised (501)", settlements_fen, income))
    if len(runs):
        households_total = int(households["total_fen"].sum()) if len(households) else 0
        ties.append(("run lines to households and people = payables recorded", run_payable_fen(runs), households_total))
    if len(households):
        states = int(households[["due_fen", "in_batch_fen", "in_transit_fen", "paid_fen"]].sum().sum())
        ties.append(("payables = due + in batch + in transit + paid", int(households["total_fen"].sum()), states))
    return FundTrace(fund, by_account, settlements_fen, unallocated_fen, runs, households, tuple(ties))


def write_fund_trace(trace: FundTrace, path: Path) -> list[Path]:
    return write_workbook(
        Path(path),
        [
            Sheet(
                "科目",
                f"资金追踪 {trace.fund}: 科目发生额",
                ("科目编码", "科目名称", "借方", "贷方"),
                [
                    [r["account_code"], r["name"], int(r["debit_fen"]), int(r["credit_fen"])]
                    for r in trace.by_account.to_dict("records")
                ],
                (2, 3),
            ),
            Sheet(
                "分配",
                "分配表",
                ("运行", "规则", "期间", "状态", "项目", "对象类型", "金额(元)"),
                [
                    [
                        int(r["run_id"]),
                        r["rule_name"],
                        r["period"],
                        RUN_STATUS_ZH.get(r["status"], r["status"]),
                        in_chinese(component_name, r["component"]),
                        PAYEE_TYPES_ZH.get(r["payee_type"], r["payee_type"]),
                        int(r["amount_fen"]),
                    ]
                    for r in trace.runs.to_dict("records")
                ],
                (6,),
            ),
            Sheet(
                "到户",
                "到户情况",
                ("户编号", "收款人", "待发放", "已编批", "银行处理中", "已到账", "合计"),
                [
                    [
                        r["household_id"] or "",
                        mask_payee(r["payee_id"], r["household_id"]),
                        int(r["due_fen"]),
                        int(r["in_batch_fen"]),
                        int(r["in_transit_fen"]),
                        int(r["paid_fen"]),
                        int(r["total_fen"]),
                    ]
                    for r in trace.households.to_dict("records")
                ],
                (2, 3, 4, 5, 6),
            ),
            Sheet(
                "核对",
                "核对",
                ("项目", "左", "右", "一致"),
                [[what, left, right, "是" if left == right else "否"] for what, left, right in trace.ties],
                (1, 2),
            ),
        ],
    )
