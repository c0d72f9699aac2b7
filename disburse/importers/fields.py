"""Field parsers: turn a column of raw cells into typed values plus problems.

Each parser takes the column's values (object array or Series: ``str`` from CSV; ``str``, int,
float, datetime or bool from a workbook; None for blank) and a ``FieldSource`` naming the file,
the header as written and each value's row number. It returns the typed values and a list of
``ImportProblem``; it never raises for a user's data. An invalid value becomes the column's
missing value (None, NaT or 0) and the problem says why.

Speed: columns are factorised first (a C hash pass) and each distinct value is parsed once; a
register of a million people has only thousands of distinct dates, amounts or enumerations.
Amounts in the common text shapes are converted with vectorised string and integer operations;
odd shapes go through ``ledger_core.money``. No float arithmetic touches money.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd

from disburse.foundation import money
from disburse.foundation.errors import ImportProblem, Severity, problems_at
from disburse.foundation.i18n import join_list, tr, tr_noop

# A date outside these years is a typo (0026-10-31, 20261-10-3) in any register or bank file.
DATE_YEAR_MIN = 1900
DATE_YEAR_MAX = 2099
# Share units are kept as integer ten-thousandths (contracts.md: 4.115 shares is 41150).
UNITS_SCALE = 10_000
UNITS_DECIMALS_MAX = 4
# Excel keeps 15 significant digits; a longer number cell has already lost digits.
SPREADSHEET_DIGITS_MAX = 15
# Amounts with up to 13 integer digits stay below money.AMOUNT_YUAN_MAX and inside int64 as fen;
# longer ones go through ledger_core.money, which refuses them with its own message.
_FAST_AMOUNT_INTEGER_DIGITS_MAX = 13

_DATE_TEXT = re.compile(
    r"^(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|年(\d{1,2})月(\d{1,2})日?|(\d{2})(\d{2}))"
    r"(?:[ T]0{1,2}:00(?::00(?:\.0+)?)?)?$"
)
# ASCII digits only: Python's \d also takes full-width and other scripts' digits, which an
# amount never legitimately holds (a full-width "１２" is a typing slip to report, not to read).
_FAST_AMOUNT = re.compile(
    r"^(?P<sign>[+-]?)[¥￥]?(?P<yuan>\d{1,%d}|\d{1,3}(?:,\d{3}){1,4})(?:\.(?P<fen>\d{0,2}))?$"
    % _FAST_AMOUNT_INTEGER_DIGITS_MAX,
    re.ASCII,
)
_SCIENTIFIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)[eE][+-]?\d+$")
_UNITS_TEXT = re.compile(r"^([+-]?)(\d+)(?:\.(\d*))?$")
_INTEGER_TEXT = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)$")
_MONTH_PERIOD = re.compile(r"^(\d{4})[-/年](\d{1,2})月?$")
_QUARTER_PERIOD = re.compile(r"^(\d{4})\s*[Qq季]?\s*[Qq]([1-4])$|^(\d{4})年?第?([1-4一二三四])季度?$")
_CHINESE_QUARTER = {"一": "1", "二": "2", "三": "3", "四": "4"}


@dataclass(frozen=True, slots=True)
class FieldSource:
    """Where a column's values came from: the file, the header as written, each value's row."""

    file: str
    column: str
    rows: np.ndarray

    def problems(
        self, mask: np.ndarray, values: Sequence[object] | np.ndarray, reason: str, severity: Severity = "error"
    ) -> list[ImportProblem]:
        """Problems for the rows where ``mask`` is True (values aligned with the column)."""
        indices = np.flatnonzero(mask)
        if len(indices) == 0:
            return []
        values_array = np.asarray(values, dtype=object)
        return problems_at(self.file, self.column, self.rows[indices], values_array[indices], reason, severity)


def _as_objects(values: object) -> np.ndarray:
    """An object array in which empty text is None, so every parser sees one kind of blank."""
    if isinstance(values, pd.Series):
        objects = values.to_numpy(dtype=object, na_value=None)
    else:
        objects = np.array(values, dtype=object)
    if objects.ndim != 1:
        objects = objects.reshape(-1)
    empty = objects == ""
    if np.any(empty):
        objects = objects.copy()
        objects[empty] = None
    return objects


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct values; None (blank) gets code -1.

    Hashing merges values Python calls equal (1, 1.0 and True): every parser here treats an
    int and a float cell of the same value alike, and a boolean cell in a numeric or identifier
    column next to a 1 is the one case that would borrow the number's outcome.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, np.asarray(uniques, dtype=object)


def _blank_problems(source: FieldSource, blank: np.ndarray, required: bool, what: str) -> list[ImportProblem]:
    if not required or not blank.any():
        return []
    return source.problems(
        blank, np.full(len(blank), None, dtype=object), tr("{what} is required and is blank", what=tr(what))
    )


def _by_reason(
    source: FieldSource,
    codes: np.ndarray,
    reasons: Sequence[str | None],
    values: np.ndarray,
    severity: Severity = "error",
) -> list[ImportProblem]:
    """Spread per-distinct-value reasons back onto rows, grouped by reason."""
    problems: list[ImportProblem] = []
    bad_codes = [code for code, reason in enumerate(reasons) if reason is not None]
    if not bad_codes:
        return problems
    reason_of_code = np.full(len(reasons) + 1, -1, dtype=np.int64)
    distinct_reasons = sorted({reasons[code] for code in bad_codes})  # type: ignore[type-var]
    for code in bad_codes:
        reason_of_code[code] = distinct_reasons.index(reasons[code])  # type: ignore[arg-type]
    row_reason = reason_of_code[codes]  # code -1 indexes the sentinel at the end
    for index, reason in enumerate(distinct_reasons):
        problems.extend(source.problems(row_reason == index, values, reason, severity))  # type: ignore[arg-type]
    return problems


def _row_order(problems: list[ImportProblem]) -> list[ImportProblem]:
    return sorted(problems, key=lambda problem: (problem.row is None, problem.row or 0))


# ----------------------------------------------------------------------------------------------
# Dates.


def _date_of(value: object) -> tuple[dt.date | None, str | None]:
    """One distinct cell value as a date, or the reason it is not one."""
    if isinstance(value, bool):
        return None, tr("is not a date")
    if isinstance(value, dt.datetime):
        candidate = value.date()
    elif isinstance(value, dt.date):
        candidate = value
    elif isinstance(value, str):
        match = _DATE_TEXT.match(value.strip())
        if not match:
            return None, tr("is not a date (write 2026-10-31, 2026/10/31, 20261031 or 2026年10月31日)")
        year = int(match.group(1))
        month_text = match.group(2) or match.group(4) or match.group(6)
        day_text = match.group(3) or match.group(5) or match.group(7)
        try:
            candidate = dt.date(year, int(month_text), int(day_text))
        except ValueError:
            return None, tr("is not a calendar date")
    elif isinstance(value, (int, np.integer)) and 10_000_000 <= int(value) <= 99_999_999:
        # A YYYYMMDD typed into a number cell is unambiguous; a bare serial (45000) is not.
        return _date_of(str(int(value)))
    elif isinstance(value, (int, float, np.integer, np.floating)):
        return None, tr("is a number, not a date (format the cell as a date or write 2026-10-31)")
    else:
        return None, tr("is not a date")
    if not DATE_YEAR_MIN <= candidate.year <= DATE_YEAR_MAX:
        return None, tr(
            "year {year} is outside {first}-{last}", year=candidate.year, first=DATE_YEAR_MIN, last=DATE_YEAR_MAX
        )
    return candidate, None


def parse_dates(
    values: object, source: FieldSource, *, required: bool = False, what: str = tr_noop("date")
) -> tuple[np.ndarray, list[ImportProblem]]:
    """Dates as ``datetime64[s]`` (NaT for blank or invalid).

    Accepts ``2026-10-31``, ``2026/10/31``, ``20261031``, ``2026年10月31日`` and real date cells.
    """
    objects = _as_objects(values)
    codes, uniques = _factorize(objects)
    parsed = np.full(len(uniques) + 1, np.datetime64("NaT"), dtype="datetime64[s]")
    reasons: list[str | None] = []
    for index, value in enumerate(uniques):
        date, reason = _date_of(value)
        reasons.append(reason)
        if date is not None:
            parsed[index] = np.datetime64(date, "s")
    result = parsed[codes]
    problems = _blank_problems(source, codes < 0, required, what)
    problems += _by_reason(
        source, codes, [None if r is None else tr("{what} {reason}", what=tr(what), reason=r) for r in reasons], objects
    )
    return result, _row_order(problems)


# ----------------------------------------------------------------------------------------------
# Money.


def _fen_of(value: object) -> tuple[int, str | None]:
    try:
        return money.fen_from_value(value), None
    except money.MoneyError as error:
        return 0, str(error)
    except (TypeError, ValueError, ArithmeticError) as error:
        return 0, tr("amount {value!r} is not a number of yuan ({error})", value=value, error=error)


def parse_amounts_fen(
    values: object, source: FieldSource, *, required: bool = True, blank_fen: int = 0, what: str = tr_noop("amount")
) -> tuple[np.ndarray, list[ImportProblem]]:
    """Yuan amounts as int64 fen; a blank is ``blank_fen`` (an error when ``required``).

    Text in the common shapes (``-1,234.50``, ``¥12``, ``+0.01``) is converted with vectorised
    string and integer operations; number cells and odd text go through ``money.fen_from_value``
    (floats only when within 1e-9 of a two-decimal amount). A datetime or boolean is an error.
    """
    objects = _as_objects(values)
    codes, uniques = _factorize(objects)
    fen = np.zeros(len(uniques) + 1, dtype=np.int64)
    fen[-1] = blank_fen
    reasons: list[str | None] = [None] * len(uniques)
    is_text = np.fromiter((type(value) is str for value in uniques), dtype=bool, count=len(uniques))
    fast = np.zeros(len(uniques), dtype=bool)
    if is_text.any():
        text_indices = np.flatnonzero(is_text)
        # One compiled match per distinct text, in a plain loop: pandas' str.extract costs
        # several times as much per cell for the same regular expression.
        matches = [_FAST_AMOUNT.match(text) for text in uniques[text_indices].tolist()]
        for position, found in enumerate(matches):
            if found is None:
                continue
            yuan = int(found["yuan"].replace(",", ""))
            fraction = int((found["fen"] or "").ljust(2, "0"))
            index = text_indices[position]
            fen[index] = (-1 if found["sign"] == "-" else 1) * (yuan * money.FEN_PER_YUAN + fraction)
            fast[index] = True
    for index in np.flatnonzero(~fast):
        value = uniques[index]
        if isinstance(value, (dt.date, dt.datetime, bool, np.bool_)):
            reasons[index] = tr("{what} {value!s} is not a number of yuan", what=tr(what), value=value)
            continue
        if isinstance(value, str) and _SCIENTIFIC.match(value):
            reasons[index] = tr(
                "{what} {value!r} is in scientific notation; write it in yuan with at most two decimals",
                what=tr(what),
                value=value,
            )
            continue
        amount, reason = _fen_of(value)
        fen[index] = amount
        reasons[index] = reason
    result = fen[codes]
    problems = _blank_problems(source, codes < 0, required, what)
    problems += _by_reason(source, codes, reasons, objects)
    return result, _row_order(problems)


# ----------------------------------------------------------------------------------------------
# Identifiers.


@dataclass(frozen=True, slots=True)
class IdentifierKind:
    """What an identifier column holds: its name in messages, its fixed width (None when free)
    and which characters it may contain: ``"any"``, ``"digits"`` (ASCII 0-9 only) or
    ``"resident_id"`` (17 digits and a digit or X)."""

    name: str
    width: int | None
    characters: str = "any"
    uppercase: bool = False

    def __post_init__(self) -> None:
        assert self.width is None or self.width > 0
        assert self.characters in ("any", "digits", "resident_id"), self.characters
        assert self.characters != "resident_id" or self.width == 18


RESIDENT_ID = IdentifierKind(tr_noop("resident ID"), 18, "resident_id", uppercase=True)
VILLAGE_CODE = IdentifierKind(tr_noop("village code"), 12, "digits")
ACCOUNT_NUMBER = IdentifierKind(tr_noop("bank account number"), None, "digits")
FREE_IDENTIFIER = IdentifierKind(tr_noop("identifier"), None, "any")

# Text identifiers up to this length are checked as one fixed-width numpy array (C loops);
# longer ones, which no identifier we know reaches, are checked one by one so a stray long
# cell cannot inflate that array.
_VECTOR_IDENTIFIER_CHARS_MAX = 40


def _number_cell_reason(value: object, kind: IdentifierKind) -> tuple[str | None, str | None]:
    if isinstance(value, (bool, np.bool_, dt.date, dt.datetime)):
        return None, tr("{name} is a {type} cell, not text", name=tr(kind.name), type=type(value).__name__)
    if not isinstance(value, (int, float, np.integer, np.floating)):
        return None, tr("{name} is not text", name=tr(kind.name))
    if kind.width is not None:
        return None, tr(
            "{name} is a number cell; the spreadsheet may already have dropped leading zeros "
            "or digits: format the column as text and export again",
            name=tr(kind.name),
        )
    number = float(value)
    if not number.is_integer() or abs(number) >= 10**SPREADSHEET_DIGITS_MAX:
        return None, tr(
            "{name} is a number cell with more than {digits} digits or a fraction; "
            "the spreadsheet has changed it: format the column as text and export again",
            name=tr(kind.name),
            digits=SPREADSHEET_DIGITS_MAX,
        )
    return str(int(value)), None


def _text_reasons(texts: list[str], kind: IdentifierKind) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised checks of text identifiers: (normalised texts, reason or None for each)."""
    count = len(texts)
    result = np.empty(count, dtype=object)
    reasons = np.full(count, None, dtype=object)
    if count == 0:
        return result, reasons
    array = np.array(texts, dtype=str)
    array = np.strings.strip(array)
    if kind.uppercase:
        array = np.strings.upper(array)
    lengths = np.strings.str_len(array)
    width = array.dtype.itemsize // 4
    codes = array.view(np.uint32).reshape(count, width) if width else np.zeros((count, 0), dtype=np.uint32)
    digit = (codes >= 48) & (codes <= 57)
    padding = np.arange(width)[None, :] >= lengths[:, None]
    # Scientific notation is text like 6.10102E+17: only values with an E need the regex.
    maybe_scientific = ((codes == ord("E")) | (codes == ord("e"))).any(axis=1)
    scientific = np.zeros(count, dtype=bool)
    for index in np.flatnonzero(maybe_scientific):
        scientific[index] = bool(_SCIENTIFIC.match(str(array[index])))
    name = tr(kind.name)
    reasons[scientific] = tr(
        "{name} is written in scientific notation, so digits are lost; format the column as text and export again",
        name=name,
    )
    if kind.width is not None:
        wrong_width = ~scientific & (lengths != kind.width)
        for index in np.flatnonzero(wrong_width):
            reasons[index] = tr(
                "{name} has {length} characters, not {width} (a lost leading zero?)",
                name=name,
                length=lengths[index],
                width=kind.width,
            )
    else:
        wrong_width = np.zeros(count, dtype=bool)
    if kind.characters == "digits":
        bad = ~(digit | padding).all(axis=1)
        reasons[~scientific & ~wrong_width & bad] = tr("{name} has characters other than the digits 0-9", name=name)
    elif kind.characters == "resident_id":
        shaped = ~scientific & ~wrong_width
        bad = np.zeros(count, dtype=bool)
        if width >= 18:
            bad = ~(digit[:, :17].all(axis=1) & (digit[:, 17] | (codes[:, 17] == ord("X"))))
        reasons[shaped & bad] = tr("{name} must be 17 digits and a check digit or X", name=name)
    good = np.array([reason is None for reason in reasons], dtype=bool)
    result[good] = array[good].astype(object)
    return result, reasons


