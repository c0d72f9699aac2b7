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
   pro-rata alike; without ``collective_id``, the collective of the household's own village,
   which the run notes) or simply drops out so the remaining holders share the excess
   (``remaining_holders``);
5. a deceased sole holder (a one-person household whose member died on or before the period
   end) is computed as usual, but its amount goes to a ``suspense_deceased`` line on the
   suspense account, to wait for a decision (heir or collective), and is listed in exclusions.

Households that fail the eligibility filters (``household.`` and ``any_member.``), or are not in
the register, are left out (listed in exclusions) and take no part in the split. The excess is
a largest-remainder split over exact shares, a tie going to the lower holder id (as text).

Steps: ``_declared_pool``, ``_eligible_holdings``, ``_segments``, ``_per_holder``,
``_floors_excess_caps``, ``_deceased_sole_holders``, ``_holder_lines`` and ``_pool_lines``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from disburse.allocations.frames import (
    YEAR_FRACTION_DENOMINATOR,
    AllocationError,
    as_days,
    exclusions_frame,
    filters_failed,
    household_accounts,
    people_living_on,
    year_fraction_numerators,
)
from disburse.allocations.model import AllocationResult, ResultParts, Step
from disburse.allocations.rules import CoopDividendRule
from disburse.allocations.split import (
    RUN_PAYEES_MAX,
    divide_half_up,
    multiply_arrays_exact,
    multiply_exact,
    percent_text,
    split_largest_remainder,
)
from disburse.foundation.i18n import tr, tr_stored
from disburse.foundation.money import format_yuan

DIVIDEND_COMPONENT = "dividend"
EXIT_REVERTED_COMPONENT = "exit_reverted"
SUSPENSE_COMPONENT = "suspense_deceased"


def _rate_amounts_fen(principal_year: np.ndarray, rate) -> np.ndarray:  # type: ignore[no-untyped-def]
    """rate × (principal × year numerator) / 4380, half-up per line; exact for any magnitude."""
    products = multiply_exact(principal_year, rate.numerator)
    return np.asarray(divide_half_up(products, rate.denominator * YEAR_FRACTION_DENOMINATOR), dtype=np.int64)


def _declared_pool(rule: CoopDividendRule, pool_fen: int | None) -> int:
    declared_fen = pool_fen if pool_fen is not None else rule.pool_fen
    if declared_fen is None:
        raise AllocationError(tr("no dividend pool: give pool_yuan in the rule or the pool at run time"))
    if int(declared_fen) < 0:
        raise AllocationError(tr("declared pool {pool} is negative", pool=format_yuan(int(declared_fen))))
    return int(declared_fen)


def _eligible_holdings(
    rule: CoopDividendRule, households: pd.DataFrame, people: pd.DataFrame, holdings: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, list[pd.DataFrame]]:
    """The cooperative's holdings overlapping the period whose holders count, with each one's
    register row (blank for a collective); the others are excluded with their reasons."""
    start_day, end_day = np.datetime64(rule.period.start, "D"), np.datetime64(rule.period.end, "D")
    rows = holdings[holdings["asset_id"] == rule.cooperative_id].reset_index(drop=True)
    starts, ends = as_days(rows["start_on"]), as_days(rows["end_on"])
    rows = rows[(starts <= end_day) & (np.isnat(ends) | (ends >= start_day))].reset_index(drop=True)
    if len(rows) > RUN_PAYEES_MAX:
        raise AllocationError(
            tr("{count} holdings exceed RUN_PAYEES_MAX = {limit}", count=f"{len(rows):,}", limit=f"{RUN_PAYEES_MAX:,}")
        )
    is_household = (rows["holder_type"] == "household").to_numpy()
    holder_ids = rows["holder_id"].to_numpy(dtype=object)
    indexed = households.drop_duplicates("household_id").set_index("household_id")
    in_register = rows["holder_id"].isin(indexed.index).to_numpy()
    keep = ~is_household | in_register
    exclusions = []
    if (~keep).any():
        reason = tr(
            "holds shares in {cooperative} but is not in the register as of {date}",
            cooperative=rule.cooperative_id,
            date=rule.period.end,
        )
        exclusions.append(exclusions_frame(holder_ids[~keep], None, reason))
    household_ids = rows["holder_id"].where(is_household & in_register)
    register_rows = indexed.reindex(household_ids.to_numpy()).reset_index(drop=True)
    if rule.eligibility and len(rows):
        reasons = filters_failed(
            rule.eligibility,
            {"household": register_rows.assign(household_id=household_ids.to_numpy(dtype=object))},
            candidate_households=household_ids.astype(object),
            people_living=people_living_on(people, rule.period.end),
        )
        failed = reasons.notna().to_numpy() & is_household & keep
        if failed.any():
            exclusions.append(exclusions_frame(holder_ids[failed], None, reasons.to_numpy()[failed]))
        keep &= ~failed
    return rows[keep].reset_index(drop=True), register_rows[keep].reset_index(drop=True), exclusions


