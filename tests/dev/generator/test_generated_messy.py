"""The messy county holds the same content as the clean one of the same seed.

Each file is read back with pandas (CSV) or openpyxl (xlsx) and normalised by code written
here, independently of the generator: headers mapped back from aliases, cells stripped, dates
and amounts brought to one form, the preamble and the total row dropped."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest

ALIASES = {
    "county": "县",
    "town": "乡镇",
    "village": "行政村",
    "village_code": "村代码",
    "household_id": "户编号",
    "person_id": "人编号",
    "name": "姓名",
    "id_number": "证件号码",
    "relation": "与户主关系",
    "sex": "性别",
    "school_stage": "在校生状况",
    "boarding": "是否寄宿",
    "health": "健康状况",
    "household_type": "户类型",
    "poverty_status": "贫困状态",
    "enrolled_on": "识别日期",
    "exited_on": "脱贫日期",
    "died_on": "死亡日期",
    "bank_name": "开户银行",
    "account_no": "银行账号",
    "person_account_no": "个人银行账号",
    "phone": "联系电话",
    "asset_id": "项目编号",
    "holder_type": "持有人类型",
    "holder_id": "持有人编号",
    "units": "份额",
    "principal": "本金",
    "start_on": "起始日期",
    "end_on": "终止日期",
    "station_id": "电站编号",
    "service_period": "所属期",
    "kwh": "上网电量",
    "revenue_type": "收入类型",
    "amount": "结算金额",
    "received_on": "到账日期",
}
OLDER_NAMES = {
    "公民身份号码": "证件号码",
    "身份证号": "证件号码",
    "在校学生": "在校生状况",
    "镇(乡)": "乡镇",
    "乡(镇)": "乡镇",
    "县(市、区)": "县",
    "户主关系": "与户主关系",
    "贫困户属性": "户类型",
}
OLD_TYPE_VALUES = {"扶贫户": "一般贫困户", "扶贫低保户": "低保贫困户"}
DATE_COLUMNS = {"识别日期", "脱贫日期", "死亡日期", "起始日期", "终止日期", "到账日期", "出院日期"}
AMOUNT_COLUMNS = {"本金", "结算金额", "日工资标准", "医疗总费用", "医保报销金额", "个人自付金额"}


def canonical_header(header: str) -> str:
    header = header.strip()
    return OLDER_NAMES.get(header, ALIASES.get(header.lower(), header))


def normal_date(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    text = "" if value is None else str(value).strip()
    if not text:
        return ""
    match = re.fullmatch(r"(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?", text) or re.fullmatch(
        r"(\d{4})(\d{2})(\d{2})", text
    )
    assert match, f"not an accepted date form: {text!r}"
    return dt.date(*map(int, match.groups())).isoformat()


def normal_amount(value: object) -> str:
    if isinstance(value, float):
        return str(Decimal(repr(value)).quantize(Decimal("0.01")))
    text = "" if value is None else str(value).strip().lstrip("¥￥").replace(",", "")
    return "" if not text else str(Decimal(text).quantize(Decimal("0.01")))


def normalise(header: list[str], rows: list[list[object]]) -> pd.DataFrame:
    """Rows as a frame of canonical headers and canonical strings."""
    names = [canonical_header(name) for name in header]
    columns = {}
    for position, name in enumerate(names):
        cells = [row[position] for row in rows]
        if name in DATE_COLUMNS:
            values = [normal_date(cell) for cell in cells]
        elif name in AMOUNT_COLUMNS:
            values = [normal_amount(cell) for cell in cells]
        else:
            values = ["" if cell is None else str(cell).strip(" \t") for cell in cells]
        if header[position].strip() == "贫困户属性":
            values = [OLD_TYPE_VALUES.get(value, value) for value in values]
        columns[name] = values
    return pd.DataFrame(columns)


def read_clean(path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return normalise(list(frame.columns), frame.values.tolist())


def read_messy_csv(path) -> pd.DataFrame:
    raw = path.read_bytes()
    assert b"\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n"), "messy CSV uses CRLF"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="gbk")
    return normalise(list(frame.columns), frame.values.tolist())


def read_messy_xlsx(path) -> pd.DataFrame:
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    # A title line and a blank line come before the header.
    assert rows[0][0] and all(cell is None for cell in rows[0][1:])
    assert all(cell is None for cell in rows[1])
    header, body = rows[2], rows[3:]
    assert any(str(cell).strip() == "合计" for cell in body[-1] if cell is not None)
    body = body[:-1]
    return normalise([str(cell) for cell in header], body)


def same_content(clean: pd.DataFrame, messy: pd.DataFrame) -> None:
    assert sorted(messy.columns) == sorted(clean.columns)
    pd.testing.assert_frame_equal(messy[list(clean.columns)], clean)


def test_messy_files_have_the_expected_forms(messy_county):
    suffixes = [path.suffix for path in messy_county.register_paths]
    assert suffixes == [".csv", ".csv", ".xlsx"]
    assert messy_county.shares_path.suffix == ".xlsx"
    assert messy_county.settlements_path.suffix == ".xlsx"
    with pytest.raises(UnicodeDecodeError):
        messy_county.register_paths[0].read_bytes().decode("utf-8")


@pytest.mark.parametrize("number", [0, 1, 2])
def test_messy_register_equals_clean(clean_county, messy_county, number):
    clean = read_clean(clean_county.register_paths[number])
    path = messy_county.register_paths[number]
    messy = read_messy_xlsx(path) if path.suffix == ".xlsx" else read_messy_csv(path)
    same_content(clean, messy)


@pytest.mark.parametrize("name", ["shares_path", "settlements_path"])
def test_messy_spreadsheets_equal_clean(clean_county, messy_county, name):
    same_content(read_clean(getattr(clean_county, name)), read_messy_xlsx(getattr(messy_county, name)))


@pytest.mark.parametrize("name", ["forest_rangers_path", "public_welfare_jobs_path", "hospital_bills_path"])
def test_messy_subsidy_sheets_equal_clean(clean_county, messy_county, name):
    same_content(read_clean(getattr(clean_county, name)), read_messy_csv(getattr(messy_county, name)))


def test_messy_files_are_actually_messy(clean_county, messy_county):
    frame_header = pd.read_csv(
        messy_county.register_paths[0], dtype=str, keep_default_na=False, encoding="gbk", nrows=0
    )
    header = list(frame_header.columns)
    canonical = [canonical_header(name) for name in header]
    clean_order = list(pd.read_csv(clean_county.register_paths[0], dtype=str, nrows=0).columns)
    assert sorted(canonical) == sorted(clean_order) and canonical != clean_order, "columns are reordered"
    assert header != canonical, "some headers are aliases or older names"
    text = messy_county.register_paths[0].read_bytes().decode("gbk")
    assert "\t" in text or "  " in text, "some cells are padded"
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", text) and re.search(r"\d{4}/\d{2}/\d{2}", text)
    sheet = openpyxl.load_workbook(messy_county.settlements_path, read_only=True).worksheets[0]
    cells = [cell for row in sheet.iter_rows(values_only=True) for cell in row if isinstance(cell, str)]
    assert any(cell.lstrip().startswith(("¥", "￥")) for cell in cells)
    assert any(re.fullmatch(r"\s*\d{1,3}(,\d{3})+\.\d\d\s*", cell) for cell in cells)


def test_identifiers_stay_text_in_spreadsheets(messy_county):
    identifier_headers = {
        "证件号码",
        "村代码",
        "户编号",
        "人编号",
        "银行账号",
        "个人银行账号",
        "联系电话",
        "持有人编号",
    }
    for path in (messy_county.register_paths[2], messy_county.shares_path):
        sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        header = [canonical_header(str(cell)) for cell in rows[2]]
        for row in rows[3:-1]:
            for name, cell in zip(header, row):
                if name in identifier_headers and cell is not None:
                    assert isinstance(cell, str), (path.name, name, cell)
