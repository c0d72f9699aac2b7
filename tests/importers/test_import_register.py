"""The household register: one test per rule, each on its own small file.

Rows are numbered as the file shows them: the header is row 1, 张三 row 2, 李四 row 3, 王五 row 4.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from importer_helpers import (
    CARD_WANG,
    CARD_ZHANG,
    LI,
    REGISTER_HEADER,
    TODAY,
    WANG,
    ZHANG,
    cell,
    only,
    register_rows,
    resident_id,
    write_csv,
    write_register,
)

from disburse.importers.register import REGISTER_COLUMNS, parse_register


def parse(tmp_path, rows, **options):
    return parse_register(write_register(tmp_path / "register.csv", rows, **options), today=TODAY)


def located(problems):
    return [(problem.row, problem.column, problem.severity) for problem in problems]


def test_clean_register_gives_contract_frame(tmp_path) -> None:
    parsed = parse(tmp_path, register_rows())
    assert parsed.problems == ()
    frame = parsed.frame
    assert tuple(frame.columns) == REGISTER_COLUMNS
    assert frame["id_number"].tolist() == [ZHANG, LI, WANG]
    assert frame["birth_date"].tolist() == [
        pd.Timestamp("1970-01-01"),
        pd.Timestamp("1972-02-02"),
        pd.Timestamp("1980-03-03"),
    ]
    assert frame["enrolled_on"].tolist() == [pd.Timestamp("2016-03-01")] * 2 + [pd.Timestamp("2017-05-20")]
    assert frame["account_no"].tolist() == [CARD_ZHANG, None, CARD_WANG]
    assert frame["boarding"].tolist() == [False, False, False]
    assert frame["person_number"].tolist() == ["P1", "P2", "P3"]
    assert frame["source_row"].tolist() == [2, 3, 4]
    assert frame["village_group"].tolist() == [None, None, None]
    assert frame["phone"].tolist() == ["13800000001", None, None]


def test_resident_id_check_character(tmp_path) -> None:
    wrong = ZHANG[:17] + ("0" if ZHANG[17] != "0" else "1")
    parsed = parse(tmp_path, cell(register_rows(), 2, "证件号码", wrong))
    problems = only(parsed.problems, "check character")
    assert located(problems) == [(2, "证件号码", "error")]
    assert problems[0].value == wrong
    assert parsed.refused


def test_resident_id_birth_date_must_be_a_calendar_date(tmp_path) -> None:
    parsed = parse(tmp_path, cell(register_rows(), 2, "证件号码", resident_id("610102", "19700230", "011")))
    assert located(only(parsed.problems, "not a calendar date")) == [(2, "证件号码", "error")]


def test_resident_id_wrong_length(tmp_path) -> None:
    parsed = parse(tmp_path, cell(register_rows(), 3, "证件号码", LI[1:]))
    assert located(only(parsed.problems, "17 characters, not 18")) == [(3, "证件号码", "error")]


def test_sex_must_agree_with_the_id(tmp_path) -> None:
    parsed = parse(tmp_path, cell(register_rows(), 2, "性别", "女"))
    problems = only(parsed.problems, "does not agree with the resident ID")
    assert located(problems) == [(2, "性别", "error")]
    assert problems[0].value == "女"


def test_blank_sex_is_taken_from_the_id(tmp_path) -> None:
    parsed = parse(tmp_path, cell(register_rows(), 3, "性别", ""))
    assert parsed.problems == ()
    assert parsed.frame["sex"].tolist() == ["男", "女", "男"]


def test_village_code_has_twelve_digits(tmp_path) -> None:
    parsed = parse(tmp_path, cell(register_rows(), 4, "村代码", "11002100201"))
    assert located(only(parsed.problems, "11 characters, not 12")) == [(4, "村代码", "error")]


def test_household_without_head(tmp_path) -> None:
    parsed = parse(tmp_path, cell(register_rows(), 4, "与户主关系", "配偶"))
    problems = only(parsed.problems, "no 户主")
    assert located(problems) == [(4, "与户主关系", "error")]
    assert problems[0].value == "H002"


def test_household_with_two_heads(tmp_path) -> None:
    parsed = parse(tmp_path, cell(register_rows(), 3, "与户主关系", "户主"))
    problems = only(parsed.problems, "second 户主")
    assert located(problems) == [(3, "与户主关系", "error")]
    assert "the first is on row 2" in problems[0].reason


def test_nobody_in_two_households(tmp_path) -> None:
    rows = register_rows()
    extra = list(rows[1])
    extra[REGISTER_HEADER.index("户编号")] = "H002"
    rows.append(extra)  # 李四 again, now in H002, on row 5
    parsed = parse(tmp_path, rows)
    problems = only(parsed.problems, "two households")
    assert located(problems) == [(5, "证件号码", "error")]
    assert problems[0].reason == "the same person is in two households: H001 (row 3) and H002"


def test_no_id_twice_in_one_household(tmp_path) -> None:
    rows = register_rows()
    rows.append(list(rows[1]))  # 李四 twice in H001
    parsed = parse(tmp_path, rows)
    problems = only(parsed.problems, "appears twice")
    assert located(problems) == [(5, "证件号码", "error")]
    assert "first on row 3" in problems[0].reason


def test_death_before_birth(tmp_path) -> None:
    parsed = parse(tmp_path, cell(register_rows(), 2, "死亡日期", "1969-12-31"))
    problems = only(parsed.problems, "before the birth date")
    assert located(problems) == [(2, "死亡日期", "error")]
    assert problems[0].value == "1969-12-31"


def test_death_in_the_future(tmp_path) -> None:
    parsed = parse(tmp_path, cell(register_rows(), 3, "死亡日期", "2026-11-16"))  # today is 2026-11-15
    assert located(only(parsed.problems, "in the future")) == [(3, "死亡日期", "error")]
    parsed = parse(tmp_path, cell(register_rows(), 3, "死亡日期", "2026-11-15"))
    assert parsed.problems == ()
    assert parsed.frame["died_on"].iloc[1] == pd.Timestamp("2026-11-15")


def test_exit_before_enrolment(tmp_path) -> None:
    parsed = parse(tmp_path, cell(register_rows(), 2, "脱贫日期", "2016-02-29"))
    assert located(only(parsed.problems, "before the enrolment date")) == [(2, "脱贫日期", "error")]


def test_invalid_enrolment_date(tmp_path) -> None:
    parsed = parse(tmp_path, cell(register_rows(), 4, "识别日期", "2017-13-01"))
    assert located(parsed.problems) == [(4, "识别日期", "error")]


def test_luhn_failure_is_only_a_warning(tmp_path) -> None:
    broken = CARD_ZHANG[:-1] + str((int(CARD_ZHANG[-1]) + 1) % 10)
    parsed = parse(tmp_path, cell(register_rows(), 2, "银行账号", broken))
    assert located(parsed.problems) == [(2, "银行账号", "warning")]
    assert not parsed.refused
    assert parsed.frame["account_no"].iloc[0] == broken


def test_passbook_account_is_only_a_warning(tmp_path) -> None:
    parsed = parse(tmp_path, cell(register_rows(), 4, "银行账号", "2705010123456"))
    assert located(parsed.problems) == [(4, "银行账号", "warning")]


def test_head_row_needs_bank_and_account(tmp_path) -> None:
    rows = cell(register_rows(), 4, "开户银行", "")
    cell(rows, 2, "银行账号", "")
    parsed = parse(tmp_path, rows)
    assert located(only(parsed.problems, "required on the 户主 row")) == [
        (2, "银行账号", "error"),
        (4, "开户银行", "error"),
    ]


def test_enumerated_values_are_checked(tmp_path) -> None:
    rows = register_rows()
    cell(rows, 2, "与户主关系", "本人")
    cell(rows, 3, "在校生状况", "大学")
    cell(rows, 3, "健康状况", "良好")
    cell(rows, 4, "户类型", "贫困户")
    cell(rows, 4, "贫困状态", "脱贫")
    cell(rows, 4, "是否寄宿", "Y")
    parsed = parse(tmp_path, rows)
    enumerated = only(parsed.problems, "is not one of")
    assert sorted((problem.row, problem.column) for problem in enumerated) == [
        (2, "与户主关系"),
        (3, "健康状况"),
        (3, "在校生状况"),
        (4, "户类型"),
        (4, "是否寄宿"),
        (4, "贫困状态"),
    ]


def test_required_value_blank(tmp_path) -> None:
    parsed = parse(tmp_path, cell(register_rows(), 3, "姓名", ""))
    assert [(problem.row, problem.column, problem.reason) for problem in parsed.problems] == [
        (3, "姓名", "姓名 is required and is blank"),
    ]


def test_household_in_two_villages(tmp_path) -> None:
    rows = cell(register_rows(), 3, "村代码", "611002100202")
    parsed = parse(tmp_path, rows)
    problems = only(parsed.problems, "a household lives in one village")
    assert located(problems) == [(3, "村代码", "error")]
    assert problems[0].value == "611002100202"


def test_alternative_headers_and_values(tmp_path) -> None:
    header = list(REGISTER_HEADER)
    renames = {
        "县": "县(市、区)",
        "乡镇": "镇（乡）",
        "证件号码": "公民身份号码",
        "与户主关系": "户主关系",
        "户类型": "贫困户属性",
        "在校生状况": "在校学生",
    }
    header = [renames.get(name, name) for name in header] + ["村民小组"]
    rows = register_rows()
    cell(rows, 2, "户类型", "扶贫户")
    cell(rows, 4, "户类型", "扶贫低保户")
    cell(rows, 3, "在校生状况", "普通高中")
    rows = [row + [f"{index}组"] for index, row in enumerate(rows, start=1)]
    parsed = parse(tmp_path, rows, header=header)
    assert parsed.problems == ()
    assert parsed.frame["household_type"].tolist() == ["一般贫困户", "一般贫困户", "低保贫困户"]
    assert parsed.frame["village_group"].tolist() == ["1组", "2组", "3组"]
    assert parsed.frame["school_stage"].tolist() == [None, "普通高中", None]
    assert parsed.frame["county"].tolist() == ["商州区"] * 3


def test_missing_required_column_refuses_the_file(tmp_path) -> None:
    header = [name for name in REGISTER_HEADER if name != "村代码"]
    rows = [[value for name, value in zip(REGISTER_HEADER, row) if name != "村代码"] for row in register_rows()]
    parsed = parse(tmp_path, rows, header=header)
    assert parsed.refused and len(parsed.frame) == 0
    assert "missing 村代码 (village_code)" in parsed.problems[0].reason
    assert tuple(parsed.frame.columns) == REGISTER_COLUMNS


def test_messy_file_gives_the_same_frame_as_a_clean_one(tmp_path) -> None:
    clean = parse_register(write_register(tmp_path / "clean.csv"), today=TODAY)
    aliases = {
        "县": "County",
        "村代码": "VILLAGE_CODE",
        "证件号码": "身份证号",
        "姓名": "name",
        "识别日期": "enrolled_on",
    }
    order = list(reversed(range(len(REGISTER_HEADER))))
    header = [aliases.get(REGISTER_HEADER[index], REGISTER_HEADER[index]) for index in order] + ["备注"]
    body = [[f" {row[index]}\t" if row[index] else "  " for index in order] + ["无关"] for row in register_rows()]
    rows = [["建档立卡人员信息导出"], ["导出日期: 2026-11-01"], [], header, *body, ["合计", "3人"]]
    messy_path = write_csv(tmp_path / "messy.csv", rows, encoding="gbk", newline="\r\n")
    messy = parse_register(messy_path, today=TODAY)
    assert messy.problems == ()
    assert messy.encoding == "gb18030"
    pd.testing.assert_frame_equal(messy.frame.drop(columns="source_row"), clean.frame.drop(columns="source_row"))
    assert messy.frame["source_row"].tolist() == [5, 6, 7]


def test_xlsx_register_number_cells_and_date_cells(tmp_path) -> None:
    rows = register_rows()
    assert ZHANG.isdigit()
    cell(rows, 2, "证件号码", int(ZHANG))  # a number cell
    cell(rows, 3, "识别日期", dt.datetime(2016, 3, 1))  # a real date cell
    cell(rows, 4, "村代码", 611002100201)  # a number cell
    parsed = parse_register(write_register(tmp_path / "register.xlsx", rows), today=TODAY)
    assert located([problem for problem in parsed.problems if "number cell" in problem.reason]) == [
        (2, "证件号码", "error"),
        (4, "村代码", "error"),
    ]
    assert parsed.frame["enrolled_on"].iloc[1] == pd.Timestamp("2016-03-01")


def test_xls_register(tmp_path) -> None:
    rows = register_rows()
    cell(rows, 4, "识别日期", dt.date(2017, 5, 20))
    parsed = parse_register(write_register(tmp_path / "register.xls", rows), today=TODAY)
    assert parsed.problems == ()
    assert parsed.frame["enrolled_on"].iloc[2] == pd.Timestamp("2017-05-20")
    assert parsed.frame["id_number"].tolist() == [ZHANG, LI, WANG]


def test_many_identical_mistakes_are_capped_with_a_count(tmp_path, monkeypatch) -> None:
    from disburse.foundation import errors

    monkeypatch.setattr(errors, "PROBLEMS_PER_CHECK_MAX", 2)
    rows = register_rows()
    for row in (2, 3, 4):
        cell(rows, row, "村代码", "123")
    parsed = parse(tmp_path, rows)
    village = [problem for problem in parsed.problems if problem.column == "村代码"]
    assert [problem.row for problem in village] == [2, 3, None]
    assert village[-1].reason.startswith("1 more rows: ")


def test_tab_separated_utf8_bom_register(tmp_path) -> None:
    parsed = parse(tmp_path, register_rows(), encoding="utf-8-sig", separator="\t")
    assert parsed.problems == ()
    assert parsed.encoding == "utf-8-sig"
    assert np.array_equal(parsed.frame["source_row"].to_numpy(), [2, 3, 4])
