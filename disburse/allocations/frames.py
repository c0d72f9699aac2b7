"""Helpers the three allocations share: periods, active days, eligibility, payee accounts.

All of them are vectorised over frames; none touches a database or a file.
"""

from __future__ import annotations

import datetime
import re
from fractions import Fraction

import numpy as np
import pandas as pd

from disburse.allocations.rules import Filter
from disburse.foundation.frames import per_distinct
from disburse.foundation.i18n import join_list, tr, tr_noop

DAYS_PER_YEAR = 365
MONTHS_PER_YEAR = 12
# A period's fraction of a year is (whole months × 365 + other days × 12) / (12 × 365): whole
# calendar months count months/12, the days of a part month count days/365, exactly.
YEAR_FRACTION_DENOMINATOR = MONTHS_PER_YEAR * DAYS_PER_YEAR

_MONTH_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER_PERIOD = re.compile(r"^(\d{4})Q([1-4])$")
FAR_FUTURE = np.datetime64("9999-12-31", "D")


class AllocationError(ValueError):
    """An input the allocation refuses (wrong station, negative settlement, no payee …)."""


def service_period_bounds(service_period: str) -> tuple[datetime.date, datetime.date]:
    """``"2026-10"`` → (2026-10-01, 2026-10-31); ``"2026Q3"`` → (2026-07-01, 2026-09-30)."""
    text = str(service_period).strip()
    if match := _MONTH_PERIOD.match(text):
        year, first_month, month_count = int(match[1]), int(match[2]), 1
    elif match := _QUARTER_PERIOD.match(text):
        year, first_month, month_count = int(match[1]), 3 * int(match[2]) - 2, 3
    else:
        raise AllocationError(tr("service period {period} is not like 2026-10 or 2026Q3", period=repr(service_period)))
    if not 1 <= first_month <= 12:
        raise AllocationError(
            tr("service period {period} has no month {month}", period=repr(service_period), month=first_month)
        )
    start = datetime.date(year, first_month, 1)
    after_month = first_month + month_count
    after = datetime.date(year + (after_month - 1) // 12, (after_month - 1) % 12 + 1, 1)
    return start, after - datetime.timedelta(days=1)


def as_days(values: object) -> np.ndarray:
    """Dates (date objects, Timestamps, datetime64, None) as ``datetime64[D]``, NaT for missing."""
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    if len(series) == 0:
        return np.array([], dtype="datetime64[D]")
    return pd.to_datetime(series).to_numpy().astype("datetime64[D]")


def year_fraction_numerators(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Each inclusive range's fraction of a year, as numerators over YEAR_FRACTION_DENOMINATOR.

    Whole calendar months inside the range count 1/12 each; the days of a part month at either
    end count 1/365 each. An empty range (end before start, or NaT) counts zero.
    """
    starts = starts.astype("datetime64[D]")
    ends = ends.astype("datetime64[D]")
    valid = ~(np.isnat(starts) | np.isnat(ends)) & (ends >= starts)
    starts = np.where(valid, starts, np.datetime64("2000-01-01", "D"))
    ends = np.where(valid, ends, np.datetime64("2000-01-01", "D"))
    start_month = starts.astype("datetime64[M]")
    end_month = ends.astype("datetime64[M]")
    starts_first = starts == start_month.astype("datetime64[D]")
    ends_last = ends == (end_month + 1).astype("datetime64[D]") - 1
    same_month = start_month == end_month
    month_gap = (end_month - start_month).astype(np.int64)

    head_days = ((start_month + 1).astype("datetime64[D]") - starts).astype(np.int64)
    tail_days = (ends - end_month.astype("datetime64[D]")).astype(np.int64) + 1
    months = np.maximum(month_gap - 1, 0) + starts_first + ends_last
    days = np.where(starts_first, 0, head_days) + np.where(ends_last, 0, tail_days)
    # Within one month: the whole month, or just its days.
    whole_month = starts_first & ends_last
    range_days = (ends - starts).astype(np.int64) + 1
    months = np.where(same_month, whole_month.astype(np.int64), months)
    days = np.where(same_month, np.where(whole_month, 0, range_days), days)
    numerators = months * DAYS_PER_YEAR + days * MONTHS_PER_YEAR
    return np.where(valid, numerators, 0).astype(np.int64)


def year_fraction(start: datetime.date, end: datetime.date) -> Fraction:
    """One range's fraction of a year (see ``year_fraction_numerators``)."""
    numerator = year_fraction_numerators(
        np.array([start], dtype="datetime64[D]"), np.array([end], dtype="datetime64[D]")
    )[0]
    return Fraction(int(numerator), YEAR_FRACTION_DENOMINATOR)


def active_ranges(
    starts: object,
    ends: object,
    exits: object | None,
    period_start: datetime.date,
    period_end: datetime.date,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First and last counted day of each holding within the period, and the day count.

    A holding counts from ``start_on`` to ``end_on`` inclusive (blank = open); an exit date, when
    given, is the first day no longer counted. Holdings outside the period count zero days.
    """
    first = np.maximum(as_days(starts), np.datetime64(period_start, "D"))
    end_days = as_days(ends)
    last = np.where(np.isnat(end_days), FAR_FUTURE, end_days)
    last = np.minimum(last, np.datetime64(period_end, "D"))
    if exits is not None:
        exit_days = as_days(exits)
        last = np.where(np.isnat(exit_days), last, np.minimum(last, exit_days - 1))
    day_counts = np.maximum((last - first).astype(np.int64) + 1, 0)
    return first, last, day_counts


# --- eligibility ------------------------------------------------------------------------------


def _comparable(series: pd.Series, value: object) -> tuple[pd.Series, object]:
    """Bring a column and a filter value to one comparable type (dates become Timestamps)."""
    if isinstance(value, datetime.date) or (isinstance(value, list) and value and isinstance(value[0], datetime.date)):
        converted = pd.to_datetime(series)
        if isinstance(value, list):
            return converted, [pd.Timestamp(item) for item in value]
        return converted, pd.Timestamp(value)
    return series, value


def filter_mask(item: Filter, column: pd.Series) -> np.ndarray:
    """Where one filter holds. A missing value fails eq/in/gte/lte and passes ne/not_in."""
    missing = column.isna().to_numpy()
    if item.op == "is_null":
        return missing
    if item.op == "not_null":
        return ~missing
    series, value = _comparable(column, item.value)
    if item.op == "in":
        return series.isin(value).to_numpy() & ~missing
    if item.op == "not_in":
        return ~series.isin(value).to_numpy() | missing
    present = series.where(~missing)
    if item.op == "eq":
        return (present == value).fillna(False).to_numpy(dtype=bool) & ~missing
    if item.op == "ne":
        return (present != value).fillna(True).to_numpy(dtype=bool) | missing
    outcome = np.zeros(len(series), dtype=bool)
    kept = ~missing
    if kept.any():
        values = series[kept]
        compared = values >= value if item.op == "gte" else values <= value
        outcome[kept] = compared.to_numpy(dtype=bool)
    return outcome


def filters_failed(
    filters: list[Filter],
    views: dict[str, pd.DataFrame],
    candidate_households: pd.Series | None = None,
    people_living: pd.DataFrame | None = None,
) -> pd.Series:
    """The reason each candidate fails (the first failing filter), or None where all hold.

    ``views`` maps a scope (``household``, ``person``, ``input``) to a frame aligned row by row
    with the candidates. ``any_member.<column>`` filters look at ``people_living`` grouped by
    household and need ``candidate_households`` (the candidates' household ids).
    """
    length = len(candidate_households) if candidate_households is not None else None
    for frame in views.values():
        length = len(frame)
        break
    assert length is not None, "filters need at least one view of the candidates"
    reasons = np.full(length, None, dtype=object)
    undecided = np.ones(length, dtype=bool)
    for item in filters:
        scope, _, column = item.field.partition(".")
        if scope == "any_member":
            assert people_living is not None and candidate_households is not None
            if column not in people_living.columns:
                holds = np.zeros(length, dtype=bool)
            else:
                member_holds = filter_mask(item, people_living[column])
                households = set(people_living["household_id"].to_numpy()[member_holds])
                holds = candidate_households.isin(households).to_numpy()
            shown = None
        else:
            frame = views.get(scope)
            if frame is None:
                raise AllocationError(
                    tr("filter {filter}: no {scope} data for this rule", filter=item.describe(), scope=scope)
                )
            if column not in frame.columns:
                raise AllocationError(
                    tr(
                        "filter {filter}: the {scope} data has no {column}",
                        filter=item.describe(),
                        scope=scope,
                        column=repr(column),
                    )
                )
            holds = filter_mask(item, frame[column])
            shown = frame[column]
        newly_failed = undecided & ~holds
        if newly_failed.any():
            described = item.describe()
            if shown is None:
                reasons[newly_failed] = tr("fails {filter}", filter=described)
            else:
                # Worded once per distinct value: the candidates who fail share a handful of them.
                wording = tr("fails {filter} (is {value})")
                reasons[newly_failed] = per_distinct(
                    shown.to_numpy()[newly_failed].tolist(), lambda value: wording.format(filter=described, value=value)
                )
            undecided &= holds
    return pd.Series(reasons)


def people_living_on(people: pd.DataFrame, day: datetime.date) -> pd.DataFrame:
    """The people alive on ``day`` (died_on blank or after it)."""
    if "died_on" not in people.columns or len(people) == 0:
        return people
    died = as_days(people["died_on"])
    alive = np.isnat(died) | (died > np.datetime64(day, "D"))
    return people[alive]


# --- payee accounts ---------------------------------------------------------------------------

# Whose card a line is paid into (卡别): the person's own (社保卡), the household's "one card"
# (the head's, 户卡) or a village collective's account (集体账户, a rule's ``payee: collective``).
PERSON_CARD, HOUSEHOLD_CARD, COLLECTIVE_ACCOUNT = "person_card", "household_card", "collective"
# 卡别 as a run's export, `payout status` and the 明白卡 show it (payouts.model re-exports it).
CARD_KIND_NAMES = {
    PERSON_CARD: tr_noop("own social security card"),
    HOUSEHOLD_CARD: tr_noop("household card"),
    COLLECTIVE_ACCOUNT: tr_noop("collective account"),
}


def household_accounts(households: pd.DataFrame, household_ids: pd.Series) -> pd.DataFrame:
    """The head's "one card" for each household id: ``account_no``, ``account_name`` and
    ``card_kind`` (household_card, 户卡)."""
    indexed = households.drop_duplicates("household_id").set_index("household_id")
    found = indexed.reindex(household_ids.to_numpy())
    return pd.DataFrame(
        {
            "account_no": found["account_no"].to_numpy(dtype=object),
            "account_name": found["head_name"].to_numpy(dtype=object),
            "card_kind": HOUSEHOLD_CARD,
        }
    )


def person_accounts(people_rows: pd.DataFrame, households: pd.DataFrame) -> pd.DataFrame:
    """The person's own card when registered, else the head's card, per row of ``people_rows``."""
    heads = household_accounts(households, people_rows["household_id"])
    own = people_rows["person_account_no"] if "person_account_no" in people_rows else None
    if own is None:
        return heads
    own_values = own.to_numpy(dtype=object)
    has_own = pd.Series(own_values).fillna("").astype(str).str.strip().ne("").to_numpy()
    return pd.DataFrame(
        {
            "account_no": np.where(has_own, own_values, heads["account_no"].to_numpy()),
            "account_name": np.where(
                has_own, people_rows["name"].to_numpy(dtype=object), heads["account_name"].to_numpy()
            ),
            "card_kind": np.where(has_own, PERSON_CARD, HOUSEHOLD_CARD).astype(object),
        }
    )


def exclusions_frame(household_ids: object, id_numbers: object, reasons: object) -> pd.DataFrame:
    """An exclusions frame (household_id, id_number, reason)."""
    household_values = np.asarray(household_ids, dtype=object)
    count = len(household_values)
    return pd.DataFrame(
        {
            "household_id": household_values,
            "id_number": np.full(count, None, dtype=object)
            if id_numbers is None
            else np.asarray(id_numbers, dtype=object),
            "reason": np.asarray(reasons, dtype=object)
            if not isinstance(reasons, str)
            else np.full(count, reasons, dtype=object),
        }
    )


ROSTER_DAYS_COLUMNS = ("days_worked", "days_on_duty")


def roster_days(roster: pd.DataFrame) -> np.ndarray:
    """Days from an attendance sheet: ``days_worked`` or ``days_on_duty`` (the same 出勤天数)."""
    for column in ROSTER_DAYS_COLUMNS:
        if column in roster.columns:
            return roster[column].to_numpy(dtype=np.int64)
    raise AllocationError(
        tr("the roster needs a days column: one of {columns}", columns=join_list(ROSTER_DAYS_COLUMNS))
    )
