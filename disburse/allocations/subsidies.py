"""Subsidies (政策兑现): one programme's benefit for a period, per household or per person.

Three bases:

- ``attribute_table``: the first table entry whose filters hold gives a fixed amount (education
  aid by school stage and boarding; 低保 per person per month by household type; house-repair
  grants by household type and kind of work from an input list). ``amount_per: year`` is
  multiplied by the period's fraction of a year (months/12 for whole months, days/365 for the
  days of a part month), ``month`` by 12 × that fraction, ``once`` not at all; rounded half-up
  per line.
- ``roster``: days on duty × daily rate (forest rangers); a roster row's ``daily_rate_fen``
  wins over the rule's ``daily_rate_yuan``.
- ``medical_topup``: for each bill, own_payment − own_share_cap × total_cost (the cap rounded
  half-up) when positive, so the patient's own share comes down to the cap (10%).

Household-based benefits go to the head's card; person-based ones to the person's own card
(person_account_no) when registered, else the head's card; the chosen account and its holder's
name are on the line. Candidates failing ``population`` filters are out of scope and not
reported; candidates failing ``eligibility`` filters are reported in exclusions. A subsidy has
no pool of its own: ``pool_fen`` is the total of the lines.
"""

from __future__ import annotations

import datetime
from fractions import Fraction

import numpy as np
import pandas as pd

from disburse.allocations.frames import (
    AllocationError,
    as_days,
    exclusions_frame,
    filters_failed,
    household_accounts,
    people_living_on,
    person_accounts,
    roster_days,
    year_fraction,
)
from disburse.allocations.model import AllocationResult, Step, result_build
from disburse.allocations.rules import AttributeTableBasis, MedicalTopUpBasis, RosterBasis, SubsidyRule
from disburse.allocations.split import RUN_PAYEES_MAX, divide_half_up, multiply_exact, percent_text
from disburse.foundation.money import format_yuan

INPUT_ROWS_MAX = RUN_PAYEES_MAX


def _period_factor(amount_per: str, period_start: datetime.date, period_end: datetime.date) -> Fraction:
    share = year_fraction(period_start, period_end)
    return {"year": share, "month": share * 12, "once": Fraction(1)}[amount_per]


def _check_period(period_start: datetime.date, period_end: datetime.date) -> None:
    if period_end < period_start:
        raise AllocationError(f"period end {period_end} is before its start {period_start}")


def _lines(
    rule: SubsidyRule,
    payee_type: str,
    payee_ids: np.ndarray,
    household_ids: np.ndarray,
    amounts: np.ndarray,
    basis: object,
    numerators: object,
    denominators: object,
    notes: object,
    accounts: pd.DataFrame,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "payee_type": payee_type,
            "payee_id": payee_ids,
            "household_id": household_ids,
            "component": rule.programme,
            "account_code": rule.payable_account_code,
            "debit_account_code": rule.expense_account_code,
            "amount_fen": np.asarray(amounts, dtype=np.int64),
            "basis": basis,
            "share_numerator": numerators,
            "share_denominator": denominators,
            "note": notes,
            "account_no": accounts["account_no"].to_numpy(),
            "account_name": accounts["account_name"].to_numpy(),
        }
    )


def _persons_lookup(
    id_numbers: pd.Series, people: pd.DataFrame, households: pd.DataFrame, period_end: datetime.date
) -> tuple[pd.DataFrame, np.ndarray, list[pd.DataFrame]]:
    """Register rows for the given id numbers; (rows, found mask, exclusions)."""
    register = people.drop_duplicates("id_number").set_index("id_number")
    rows = register.reindex(id_numbers.to_numpy()).reset_index()
    in_people = id_numbers.isin(register.index).to_numpy()
    in_households = rows["household_id"].isin(households["household_id"]).to_numpy()
    exclusions = []
    missing = ~(in_people & in_households)
    if missing.any():
        exclusions.append(
            exclusions_frame(
                rows["household_id"].to_numpy()[missing],
                id_numbers.to_numpy()[missing],
                f"not in the register as of {period_end}",
            )
        )
    return rows, in_people & in_households, exclusions


