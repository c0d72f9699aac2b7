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
- ``medical_topup``: for each bill, the smallest top-up in fen that brings the patient's own
  share to at most own_share_cap × total_cost: own_payment − ⌊cap × total⌋ when positive (the
  own share after the top-up never exceeds the cap; 1,000.05 at 10% allows 100.00, not 100.01).

Household-based benefits go to the head's card; person-based ones to the person's own card
(person_account_no, the 社保卡) when registered, else the head's card; the chosen account, its
holder's name and which card it is (``card_kind``: person_card 本人社保卡, household_card 户卡)
are on the line, with the beneficiary's name. A rule with ``payee: collective`` pays every line
into the village collective's account instead (``collective_payee``; card_kind collective).
For every basis, candidates failing ``population`` filters are out of scope and not reported;
candidates failing ``eligibility`` filters are reported in exclusions (a roster's or a bill's
own columns are ``input.<column>``). A subsidy has no pool of its own: ``pool_fen`` is the total
of the lines.

Person-level amounts: each beneficiary (享受人) gets a line of its own, rounded once, whoever is
paid (``beneficiary_id``); a household's total is the sum of its lines. Several bills of one
patient are each topped up on their own (the cap applies per bill) and paid as one line.
"""

from __future__ import annotations

import datetime
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pandas as pd

from disburse.allocations.frames import (
    COLLECTIVE_ACCOUNT,
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
from disburse.allocations.names import component_name
from disburse.allocations.rules import AttributeTableBasis, MedicalTopUpBasis, RosterBasis, SubsidyRule
from disburse.allocations.split import RUN_PAYEES_MAX, divide_half_up, multiply_exact, percent_text
from disburse.foundation.i18n import join_list, tr, tr_noop
from disburse.foundation.money import format_yuan

INPUT_ROWS_MAX = RUN_PAYEES_MAX
BILL_COLUMNS = ("total_cost_fen", "own_payment_fen", "insurance_paid_fen")
# An amount table's ``amount_per`` and ``counted_per`` as the basis and the step read them.
AMOUNT_PER_TEXTS = {"year": tr_noop("per year"), "month": tr_noop("per month"), "once": tr_noop("per once")}
TABLE_STEP_TEXTS = {
    "household": tr_noop(
        "{programme}: amount table per household, {per} × {factor} for {start} to {end}, rounded half-up per household"
    ),
    "person": tr_noop(
        "{programme}: amount table per person, {per} × {factor} for {start} to {end}, rounded half-up per person"
    ),
}


def _period_factor(amount_per: str, period_start: datetime.date, period_end: datetime.date) -> Fraction:
    share = year_fraction(period_start, period_end)
    return {"year": share, "month": share * 12, "once": Fraction(1)}[amount_per]


def _check_period(period_start: datetime.date, period_end: datetime.date) -> None:
    if period_end < period_start:
        raise AllocationError(tr("period end {end} is before its start {start}", end=period_end, start=period_start))


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
    beneficiaries: object = None,
    beneficiary_names: object = None,
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
            "card_kind": accounts["card_kind"].to_numpy(dtype=object),
            "beneficiary_id": beneficiaries,
            "beneficiary_name": beneficiary_names,
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
                tr("not in the register as of {date}", date=period_end),
            )
        )
    return rows, in_people & in_households, exclusions


def _views(
    households: pd.DataFrame, household_ids: pd.Series, person_rows: pd.DataFrame | None, inputs: pd.DataFrame | None
) -> dict[str, pd.DataFrame]:
    """What filters see, aligned with the candidates: their household, person and input row."""
    indexed = households.drop_duplicates("household_id").set_index("household_id")
    views = {"household": indexed.reindex(household_ids.to_numpy()).reset_index()}
    if person_rows is not None:
        views["person"] = person_rows.reset_index(drop=True)
    if inputs is not None:
        views["input"] = inputs.reset_index(drop=True)
    return views


def _eligible(
    rule: SubsidyRule,
    views: dict[str, pd.DataFrame],
    household_ids: pd.Series,
    id_numbers: np.ndarray | None,
    living: pd.DataFrame,
    usable: np.ndarray,
) -> tuple[np.ndarray, list[pd.DataFrame]]:
    """The candidates in scope (``population``, silently) and eligible (``eligibility``, each
    failure reported with its reason), among those still ``usable``."""
    household_ids = household_ids.reset_index(drop=True)

    def reasons_of(filters):  # type: ignore[no-untyped-def]
        return filters_failed(filters, views, candidate_households=household_ids, people_living=living).to_numpy()

    if rule.population and len(household_ids):
        usable = usable & pd.isna(reasons_of(rule.population))
    if not rule.eligibility or not len(household_ids):
        return usable, []
    reasons = reasons_of(rule.eligibility)
    failed = usable & ~pd.isna(reasons)
    exclusions = []
    if failed.any():
        exclusions.append(
            exclusions_frame(
                household_ids.to_numpy()[failed],
                id_numbers[failed] if id_numbers is not None else None,
                reasons[failed],
            )
        )
    return usable & ~failed, exclusions


def _table_candidates(
    rule: SubsidyRule, basis: AttributeTableBasis, households, living, period_end, inputs
) -> tuple[pd.DataFrame, pd.DataFrame | None, list[pd.DataFrame]]:
    """The candidates of an amount table (rows of the input list, living people or households)
    and, for a per-person table, their register rows; unknown ones are excluded."""
    known = households.drop_duplicates("household_id").set_index("household_id").index
    if not basis.input_list:
        if basis.counted_per == "household":
            return households[["household_id"]].drop_duplicates().reset_index(drop=True), None, []
        person_rows = living[living["household_id"].isin(known)].reset_index(drop=True)
        return person_rows[["id_number", "household_id"]], person_rows, []
    if inputs is None:
        raise AllocationError(
            tr(
                "this rule reads an input list (input_list: true), such as the approved applications; give it with "
                "--inputs"
            )
        )
    candidates = inputs.reset_index(drop=True)
    key = "id_number" if basis.counted_per == "person" else "household_id"
    if key not in candidates.columns:
        raise AllocationError(tr("the input list needs a {key} column", key=key))
    if basis.counted_per == "person":
        person_rows, found, missing = _persons_lookup(candidates["id_number"], living, households, period_end)
        return candidates[found].reset_index(drop=True), person_rows[found].reset_index(drop=True), missing
    found = candidates["household_id"].isin(known).to_numpy()
    exclusions = []
    if (~found).any():
        reason = tr("not in the register as of {date}", date=period_end)
        exclusions.append(exclusions_frame(candidates["household_id"].to_numpy()[~found], None, reason))
    return candidates[found].reset_index(drop=True), None, exclusions


def _table_amounts(
    basis: AttributeTableBasis, views, household_ids: pd.Series, living: pd.DataFrame, eligible: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per candidate: the amount of the first table entry whose filters hold, its label, and
    whether an entry held at all."""
    amounts_fen = np.zeros(len(household_ids), dtype=np.int64)
    labels = np.full(len(household_ids), None, dtype=object)
    undecided = eligible.copy()
    joiner = tr(" and ")
    for entry in basis.entries:
        reasons = filters_failed(entry.when, views, candidate_households=household_ids, people_living=living)
        holds = reasons.isna().to_numpy() & undecided
        amounts_fen[holds] = entry.amount_fen
        labels[holds] = entry.label or joiner.join(item.describe() for item in entry.when)
        undecided &= ~holds
    return amounts_fen, labels, undecided