def parse_identifiers(
    values: object, source: FieldSource, kind: IdentifierKind = FREE_IDENTIFIER, *, required: bool = True
) -> tuple[np.ndarray, list[ImportProblem]]:
    """Identifiers as ``str`` (None for blank or invalid).

    A number cell is an error for a fixed-width identifier (the spreadsheet may have dropped a
    leading zero) and for any number past 15 digits; text in scientific notation
    (``6.10102E+17``) and a value of the wrong width or with other characters are errors.
    Nothing is padded or guessed.
    """
    objects = _as_objects(values)
    codes, uniques = _factorize(objects)
    texts = np.empty(len(uniques) + 1, dtype=object)
    reasons = np.full(len(uniques), None, dtype=object)
    short_text = np.fromiter(
        (type(value) is str and len(value) <= _VECTOR_IDENTIFIER_CHARS_MAX for value in uniques),
        dtype=bool,
        count=len(uniques),
    )
    vector_indices = np.flatnonzero(short_text)
    texts[vector_indices], reasons[vector_indices] = _text_reasons(list(uniques[vector_indices]), kind)
    for index in np.flatnonzero(~short_text):
        value = uniques[index]
        if isinstance(value, str):
            text_values, text_reasons = _text_reasons([value[: _VECTOR_IDENTIFIER_CHARS_MAX + 1]], kind)
            texts[index], reasons[index] = None, text_reasons[0] or tr("{name} is too long", name=tr(kind.name))
        else:
            texts[index], reasons[index] = _number_cell_reason(value, kind)
    result = texts[codes]
    problems = _blank_problems(source, codes < 0, required, kind.name)  # translated there
    problems += _by_reason(source, codes, list(reasons), objects)
    return result, _row_order(problems)


