"""The printed notice rosters (公示表) of a run, one per village: a printable page (.html), the
same page as a PDF when this machine can print one, and a workbook (.xlsx) set up for printing.

Each roster lists 户主 (masked as 王*明), the masked resident ID, 人数, 标准 (the basis text of
the household's lines), 金额, the village total, the notice period's first and last day and
the complaints telephone.
"""

from __future__ import annotations

from pathlib import Path

from disburse.allocations.pv import COLLECTIVE_COMPONENT, HOUSEHOLD_COMPONENT, WAGE_COMPONENT
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr
from disburse.foundation.money import format_yuan
from disburse.payouts.annual_pv import COMPONENT_NAMES_PRINTED, AnnualPvNotice, StationYear, VillageShare
from disburse.payouts.notices import Roster
from disburse.reports.printing import (
    CENTER,
    MONEY,
    Book,
    Column,
    Row,
    Table,
    date_text_zh,
    pdf_problem,
    period_text_zh,
    write_book,
)

COLUMNS = (
    Column("序号", CENTER),
    Column("户编号"),
    Column("户主"),
    Column("身份证号"),
    Column("人数", CENTER),
    Column("标准", wrap=True),
    Column("金额", MONEY, blank_zero=False),
)
NOTICE_FILES_MAX = 5_000  # villages of one run, three files each


def notice_book(roster: Roster, prepared_by: str | None = None) -> Book:
    """One village's notice roster as a printed book."""
    rows = [
        Row((str(number), line.household_id, line.head_name, line.head_id_number,
             "" if line.member_count is None else str(line.member_count), line.basis, line.amount_fen))
        for number, line in enumerate(roster.lines, start=1)
    ]  # fmt: skip
    rows.append(Row(("合计", "", f"{len(roster.lines)}户", "", "", "", roster.total_fen), style="total"))
    village = roster.village_name or roster.village_code
    notes = (
        f"公示期：{date_text_zh(roster.first_day)}至{date_text_zh(roster.last_day)}（公示编号 {roster.notice_id}）。",
        f"如有异议，请在公示期内向村委会或乡镇政策兑现窗口反映，或拨打监督电话：{roster.hotline}。",
        "公示期满且异议处理完毕后方予发放。",
    )
    return Book(
        title=f"{roster.rule_name}公示表",
        entity_name=f"{village}（{roster.village_code}）",
        period_text=period_text_zh(roster.period),
        tables=(Table(COLUMNS, tuple(rows), sheet_name="公示表"),),
        covers=(f"分配批次：{roster.run_id}",),
        prepared_by=prepared_by,
        printed_on=roster.first_day,
        landscape=False,
        notes=notes,
    )


def write_notices(
    rosters: tuple[Roster, ...], directory: Path, prepared_by: str | None = None, pdf: bool = False
) -> list[Path]:
    """Write each village's roster as ``公示-<run>-<village>.xlsx`` and ``.html`` (and ``.pdf``
    with ``pdf``; laying out a PDF takes a second or so a village) in ``directory``; returns
    the files written."""
    if len(rosters) > NOTICE_FILES_MAX:
        raise DisburseError(
            tr(
                "{count:,} villages; notices are written for at most {limit:,}",
                count=len(rosters),
                limit=NOTICE_FILES_MAX,
            )
        )
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if pdf and pdf_problem() is not None:
        raise DisburseError(tr("the notices cannot be printed as PDF here: {reason}", reason=pdf_problem()))
    suffixes = (".xlsx", ".html") + ((".pdf",) if pdf else ())
    written = []
    for roster in rosters:
        book = notice_book(roster, prepared_by)
        for suffix in suffixes:
            written.append(write_book(book, directory / f"公示-{roster.run_id}-{roster.village_code}{suffix}").path)
    return written


# --- the annual PV revenue notice (光伏扶贫电站收益年度公示) ------------------------------------------

ANNUAL_STATION_COLUMNS = (
    Column("电站"),
    Column("项目"),
    Column("数量", CENTER),
    Column("全站金额", MONEY, blank_zero=False),
    Column("其中本村", MONEY),
)
ANNUAL_HOUSEHOLD_COLUMNS = (
    Column("序号", CENTER),
    Column("户编号"),
    Column("户主"),
    Column("身份证号"),
    Column("全年光伏收益", MONEY, blank_zero=False),
)


