"""记账凭证 (general vouchers) of one entity, as printable HTML: one voucher per printed page.

The classic layout: the title 记账凭证, the entity, the date and the number 记-0001; a table of
摘要 / 科目 / 借方金额 / 贷方金额 lines with each posting's household (户编号) and fund source
(资金来源) under its account; a 合计 row with the total in figures and in capitals (大写金额);
a note on a reversing entry naming the voucher it reverses (and on a reversed one, the voucher
that reversed it); and the signature line 会计主管 / 记账 / 审核 / 出纳 / 制单 with the person who
posted it as 制单, and 附件 __ 张 left blank for the hand that files the paper.

The HTML is self-contained (inline CSS, UTF-8, no scripts); every piece of text from the books is
escaped, since memos and dimensions are typed by users and imported from files.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disburse.foundation.dates import period_problem
from disburse.foundation.errors import DisburseError
from disburse.foundation.money import format_capitals, format_yuan
from disburse.ledger.model import PostedEntry, voucher_label
from disburse.ledger.reading import IN_LIST_CHUNK, load_entries
from disburse.ledger.service import entity_by_code
from disburse.ledger.tables import AccountRow, EntityRow, JournalEntryRow

# One HTML file for a period; a county whose month holds more vouchers than this prints them
# one voucher (or a smaller period) at a time rather than as a file no browser opens.
VOUCHERS_PER_FILE_MAX = 20_000
HTML_SUFFIXES = (".html", ".htm")
_VOUCHER_TEXT = re.compile(r"^\s*(?:记\s*[-－]?\s*)?0*(\d{1,9})\s*$")


@dataclass(frozen=True, slots=True)
class VoucherLine:
    """One line of a printed voucher: 摘要, 科目, the amount on its side and its dimensions."""

    memo: str
    account_code: str
    account_name: str
    debit_fen: int
    credit_fen: int
    household_id: str | None
    fund_source: str | None


@dataclass(frozen=True, slots=True)
class Voucher:
    """A posted entry as it is printed. ``reverses`` and ``reversed_by`` name other vouchers
    (``2026-10 记-0001``, with their entry ids) or are None."""

    entry_id: int
    entity_code: str
    entity_name: str
    period: str
    entry_date: dt.date
    voucher_number: int
    memo: str
    lines: tuple[VoucherLine, ...]
    prepared_by: str
    source_kind: str
    source_reference: str
    reverses: str | None
    reverses_entry_id: int | None
    reversed_by: str | None
    reversed_by_entry_id: int | None

    @property
    def voucher(self) -> str:
        return voucher_label(self.voucher_number)

    @property
    def total_fen(self) -> int:
        """合计: the debits, which equal the credits of a posted entry."""
        debit_fen = sum(line.debit_fen for line in self.lines)
        assert debit_fen == sum(line.credit_fen for line in self.lines), (self.entry_id, debit_fen)
        return debit_fen


def voucher_number_of(text: str) -> int:
    """The number in a voucher label as users write it: ``记-0003``, ``记3``, ``0003`` or ``3``."""
    match = _VOUCHER_TEXT.match(text)
    if match is None or int(match.group(1)) == 0:
        raise DisburseError(f"voucher {text!r} is not a voucher number like 记-0003")
    return int(match.group(1))


def _labels_of(session: Session, column, values: list[int]) -> dict[int, tuple[int, str, int]]:  # type: ignore[no-untyped-def]
    """(id, period, voucher number) of the entries whose ``column`` is in ``values``, keyed by it."""
    found: dict[int, tuple[int, str, int]] = {}
    for start in range(0, len(values), IN_LIST_CHUNK):
        chunk = values[start : start + IN_LIST_CHUNK]
        rows = session.execute(
            select(column, JournalEntryRow.id, JournalEntryRow.period, JournalEntryRow.voucher_number).where(
                column.in_(chunk)
            )
        )
        for key, entry_id, period, voucher_number in rows:
            found[key] = (entry_id, period, voucher_number)
    return found


def _voucher_reference(found: tuple[int, str, int] | None) -> tuple[str | None, int | None]:
    """``('2026-10 记-0003', 6)`` for a found entry, ``(None, None)`` otherwise."""
    if found is None:
        return None, None
    entry_id, period, voucher_number = found
    return f"{period} {voucher_label(voucher_number)}", entry_id


def vouchers_of(
    session: Session,
    entity_code: str,
    period: str | None,
    *,
    voucher: str | None = None,
    entry_id: int | None = None,
) -> list[Voucher]:
    """The vouchers of an entity's period in number order, or only one of them (``voucher``
    like 记-0003 within the period, or ``entry_id`` within the entity, when the period may be
    None). Refuses what does not exist, and more than ``VOUCHERS_PER_FILE_MAX`` vouchers."""
    entity = entity_by_code(session, entity_code)
    if period is not None:
        problem = period_problem(period)
        if problem:
            raise DisburseError(problem)
    if voucher is not None and entry_id is not None:
        raise DisburseError("choose one voucher: --voucher or --entry, not both")
    conditions = [JournalEntryRow.entity_id == entity.id]
    if period is not None:
        conditions.append(JournalEntryRow.period == period)
    elif entry_id is None:
        raise DisburseError("a period (--period YYYY-MM) is needed unless one entry is chosen with --entry")
    if voucher is not None:
        conditions.append(JournalEntryRow.voucher_number == voucher_number_of(voucher))
    if entry_id is not None:
        conditions.append(JournalEntryRow.id == entry_id)
    else:
        count = session.scalar(select(func.count()).select_from(JournalEntryRow).where(*conditions)) or 0
        if count > VOUCHERS_PER_FILE_MAX:
            raise DisburseError(
                f"{entity_code} {period} has {count:,} vouchers, more than the {VOUCHERS_PER_FILE_MAX:,} "
                "one file holds; print them with --voucher or --entry"
            )
    entries = load_entries(session, conditions, order_by=(JournalEntryRow.period, JournalEntryRow.voucher_number))
    if not entries:
        where = f"{entity_code} {period}" if period else entity_code
        if voucher is not None:
            raise DisburseError(f"{where} has no voucher {voucher}")
        if entry_id is not None:
            raise DisburseError(f"{where} has no journal entry {entry_id}")
        raise DisburseError(f"{where} has no vouchers")
    return _vouchers(session, entity, entries)


def _vouchers(session: Session, entity: EntityRow, entries: Sequence[PostedEntry]) -> list[Voucher]:
    account_codes = sorted({posting.account_code for entry in entries for posting in entry.postings})
    names = dict(
        session.execute(select(AccountRow.code, AccountRow.name).where(AccountRow.code.in_(account_codes))).all()
    )
    reversed_ids = sorted({entry.reverses_entry_id for entry in entries if entry.reverses_entry_id is not None})
    reversed_entries = _labels_of(session, JournalEntryRow.id, reversed_ids)
    reversing_entries = _labels_of(session, JournalEntryRow.reverses_entry_id, [entry.id for entry in entries])
    vouchers = []
    for entry in entries:
        reverses, reverses_entry_id = _voucher_reference(
            reversed_entries.get(entry.reverses_entry_id) if entry.reverses_entry_id is not None else None
        )
        reversed_by, reversed_by_entry_id = _voucher_reference(reversing_entries.get(entry.id))
        lines = tuple(
            VoucherLine(
                memo=entry.memo,
                account_code=posting.account_code,
                account_name=names.get(posting.account_code, ""),
                debit_fen=max(posting.amount_fen, 0),
                credit_fen=max(-posting.amount_fen, 0),
                household_id=posting.household_id,
                fund_source=posting.fund_source,
            )
            for posting in entry.postings
        )
        vouchers.append(
            Voucher(
                entry_id=entry.id,
                entity_code=entity.code,
                entity_name=entity.name,
                period=entry.period,
                entry_date=entry.entry_date,
                voucher_number=entry.voucher_number,
                memo=entry.memo,
                lines=lines,
                prepared_by=entry.created_by,
                source_kind=entry.source_kind,
                source_reference=entry.source_reference,
                reverses=reverses,
                reverses_entry_id=reverses_entry_id,
                reversed_by=reversed_by,
                reversed_by_entry_id=reversed_by_entry_id,
            )
        )
    return vouchers


STYLE = """
@page { size: A4 landscape; margin: 12mm; }
body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; color: #000; margin: 0; }
.voucher { page-break-after: always; break-after: page; padding: 4mm 0; }
.voucher:last-of-type { page-break-after: auto; break-after: auto; }
h1 { text-align: center; font-size: 22pt; letter-spacing: 0.6em; margin: 0 0 2mm;
     text-decoration: underline double; text-underline-offset: 4px; }
