"""Writing tables: cleanly (UTF-8 CSV, Chinese headers, FORMATS.md order) or messily, the way
county systems and spreadsheets really hand files over (GBK with CRLF, .xlsx with a title and a
total row, padded cells, English or older Chinese headers, shuffled columns, mixed date forms,
amounts with thousands separators or ¥). A messy file holds exactly the same content as the
clean one; only the form differs, so an importer must read both to the same frame.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import xlsxwriter

from disburse.dev.generator.model import Table

# Rows are turned into Python strings this many at a time, so that a million-row register does
# not hold twenty million string objects at once.
CSV_CHUNK_ROWS = 100_000
# Share of non-blank text cells the messy writer pads with spaces or tabs.
PADDED_CELL_SHARE = 0.08
# Share of columns that get their English alias as header, and of register columns (that have
# one) that get an older Chinese name.
ALIAS_HEADER_SHARE = 0.3
ALTERNATE_HEADER_SHARE = 0.4
# Older Chinese headers real register exports use (FORMATS.md section 1).
REGISTER_ALTERNATE_HEADERS = {
    "证件号码": ("公民身份号码", "身份证号"),
    "在校生状况": ("在校学生",),
    "乡镇": ("镇(乡)", "乡(镇)"),
    "县": ("县(市、区)",),
    "与户主关系": ("户主关系",),
    "户类型": ("贫困户属性",),
}
# Under the header 贫困户属性 two household types have their older names.
OLD_HOUSEHOLD_TYPE_NAMES = {"一般贫困户": "扶贫户", "低保贫困户": "扶贫低保户"}
# xlsx files are stamped with this creation time so that the same seed gives the same bytes.
XLSX_CREATED = dt.datetime(2026, 11, 1, 8, 0, 0)
FOOTER_LABEL = "合计"


def csv_write(path: Path, table: Table) -> None:
    """The clean form: UTF-8 without BOM, LF line ends, the FORMATS.md headers and order."""
    headers = [column.header for column in table.columns]
    _csv_rows_write(path, headers, [column.values for column in table.columns], table.order, "utf-8", "\n")


def _csv_rows_write(
    path: Path,
    headers: list[str],
    columns: list[np.ndarray],
    order: np.ndarray | None,
    encoding: str,
    line_terminator: str,
) -> None:
    row_count = len(columns[0]) if order is None else len(order)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator=line_terminator)
        writer.writerow(headers)
        for start in range(0, row_count, CSV_CHUNK_ROWS):
            stop = min(start + CSV_CHUNK_ROWS, row_count)
            if order is None:
                chunk = [column[start:stop].tolist() for column in columns]
            else:
                chunk = [column[order[start:stop]].tolist() for column in columns]
            writer.writerows(zip(*chunk))


class _MessyColumn:
    """One column in its messy form: a header and cell values (str, float, int or datetime)."""

    __slots__ = ("header", "kind", "cells")

    def __init__(self, header: str, kind: str, cells: list[object]) -> None:
        self.header = header
        self.kind = kind
        self.cells = cells


def _thousands(yuan_text: str) -> str:
    whole, _, fraction = yuan_text.partition(".")
    return f"{int(whole):,}.{fraction}"


def _chinese_date(iso: str) -> str:
    return f"{int(iso[:4])}年{int(iso[5:7])}月{int(iso[8:10])}日"


def _messy_columns(
    rng: np.random.Generator,
    table: Table,
    *,
    for_xlsx: bool,
    alternate_headers: dict[str, tuple[str, ...]],
) -> list[_MessyColumn]:
    """Disguise every column of ``table``; the returned columns are in a shuffled order."""
    yen_signs = ("¥", "￥") if for_xlsx else ("￥",)  # GBK has only the full-width sign.
    result = []
    for index in rng.permutation(len(table.columns)).tolist():
        column = table.columns[index]
        values = column.values if table.order is None else column.values[table.order]
        cells: list[object] = values.tolist()
        header = column.header
        draw = rng.random()
        if column.header in alternate_headers and draw < ALTERNATE_HEADER_SHARE:
            choices = alternate_headers[column.header]
            header = choices[int(rng.integers(0, len(choices)))]
        elif column.alias and draw > 1 - ALIAS_HEADER_SHARE:
            header = column.alias.upper() if rng.random() < 0.3 else column.alias
        if header == "贫困户属性":
            cells = [OLD_HOUSEHOLD_TYPE_NAMES.get(cell, cell) for cell in cells]

        count = len(cells)
        forms = rng.integers(0, 5, size=count).tolist()
        padded = (rng.random(count) < PADDED_CELL_SHARE).tolist()
        pads = rng.integers(0, 4, size=(count, 2)).tolist()
        for row in range(count):
            cell = cells[row]
            if cell == "":
                continue
            form = forms[row]
            if column.kind == "date":
                if form == 1:
                    cell = cell.replace("-", "/")
                elif form == 2:
                    cell = cell.replace("-", "")
                elif form == 3:
                    cell = _chinese_date(cell)
                elif form == 4 and for_xlsx:
                    cells[row] = dt.datetime.strptime(cell, "%Y-%m-%d")
                    continue
            elif column.kind == "amount":
                if form == 1:
                    cell = _thousands(cell)
                elif form == 2:
                    cell = yen_signs[row % len(yen_signs)] + _thousands(cell)
                elif form == 3:
                    cell = yen_signs[row % len(yen_signs)] + cell
                elif form == 4 and for_xlsx:
                    cells[row] = float(cell)
                    continue
            elif column.kind == "integer" and for_xlsx:
                cells[row] = int(cell)
                continue
            if padded[row]:
                left, right = pads[row]
                cell = ("", " ", "  ", "\t")[left] + cell + ("", " ", "\t", " \t")[right]
            cells[row] = cell
        result.append(_MessyColumn(header, column.kind, cells))
    return result


def messy_csv_write(
    path: Path, table: Table, rng: np.random.Generator, *, alternate_headers: dict[str, tuple[str, ...]] | None = None
) -> None:
    """The messy CSV form: GBK, CRLF, disguised headers and cells, shuffled columns."""
    columns = _messy_columns(rng, table, for_xlsx=False, alternate_headers=alternate_headers or {})
    _csv_rows_write(
        path,
        [column.header for column in columns],
        [np.array(column.cells, dtype=object) for column in columns],
        None,
        "gbk",
        "\r\n",
    )


def _footer(columns: list[_MessyColumn], row_count: int) -> list[object]:
    """The total row spreadsheets end with: 合计 first, then sums of amounts, units and kWh."""
    from disburse.dev.generator.assets import UNITS_E4_PER_UNIT, units_text, yuan_text
    from disburse.foundation.money import fen_from_value

    footer: list[object] = []
    for position, column in enumerate(columns):
        if position == 0:
            footer.append(FOOTER_LABEL)
        elif column.kind == "amount":
            total = sum(fen_from_value(cell) for cell in column.cells if cell != "")
            footer.append(_thousands(yuan_text(total)))
        elif column.kind == "integer":
            footer.append(sum(int(cell) for cell in column.cells if cell != ""))
        elif column.kind == "units":
            total_e4 = sum(int(Decimal(str(cell).strip()) * UNITS_E4_PER_UNIT) for cell in column.cells)
            footer.append(units_text(total_e4))
        elif position == 1:
            footer.append(f"共{row_count}行")
        else:
            footer.append("")
    return footer


def messy_xlsx_write(
    path: Path, table: Table, rng: np.random.Generator, *, alternate_headers: dict[str, tuple[str, ...]] | None = None
) -> None:
    """The messy .xlsx form: a title line and a blank line before the header, a 合计 row after
    the data, disguised headers and cells. Identifiers are always string cells."""
    columns = _messy_columns(rng, table, for_xlsx=True, alternate_headers=alternate_headers or {})
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    workbook.set_properties({"created": XLSX_CREATED, "author": "disburse generator"})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    amount_format = workbook.add_format({"num_format": "#,##0.00"})
    sheet = workbook.add_worksheet("Sheet1")
    sheet.write_string(0, 0, table.title)
    # Row 1 stays blank: the second line of the preamble.
    for position, column in enumerate(columns):
        sheet.write_string(2, position, column.header)
    row_count = len(columns[0].cells) if columns else 0
    cell_columns = [column.cells for column in columns]
    for row in range(row_count):
        excel_row = row + 3
        for position, cells in enumerate(cell_columns):
            cell = cells[row]
            if isinstance(cell, str):
                if cell:
                    sheet.write_string(excel_row, position, cell)
            elif isinstance(cell, dt.datetime):
                sheet.write_datetime(excel_row, position, cell, date_format)
            elif isinstance(cell, float):
                sheet.write_number(excel_row, position, cell, amount_format)
            else:
                sheet.write_number(excel_row, position, cell)
    for position, cell in enumerate(_footer(columns, row_count)):
        if isinstance(cell, str):
            if cell:
                sheet.write_string(row_count + 3, position, cell)
        else:
            sheet.write_number(row_count + 3, position, cell)
    workbook.close()
