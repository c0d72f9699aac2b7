"""Printed books: one layout model, written as printable PDF (HTML and CSS laid out by WeasyPrint)
and as a workbook set up for printing (XlsxWriter).

A ``Book`` is what 用友 and 金蝶 print: a title, the 编制单位 and 期间, a line or two that say
what the book covers (科目, 账户 …), tables with one- or two-level headers, and at the foot the
制表人 and the print date. On paper every page repeats the title, 编制单位, 期间, 页次 x/y and the
table's header; amounts are right-aligned with thousands separators, a blank on the side a line
is not on; totals are bold; levels are indented.

Columns are as wide as their content: each column's width is measured from its header and its
cells (a Chinese character is one em, a Latin letter or digit a little over half), and the font
is made smaller, down to ``FONT_PT_MIN``, until the widest table fits the page. Only when even
that does not fit does the widest text column wrap. So labels are never cut.

Why WeasyPrint (see docs/printing.md): it lays out HTML and CSS for paged media with page-margin
boxes (the repeated title and 页次 x/y with ``counter(page)``/``counter(pages)``), repeats table
headers on every page, embeds a subset of an OpenType CJK font (Debian's fonts-noto-cjk), and
needs no browser or TeX; the layout is one stylesheet a reader can change.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import shutil
import subprocess
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr, tr_noop
from disburse.foundation.money import format_yuan, yuan_decimal
from disburse.foundation.workbook import neutralise

# The short form of the newest signed checkpoint's hash, in the footer of every printed page so
# a paper copy anchors the chain too (`disburse verify` prints the same 12 characters). The CLI
# sets it from the database before a command prints (schema.checkpoints.checkpoint_mark).
UNSIGNED_MARK = "未签名"
CHECKPOINT_MARK: ContextVar[str] = ContextVar("checkpoint_mark", default=UNSIGNED_MARK)


def checkpoint_footer() -> str:
    """校验：<12 hex of the newest checkpoint>, or 校验：未签名 when nothing is signed."""
    return f"校验：{CHECKPOINT_MARK.get()}"


PDF_SUFFIX = ".pdf"
XLSX_SUFFIX = ".xlsx"
HTML_SUFFIXES = (".html", ".htm")
BOOK_SUFFIXES = (PDF_SUFFIX, XLSX_SUFFIX)
# A4 in millimetres and the page margins of every book; the top margin holds the title lines.
A4_SHORT_MM = 210.0
A4_LONG_MM = 297.0
MARGIN_SIDE_MM = 10.0
MARGIN_TOP_MM = 26.0
MARGIN_BOTTOM_MM = 14.0
FONT_PT_MAX = 10.0
FONT_PT_MIN = 6.5
MM_PER_PT = 25.4 / 72
CELL_PADDING_MM = 2.4  # left and right padding and the border of one cell
# Width of a character in em: CJK ideographs and full-width forms fill the em square; Latin
# letters, digits and ASCII punctuation of Noto Serif CJK are about half of it.
WIDE_EM = 1.0
NARROW_EM = 0.56
INDENT_EM = 1.0
WIDTH_MARGIN = 1.04
# The money format of every amount cell of a workbook.
MONEY_FORMAT = "¥#,##0.00"
# A book on paper is read, not searched: past this many rows print a filtered book instead.
BOOK_ROWS_MAX = 200_000
CJK_FONT_FAMILIES = '"Noto Serif CJK SC", "Noto Sans CJK SC", "Source Han Serif SC", "SimSun", "Songti SC", serif'
FONT_PACKAGE_HINT = tr_noop("install a Chinese font, e.g. `apt-get install fonts-noto-cjk`")

TEXT = "text"
MONEY = "money"
CENTER = "center"


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header, the header above it that spans it and its neighbours with the
    same ``group`` (期初余额 over 借方 and 贷方), and how its cells are shown."""

    header: str
    kind: str = TEXT
    group: str | None = None
    wrap: bool = False  # may wrap when nothing else fits (a long 摘要)
    blank_zero: bool = True  # a 0.00 amount prints as a blank, as in a hand-kept book


