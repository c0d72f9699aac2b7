"""PV revenue: one settlement row of one station, down to each holder, exact to the fen.

Order of work (every step is a line or a summary figure, so ``explain`` can retell it):

1. revenue = the settlement's amount (base price or national subsidy; a subsidy row that
   arrives late is allocated on the register of its own service period: the caller passes
   frames as of the service period's last day) — ``_revenue``;
2. deductions in the rule's order (O&M, land rent, insurance …), each to its own account; a
   deduction larger than what is left takes what is left and the rest is reported as
   ``<name>_uncovered_fen`` (never a negative distributable amount) — ``_deductions``;
3. the distributable rest is split between the parts (collective / wages / households) by a
   largest-remainder split of the rule's percentages, so the parts sum to it exactly (a tie
   between parts goes to the first in that order) — ``_part_amounts``;
4. the wage part pays the roster (days × daily rate); what the pool cannot cover is reported per
   person (``unpaid_fen``) and in ``unpaid_wages_fen``; what the roster leaves unused is a line
   to the wage part's ``unused_account_code`` in the paying entity's books — ``_pay_wages``;
5. the collective part goes to the station's villages (by claimed kW × active days, or equally)
   — ``_collective_part``;
6. the households part is split by claimed kW × active days (in ``by_claimed_kw`` mode the
   collective holdings take part in this split) — ``_holders_part``.

Every split is a largest remainder over exact shares, a tie going to the lower holder id (ids
compared as text, the household id and the village code alike; the residual of ``residual`` mode
loses every tie). A part that has nobody to go to in a service period (no village holds a claim,
nobody is eligible and active) goes to the part's ``residual_account_code`` with a summary
figure, or, without one, this settlement row alone is refused (``RowRefused``): the run's other
rows are still allocated.

A holding's active days in the service period run from max(start_on, period start) to
min(end_on, period end) inclusive; with ``stop_on_exit`` a household's exited_on is its first
day no longer counted. Eligibility filters (``household.`` and ``any_member.``) see the register
as of the period's last day.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from fractions import Fraction

import numpy as np
import pandas as pd

from disburse.allocations.frames import (
    AllocationError,
    active_ranges,
    as_days,
    exclusions_frame,
    filters_failed,
    household_accounts,
    people_living_on,
    person_accounts,
    roster_days,
    service_period_bounds,
    year_fraction,
)
from disburse.allocations.model import AllocationResult, ResultParts, Step
from disburse.allocations.names import deduction_name, revenue_type_name
from disburse.allocations.rules import PvRevenueRule
from disburse.allocations.split import decimal_text, divide_half_up, percent_text, split_largest_remainder
from disburse.foundation.i18n import tr, tr_noop
from disburse.foundation.money import format_yuan

ROSTER_ROWS_MAX = 100_000
HOUSEHOLD_COMPONENT = "household_share"
COLLECTIVE_COMPONENT = "collective_share"
WAGE_COMPONENT = "public_welfare_wage"
WAGE_UNUSED_COMPONENT = "wage_pool_unused"
RESIDUAL_COMPONENT = "inactive_claims_residual"
UNCLAIMED_COMPONENT = "unclaimed_part"
# The residual of ``inactive_share: residual`` takes part in the split as one more "holder"
# whose key sorts after every holder id, so it loses every tie.
RESIDUAL_TIE_KEY = "\U0010ffff"
PART_COMPONENTS = {"collective": COLLECTIVE_COMPONENT, "wages": WAGE_COMPONENT, "households": HOUSEHOLD_COMPONENT}
# Each part's step, read in the current language where it is shown (the part names are the
# rule's keys, parts.collective …, so the English keeps them).
PART_STEP_TEXTS = {
    "collective": tr_noop("collective part: {rate} of the distributable amount (largest remainder over the parts)"),
    "wages": tr_noop("wages part: {rate} of the distributable amount (largest remainder over the parts)"),
    "households": tr_noop("households part: {rate} of the distributable amount (largest remainder over the parts)"),
}
HOLDERS_TOGETHER_STEP_TEXT = tr_noop(
    "holders (households and collectives by claimed kW) part: {rate} of the distributable amount (largest "
    "remainder over the parts)"
)
HOLDERS_TOGETHER_COLLECTIVE_STEP_TEXT = tr_noop(
    "holders (households and collectives by claimed kW) part (collectives share in it)"
)
# "the {part} part" of a part nobody can take, by the part's key.
PART_NAMES = {
    "collective": tr_noop("the collective part"),
    "wages": tr_noop("the wages part"),
    "households": tr_noop("the households part"),
}


class RowRefused(AllocationError):
    """This settlement row cannot be allocated by this rule (a part has nobody to go to and the
    rule names no residual account for it); the run's other rows can."""


