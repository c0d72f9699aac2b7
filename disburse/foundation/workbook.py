"""The one writer behind every human-readable table export (.xlsx or .csv), the problem reports
of refused files among them.

Amounts arrive as int fen and are written as numbers in yuan (a Decimal, which XlsxWriter
formats digit for digit, so no float is involved). A text cell that a spreadsheet would run as a
formula (starting with = + - or @) is neutralised with a leading apostrophe; amounts are
numbers, so a negative amount is untouched.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from disburse.foundation.errors import DisburseError, ImportProblem
from disburse.foundation.i18n import tr
from disburse.foundation.money import yuan_decimal

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXPORT_ROWS_MAX = 5_000_000


def neutralise(value: object) -> object:
    """A text cell that starts like a formula gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _cells(row: Sequence[object], money_columns: frozenset[int]) -> list[object]:
    cells: list[object] = []
    for index, value in enumerate(row):
        if index in money_columns and isinstance(value, int) and not isinstance(value, bool):
            cells.append(yuan_decimal(value))
        else:
            cells.append(neutralise(value))
    return cells


@dataclass(frozen=True, slots=True)
class Sheet:
    """One table of a workbook: a title line, Chinese headers, rows; money columns hold int fen."""

    name: str
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]
    money_columns: tuple[int, ...] = ()


def write_workbook(path: Path, sheets: Sequence[Sheet]) -> list[Path]:
    """Several tables: sheets of one .xlsx, or for .csv the first sheet in ``path`` and each
    other sheet beside it as ``<stem>-<sheet name>.csv``. Returns the files written."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        written = []
        for index, sheet in enumerate(sheets):
            target = path if index == 0 else path.with_name(f"{path.stem}-{sheet.name}{path.suffix}")
            write_table(
                target, title=sheet.title, headers=sheet.headers, rows=sheet.rows, money_columns=sheet.money_columns
            )
            written.append(target)
        return written
    if path.suffix.lower() != ".xlsx":
        raise DisburseError(_wrong_suffix(path, path.suffix))
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(
        str(path),
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
    )
    try:
        bold = workbook.add_format({"bold": True})
        money_format = workbook.add_format({"num_format": "#,##0.00"})
        for sheet in sheets:
            _write_sheet(
                workbook.add_worksheet(sheet.name[:31]),
                sheet.title,
                sheet.headers,
                sheet.rows,
                frozenset(sheet.money_columns),
                bold,
                money_format,
                path,
            )
    finally:
        workbook.close()
    return [path]


def _write_sheet(worksheet, title, headers, rows, money, bold, money_format, path) -> int:  # type: ignore[no-untyped-def]
    """A title line (when there is one), the headers, the rows; returns the number of rows."""
    top = 0 if title is None else 1
    if title is not None:
        worksheet.write_row(0, 0, [title], bold)
    worksheet.write_row(top, 0, list(headers), bold)
    for index in money:
        worksheet.set_column(index, index, 16, money_format)
    count = 0
    for row in rows:
        count += 1
        if count > EXPORT_ROWS_MAX:
            raise DisburseError(_too_many_rows(path))
        for column, cell in enumerate(_cells(row, money)):
            if cell is None:
                continue
            if column in money and not isinstance(cell, str):
                worksheet.write_number(count + top, column, cell, money_format)
            elif isinstance(cell, str):
                worksheet.write_string(count + top, column, cell)
            else:
                worksheet.write(count + top, column, cell)
    return count


def write_table(
    path: Path,
    *,
    title: str | None,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    money_columns: Iterable[int] = (),
    sheet_name: str | None = None,
) -> int:
    """Write one table; returns the number of data rows. ``money_columns`` hold int fen. A .csv
    has no title line; an .xlsx has one above the headers unless ``title`` is None."""
    path = Path(path)
    money = frozenset(money_columns)
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            for row in rows:
                count += 1
                if count > EXPORT_ROWS_MAX:
                    raise DisburseError(_too_many_rows(path))
                writer.writerow(
                    [
                        ""
                        if cell is None
                        else format(cell, "f")
                        if index in money and not isinstance(cell, str)
                        else cell
                        for index, cell in enumerate(_cells(row, money))
                    ]
                )
        return count
    if suffix != ".xlsx":
        raise DisburseError(_wrong_suffix(path, suffix))
    import xlsxwriter  # imported here: most commands never write a workbook

    workbook = xlsxwriter.Workbook(
        str(path),
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
    )
    try:
        bold = workbook.add_format({"bold": True})
        money_format = workbook.add_format({"num_format": "#,##0.00"})
        worksheet = workbook.add_worksheet((sheet_name or title or "Sheet1")[:31].replace("/", "-"))
        count = _write_sheet(worksheet, title, headers, rows, money, bold, money_format, path)
    finally:
        workbook.close()
    return count


# Headers of the problem report handed back to county staff; they read Chinese.
PROBLEM_REPORT_HEADERS = ("文件", "行", "列", "值", "原因", "级别")


def write_problems(problems: Iterable[ImportProblem], path: str | os.PathLike[str]) -> None:
    """Every problem of a file as ``.xlsx`` or ``.csv`` (UTF-8 with BOM, so Excel reads it), headers
    文件, 行, 列, 值, 原因, 级别 in the first row; cells a spreadsheet would run as formulas are
    neutralised like every export's."""
    rows = (
        [
            problem.file,
            problem.row if problem.row is not None else None,
            problem.column or "",
            problem.value,
            problem.reason,
            problem.severity,
        ]
        for problem in problems
    )
    write_table(Path(path), title=None, headers=PROBLEM_REPORT_HEADERS, rows=rows, sheet_name="问题")


def _wrong_suffix(path: Path, suffix: str) -> str:
    if not suffix:
        return tr("{path}: exports are written as .xlsx or .csv, not a file without an extension", path=path)
    return tr("{path}: exports are written as .xlsx or .csv, not {suffix}", path=path, suffix=suffix)


def _too_many_rows(path: Path) -> str:
    return tr("{path}: more than {limit:,} rows; split the export", path=path, limit=EXPORT_ROWS_MAX)