def _attribute_table(
    rule: SubsidyRule, basis: AttributeTableBasis, households, people, period_start, period_end, inputs
):
    living = people_living_on(people, period_end)
    candidates, person_rows, exclusions = _table_candidates(rule, basis, households, living, period_end, inputs)
    if len(candidates) > INPUT_ROWS_MAX:
        raise AllocationError(
            tr("{count} candidates exceed {limit}", count=f"{len(candidates):,}", limit=f"{INPUT_ROWS_MAX:,}")
        )
    household_ids = (person_rows if person_rows is not None else candidates)["household_id"].reset_index(drop=True)
    views = _views(households, household_ids, person_rows, candidates if basis.input_list else None)
    id_numbers = person_rows["id_number"].to_numpy(dtype=object) if person_rows is not None else None
    everyone = np.ones(len(candidates), dtype=bool)
    eligible, failed = _eligible(rule, views, household_ids, id_numbers, living, everyone)
    exclusions += failed
    amounts_fen, labels, undecided = _table_amounts(basis, views, household_ids, living, eligible)
    if undecided.any():
        exclusions.append(
            exclusions_frame(
                household_ids.to_numpy()[undecided],
                id_numbers[undecided] if id_numbers is not None else None,
                tr("no entry of the amount table matches"),
            )
        )
    paid = eligible & ~undecided
    factor = _period_factor(basis.amount_per, period_start, period_end)
    amounts = np.asarray(
        divide_half_up(multiply_exact(amounts_fen, factor.numerator), factor.denominator), dtype=np.int64
    )
    per = tr(AMOUNT_PER_TEXTS[basis.amount_per])
    wording = tr("{label}: {amount} {per} × {factor}")
    basis_text = np.array(
        [
            wording.format(label=label, amount=format_yuan(int(amount)), per=per, factor=factor) if label else ""
            for label, amount in zip(labels[paid], amounts_fen[paid])
        ],
        dtype=object,
    )
    text = tr(
        TABLE_STEP_TEXTS[basis.counted_per],
        programme=component_name(rule.programme),
        per=per,
        factor=factor,
        start=period_start,
        end=period_end,
    )
    steps = [Step(text, int(amounts[paid].sum()))]
    if basis.counted_per == "household":
        lines = _household_table_lines(rule, households, household_ids[paid], amounts[paid], basis_text)
    else:
        chosen = person_rows[paid].reset_index(drop=True)
        lines = _person_table_lines(rule, basis, chosen, households, amounts[paid], basis_text)
    return lines, exclusions, steps