@dataclass(frozen=True, slots=True)
class Row:
    """One row of a table: cells in column order (money cells are int fen or None), a style
    (``total`` rows are bold) and the indent level of the table's indent column."""

    cells: tuple[object, ...]
    style: str = ""
    indent: int = 0


@dataclass(frozen=True, slots=True)
class Table:
    """A table of a book, with an optional caption line above it (科目：102 银行存款)."""

    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    caption: str | None = None
    sheet_name: str | None = None
    keep_together: bool = False  # do not split it across pages when it fits on one
    indent_column: int = 0  # the column a row's indent applies to (科目名称 in a 科目余额表)


@dataclass(frozen=True, slots=True)
class Book:
    """A printed book: title, 编制单位, 期间, what it covers, tables, notes, 制表人, print date."""

    title: str
    entity_name: str
    period_text: str
    tables: tuple[Table, ...]
    covers: tuple[str, ...] = ()  # lines under 编制单位: 科目：211 应付款, 户编号 …
    prepared_by: str | None = None
    printed_on: dt.date = field(default_factory=dt.date.today)
    landscape: bool = True
    notes: tuple[str, ...] = ()
    unit: str = "单位：元"


@dataclass(frozen=True, slots=True)
class PrintedFile:
    """A file written: its path and, for a PDF, its page count."""

    path: Path
    pages: int | None = None


def period_text_zh(period: str) -> str:
    """``2026-10`` as 2026年10月 (a book's 期间)."""
    return f"{period[:4]}年{period[5:7]}月" if len(period) == 7 and period[4] == "-" else period


def date_text_zh(date: dt.date) -> str:
    return f"{date.year}年{date.month:02d}月{date.day:02d}日"


def money_text(amount_fen: object) -> str:
    """An amount cell as printed: yuan with separators, a blank for None."""
    if amount_fen is None:
        return ""
    return format_yuan(int(amount_fen))  # type: ignore[call-overload]


def cell_text(cell: object, kind: str, blank_zero: bool = False) -> str:
    if cell is None:
        return ""
    if kind == MONEY and isinstance(cell, int) and not isinstance(cell, bool):
        return "" if blank_zero and cell == 0 else format_yuan(cell)
    return str(cell)


def text_em(text: str) -> float:
    """The printed width of ``text`` in em."""
    return sum(WIDE_EM if ord(character) >= 0x2E80 else NARROW_EM for character in text)


def column_ems(table: Table) -> list[float]:
    """Each column's width in em: the widest of its header, its group header's share and its
    cells (with the indent of the indent column)."""
    widths = [text_em(column.header) * WIDTH_MARGIN for column in table.columns]
    for row in table.rows:
        for index, (column, cell) in enumerate(zip(table.columns, row.cells)):
            # A little over the measured width: a glyph's advance is not always the estimate.
            width = text_em(cell_text(cell, column.kind, column.blank_zero)) * WIDTH_MARGIN
            if index == table.indent_column:
                width += row.indent * INDENT_EM
            if width > widths[index]:
                widths[index] = width
    money = [index for index, column in enumerate(table.columns) if column.kind == MONEY]
    if money:
        # Every amount column as wide as the widest, as on ruled account paper.
        widest = max(widths[index] for index in money)
        for index in money:
            widths[index] = widest
    for group, members in _groups(table.columns):
        if group is None:
            continue
        # The group header spans its members: they share its width if it is the wider.
        need = text_em(group) - sum(widths[index] for index in members)
        if need > 0:
            for index in members:
                widths[index] += need / len(members)
    return widths


def _groups(columns: Sequence[Column]) -> list[tuple[str | None, list[int]]]:
    """Runs of consecutive columns with the same group (None groups stand alone)."""
    runs: list[tuple[str | None, list[int]]] = []
    for index, column in enumerate(columns):
        if column.group is not None and runs and runs[-1][0] == column.group:
            runs[-1][1].append(index)
        else:
            runs.append((column.group, [index]))
    return runs


