"""PV revenue: one settlement row of one station, down to each holder, exact to the fen.

Order of work (every step is a line or a summary figure, so ``explain`` can retell it):

1. revenue = the settlement's amount (base price or national subsidy; a subsidy row that
   arrives late is allocated on the register of its own service period: the caller passes
   frames as of the service period's last day);
2. deductions in the rule's order (O&M, land rent, insurance …), each to its own account; a
   deduction larger than what is left takes what is left and the rest is reported as
   ``<name>_uncovered_fen`` (never a negative distributable amount);
3. the distributable rest is split between the parts (collective / wages / households) by a
   largest-remainder split of the rule's percentages, so the parts sum to it exactly;
4. the wage part pays the roster (days × daily rate); what the pool cannot cover is reported per
   person (``unpaid_fen``) and in ``unpaid_wages_fen``; what the roster leaves unused is a line
   to the wage part's ``unused_account_code`` in the paying entity's books;
5. the collective part goes to the station's villages (by claimed kW × active days, or equally);
6. the households part is split by claimed kW × active days (in ``by_claimed_kw`` mode the
   collective holdings take part in this split).

A holding's active days in the service period run from max(start_on, period start) to
min(end_on, period end) inclusive; with ``stop_on_exit`` a household's exited_on is its first
day no longer counted. Eligibility filters see the households frame as of the period's last
day.
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
    exclusions_frame,
    filters_failed,
    household_accounts,
    people_living_on,
    person_accounts,
    roster_days,
    service_period_bounds,
    year_fraction,
)
from disburse.allocations.model import AllocationResult, Step, result_build
from disburse.allocations.rules import PvRevenueRule
from disburse.allocations.split import decimal_text, divide_half_up, percent_text, split_largest_remainder
from disburse.foundation.money import format_yuan

ROSTER_ROWS_MAX = 100_000
HOUSEHOLD_COMPONENT = "household_share"
COLLECTIVE_COMPONENT = "collective_share"
WAGE_COMPONENT = "public_welfare_wage"


def _deduction_amount_fen(rule: PvRevenueRule, index: int, revenue_fen: int, share: Fraction) -> tuple[int, str]:
    """The amount a deduction asks for in this service period, and how it was computed."""
    deduction = rule.deductions[index]
    if deduction.percent_of_revenue is not None:
        rate = deduction.percent_of_revenue
        amount = divide_half_up(revenue_fen * rate.numerator, rate.denominator)
        return int(amount), f"{percent_text(rate)} of revenue {format_yuan(revenue_fen)}"
    if deduction.per_watt_year_fen is not None:
        assert rule.capacity_units_e4 is not None
        # fen per W per year × W (units_e4 / 10) × fraction of a year.
        exact = deduction.per_watt_year_fen * Fraction(rule.capacity_units_e4, 10) * share
        amount = divide_half_up(exact.numerator, exact.denominator)
        price_yuan = decimal_text(Fraction(deduction.per_watt_year_fen) / 100, places_max=6)
        watts = decimal_text(Fraction(rule.capacity_units_e4, 10), places_max=1)
        return int(amount), f"{price_yuan} yuan/W/year × {watts} W × {share} year"
    assert deduction.fixed_per_year_fen is not None
    exact = deduction.fixed_per_year_fen * share
    amount = divide_half_up(exact.numerator, exact.denominator)
    return int(amount), f"{format_yuan(deduction.fixed_per_year_fen)} yuan/year × {share} year"


def _days_or_missing(active_days: np.ndarray) -> pd.arrays.IntegerArray:
    """Active days per holder; missing (NA) where a holder has several holdings."""
    values = pd.array(active_days, dtype="Int64")
    values[active_days < 0] = pd.NA
    return values


def _account_line(**values: object) -> pd.DataFrame:
    return pd.DataFrame([values])


def _holder_weights(
    rule: PvRevenueRule,
    households: pd.DataFrame,
    holdings: pd.DataFrame,
    period_start: datetime.date,
    period_end: datetime.date,
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Active kW-days per holder of this station, the exclusions, and the full claimed kW-days.

    Returns (holders, exclusions, full_weight): ``holders`` has holder_type, holder_id,
    units_e4, weight (units_e4 × active days summed over the holder's holdings), holding_count
    and active_days (when the holder has one holding), sorted by holder type then id.
    """
    station = holdings[holdings["asset_id"] == rule.station_id]
    exclusions: list[pd.DataFrame] = []
    start_days = pd.to_datetime(station["start_on"]).to_numpy().astype("datetime64[D]")
    end_days = pd.to_datetime(station["end_on"]).to_numpy().astype("datetime64[D]")
    overlaps = (start_days <= np.datetime64(period_end, "D")) & (
        np.isnat(end_days) | (end_days >= np.datetime64(period_start, "D"))
    )
    station = station[overlaps].reset_index(drop=True)
    is_household = (station["holder_type"] == "household").to_numpy()

    # The full claim, before exits and exclusions: the denominator of the residual mode.
    _, _, full_days = active_ranges(station["start_on"], station["end_on"], None, period_start, period_end)
    full_weight = int((station["units_e4"].to_numpy(dtype=np.int64) * full_days).sum())

    indexed = households.set_index("household_id")
    if not indexed.index.is_unique:
        indexed = households.drop_duplicates("household_id").set_index("household_id")
    # One hash lookup of every holder in the register, reused for every later look-up.
    positions = indexed.index.get_indexer(station["holder_id"].to_numpy(dtype=object))
    known = (positions >= 0) | ~is_household
    unknown = ~known
    if unknown.any():
        exclusions.append(
            exclusions_frame(
                station["holder_id"].to_numpy()[unknown],
                None,
                f"holds a claim in {rule.station_id} but is not in the register as of {period_end}",
            )
        )
    station = station[known].reset_index(drop=True)
    positions = positions[known]
    is_household = (station["holder_type"] == "household").to_numpy()
    household_rows = (
        indexed.iloc[np.where(is_household, positions, 0)]
        if len(indexed)
        else indexed.reindex(station["holder_id"].to_numpy())
    )
    if len(indexed) and not is_household.all():
        # Collective holders have no household row: blank their borrowed row out.
        household_rows = household_rows.reset_index(drop=True).where(pd.Series(is_household), None)

    keep = np.ones(len(station), dtype=bool)
    if rule.eligibility:
        reasons = filters_failed(rule.eligibility, {"household": household_rows.reset_index(drop=True)})
        failed = reasons.notna().to_numpy() & is_household
        if failed.any():
            exclusions.append(
                exclusions_frame(station["holder_id"].to_numpy()[failed], None, reasons.to_numpy()[failed])
            )
        keep &= ~failed

    exits = None
    if rule.stop_on_exit:
        exits = household_rows["exited_on"].where(pd.Series(is_household).to_numpy(), None)
        exits = exits.reset_index(drop=True)
    _, _, active_days = active_ranges(station["start_on"], station["end_on"], exits, period_start, period_end)
    exited_before = keep & is_household & (active_days == 0)
    if exited_before.any():
        exclusions.append(
            exclusions_frame(
                station["holder_id"].to_numpy()[exited_before],
                None,
                "exited before the service period: no active day in it",
            )
        )
    keep &= active_days > 0

    kept = station[keep]
    units = kept["units_e4"].to_numpy(dtype=np.int64)
    days = active_days[keep]
    weights = units * days  # kW e4 × at most 92 days: far inside int64.
    frame = pd.DataFrame(
        {
            "holder_type": kept["holder_type"].to_numpy(dtype=object),
            "holder_id": kept["holder_id"].to_numpy(dtype=object),
            "units_e4": units,
            "weight": weights,
            "active_days": days,
        }
    )
    types, ids = frame["holder_type"].to_numpy(), frame["holder_id"].to_numpy()
    # Registers hand holdings over sorted by (holder_type, holder_id); then neither a sort nor
    # a hash is needed: order and uniqueness are two vectorised comparisons of neighbours.
    ordered = len(frame) < 2 or bool(
        np.all((types[:-1] < types[1:]) | ((types[:-1] == types[1:]) & (ids[:-1] <= ids[1:])))
    )
    has_duplicates = (
        bool(np.any((types[:-1] == types[1:]) & (ids[:-1] == ids[1:])))
        if ordered
        else frame.duplicated(["holder_type", "holder_id"]).any()
    )
    if has_duplicates:
        grouped = frame.groupby(["holder_type", "holder_id"], sort=True)
        frame = grouped.agg(
            units_e4=("units_e4", "sum"),
            weight=("weight", "sum"),
            active_days=("active_days", "max"),
            holding_count=("weight", "size"),
        ).reset_index()
        frame.loc[frame["holding_count"] > 1, "active_days"] = -1
    else:
        if not ordered:
            frame = frame.sort_values(["holder_type", "holder_id"], kind="stable", ignore_index=True)
        frame["holding_count"] = 1
    return frame, (pd.concat(exclusions, ignore_index=True) if exclusions else pd.DataFrame()), full_weight


