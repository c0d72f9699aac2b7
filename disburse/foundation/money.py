"""Money: integer fen in, integer fen out.

Every amount inside the engine is an ``int`` number of fen (1 yuan = 100 fen). Decimal appears
only here, at the edges: parsing what a user or a bank wrote, and formatting what we show them.
A float is accepted only when a spreadsheet already stored the amount as one, and only when it
lies within 1e-9 of a two-decimal amount; it is converted through Decimal and never kept.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

from disburse.foundation.i18n import tr

FEN_PER_YUAN = 100
# 10^13 yuan is far above any county's or province's budget; anything larger is a typo or a
# corrupted cell, and it keeps every sum of a million amounts inside a signed 64-bit integer.
AMOUNT_YUAN_MAX = 10**13
AMOUNT_FEN_MAX = AMOUNT_YUAN_MAX * FEN_PER_YUAN
# A spreadsheet stores 1234.5 as the binary float nearest to it; the error is about 1e-13 for
# amounts of this size, so a tolerance of 1e-9 accepts every honest cell and refuses 0.333.
FLOAT_TOLERANCE = 1e-9

# ASCII digits only (re.ASCII): Python's \d and Decimal also read full-width "１２" and other
# scripts' digits, which an amount never legitimately holds.
_AMOUNT_TEXT = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d*)?$|^[+-]?\.\d+$", re.ASCII)


class MoneyError(ValueError):
    """A value that is not an acceptable amount of money; the message names the value."""


def _too_large(shown: str) -> MoneyError:
    return MoneyError(tr("amount {value} is larger than {limit} yuan", value=shown, limit=f"{AMOUNT_YUAN_MAX:,}"))


def fen_from_decimal(value: Decimal) -> int:
    """Convert a Decimal number of yuan with at most two decimals into fen.

    Refuses NaN, infinities, more than two decimal places and magnitudes over 10^13 yuan.
    """
    if not isinstance(value, Decimal):
        raise TypeError(f"fen_from_decimal takes a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise MoneyError(tr("amount {value} is not a finite number", value=str(value)))
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent < -2 and value != value.quantize(Decimal("0.01")):
        raise MoneyError(tr("amount {value} has more than two decimal places", value=str(value)))
    if abs(value) > AMOUNT_YUAN_MAX:
        raise _too_large(str(value))
    fen = int(value * FEN_PER_YUAN)
    assert Decimal(fen) == value * FEN_PER_YUAN
    return fen


def fen_from_text(text: str) -> int:
    """Parse a yuan amount as people write it: ``1234.5``, ``1,234.50``, ``¥1,234.50``, ``-3``.

    Surrounding spaces and tabs, a leading ``¥``/``￥`` and thousands separators are accepted;
    anything else (letters, two signs, ``1,23.4``) is refused with a message naming the text.
    """
    if not isinstance(text, str):
        raise TypeError(f"fen_from_text takes a str, not {type(text).__name__}")
    cleaned = text.strip().replace("\t", "")
    sign = ""
    if cleaned and cleaned[0] in "+-":
        sign, cleaned = cleaned[0], cleaned[1:].lstrip()
    if cleaned[:1] in ("¥", "￥"):
        cleaned = cleaned[1:].strip()
    candidate = sign + cleaned
    if not candidate or not _AMOUNT_TEXT.match(candidate):
        raise MoneyError(tr("amount {value} is not a number of yuan", value=repr(text)))
    try:
        value = Decimal(candidate.replace(",", ""))
    except InvalidOperation as error:  # pragma: no cover - the pattern already guards this
        raise MoneyError(tr("amount {value} is not a number of yuan", value=repr(text))) from error
    return fen_from_decimal(value)


def fen_from_float(value: float) -> int:
    """Accept a float only when it is a two-decimal amount a spreadsheet stored in binary.

    ``1234.5`` (stored as 1234.49999999999...) becomes 123450 fen; ``0.333`` is refused.
    """
    if isinstance(value, bool) or not isinstance(value, float):
        raise TypeError(f"fen_from_float takes a float, not {type(value).__name__}")
    if not math.isfinite(value):
        raise MoneyError(tr("amount {value} is not a finite number", value=repr(value)))
    if abs(value) > AMOUNT_YUAN_MAX:
        raise _too_large(repr(value))
    rounded = float_as_decimal(value, 2)
    if rounded is None or abs(float(rounded) - value) > FLOAT_TOLERANCE:
        raise MoneyError(tr("amount {value} has more than two decimal places", value=repr(value)))
    return fen_from_decimal(rounded)


def float_as_decimal(value: float, decimals: int) -> Decimal | None:
    """The ``decimals``-place decimal a spreadsheet's binary float stands for, or None when the
    float lies further than 1e-9 from every such decimal. repr gives the shortest decimal that
    round-trips; quantising it and comparing decides."""
    exact = Decimal(repr(value))
    rounded = exact.quantize(Decimal(1).scaleb(-decimals))
    return rounded if abs(exact - rounded) <= Decimal("1e-9") else None


def fen_from_value(value: object) -> int:
    """Parse any cell value that may hold an amount: str, int (yuan), Decimal or float."""
    if isinstance(value, bool):
        raise MoneyError(tr("amount {value} is not a number of yuan", value=repr(value)))
    if isinstance(value, str):
        return fen_from_text(value)
    if isinstance(value, int):
        return fen_from_decimal(Decimal(value))
    if isinstance(value, Decimal):
        return fen_from_decimal(value)
    if isinstance(value, float):
        return fen_from_float(value)
    # numpy scalars and the like: go through their Python value, never through float arithmetic.
    item = getattr(value, "item", None)
    if callable(item):
        return fen_from_value(item())
    raise MoneyError(tr("amount {value} is not a number of yuan", value=repr(value)))


def yuan_decimal(amount_fen: int) -> Decimal:
    """The exact Decimal number of yuan for an amount in fen (for spreadsheets and JSON)."""
    return Decimal(amount_fen).scaleb(-2)


def format_yuan(amount_fen: int, *, thousands: bool = True) -> str:
    """Format fen as yuan with two decimals: ``123450 -> '1,234.50'``, ``-5 -> '-0.05'``."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise TypeError(f"format_yuan takes int fen, not {type(amount_fen).__name__}")
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), FEN_PER_YUAN)
    yuan_text = f"{yuan:,}" if thousands else str(yuan)
    return f"{sign}{yuan_text}.{fen:02d}"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_GROUP_UNITS = ("", "万", "亿", "万亿")