@dataclass(frozen=True, slots=True)
class TableFit:
    """How a table is printed: the font size, each column's share of the width, which wrap."""

    font_pt: float
    percents: tuple[float, ...]
    wrapping: frozenset[int]


def page_width_mm(landscape: bool) -> float:
    return (A4_LONG_MM if landscape else A4_SHORT_MM) - 2 * MARGIN_SIDE_MM


def fit_table(table: Table, width_mm: float) -> TableFit:
    """The largest font (at most ``FONT_PT_MAX``) at which every column fits unwrapped; below
    ``FONT_PT_MIN`` the wrappable columns wrap to what is left."""
    ems = column_ems(table)
    padding_mm = CELL_PADDING_MM * len(ems)
    total_em = max(sum(ems), 1.0)
    font_pt = min(FONT_PT_MAX, (width_mm - padding_mm) / (total_em * MM_PER_PT))
    wrapping: frozenset[int] = frozenset()
    if font_pt < FONT_PT_MIN:
        font_pt = FONT_PT_MIN
        wrapping = frozenset(index for index, column in enumerate(table.columns) if column.wrap)
        if wrapping:
            fixed_mm = sum(ems[i] for i in range(len(ems)) if i not in wrapping) * font_pt * MM_PER_PT
            left_em = max((width_mm - padding_mm - fixed_mm) / (font_pt * MM_PER_PT), 4.0 * len(wrapping))
            share = left_em / sum(ems[i] for i in wrapping)
            ems = [em * share if i in wrapping else em for i, em in enumerate(ems)]
    total = sum(em * font_pt * MM_PER_PT + CELL_PADDING_MM for em in ems)
    percents = tuple(100.0 * (em * font_pt * MM_PER_PT + CELL_PADDING_MM) / total for em in ems)
    return TableFit(round(font_pt, 2), percents, wrapping)


# ----------------------------------------------------------------------------------- HTML


def css_string(text: str) -> str:
    """``text`` as a CSS string literal (for margin boxes); line breaks become \\A."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ")
    return f'"{escaped}"'


def page_css(*, landscape: bool, footer_left: str, footer_right: str) -> str:
    """The @page rule every book shares: A4, the page header (``page_header_html``, repeated
    on every page as a running element) in the top margin, 制表人 and the print date at the foot."""
    return f"""
@page {{
  size: A4 {"landscape" if landscape else "portrait"};
  margin: {MARGIN_TOP_MM}mm {MARGIN_SIDE_MM}mm {MARGIN_BOTTOM_MM}mm {MARGIN_SIDE_MM}mm;
  @top-center {{ content: element(pagehead); width: 100%; vertical-align: bottom; padding-bottom: 1.5mm; }}
  @bottom-left {{ content: {css_string(footer_left)}; font-size: 9pt; vertical-align: top; }}
  @bottom-right {{ content: {css_string(footer_right)}; font-size: 9pt; vertical-align: top; }}
}}
"""


def page_header_html(title: str, left_lines: Sequence[str], right_lines: Sequence[str]) -> str:
    """The header of every page: the title, what the book covers on the left, 期间 and 页次 x/y
    on the right. It sits first in the body and is moved into each page's top margin."""
    escape = html.escape
    left = "<br>".join(escape(line) for line in left_lines)
    right = "".join(f"{escape(line)}<br>" for line in right_lines)
    heading = f"<h1>{escape(title)}</h1>" if title else ""
    return (
        f'<header class="pagehead">{heading}<div class="row"><span>{left}</span>'
        f'<span class="right">{right}<span class="pages"></span></span></div></header>'
    )


