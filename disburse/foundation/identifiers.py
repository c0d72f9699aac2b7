"""Check digits of the identifiers the engine meets: resident ID, unified social credit code,
village code and bank card number.

Each ``*_problem`` function returns None for a good value and a short English reason otherwise,
so that callers can collect problems as data; each ``*_check_character`` computes the check
character, which the synthetic-data generator uses to make valid values.
"""

from __future__ import annotations

import datetime as dt
import re

from disburse.foundation.i18n import tr

RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK = "10X98765432"
_RESIDENT_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = tuple(pow(3, index, 31) for index in range(17))
_CREDIT_CODE_SHAPE = re.compile(rf"^[{CREDIT_CODE_ALPHABET}]{{18}}$")

_VILLAGE_CODE_SHAPE = re.compile(r"^\d{12}$")
_CARD_SHAPE = re.compile(r"^\d{16,19}$")


def resident_id_check_character(first_seventeen: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits of a resident ID."""
    assert len(first_seventeen) == 17 and first_seventeen.isdigit(), first_seventeen
    total = sum(int(digit) * weight for digit, weight in zip(first_seventeen, RESIDENT_ID_WEIGHTS))
    return RESIDENT_ID_CHECK[total % 11]


def resident_id_problem(value: str) -> str | None:
    """None when ``value`` is a well-formed resident ID with a valid date and check character."""
    if not _RESIDENT_ID_SHAPE.match(value):
        return tr("a resident ID has 17 digits and a check digit or X (18 characters)")
    if resident_id_check_character(value[:17]) != value[17]:
        return tr(
            "check character is {found}, expected {expected}",
            found=value[17],
            expected=resident_id_check_character(value[:17]),
        )
    if resident_id_birth_date(value) is None:
        return tr("birth date {digits} is not a calendar date", digits=value[6:14])
    return None


def resident_id_birth_date(value: str) -> dt.date | None:
    """The birth date encoded in characters 7-14, or None when it is not a calendar date."""
    try:
        return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def resident_id_sex(value: str) -> str:
    """男 when the sequence number (character 17) is odd, else 女."""
    return "男" if int(value[16]) % 2 == 1 else "女"


def credit_code_check_character(first_seventeen: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a credit code."""
    total = sum(
        CREDIT_CODE_ALPHABET.index(character) * weight
        for character, weight in zip(first_seventeen, CREDIT_CODE_WEIGHTS)
    )
    check = 31 - total % 31
    return CREDIT_CODE_ALPHABET[0 if check == 31 else check]


def credit_code_problem(value: str) -> str | None:
    """None for a valid unified social credit code. Callers treat a problem as a warning:
    some early codes were issued with a wrong check character."""
    if not _CREDIT_CODE_SHAPE.match(value):
        return tr("a unified social credit code has 18 characters from 0-9 and A-Y without I, O, S, V, Z")
    expected = credit_code_check_character(value[:17])
    if expected != value[17]:
        return tr("check character is {found}, expected {expected}", found=value[17], expected=expected)
    return None


def village_code_problem(value: str) -> str | None:
    """None for a 12-digit statistical village code (province 2, city 2, county 2, town 3, village 3)."""
    if not _VILLAGE_CODE_SHAPE.match(value):
        return tr("a village code has exactly 12 digits")
    return None


def luhn_check_digit(payload: str) -> str:
    """The Luhn check digit to append to ``payload``."""
    total = 0
    for index, character in enumerate(reversed(payload)):
        digit = int(character)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def card_number_problem(value: str) -> str | None:
    """None for a 16-19 digit card number with a valid Luhn digit. Callers treat a Luhn failure
    as a warning: many rural accounts and passbooks are not Luhn numbers."""
    if not value.isdigit():
        return tr("a bank account number has only digits")
    if not _CARD_SHAPE.match(value):
        return tr("not a 16-19 digit card number (a passbook account?)")
    if luhn_check_digit(value[:-1]) != value[-1]:
        return tr("Luhn check digit does not match (a passbook account?)")
    return None