def _attribute_table(
    rule: SubsidyRule, basis: AttributeTableBasis, households, people, period_start, period_end, inputs
):
    exclusions: list[pd.DataFrame] = []
    living = people_living_on(people, period_end)
    households_indexed = households.drop_duplicates("household_id").set_index("household_id")
    if basis.input_list:
        if inputs is None:
            raise AllocationError(f"{rule.name}: this rule needs an input list (input_list: true)")
        candidates = inputs.reset_index(drop=True)
        key = "id_number" if basis.counted_per == "person" else "household_id"
        if key not in candidates.columns:
            raise AllocationError(f"{rule.name}: the input list needs a {key} column")
        if basis.counted_per == "person":
            person_rows, found, missing = _persons_lookup(candidates["id_number"], living, households, period_end)
            exclusions += missing
            candidates, person_rows = (
                candidates[found].reset_index(drop=True),
                person_rows[found].reset_index(drop=True),
            )
        else:
            found = candidates["household_id"].isin(households_indexed.index).to_numpy()
            if (~found).any():
                exclusions.append(
                    exclusions_frame(
                        candidates["household_id"].to_numpy()[~found], None, f"not in the register as of {period_end}"
                    )
                )
            candidates, person_rows = candidates[found].reset_index(drop=True), None
    elif basis.counted_per == "person":
        person_rows = living.reset_index(drop=True)
        person_rows = person_rows[person_rows["household_id"].isin(households_indexed.index)].reset_index(drop=True)
        candidates = person_rows[["id_number", "household_id"]]
    else:
        candidates, person_rows = households[["household_id"]].drop_duplicates().reset_index(drop=True), None
    if len(candidates) > INPUT_ROWS_MAX:
        raise AllocationError(f"{len(candidates):,} candidates exceed {INPUT_ROWS_MAX:,}")
    household_ids = (
        person_rows["household_id"] if person_rows is not None else candidates["household_id"]
    ).reset_index(drop=True)
    views = {"household": households_indexed.reindex(household_ids.to_numpy()).reset_index()}
    if person_rows is not None:
        views["person"] = person_rows
    if basis.input_list:
        views["input"] = candidates
    id_numbers = person_rows["id_number"].to_numpy(dtype=object) if person_rows is not None else None

    def failing(filters):
        return (
            filters_failed(filters, views, candidate_households=household_ids, people_living=living).notna().to_numpy()
        )

    in_scope = ~failing(rule.population) if rule.population else np.ones(len(candidates), dtype=bool)
    reasons = (
        filters_failed(rule.eligibility, views, candidate_households=household_ids, people_living=living)
        if rule.eligibility
        else pd.Series([None] * len(candidates), dtype=object)
    )
    eligible = in_scope & reasons.isna().to_numpy()
    reported = in_scope & ~eligible
    if reported.any():
        exclusions.append(
            exclusions_frame(
                household_ids.to_numpy()[reported],
                id_numbers[reported] if id_numbers is not None else None,
                reasons.to_numpy()[reported],
            )
        )
    amounts_fen = np.zeros(len(candidates), dtype=np.int64)
    labels = np.full(len(candidates), None, dtype=object)
    undecided = eligible.copy()
    for entry in basis.entries:
        holds = ~failing(entry.when) & undecided
        amounts_fen[holds] = entry.amount_fen
        labels[holds] = entry.label or " and ".join(item.describe() for item in entry.when)
        undecided &= ~holds
    if undecided.any():
        exclusions.append(
            exclusions_frame(
                household_ids.to_numpy()[undecided],
                id_numbers[undecided] if id_numbers is not None else None,
                "no entry of the amount table matches",
            )
        )
    paid = eligible & ~undecided
    factor = _period_factor(basis.amount_per, period_start, period_end)
    amounts = np.asarray(
        divide_half_up(multiply_exact(amounts_fen, factor.numerator), factor.denominator), dtype=np.int64
    )
    basis_text = np.array(
        [
            f"{label}: {format_yuan(int(amount))} per {basis.amount_per} × {factor}" if label else ""
            for label, amount in zip(labels[paid], amounts_fen[paid])
        ],
        dtype=object,
    )
    steps = [
        Step(
            f"{rule.programme}: amount table per {basis.counted_per}, per {basis.amount_per} × {factor} for {period_start} to {period_end}",
            int(amounts[paid].sum()),
        )
    ]
    if basis.counted_per == "household" or basis.paid_to == "household":
        frame = pd.DataFrame(
            {"household_id": household_ids.to_numpy()[paid], "amount_fen": amounts[paid], "basis": basis_text}
        )
        grouped = (
            frame.groupby("household_id", sort=True)
            .agg(amount_fen=("amount_fen", "sum"), count=("amount_fen", "size"), basis=("basis", "first"))
            .reset_index()
        )
        accounts = household_accounts(households, grouped["household_id"])
        counted = "person(s)" if basis.counted_per == "person" else "household"
        lines = _lines(
            rule,
            "household",
            grouped["household_id"].to_numpy(dtype=object),
            grouped["household_id"].to_numpy(dtype=object),
            grouped["amount_fen"].to_numpy(),
            grouped["basis"].to_numpy(),
            grouped["count"].to_numpy(),
            None,
            [f"{count} {counted}" for count in grouped["count"]],
            accounts,
        )
    else:
        chosen = person_rows[paid].reset_index(drop=True)
        accounts = person_accounts(chosen, households)
        lines = _lines(
            rule,
            "person",
            chosen["id_number"].to_numpy(dtype=object),
            chosen["household_id"].to_numpy(dtype=object),
            amounts[paid],
            basis_text,
            None,
            None,
            "",
            accounts,
        )
    return lines, exclusions, steps