def _household_table_lines(rule, households, household_ids: pd.Series, amounts, basis_text) -> pd.DataFrame:
    """One line per household (two applications of one household are one line, summed)."""
    frame = pd.DataFrame({"household_id": household_ids.to_numpy(), "amount_fen": amounts, "basis": basis_text})
    grouped = (
        frame.groupby("household_id", sort=True)
        .agg(amount_fen=("amount_fen", "sum"), count=("amount_fen", "size"), basis=("basis", "first"))
        .reset_index()
    )
    ids = grouped["household_id"].to_numpy(dtype=object)
    wording = tr("{count} entries")
    notes = np.where(grouped["count"].to_numpy() > 1, [wording.format(count=count) for count in grouped["count"]], "")
    accounts = household_accounts(households, grouped["household_id"])
    return _lines(
        rule,
        "household",
        ids,
        ids,
        grouped["amount_fen"].to_numpy(),
        grouped["basis"].to_numpy(),
        None,
        None,
        notes,
        accounts,
    )


def _person_table_lines(rule, basis, chosen: pd.DataFrame, households, amounts, basis_text) -> pd.DataFrame:
    """One line per beneficiary, rounded once: to the person's card (paid_to person) or to the
    head's card (paid_to household, payee the household)."""
    ids = chosen["id_number"].to_numpy(dtype=object)
    household_ids = chosen["household_id"].to_numpy(dtype=object)
    if basis.paid_to == "person":
        accounts, payee_type, payees = person_accounts(chosen, households), "person", ids
    else:
        accounts = household_accounts(households, chosen["household_id"])
        payee_type, payees = "household", household_ids
    names = chosen["name"].to_numpy(dtype=object) if "name" in chosen else None
    return _lines(rule, payee_type, payees, household_ids, amounts, basis_text, None, None, "", accounts, ids, names)


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
        wording = tr("died on {day}: not paid, decide by hand")
        exclusions.append(
            exclusions_frame(
                rows["household_id"].to_numpy()[dead],
                rows["id_number"].to_numpy()[dead],
                [wording.format(day=day) for day in died[dead]],
            )
        )
    chosen = rows[~dead].reset_index(drop=True)
    by_person = paid_to == "person"
    accounts = (
        person_accounts(chosen, households) if by_person else household_accounts(households, chosen["household_id"])
    )
    lines = _lines(
        rule,
        "person" if by_person else "household",
        chosen["id_number" if by_person else "household_id"].to_numpy(dtype=object),
        chosen["household_id"].to_numpy(dtype=object),
        np.asarray(amounts)[~dead],
        np.asarray(basis_text, dtype=object)[~dead] if not isinstance(basis_text, str) else basis_text,
        None,
        None,
        np.asarray(notes, dtype=object)[~dead] if not isinstance(notes, str) else notes,
        accounts,
        chosen["id_number"].to_numpy(dtype=object),
        chosen["name"].to_numpy(dtype=object) if "name" in chosen else None,
    )
    return lines, exclusions


