"""拨改股 cooperative dividends: guaranteed floor on principal, pro rata above it, optional cap.

For each holder (one line per holder and component):

1. floor = floor_rate × principal × fraction of a year the holding was active (whole calendar
   months count months/12, days of a part month count days/365), rounded half-up per line;
2. if the declared pool covers Σ floors, the excess (pool − Σ floors) is split by shares × active
   days (largest remainder); a holder's total is capped at ceiling_rate × principal × the same
   fraction when the rule sets a ceiling, and what the cap holds back stays with the cooperative
   (a ``cap_held_back`` line, reported);
3. if the pool cannot cover the floors, every floor is still paid and the shortfall is a
   ``floor_shortfall`` line with a negative amount on account 112 (a debit: the cooperative
   still owes it), so the lines still sum to the declared pool;
4. a household that exited stops at its exit date (with ``stop_on_exit``); the stopped part of
   its holding goes to ``collective_id`` (``exit_handling: collective``, component
   ``exit_reverted``: the collective holds those shares from the exit date on, floor and
   pro-rata alike) or simply drops out so the remaining holders share the excess
   (``remaining_holders``);
5. a deceased sole holder (a one-person household whose member died on or before the period
   end) is computed as usual, but its amount goes to a ``suspense_deceased`` line on the
   suspense account, to wait for a decision (heir or collective), and is listed in exclusions.

Households that fail the eligibility filters, or are not in the register, are left out (listed
in exclusions) and take no part in the split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disburse.allocations.frames import (
    YEAR_FRACTION_DENOMINATOR,
    AllocationError,
    as_days,
    exclusions_frame,
    filters_failed,
    household_accounts,
    year_fraction_numerators,
)
from disburse.allocations.model import AllocationResult, Step, result_build
from disburse.allocations.rules import CoopDividendRule
from disburse.allocations.split import (
    RUN_PAYEES_MAX,
    divide_half_up,
    multiply_arrays_exact,
    multiply_exact,
    percent_text,
    split_largest_remainder,
)
from disburse.foundation.money import format_yuan

DIVIDEND_COMPONENT = "dividend"
EXIT_REVERTED_COMPONENT = "exit_reverted"
SUSPENSE_COMPONENT = "suspense_deceased"


def _rate_amounts_fen(principal_fen: np.ndarray, year_numerators: np.ndarray, rate) -> np.ndarray:
    """rate × principal × (year numerator / 4380), half-up per line; exact for any magnitude."""
    products = multiply_arrays_exact(principal_fen, year_numerators)
    products = multiply_exact(products, rate.numerator)
    return np.asarray(divide_half_up(products, rate.denominator * YEAR_FRACTION_DENOMINATOR), dtype=np.int64)


def allocate_dividend(
    rule: CoopDividendRule,
    households: pd.DataFrame,
    people: pd.DataFrame,
    holdings: pd.DataFrame,
    pool_fen: int | None = None,
) -> AllocationResult:
    """Share a cooperative's declared dividend pool over its holders (see the module doc).

    ``pool_fen`` given at run time overrides the rule's ``pool_yuan``; one of them is required.
    Frames are those of docs/contracts.md as of the period's last day.
    """
    declared_fen = pool_fen if pool_fen is not None else rule.pool_fen
    if declared_fen is None:
        raise AllocationError("no dividend pool: give pool_yuan in the rule or the pool at run time")
    declared_fen = int(declared_fen)
    if declared_fen < 0:
        raise AllocationError(f"declared pool {format_yuan(declared_fen)} is negative")
    period_start, period_end = rule.period.start, rule.period.end
    start_day, end_day = np.datetime64(period_start, "D"), np.datetime64(period_end, "D")
    exclusions: list[pd.DataFrame] = []
    steps = [Step(f"{rule.cooperative_id} declared pool for {period_start} to {period_end}", declared_fen)]

    rows = holdings[holdings["asset_id"] == rule.cooperative_id].reset_index(drop=True)
    starts, ends = as_days(rows["start_on"]), as_days(rows["end_on"])
    overlaps = (starts <= end_day) & (np.isnat(ends) | (ends >= start_day))
    rows = rows[overlaps].reset_index(drop=True)
    if len(rows) > RUN_PAYEES_MAX:
        raise AllocationError(f"{len(rows):,} holdings exceed RUN_PAYEES_MAX = {RUN_PAYEES_MAX:,}")
    is_household = (rows["holder_type"] == "household").to_numpy()
    indexed = households.drop_duplicates("household_id").set_index("household_id")
    in_register = rows["holder_id"].isin(indexed.index).to_numpy()
    keep = ~is_household | in_register
    if (~keep).any():
        exclusions.append(
            exclusions_frame(
                rows["holder_id"].to_numpy()[~keep],
                None,
                f"holds shares in {rule.cooperative_id} but is not in the register as of {period_end}",
            )
        )
    household_rows = indexed.reindex(rows["holder_id"].where(is_household & in_register).to_numpy()).reset_index(
        drop=True
    )
    if rule.eligibility:
        reasons = filters_failed(rule.eligibility, {"household": household_rows})
        failed = reasons.notna().to_numpy() & is_household & keep
        if failed.any():
            exclusions.append(exclusions_frame(rows["holder_id"].to_numpy()[failed], None, reasons.to_numpy()[failed]))
        keep &= ~failed
    rows, household_rows, is_household = (
        rows[keep].reset_index(drop=True),
        household_rows[keep].reset_index(drop=True),
        is_household[keep],
    )

    first = np.maximum(as_days(rows["start_on"]), start_day)
    end_days = as_days(rows["end_on"])
    last = np.minimum(np.where(np.isnat(end_days), end_day, end_days), end_day)
    stop = np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[D]")
    if rule.stop_on_exit and len(rows):
        exits = as_days(household_rows["exited_on"])
        stopping = is_household & ~np.isnat(exits) & (exits <= last)
        stop = np.where(stopping, np.maximum(exits, first), stop)
    stopped = ~np.isnat(stop)
    household_last = np.where(stopped, stop - 1, last)

    units = rows["units_e4"].to_numpy(dtype=np.int64)
    principal = rows["principal_fen"].to_numpy(dtype=np.int64)
    holder_type = rows["holder_type"].to_numpy(dtype=object)
    holder_id = rows["holder_id"].to_numpy(dtype=object)
    component = np.full(len(rows), DIVIDEND_COMPONENT, dtype=object)
    segment_first, segment_last = first, household_last
    if rule.exit_handling == "collective" and stopped.any():
        # The collective holds the stopped shares from the exit date to the holding's end.
        segment_first = np.concatenate([first, stop[stopped]])
        segment_last = np.concatenate([household_last, last[stopped]])
        units = np.concatenate([units, units[stopped]])
        principal = np.concatenate([principal, principal[stopped]])
        holder_type = np.concatenate([holder_type, np.full(int(stopped.sum()), "collective", dtype=object)])
        holder_id = np.concatenate([holder_id, np.full(int(stopped.sum()), rule.collective_id, dtype=object)])
        component = np.concatenate([component, np.full(int(stopped.sum()), EXIT_REVERTED_COMPONENT, dtype=object)])
    day_counts = np.maximum((segment_last - segment_first).astype(np.int64) + 1, 0)
    year_numerators = year_fraction_numerators(segment_first, segment_last)
    segments = pd.DataFrame(
        {
            "holder_type": holder_type,
            "holder_id": holder_id,
            "component": component,
            "units_e4": units,
            "principal_fen": principal,
            "weight": multiply_arrays_exact(units, day_counts),
            "principal_year": multiply_arrays_exact(principal, year_numerators),
            "active_days": day_counts,
        }
    )
    segments = segments[segments["active_days"] > 0]
    # One line per holder and component: the fraction-of-a-year products are summed exactly
    # before rounding, so a holder with several holdings is rounded once.
    grouped = (
        segments.groupby(["holder_type", "holder_id", "component"], sort=True)
        .agg(
            units_e4=("units_e4", "sum"),
            principal_fen=("principal_fen", "sum"),
            weight=("weight", "sum"),
            principal_year=("principal_year", "sum"),
            active_days=("active_days", "max"),
        )
        .reset_index()
    )
    principal_year = grouped["principal_year"].to_numpy()
    floor_rate = rule.floor_rate
    floors = np.asarray(
        divide_half_up(
            multiply_exact(principal_year, floor_rate.numerator), floor_rate.denominator * YEAR_FRACTION_DENOMINATOR
        ),
        dtype=np.int64,
    )
    floors_total = int(floors.sum())
    steps.append(
        Step(
            f"guaranteed floors: {percent_text(floor_rate)} a year on principal, prorated, half-up per holder",
            floors_total,
        )
    )
    summary: dict[str, int] = {"pool_fen": declared_fen, "floors_fen": floors_total}

    weights = grouped["weight"].to_numpy()
    excess_fen = max(declared_fen - floors_total, 0)
    shortfall_fen = max(floors_total - declared_fen, 0)
    if excess_fen and int(np.sum(weights)) == 0:
        raise AllocationError(f"{rule.cooperative_id}: no active holder to share the pool")
    pro_rata = (
        split_largest_remainder(excess_fen, weights, np.arange(len(grouped))) if len(grouped) else np.zeros(0, np.int64)
    )
    totals = floors + pro_rata
    caps = None
    if rule.ceiling_rate is not None:
        ceiling = rule.ceiling_rate
        caps = np.asarray(
            divide_half_up(
                multiply_exact(principal_year, ceiling.numerator), ceiling.denominator * YEAR_FRACTION_DENOMINATOR
            ),
            dtype=np.int64,
        )
        paid = np.minimum(totals, np.maximum(caps, floors))
    else:
        paid = totals
    held_back = int((totals - paid).sum())
    summary.update({"excess_fen": excess_fen, "shortfall_fen": shortfall_fen, "cap_held_back_fen": held_back})
    if shortfall_fen:
        steps.append(
            Step(
                f"pool {format_yuan(declared_fen)} cannot cover the floors {format_yuan(floors_total)}: "
                f"every floor is paid and {format_yuan(shortfall_fen)} is owed by {rule.cooperative_id} (Dr {rule.accounts.floor_shortfall})",
                -shortfall_fen,
            )
        )
    else:
        steps.append(Step("above the floors, shared by shares × active days (largest remainder)", excess_fen))
    if rule.ceiling_rate is not None:
        steps.append(
            Step(
                f"each total capped at {percent_text(rule.ceiling_rate)} a year on principal; held back stays with {rule.cooperative_id}",
                held_back,
            )
        )

    # Deceased sole holders: a one-person household whose member died by the period end.
    households_in_lines = grouped["holder_id"].where(grouped["holder_type"] == "household")
    people_counts = people.groupby("household_id").size()
    died = as_days(people["died_on"]) if len(people) else np.array([], dtype="datetime64[D]")
    dead_by_end = (
        people.loc[~np.isnat(died) & (died <= end_day), "household_id"] if len(people) else pd.Series(dtype=object)
    )
    sole = set(people_counts[people_counts == 1].index) & set(dead_by_end)
    deceased = households_in_lines.isin(sole).to_numpy()
    if deceased.any():
        exclusions.append(
            exclusions_frame(
                grouped["holder_id"].to_numpy()[deceased],
                None,
                "the household's only member has died: dividend held in suspense for a decision",
            )
        )
        steps.append(
            Step("dividends of deceased sole holders held in suspense", int(paid[deceased].sum()), SUSPENSE_COMPONENT)
        )

    is_household_line = (grouped["holder_type"] == "household").to_numpy()
    accounts = household_accounts(households, grouped["holder_id"])
    component_values = grouped["component"].to_numpy(dtype=object)
    payee_type = np.where(is_household_line, "household", "collective").astype(object)
    account_code = np.where(is_household_line, rule.accounts.household, rule.accounts.collective).astype(object)
    payee_id = grouped["holder_id"].to_numpy(dtype=object).copy()
    component_values = np.where(deceased, SUSPENSE_COMPONENT, component_values)
    payee_type = np.where(deceased, "account", payee_type)
    account_code = np.where(deceased, rule.accounts.suspense, account_code)
    pays_card = is_household_line & ~deceased
    lines = pd.DataFrame(
        {
            "payee_type": payee_type,
            "payee_id": np.where(deceased, "suspense", payee_id),
            "household_id": households_in_lines.to_numpy(dtype=object),
            "component": component_values,
            "account_code": account_code,
            "debit_account_code": rule.accounts.debit,
            "amount_fen": paid,
            "basis": "floor on principal + pro rata by shares × active days",
            "share_numerator": weights,
            "share_denominator": int(np.sum(weights)) if len(weights) else 0,
            "note": np.where(
                deceased, "sole member deceased: held in suspense", np.where(totals > paid, "capped at the ceiling", "")
            ),
            "account_no": np.where(pays_card, accounts["account_no"].to_numpy(), None),
            "account_name": np.where(pays_card, accounts["account_name"].to_numpy(), None),
            "units_e4": grouped["units_e4"].to_numpy(dtype=np.int64),
            "principal_fen": grouped["principal_fen"].to_numpy(dtype=np.int64),
            "active_days": grouped["active_days"].to_numpy(dtype=np.int64),
            "floor_fen": floors,
            "pro_rata_fen": pro_rata,
            "cap_fen": caps if caps is not None else pd.array([pd.NA] * len(grouped), dtype="Int64"),
        }
    )
    extra: list[pd.DataFrame] = [lines]
    if shortfall_fen:
        extra.append(
            pd.DataFrame(
                [
                    {
                        "payee_type": "account",
                        "payee_id": rule.cooperative_id,
                        "household_id": None,
                        "component": "floor_shortfall",
                        "account_code": rule.accounts.floor_shortfall,
                        "debit_account_code": rule.accounts.debit,
                        "amount_fen": -shortfall_fen,
                        "basis": f"floors {format_yuan(floors_total)} − declared pool {format_yuan(declared_fen)}",
                        "note": f"owed by {rule.cooperative_id}: a debit on {rule.accounts.floor_shortfall} 应收款",
                    }
                ]
            )
        )
    if held_back:
        extra.append(
            pd.DataFrame(
                [
                    {
                        "payee_type": "account",
                        "payee_id": rule.cooperative_id,
                        "household_id": None,
                        "component": "cap_held_back",
                        "account_code": rule.accounts.cap_held_back,
                        "debit_account_code": rule.accounts.debit,
                        "amount_fen": held_back,
                        "basis": "totals above the ceiling",
                        "note": f"stays with {rule.cooperative_id}: not paid out",
                    }
                ]
            )
        )
    summary["suspense_deceased_fen"] = int(paid[deceased].sum())
    summary["exit_reverted_fen"] = int(paid[component_values == EXIT_REVERTED_COMPONENT].sum())
    summary["residual_fen"] = held_back
    return result_build(
        rule_kind=rule.kind,
        rule_name=rule.name,
        pool_fen=declared_fen,
        line_frames=extra,
        exclusion_frames=exclusions,
        summary=summary,
        steps=steps,
    )