def holder_tie_keys(holder_ids: object, holder_types: object) -> np.ndarray:
    """Keys that order holders by id (as text), then type: what a tie is broken on."""
    ids = pd.Series(np.asarray(holder_ids, dtype=object)).astype(str)
    return (ids + "\x00" + pd.Series(np.asarray(holder_types, dtype=object)).astype(str)).to_numpy(dtype=object)


def _account_line(**values: object) -> pd.DataFrame:
    return pd.DataFrame([values])


# --- 1 and 2: revenue and deductions -----------------------------------------------------------


def _revenue(rule: PvRevenueRule, settlement: Mapping[str, object]) -> tuple[int, datetime.date, datetime.date, Step]:
    if settlement["station_id"] != rule.station_id:
        raise AllocationError(
            tr(
                "settlement of {station} given to a rule for {rule_station}",
                station=settlement["station_id"],
                rule_station=rule.station_id,
            )
        )
    revenue_fen = int(settlement["amount_fen"])  # type: ignore[call-overload]
    if revenue_fen < 0:
        raise AllocationError(
            tr(
                "settlement of {amount} is negative: a correction is allocated by reversing the original run",
                amount=format_yuan(revenue_fen),
            )
        )
    period_start, period_end = service_period_bounds(str(settlement["service_period"]))
    revenue_type = settlement.get("revenue_type", "base")
    text = tr(
        "{station} revenue ({revenue_type}) for {period} ({start} to {end})",
        station=rule.station_id,
        revenue_type=revenue_type_name(revenue_type),
        period=settlement["service_period"],
        start=period_start,
        end=period_end,
    )
    return revenue_fen, period_start, period_end, Step(text, revenue_fen)


def _deduction_amount_fen(
    rule: PvRevenueRule, index: int, revenue_fen: int, share: Fraction, capacity_units_e4: int | None
) -> tuple[int, str]:
    """The amount a deduction asks for in this service period, and how it was computed."""
    deduction = rule.deductions[index]
    if deduction.percent_of_revenue is not None:
        rate = deduction.percent_of_revenue
        amount = divide_half_up(revenue_fen * rate.numerator, rate.denominator)
        return int(amount), tr("{rate} of revenue {revenue}", rate=percent_text(rate), revenue=format_yuan(revenue_fen))
    if deduction.per_watt_year_fen is not None:
        if not capacity_units_e4:
            raise AllocationError(
                tr(
                    "deduction {deduction} is per watt but no capacity is known for {station}",
                    deduction=deduction_name(deduction.name, deduction.label),
                    station=rule.station_id,
                )
            )
        # fen per W per year × W (units_e4 / 10) × fraction of a year.
        exact = deduction.per_watt_year_fen * Fraction(capacity_units_e4, 10) * share
        amount = divide_half_up(exact.numerator, exact.denominator)
        price_yuan = decimal_text(Fraction(deduction.per_watt_year_fen) / 100, places_max=6)
        watts = decimal_text(Fraction(capacity_units_e4, 10), places_max=1)
        return int(amount), tr(
            "{price} yuan/W/year × {watts} W × {share} year", price=price_yuan, watts=watts, share=share
        )
    assert deduction.fixed_per_year_fen is not None
    exact = deduction.fixed_per_year_fen * share
    amount = divide_half_up(exact.numerator, exact.denominator)
    return int(amount), tr(
        "{amount} yuan/year × {share} year", amount=format_yuan(deduction.fixed_per_year_fen), share=share
    )