def _segments(
    rule: CoopDividendRule, rows: pd.DataFrame, register_rows: pd.DataFrame, parts: ResultParts
) -> pd.DataFrame:
    """Each holding's counted stretch of the period; with ``exit_handling: collective`` the part
    after a household's exit is a second stretch held by the collective (``exit_reverted``)."""
    start_day, end_day = np.datetime64(rule.period.start, "D"), np.datetime64(rule.period.end, "D")
    is_household = (rows["holder_type"] == "household").to_numpy()
    first = np.maximum(as_days(rows["start_on"]), start_day)
    end_days = as_days(rows["end_on"])
    last = np.minimum(np.where(np.isnat(end_days), end_day, end_days), end_day)
    stop = np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[D]")
    if rule.stop_on_exit and len(rows):
        exits = as_days(register_rows["exited_on"])
        stopping = is_household & ~np.isnat(exits) & (exits <= last)
        stop = np.where(stopping, np.maximum(exits, first), stop)
    stopped = ~np.isnat(stop)
    columns = {
        "holder_type": rows["holder_type"].to_numpy(dtype=object),
        "holder_id": rows["holder_id"].to_numpy(dtype=object),
        "component": np.full(len(rows), DIVIDEND_COMPONENT, dtype=object),
        "units_e4": rows["units_e4"].to_numpy(dtype=np.int64),
        "principal_fen": rows["principal_fen"].to_numpy(dtype=np.int64),
    }
    segment_first, segment_last = first, np.where(stopped, stop - 1, last)
    if rule.exit_handling == "collective" and stopped.any():
        # The collective holds the stopped shares from the exit date to the holding's end.
        count = int(stopped.sum())
        if rule.collective_id is None:
            takers = register_rows["village_code"].to_numpy(dtype=object)[stopped]
            parts.notes.append(
                tr_stored(
                    "{count} exited household(s)' shares went back to the collective of each household's own "
                    "village (the rule names no collective_id)",
                    count=count,
                )
            )
        else:
            takers = np.full(count, rule.collective_id, dtype=object)
        extra = {"holder_type": np.full(count, "collective", dtype=object), "holder_id": takers}
        extra["component"] = np.full(count, EXIT_REVERTED_COMPONENT, dtype=object)
        columns = {name: np.concatenate([values, extra.get(name, values[stopped])]) for name, values in columns.items()}
        segment_first = np.concatenate([segment_first, stop[stopped]])
        segment_last = np.concatenate([segment_last, last[stopped]])
    day_counts = np.maximum((segment_last - segment_first).astype(np.int64) + 1, 0)
    segments = pd.DataFrame(columns).assign(
        weight=multiply_arrays_exact(columns["units_e4"], day_counts),
        principal_year=multiply_arrays_exact(
            columns["principal_fen"], year_fraction_numerators(segment_first, segment_last)
        ),
        active_days=day_counts,
    )
    return segments[segments["active_days"] > 0]


def _per_holder(segments: pd.DataFrame) -> pd.DataFrame:
    """One row per holder and component, in tie order (holder id as text, then type, component).
    The fraction-of-a-year products are summed exactly before rounding, so a holder with several
    holdings is rounded once."""
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
    keys = grouped["holder_id"].astype(str) + "\x00" + grouped["holder_type"] + "\x00" + grouped["component"]
    return grouped.assign(tie_key=keys.to_numpy(dtype=object)).sort_values("tie_key", ignore_index=True)