def _pay_wages(
    rule: PvRevenueRule,
    wage_pool_fen: int,
    roster: pd.DataFrame | None,
    households: pd.DataFrame,
    people: pd.DataFrame,
    period_end: datetime.date,
) -> tuple[list[pd.DataFrame], list[pd.DataFrame], dict[str, int], list[Step]]:
    """Pay the roster from the wage pool: in full when it suffices, else pro rata with the gap reported."""
    wages = rule.parts.wages
    assert wages is not None
    lines: list[pd.DataFrame] = []
    exclusions: list[pd.DataFrame] = []
    steps: list[Step] = []
    roster = roster if roster is not None else pd.DataFrame(columns=["id_number", "days_worked", "daily_rate_fen"])
    if len(roster) > ROSTER_ROWS_MAX:
        raise AllocationError(f"roster of {len(roster):,} rows exceeds ROSTER_ROWS_MAX = {ROSTER_ROWS_MAX:,}")
    days = roster_days(roster)
    rates = roster["daily_rate_fen"].to_numpy(dtype=np.int64)
    if (days < 0).any() or (rates < 0).any():
        raise AllocationError("roster: days worked and daily rates must not be negative")
    owed = pd.DataFrame(
        {"id_number": roster["id_number"].astype(object).to_numpy(), "owed_fen": days * rates, "days_worked": days}
    )
    owed = (
        owed.groupby("id_number", sort=True)
        .agg(owed_fen=("owed_fen", "sum"), days_worked=("days_worked", "sum"))
        .reset_index()
    )

    living = people_living_on(people, period_end)
    register = living.drop_duplicates("id_number").set_index("id_number")
    found = owed["id_number"].isin(register.index).to_numpy()
    if (~found).any():
        missing = owed[~found]
        exclusions.append(
            exclusions_frame(
                np.full(len(missing), None, dtype=object),
                missing["id_number"].to_numpy(),
                [
                    f"on the wage roster (owed {format_yuan(int(v))}) but not a living person in the register"
                    for v in missing["owed_fen"]
                ],
            )
        )
    owed = owed[found].reset_index(drop=True)
    owed_total = int(owed["owed_fen"].sum())
    if owed_total <= wage_pool_fen:
        paid = owed["owed_fen"].to_numpy(dtype=np.int64)
        steps.append(
            Step(f"wage roster owes {format_yuan(owed_total)}; the wage part covers it", owed_total, WAGE_COMPONENT)
        )
    else:
        paid = split_largest_remainder(
            wage_pool_fen, owed["owed_fen"].to_numpy(dtype=np.int64), owed["id_number"].to_numpy()
        )
        steps.append(
            Step(
                f"wage roster owes {format_yuan(owed_total)} but the wage part is {format_yuan(wage_pool_fen)}: "
                f"paid pro rata, {format_yuan(owed_total - wage_pool_fen)} unpaid and reported",
                wage_pool_fen,
                WAGE_COMPONENT,
            )
        )
    unpaid = owed["owed_fen"].to_numpy(dtype=np.int64) - paid
    person_rows = register.reindex(owed["id_number"].to_numpy()).reset_index()
    accounts = person_accounts(person_rows, households)
    if len(owed):
        lines.append(
            pd.DataFrame(
                {
                    "payee_type": "person",
                    "payee_id": owed["id_number"].to_numpy(),
                    "household_id": person_rows["household_id"].to_numpy(dtype=object),
                    "component": WAGE_COMPONENT,
                    "account_code": wages.account_code,
                    "debit_account_code": wages.debit_account_code,
                    "amount_fen": paid,
                    "basis": "days worked × daily rate (公益岗位)",
                    "share_numerator": owed["owed_fen"].to_numpy(dtype=np.int64),
                    "share_denominator": max(owed_total, 1),
                    "note": np.where(unpaid > 0, "the wage part could not cover the roster: see unpaid_fen", ""),
                    "account_no": accounts["account_no"].to_numpy(),
                    "account_name": accounts["account_name"].to_numpy(),
                    "owed_fen": owed["owed_fen"].to_numpy(dtype=np.int64),
                    "unpaid_fen": unpaid,
                    "active_days": owed["days_worked"].to_numpy(dtype=np.int64),
                }
            )
        )
    paid_total = int(paid.sum())
    unused = wage_pool_fen - paid_total
    if unused:
        lines.append(
            _account_line(
                payee_type="account",
                payee_id=rule.paying_entity,
                household_id=None,
                component="wage_pool_unused",
                account_code=wages.unused_account_code,
                debit_account_code=wages.debit_account_code,
                amount_fen=unused,
                basis="wage part not used by the roster",
                note=f"stays in {rule.paying_entity}'s books on account {wages.unused_account_code}",
            )
        )
        steps.append(
            Step(
                f"wage part left unused by the roster, kept on account {wages.unused_account_code}",
                unused,
                "wage_pool_unused",
            )
        )
    figures = {
        "wages_owed_fen": owed_total,
        "wages_paid_fen": paid_total,
        "unpaid_wages_fen": int(unpaid.sum()),
        "wage_pool_unused_fen": unused,
    }
    return lines, exclusions, figures, steps