def _person_payments(rule, paid_to, rows, amounts, basis_text, notes, households, period_end):
    """Lines for person-based payments, dead persons excluded; returns (lines, exclusions)."""
    exclusions = []
    died = (
        as_days(rows["died_on"])
        if "died_on" in rows
        else np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[D]")
    )
    dead = ~np.isnat(died) & (died <= np.datetime64(period_end, "D"))
    if dead.any():
        exclusions.append(
            exclusions_frame(
                rows["household_id"].to_numpy()[dead],
                rows["id_number"].to_numpy()[dead],
                [f"died on {day}: not paid, decide by hand" for day in died[dead]],
            )
        )
    alive = ~dead
    chosen = rows[alive].reset_index(drop=True)
    accounts = (
        person_accounts(chosen, households)
        if paid_to == "person"
        else household_accounts(households, chosen["household_id"])
    )
    lines = _lines(
        rule,
        "person" if paid_to == "person" else "household",
        chosen["id_number" if paid_to == "person" else "household_id"].to_numpy(dtype=object),
        chosen["household_id"].to_numpy(dtype=object),
        np.asarray(amounts)[alive],
        np.asarray(basis_text, dtype=object)[alive] if not isinstance(basis_text, str) else basis_text,
        None,
        None,
        np.asarray(notes, dtype=object)[alive] if not isinstance(notes, str) else notes,
        accounts,
    )
    return lines, exclusions