def _floors_excess_caps(
    rule: CoopDividendRule, grouped: pd.DataFrame, declared_fen: int, parts: ResultParts
) -> dict[str, np.ndarray]:
    """Floors, the excess split pro rata, caps and what is paid, per holder line."""
    principal_year = grouped["principal_year"].to_numpy()
    floors = _rate_amounts_fen(principal_year, rule.floor_rate)
    floors_total = int(floors.sum())
    parts.steps.append(
        Step(
            tr(
                "guaranteed floors: {rate} a year on principal, prorated, half-up per holder",
                rate=percent_text(rule.floor_rate),
            ),
            floors_total,
        )
    )
    weights = grouped["weight"].to_numpy()
    excess_fen, shortfall_fen = max(declared_fen - floors_total, 0), max(floors_total - declared_fen, 0)
    if excess_fen and int(np.sum(weights)) == 0:
        raise AllocationError(tr("{cooperative}: no active holder to share the pool", cooperative=rule.cooperative_id))
    keys = grouped["tie_key"].to_numpy(dtype=object)
    pro_rata = split_largest_remainder(excess_fen, weights, keys) if len(grouped) else np.zeros(0, np.int64)
    totals = floors + pro_rata
    caps = None if rule.ceiling_rate is None else _rate_amounts_fen(principal_year, rule.ceiling_rate)
    paid = totals if caps is None else np.minimum(totals, np.maximum(caps, floors))
    held_back = int((totals - paid).sum())
    parts.summary.update(
        floors_fen=floors_total, excess_fen=excess_fen, shortfall_fen=shortfall_fen, cap_held_back_fen=held_back
    )
    if shortfall_fen:
        text = tr(
            "pool {pool} cannot cover the floors {floors}: every floor is paid and {shortfall} is owed by "
            "{cooperative} (Dr {account})",
            pool=format_yuan(declared_fen),
            floors=format_yuan(floors_total),
            shortfall=format_yuan(shortfall_fen),
            cooperative=rule.cooperative_id,
            account=rule.accounts.floor_shortfall,
        )
        parts.steps.append(Step(text, -shortfall_fen))
    else:
        text = tr("above the floors, shared by shares × active days (largest remainder)")
        parts.steps.append(Step(text, excess_fen))
    if rule.ceiling_rate is not None:
        text = tr(
            "each total capped at {rate} a year on principal; held back stays with {cooperative}",
            rate=percent_text(rule.ceiling_rate),
            cooperative=rule.cooperative_id,
        )
        parts.steps.append(Step(text, held_back))
    return {"floors": floors, "pro_rata": pro_rata, "totals": totals, "paid": paid, "caps": caps, "excess": excess_fen}


def _deceased_sole_holders(grouped: pd.DataFrame, people: pd.DataFrame, end: dt.date) -> np.ndarray:
    """Household lines whose household's only member died by the period end."""
    end_day = np.datetime64(end, "D")
    households_in_lines = grouped["holder_id"].where(grouped["holder_type"] == "household")
    if len(people) == 0:
        return np.zeros(len(grouped), dtype=bool)
    counts = people.groupby("household_id").size()
    died = as_days(people["died_on"])
    dead_by_end = people.loc[~np.isnat(died) & (died <= end_day), "household_id"]
    return households_in_lines.isin(set(counts[counts == 1].index) & set(dead_by_end)).to_numpy()


def _holder_lines(
    rule: CoopDividendRule,
    grouped: pd.DataFrame,
    figures: dict[str, np.ndarray],
    deceased: np.ndarray,
    households: pd.DataFrame,
) -> pd.DataFrame:
    is_household = (grouped["holder_type"] == "household").to_numpy()
    accounts = household_accounts(households, grouped["holder_id"])
    pays_card = is_household & ~deceased
    weights, caps, paid = grouped["weight"].to_numpy(), figures["caps"], figures["paid"]
    floor_rate = percent_text(rule.floor_rate)
    if rule.ceiling_rate is None:
        basis = tr("floor {floor} a year on principal + pro rata by shares × active days", floor=floor_rate)
    else:
        basis = tr(
            "floor {floor} a year on principal + pro rata by shares × active days, capped at {ceiling} a year",
            floor=floor_rate,
            ceiling=percent_text(rule.ceiling_rate),
        )
    held = np.where(figures["totals"] > paid, tr("capped at the ceiling"), "")
    return pd.DataFrame(
        {
            "payee_type": np.where(deceased, "account", np.where(is_household, "household", "collective")),
            "payee_id": np.where(deceased, "suspense", grouped["holder_id"].to_numpy(dtype=object)),
            "household_id": grouped["holder_id"].where(grouped["holder_type"] == "household").to_numpy(dtype=object),
            "component": np.where(deceased, SUSPENSE_COMPONENT, grouped["component"].to_numpy(dtype=object)),
            "account_code": np.where(
                deceased,
                rule.accounts.suspense,
                np.where(is_household, rule.accounts.household, rule.accounts.collective),
            ),
            "debit_account_code": rule.accounts.debit,
            "amount_fen": paid,
            "basis": basis,
            "share_numerator": weights,
            "share_denominator": int(np.sum(weights)) if len(weights) else 0,
            "share_pool_fen": figures["excess"],
            "note": np.where(deceased, tr("sole member deceased: held in suspense"), held),
            "account_no": np.where(pays_card, accounts["account_no"].to_numpy(), None),
            "account_name": np.where(pays_card, accounts["account_name"].to_numpy(), None),
            "units_e4": grouped["units_e4"].to_numpy(dtype=np.int64),
            "principal_fen": grouped["principal_fen"].to_numpy(dtype=np.int64),
            "active_days": grouped["active_days"].to_numpy(dtype=np.int64),
            "floor_fen": figures["floors"],
            "pro_rata_fen": figures["pro_rata"],
            "cap_fen": caps if caps is not None else pd.array([pd.NA] * len(grouped), dtype="Int64"),
        }
    )


