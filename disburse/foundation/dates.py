"""Dates and accounting periods, in one place.

Drivers hand dates back in several shapes (a ``date``, a ``datetime``, ISO text from SQLite,
``NaT``/``None`` for missing), and drivers take them as ISO text; every stage converts through
these functions rather than its own copy.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import sys

import numpy as np

from disburse.foundation.i18n import tr

PERIOD_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def as_date(value: object) -> dt.date:
    """A date from what a driver returns (a date, a datetime or ISO text, possibly with a time)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def as_date_or_none(value: object) -> dt.date | None:
    """``as_date``, with None for a missing value (None, NaN, NaT, pandas' NA)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    # pandas' missing markers exist only once pandas is loaded: looked up, not imported, so a
    # command that never builds a frame does not pay ~0.4 s for pandas at start-up.
    pandas = sys.modules.get("pandas")
    if pandas is not None and (value is pandas.NaT or value is pandas.NA):
        return None
    return as_date(value)


def iso(value: dt.date | dt.datetime) -> str:
    """A date or timestamp as ISO text for the driver (SQLite stores what SQLAlchemy reads back)."""
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()


def iso_dates(values: object) -> list[str | None]:
    """Dates (datetime64, Timestamps, date objects or None) as ISO text, None where missing."""
    array = np.asarray(values)
    if array.dtype.kind != "M":
        import pandas as pd

        array = pd.to_datetime(pd.Series(array, dtype=object)).to_numpy()
    days = array.astype("datetime64[D]")
    texts = np.datetime_as_string(days, unit="D").astype(object)
    texts[np.isnat(days)] = None
    return texts.tolist()


def period_of(date: dt.date) -> str:
    """The accounting period (YYYY-MM) a date falls in."""
    return f"{date.year:04d}-{date.month:02d}"


def period_problem(period: str) -> str | None:
    """None for a well-formed period YYYY-MM."""
    if not isinstance(period, str) or not PERIOD_PATTERN.match(period):
        return tr("period {period} is not of the form YYYY-MM (e.g. 2026-11)", period=repr(period))
    return None


def next_period(period: str) -> str:
    """The period after a well-formed period YYYY-MM."""
    assert period_problem(period) is None, period
    year, month = int(period[:4]), int(period[5:])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a well-formed period YYYY-MM (callers check it first)."""
    assert period_problem(period) is None, period
    year, month = int(period[:4]), int(period[5:])
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