def _deductions(
    rule: PvRevenueRule, revenue_fen: int, share_of_year: Fraction, capacity_units_e4: int | None, parts: ResultParts
) -> int:
    """Take the deductions in order; returns what is left to distribute."""
    remaining_fen = revenue_fen
    for index, deduction in enumerate(rule.deductions):
        asked_fen, how = _deduction_amount_fen(rule, index, revenue_fen, share_of_year, capacity_units_e4)
        taken_fen = min(asked_fen, remaining_fen)
        remaining_fen -= taken_fen
        parts.summary[f"deduction_{deduction.name}_fen"] = taken_fen
        if asked_fen != taken_fen:
            parts.summary[f"deduction_{deduction.name}_uncovered_fen"] = asked_fen - taken_fen
        note = (
            ""
            if asked_fen == taken_fen
            else tr("asked {asked}, only {taken} left", asked=format_yuan(asked_fen), taken=format_yuan(taken_fen))
        )
        name = deduction_name(deduction.name, deduction.label)
        text = (
            tr("less {deduction} ({how}); {note}", deduction=name, how=how, note=note)
            if note
            else tr("less {deduction} ({how})", deduction=name, how=how)
        )
        parts.steps.append(Step(text, -taken_fen))
        if taken_fen:
            parts.lines.append(
                _account_line(
                    payee_type="account",
                    payee_id=deduction.payee or deduction.name,
                    household_id=None,
                    component=f"{deduction.name}_deduction",
                    account_code=deduction.account_code,
                    debit_account_code=deduction.expense_account_code,
                    amount_fen=taken_fen,
                    basis=how,
                    note=note,
                )
            )
    parts.summary["distributable_fen"] = remaining_fen
    parts.steps.append(Step(tr("distributable after deductions"), remaining_fen))
    return remaining_fen


# --- 3: the parts -------------------------------------------------------------------------------


def _part_amounts(rule: PvRevenueRule, distributable_fen: int, parts: ResultParts) -> dict[str, int]:
    """The distributable amount split over the rule's parts (largest remainder over the rates)."""
    rule_parts = rule.parts
    names, rates = [], []
    if rule_parts.collective.mode == "percentage":
        names.append("collective")
        rates.append(rule_parts.collective.percent)
    if rule_parts.wages is not None:
        names.append("wages")
        rates.append(rule_parts.wages.percent)
    names.append("households")
    rates.append(rule_parts.households.percent)
    amounts = split_largest_remainder(distributable_fen, rates, np.arange(len(names)))
    part_fen = dict(zip(names, (int(value) for value in amounts)))
    together = rule_parts.collective.mode == "by_claimed_kw"
    for name, rate in zip(names, rates):
        parts.summary[f"part_{name}_fen"] = part_fen[name]
        holders_together = name == "households" and together
        wording = HOLDERS_TOGETHER_STEP_TEXT if holders_together else PART_STEP_TEXTS[name]
        parts.steps.append(Step(tr(wording, rate=percent_text(rate)), part_fen[name], PART_COMPONENTS[name]))
        if holders_together:
            text = tr(HOLDERS_TOGETHER_COLLECTIVE_STEP_TEXT)
            parts.steps.append(Step(text, part_fen[name], COLLECTIVE_COMPONENT))
    return part_fen


# --- the holders of the station in the service period -------------------------------------------


def _station_holdings(
    rule: PvRevenueRule, holdings: pd.DataFrame, period_start: datetime.date, period_end: datetime.date
) -> pd.DataFrame:
    """The station's holdings overlapping the period, with ``full_days`` (before exits)."""
    station = holdings[holdings["asset_id"] == rule.station_id]
    start_days, end_days = as_days(station["start_on"]), as_days(station["end_on"])
    overlaps = (start_days <= np.datetime64(period_end, "D")) & (
        np.isnat(end_days) | (end_days >= np.datetime64(period_start, "D"))
    )
    station = station[overlaps].reset_index(drop=True)
    _, _, full_days = active_ranges(station["start_on"], station["end_on"], None, period_start, period_end)
    return station.assign(full_days=full_days)


def _holder_register_rows(
    rule: PvRevenueRule, station: pd.DataFrame, households: pd.DataFrame, period_end: datetime.date
) -> tuple[pd.DataFrame, pd.DataFrame, list[pd.DataFrame]]:
    """Holdings of households in the register (others excluded) and each one's register row
    (blank for a collective), aligned row by row."""
    indexed = households.drop_duplicates("household_id").set_index("household_id")
    is_household = (station["holder_type"] == "household").to_numpy()
    # One hash lookup of every holder in the register, reused for every later look-up.
    positions = indexed.index.get_indexer(station["holder_id"].to_numpy(dtype=object))
    unknown = is_household & (positions < 0)
    exclusions = []
    if unknown.any():
        reason = tr(
            "holds a claim in {station} but is not in the register as of {date}",
            station=rule.station_id,
            date=period_end,
        )
        exclusions.append(exclusions_frame(station["holder_id"].to_numpy()[unknown], None, reason))
    station, positions, is_household = (
        station[~unknown].reset_index(drop=True),
        positions[~unknown],
        is_household[~unknown],
    )
    if len(indexed) == 0:
        return station, indexed.reindex(station["holder_id"].to_numpy()).reset_index(drop=True), exclusions
    rows = indexed.iloc[np.where(is_household, positions, 0)].reset_index()
    if not is_household.all():
        # Collective holders have no household row: blank their borrowed row out.
        rows = rows.where(pd.Series(is_household), None)
    return station, rows, exclusions


