"""The reading layer: encodings, separators, preambles, footers, aliases, workbooks, bank samples."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from importer_helpers import write_csv, write_xls, write_xlsx

from disburse.importers import reading
from disburse.importers.reading import ColumnSpec, TableSpec, normalise_header, read_table

SPEC = TableSpec(
    "测试",
    (
        ColumnSpec("姓名", "name"),
        ColumnSpec("金额", "amount"),
        ColumnSpec("日志号", "log_id", required=False),
        ColumnSpec("交易金额(收入)", "credit", required=False),
    ),
)
ROWS = [["姓名", "金额"], ["张三", "1.00"], ["李四", "2.50"]]
BANK_SAMPLES = Path("/work/shared/data/bank_samples")


def frame_rows(table) -> list[list[object]]:
    return table.frame.to_numpy().tolist()


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_encodings_are_detected(tmp_path, encoding, expected) -> None:
    table = read_table(write_csv(tmp_path / "a.csv", ROWS, encoding=encoding), SPEC)
    assert table.encoding == expected
    assert frame_rows(table) == [["张三", "1.00"], ["李四", "2.50"]]
    assert table.source_rows.tolist() == [2, 3]


def test_tab_separated_crlf(tmp_path) -> None:
    table = read_table(write_csv(tmp_path / "a.csv", ROWS, separator="\t", newline="\r\n"), SPEC)
    assert frame_rows(table) == [["张三", "1.00"], ["李四", "2.50"]]


def test_undecodable_bytes_are_refused_naming_the_offset(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    # b"\x80" is invalid as a UTF-8 start byte and as a single GB18030 byte.
    path.write_bytes("姓名,金额\n".encode("utf-8") + b"\x80\x80,1\n")
    table = read_table(path, SPEC)
    assert not table.readable
    reason = table.problems[0].reason
    assert "neither UTF-8" in reason and "byte offset 14" in reason


def test_preamble_footer_blank_rows_and_padding(tmp_path) -> None:
    rows = [
        ["明细查询文件"],
        [],
        ["卡号: 1234", "户名: x"],
        ["  姓 名\t", "其他", "金额 "],
        ["张三\t ", "x", " 1,234.50\t"],
        ["", "", ""],
        ["李四", "y", "2"],
        ["人民币合计", "", "1,236.50"],
    ]
    table = read_table(write_csv(tmp_path / "a.csv", rows), SPEC)
    assert table.header_row == 4
    assert table.columns_found == {"name": "姓 名", "amount": "金额"}
    assert frame_rows(table) == [["张三", "1,234.50"], ["李四", "2"]]
    assert table.source_rows.tolist() == [5, 7]


def test_english_aliases_any_case_any_order_and_blank_is_none(tmp_path) -> None:
    rows = [["AMOUNT", "extra", "Name"], ["3", "z", "王五"], ["", "z", "赵六"]]
    table = read_table(write_csv(tmp_path / "a.csv", rows), SPEC)
    assert list(table.frame.columns) == ["name", "amount"]  # the spec's order, not the file's
    assert table.frame["amount"].tolist() == ["3", None]
    assert table.frame["name"].tolist() == ["王五", "赵六"]


def test_header_normalisation() -> None:
    assert normalise_header("日 志 号") == normalise_header("日志号")
    assert normalise_header("交易金额（收入）") == normalise_header("交易金额(收入)")
    assert normalise_header(" Household_ID\t") == "household_id"


def test_missing_header_lists_the_most_header_like_row(tmp_path) -> None:
    table = read_table(write_csv(tmp_path / "a.csv", [["标题"], ["姓名", "备注"], ["张三", "x"]]), SPEC)
    assert not table.readable
    reason = table.problems[0].reason
    assert "missing 金额 (amount)" in reason
    assert "(row 2) has: 姓名, 备注" in reason


def test_row_limit_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(reading, "IMPORT_ROWS_MAX", 1)
    table = read_table(write_csv(tmp_path / "a.csv", ROWS), SPEC)
    assert not table.readable
    assert "IMPORT_ROWS_MAX is 1" in table.problems[0].reason


def test_file_size_limit_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(reading, "IMPORT_FILE_BYTES_MAX", 10)
    table = read_table(write_csv(tmp_path / "a.csv", ROWS), SPEC)
    assert "IMPORT_FILE_BYTES_MAX is 10" in table.problems[0].reason


def test_overlong_cell_is_an_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(reading, "CELL_CHARS_MAX", 5)
    table = read_table(write_csv(tmp_path / "a.csv", [["姓名", "金额"], ["张三张三张三", "1"]]), SPEC)
    assert [(problem.row, problem.column) for problem in table.problems] == [(2, "姓名")]
    assert table.frame["name"].tolist() == [None]


def test_xlsx_keeps_cell_types(tmp_path) -> None:
    rows = [["说明"], ["金额", "姓名"], [1234.5, "张三"], [12, dt.datetime(2026, 10, 31)], [None, None], ["合计", None]]
    table = read_table(write_xlsx(tmp_path / "a.xlsx", rows), SPEC)
    assert table.header_row == 2
    assert table.frame["amount"].tolist() == [1234.5, 12]
    assert table.frame["name"].tolist() == ["张三", dt.datetime(2026, 10, 31)]
    assert table.source_rows.tolist() == [3, 4]


def test_xls_converts_date_cells(tmp_path) -> None:
    rows = [["姓名", "金额"], ["张三", 7], [dt.date(2026, 10, 31), 1.25]]
    table = read_table(write_xls(tmp_path / "a.xls", rows), SPEC)
    assert table.encoding.startswith("xls")
    assert table.frame["amount"].tolist() == [7, 1.25]
    assert table.frame["name"].tolist() == ["张三", dt.datetime(2026, 10, 31)]


STATEMENT = TableSpec(
    "交易明细",
    (
        ColumnSpec("交易日期", "date", ("记账日期",)),
        ColumnSpec("余额", "balance", ("本次余额", "联机余额")),
        ColumnSpec("交易金额", "amount", ("金额",), required=False),
        ColumnSpec("记账金额(收入)", "credit", required=False),
        ColumnSpec("记账金额(支出)", "debit", required=False),
        ColumnSpec("日志号", "log_id", required=False),
    ),
)


def test_abc_sample_spaced_header_and_short_rows() -> None:
    table = read_table(BANK_SAMPLES / "abc_debit.csv", STATEMENT)
    assert table.columns_found["log_id"] == "日 志 号"
    assert len(table.frame) == 5
    assert table.frame.iloc[2].tolist() == ["20240103", "1943.12", "-12345.89", "111222333"]
    assert table.frame["amount"].iloc[4] == "+0.00"


def test_boc_sample_title_line_and_quoted_thousands() -> None:
    table = read_table(BANK_SAMPLES / "boc_debit.csv", STATEMENT)
    assert table.header_row == 2
    assert table.frame["amount"].iloc[7] == "-2,600.00"
    assert table.frame["balance"].iloc[0] == "3,240.28"
    assert table.source_rows[0] == 3


def test_cmb_sample() -> None:
    table = read_table(BANK_SAMPLES / "cmb_debit.csv", STATEMENT)
    assert table.frame.iloc[0].tolist() == ["2024-01-01", "1,271.66", "1,234.00"]
    assert len(table.frame) == 5


def test_cmb_layout_as_gbk_crlf(tmp_path) -> None:
    text = (BANK_SAMPLES / "cmb_debit.csv").read_text(encoding="utf-8").replace("\n", "\r\n")
    path = tmp_path / "cmb_gbk.csv"
    path.write_bytes(text.encode("gbk"))
    table = read_table(path, STATEMENT)
    assert table.encoding == "gb18030"
    assert table.frame.iloc[1].tolist() == ["2024-01-01", "271.66", "-1,000.00"]


def test_icbc_sample_preamble_tab_padding_and_total_row() -> None:
    table = read_table(BANK_SAMPLES / "icbc_debit_v2.csv", STATEMENT)
    assert table.header_row == 7
    assert len(table.frame) == 11  # 11 transactions; the blank line and 人民币合计 are skipped
    assert table.frame["date"].iloc[0] == "2023-05-02"
    assert table.frame["debit"].iloc[0] == "13.40"
    assert table.frame["credit"].iloc[0] is None
    assert table.frame["credit"].iloc[2] == "1,234.56"
    assert "人民币合计" not in table.frame["date"].tolist()