def resident_id_checks(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised GB 11643 checks over well-shaped IDs (18 chars, 17 digits + digit/X; None allowed).

    Returns (check character wrong, birth date as datetime64[s] with NaT when not a calendar
    date, male flag).
    """
    present = np.array([value is not None for value in ids], dtype=bool)
    filled = np.where(present, ids, "000000190001010000").astype("S18")
    digits = filled.view(np.uint8).reshape(-1, 18).astype(np.int64) - ord("0")
    weights = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
    expected = np.frombuffer(b"10X98765432", dtype=np.uint8)[(digits[:, :17] * weights).sum(axis=1) % 11]
    actual = filled.view(np.uint8).reshape(-1, 18)[:, 17]
    bad_check = present & (expected != actual)
    year = digits[:, 6] * 1000 + digits[:, 7] * 100 + digits[:, 8] * 10 + digits[:, 9]
    month = digits[:, 10] * 10 + digits[:, 11]
    day = digits[:, 12] * 10 + digits[:, 13]
    births = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day}), errors="coerce").to_numpy(
        dtype="datetime64[s]"
    )
    births[~present] = np.datetime64("NaT")
    male = digits[:, 16] % 2 == 1
    return bad_check, births, male


def luhn_valid(numbers: np.ndarray) -> np.ndarray:
    """Vectorised Luhn check over digit strings of up to 19 digits (None gives True)."""
    present = np.array([value is not None for value in numbers], dtype=bool)
    width = 19
    padded = pd.Series(np.where(present, numbers, "0"), dtype=object).str.zfill(width)
    too_long = padded.str.len().to_numpy() > width
    digits = padded.to_numpy(dtype=f"S{width}").view(np.uint8).reshape(-1, width).astype(np.int64) - ord("0")
    # Leading zeros add nothing, so right-aligning every number lets one mask double every
    # second digit from the right, starting left of the check digit.
    doubled = np.zeros(width, dtype=bool)
    doubled[width - 2 :: -2] = True
    values = digits.copy()
    values[:, doubled] *= 2
    values[values > 9] -= 9
    valid = values.sum(axis=1) % 10 == 0
    return np.where(present, valid & ~too_long, True)


# ----------------------------------------------------------------------------------------------
# Share units, integers, periods, enumerations.


def _units_of(value: object) -> tuple[int, str | None]:
    if isinstance(value, (bool, np.bool_, dt.date, dt.datetime)):
        return 0, tr("units is not a number")
    if isinstance(value, (int, np.integer)):
        decimal = Decimal(int(value))
    elif isinstance(value, (float, np.floating)):
        number = float(value)
        if not np.isfinite(number):
            return 0, tr("units is not a finite number")
        # As for money: a float only within 1e-9 of a number with at most 4 decimals.
        rounded = money.float_as_decimal(number, UNITS_DECIMALS_MAX)
        if rounded is None:
            return 0, tr("units has more than {places} decimal places", places=UNITS_DECIMALS_MAX)
        decimal = rounded
    elif isinstance(value, str):
        match = _UNITS_TEXT.match(value.strip())
        if not match:
            return 0, tr("units is not a number")
        if match.group(3) and len(match.group(3).rstrip("0")) > UNITS_DECIMALS_MAX:
            return 0, tr("units has more than {places} decimal places", places=UNITS_DECIMALS_MAX)
        try:
            decimal = Decimal(value.strip())
        except InvalidOperation:
            return 0, tr("units is not a number")
    else:
        return 0, tr("units is not a number")
    if decimal < 0:
        return 0, tr("units is negative")
    if decimal != decimal.quantize(Decimal(1).scaleb(-UNITS_DECIMALS_MAX)):
        return 0, tr("units has more than {places} decimal places", places=UNITS_DECIMALS_MAX)
    scaled = decimal * UNITS_SCALE
    if scaled >= 2**62:
        return 0, tr("units is too large")
    return int(scaled), None


def parse_units_e4(
    values: object, source: FieldSource, *, required: bool = True
) -> tuple[np.ndarray, list[ImportProblem]]:
    """Share units (kW or shares, up to 4 decimals) as int64 ten-thousandths; negative is an error."""
    objects = _as_objects(values)
    codes, uniques = _factorize(objects)
    units = np.zeros(len(uniques) + 1, dtype=np.int64)
    reasons: list[str | None] = []
    for index, value in enumerate(uniques):
        units[index], reason = _units_of(value)
        reasons.append(reason)
    problems = _blank_problems(source, codes < 0, required, tr_noop("units"))
    problems += _by_reason(source, codes, reasons, objects)
    return units[codes], _row_order(problems)


def _integer_of(value: object, minimum: int | None) -> tuple[int, str | None]:
    if isinstance(value, (bool, np.bool_, dt.date, dt.datetime)):
        return 0, tr_noop("{what} is not a whole number")
    if isinstance(value, (int, np.integer)):
        number = int(value)
    elif isinstance(value, (float, np.floating)):
        if not np.isfinite(value) or not float(value).is_integer():
            return 0, tr_noop("{what} is not a whole number")
        number = int(value)
    elif isinstance(value, str):
        match = _INTEGER_TEXT.match(value.strip())
        if not match:
            return 0, tr_noop("{what} is not a whole number")
        number = int(match.group(0).replace(",", ""))
    else:
        return 0, tr_noop("{what} is not a whole number")
    if abs(number) >= 2**62:
        return 0, tr_noop("{what} is too large")
    if minimum is not None and number < minimum:
        return 0, tr_noop("{what} is less than {minimum}")
    return number, None


def parse_integers(
    values: object, source: FieldSource, *, required: bool = True, minimum: int | None = 0, what: str = tr_noop("value")
) -> tuple[np.ndarray, list[ImportProblem]]:
    """Whole numbers (thousands separators allowed) as int64; below ``minimum`` is an error."""
    objects = _as_objects(values)
    codes, uniques = _factorize(objects)
    numbers = np.zeros(len(uniques) + 1, dtype=np.int64)
    reasons: list[str | None] = []
    for index, value in enumerate(uniques):
        numbers[index], reason = _integer_of(value, minimum)
        reasons.append(None if reason is None else tr(reason, what=tr(what), minimum=minimum))
    problems = _blank_problems(source, codes < 0, required, what)
    problems += _by_reason(source, codes, reasons, objects)
    return numbers[codes], _row_order(problems)


def _period_of(value: object) -> tuple[str | None, str | None]:
    reason = tr("service period is not a month (2026-10) or a quarter (2026Q3)")
    if isinstance(value, dt.datetime) or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        # Excel turns a typed 2026-10 into the date 2026-10-01; only a first-of-month date is a month.
        if value.day != 1:
            return None, reason
        return f"{value.year:04d}-{value.month:02d}", None
    if not isinstance(value, str):
        return None, reason
    text = value.strip()
    match = _MONTH_PERIOD.match(text)
    if match:
        month = int(match.group(2))
        if not 1 <= month <= 12:
            return None, reason
        return f"{int(match.group(1)):04d}-{month:02d}", None
    match = _QUARTER_PERIOD.match(text)
    if match:
        year = match.group(1) or match.group(3)
        quarter = match.group(2) or _CHINESE_QUARTER.get(match.group(4), match.group(4))
        return f"{int(year):04d}Q{quarter}", None
    return None, reason


def parse_service_periods(
    values: object, source: FieldSource, *, required: bool = True
) -> tuple[np.ndarray, list[ImportProblem]]:
    """Service periods normalised to ``2026-10`` (month) or ``2026Q3`` (quarter); None when invalid."""
    objects = _as_objects(values)
    codes, uniques = _factorize(objects)
    periods = np.empty(len(uniques) + 1, dtype=object)
    reasons: list[str | None] = []
    for index, value in enumerate(uniques):
        periods[index], reason = _period_of(value)
        reasons.append(reason)
    problems = _blank_problems(source, codes < 0, required, tr_noop("service period"))
    problems += _by_reason(source, codes, reasons, objects)
    return periods[codes], _row_order(problems)


def parse_enum(
    values: object,
    source: FieldSource,
    mapping: Mapping[str, object],
    *,
    required: bool = True,
    what: str = tr_noop("value"),
    blank: object = None,
) -> tuple[np.ndarray, list[ImportProblem]]:
    """Values from a closed list, mapped through ``mapping`` (written text -> stored value).

    A blank becomes ``blank`` (an error when ``required``); anything not in ``mapping`` is an
    error listing the accepted values.
    """
    objects = _as_objects(values)
    codes, uniques = _factorize(objects)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[-1] = blank
    accepted = join_list(mapping)
    reasons: list[str | None] = []
    for index, value in enumerate(uniques):
        key = value.strip() if isinstance(value, str) else value
        if isinstance(key, str) and key in mapping:
            mapped[index] = mapping[key]
            reasons.append(None)
        else:
            mapped[index] = blank
            reasons.append(tr("{what} is not one of: {accepted}", what=tr(what), accepted=accepted))
    problems = _blank_problems(source, codes < 0, required, what)
    problems += _by_reason(source, codes, reasons, objects)
    return mapped[codes], _row_order(problems)


def parse_text(
    values: object, source: FieldSource, *, required: bool = True, what: str = tr_noop("value")
) -> tuple[np.ndarray, list[ImportProblem]]:
    """Free text (names, banks, memos): str as written, a number cell as its digits; blank is None."""
    objects = _as_objects(values)
    codes, uniques = _factorize(objects)
    texts = np.empty(len(uniques) + 1, dtype=object)
    for index, value in enumerate(uniques):
        if isinstance(value, str):
            texts[index] = value
        elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            texts[index] = str(int(value))
        elif isinstance(value, dt.datetime):
            texts[index] = value.isoformat(sep=" ")
        else:
            texts[index] = str(value)
    problems = _blank_problems(source, codes < 0, required, what)
    return texts[codes], problems
