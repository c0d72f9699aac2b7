"""The one masking formatter for resident ID numbers and bank card/account numbers.

Every human-readable report and export shows such a number as ``610102********1234``: the first
six characters (for an ID, the area code; for a card, the bank's BIN), one star per hidden
character, and the last four. A value too short for that (under ``FULL_FORM_LENGTH_MIN``
characters, where six plus four shown would give most of it away) keeps at most its last four
characters and never more than half of them. Names are never masked: the staff who read these
reports need them, and a name alone does not let anyone draw money.

Full values appear only in bank files, in an import's error report (the user's own file) and
when a command is run with ``--unmasked``; the caller passes ``unmasked=True`` and records that
in the audit log. This module does not log: it has no idea who asked.
"""

from __future__ import annotations

import math
import re
import sys
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    import pandas as pd


MASK_CHARACTER = "*"
SHOWN_PREFIX_LENGTH = 6
SHOWN_SUFFIX_LENGTH = 4
# The shortest value shown in the full 6 + stars + 4 form: an old 15-digit resident ID keeps
# five characters hidden. A shorter value (a passbook or account number of 8 to 14 digits)
# shows only its tail.
FULL_FORM_LENGTH_MIN = 15
UNMASKED_HELP = "show resident ID and account numbers in full (recorded in the audit log)"


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    # pandas' missing markers, looked up rather than imported: a value can only be one of them
    # when pandas is loaded, and a command that never loads pandas starts faster.
    pandas = sys.modules.get("pandas")
    return pandas is not None and (value is pandas.NA or value is pandas.NaT)


def mask_identifier(value: object, *, unmasked: bool = False) -> str | None:
    """``'610102199001011234' -> '610102********1234'``; ``'6228480012345678901' ->
    '622848*********8901'``; ``'12345678' -> '****5678'``; ``None -> None``.

    Surrounding spaces are dropped; a missing value (None, NaN, NA) stays missing so a report
    can still tell "no number" from "a number". With ``unmasked`` the text is returned whole."""
    if _is_missing(value):
        return None
    if isinstance(value, bool):
        raise TypeError("mask_identifier takes an identifier, not a bool")
    text = str(value).strip()
    if unmasked:
        return text
    length = len(text)
    if length >= FULL_FORM_LENGTH_MIN:
        hidden = length - SHOWN_PREFIX_LENGTH - SHOWN_SUFFIX_LENGTH
        return text[:SHOWN_PREFIX_LENGTH] + MASK_CHARACTER * hidden + text[-SHOWN_SUFFIX_LENGTH:]
    # Short values: at most the last four, and at most half, so at least half stays hidden.
    shown = min(SHOWN_SUFFIX_LENGTH, length // 2)
    return MASK_CHARACTER * (length - shown) + (text[length - shown :] if shown else "")


def mask_frame(frame: "pd.DataFrame", columns: Iterable[str], *, unmasked: bool = False) -> "pd.DataFrame":
    """A copy of ``frame`` with each of ``columns`` masked by ``mask_identifier`` (missing values
    stay missing). A column that is not in the frame is an error, not silently skipped: a typo
    in a column name would otherwise leave every number in that column readable."""
    names = list(columns)
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise KeyError(f"mask_frame: no column(s) {', '.join(missing)} in the frame")
    import pandas as pd

    masked = frame.copy()
    if unmasked:
        return masked
    for name in names:
        # Built as an object column by hand: Series.map would turn the None of a missing
        # value into NaN, and a report would print "nan".
        masked[name] = pd.Series([mask_identifier(value) for value in frame[name]], index=frame.index, dtype=object)
    return masked


RESIDENT_ID_SHAPE = re.compile(r"^\d{17}[\dXx]$")


def mask_payee(payee_id: object, household_id: object = None, *, unmasked: bool = False) -> str:
    """A payee as shown to people: a person's resident ID masked; a household id or a village
    code as it is (they are not personal numbers)."""
    text = "" if _is_missing(payee_id) else str(payee_id)
    if not RESIDENT_ID_SHAPE.match(text):
        return text
    return mask_identifier(text, unmasked=unmasked) or ""


PERSONAL_KEY_PARTS = ("account", "id_number", "card", "账号", "证件")


def mask_details(details: dict, *, unmasked: bool = False) -> dict:
    """A mapping (event details, evidence) with every value under a personal-number key masked;
    a list of numbers (the people of a split household) is masked number by number."""

    def masked(key: object, value: object) -> object:
        if value is None or not any(part in str(key) for part in PERSONAL_KEY_PARTS):
            return value
        if isinstance(value, (list, tuple)):
            return [mask_identifier(str(item), unmasked=unmasked) for item in value]
        return mask_identifier(str(value), unmasked=unmasked)

    return {key: masked(key, value) for key, value in details.items()}