def _eligible_and_active(
    rule: PvRevenueRule,
    station: pd.DataFrame,
    register_rows: pd.DataFrame,
    people: pd.DataFrame,
    period_start: datetime.date,
    period_end: datetime.date,
) -> tuple[np.ndarray, np.ndarray, list[pd.DataFrame]]:
    """Which holdings count (eligible, active at least a day) and their active days."""
    is_household = (station["holder_type"] == "household").to_numpy()
    holder_ids = station["holder_id"].to_numpy(dtype=object)
    keep = np.ones(len(station), dtype=bool)
    exclusions = []
    if rule.eligibility and len(station):
        candidates = pd.Series(np.where(is_household, holder_ids, None), dtype=object)
        reasons = filters_failed(
            rule.eligibility,
            {"household": register_rows},
            candidate_households=candidates,
            people_living=people_living_on(people, period_end),
        )
        failed = reasons.notna().to_numpy() & is_household
        if failed.any():
            exclusions.append(exclusions_frame(holder_ids[failed], None, reasons.to_numpy()[failed]))
        keep &= ~failed
    exits = None
    if rule.stop_on_exit and len(station):
        exits = register_rows["exited_on"].where(pd.Series(is_household), None).reset_index(drop=True)
    _, _, active_days = active_ranges(station["start_on"], station["end_on"], exits, period_start, period_end)
    exited_before = keep & is_household & (active_days == 0)
    if exited_before.any():
        reason = tr("exited before the service period: no active day in it")
        exclusions.append(exclusions_frame(holder_ids[exited_before], None, reason))
    return keep & (active_days > 0), active_days, exclusions


def _weights_per_holder(kept: pd.DataFrame, active_days: np.ndarray) -> pd.DataFrame:
    """One row per holder: units, weight (units × active days over its holdings), active days
    (-1 when it has several holdings), holding count and tie key; sorted by tie key."""
    units = kept["units_e4"].to_numpy(dtype=np.int64)
    frame = pd.DataFrame(
        {
            "holder_type": kept["holder_type"].to_numpy(dtype=object),
            "holder_id": kept["holder_id"].to_numpy(dtype=object),
            "units_e4": units,
            "weight": units * active_days,  # kW e4 × at most 92 days: far inside int64.
            "active_days": active_days,
            "tie_key": holder_tie_keys(kept["holder_id"], kept["holder_type"]),
        }
    )
    keys = frame["tie_key"].to_numpy()
    # Registers hand holdings over sorted by holder id; then order and uniqueness are two
    # vectorised comparisons of neighbours, and neither a sort nor a hash is needed.
    ordered = len(frame) < 2 or bool(np.all(keys[:-1] <= keys[1:]))
    duplicated = bool(np.any(keys[:-1] == keys[1:])) if ordered else bool(frame["tie_key"].duplicated().any())
    if not duplicated:
        if not ordered:
            frame = frame.sort_values("tie_key", kind="stable", ignore_index=True)
        return frame.assign(holding_count=1)
    grouped = frame.groupby("tie_key", sort=True).agg(
        holder_type=("holder_type", "first"),
        holder_id=("holder_id", "first"),
        units_e4=("units_e4", "sum"),
        weight=("weight", "sum"),
        active_days=("active_days", "max"),
        holding_count=("weight", "size"),
    )
    grouped = grouped.reset_index()
    grouped.loc[grouped["holding_count"] > 1, "active_days"] = -1
    return grouped