def _roster(rule: SubsidyRule, basis: RosterBasis, households, people, period_start, period_end, inputs):
    if inputs is None:
        raise AllocationError(
            f"{rule.name}: a roster rule needs the roster (id_number, days_on_duty[, daily_rate_fen])"
        )
    roster = inputs.reset_index(drop=True)
    period_days = (period_end - period_start).days + 1
    exclusions: list[pd.DataFrame] = []
    days = roster_days(roster)
    if "daily_rate_fen" in roster.columns:
        rates = pd.array(roster["daily_rate_fen"], dtype="Int64")
        if basis.daily_rate_fen is not None:
            rates = rates.fillna(basis.daily_rate_fen)
        missing_rate = np.asarray(rates.isna(), dtype=bool)
        rates = rates.fillna(0).to_numpy(dtype=np.int64)
    elif basis.daily_rate_fen is not None:
        rates, missing_rate = (
            np.full(len(roster), basis.daily_rate_fen, dtype=np.int64),
            np.zeros(len(roster), dtype=bool),
        )
    else:
        raise AllocationError(f"{rule.name}: no daily rate in the roster or the rule")
    rows, found, missing = _persons_lookup(roster["id_number"], people, households, period_end)
    exclusions += missing
    bad_days = (days < 0) | (days > period_days)
    problems = found & (bad_days | missing_rate)
    if problems.any():
        reasons = np.where(
            bad_days, [f"{value} days on duty in a period of {period_days} days" for value in days], "no daily rate"
        )
        exclusions.append(
            exclusions_frame(
                rows["household_id"].to_numpy()[problems], roster["id_number"].to_numpy()[problems], reasons[problems]
            )
        )
    usable = found & ~bad_days & ~missing_rate
    if len(roster) and rule.eligibility:
        views = {
            "household": households.drop_duplicates("household_id")
            .set_index("household_id")
            .reindex(rows["household_id"].to_numpy())
            .reset_index(),
            "person": rows,
        }
        reasons = filters_failed(
            rule.eligibility,
            views,
            candidate_households=rows["household_id"],
            people_living=people_living_on(people, period_end),
        )
        failed = usable & reasons.notna().to_numpy()
        if failed.any():
            exclusions.append(
                exclusions_frame(
                    rows["household_id"].to_numpy()[failed],
                    roster["id_number"].to_numpy()[failed],
                    reasons.to_numpy()[failed],
                )
            )
        usable &= ~failed
    amounts = days * rates
    basis_text = [f"{d} days × {format_yuan(int(r))} yuan/day" for d, r in zip(days[usable], rates[usable])]
    lines, dead = _person_payments(
        rule,
        basis.paid_to,
        rows[usable].reset_index(drop=True),
        amounts[usable],
        basis_text,
        "",
        households,
        period_end,
    )
    steps = [
        Step(
            f"{rule.programme}: days on duty × daily rate for {period_start} to {period_end}",
            int(lines["amount_fen"].sum()),
        )
    ]
    return lines, exclusions + dead, steps