BASE_CSS = f"""
html {{ font-family: {CJK_FONT_FAMILIES}; color: #000; }}
body {{ margin: 0; }}
header.pagehead {{ position: running(pagehead); width: 100%; }}
header.pagehead h1 {{ text-align: center; font-size: 16pt; letter-spacing: 0.2em; margin: 0 0 1mm;
  text-decoration: underline double; }}
header.pagehead div.row {{ display: flex; justify-content: space-between; align-items: flex-end;
  font-size: 9pt; line-height: 1.35; }}
header.pagehead span.right {{ text-align: right; }}
header.pagehead span.pages::after {{ content: "页次：" counter(page) "/" counter(pages); }}
table.book {{ width: 100%; border-collapse: separate; border-spacing: 0; table-layout: fixed; margin: 0 0 3mm;
  border-left: 0.5pt solid #000; }}
td, th {{ border-right: 0.5pt solid #000; border-bottom: 0.5pt solid #000; padding: 0.45mm 1mm;
  white-space: nowrap; overflow: hidden; line-height: 1.25; }}
th {{ font-weight: bold; text-align: center; background: #f2f2f2; }}
th.top {{ border-top: 0.9pt solid #000; }}
thead {{ display: table-header-group; }}
tr {{ break-inside: avoid; }}
.m {{ text-align: right; }}
.c {{ text-align: center; }}
.w {{ white-space: normal; }}
.t {{ font-weight: bold; }}
.tt {{ font-weight: bold; border-top: 0.9pt solid #000; }}
table.together {{ break-inside: avoid; }}
p.caption {{ font-size: 9.5pt; font-weight: bold; margin: 1mm 0 1mm; break-after: avoid; }}
p.note {{ font-size: 8.5pt; margin: 1mm 0; }}
"""


def _header_html(table: Table) -> str:
    groups = _groups(table.columns)
    two_levels = any(group is not None for group, _ in groups)
    if not two_levels:
        cells = "".join(f'<th class="top">{html.escape(column.header)}</th>' for column in table.columns)
        return f"<thead><tr>{cells}</tr></thead>"
    top, bottom = [], []
    for group, members in groups:
        if group is None:
            top.append(f'<th class="top" rowspan="2">{html.escape(table.columns[members[0]].header)}</th>')
        else:
            top.append(f'<th class="top" colspan="{len(members)}">{html.escape(group)}</th>')
            bottom.extend(f"<th>{html.escape(table.columns[index].header)}</th>" for index in members)
    return f"<thead><tr>{''.join(top)}</tr><tr>{''.join(bottom)}</tr></thead>"