def station_holders(
    rule: PvRevenueRule,
    households: pd.DataFrame,
    people: pd.DataFrame,
    holdings: pd.DataFrame,
    period_start: datetime.date,
    period_end: datetime.date,
) -> tuple[pd.DataFrame, list[pd.DataFrame], dict[str, int]]:
    """The station's holders that count in the period, the exclusions, and the full claimed
    kW·days per holder type (before exits and exclusions: the denominator of ``residual``)."""
    station = _station_holdings(rule, holdings, period_start, period_end)
    full = station["units_e4"].to_numpy(dtype=np.int64) * station["full_days"].to_numpy(dtype=np.int64)
    is_household = (station["holder_type"] == "household").to_numpy()
    full_weight = {"household": int(full[is_household].sum()), "collective": int(full[~is_household].sum())}
    station, register_rows, exclusions = _holder_register_rows(rule, station, households, period_end)
    keep, active_days, more = _eligible_and_active(rule, station, register_rows, people, period_start, period_end)
    holders = _weights_per_holder(station[keep], active_days[keep])
    return holders, exclusions + more, full_weight


# --- 4: wages ----------------------------------------------------------------------------------


def _roster_owed(roster: pd.DataFrame | None) -> pd.DataFrame:
    """What the roster owes each person (days × daily rate, several rows summed), by id."""
    roster = roster if roster is not None else pd.DataFrame(columns=["id_number", "days_worked", "daily_rate_fen"])
    if len(roster) > ROSTER_ROWS_MAX:
        raise AllocationError(
            tr(
                "roster of {rows} rows exceeds ROSTER_ROWS_MAX = {limit}",
                rows=f"{len(roster):,}",
                limit=f"{ROSTER_ROWS_MAX:,}",
            )
        )
    days = roster_days(roster)
    rates = roster["daily_rate_fen"].to_numpy(dtype=np.int64)
    if (days < 0).any() or (rates < 0).any():
        raise AllocationError(tr("roster: days worked and daily rates must not be negative"))
    owed = pd.DataFrame(
        {"id_number": roster["id_number"].astype(object).to_numpy(), "owed_fen": days * rates, "days_worked": days}
    )
    return (
        owed.groupby("id_number", sort=True)
        .agg(owed_fen=("owed_fen", "sum"), days_worked=("days_worked", "sum"))
        .reset_index()
    )


def _owed_in_register(
    owed: pd.DataFrame, people: pd.DataFrame, period_end: datetime.date
) -> tuple[pd.DataFrame, pd.DataFrame, list[pd.DataFrame]]:
    """The roster's living registered people (others excluded) and their register rows."""
    # Only the roster's people are looked up (a county has hundreds of thousands).
    on_roster = people[people["id_number"].isin(owed["id_number"])] if len(owed) else people.iloc[:0]
    register = people_living_on(on_roster, period_end).drop_duplicates("id_number").set_index("id_number")
    found = owed["id_number"].isin(register.index).to_numpy()
    exclusions = []
    if (~found).any():
        missing = owed[~found]
        wording = tr("on the wage roster (owed {owed}) but not a living person in the register")
        exclusions.append(
            exclusions_frame(
                np.full(len(missing), None, dtype=object),
                missing["id_number"].to_numpy(),
                [wording.format(owed=format_yuan(int(v))) for v in missing["owed_fen"]],
            )
        )
    owed = owed[found].reset_index(drop=True)
    return owed, register.reindex(owed["id_number"].to_numpy()).reset_index(), exclusions


def _wages_paid(wage_pool_fen: int, owed: pd.DataFrame) -> tuple[np.ndarray, Step, bool]:
    owed_fen = owed["owed_fen"].to_numpy(dtype=np.int64)
    owed_total = int(owed_fen.sum())
    if owed_total <= wage_pool_fen:
        text = tr("wage roster owes {owed}; the wage part covers it", owed=format_yuan(owed_total))
        return owed_fen, Step(text, owed_total, WAGE_COMPONENT), False
    paid = split_largest_remainder(wage_pool_fen, owed_fen, owed["id_number"].to_numpy())
    text = tr(
        "wage roster owes {owed} but the wage part is {pool}: paid pro rata, {unpaid} unpaid and reported",
        owed=format_yuan(owed_total),
        pool=format_yuan(wage_pool_fen),
        unpaid=format_yuan(owed_total - wage_pool_fen),
    )
    return paid, Step(text, wage_pool_fen, WAGE_COMPONENT), True


