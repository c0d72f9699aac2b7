"""The printed notice rosters (公示表) of a run, one per village: a printable page (.html), the
same page as a PDF when this machine can print one, and a workbook (.xlsx) set up for printing.

Each roster lists 户主 (masked as 王*明), the masked resident ID, 人数, 标准 (the basis text of
the household's lines), 金额, the village total, the notice period's first and last day and
the complaints telephone.
"""

from __future__ import annotations

from pathlib import Path

from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr
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