def _medical(rule: SubsidyRule, basis: MedicalTopUpBasis, households, people, period_start, period_end, inputs):
    if inputs is None:
        raise AllocationError(f"{rule.name}: a medical top-up needs the hospital bills")
    bills = inputs.reset_index(drop=True)
    total = bills["total_cost_fen"].to_numpy(dtype=np.int64)
    insurance = bills["insurance_paid_fen"].to_numpy(dtype=np.int64)
    own = bills["own_payment_fen"].to_numpy(dtype=np.int64)
    exclusions: list[pd.DataFrame] = []
    rows, found, missing = _persons_lookup(bills["id_number"], people, households, period_end)
    exclusions += missing
    inconsistent = found & ((total < 0) | (insurance < 0) | (own < 0) | (own + insurance > total))
    if inconsistent.any():
        exclusions.append(
            exclusions_frame(
                rows["household_id"].to_numpy()[inconsistent],
                bills["id_number"].to_numpy()[inconsistent],
                "bill does not add up: own payment + insurance exceed the total cost",
            )
        )
    cap = basis.own_share_cap
    cap_fen = np.asarray(divide_half_up(multiply_exact(total, cap.numerator), cap.denominator), dtype=np.int64)
    top_up = own - cap_fen
    within = found & ~inconsistent & (top_up <= 0)
    if within.any():
        exclusions.append(
            exclusions_frame(
                rows["household_id"].to_numpy()[within],
                bills["id_number"].to_numpy()[within],
                f"own payment already within {percent_text(cap)} of the total",
            )
        )
    usable = found & ~inconsistent & (top_up > 0)
    # Several bills of one person: each bill is rounded on its own, then summed into one line.
    frame = pd.DataFrame(
        {
            "id_number": bills["id_number"].to_numpy(dtype=object)[usable],
            "amount_fen": top_up[usable],
            "own": own[usable],
            "cap": cap_fen[usable],
        }
    )
    grouped = (
        frame.groupby("id_number", sort=True)
        .agg(amount_fen=("amount_fen", "sum"), own=("own", "sum"), cap=("cap", "sum"), bills=("amount_fen", "size"))
        .reset_index()
    )
    person_rows = (
        people.drop_duplicates("id_number")
        .set_index("id_number")
        .reindex(grouped["id_number"].to_numpy())
        .reset_index()
    )
    basis_text = [
        f"own payment {format_yuan(int(o))} − {percent_text(cap)} of total {format_yuan(int(c))}"
        for o, c in zip(grouped["own"], grouped["cap"])
    ]
    notes = [f"{count} bill(s)" for count in grouped["bills"]]
    # A bill of a patient who has since died is still owed: it goes to the head's card.
    died = as_days(person_rows["died_on"]) if len(person_rows) else np.array([], dtype="datetime64[D]")
    dead = ~np.isnat(died) & (died <= np.datetime64(period_end, "D"))
    accounts = (
        person_accounts(person_rows, households)
        if basis.paid_to == "person"
        else household_accounts(households, person_rows["household_id"])
    )
    heads = household_accounts(households, person_rows["household_id"])
    accounts.loc[dead, ["account_no", "account_name"]] = heads.loc[dead, ["account_no", "account_name"]].to_numpy()
    notes = [
        note + ("; patient deceased: paid to the head's card" if is_dead else "") for note, is_dead in zip(notes, dead)
    ]
    lines = _lines(
        rule,
        "person",
        grouped["id_number"].to_numpy(dtype=object),
        person_rows["household_id"].to_numpy(dtype=object),
        grouped["amount_fen"].to_numpy(),
        np.array(basis_text, dtype=object),
        None,
        None,
        np.array(notes, dtype=object),
        accounts,
    )
    steps = [
        Step(
            f"{rule.programme}: own payment above {percent_text(cap)} of each bill's total",
            int(grouped["amount_fen"].sum()),
        )
    ]
    return lines, exclusions, steps


def allocate_subsidy(
    rule: SubsidyRule,
    households: pd.DataFrame,
    people: pd.DataFrame,
    period_start: datetime.date,
    period_end: datetime.date,
    inputs: pd.DataFrame | None = None,
) -> AllocationResult:
    """Compute one subsidy programme for a period (see the module doc).

    ``inputs`` is the run's input list: applications (house repair: household_id, work_kind),
    a roster (id_number, days_on_duty[, daily_rate_fen]) or hospital bills (id_number,
    total_cost_fen, insurance_paid_fen, own_payment_fen). Frames are as of ``period_end``.
    """
    _check_period(period_start, period_end)
    if inputs is not None and len(inputs) > INPUT_ROWS_MAX:
        raise AllocationError(f"{len(inputs):,} input rows exceed {INPUT_ROWS_MAX:,}")
    basis = rule.basis
    if isinstance(basis, AttributeTableBasis):
        lines, exclusions, steps = _attribute_table(rule, basis, households, people, period_start, period_end, inputs)
    elif isinstance(basis, RosterBasis):
        lines, exclusions, steps = _roster(rule, basis, households, people, period_start, period_end, inputs)
    else:
        lines, exclusions, steps = _medical(rule, basis, households, people, period_start, period_end, inputs)
    total_fen = int(lines["amount_fen"].sum()) if len(lines) else 0
    summary = {
        "pool_fen": total_fen,
        "payees": len(lines),
        "excluded": int(sum(len(frame) for frame in exclusions)),
        "residual_fen": 0,
    }
    return result_build(
        rule_kind=rule.kind,
        rule_name=rule.name,
        pool_fen=total_fen,
        line_frames=[lines],
        exclusion_frames=exclusions,
        summary=summary,
        steps=steps,
    )


__all__ = ["allocate_subsidy"]