def _pay_wages(
    rule: PvRevenueRule,
    wage_pool_fen: int,
    roster: pd.DataFrame | None,
    households: pd.DataFrame,
    people: pd.DataFrame,
    period_end: datetime.date,
    parts: ResultParts,
) -> None:
    """Pay the roster from the wage pool: in full when it suffices, else pro rata with the gap reported."""
    wages = rule.parts.wages
    assert wages is not None
    owed, person_rows, exclusions = _owed_in_register(_roster_owed(roster), people, period_end)
    parts.exclusions += exclusions
    paid, step, pro_rata = _wages_paid(wage_pool_fen, owed)
    parts.steps.append(step)
    owed_fen = owed["owed_fen"].to_numpy(dtype=np.int64)
    unpaid = owed_fen - paid
    if len(owed):
        accounts = person_accounts(person_rows, households)
        shares = pd.array([pd.NA] * len(owed) if not pro_rata else owed_fen, dtype="Int64")
        parts.lines.append(
            pd.DataFrame(
                {
                    "payee_type": "person",
                    "payee_id": owed["id_number"].to_numpy(),
                    "household_id": person_rows["household_id"].to_numpy(dtype=object),
                    "component": WAGE_COMPONENT,
                    "account_code": wages.account_code,
                    "debit_account_code": wages.debit_account_code,
                    "amount_fen": paid,
                    "basis": tr("days worked × daily rate (公益岗位)"),
                    "share_numerator": shares,
                    "share_denominator": int(owed_fen.sum()) if pro_rata else pd.NA,
                    "share_pool_fen": wage_pool_fen if pro_rata else pd.NA,
                    "note": np.where(
                        unpaid > 0,
                        tr("the wage part could not cover the roster: the rest of the wage stays unpaid"),
                        "",
                    ),
                    "account_no": accounts["account_no"].to_numpy(),
                    "account_name": accounts["account_name"].to_numpy(),
                    "beneficiary_id": owed["id_number"].to_numpy(dtype=object),
                    "owed_fen": owed_fen,
                    "unpaid_fen": unpaid,
                    "active_days": owed["days_worked"].to_numpy(dtype=np.int64),
                }
            )
        )
    unused = wage_pool_fen - int(paid.sum())
    if unused:
        parts.lines.append(
            _account_line(
                payee_type="account",
                payee_id=rule.paying_entity,
                household_id=None,
                component=WAGE_UNUSED_COMPONENT,
                account_code=wages.unused_account_code,
                debit_account_code=wages.debit_account_code,
                amount_fen=unused,
                basis=tr("wage part not used by the roster"),
                note=tr(
                    "stays in {entity}'s books on account {account}",
                    entity=rule.paying_entity,
                    account=wages.unused_account_code,
                ),
            )
        )
        text = tr("wage part left unused by the roster, kept on account {account}", account=wages.unused_account_code)
        parts.steps.append(Step(text, unused, WAGE_UNUSED_COMPONENT))
    parts.summary.update(
        wages_owed_fen=int(owed_fen.sum()),
        wages_paid_fen=int(paid.sum()),
        unpaid_wages_fen=int(unpaid.sum()),
        wage_pool_unused_fen=unused,
    )


# --- 5 and 6: the villages and the holders -------------------------------------------------------


def _unclaimed(
    rule: PvRevenueRule, part: str, amount_fen: int, account: str | None, debit: str, why: str, parts: ResultParts
) -> None:
    """A part nobody can take: to the part's residual account, or this row is refused."""
    the_part = tr(PART_NAMES[part])
    if account is None:
        raise RowRefused(
            tr(
                "{why}, so {the_part} of {amount} has nobody to go to and the rule names no "
                "parts.{part}.residual_account_code",
                why=why,
                the_part=the_part,
                amount=format_yuan(amount_fen),
                part=part,
            )
        )
    parts.lines.append(
        _account_line(
            payee_type="account",
            payee_id=rule.paying_entity,
            household_id=None,
            component=UNCLAIMED_COMPONENT,
            account_code=account,
            debit_account_code=debit,
            amount_fen=amount_fen,
            basis=tr("{the_part}: {why}", the_part=the_part, why=why),
            note=tr("stays in {entity}'s books on account {account}", entity=rule.paying_entity, account=account),
        )
    )
    text = tr("{why}: {the_part} goes to account {account}", why=why, the_part=the_part, account=account)
    parts.steps.append(Step(text, amount_fen, UNCLAIMED_COMPONENT))
    parts.summary["unclaimed_fen"] = parts.summary.get("unclaimed_fen", 0) + amount_fen