.heading { display: flex; justify-content: space-between; font-size: 11pt; margin: 2mm 0; }
table { width: 100%; border-collapse: collapse; font-size: 11pt; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; break-inside: avoid; }
th, td { border: 1px solid #000; padding: 1.5mm 2mm; vertical-align: top; }
th { font-weight: normal; letter-spacing: 0.3em; }
.memo { width: 30%; }
.account { width: 38%; }
.amount { width: 16%; text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.code { font-family: monospace; margin-right: 1em; }
.dimensions { font-size: 9pt; color: #333; margin-top: 0.5mm; }
.total td { font-weight: bold; }
.note { font-size: 10pt; margin: 2mm 0; }
.signatures { display: flex; justify-content: space-between; font-size: 11pt; margin-top: 3mm; }
.blank { display: inline-block; min-width: 5em; border-bottom: 1px solid #000; }
.source { font-size: 9pt; color: #333; }
@media screen { .voucher { border-bottom: 1px dashed #999; margin-bottom: 8mm; } }
"""


def _date_zh(date: dt.date) -> str:
    return f"{date.year}年{date.month:02d}月{date.day:02d}日"


def _amount_cell(amount_fen: int) -> str:
    return format_yuan(amount_fen) if amount_fen else ""


def _line_html(line: VoucherLine) -> str:
    dimensions = []
    if line.household_id:
        dimensions.append(f"户编号 {escape(line.household_id)}")
    if line.fund_source:
        dimensions.append(f"资金来源 {escape(line.fund_source)}")
    dimension_html = f'<div class="dimensions">{"；".join(dimensions)}</div>' if dimensions else ""
    return (
        "<tr>"
        f'<td class="memo">{escape(line.memo)}</td>'
        f'<td class="account"><span class="code">{escape(line.account_code)}</span>{escape(line.account_name)}'
        f"{dimension_html}</td>"
        f'<td class="amount">{_amount_cell(line.debit_fen)}</td>'
        f'<td class="amount">{_amount_cell(line.credit_fen)}</td>'
        "</tr>"
    )


def voucher_html(voucher: Voucher) -> str:
    """One voucher as an HTML ``<section class="voucher">`` (a printed page of its own)."""
    total_fen = voucher.total_fen
    notes = []
    if voucher.reverses:
        notes.append(f"本凭证冲销 {escape(voucher.reverses)} 号凭证（分录 {voucher.reverses_entry_id}）。")
    if voucher.reversed_by:
        notes.append(f"本凭证已被 {escape(voucher.reversed_by)} 号凭证冲销（分录 {voucher.reversed_by_entry_id}）。")
    note_html = "".join(f'<p class="note">{note}</p>' for note in notes)
    source = f"{voucher.source_kind} {voucher.source_reference}".strip()
    return "\n".join(
        [
            f'<section class="voucher" id="entry-{voucher.entry_id}">',
            "<h1>记账凭证</h1>",
            '<div class="heading">'
            f"<span>单位：{escape(voucher.entity_name)}（{escape(voucher.entity_code)}）</span>"
            f"<span>{_date_zh(voucher.entry_date)}</span>"
            f"<span>凭证号：{escape(voucher.voucher)}</span>"
            "</div>",
            "<table>",
            '<thead><tr><th class="memo">摘要</th><th class="account">会计科目</th>'
            '<th class="amount">借方金额</th><th class="amount">贷方金额</th></tr></thead>',
            "<tbody>",
            *(_line_html(line) for line in voucher.lines),
            '<tr class="total">'
            f'<td colspan="2">合计：{escape(format_capitals(total_fen))}</td>'
            f'<td class="amount">{format_yuan(total_fen)}</td>'
            f'<td class="amount">{format_yuan(total_fen)}</td>'
            "</tr>",
            "</tbody>",
            "</table>",
            note_html,
            f'<p class="source">来源：{escape(source)}；分录 {voucher.entry_id}</p>' if source else "",
            '<div class="signatures">'
            '<span>会计主管：<span class="blank"></span></span>'
            '<span>记账：<span class="blank"></span></span>'
            '<span>审核：<span class="blank"></span></span>'
            '<span>出纳：<span class="blank"></span></span>'
            f"<span>制单：{escape(voucher.prepared_by)}</span>"
            '<span>附件 <span class="blank"></span> 张</span>'
            "</div>",
            "</section>",
        ]
    )


def vouchers_html(vouchers: Sequence[Voucher], *, title: str = "记账凭证") -> str:
    """A whole HTML document of vouchers, one per printed page."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="zh-CN">',
            "<head>",
            '<meta charset="utf-8">',
            f"<title>{escape(title)}</title>",
            f"<style>{STYLE}</style>",
            "</head>",
            "<body>",
            *(voucher_html(voucher) for voucher in vouchers),
            "</body>",
            "</html>",
            "",
        ]
    )


def write_vouchers_html(vouchers: Sequence[Voucher], path: Path, *, title: str = "记账凭证") -> Path:
    """Write the vouchers to ``path`` (.html) as UTF-8; returns the path."""
    path = Path(path)
    if path.suffix.lower() not in HTML_SUFFIXES:
        raise DisburseError(f"{path}: vouchers are written as .html, not {path.suffix or 'no extension'}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(vouchers_html(vouchers, title=title), encoding="utf-8")
    return path


__all__ = (
    "Voucher",
    "VoucherLine",
    "voucher_html",
    "voucher_number_of",
    "vouchers_html",
    "vouchers_of",
    "write_vouchers_html",
)
