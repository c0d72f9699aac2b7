"""The household's statement (明白卡): every benefit due, paid, failed and pending for a household
and each member, by programme and fund source, with dates and references, and a check that its
totals tie to the ledger.

The tie: a payable is credited to 211/212 (or another liability) with the household dimension
when a run posts, debited when its batch is exported, and credited again when the bank returns
it failed. So the household's balance on those accounts equals what is due, held for a card fix,
or in a batch not yet exported — the statement says whether it does.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from disburse.foundation.errors import DisburseError
from disburse.foundation.masking import mask_identifier
from disburse.foundation.money import format_capitals, format_yuan
from disburse.foundation.workbook import Sheet, write_workbook
from disburse.payouts.status import household_status
from disburse.registry import queries as registry

STATE_NAMES_ZH = {
    "due": "待发放",
    "held": "待改卡",
    "in_batch": "已编批",
    "in_transit": "银行处理中",
    "paid": "已到账",
    "failed": "发放失败",
}
# States whose amount is still owed on the payable accounts of the books.
OUTSTANDING_STATES = ("due", "held", "in_batch")


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One benefit of the household or a member: programme, fund, period, amount, state, references."""

    state: str
    programme: str
    fund_source: str
    period: str
    payee: str
    member_name: str
    amount_fen: int
    account_no: str | None
    payment_reference: str | None
    batch_reference: str | None
    exported_on: dt.date | None
    settled_on: dt.date | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class HouseholdStatement:
    """The 明白卡 of one household."""

    household_id: str
    year: int | None
    head_name: str
    village: str
    household_type: str
    poverty_status: str
    account_no: str | None
    members: tuple[tuple[str, str, str, str], ...]  # name, relation, resident ID, status
    lines: tuple[StatementLine, ...]
    totals_fen: dict[str, int]
    ledger_outstanding_fen: int
    held_for_decision_fen: int

    @property
    def statement_outstanding_fen(self) -> int:
        return sum(self.totals_fen.get(state, 0) for state in OUTSTANDING_STATES)

    @property
    def ties_to_ledger(self) -> bool:
        return self.statement_outstanding_fen == self.ledger_outstanding_fen


def household_statement(
    session: Session, household_id: str, year: int | None = None, today: dt.date | None = None
) -> HouseholdStatement:
    household_id = household_id.strip()
    on = dt.date(year, 12, 31) if year else (today or dt.date.today())
    # Only this household's rows: the whole register would cost seconds per card at the counter.
    households, people = registry.register_as_of(
        session, on, before_first_snapshot="oldest", household_ids=[household_id]
    )
    match = households[households["household_id"] == household_id]
    if match.empty:
        households, people = registry.register_as_of(session, today or dt.date.today(), household_ids=[household_id])
        match = households[households["household_id"] == household_id]
    if match.empty:
        raise DisburseError(f"household {household_id} is not in the register")
    head = match.iloc[0]
    members = people[people["household_id"] == household_id]
    names = dict(zip(members["id_number"], members["name"]))
    member_rows = tuple(
        (row["name"], row["relation"], row["id_number"], f"死亡 {row['died_on']}" if row["died_on"] else "")
        for row in members.to_dict("records")
    )
    funds = dict(
        session.execute(
            text(
                "SELECT DISTINCT p.programme, coalesce(p.fund_source, '') FROM payables p WHERE p.household_id = :household"
            ),
            {"household": household_id},
        ).all()
    )
    status = household_status(session, household_id)
    lines = tuple(
        StatementLine(
            line.state,
            line.programme,
            funds.get(line.programme, ""),
            line.period,
            line.payee_id,
            names.get(line.payee_id, head["head_name"] if line.payee_id == household_id else ""),
            line.amount_fen,
            line.account_no,
            line.payment_reference,
            line.batch_reference,
            line.exported_on,
            line.settled_on,
            line.reason,
        )
        for line in status.lines
        if year is None or line.period.startswith(str(year))
    )
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.state] = totals.get(line.state, 0) + line.amount_fen
    ledger = session.execute(
        text(
            "SELECT coalesce(-sum(p.amount_fen), 0) FROM postings p JOIN journal_entries e ON e.id = p.entry_id "
            "WHERE p.household_id = :household AND (p.account_code LIKE '211%' OR p.account_code LIKE '212%')"
            " AND p.account_code <> '211.90'" + (" AND e.period LIKE :year" if year else "")
        ),
        {"household": household_id, "year": f"{year}-%"},
    ).scalar_one()
    held = session.execute(
        text(
            "SELECT coalesce(-sum(p.amount_fen), 0) FROM postings p WHERE p.household_id = :household AND p.account_code = '211.90'"
        ),
        {"household": household_id},
    ).scalar_one()
    return HouseholdStatement(
        household_id,
        year,
        str(head["head_name"]),
        f"{head['town']} {head['village']}",
        str(head["household_type"]),
        str(head["poverty_status"]),
        head["account_no"],
        member_rows,
        lines,
        totals,
        int(ledger),
        int(held),
    )