def table_html(table: Table, width_mm: float) -> str:
    """One table as HTML, its columns sized by ``fit_table``."""
    fit = fit_table(table, width_mm)
    columns = table.columns
    classes = [
        " ".join(
            name
            for name, wanted in (
                ("m", column.kind == MONEY),
                ("c", column.kind == CENTER),
                ("w", index in fit.wrapping),
            )
            if wanted
        )
        for index, column in enumerate(columns)
    ]
    # Simple class selectors only: the style cascade runs once per cell, and on a book of
    # thousands of rows a descendant selector costs more than the layout.
    body = []
    for row in table.rows:
        extra = {"total": "tt", "subtotal": "t"}.get(row.style, "")
        cells = []
        for index, (column, cell) in enumerate(zip(columns, row.cells)):
            names = " ".join(name for name in (classes[index], extra) if name)
            attributes = f' class="{names}"' if names else ""
            if index == table.indent_column and row.indent:
                attributes += f' style="text-indent: {row.indent * INDENT_EM}em"'
            cells.append(f"<td{attributes}>{html.escape(cell_text(cell, column.kind, column.blank_zero))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    colgroup = "".join(f'<col style="width: {percent:.3f}%">' for percent in fit.percents)
    caption = f'<p class="caption">{html.escape(table.caption)}</p>' if table.caption else ""
    together = " together" if table.keep_together else ""
    return (
        f'{caption}<table class="book{together}" style="font-size: {fit.font_pt}pt">'
        f"<colgroup>{colgroup}</colgroup>{_header_html(table)}<tbody>{''.join(body)}</tbody></table>"
    )


def book_page_css(book: Book) -> str:
    return page_css(
        landscape=book.landscape,
        footer_left=f"制表人：{book.prepared_by or '　　　　　　'}",
        footer_right=f"打印日期：{book.printed_on.isoformat()}　{checkpoint_footer()}",
    )


def book_page_header(book: Book) -> str:
    return page_header_html(
        book.title, [f"编制单位：{book.entity_name}", *book.covers], [f"期间：{book.period_text}", book.unit]
    )


def html_document(title: str, css: str, body: Iterable[str]) -> str:
    """A whole self-contained HTML document (UTF-8, inline CSS, no scripts)."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="zh-CN">',
            "<head>",
            '<meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{BASE_CSS}{css}</style>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )


def book_html(book: Book) -> str:
    rows = sum(len(table.rows) for table in book.tables)
    if rows > BOOK_ROWS_MAX:
        raise DisburseError(
            tr(
                "{book} has {rows:,} rows, more than the {limit:,} a printed book holds; "
                "print it for one household, fund or account at a time",
                book=book.title,
                rows=rows,
                limit=BOOK_ROWS_MAX,
            )
        )
    width_mm = page_width_mm(book.landscape)
    body = [book_page_header(book), *(table_html(table, width_mm) for table in book.tables)]
    body.extend(f'<p class="note">{html.escape(note)}</p>' for note in book.notes)
    return html_document(f"{book.title} {book.entity_name} {book.period_text}", book_page_css(book), body)


# ------------------------------------------------------------------------------------ PDF


@functools.cache
def chinese_font_installed() -> bool | None:
    """Whether fontconfig knows a font for Chinese; None when fc-list is not there to ask."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    listed = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=60)
    return bool(listed.stdout.strip())


@functools.cache
def _pdf_missing() -> tuple[str, str] | None:
    """What this machine lacks to print a PDF: ("font", "") or ("pango", the loader's error)."""
    if not chinese_font_installed():
        return "font", ""
    try:
        import weasyprint  # noqa: F401  (imported here: only a command that prints pays for it)
    except OSError as error:  # the Pango or HarfBuzz shared libraries are missing
        return "pango", str(error)
    return None


def pdf_problem() -> str | None:
    """Why this machine cannot print a PDF (no Chinese font, or WeasyPrint's Pango libraries
    missing), or None when it can. A fresh machine may lack both: xlsx books still work. (The
    check is cached, the words are not: they are in the language of whoever asks.)"""
    missing = _pdf_missing()
    if missing is None:
        return None
    if missing[0] == "font":
        return tr("no Chinese font is installed, so a PDF would print empty boxes; {hint}", hint=tr(FONT_PACKAGE_HINT))
    return tr(
        "PDF printing needs Pango ({error}); e.g. `apt-get install libpango-1.0-0 libpangoft2-1.0-0`", error=missing[1]
    )


def render_pdf(document_html: str):  # type: ignore[no-untyped-def]
    """Lay out ``document_html`` as pages (a ``weasyprint.Document``). Refuses when this machine
    cannot print (see ``pdf_problem``), since every character would print as an empty box."""
    problem = pdf_problem()
    if problem is not None:
        raise DisburseError(problem)
    import weasyprint

    return weasyprint.HTML(string=document_html).render()


def write_pdf(document_html: str, path: Path) -> PrintedFile:
    """Write ``document_html`` as a PDF at ``path``; returns it with its page count."""
    document = render_pdf(document_html)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.write_pdf(str(path))
    return PrintedFile(path, len(document.pages))


def page_texts(document) -> list[str]:  # type: ignore[no-untyped-def]
    """The text of each laid-out page, margin boxes (title, 页次) included: what a reader sees."""
    texts = []
    for page in document.pages:
        parts: list[str] = []
        _collect_text(page._page_box, parts)
        texts.append("".join(parts))
    return texts


def _collect_text(box, parts: list[str]) -> None:  # type: ignore[no-untyped-def]
    text = getattr(box, "text", None)
    if isinstance(text, str):
        parts.append(text)
    for child in getattr(box, "children", ()) or ():
        _collect_text(child, parts)


def refuse_suffix(path: Path, suffixes: Sequence[str], what: str) -> None:
    if Path(path).suffix.lower() not in suffixes:
        shown = tr(" or ").join(suffixes)
        raise DisburseError(
            tr(
                "{path}: {what} is written as {suffixes}, not {suffix}",
                path=path,
                what=what,
                suffixes=shown,
                suffix=Path(path).suffix or tr("no extension"),
            )
        )


# ----------------------------------------------------------------------------------- xlsx


def sheet_width(em: float) -> float:
    """A column width in Excel's units (the width of a '0'), from a width in em."""
    return round(em * 1.9 + 2.5, 1)


def header_text(text: str) -> str:
    """Text for a page header or footer, where & starts a code."""
    return text.replace("&", "&&")


def write_book_xlsx(book: Book, path: Path) -> PrintedFile:
    """The book as a workbook set up for printing: one sheet per table (or one sheet with the
    tables one under another when they share a sheet name), A4, fit to the page width, the
    header rows repeated and frozen, the print area set, amounts as numbers in ¥#,##0.00."""
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    )
    try:
        formats = sheet_formats(workbook)
        sheets: dict[str, list[Table]] = {}
        for table in book.tables:
            sheets.setdefault((table.sheet_name or book.title)[:31], []).append(table)
        for name, tables in sheets.items():
            write_sheet(workbook.add_worksheet(name.replace("/", "-")), book, tables, formats)
    finally:
        workbook.close()
    return PrintedFile(path)


