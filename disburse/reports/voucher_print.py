"""记账凭证 on paper, as 用友 and 金蝶 print them: A4, one grid of ``VOUCHER_LINES_PER_PAGE`` lines
per page, and every page of a voucher carrying its 凭证字号, date, 附单据 N 张 and 第 i/n 页.

A page has the title 记账凭证; 凭证字号, 日期, 附单据 and 第 i/n 页; the grid 摘要 | 会计科目
(总账科目, 明细科目, with the line's household or fund under it) | 借方金额 | 贷方金额; on a
continuation page a 承前页 line first; at the foot 过次页 (the totals so far) or, on the last page,
合计 with the total in capitals (人民币…); a note on a reversal; and the signature line 会计主管 /
记账 / 审核 / 出纳 / 制单.

A voucher with more than ``DETAIL_LINES_MAX`` household postings (a distribution to a village, a
bank batch to thousands of households) prints as summary lines, one per village, account, side and
fund source ("金台村 98户"), and its postings follow as an attached 分户明细表 of
``ATTACHMENT_ROWS_PER_PAGE`` rows a page, each page naming the voucher and 第 i/n 页, with a
本页合计 and, on the last page, the 合计 that equals the voucher's. 附单据 counts those pages. The
detail stays in the books; the 辅助核算 reports show it per household.

Pages are cut here, not by the layout engine, so each page's 第 i/n 页 and the document's page
count are known before it is laid out: every cell is one or two lines high and clipped to it.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from sqlalchemy.orm import Session

from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import TranslatedNames, tr, tr_noop
from disburse.foundation.money import format_capitals, format_yuan, yuan_decimal
from disburse.foundation.workbook import neutralise
from disburse.registry.queries import newest_versions
from disburse.registry.tables import HouseholdVersionRow
from disburse.reports.printing import (
    HTML_SUFFIXES,
    MONEY,
    PDF_SUFFIX,
    XLSX_SUFFIX,
    Book,
    Column,
    PrintedFile,
    Row,
    Table,
    checkpoint_footer,
    date_text_zh,
    html_document,
    page_css,
    page_header_html,
    sheet_formats,
    write_pdf,
    write_sheet,
)
from disburse.reports.vouchers import Voucher, VoucherLine

VOUCHER_LINES_PER_PAGE = 10
DETAIL_LINES_MAX = 30
ATTACHMENT_ROWS_PER_PAGE = 24
UNREGISTERED_VILLAGE = "未登记村"
ATTACHMENT_WIDTHS = (5, 12, 15, 8, 14, 22, 12, 12)  # per cent of the page width
# 来源 of a voucher, by the kind of source that posted it.
SOURCE_KINDS_ZH = TranslatedNames(
    {
        "allocation_run": tr_noop("allocation run"),
        "payout_export": tr_noop("batch payment"),
        "payout_return": tr_noop("bank return file"),
        "eligibility_hold": tr_noop("eligibility recheck: held for a decision"),
        "pv_settlement": tr_noop("electricity settlement"),
        "bank_unmatched": tr_noop("posting of a bank item not in the books"),
        "manual": tr_noop("manual voucher"),
        "reversal": tr_noop("reversal"),
    },
    "zh",
)
VOUCHER_SUFFIXES = (PDF_SUFFIX, XLSX_SUFFIX, *HTML_SUFFIXES)


@dataclass(frozen=True, slots=True)
class Household:
    """What a voucher prints about a household: 户主 and 村."""

    head_name: str
    village_code: str
    village: str


@dataclass(frozen=True, slots=True)
class PrintLine:
    """One line of the printed grid."""

    memo: str
    general: str  # 总账科目: 211 应付款
    detail: str  # 明细科目: 211.90 待决定款项, or blank for a top-level account
    note: str  # under the 明细科目: 户编号 …；资金来源 …, or 金台村 98户
    debit_fen: int
    credit_fen: int


@dataclass(frozen=True, slots=True)
class AttachmentRow:
    """One posting of a 分户明细表."""

    village: str
    household_id: str
    head_name: str
    account: str
    fund_source: str
    debit_fen: int
    credit_fen: int


@dataclass(frozen=True, slots=True)
class PrintedVoucher:
    """A voucher laid out for paper: its grid lines and, when summarised, its 分户明细表."""

    voucher: Voucher
    lines: tuple[PrintLine, ...]
    attachment: tuple[AttachmentRow, ...]

    @property
    def pages(self) -> int:
        return max(1, math.ceil(len(self.lines) / VOUCHER_LINES_PER_PAGE))

    @property
    def attachment_pages(self) -> int:
        return math.ceil(len(self.attachment) / ATTACHMENT_ROWS_PER_PAGE)


def voucher_households(session: Session) -> dict[str, Household]:
    """户主 and 村 of every household in the register (its newest snapshot)."""
    frame = newest_versions(
        session, HouseholdVersionRow.__table__, "household_id", ("household_id", "head_name", "village_code", "village")
    )
    return {
        household: Household(head or "", code or "", village or "")
        for household, head, code, village in zip(
            frame["household_id"], frame["head_name"], frame["village_code"], frame["village"]
        )
    }


def account_parts(code: str, name: str) -> tuple[str, str]:
    """(总账科目, 明细科目) of an account: ``211.90 应付款—待决定款项`` is 211 应付款 / 211.90 待决定款项."""
    if "." not in code:
        return f"{code} {name}", ""
    top = code.split(".")[0]
    parent, _, child = name.partition("—")
    return f"{top} {parent}", f"{code} {child or name}"


def _line(line: VoucherLine) -> PrintLine:
    general, detail = account_parts(line.account_code, line.account_name)
    notes = []
    if line.household_id:
        notes.append(f"户编号 {line.household_id}")
    if line.fund_source:
        notes.append(f"资金来源 {line.fund_source}")
    return PrintLine(line.memo, general, detail, "；".join(notes), line.debit_fen, line.credit_fen)


def printed_voucher(voucher: Voucher, households: dict[str, Household], summarise: bool = True) -> PrintedVoucher:
    """The voucher's grid: each posting, or (past ``DETAIL_LINES_MAX`` household postings) one
    line per village, account, side and fund with the postings as a 分户明细表."""
    household_lines = [line for line in voucher.lines if line.household_id]
    if not summarise or len(household_lines) <= DETAIL_LINES_MAX:
        return PrintedVoucher(voucher, tuple(_line(line) for line in voucher.lines), ())
    groups: dict[tuple, list[VoucherLine]] = {}
    for line in voucher.lines:
        if not line.household_id:
            groups.setdefault(("line", id(line)), []).append(line)
            continue
        household = households.get(line.household_id)
        village = household.village if household else UNREGISTERED_VILLAGE
        groups.setdefault((line.account_code, line.debit_fen > 0, village), []).append(line)
    printed = [_summary_line(key, members) for key, members in groups.items()]
    attachment = tuple(_attachment_rows(household_lines, households))
    return PrintedVoucher(voucher, tuple(printed), attachment)


def _summary_line(key: tuple, members: list[VoucherLine]) -> PrintLine:  # type: ignore[type-arg]
    """A village's postings on one account and side as one line: 金台村 98户 and the fund
    source when they share one (else how many)."""
    first = members[0]
    if key[0] == "line":
        return _line(first)
    general, detail = account_parts(first.account_code, first.account_name)
    count = len({member.household_id for member in members})
    funds = {member.fund_source for member in members if member.fund_source}
    note = f"{key[2]} {count:,}户"
    if len(funds) == 1:
        note += f"；资金来源 {next(iter(funds))}"
    elif funds:
        note += f"；资金来源 {len(funds)} 项"
    debit = sum(member.debit_fen for member in members)
    credit = sum(member.credit_fen for member in members)
    return PrintLine(first.memo, general, detail, note, debit, credit)


def _attachment_rows(lines: Iterable[VoucherLine], households: dict[str, Household]) -> list[AttachmentRow]:
    """One row per household, account and fund source (a run posts a household's share of each
    settlement as a posting of its own; the list shows what the household got from each fund)."""
    sums: dict[tuple[str, str, str, str], list[int]] = {}
    names: dict[str, str] = {}
    for line in lines:
        household = households.get(line.household_id or "")
        general, detail = account_parts(line.account_code, line.account_name)
        village = household.village if household else UNREGISTERED_VILLAGE
        key = (village, line.household_id or "", detail or general, line.fund_source or "")
        bucket = sums.setdefault(key, [0, 0])
        bucket[0] += line.debit_fen
        bucket[1] += line.credit_fen
        names[key[1]] = household.head_name if household else ""
    # By village, then household: the order a village clerk checks the list in.
    return [
        AttachmentRow(village, household_id, names[household_id], account, fund, debit, credit)
        for (village, household_id, account, fund), (debit, credit) in sorted(sums.items())
    ]


def document_pages(vouchers: Sequence[PrintedVoucher], attachments: bool = True) -> int:
    """How many pages the PDF of ``vouchers`` has."""
    return sum(printed.pages + (printed.attachment_pages if attachments else 0) for printed in vouchers)


# ----------------------------------------------------------------------------------- HTML

VOUCHER_CSS = """
section.page { break-after: page; }
section.page:last-of-type { break-after: auto; }
h1.voucher { text-align: center; font-size: 20pt; letter-spacing: 0.6em; margin: 0 0 1.5mm;
  text-decoration: underline double; }