def _station_rows(station: StationYear, share: VillageShare) -> list[Row]:
    """One station's year: output, income, each deduction, the distributable rest and its parts,
    with what this village got beside the station's figure."""
    name = f"{station.station_name}（{station.station_id}）"
    capacity = "" if station.capacity_w is None else f"{station.capacity_w / 1000:,.1f}千瓦"
    village_parts = {
        COLLECTIVE_COMPONENT: share.collective_fen,
        WAGE_COMPONENT: share.wages_fen,
        HOUSEHOLD_COMPONENT: share.households_fen,
    }
    counts = {WAGE_COMPONENT: f"本村{share.wage_people}人", HOUSEHOLD_COMPONENT: f"本村{share.household_count}户"}
    rows = [
        Row((name, "装机容量", capacity, None, None)),
        Row(("", "上网电量", f"{station.kwh:,}千瓦时", None, None)),
        Row(("", "标杆电价收入", "", station.base_income_fen, None)),
        Row(("", "国家补贴收入", "", station.subsidy_income_fen, None)),
        Row(("", "收入合计", "", station.income_fen, None), style="total"),
    ]
    rows += [Row(("", f"减：{label}", "", amount, None)) for label, amount in station.deductions]
    rows.append(Row(("", "可分配收益", "", station.distributable_fen, None), style="total"))
    for component, amount in station.parts_fen.items():
        rows.append(
            Row(
                (
                    "",
                    f"其中：{COMPONENT_NAMES_PRINTED[component]}",
                    counts.get(component, ""),
                    amount,
                    village_parts.get(component),
                )
            )
        )
    return rows


def annual_pv_book(notice: AnnualPvNotice, prepared_by: str | None = None) -> Book:
    """One village's annual PV revenue notice as a printed book."""
    station_rows = [row for station, share in notice.stations for row in _station_rows(station, share)]
    station_rows.append(Row(("本村合计", "", "", None, notice.village_total_fen), style="total"))
    household_rows = [
        Row((str(number), household, head, id_number, amount))
        for number, (household, head, id_number, amount) in enumerate(notice.households, start=1)
    ]
    household_rows.append(
        Row(("合计", "", f"{len(notice.households)}户", "", sum(row[3] for row in notice.households)), style="total")
    )
    runs = "、".join(str(run) for station, _ in notice.stations for run in station.run_ids)
    checks = "；".join(
        f"{station.station_id} 收入{format_yuan(station.income_fen)}元与总账应收电费分录贷方"
        f"{format_yuan(station.ledger_income_fen)}元一致，扣除与分配{format_yuan(station.lines_fen)}元与总账分配分录"
        f"{format_yuan(station.ledger_lines_fen)}元一致"
        for station, _ in notice.stations
    )
    notes = (
        f"公示期：{date_text_zh(notice.first_day)}至{date_text_zh(notice.last_day)}。",
        f"数据来源：{notice.year}年已过账的光伏收益分配批次 {runs}。",
        f"核对：{checks}。",
        f"如有异议，请在公示期内向村委会或乡镇反映，或拨打监督电话：{notice.hotline}。",
    )
    return Book(
        title=f"{notice.year}年度光伏扶贫电站收益分配公示",
        entity_name=f"{notice.village_name}（{notice.village_code}）",
        period_text=f"{notice.year}年度",
        tables=(
            Table(
                ANNUAL_STATION_COLUMNS, tuple(station_rows), caption="一、发电、收入、扣除与分配", sheet_name="收益分配"
            ),
            Table(ANNUAL_HOUSEHOLD_COLUMNS, tuple(household_rows), caption="二、本村受益农户", sheet_name="受益农户"),
        ),
        prepared_by=prepared_by,
        printed_on=notice.first_day,
        landscape=False,
        notes=notes,
    )


def write_annual_pv_notices(
    notices: tuple[AnnualPvNotice, ...], directory: Path, prepared_by: str | None = None, pdf: bool = False
) -> list[Path]:
    """Write each village's annual PV notice as ``光伏收益公示-<year>-<village>.xlsx`` and
    ``.html`` (and ``.pdf`` with ``pdf``) in ``directory``; returns the files written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if pdf and pdf_problem() is not None:
        raise DisburseError(tr("the notices cannot be printed as PDF here: {reason}", reason=pdf_problem()))
    suffixes = (".xlsx", ".html") + ((".pdf",) if pdf else ())
    written = []
    for notice in notices:
        book = annual_pv_book(notice, prepared_by)
        for suffix in suffixes:
            path = directory / f"光伏收益公示-{notice.year}-{notice.village_code}{suffix}"
            written.append(write_book(book, path).path)
    return written
