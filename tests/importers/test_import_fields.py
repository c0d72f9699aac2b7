"""Field parsers: dates, amounts, identifiers, share units, periods, enumerations."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from disburse.importers.fields import (
    ACCOUNT_NUMBER,
    RESIDENT_ID,
    VILLAGE_CODE,
    FieldSource,
    luhn_valid,
    parse_amounts_fen,
    parse_dates,
    parse_enum,
    parse_identifiers,
    parse_integers,
    parse_service_periods,
    parse_units_e4,
    resident_id_checks,
)


def source(count: int) -> FieldSource:
    return FieldSource("f.csv", "列", np.arange(2, 2 + count))


def day(text: str) -> np.datetime64:
    return np.datetime64(text, "s")


def test_dates_in_every_accepted_form() -> None:
    values = [
        "2026-10-31",
        "2026/10/31",
        "20261031",
        "2026年10月31日",
        dt.datetime(2026, 10, 31),
        dt.date(2026, 10, 31),
        None,
    ]
    dates, problems = parse_dates(values, source(len(values)))
    assert problems == []
    assert dates[:6].tolist() == [dt.datetime(2026, 10, 31)] * 6
    assert np.isnat(dates[6])


def test_invalid_dates_are_errors_with_row() -> None:
    values = ["2026-02-30", "31/10/2026", 45000]
    dates, problems = parse_dates(values, source(3), what="识别日期")
    assert [(problem.row, problem.value) for problem in problems] == [
        (2, "2026-02-30"),
        (3, "31/10/2026"),
        (4, "45000"),
    ]
    assert problems[0].reason == "识别日期 is not a calendar date"
    assert np.isnat(dates).all()


def test_required_blank_date_is_an_error() -> None:
    _, problems = parse_dates([None], source(1), required=True, what="识别日期")
    assert [(problem.row, problem.reason) for problem in problems] == [(2, "识别日期 is required and is blank")]


def test_amount_text_shapes_to_fen() -> None:
    values = ["1,234.50", "¥12", "￥-3.5", "-0.01", "+7", "1234567.89", "0", "1.", 1234.5, 12]
    fen, problems = parse_amounts_fen(values, source(len(values)))
    assert problems == []
    assert fen.tolist() == [123450, 1200, -350, -1, 700, 123456789, 0, 100, 123450, 1200]
    assert fen.dtype == np.int64


def test_bad_amounts_are_errors() -> None:
    values = [0.333, "1.234", "1,23.4", "6.1E+3", "abc", dt.date(2026, 1, 1)]
    fen, problems = parse_amounts_fen(values, source(len(values)))
    assert [problem.row for problem in problems] == [2, 3, 4, 5, 6, 7]
    assert "more than two decimal places" in problems[0].reason
    assert "scientific notation" in problems[3].reason
    assert fen.tolist() == [0] * 6


def test_full_width_digits_are_not_an_amount() -> None:
    # A full-width "１２" is a typing slip (an IME left in full-width mode): reported, not read.
    values = ["１２", "1２.00", "¥１,２３４.５０"]
    fen, problems = parse_amounts_fen(values, source(len(values)))
    assert [problem.row for problem in problems] == [2, 3, 4]
    assert all("is not a number of yuan" in problem.reason for problem in problems)
    assert fen.tolist() == [0, 0, 0]


def test_blank_amount_optional_is_zero_required_is_error() -> None:
    fen, problems = parse_amounts_fen([None], source(1), required=False)
    assert fen.tolist() == [0] and problems == []
    _, problems = parse_amounts_fen([None], source(1), required=True, what="结算金额")
    assert problems[0].reason == "结算金额 is required and is blank"


AMOUNT_FORMS = st.sampled_from(["plain", "two_decimals", "thousands", "yen", "fullwidth_yen", "plus", "padded"])


def written(fen: int, form: str) -> str:
    """Write an amount of fen as a person would, computed with integer arithmetic only."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    if form == "plain":
        return f"{sign}{yuan}" + (f".{cents:02d}".rstrip("0").rstrip(".") if cents else "")
    if form == "two_decimals":
        return f"{sign}{yuan}.{cents:02d}"
    if form == "thousands":
        return f"{sign}{yuan:,}.{cents:02d}"
    if form == "yen":
        return f"{sign}¥{yuan:,}.{cents:02d}"
    if form == "fullwidth_yen":
        return f"{sign}￥{yuan}.{cents:02d}"
    if form == "plus":
        return f"+{yuan}.{cents:02d}" if fen >= 0 else f"-{yuan}.{cents:02d}"
    return f" \t{sign}{yuan}.{cents:02d}\t "


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1), AMOUNT_FORMS)
def test_any_written_amount_parses_back_to_its_fen(fen: int, form: str) -> None:
    parsed, problems = parse_amounts_fen([written(fen, form)], source(1))
    assert problems == []
    assert int(parsed[0]) == fen