def _pool_lines(rule: CoopDividendRule, declared_fen: int, parts: ResultParts) -> None:
    """The floor shortfall (a negative line: still owed) and what the cap held back."""
    shortfall_fen, held_back = parts.summary["shortfall_fen"], parts.summary["cap_held_back_fen"]
    common = {"payee_type": "account", "payee_id": rule.cooperative_id, "household_id": None}
    if shortfall_fen:
        floors_total = parts.summary["floors_fen"]
        line = {
            **common,
            "component": "floor_shortfall",
            "account_code": rule.accounts.floor_shortfall,
            "debit_account_code": rule.accounts.debit,
            "amount_fen": -shortfall_fen,
            "basis": tr(
                "floors {floors} − declared pool {pool}",
                floors=format_yuan(floors_total),
                pool=format_yuan(declared_fen),
            ),
            "note": tr(
                "owed by {cooperative}: a debit on {account} 应收款",
                cooperative=rule.cooperative_id,
                account=rule.accounts.floor_shortfall,
            ),
        }
        parts.lines.append(pd.DataFrame([line]))
    if held_back:
        line = {
            **common,
            "component": "cap_held_back",
            "account_code": rule.accounts.cap_held_back,
            "debit_account_code": rule.accounts.debit,
            "amount_fen": held_back,
            "basis": tr("totals above the ceiling"),
            "note": tr("stays with {cooperative}: not paid out", cooperative=rule.cooperative_id),
        }
        parts.lines.append(pd.DataFrame([line]))


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
    declared_fen = _declared_pool(rule, pool_fen)
    text = tr(
        "{cooperative} declared pool for {start} to {end}",
        cooperative=rule.cooperative_id,
        start=rule.period.start,
        end=rule.period.end,
    )
    parts = ResultParts(
        steps=[Step(text, declared_fen)],
        summary={"pool_fen": declared_fen},
    )
    rows, register_rows, exclusions = _eligible_holdings(rule, households, people, holdings)
    parts.exclusions += exclusions
    grouped = _per_holder(_segments(rule, rows, register_rows, parts))
    figures = _floors_excess_caps(rule, grouped, declared_fen, parts)
    deceased = _deceased_sole_holders(grouped, people, rule.period.end)
    paid = figures["paid"]
    if deceased.any():
        reason = tr("the household's only member has died: dividend held in suspense for a decision")
        parts.exclusions.append(exclusions_frame(grouped["holder_id"].to_numpy()[deceased], None, reason))
        text = tr("dividends of deceased sole holders held in suspense")
        parts.steps.append(Step(text, int(paid[deceased].sum()), SUSPENSE_COMPONENT))
    parts.lines.append(_holder_lines(rule, grouped, figures, deceased, households))
    _pool_lines(rule, declared_fen, parts)
    reverted = (grouped["component"].to_numpy() == EXIT_REVERTED_COMPONENT) & ~deceased
    parts.summary.update(
        suspense_deceased_fen=int(paid[deceased].sum()),
        exit_reverted_fen=int(paid[reverted].sum()),
        residual_fen=parts.summary["cap_held_back_fen"],
    )
    return parts.build(rule.kind, rule.name, declared_fen)