def _capitals_of_integer(number: int) -> str:
    """Chinese financial capitals for a whole positive number of yuan (without 元).

    Digits are read from the highest; a run of zeros between written digits is written as one
    零, and a group unit (万, 亿) is written after any group that has a non-zero digit.
    """
    assert number > 0
    digits = str(number)
    assert len(digits) <= 4 * len(_GROUP_UNITS)
    parts: list[str] = []
    zero_pending = False
    group_has_digit = False
    for index, character in enumerate(digits):
        digit = int(character)
        position = len(digits) - 1 - index
        small_unit, group = position % 4, position // 4
        if digit == 0:
            zero_pending = True
        else:
            if zero_pending and parts:
                parts.append("零")
            zero_pending = False
            group_has_digit = True
            parts.append(_DIGITS[digit] + _SMALL_UNITS[small_unit])
        if small_unit == 0:
            if group_has_digit and group > 0:
                parts.append(_GROUP_UNITS[group])
            group_has_digit = False
    return "".join(parts)


def format_capitals(amount_fen: int) -> str:
    """The 大写金额 printed on a voucher.

    ``1640902 -> 人民币壹万陆仟肆佰零玖元零贰分``; ``10000 -> 人民币壹佰元整``; ``5 -> 人民币伍分``;
    ``8032 -> 人民币捌拾元叁角贰分``; a negative amount is prefixed 负; 整 only follows 元.
    """
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise TypeError(f"format_capitals takes int fen, not {type(amount_fen).__name__}")
    if abs(amount_fen) > AMOUNT_FEN_MAX:
        raise _too_large(format_yuan(amount_fen))
    sign = "负" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), FEN_PER_YUAN)
    jiao, fen_digit = divmod(fen, 10)
    if yuan == 0 and fen == 0:
        return "人民币零元整"
    text = ""
    if yuan:
        text = _capitals_of_integer(yuan) + "元"
    if fen == 0:
        return f"人民币{sign}{text}整"
    if jiao:
        # 零 is written only where the 角 is missing between yuan and fen (壹元零贰分).
        text += _DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    if fen_digit:
        text += _DIGITS[fen_digit] + "分"
    return f"人民币{sign}{text}"
