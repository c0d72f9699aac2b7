"""Helpers shared by the importer tests: valid identifiers and writers for every file format."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path

from disburse.foundation.identifiers import luhn_check_digit, resident_id_check_character

TODAY = dt.date(2026, 11, 15)


def resident_id(area: str, birth: str, sequence: str) -> str:
    """A valid 18-character resident ID (check character computed by ledger_core)."""
    first = area + birth + sequence
    return first + resident_id_check_character(first)


def card(payload: str) -> str:
    """A Luhn-valid card number ending in its check digit."""
    return payload + luhn_check_digit(payload)


# Three people in two households, checked by hand:
# 1) 张三 male head (sequence 011 odd), 2) 李四 his wife (sequence 022 even), 3) 王五 head (033 odd).
ZHANG = resident_id("610102", "19700101", "011")
LI = resident_id("610102", "19720202", "022")
WANG = resident_id("610102", "19800303", "033")
CARD_ZHANG = card("622848001234567890")  # 19 digits
CARD_WANG = card("621700123456789")  # 16 digits

REGISTER_HEADER = [
    "县",
    "乡镇",
    "行政村",
    "村代码",
    "户编号",
    "人编号",
    "姓名",
    "证件号码",
    "与户主关系",
    "性别",
    "在校生状况",
    "是否寄宿",
    "健康状况",
    "户类型",
    "贫困状态",
    "识别日期",
    "脱贫日期",
    "死亡日期",
    "开户银行",
    "银行账号",
    "个人银行账号",
    "联系电话",
]


def register_rows() -> list[list[str]]:
    """The clean three-person register body (rows 2-4 of the file)."""
    return [
        [
            "商州区",
            "沙河子镇",
            "王山底村",
            "611002100201",
            "H001",
            "P1",
            "张三",
            ZHANG,
            "户主",
            "男",
            "",
            "",
            "健康",
            "一般贫困户",
            "已脱贫",
            "2016-03-01",
            "2019-12-31",
            "",
            "中国农业银行",
            CARD_ZHANG,
            "",
            "13800000001",
        ],
        [
            "商州区",
            "沙河子镇",
            "王山底村",
            "611002100201",
            "H001",
            "P2",
            "李四",
            LI,
            "配偶",
            "女",
            "",
            "",
            "长期慢性病",
            "一般贫困户",
            "已脱贫",
            "2016-03-01",
            "2019-12-31",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "商州区",
            "沙河子镇",
            "王山底村",
            "611002100201",
            "H002",
            "P3",
            "王五",
            WANG,
            "户主",
            "男",
            "",
            "",
            "残疾",
            "低保贫困户",
            "未脱贫",
            "2017/05/20",
            "",
            "",
            "中国邮政储蓄银行",
            CARD_WANG,
            "",
            "",
        ],
    ]


def write_csv(
    path: Path, rows: Sequence[Sequence[object]], *, encoding: str = "utf-8", separator: str = ",", newline: str = "\n"
) -> Path:
    """Write rows as delimited text in the given encoding, separator and line ending."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator=newline)
    writer.writerows([["" if cell is None else cell for cell in row] for row in rows])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    """Write rows with openpyxl, keeping each cell's Python type (str, int, float, datetime)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def write_xls(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    """Write rows with xlwt; date cells get a date format so xlrd reports them as dates."""
    import xlwt

    workbook = xlwt.Workbook()
    sheet = workbook.add_sheet("Sheet1")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for row_index, row in enumerate(rows):
        for column_index, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, (dt.date, dt.datetime)):
                sheet.write(row_index, column_index, value, date_style)
            else:
                sheet.write(row_index, column_index, value)
    workbook.save(str(path))
    return path


def write_register(
    path: Path, rows: list[list[object]] | None = None, header: list[str] | None = None, **options: object
) -> Path:
    """A register CSV (or .xlsx/.xls by suffix) with the standard header and the given body."""
    body = register_rows() if rows is None else rows
    all_rows = [header or REGISTER_HEADER, *body]
    if path.suffix == ".xlsx":
        return write_xlsx(path, all_rows)
    if path.suffix == ".xls":
        return write_xls(path, all_rows)
    return write_csv(path, all_rows, **options)  # type: ignore[arg-type]


def cell(rows: list[list[object]], row: int, header: str, value: object) -> list[list[object]]:
    """Set one cell of a register body; ``row`` is the file row (2 = first body row)."""
    rows[row - 2][REGISTER_HEADER.index(header)] = value
    return rows


def only(problems, reason_part: str):
    """The problems whose reason contains ``reason_part``."""
    return [problem for problem in problems if reason_part in problem.reason]
