"""The household's statement (明白卡): every benefit due, paid, failed and pending for a household
and each member, by programme and fund source, with dates and references, and a check that its
totals tie to the ledger.

Each yuan is counted once, in the state it is in now: a failed payment's money is due again or
held for a card fix, so the failed attempt is listed under 发放失败记录 with its date and the
bank's reason and is added to no total. A PV line shows the service period of the settlement it
shares out (2025年第1季度), not the period of the run.

The printed card (PDF or xlsx) fits one A4 page for a typical household and two at most: the
household, its members, every benefit, the totals by state in figures and capitals, the failed
payments, and at the foot the 监督电话, the 经办人, the date and a line for the head of household.
It is in Chinese throughout.

The tie: a payable is credited to 211/212 (or another liability) with the household dimension
when a run posts, debited when its batch is exported, and credited again when the bank returns
it failed. So the household's balance on those accounts equals what is due, held for a card fix,
or in a batch not yet exported — the statement says whether it does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from disburse.foundation.dates import as_date
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import language, tr
from disburse.foundation.masking import mask_identifier
from disburse.foundation.money import format_capitals, format_yuan
from disburse.foundation.workbook import Sheet, write_workbook
from disburse.payouts.sends import failure_text
from disburse.payouts.status import CARD_KIND_NAMES_ZH, FAILED, PAYABLE_STATES, STATE_NAMES_ZH, household_status
from disburse.registry import queries as registry
from disburse.reports.printing import CENTER, MONEY, Book, Column, PrintedFile, Row, Table, date_text_zh, write_book

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
    # The name on the card paid (收款人) and whose card it is (卡别: person_card, household_card,
    # collective): a pupil's own 社保卡 is told apart from the household's card.
    account_name: str | None = None
    card_kind: str | None = None


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
    failures: tuple[StatementLine, ...] = ()
    issuers: tuple[str, ...] = ()

    @property
    def total_fen(self) -> int:
        """Everything the household is owed or was paid: the sum of the states, each yuan once."""
        return sum(self.totals_fen.values())

    @property
    def statement_outstanding_fen(self) -> int:
        return sum(self.totals_fen.get(state, 0) for state in OUTSTANDING_STATES)

    @property
    def ties_to_ledger(self) -> bool:
        return self.statement_outstanding_fen == self.ledger_outstanding_fen


def _register_entry(session: Session, household_id: str, year: int | None, today: dt.date | None):  # type: ignore[no-untyped-def]
    """The household's register row and its members, as of the year's end (or today)."""
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
        # A household that has left the register (or died out) still has its books: its card
        # shows it as the last snapshot that listed it.
        last_listed = _last_listed_on(session, household_id)
        if last_listed is not None:
            households, people = registry.register_as_of(session, last_listed, household_ids=[household_id])
            match = households[households["household_id"] == household_id]
    if match.empty:
        raise DisburseError(tr("household {household} is not in the register", household=household_id))
    return match.iloc[0], people[people["household_id"] == household_id]


def _last_listed_on(session: Session, household_id: str) -> dt.date | None:
    """The date of the newest register snapshot that listed the household (None: never listed)."""
    newest = session.execute(
        text(
            "SELECT max(i.as_of) FROM household_versions v JOIN register_imports i ON i.id = v.valid_from_import "
            "WHERE v.household_id = :household"
        ),
        {"household": household_id},
    ).scalar_one()
    if newest is None:
        return None
    # The version may have lasted through later snapshots until the one that dropped it.
    closing = session.execute(
        text(
            "SELECT max(j.as_of) FROM household_versions v JOIN register_imports j ON j.id = v.valid_to_import "
            "WHERE v.household_id = :household"
        ),
        {"household": household_id},
    ).scalar_one()
    if closing is None:
        return as_date(newest)
    return max(as_date(newest), as_date(closing) - dt.timedelta(days=1))


def _household_values(session: Session, household_id: str, year: int | None) -> tuple[dict, tuple, int, int]:  # type: ignore[type-arg]
    """Fund source by programme, the entities that owe, and the household's payable balance in
    the books (211/212 less 211.90) and on 211.90 (held for a decision)."""
    parameters = {"household": household_id, "year": f"{year}-%"}
    funds = dict(
        session.execute(
            text("SELECT DISTINCT programme, coalesce(fund_source, '') FROM payables WHERE household_id = :household"),
            parameters,
        ).all()
    )
    issuers = tuple(
        session.execute(
            text(
                "SELECT DISTINCT e.name FROM payables p JOIN entities e ON e.id = p.entity_id "
                "WHERE p.household_id = :household ORDER BY e.name"
            ),
            parameters,
        ).scalars()
    )
    ledger = session.execute(
        text(
            "SELECT coalesce(-sum(p.amount_fen), 0) FROM postings p JOIN journal_entries e ON e.id = p.entry_id "
            "WHERE p.household_id = :household AND (p.account_code LIKE '211%' OR p.account_code LIKE '212%')"
            " AND p.account_code <> '211.90'" + (" AND e.period LIKE :year" if year else "")
        ),
        parameters,
    ).scalar_one()
    held = session.execute(
        text(
            "SELECT coalesce(-sum(amount_fen), 0) FROM postings WHERE household_id = :household AND account_code = "
            "'211.90'"
        ),
        parameters,
    ).scalar_one()
    return funds, issuers, int(ledger), int(held)


def household_statement(
    session: Session, household_id: str, year: int | None = None, today: dt.date | None = None
) -> HouseholdStatement:
    """The 明白卡 of ``household_id``: every payout line (of ``year``'s books, when given), the
    totals by state each yuan once, the failed payments apart, and the tie to the ledger.

    Always in Chinese: the card is handed to the household (it prints no English), so the reasons
    the payouts stage words for it (a held line's 说明) are asked for in Chinese whatever the
    operator's language."""
    household_id = household_id.strip()
    # A household that is not in the register is refused in the operator's language.
    entry = _register_entry(session, household_id, year, today)
    with language("zh"):
        return _household_statement(session, household_id, year, today, entry)


def _household_statement(
    session: Session, household_id: str, year: int | None, today: dt.date | None, entry: tuple
) -> HouseholdStatement:
    head, members = entry
    names = dict(zip(members["id_number"], members["name"]))
    member_rows = tuple(
        (row["name"], row["relation"], row["id_number"], f"死亡 {row['died_on']}" if row["died_on"] else "")
        for row in members.to_dict("records")
    )
    funds, issuers, ledger_fen, held_fen = _household_values(session, household_id, year)
    lines = tuple(
        StatementLine(
            line.state,
            line.programme,
            funds.get(line.programme, ""),
            line.period,
            line.payee_id,
            line.beneficiary_name
            or names.get(line.payee_id, head["head_name"] if line.payee_id == household_id else ""),
            line.amount_fen,
            line.account_no,
            line.payment_reference,
            line.batch_reference,
            line.exported_on,
            line.settled_on,
            # A failure's reason as the card prints it in Chinese: 户名不符, 卡号已注销: 账户已销户 …
            failure_text(line.failure_code, line.reason, chinese=True) if line.failure_code else line.reason,
            line.account_name,
            line.card_kind,
        )
        for line in household_status(session, household_id).lines
        # A year's card is the year's books: by the period the payable was recorded in.
        if year is None or (line.recorded_period or line.period).startswith(str(year))
    )
    totals: dict[str, int] = {}
    for line in lines:
        if line.state != FAILED:
            totals[line.state] = totals.get(line.state, 0) + line.amount_fen
    return HouseholdStatement(
        household_id,
        year,
        str(head["head_name"]),
        f"{head['town']} {head['village']}",
        str(head["household_type"]),
        str(head["poverty_status"]),
        head["account_no"],
        member_rows,
        tuple(line for line in lines if line.state != FAILED),
        totals,
        ledger_fen,
        held_fen,
        tuple(line for line in lines if line.state == FAILED),
        issuers,
    )


def period_zh(period: str) -> str:
    """所属期 in words: 2026-10 is 2026年10月, 2025Q1 is 2025年第1季度, 2026 is 2026年度."""
    if len(period) == 7 and period[4] == "-":
        return f"{period[:4]}年{period[5:]}月"
    if len(period) == 6 and period[4] == "Q":
        return f"{period[:4]}年第{period[5]}季度"
    if len(period) == 4 and period.isdigit():
        return f"{period}年度"
    if "–" in period:
        first, _, last = period.partition("–")
        return f"{period_zh(first)}至{period_zh(last)}"
    return period


def statement_rows(statement: HouseholdStatement, unmasked: bool = False) -> list[list[object]]:
    """The benefits as rows in ``LINE_HEADERS`` order (amounts int fen)."""
    return [
        [
            period_zh(line.period),
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
            line.account_name or "",
            CARD_KIND_NAMES_ZH[line.card_kind] if line.card_kind else "",
        ]
        for line in statement.lines
    ]


def _account_text(line: StatementLine, unmasked: bool) -> str:
    """The card paid, masked, and whose card it is (户卡, 本人社保卡 or 集体账户)."""
    number = mask_identifier(line.account_no, unmasked=unmasked) or ""
    return f"{number}（{CARD_KIND_NAMES_ZH[line.card_kind]}）" if number and line.card_kind else number


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
    "收款人",
    "卡别",
)


@dataclass(frozen=True, slots=True)
class CardFooter:
    """The foot of a printed card: who hands it out, where to complain, and when."""

    clerk: str | None = None  # 经办人
    hotline: str | None = None  # 监督电话
    printed_on: dt.date | None = None


def _benefit_table(statement: HouseholdStatement, unmasked: bool) -> Table:
    columns = (
        Column("所属期"),
        Column("项目", wrap=True),
        Column("对象"),
        Column("状态", CENTER),
        Column("金额(元)", MONEY, blank_zero=False),
        Column("收款账号"),
        Column("到账日期", CENTER),
        Column("说明", wrap=True),
    )
    rows = [
        Row(
            (
                period_zh(line.period),
                line.programme,
                line.member_name,
                STATE_NAMES_ZH.get(line.state, line.state),
                line.amount_fen,
                _account_text(line, unmasked),
                str(line.settled_on or ""),
                line.reason or "",
            )
        )
        for line in statement.lines
    ]
    rows.append(Row(("合计", "", "", "", statement.total_fen, "", "", ""), style="total"))
    return Table(columns, tuple(rows), caption="资金明细", sheet_name="明白卡")


def _summary_table(statement: HouseholdStatement) -> Table:
    rows = [
        Row((STATE_NAMES_ZH[state], statement.totals_fen[state], format_capitals(statement.totals_fen[state])))
        for state in PAYABLE_STATES
        if statement.totals_fen.get(state)
    ]
    total = statement.total_fen
    rows.append(Row(("应享合计", total, format_capitals(total)), style="total"))
    tie = "一致" if statement.ties_to_ledger else f"不一致：账面 {format_yuan(statement.ledger_outstanding_fen)} 元"
    rows.append(Row(("尚未到账（与账簿核对" + tie + "）", statement.statement_outstanding_fen, "")))
    columns = (Column("项目"), Column("金额(元)", MONEY, blank_zero=False), Column("大写金额"))
    return Table(columns, tuple(rows), caption="汇总", sheet_name="明白卡", keep_together=True)


def _failure_table(statement: HouseholdStatement, unmasked: bool) -> Table:
    columns = (
        Column("发出日期", CENTER),
        Column("结果日期", CENTER),
        Column("所属期"),
        Column("金额(元)", MONEY, blank_zero=False),
        Column("收款账号"),
        Column("支付流水号"),
        Column("失败原因", wrap=True),
    )
    rows = tuple(
        Row(
            (
                str(line.exported_on or ""),
                str(line.settled_on or ""),
                period_zh(line.period),
                line.amount_fen,
                mask_identifier(line.account_no, unmasked=unmasked) or "",
                line.payment_reference or "",
                line.reason or "",
            )
        )
        for line in statement.failures
    )
    caption = f"发放失败记录（{len(statement.failures)} 次；款项已退回，改卡后重发，不重复计入上表）"
    return Table(columns, rows, caption=caption, sheet_name="明白卡", keep_together=True)


def card_book(statement: HouseholdStatement, footer: CardFooter, unmasked: bool = False) -> Book:
    """The 明白卡 as a printed book of one (or two) A4 pages."""
    household = Table(
        (Column("户编号"), Column("户主"), Column("村"), Column("户类型"), Column("状态"), Column("一卡通账号")),
        (
            Row(
                (
                    statement.household_id,
                    statement.head_name,
                    statement.village,
                    statement.household_type,
                    statement.poverty_status,
                    mask_identifier(statement.account_no, unmasked=unmasked) or "",
                )
            ),
        ),
        sheet_name="明白卡",
    )
    members = Table(
        (Column("姓名"), Column("与户主关系"), Column("证件号码"), Column("备注")),
        tuple(
            Row((name, relation, mask_identifier(id_number, unmasked=unmasked) or "", note))
            for name, relation, id_number, note in statement.members
        ),
        caption="家庭成员",
        sheet_name="明白卡",
    )
    tables = [household, members, _benefit_table(statement, unmasked), _summary_table(statement)]
    if statement.failures:
        tables.append(_failure_table(statement, unmasked))
    printed_on = footer.printed_on or dt.date.today()
    blank = "＿＿＿＿＿＿"
    notes = (
        f"监督电话：{footer.hotline or blank}　　经办人：{footer.clerk or blank}　　"
        f"日期：{date_text_zh(printed_on)}　　户主（签字）：{blank}",
        "如对上述资金有疑问，请持本卡到乡镇政策兑现窗口查询，或拨打监督电话反映。",
    )
    return Book(
        title="惠民惠农财政补贴资金明白卡",
        entity_name="、".join(statement.issuers) or "—",
        period_text=f"{statement.year}年度" if statement.year else f"截至{date_text_zh(printed_on)}",
        tables=tuple(tables),
        prepared_by=footer.clerk,
        printed_on=printed_on,
        landscape=False,
        notes=notes,
    )


def write_household_statement(
    statement: HouseholdStatement, path: Path, unmasked: bool = False, footer: CardFooter | None = None
) -> list[Path]:
    """Write the 明白卡 as a printed card (.pdf, or .xlsx set up for one page, or .html), or as
    .csv tables."""
    path = Path(path)
    footer = footer or CardFooter()
    if path.suffix.lower() != ".csv":
        written: PrintedFile = write_book(card_book(statement, footer, unmasked), path)
        return [written.path]
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