def allocate_pv(
    rule: PvRevenueRule,
    settlement: Mapping[str, object],
    households: pd.DataFrame,
    people: pd.DataFrame,
    holdings: pd.DataFrame,
    roster: pd.DataFrame | None = None,
) -> AllocationResult:
    """Allocate one settlement row of ``rule.station_id`` (see the module doc for the order).

    ``settlement`` has station_id, service_period, amount_fen (and revenue_type, kwh);
    ``households``/``people``/``holdings`` are the frames of docs/contracts.md as of the service
    period's last day; ``roster`` (id_number, days_worked, daily_rate_fen) feeds the wage part.
    Raises ``AllocationError`` for a settlement of another station or a negative amount.
    """
    if settlement["station_id"] != rule.station_id:
        raise AllocationError(f"settlement of {settlement['station_id']} given to a rule for {rule.station_id}")
    revenue_fen = int(settlement["amount_fen"])
    if revenue_fen < 0:
        raise AllocationError(
            f"settlement of {format_yuan(revenue_fen)} is negative: a correction is allocated by reversing the original run"
        )
    period_start, period_end = service_period_bounds(str(settlement["service_period"]))
    share_of_year = year_fraction(period_start, period_end)
    revenue_type = settlement.get("revenue_type", "base")
    lines: list[pd.DataFrame] = []
    exclusions: list[pd.DataFrame] = []
    steps = [
        Step(
            f"{rule.station_id} {revenue_type} revenue for {settlement['service_period']} ({period_start} to {period_end})",
            revenue_fen,
        )
    ]
    summary: dict[str, int] = {"pool_fen": revenue_fen}

    remaining_fen = revenue_fen
    for index, deduction in enumerate(rule.deductions):
        asked_fen, how = _deduction_amount_fen(rule, index, revenue_fen, share_of_year)
        taken_fen = min(asked_fen, remaining_fen)
        remaining_fen -= taken_fen
        summary[f"deduction_{deduction.name}_fen"] = taken_fen
        if asked_fen != taken_fen:
            summary[f"deduction_{deduction.name}_uncovered_fen"] = asked_fen - taken_fen
        note = "" if asked_fen == taken_fen else f"asked {format_yuan(asked_fen)}, only {format_yuan(taken_fen)} left"
        steps.append(Step(f"less {deduction.name} ({how}){'; ' + note if note else ''}", -taken_fen))
        if taken_fen:
            lines.append(
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
    distributable_fen = remaining_fen
    summary["distributable_fen"] = distributable_fen
    steps.append(Step("distributable after deductions", distributable_fen))

    parts = rule.parts
    part_names = []
    part_rates = []
    if parts.collective.mode == "percentage":
        part_names.append("collective")
        part_rates.append(parts.collective.percent)
    if parts.wages is not None:
        part_names.append("wages")
        part_rates.append(parts.wages.percent)
    part_names.append("households")
    part_rates.append(parts.households.percent)
    part_amounts = split_largest_remainder(distributable_fen, part_rates, np.arange(len(part_names)))
    part_fen = dict(zip(part_names, (int(value) for value in part_amounts)))
    for name, rate in zip(part_names, part_rates):
        summary[f"part_{name}_fen"] = part_fen[name]
        component = {"collective": COLLECTIVE_COMPONENT, "wages": WAGE_COMPONENT, "households": HOUSEHOLD_COMPONENT}[
            name
        ]
        label = (
            "holders (households and collectives by claimed kW)"
            if name == "households" and parts.collective.mode == "by_claimed_kw"
            else name
        )
        steps.append(
            Step(
                f"{label} part: {percent_text(rate)} of the distributable amount (largest remainder over the parts)",
                part_fen[name],
                component,
            )
        )
        if name == "households" and parts.collective.mode == "by_claimed_kw":
            steps.append(Step(f"{label} part (collectives share in it)", part_fen[name], COLLECTIVE_COMPONENT))

    holders, holder_exclusions, full_weight = _holder_weights(rule, households, holdings, period_start, period_end)
    if len(holder_exclusions):
        exclusions.append(holder_exclusions)

    if parts.wages is not None:
        wage_lines, wage_exclusions, wage_figures, wage_steps = _pay_wages(
            rule, part_fen["wages"], roster, households, people, period_end
        )
        lines += wage_lines
        exclusions += wage_exclusions
        summary.update(wage_figures)
        steps += wage_steps
    elif roster is not None and len(roster):
        raise AllocationError("a wage roster was given but the rule has no wages part")

    collective_holders = holders[holders["holder_type"] == "collective"]
    if parts.collective.mode == "percentage":
        if len(collective_holders) == 0 and part_fen["collective"]:
            raise AllocationError(
                f"no village collective holds a claim in {rule.station_id}: the collective part has no payee"
            )
        if parts.collective.among_villages == "equally":
            village_weights = np.ones(len(collective_holders), dtype=np.int64)
            basis = "equal share among the station's villages"
        else:
            village_weights = collective_holders["weight"].to_numpy(dtype=np.int64)
            basis = "village's claimed kW × active days"
        village_amounts = split_largest_remainder(
            part_fen.get("collective", 0), village_weights, np.arange(len(collective_holders))
        )
        lines.append(
            pd.DataFrame(
                {
                    "payee_type": "collective",
                    "payee_id": collective_holders["holder_id"].to_numpy(),
                    "household_id": None,
                    "component": COLLECTIVE_COMPONENT,
                    "account_code": parts.collective.account_code,
                    "debit_account_code": parts.collective.debit_account_code,
                    "amount_fen": village_amounts,
                    "basis": basis,
                    "share_numerator": village_weights,
                    "share_denominator": int(village_weights.sum()),
                    "note": "",
                }
            )
        )
        share_holders = holders[holders["holder_type"] == "household"].reset_index(drop=True)
    else:
        share_holders = holders.reset_index(drop=True)

    household_part_fen = part_fen["households"]
    weights = share_holders["weight"].to_numpy(dtype=np.int64)
    active_weight = int(weights.sum())
    residual_fen = 0
    if parts.households.inactive_share == "residual":
        if parts.collective.mode == "percentage":
            # The full claim counted only the holders that take part in this split.
            full_weight -= int(_full_weight_of(holdings, rule.station_id, "collective", period_start, period_end))
        residual_weight = full_weight - active_weight
        assert residual_weight >= 0, "active kW-days cannot exceed the full claim"
        all_weights = np.append(weights, residual_weight)
        amounts = split_largest_remainder(household_part_fen, all_weights, np.arange(len(all_weights)))
        residual_fen = int(amounts[-1])
        amounts = amounts[:-1]
        denominator = full_weight
    else:
        if active_weight == 0 and household_part_fen:
            raise AllocationError(
                f"no eligible holder is active in {rule.station_id} in {settlement['service_period']}"
            )
        amounts = split_largest_remainder(household_part_fen, weights, np.arange(len(weights)))
        denominator = active_weight
    steps.append(
        Step(
            f"split by claimed kW × active days over {denominator:,} kW·day (×10⁴) "
            f"{'of the full claim; inactive days go to the residual' if parts.households.inactive_share == 'residual' else 'of the active claims'}",
            household_part_fen,
            HOUSEHOLD_COMPONENT,
        )
    )
    is_household = (share_holders["holder_type"] == "household").to_numpy()
    household_ids = share_holders["holder_id"].where(is_household, None)
    accounts = household_accounts(households, share_holders["holder_id"])
    active_days = share_holders["active_days"].to_numpy(dtype=np.int64)
    holder_lines = pd.DataFrame(
        {
            "payee_type": np.where(is_household, "household", "collective"),
            "payee_id": share_holders["holder_id"].to_numpy(),
            "household_id": household_ids.to_numpy(dtype=object),
            "component": np.where(is_household, HOUSEHOLD_COMPONENT, COLLECTIVE_COMPONENT),
            "account_code": np.where(is_household, parts.households.account_code, parts.collective.account_code),
            "debit_account_code": np.where(
                is_household, parts.households.debit_account_code, parts.collective.debit_account_code
            ),
            "amount_fen": amounts,
            "basis": "claimed kW × active days",
            "share_numerator": weights,
            "share_denominator": denominator,
            "note": "",
            "account_no": np.where(is_household, accounts["account_no"].to_numpy(), None),
            "account_name": np.where(is_household, accounts["account_name"].to_numpy(), None),
            "units_e4": share_holders["units_e4"].to_numpy(dtype=np.int64),
            "active_days": _days_or_missing(active_days),
        }
    )
    lines.append(holder_lines)
    if residual_fen:
        lines.append(
            _account_line(
                payee_type="account",
                payee_id=rule.paying_entity,
                household_id=None,
                component="inactive_claims_residual",
                account_code=parts.households.residual_account_code,
                debit_account_code=parts.households.debit_account_code,
                amount_fen=residual_fen,
                basis="kW·days of claims not active or not eligible in the period",
                share_numerator=full_weight - active_weight,
                share_denominator=full_weight,
                note="",
            )
        )
        steps.append(
            Step("share of inactive or excluded claims, booked as residual", residual_fen, "inactive_claims_residual")
        )
    summary["residual_fen"] = residual_fen + summary.get("wage_pool_unused_fen", 0)
    summary["inactive_claims_residual_fen"] = residual_fen
    summary["holders_paid"] = int((amounts > 0).sum())
    return result_build(
        rule_kind=rule.kind,
        rule_name=rule.name,
        pool_fen=revenue_fen,
        line_frames=lines,
        exclusion_frames=exclusions,
        summary=summary,
        steps=steps,
    )


def _full_weight_of(
    holdings: pd.DataFrame, station_id: str, holder_type: str, period_start: datetime.date, period_end: datetime.date
) -> int:
    """Claimed kW × days in the period (before exits) of one holder type in one station."""
    rows = holdings[(holdings["asset_id"] == station_id) & (holdings["holder_type"] == holder_type)]
    _, _, days = active_ranges(rows["start_on"], rows["end_on"], None, period_start, period_end)
    return int((rows["units_e4"].to_numpy(dtype=np.int64) * days).sum())


__all__ = ["allocate_pv"]