div.heading { display: flex; justify-content: space-between; font-size: 10pt; margin: 0 0 1.5mm; }
table.grid { width: 100%; border-collapse: separate; border-spacing: 0; table-layout: fixed;
  border-top: 1pt solid #000; border-left: 1pt solid #000; font-size: 9.5pt; }
table.grid th, table.grid td { border-right: 0.6pt solid #000; border-bottom: 0.6pt solid #000;
  padding: 0.4mm 1.2mm; vertical-align: middle; }
table.grid th { font-weight: bold; letter-spacing: 0.2em; background: #f2f2f2; height: 5mm; }
table.grid td { height: 9.4mm; }
table.grid td div.cell { max-height: 9mm; overflow: hidden; line-height: 1.25; }
table.grid td.amount { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.grid div.note { font-size: 7pt; line-height: 1.15; color: #222; }
table.grid tr.total td, table.grid tr.carry td { font-weight: bold; }
table.grid tr.carry td { font-style: italic; }
table.attached td { height: 4.6mm; font-size: 8.5pt; white-space: nowrap; overflow: hidden; }
table.attached td.amount { text-align: right; }
p.vnote { font-size: 9pt; margin: 1mm 0 0; }
div.signatures { display: flex; justify-content: space-between; font-size: 10pt; margin-top: 2.5mm; }
span.blank { display: inline-block; min-width: 5em; border-bottom: 0.6pt solid #000; }
"""

GRID_HEADER = (
    '<thead><tr><th rowspan="2" style="width: 30%">摘要</th><th colspan="2">会计科目</th>'
    '<th rowspan="2" style="width: 14%">借方金额</th><th rowspan="2" style="width: 14%">贷方金额</th></tr>'
    '<tr><th style="width: 18%">总账科目</th><th style="width: 24%">明细科目</th></tr></thead>'
)


def _amount(amount_fen: int) -> str:
    return format_yuan(amount_fen) if amount_fen else ""


def _grid_row(line: PrintLine) -> str:
    escape = html.escape
    note = f'<div class="note">{escape(line.note)}</div>' if line.note else ""
    return (
        f'<tr><td><div class="cell">{escape(line.memo)}</div></td>'
        f'<td><div class="cell">{escape(line.general)}</div></td>'
        f'<td><div class="cell">{escape(line.detail)}{note}</div></td>'
        f'<td class="amount">{_amount(line.debit_fen)}</td><td class="amount">{_amount(line.credit_fen)}</td></tr>'
    )


def _carry_row(label: str, debit_fen: int, credit_fen: int, css: str = "carry") -> str:
    return (
        f'<tr class="{css}"><td colspan="3"><div class="cell">{html.escape(label)}</div></td>'
        f'<td class="amount">{format_yuan(debit_fen)}</td><td class="amount">{format_yuan(credit_fen)}</td></tr>'
    )


def _heading(voucher: Voucher, attachment_pages: int, page: int, pages: int) -> str:
    attached = f"附单据 {attachment_pages} 张" if attachment_pages else '附单据 <span class="blank"></span> 张'
    return (
        '<div class="heading">'
        f"<span>凭证字号：{html.escape(voucher.voucher)}</span>"
        f"<span>日期：{date_text_zh(voucher.entry_date)}</span>"
        f"<span>{attached}</span>"
        f"<span>第 {page}/{pages} 页</span>"
        "</div>"
    )


def _notes(voucher: Voucher) -> str:
    notes = []
    if voucher.reverses:
        notes.append(f"本凭证冲销 {voucher.reverses} 号凭证（分录 {voucher.reverses_entry_id}）。")
    if voucher.reversed_by:
        notes.append(f"本凭证已被 {voucher.reversed_by} 号凭证冲销（分录 {voucher.reversed_by_entry_id}）。")
    kind = SOURCE_KINDS_ZH.get(voucher.source_kind, voucher.source_kind)
    source = f"{kind} {voucher.source_reference}".strip()
    notes.append(f"来源：{source}；分录 {voucher.entry_id}。" if source else f"分录 {voucher.entry_id}。")
    return "".join(f'<p class="vnote">{html.escape(note)}</p>' for note in notes)


SIGNATURES = (
    '<div class="signatures">'
    '<span>会计主管：<span class="blank"></span></span>'
    '<span>记账：<span class="blank"></span></span>'
    '<span>审核：<span class="blank"></span></span>'
    '<span>出纳：<span class="blank"></span></span>'
    "<span>制单：{prepared_by}</span>"
    "</div>"
)


def voucher_pages_html(printed: PrintedVoucher, attachments: bool = True) -> list[str]:
    """Each printed page of the voucher as an HTML ``<section class="page">``."""
    voucher = printed.voucher
    total_fen = voucher.total_fen
    pages = printed.pages
    attachment_pages = printed.attachment_pages if attachments else 0
    sections = []
    carried_debit = carried_credit = 0
    for page in range(1, pages + 1):
        chunk = printed.lines[(page - 1) * VOUCHER_LINES_PER_PAGE : page * VOUCHER_LINES_PER_PAGE]
        rows = [_carry_row("承前页", carried_debit, carried_credit)] if page > 1 else []
        rows += [_grid_row(line) for line in chunk]
        # The grid keeps its lines on every page, blank ones included, as the printed form does.
        rows += ["<tr><td></td><td></td><td></td><td></td><td></td></tr>"] * (VOUCHER_LINES_PER_PAGE - len(chunk))
        carried_debit += sum(line.debit_fen for line in chunk)
        carried_credit += sum(line.credit_fen for line in chunk)
        if page < pages:
            rows.append(_carry_row("过次页", carried_debit, carried_credit))
        else:
            assert (carried_debit, carried_credit) == (total_fen, total_fen), (voucher.entry_id, carried_debit)
            rows.append(_carry_row(f"合计：{format_capitals(total_fen)}", total_fen, total_fen, "total"))
        sections.append(
            '<section class="page voucher">'
            '<h1 class="voucher">记账凭证</h1>'
            + _heading(voucher, attachment_pages, page, pages)
            + f'<table class="grid">{GRID_HEADER}<tbody>{"".join(rows)}</tbody></table>'
            + (_notes(voucher) if page == pages else "")
            + SIGNATURES.format(prepared_by=html.escape(voucher.prepared_by))
            + "</section>"
        )
    if attachments:
        sections.extend(attachment_pages_html(printed))
    return sections


def attachment_pages_html(printed: PrintedVoucher) -> list[str]:
    """The 分户明细表 pages of a summarised voucher."""
    voucher, rows = printed.voucher, printed.attachment
    pages = printed.attachment_pages
    households = len({row.household_id for row in rows})
    escape = html.escape
    sections = []
    for page in range(1, pages + 1):
        start = (page - 1) * ATTACHMENT_ROWS_PER_PAGE
        chunk = rows[start : start + ATTACHMENT_ROWS_PER_PAGE]
        body = [
            f"<tr><td>{start + index + 1:,}</td><td>{escape(row.village)}</td><td>{escape(row.household_id)}</td>"
            f"<td>{escape(row.head_name)}</td><td>{escape(row.account)}</td><td>{escape(row.fund_source)}</td>"
            f'<td class="amount">{_amount(row.debit_fen)}</td><td class="amount">{_amount(row.credit_fen)}</td></tr>'
            for index, row in enumerate(chunk)
        ]
        page_debit = sum(row.debit_fen for row in chunk)
        page_credit = sum(row.credit_fen for row in chunk)
        body.append(_total_row("本页合计", page_debit, page_credit))
        if page == pages:
            body.append(
                _total_row(
                    f"合计（{households:,}户）",
                    sum(row.debit_fen for row in rows),
                    sum(row.credit_fen for row in rows),
                )
            )
        sections.append(
            '<section class="page attachment">'
            '<h1 class="voucher">分户明细表</h1>'
            '<div class="heading">'
            f"<span>记账凭证附件　凭证字号：{escape(voucher.voucher)}</span>"
            f"<span>日期：{date_text_zh(voucher.entry_date)}</span>"
            f"<span>共 {households:,} 户</span>"
            f"<span>第 {page}/{pages} 页</span>"
            "</div>"
            '<table class="grid attached"><colgroup>'
            + "".join(f'<col style="width: {width}%">' for width in ATTACHMENT_WIDTHS)
            + "</colgroup><thead><tr><th>序号</th><th>村</th><th>户编号</th><th>户主</th><th>会计科目</th>"
            "<th>资金来源</th><th>借方金额</th><th>贷方金额</th>"
            f"</tr></thead><tbody>{''.join(body)}</tbody></table>"
            "</section>"
        )
    return sections


def _total_row(label: str, debit_fen: int, credit_fen: int) -> str:
    return (
        f'<tr class="total"><td colspan="6">{html.escape(label)}</td>'
        f'<td class="amount">{format_yuan(debit_fen)}</td><td class="amount">{format_yuan(credit_fen)}</td></tr>'
    )


@dataclass(frozen=True, slots=True)
class VoucherPrint:
    """What every page of a vouchers file shares: 编制单位, 期间, who prints and when."""

    entity_name: str
    period_text: str
    prepared_by: str | None = None
    printed_on: dt.date | None = None
    attachments: bool = True


def vouchers_document_html(vouchers: Sequence[PrintedVoucher], setting: VoucherPrint) -> str:
    css = page_css(
        landscape=True,
        footer_left=f"制表人：{setting.prepared_by or '　　　　　　'}",
        footer_right=f"打印日期：{(setting.printed_on or dt.date.today()).isoformat()}　{checkpoint_footer()}",
    )
    header = page_header_html("", [f"编制单位：{setting.entity_name}"], [f"期间：{setting.period_text}"])
    body = [header, *(section for printed in vouchers for section in voucher_pages_html(printed, setting.attachments))]
    return html_document(f"记账凭证 {setting.entity_name} {setting.period_text}", VOUCHER_CSS + css, body)


def write_vouchers(vouchers: Sequence[PrintedVoucher], path: Path, setting: VoucherPrint) -> PrintedFile:
    """Write the vouchers as .pdf (checked to have the pages they were cut into), .xlsx or .html."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not vouchers:
        raise DisburseError(tr("there are no vouchers to print"))
    if suffix == PDF_SUFFIX:
        written = write_pdf(vouchers_document_html(vouchers, setting), path)
        # Pages are cut here; a page the layout engine had to split would break 第 i/n 页.
        assert written.pages == document_pages(vouchers, setting.attachments), (written.pages, len(vouchers))
        return written
    if suffix in HTML_SUFFIXES:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(vouchers_document_html(vouchers, setting), encoding="utf-8")
        return PrintedFile(path)
    if suffix == XLSX_SUFFIX:
        return write_vouchers_xlsx(vouchers, path, setting)
    raise DisburseError(
        tr(
            "{path}: vouchers are written as .pdf, .xlsx or .html, not {suffix}",
            path=path,
            suffix=suffix or tr("no extension"),
        )
    )


def write_vouchers_xlsx(vouchers: Sequence[PrintedVoucher], path: Path, setting: VoucherPrint) -> PrintedFile:
    """The vouchers as a workbook: sheet 记账凭证 with each printed page as a block and a page
    break after it (A4 landscape, fit to the width), and sheet 分户明细表 with the postings of
    every summarised voucher."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    )
    try:
        formats = sheet_formats(workbook)
        formats["big_title"] = workbook.add_format(
            {"bold": True, "font_size": 18, "align": "center", "font_name": "宋体"}
        )
        sheet = workbook.add_worksheet("记账凭证")
        breaks = []
        row = 0
        for printed in vouchers:
            for page in range(1, printed.pages + 1):
                row = _xlsx_voucher_page(sheet, printed, page, row, formats, setting.attachments)
                breaks.append(row)
        for index, width in enumerate((34, 22, 28, 16, 16)):
            sheet.set_column(index, index, width)
        sheet.set_h_pagebreaks(breaks[:-1][:1023])  # Excel keeps at most 1,023 manual breaks
        _page_setup(sheet, setting, row)
        detail = [(printed.voucher, line) for printed in vouchers for line in printed.attachment]
        if detail and setting.attachments:
            book = _attachment_book(detail, setting)
            write_sheet(workbook.add_worksheet("分户明细表"), book, list(book.tables), formats)
    finally:
        workbook.close()
    return PrintedFile(path)


def _xlsx_voucher_page(sheet, printed: PrintedVoucher, page: int, row: int, formats: dict, attachments: bool) -> int:  # type: ignore[no-untyped-def]
    """One printed page of a voucher from ``row``; returns the row after it."""
    voucher = printed.voucher
    sheet.merge_range(row, 0, row, 4, "记账凭证", formats["big_title"])
    attached = printed.attachment_pages if attachments else 0
    heading = [
        f"凭证字号：{voucher.voucher}",
        f"日期：{date_text_zh(voucher.entry_date)}",
        f"附单据 {attached} 张" if attached else "附单据 ____ 张",
        "",
        f"第 {page}/{printed.pages} 页",
    ]
    sheet.write_row(row + 1, 0, heading, formats["info"])
    sheet.merge_range(row + 2, 0, row + 3, 0, "摘要", formats["header"])
    sheet.merge_range(row + 2, 1, row + 2, 2, "会计科目", formats["header"])
    sheet.write_row(row + 3, 1, ["总账科目", "明细科目"], formats["header"])
    sheet.merge_range(row + 2, 3, row + 3, 3, "借方金额", formats["header"])
    sheet.merge_range(row + 2, 4, row + 3, 4, "贷方金额", formats["header"])
    row += 4
    start = (page - 1) * VOUCHER_LINES_PER_PAGE
    before = printed.lines[:start]
    chunk = printed.lines[start : start + VOUCHER_LINES_PER_PAGE]
    if page > 1:
        row = _xlsx_carry(sheet, row, "承前页", before, formats)
    for line in chunk:
        detail = f"{line.detail}（{line.note}）" if line.note and line.detail else line.detail or line.note
        sheet.write_row(row, 0, [str(neutralise(line.memo)), line.general, str(neutralise(detail))], formats["text"])
        for column, amount in ((3, line.debit_fen), (4, line.credit_fen)):
            if amount:
                sheet.write_number(row, column, yuan_decimal(amount), formats["money"])
            else:
                sheet.write_blank(row, column, None, formats["money"])
        row += 1
    if page < printed.pages:
        row = _xlsx_carry(sheet, row, "过次页", printed.lines[: start + len(chunk)], formats)
    else:
        total = printed.voucher.total_fen
        sheet.merge_range(row, 0, row, 2, f"合计：{format_capitals(total)}", formats["text_total"])
        sheet.write_number(row, 3, yuan_decimal(total), formats["money_total"])
        sheet.write_number(row, 4, yuan_decimal(total), formats["money_total"])
        row += 1
    signatures = ["会计主管：", "记账：　　审核：", "出纳：", "", f"制单：{voucher.prepared_by}"]
    sheet.write_row(row, 0, signatures, formats["info"])
    return row + 2


def _xlsx_carry(sheet, row: int, label: str, lines: Sequence[PrintLine], formats: dict) -> int:  # type: ignore[no-untyped-def]
    sheet.merge_range(row, 0, row, 2, label, formats["text_total"])
    sheet.write_number(row, 3, yuan_decimal(sum(line.debit_fen for line in lines)), formats["money_total"])
    sheet.write_number(row, 4, yuan_decimal(sum(line.credit_fen for line in lines)), formats["money_total"])
    return row + 1


def _page_setup(sheet, setting: VoucherPrint, last_row: int) -> None:  # type: ignore[no-untyped-def]
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.print_area(0, 0, max(last_row - 1, 0), 4)
    sheet.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)
    sheet.set_header(f"&L编制单位：{setting.entity_name.replace('&', '&&')}&R期间：{setting.period_text}")
    sheet.set_footer(
        f"&L制表人：{(setting.prepared_by or '').replace('&', '&&')}&C页次：&P/&N"
        f"&R打印日期：{(setting.printed_on or dt.date.today()).isoformat()}　{checkpoint_footer()}"
    )


def _attachment_book(detail: list[tuple[Voucher, AttachmentRow]], setting: VoucherPrint) -> Book:
    columns = (
        Column("凭证字号"),
        Column("村"),
        Column("户编号"),
        Column("户主"),
        Column("会计科目"),
        Column("资金来源"),
        Column("借方金额", MONEY),
        Column("贷方金额", MONEY),
    )
    rows = [
        Row(
            (
                voucher.voucher,
                row.village,
                row.household_id,
                row.head_name,
                row.account,
                row.fund_source,
                row.debit_fen,
                row.credit_fen,
            )
        )
        for voucher, row in detail
    ]
    debit = sum(row.debit_fen for _, row in detail)
    credit = sum(row.credit_fen for _, row in detail)
    rows.append(Row(("合计", "", "", "", "", "", debit, credit), style="total"))
    return Book(
        title="分户明细表",
        entity_name=setting.entity_name,
        period_text=setting.period_text,
        tables=(Table(columns, tuple(rows), sheet_name="分户明细表"),),
        prepared_by=setting.prepared_by,
        printed_on=setting.printed_on or dt.date.today(),
    )


def print_vouchers(
    session: Session, vouchers: Sequence[Voucher], path: Path, setting: VoucherPrint, summarise: bool = True
) -> tuple[PrintedFile, list[PrintedVoucher]]:
    """Lay out ``vouchers`` (from ``vouchers_of``) and write them to ``path``."""
    needs_names = summarise and any(
        sum(1 for line in voucher.lines if line.household_id) > DETAIL_LINES_MAX for voucher in vouchers
    )
    households = voucher_households(session) if needs_names else {}
    printed = [printed_voucher(voucher, households, summarise) for voucher in vouchers]
    return write_vouchers(printed, path, setting), printed