def _collective_part(
    rule: PvRevenueRule, part_fen: int, holders: pd.DataFrame, period: str, parts: ResultParts
) -> None:
    """The collective part (percentage mode) over the station's villages."""
    collective = rule.parts.collective
    villages = holders[holders["holder_type"] == "collective"]
    if len(villages) == 0:
        if part_fen:
            why = tr(
                "no village collective holds a claim in {station} in {period}", station=rule.station_id, period=period
            )
            _unclaimed(
                rule,
                "collective",
                part_fen,
                collective.residual_account_code,
                collective.debit_account_code,
                why,
                parts,
            )
        return
    if collective.among_villages == "equally":
        weights, basis = np.ones(len(villages), dtype=np.int64), tr("equal share among the station's villages")
    else:
        weights, basis = villages["weight"].to_numpy(dtype=np.int64), tr("village's claimed kW × active days")
    amounts = split_largest_remainder(part_fen, weights, villages["tie_key"].to_numpy())
    parts.lines.append(
        pd.DataFrame(
            {
                "payee_type": "collective",
                "payee_id": villages["holder_id"].to_numpy(),
                "household_id": None,
                "component": COLLECTIVE_COMPONENT,
                "account_code": collective.account_code,
                "debit_account_code": collective.debit_account_code,
                "amount_fen": amounts,
                "basis": basis,
                "share_numerator": weights,
                "share_denominator": int(weights.sum()),
                "share_pool_fen": part_fen,
                "note": "",
                "units_e4": villages["units_e4"].to_numpy(dtype=np.int64),
            }
        )
    )


def _holder_lines(
    rule: PvRevenueRule, share_holders: pd.DataFrame, amounts: np.ndarray, denominator: int, part_fen: int, households
) -> pd.DataFrame:
    parts = rule.parts
    is_household = (share_holders["holder_type"] == "household").to_numpy()
    accounts = household_accounts(households, share_holders["holder_id"])
    active_days = share_holders["active_days"].to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            "payee_type": np.where(is_household, "household", "collective"),
            "payee_id": share_holders["holder_id"].to_numpy(),
            "household_id": share_holders["holder_id"].where(is_household, None).to_numpy(dtype=object),
            "component": np.where(is_household, HOUSEHOLD_COMPONENT, COLLECTIVE_COMPONENT),
            "account_code": np.where(is_household, parts.households.account_code, parts.collective.account_code),
            "debit_account_code": np.where(
                is_household, parts.households.debit_account_code, parts.collective.debit_account_code
            ),
            "amount_fen": amounts,
            "basis": tr("claimed kW × active days"),
            "share_numerator": share_holders["weight"].to_numpy(dtype=np.int64),
            "share_denominator": denominator,
            "share_pool_fen": part_fen,
            "note": "",
            "account_no": np.where(is_household, accounts["account_no"].to_numpy(), None),
            "account_name": np.where(is_household, accounts["account_name"].to_numpy(), None),
            "units_e4": share_holders["units_e4"].to_numpy(dtype=np.int64),
            "active_days": _days_or_missing(active_days),
        }
    )


def _days_or_missing(active_days: np.ndarray) -> pd.arrays.IntegerArray:
    """Active days per holder; missing (NA) where a holder has several holdings."""
    values = pd.array(active_days, dtype="Int64")
    values[active_days < 0] = pd.NA
    return values


def _residual_line(rule: PvRevenueRule, residual_fen: int, residual_weight: int, full_weight: int) -> pd.DataFrame:
    households = rule.parts.households
    return _account_line(
        payee_type="account",
        payee_id=rule.paying_entity,
        household_id=None,
        component=RESIDUAL_COMPONENT,
        account_code=households.residual_account_code,
        debit_account_code=households.debit_account_code,
        amount_fen=residual_fen,
        basis=tr("kW·days of claims not active or not eligible in the period"),
        share_numerator=residual_weight,
        share_denominator=full_weight,
        note="",
    )


