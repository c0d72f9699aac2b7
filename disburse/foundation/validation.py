"""Pydantic's refusals of a configuration file in the user's language.

``validation_problems(error)`` turns a ``ValidationError`` into ``(place, message)`` pairs: the
place is the dotted path of the key inside the file (``parts.households.percent``), the message
says what is wrong in the current language. Pydantic's own ``msg`` is English only, so each
error *type* has a message of ours in the catalog, its figures (the smallest length, the allowed
values) taken from the error's ``ctx``; a type without one keeps pydantic's English. A
``ValueError`` raised by one of our validators is shown as it is: its text went through ``tr``
when it was raised.

Pydantic names a discriminated union's member in the location (``("subsidy", "basis",
"roster", ...)``); a caller drops those names with ``drop_tags``. A refused or missing tag is
placed on the tag key itself (``basis.type``, not ``basis``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from disburse.foundation.i18n import join_list, tr, tr_noop

_NUMBER = tr_noop("should be a number")
_WHOLE_NUMBER = tr_noop("should be a whole number")
_YES_OR_NO = tr_noop("should be true or false")
_DATE = tr_noop("should be a date such as 2026-10-31")
_DATE_AND_TIME = tr_noop("should be a date and time such as 2026-10-31 09:30:00")
_TIME = tr_noop("should be a time of day such as 09:30:00")
_CHOICES = tr_noop("should be one of {expected}")
_LIST = tr_noop("should be a list")
_MAPPING = tr_noop("should be a mapping of keys to values")

# Our message for each pydantic error type (pydantic_core's list_all_errors() names them all;
# the {placeholders} are the keys of the error's ctx).
MESSAGES: dict[str, str] = {
    "missing": tr_noop("required key missing"),
    "extra_forbidden": tr_noop("unknown key (not allowed here)"),
    "int_type": _WHOLE_NUMBER,
    "int_parsing": _WHOLE_NUMBER,
    "int_from_float": tr_noop("should be a whole number, without a fractional part"),
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "finite_number": tr_noop("should be a finite number"),
    "decimal_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "decimal_max_digits": tr_noop("should have at most {max_digits} digit(s) in all"),
    "decimal_max_places": tr_noop("should have at most {decimal_places} decimal place(s)"),
    "decimal_whole_digits": tr_noop("should have at most {whole_digits} digit(s) before the decimal point"),
    "string_type": tr_noop("should be text"),
    "string_too_short": tr_noop("should have at least {min_length} character(s)"),
    "string_too_long": tr_noop("should have at most {max_length} character(s)"),
    "string_pattern_mismatch": tr_noop("should match the pattern {pattern}"),
    "bool_type": _YES_OR_NO,
    "bool_parsing": _YES_OR_NO,
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": tr_noop("should be a date without a time of day"),
    "datetime_type": _DATE_AND_TIME,
    "datetime_parsing": _DATE_AND_TIME,
    "datetime_from_date_parsing": _DATE_AND_TIME,
    "time_type": _TIME,
    "time_parsing": _TIME,
    "literal_error": _CHOICES,
    "enum": _CHOICES,
    "greater_than": tr_noop("should be greater than {gt}"),
    "greater_than_equal": tr_noop("should be at least {ge}"),
    "less_than": tr_noop("should be less than {lt}"),
    "less_than_equal": tr_noop("should be at most {le}"),
    "multiple_of": tr_noop("should be a multiple of {multiple_of}"),
    "too_short": tr_noop("should have at least {min_length} item(s), not {actual_length}"),
    "too_long": tr_noop("should have at most {max_length} item(s)"),
    "list_type": _LIST,
    "tuple_type": _LIST,
    "set_type": _LIST,
    "frozen_set_type": _LIST,
    "dict_type": _MAPPING,
    "model_type": _MAPPING,
    "model_attributes_type": _MAPPING,
    "union_tag_invalid": tr_noop("{tag} is not one of {expected_tags}"),
    "union_tag_not_found": tr_noop("required key missing (it says which kind this is)"),
}
# Only one value allowed: "should be 'x'", not "one of 'x'"; at least one character or item.
_ONE_CHOICE = tr_noop("should be {expected}")
_NOT_EMPTY = tr_noop("should not be empty")
_UNION_TAG_TYPES = ("union_tag_invalid", "union_tag_not_found")
# Pydantic lists allowed values as "'a', 'b' or 'c'"; the "or" is English.
_CHOICE_SEPARATOR = re.compile(r", | or ")


def validation_problems(error: ValidationError, drop_tags: Collection[str] = ()) -> list[tuple[str, str]]:
    """``(dotted place, message in the current language)`` for each of ``error``'s problems, in
    pydantic's order; location parts in ``drop_tags`` (a union member's name) are left out."""
    return [(_place(item, drop_tags), problem_message(item)) for item in error.errors()]


def problem_lines(problems: Iterable[tuple[str, str]]) -> list[str]:
    """``place: message`` for each problem; the document itself is ``(top)``."""
    top = tr("(top)")
    return [f"{place or top}: {message}" for place, message in problems]


def _place(item: Mapping[str, Any], drop_tags: Collection[str]) -> str:
    parts = [str(part) for part in item["loc"] if part not in drop_tags]
    if item["type"] in _UNION_TAG_TYPES:
        # Point at the tag key itself: basis.type, not basis.
        parts.append(str(item.get("ctx", {}).get("discriminator", "")).strip("'"))
    return ".".join(parts)


def problem_message(item: Mapping[str, Any]) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) in the current language."""
    kind, context = item["type"], dict(item.get("ctx") or {})
    if kind in ("value_error", "assertion_error"):
        # Our validators' ValueErrors were translated when they were raised.
        return str(context.get("error", "")) or item["msg"]
    message = MESSAGES.get(kind)
    if message is None:
        return item["msg"]
    if kind in ("literal_error", "enum"):
        choices = _CHOICE_SEPARATOR.split(str(context.get("expected", "")))
        context["expected"] = join_list(choices)
        message = _ONE_CHOICE if len(choices) == 1 else message
    if kind in ("string_too_short", "too_short") and context.get("min_length") == 1:
        message = _NOT_EMPTY
    if kind == "union_tag_invalid":
        context["tag"] = repr(str(context.get("tag", "")))
    try:
        return tr(message, **context)
    except (KeyError, IndexError, ValueError):
        # A pydantic version whose ctx lacks a figure the message names.
        return item["msg"]
