"""Money: parsing refuses what is not a two-decimal amount; formatting follows the voucher rules."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from disburse.foundation.money import (
    AMOUNT_FEN_MAX,
    MoneyError,
    fen_from_decimal,
    fen_from_float,
    fen_from_text,
    fen_from_value,
    format_capitals,
    format_yuan,
)


@pytest.mark.parametrize(
    "text, fen",
    [
        ("1234.5", 123450),
        ("1,234.50", 123450),
        ("¥1,234.50", 123450),
        ("￥ 3", 300),
        ("  -999.99\t", -99999),
        ("+0.01", 1),
        ("0", 0),
        (".5", 50),
        ("10000000000000", 10**15),
    ],
)
def test_text_amounts_as_people_write_them(text: str, fen: int) -> None:
    assert fen_from_text(text) == fen


@pytest.mark.parametrize(
    "text, reason",
    [
        ("1.234", "more than two decimal places"),
        ("nan", "not a number"),
        ("inf", "not a number"),
        ("abc", "not a number"),
        ("1,23.4", "not a number"),
        ("1e5", "not a number"),
        ("--1", "not a number"),
        ("", "not a number"),
        ("10000000000000.01", "larger than"),
    ],
)
def test_text_refusals_name_the_value(text: str, reason: str) -> None:
    with pytest.raises(MoneyError) as refused:
        fen_from_text(text)
    assert reason in str(refused.value)
    assert repr(text) in str(refused.value) or text in str(refused.value)


def test_decimal_refusals() -> None:
    assert fen_from_decimal(Decimal("16409.02")) == 1640902
    assert fen_from_decimal(Decimal("1.2300")) == 123  # trailing zeros are still two decimals
    for value in (Decimal("NaN"), Decimal("Infinity"), Decimal("0.001"), Decimal("1E+14")):
        with pytest.raises(MoneyError):
            fen_from_decimal(value)
    with pytest.raises(TypeError):
        fen_from_decimal(1.5)  # type: ignore[arg-type]


def test_spreadsheet_floats_within_a_billionth_of_two_decimals() -> None:
    assert fen_from_float(1234.5) == 123450
    assert fen_from_float(0.1 + 0.2) == 30  # 0.30000000000000004
    assert fen_from_float(16409.02) == 1640902
    assert fen_from_float(-0.07) == -7
    for value in (0.333, 1.005 + 1e-6, float("nan"), float("inf"), 2e13):
        with pytest.raises(MoneyError):
            fen_from_float(value)


def test_value_dispatch() -> None:
    assert fen_from_value(12) == 1200  # an int cell is whole yuan
    assert fen_from_value("12") == 1200
    assert fen_from_value(Decimal("0.5")) == 50
    with pytest.raises(MoneyError):
        fen_from_value(True)


def test_format_yuan() -> None:
    assert format_yuan(123450) == "1,234.50"
    assert format_yuan(-5) == "-0.05"
    assert format_yuan(0) == "0.00"
    assert format_yuan(100000000) == "1,000,000.00"
    assert format_yuan(123450, thousands=False) == "1234.50"


@pytest.mark.parametrize(
    "fen, capitals",
    [
        # The examples of DOMAIN.md and the issue.
        (1640902, "人民币壹万陆仟肆佰零玖元零贰分"),
        (10000, "人民币壹佰元整"),
        (5, "人民币伍分"),
        (8032, "人民币捌拾元叁角贰分"),
        # Worked by hand from the 支付结算办法 rules: one 零 for a run of zeros, 整 only after 元.
        (100, "人民币壹元整"),
        (1000, "人民币壹拾元整"),
        (1050, "人民币壹拾元伍角"),
        (101, "人民币壹元零壹分"),
        (10050000, "人民币壹拾万零伍佰元整"),
        (100000100, "人民币壹佰万零壹元整"),
        (10000000000, "人民币壹亿元整"),
        (10001000000, "人民币壹亿零壹万元整"),
        (0, "人民币零元整"),
        (-1640902, "人民币负壹万陆仟肆佰零玖元零贰分"),
    ],
)
def test_capitals(fen: int, capitals: str) -> None:
    assert format_capitals(fen) == capitals


def test_capitals_limit() -> None:
    with pytest.raises(MoneyError):
        format_capitals(AMOUNT_FEN_MAX + 1)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=-AMOUNT_FEN_MAX, max_value=AMOUNT_FEN_MAX))
def test_format_then_parse_round_trips(fen: int) -> None:
    assert fen_from_text(format_yuan(fen)) == fen
    assert fen_from_text(format_yuan(fen, thousands=False)) == fen


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=10**11))
def test_capitals_never_end_in_zero_and_only_yuan_takes_zheng(fen: int) -> None:
    text = format_capitals(fen)
    assert text.startswith("人民币")
    assert not text.endswith("零")
    if text.endswith("整"):
        assert text[-2] == "元"
    assert "零零" not in text