def sheet_formats(workbook) -> dict[str, object]:  # type: ignore[no-untyped-def]
    border = {"border": 1, "font_name": "宋体", "font_size": 10, "valign": "vcenter"}
    return {
        "title": workbook.add_format({"bold": True, "font_size": 16, "align": "center", "font_name": "宋体"}),
        "info": workbook.add_format({"font_size": 10, "font_name": "宋体"}),
        "info_right": workbook.add_format({"font_size": 10, "font_name": "宋体", "align": "right"}),
        "caption": workbook.add_format({"bold": True, "font_size": 10, "font_name": "宋体"}),
        "header": workbook.add_format({**border, "bold": True, "align": "center", "bg_color": "#F2F2F2"}),
        "text": workbook.add_format(border),
        "center": workbook.add_format({**border, "align": "center"}),
        "money": workbook.add_format({**border, "num_format": MONEY_FORMAT}),
        "text_total": workbook.add_format({**border, "bold": True}),
        "center_total": workbook.add_format({**border, "bold": True, "align": "center"}),
        "money_total": workbook.add_format({**border, "bold": True, "num_format": MONEY_FORMAT}),
    }


def write_sheet(worksheet, book: Book, tables: list[Table], formats: dict) -> None:  # type: ignore[no-untyped-def]
    width = max(len(table.columns) for table in tables)
    last_column = width - 1
    worksheet.merge_range(0, 0, 0, last_column, book.title, formats["title"])
    info = "　".join([f"编制单位：{book.entity_name}", *book.covers])
    worksheet.write_string(1, 0, info, formats["info"])
    worksheet.write_string(1, last_column, f"期间：{book.period_text}　{book.unit}", formats["info_right"])
    row_index = 2
    ems = [0.0] * width
    header_rows: tuple[int, int] | None = None
    for table in tables:
        if table.caption:
            worksheet.write_string(row_index, 0, table.caption, formats["caption"])
            row_index += 1
        first_header = row_index
        row_index = _write_header(worksheet, table, row_index, formats)
        if header_rows is None:
            header_rows = (first_header, row_index - 1)
        for row in table.rows:
            _write_row(worksheet, table, row, row_index, formats)
            row_index += 1
        row_index += 1
        for index, em in enumerate(column_ems(table)):
            ems[index] = max(ems[index], em)
    for index, em in enumerate(ems):
        worksheet.set_column(index, index, sheet_width(em))
    for note in book.notes:
        worksheet.write_string(row_index, 0, note, formats["info"])
        row_index += 1
    assert header_rows is not None
    if len(tables) == 1:
        # One table: its header stays on screen and on every printed page.
        worksheet.freeze_panes(header_rows[1] + 1, 0)
        worksheet.repeat_rows(0, header_rows[1])
    else:
        worksheet.freeze_panes(2, 0)
        worksheet.repeat_rows(0, 1)
    worksheet.print_area(0, 0, max(row_index - 1, header_rows[1]), last_column)
    worksheet.set_paper(9)  # A4
    if book.landscape:
        worksheet.set_landscape()
    worksheet.fit_to_pages(1, 0)
    worksheet.center_horizontally()
    worksheet.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)
    worksheet.set_header(f"&L{header_text(book.entity_name)}&C{header_text(book.title)}&R页次：&P/&N")
    worksheet.set_footer(
        f"&L制表人：{header_text(book.prepared_by or '')}"
        f"&R打印日期：{book.printed_on.isoformat()}　{checkpoint_footer()}"
    )


