"""Share registers, PV settlements and bank return files: one test per rule."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from importer_helpers import TODAY, only, write_csv, write_xls, write_xlsx

from disburse.importers.common import ImportContext
from disburse.importers.returns import RETURN_COLUMNS, parse_bank_return
from disburse.importers.settlements import SETTLEMENTS_COLUMNS, parse_settlements
from disburse.importers.shares import SHARES_COLUMNS, parse_shares

SHARES_HEADER = ["项目编号", "持有人类型", "持有人编号", "份额", "本金", "起始日期", "终止日期"]


def shares_file(tmp_path, *body, name="shares.csv"):
    rows = [SHARES_HEADER, *body]
    path = tmp_path / name
    return write_xlsx(path, rows) if name.endswith(".xlsx") else write_csv(path, rows)


def located(problems):
    return [(problem.row, problem.column, problem.severity) for problem in problems]


def test_shares_clean(tmp_path) -> None:
    parsed = parse_shares(
        shares_file(
            tmp_path,
            ["PV01", "农户", "H001", "3", "", "2020-01-01", ""],
            ["COOP1", "村集体", "611002100201", "4.115", "1,000,000.00", "2020/01/01", "2025-12-31"],
        )
    )
    assert parsed.problems == ()
    frame = parsed.frame
    assert tuple(frame.columns) == SHARES_COLUMNS
    assert frame["holder_type"].tolist() == ["household", "collective"]
    assert frame["units_e4"].tolist() == [30000, 41150]
    assert frame["principal_fen"].tolist() == [0, 100000000]
    assert frame["end_on"].iloc[1] == pd.Timestamp("2025-12-31")
    assert pd.isna(frame["end_on"].iloc[0])


def test_shares_negative_units_and_too_many_decimals(tmp_path) -> None:
    parsed = parse_shares(
        shares_file(
            tmp_path,
            ["PV01", "农户", "H001", "-3", "", "2020-01-01", ""],
            ["PV01", "农户", "H002", "0.12345", "", "2020-01-01", ""],
        )
    )
    assert [(problem.row, problem.column, problem.reason) for problem in parsed.problems] == [
        (2, "份额", "units is negative"),
        (3, "份额", "units has more than 4 decimal places"),
    ]


def test_shares_bad_principal(tmp_path) -> None:
    parsed = parse_shares(
        shares_file(
            tmp_path,
            ["PV01", "农户", "H001", "3", "1.005", "2020-01-01", ""],
            ["PV01", "农户", "H002", "3", "-10", "2020-01-01", ""],
        )
    )
    assert located(parsed.problems) == [(2, "本金", "error"), (3, "本金", "error")]
    assert parsed.problems[1].reason == "principal is negative" and parsed.problems[1].value == "-10.00"


def test_shares_end_before_start_and_bad_start(tmp_path) -> None:
    parsed = parse_shares(
        shares_file(
            tmp_path,
            ["PV01", "农户", "H001", "3", "", "2020-01-01", "2019-12-31"],
            ["PV01", "农户", "H002", "3", "", "2020-02-30", ""],
        )
    )
    assert located(parsed.problems) == [(2, "终止日期", "error"), (3, "起始日期", "error")]
    assert parsed.problems[0].reason == "end date is before the start date"


def test_shares_unknown_household_village_and_asset(tmp_path) -> None:
    path = shares_file(
        tmp_path,
        ["PV01", "农户", "H009", "3", "", "2020-01-01", ""],
        ["PV01", "村集体", "611002100299", "20", "", "2020-01-01", ""],
        ["PV77", "农户", "H001", "3", "", "2020-01-01", ""],
    )
    context = ImportContext(
        known_household_ids=frozenset({"H001"}),
        known_village_codes=frozenset({"611002100201"}),
        known_asset_ids=frozenset({"PV01"}),
    )
    parsed = parse_shares(path, context)
    assert located(parsed.problems) == [
        (2, "持有人编号", "error"),
        (3, "持有人编号", "error"),
        (4, "项目编号", "error"),
    ]
    assert parsed.problems[0].reason == "household is not in the household register"
    # None means "don't check": the same file passes without the registers.
    assert parse_shares(path).problems == ()


def test_shares_collective_holder_needs_a_village_code(tmp_path) -> None:
    parsed = parse_shares(shares_file(tmp_path, ["PV01", "村集体", "11002100201", "20", "", "2020-01-01", ""]))
    assert located(parsed.problems) == [(2, "持有人编号", "error")]


def test_shares_overlapping_holdings(tmp_path) -> None:
    parsed = parse_shares(
        shares_file(
            tmp_path,
            ["PV01", "农户", "H001", "3", "", "2020-01-01", "2020-12-31"],
            ["PV01", "农户", "H001", "2", "", "2021-01-01", ""],  # follows on: fine
            ["PV01", "农户", "H001", "1", "", "2022-06-01", "2022-06-30"],  # inside the open holding of row 3
            ["PV02", "农户", "H001", "1", "", "2020-01-01", ""],  # another asset: fine
            ["PV01", "农户", "H002", "1", "", "2020-01-01", ""],  # another holder: fine
        )
    )
    problems = only(parsed.problems, "overlaps")
    assert located(problems) == [(4, "持有人编号", "error")]
    assert problems[0].reason.startswith("holding overlaps row 3 ")


def test_shares_from_xlsx_with_number_units_and_date_cells(tmp_path) -> None:
    parsed = parse_shares(
        shares_file(tmp_path, ["PV01", "农户", "H001", 3, 1234.5, dt.datetime(2020, 1, 1), None], name="shares.xlsx")
    )
    assert parsed.problems == ()
    assert parsed.frame["units_e4"].tolist() == [30000]
    assert parsed.frame["principal_fen"].tolist() == [123450]


SETTLEMENT_HEADER = ["电站编号", "所属期", "上网电量", "收入类型", "结算金额", "到账日期"]


def test_settlements_clean(tmp_path) -> None:
    path = write_csv(
        tmp_path / "s.csv",
        [
            SETTLEMENT_HEADER,
            ["PV01", "2026-10", "12,345", "标杆电价", "4,567.89", "2026-11-10"],
            ["PV01", "2025Q3", "98765", "国家补贴", "¥1,000", ""],
        ],
    )
    parsed = parse_settlements(path, ImportContext(today=TODAY, known_station_ids=frozenset({"PV01"})))
    assert parsed.problems == ()
    frame = parsed.frame
    assert tuple(frame.columns) == SETTLEMENTS_COLUMNS
    assert frame["service_period"].tolist() == ["2026-10", "2025Q3"]
    assert frame["kwh"].tolist() == [12345, 98765]
    assert frame["revenue_type"].tolist() == ["base", "subsidy"]
    assert frame["amount_fen"].tolist() == [456789, 100000]
    assert frame["amount_fen"].dtype == "int64"


def test_settlements_unknown_station_future_period_and_bad_kwh(tmp_path) -> None:
    path = write_csv(
        tmp_path / "s.csv",
        [
            SETTLEMENT_HEADER,
            ["PV99", "2026-11", "1", "标杆电价", "1", ""],  # today's month is allowed; the station is not
            ["PV01", "2026-12", "1", "标杆电价", "1", ""],  # next month: future
            ["PV01", "2026Q4", "1.5", "国家补贴", "1", ""],  # Q4 starts in October: not future; kWh fractional
            ["PV01", "2026-10", "-5", "其他", "1", ""],
        ],
    )
    parsed = parse_settlements(path, ImportContext(today=TODAY, known_station_ids=frozenset({"PV01"})))
    assert located(parsed.problems) == [
        (2, "电站编号", "error"),
        (3, "所属期", "error"),
        (4, "上网电量", "error"),
        (5, "上网电量", "error"),
        (5, "收入类型", "error"),
    ]
    assert parsed.problems[1].reason == "service period is in the future (today is 2026-11-15)"


def test_settlements_xlsx_float_amounts(tmp_path) -> None:
    path = write_xlsx(
        tmp_path / "s.xlsx",
        [
            SETTLEMENT_HEADER,
            ["PV01", "2026-10", 100, "标杆电价", 1234.5, dt.datetime(2026, 11, 1)],
            ["PV01", "2026-09", 100, "标杆电价", 0.333, None],
        ],
    )
    parsed = parse_settlements(path, ImportContext(today=TODAY))
    assert parsed.frame["amount_fen"].tolist() == [123450, 0]
    assert located(parsed.problems) == [(3, "结算金额", "error")]
    assert "more than two decimal places" in parsed.problems[0].reason


RETURN_HEADER = ["账号", "户名", "金额", "处理结果", "失败原因", "摘要"]


def test_bank_return_clean_xls(tmp_path) -> None:
    path = write_xls(
        tmp_path / "r.xls",
        [
            ["代发回盘文件"],
            RETURN_HEADER,
            ["6228480012345678903", "张三", "1,200.00", "成功", "", "DB-2026-0001"],
            ["6217001234567893", "王五", 300, "失败", "户名不符", "DB-2026-0002"],
            ["合计", "", "1,500.00", "", "", ""],
        ],
    )
    parsed = parse_bank_return(path)
    assert parsed.problems == ()
    frame = parsed.frame
    assert tuple(frame.columns) == RETURN_COLUMNS
    assert frame["amount_fen"].tolist() == [120000, 30000]
    assert frame["status"].tolist() == ["success", "failure"]
    assert frame["reason"].tolist() == [None, "户名不符"]
    assert frame["source_row"].tolist() == [3, 4]


def test_bank_return_problems(tmp_path) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        [
            RETURN_HEADER,
            ["6.22848E+18", "张三", "10", "成功", "", "A"],
            ["6228480012345678903", "张三", "10", "处理中", "", "B"],
            ["6228480012345678903", "张三", "10", "失败", "", "C"],
            ["6228480012345678903", "张三", "0", "成功", "", "D"],
        ],
    )
    parsed = parse_bank_return(path)
    assert located(parsed.problems) == [
        (2, "账号", "error"),
        (3, "处理结果", "error"),
        (4, "失败原因", "warning"),
        (5, "金额", "error"),
    ]
    assert "scientific notation" in parsed.problems[0].reason