def statement_rows(statement: HouseholdStatement, unmasked: bool = False) -> list[list[object]]:
    return [
        [
            line.period,
            line.programme,
            line.fund_source,
            line.member_name,
            STATE_NAMES_ZH.get(line.state, line.state),
            line.amount_fen,
            mask_identifier(line.account_no, unmasked=unmasked) or "",
            line.payment_reference or "",
            line.batch_reference or "",
            str(line.exported_on or ""),
            str(line.settled_on or ""),
            line.reason or "",
        ]
        for line in statement.lines
    ]


LINE_HEADERS = (
    "所属期",
    "项目",
    "资金来源",
    "对象",
    "状态",
    "金额(元)",
    "收款账号",
    "支付流水号",
    "批次号",
    "发出日期",
    "到账日期",
    "说明",
)


def write_household_statement(statement: HouseholdStatement, path: Path, unmasked: bool = False) -> list[Path]:
    """Write the 明白卡 as .xlsx / .csv (tables) or .html (a printable card)."""
    path = Path(path)
    if path.suffix.lower() == ".html":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(statement_html(statement, unmasked), encoding="utf-8")
        return [path]
    summary = [[STATE_NAMES_ZH.get(state, state), amount] for state, amount in statement.totals_fen.items()]
    summary.append(["账面应付余额", statement.ledger_outstanding_fen])
    summary.append(["与账簿核对", "一致" if statement.ties_to_ledger else "不一致"])
    members = [
        [name, relation, mask_identifier(id_number, unmasked=unmasked), note]
        for name, relation, id_number, note in statement.members
    ]
    return write_workbook(
        path,
        [
            Sheet(
                "明细",
                f"{statement.household_id} {statement.head_name} 惠民资金明白卡",
                LINE_HEADERS,
                statement_rows(statement, unmasked),
                (5,),
            ),
            Sheet("汇总", "汇总", ("项目", "金额(元)"), summary, (1,)),
            Sheet("成员", "家庭成员", ("姓名", "与户主关系", "证件号码", "备注"), members),
        ],
    )


def statement_html(statement: HouseholdStatement, unmasked: bool = False) -> str:
    escape = html.escape
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(format_yuan(cell) if index == 5 else str(cell))}</td>" for index, cell in enumerate(row)
        )
        + "</tr>"
        for row in statement_rows(statement, unmasked)
    )
    members = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(relation)}</td><td>{escape(mask_identifier(id_number, unmasked=unmasked) or '')}</td><td>{escape(note)}</td></tr>"
        for name, relation, id_number, note in statement.members
    )
    totals = "".join(
        f"<li>{escape(STATE_NAMES_ZH.get(state, state))}: {format_yuan(amount)} 元</li>"
        for state, amount in statement.totals_fen.items()
    )
    paid = statement.totals_fen.get("paid", 0)
    tie = (
        "与账簿一致"
        if statement.ties_to_ledger
        else f"与账簿不一致: 账面 {format_yuan(statement.ledger_outstanding_fen)} 元"
    )
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(statement.household_id)} 明白卡</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #444;padding:3px 6px;font-size:12px}}</style></head><body>
<h1>惠民惠农资金明白卡</h1>
<p>户编号 {escape(statement.household_id)} · 户主 {escape(statement.head_name)} · {escape(statement.village)} · {escape(statement.household_type)} · {escape(statement.poverty_status)}</p>
<p>一卡通账号 {escape(mask_identifier(statement.account_no, unmasked=unmasked) or "")}{" · 年度 " + str(statement.year) if statement.year else ""}</p>
<h2>家庭成员</h2><table><tr><th>姓名</th><th>与户主关系</th><th>证件号码</th><th>备注</th></tr>{members}</table>
<h2>资金明细</h2><table><tr>{"".join(f"<th>{escape(h)}</th>" for h in LINE_HEADERS)}</tr>{rows}</table>
<h2>汇总</h2><ul>{totals}</ul>
<p>已到账合计 {format_yuan(paid)} 元（{escape(format_capitals(paid))}）· 账面核对: {escape(tie)}</p>
</body></html>"""