def _write_header(worksheet, table: Table, row_index: int, formats: dict) -> int:  # type: ignore[no-untyped-def]
    """The table's header rows (two when any column has a group); returns the next row."""
    groups = _groups(table.columns)
    if not any(group is not None for group, _ in groups):
        worksheet.write_row(row_index, 0, [column.header for column in table.columns], formats["header"])
        return row_index + 1
    for group, members in groups:
        first, last = members[0], members[-1]
        if group is None:
            worksheet.merge_range(
                row_index, first, row_index + 1, first, table.columns[first].header, formats["header"]
            )
            continue
        if first == last:
            worksheet.write_string(row_index, first, group, formats["header"])
        else:
            worksheet.merge_range(row_index, first, row_index, last, group, formats["header"])
        for index in members:
            worksheet.write_string(row_index + 1, index, table.columns[index].header, formats["header"])
    return row_index + 2


def _write_row(worksheet, table: Table, row: Row, row_index: int, formats: dict) -> None:  # type: ignore[no-untyped-def]
    """One row of cells; the indent column starts with an ideographic space per level."""
    suffix = "_total" if row.style in ("total", "subtotal") else ""
    for index, (column, cell) in enumerate(zip(table.columns, row.cells)):
        if column.kind == MONEY:
            style = formats["money" + suffix]
            if isinstance(cell, int) and not isinstance(cell, bool) and not (column.blank_zero and cell == 0):
                worksheet.write_number(row_index, index, yuan_decimal(cell), style)
            else:
                worksheet.write_blank(row_index, index, None, style)
            continue
        style = formats[("center" if column.kind == CENTER else "text") + suffix]
        text = "" if cell is None else str(cell)
        if index == table.indent_column and row.indent:
            text = "　" * row.indent + text
        worksheet.write_string(row_index, index, str(neutralise(text)), style)


def write_book(book: Book, path: Path) -> PrintedFile:
    """Write ``book`` as .pdf or .xlsx (chosen by the suffix), or .html (the page before layout)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == PDF_SUFFIX:
        return write_pdf(book_html(book), path)
    if suffix == XLSX_SUFFIX:
        return write_book_xlsx(book, path)
    if suffix in HTML_SUFFIXES:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(book_html(book), encoding="utf-8")
        return PrintedFile(path)
    raise DisburseError(
        tr(
            "{path}: {book} is written as .pdf or .xlsx, not {suffix}",
            path=path,
            book=book.title,
            suffix=suffix or tr("no extension"),
        )
    )