def _holders_part(
    rule: PvRevenueRule,
    part_fen: int,
    holders: pd.DataFrame,
    full_weight: dict[str, int],
    households: pd.DataFrame,
    period: str,
    parts: ResultParts,
) -> None:
    """The households part (with the collectives in by_claimed_kw mode) by kW × active days."""
    rule_parts = rule.parts
    together = rule_parts.collective.mode == "by_claimed_kw"
    share_holders = holders if together else holders[holders["holder_type"] == "household"]
    share_holders = share_holders.reset_index(drop=True)
    weights = share_holders["weight"].to_numpy(dtype=np.int64)
    keys = share_holders["tie_key"].to_numpy(dtype=object)
    active_weight = int(weights.sum())
    residual_mode = rule_parts.households.inactive_share == "residual"
    full = full_weight["household"] + (full_weight["collective"] if together else 0)
    denominator = full if residual_mode else active_weight
    if (full if residual_mode else active_weight) == 0:
        if part_fen:
            why = tr(
                "nobody eligible holds an active claim in {station} in {period}", station=rule.station_id, period=period
            )
            households_part = rule_parts.households
            account, debit = households_part.residual_account_code, households_part.debit_account_code
            _unclaimed(rule, "households", part_fen, account, debit, why, parts)
        amounts, residual_fen = np.zeros(len(weights), dtype=np.int64), 0
    elif residual_mode:
        assert full >= active_weight, "active kW-days cannot exceed the full claim"
        all_amounts = split_largest_remainder(
            part_fen, np.append(weights, full - active_weight), np.append(keys, RESIDUAL_TIE_KEY)
        )
        amounts, residual_fen = all_amounts[:-1], int(all_amounts[-1])
    else:
        amounts, residual_fen = split_largest_remainder(part_fen, weights, keys), 0
    whole = tr("of the full claim; inactive days go to the residual") if residual_mode else tr("of the active claims")
    text = tr(
        "split by claimed kW × active days over {denominator} kW·day (×10⁴) {whole}",
        denominator=f"{denominator:,}",
        whole=whole,
    )
    parts.steps.append(Step(text, part_fen, HOUSEHOLD_COMPONENT))
    if len(share_holders):
        parts.lines.append(_holder_lines(rule, share_holders, amounts, denominator, part_fen, households))
    if residual_fen:
        parts.lines.append(_residual_line(rule, residual_fen, full - active_weight, full))
        text = tr("share of inactive or excluded claims, booked as residual")
        parts.steps.append(Step(text, residual_fen, RESIDUAL_COMPONENT))
    parts.summary["inactive_claims_residual_fen"] = residual_fen
    parts.summary["holders_paid"] = int((amounts > 0).sum())


def allocate_pv(
    rule: PvRevenueRule,
    settlement: Mapping[str, object],
    households: pd.DataFrame,
    people: pd.DataFrame,
    holdings: pd.DataFrame,
    roster: pd.DataFrame | None = None,
    *,
    capacity_units_e4: int | None = None,
) -> AllocationResult:
    """Allocate one settlement row of ``rule.station_id`` (see the module doc for the order).

    ``settlement`` has station_id, service_period, amount_fen (and revenue_type, kwh);
    ``households``/``people``/``holdings`` are the frames of docs/contracts.md as of the service
    period's last day; ``roster`` (id_number, days_worked, daily_rate_fen) feeds the wage part.
    ``capacity_units_e4`` is the station's capacity when the rule states none (the run takes it
    from the register). Raises ``AllocationError`` for a settlement of another station or a
    negative amount, ``RowRefused`` when a part has nobody to go to and no residual account.
    """
    revenue_fen, period_start, period_end, first = _revenue(rule, settlement)
    period = str(settlement["service_period"])
    if roster is not None and len(roster) and rule.parts.wages is None:
        raise AllocationError(tr("a wage roster was given but the rule has no wages part"))
    parts = ResultParts(steps=[first], summary={"pool_fen": revenue_fen})
    capacity = rule.capacity_units_e4 or capacity_units_e4
    distributable_fen = _deductions(rule, revenue_fen, year_fraction(period_start, period_end), capacity, parts)
    part_fen = _part_amounts(rule, distributable_fen, parts)
    holders, exclusions, full_weight = station_holders(rule, households, people, holdings, period_start, period_end)
    parts.exclusions += exclusions
    if rule.parts.wages is not None:
        _pay_wages(rule, part_fen["wages"], roster, households, people, period_end, parts)
    if rule.parts.collective.mode == "percentage":
        _collective_part(rule, part_fen["collective"], holders, period, parts)
    _holders_part(rule, part_fen["households"], holders, full_weight, households, period, parts)
    parts.summary["residual_fen"] = (
        parts.summary["inactive_claims_residual_fen"]
        + parts.summary.get("wage_pool_unused_fen", 0)
        + parts.summary.get("unclaimed_fen", 0)
    )
    return parts.build(rule.kind, rule.name, revenue_fen)


__all__ = ["RowRefused", "allocate_pv", "holder_tie_keys", "station_holders"]