def test_identifiers_must_be_text_of_the_right_width() -> None:
    values = ["611002100201", 611002100201, "61100210020", "6.11002E+11", "61100210020A", None]
    codes, problems = parse_identifiers(values, source(len(values)), VILLAGE_CODE, required=False)
    assert codes.tolist() == ["611002100201", None, None, None, None, None]
    reasons = {problem.row: problem.reason for problem in problems}
    assert set(reasons) == {3, 4, 5, 6}
    assert "number cell" in reasons[3]
    assert "11 characters, not 12" in reasons[4]
    assert "scientific notation" in reasons[5]
    assert "other than the digits" in reasons[6]


def test_resident_id_lowercase_x_is_normalised_and_checks_vectorised() -> None:
    ids, problems = parse_identifiers(["11010519491231002x"], source(1), RESIDENT_ID)
    assert problems == [] and ids.tolist() == ["11010519491231002X"]
    # The GB 11643 example 11010519491231002X is valid; changing the check character breaks it.
    bad, births, male = resident_id_checks(np.array(["11010519491231002X", "110105194912310021", None], dtype=object))
    assert bad.tolist() == [False, True, False]
    assert births[0] == day("1949-12-31")
    assert male.tolist()[:2] == [False, False]  # sequence 002 is even


def test_account_numbers_and_luhn() -> None:
    numbers, problems = parse_identifiers(["6228480012345678903", "6228 4800"], source(2), ACCOUNT_NUMBER)
    assert numbers.tolist() == ["6228480012345678903", None]
    assert problems[0].row == 3
    # 79927398713 is the textbook Luhn example; 79927398710 fails it.
    assert luhn_valid(np.array(["79927398713", "79927398710", None], dtype=object)).tolist() == [True, False, True]


def test_units_to_ten_thousandths() -> None:
    values = ["3", "4.115", "0.0001", 20, 3.5, "1.00001", "-1", "x"]
    units, problems = parse_units_e4(values, source(len(values)))
    assert units.tolist() == [30000, 41150, 1, 200000, 35000, 0, 0, 0]
    assert [(problem.row, problem.reason) for problem in problems] == [
        (7, "units has more than 4 decimal places"),
        (8, "units is negative"),
        (9, "units is not a number"),
    ]


def test_service_periods() -> None:
    values = ["2026-10", "2026Q3", "2026q1", "2026-13", "2026Q5", dt.datetime(2026, 10, 1)]
    periods, problems = parse_service_periods(values, source(len(values)))
    assert periods.tolist() == ["2026-10", "2026Q3", "2026Q1", None, None, "2026-10"]
    assert [problem.row for problem in problems] == [5, 6]


def test_integers_and_enumerations() -> None:
    numbers, problems = parse_integers(["12,345", 7, 8.0, "1.5", "-2"], source(5), what="上网电量")
    assert numbers.tolist() == [12345, 7, 8, 0, 0]
    assert [problem.row for problem in problems] == [5, 6]
    values, problems = parse_enum(["扶贫户", "其他"], source(2), {"扶贫户": "一般贫困户"}, what="户类型")
    assert values.tolist() == ["一般贫困户", None]
    assert problems[0].reason == "户类型 is not one of: 扶贫户"