def _roster_rates(rule: SubsidyRule, basis: RosterBasis, roster: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each row's daily rate (the sheet's own, else the rule's) and where none is known."""
    if "daily_rate_fen" in roster.columns:
        rates = pd.array(roster["daily_rate_fen"], dtype="Int64")
        if basis.daily_rate_fen is not None:
            rates = rates.fillna(basis.daily_rate_fen)
        return rates.fillna(0).to_numpy(dtype=np.int64), np.asarray(rates.isna(), dtype=bool)
    if basis.daily_rate_fen is not None:
        return np.full(len(roster), basis.daily_rate_fen, dtype=np.int64), np.zeros(len(roster), dtype=bool)
    raise AllocationError(
        tr("no daily rate in the roster or the rule: give 日工资标准 in the roster or daily_rate_yuan in the rule")
    )


def _roster(rule: SubsidyRule, basis: RosterBasis, households, people, period_start, period_end, inputs):
    if inputs is None:
        raise AllocationError(
            tr("a roster rule needs the attendance roster (证件号码, 出勤天数[, 日工资标准]); give it with --inputs")
        )
    roster = inputs.reset_index(drop=True)
    period_days = (period_end - period_start).days + 1
    days = roster_days(roster)
    rates, missing_rate = _roster_rates(rule, basis, roster)
    rows, found, exclusions = _persons_lookup(roster["id_number"], people, households, period_end)
    bad_days = (days < 0) | (days > period_days)
    problems = found & (bad_days | missing_rate)
    if problems.any():
        wording = tr("{days} days on duty in a period of {period_days} days")
        reasons = np.where(
            bad_days,
            [wording.format(days=value, period_days=period_days) for value in days],
            tr("no daily rate"),
        )
        exclusions.append(
            exclusions_frame(
                rows["household_id"].to_numpy()[problems], roster["id_number"].to_numpy()[problems], reasons[problems]
            )
        )
    views = _views(households, rows["household_id"], rows, roster)
    living = people_living_on(people, period_end)
    ids = roster["id_number"].to_numpy(dtype=object)
    usable, failed = _eligible(rule, views, rows["household_id"], ids, living, found & ~bad_days & ~missing_rate)
    exclusions += failed
    amounts = days * rates
    wording = tr("{days} days × {rate} yuan/day")
    basis_text = [wording.format(days=d, rate=format_yuan(int(r))) for d, r in zip(days[usable], rates[usable])]
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
    text = tr(
        "{programme}: days on duty × daily rate for {start} to {end}",
        programme=component_name(rule.programme),
        start=period_start,
        end=period_end,
    )
    return lines, exclusions + dead, [Step(text, int(lines["amount_fen"].sum()))]


def medical_top_up_fen(total_fen: np.ndarray, own_fen: np.ndarray, cap) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Per bill: the own share the cap allows, ⌊cap × total⌋ in fen, and the top-up, the smallest
    amount in fen that brings the own share to it or below: own − allowed (0 when within)."""
    allowed = np.asarray(multiply_exact(total_fen, cap.numerator) // cap.denominator, dtype=np.int64)
    return allowed, np.maximum(np.asarray(own_fen, dtype=np.int64) - allowed, 0)


def _bills_usable(rule, bills, rows, found, households, people, period_end):  # type: ignore[no-untyped-def]
    """Bills that add up, of patients in scope and eligible; the others excluded with reasons."""
    total, own, insurance = (bills[name].to_numpy(dtype=np.int64) for name in BILL_COLUMNS)
    exclusions = []
    inconsistent = found & ((total < 0) | (insurance < 0) | (own < 0) | (own + insurance > total))
    if inconsistent.any():
        exclusions.append(
            exclusions_frame(
                rows["household_id"].to_numpy()[inconsistent],
                bills["id_number"].to_numpy()[inconsistent],
                tr("bill does not add up: own payment + insurance exceed the total cost"),
            )
        )
    views = _views(households, rows["household_id"], rows, bills)
    # A bill of a patient who has since died is still owed: the living register is not a filter
    # here, but any_member filters look at the household's living members.
    living = people_living_on(people, period_end)
    ids = bills["id_number"].to_numpy(dtype=object)
    usable, failed = _eligible(rule, views, rows["household_id"], ids, living, found & ~inconsistent)
    return usable, exclusions + failed


def _medical(rule: SubsidyRule, basis: MedicalTopUpBasis, households, people, period_start, period_end, inputs):
    if inputs is None:
        raise AllocationError(
            tr(
                "a medical top-up needs the hospital bills (证件号码, 医疗总费用, 医保报销金额, 个人自付金额); "
                "give them with --inputs"
            )
        )
    bills = inputs.reset_index(drop=True)
    rows, found, exclusions = _persons_lookup(bills["id_number"], people, households, period_end)
    usable, more = _bills_usable(rule, bills, rows, found, households, people, period_end)
    exclusions += more
    cap = basis.own_share_cap
    total, own = bills["total_cost_fen"].to_numpy(dtype=np.int64), bills["own_payment_fen"].to_numpy(dtype=np.int64)
    allowed, top_up = medical_top_up_fen(total, own, cap)
    within = usable & (top_up == 0)
    if within.any():
        exclusions.append(
            exclusions_frame(
                rows["household_id"].to_numpy()[within],
                bills["id_number"].to_numpy()[within],
                tr("own payment already within {cap} of the total", cap=percent_text(cap)),
            )
        )
    usable &= top_up > 0
    frame = pd.DataFrame(
        {
            "id_number": bills["id_number"].to_numpy(dtype=object)[usable],
            "amount_fen": top_up[usable],
            "own": own[usable],
            "allowed": allowed[usable],
            "total": total[usable],
        }
    )
    grouped = (
        frame.groupby("id_number", sort=True)
        .agg(
            amount_fen=("amount_fen", "sum"),
            own=("own", "sum"),
            allowed=("allowed", "sum"),
            total=("total", "sum"),
            bills=("amount_fen", "size"),
        )
        .reset_index()
    )
    lines = _medical_lines(rule, basis, grouped, people, households, period_end)
    text = tr(
        "{programme}: own payment above {cap} of each bill's total (the allowed own share rounded down to the fen, "
        "so it never exceeds the cap)",
        programme=component_name(rule.programme),
        cap=percent_text(cap),
    )
    return lines, exclusions, [Step(text, int(grouped["amount_fen"].sum()))]


def _medical_lines(rule, basis, grouped: pd.DataFrame, people, households, period_end) -> pd.DataFrame:
    cap = basis.own_share_cap
    person_rows = (
        people.drop_duplicates("id_number")
        .set_index("id_number")
        .reindex(grouped["id_number"].to_numpy())
        .reset_index()
    )
    wording, cap_text = (
        tr("own payment {own} − allowed own share {allowed} (⌊{cap} × total {total}⌋)"),
        percent_text(cap),
    )
    basis_text = [
        wording.format(own=format_yuan(int(o)), allowed=format_yuan(int(a)), cap=cap_text, total=format_yuan(int(t)))
        for o, a, t in zip(grouped["own"], grouped["allowed"], grouped["total"])
    ]
    # A bill of a patient who has since died is still owed: it goes to the head's card.
    died = as_days(person_rows["died_on"]) if len(person_rows) else np.array([], dtype="datetime64[D]")
    dead = ~np.isnat(died) & (died <= np.datetime64(period_end, "D"))
    accounts = (
        person_accounts(person_rows, households)
        if basis.paid_to == "person"
        else household_accounts(households, person_rows["household_id"])
    )
    heads = household_accounts(households, person_rows["household_id"])
    paid_where = ["account_no", "account_name", "card_kind"]
    accounts.loc[dead, paid_where] = heads.loc[dead, paid_where].to_numpy()
    alive_note, dead_note = tr("{count} bill(s)"), tr("{count} bill(s); patient deceased: paid to the head's card")
    notes = [
        (dead_note if is_dead else alive_note).format(count=count) for count, is_dead in zip(grouped["bills"], dead)
    ]
    ids = grouped["id_number"].to_numpy(dtype=object)
    return _lines(
        rule,
        "person",
        ids,
        person_rows["household_id"].to_numpy(dtype=object),
        grouped["amount_fen"].to_numpy(),
        np.array(basis_text, dtype=object),
        None,
        None,
        np.array(notes, dtype=object),
        accounts,
        ids,
        person_rows["name"].to_numpy(dtype=object) if "name" in person_rows else None,
    )


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
        raise AllocationError(
            tr("{count} input rows exceed {limit}", count=f"{len(inputs):,}", limit=f"{INPUT_ROWS_MAX:,}")
        )
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


def collective_payee(result: AllocationResult, households: pd.DataFrame, accounts: pd.DataFrame) -> AllocationResult:
    """``result`` with every line paid to its village collective's account (``payee:
    collective``): payee the village (its code), the account and name from ``accounts``
    (``village_code, account_no, account_name``, one row per village), card_kind collective.
    Beneficiary, household and amount stay as computed. Refused when a village of the lines
    has no account on record."""
    lines = result.lines.copy()
    if len(lines) == 0:
        return result
    villages = households.drop_duplicates("household_id").set_index("household_id")["village_code"]
    codes = villages.reindex(lines["household_id"].to_numpy()).to_numpy(dtype=object)
    found = accounts.drop_duplicates("village_code").set_index("village_code").reindex(codes)
    missing = sorted({str(code) for code, number in zip(codes, found["account_no"]) if pd.isna(number)})
    if missing:
        raise AllocationError(
            tr(
                "payee: collective pays into the village's own bank account, but village {villages} has none on "
                "record (entities add-bank-account VILLAGE_CODE --bank B --account-number N)",
                villages=join_list(missing),
            )
        )
    lines["payee_type"] = "collective"
    lines["payee_id"] = codes
    lines["account_no"] = found["account_no"].to_numpy(dtype=object)
    lines["account_name"] = found["account_name"].to_numpy(dtype=object)
    lines["card_kind"] = COLLECTIVE_ACCOUNT
    return replace(result, lines=lines)
