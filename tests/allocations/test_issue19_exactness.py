"""Issue 19, allocation exactness: one worked example per item, computed by hand in the comments,
each failing before its fix; and the properties the issue asks for, for every rule kind."""

from __future__ import annotations

import datetime
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from allocation_builders import heads_for, holdings_frame, households_frame, people_frame
from hypothesis import given, settings
from hypothesis import strategies as st

from disburse.allocations.dividends import allocate_dividend
from disburse.allocations.explaining import explain
from disburse.allocations.pv import RowRefused, allocate_pv
from disburse.allocations.rules import EXAMPLES_DIRECTORY, RuleError, load_rule
from disburse.allocations.subsidies import allocate_subsidy, medical_top_up_fen

STATION = "PV-611002-001"
OCTOBER = (datetime.date(2026, 10, 1), datetime.date(2026, 10, 31))
HOUSEHOLD = "10020000001"
VILLAGE = "611021100200"

PV_TOGETHER = """
kind: pv_revenue
name: ties, collectives in the kW split
station_id: PV-611002-001
paying_entity: COUNTY
fund_source: PV-611002-001
parts:
  collective: {mode: by_claimed_kw, account_code: "113", debit_account_code: "322"}
  households: {percent: "100%", account_code: "211", debit_account_code: "322"}
"""

PV_PERCENTAGE = """
kind: pv_revenue
name: villages by percentage
station_id: PV-611002-001
paying_entity: COUNTY
fund_source: PV-611002-001
parts:
  collective: {mode: percentage, percent: "50%", account_code: "113", debit_account_code: "322"}
  households: {percent: "50%", account_code: "211", debit_account_code: "322"}
"""

DIVIDEND = """
kind: coop_dividend
name: dividend
cooperative_id: COOP-001
paying_entity: COUNTY
fund_source: COOP-001
period: {start: 2026-01-01, end: 2026-12-31}
floor_rate: "5%"
ceiling_rate: "10%"
exit_handling: remaining_holders
accounts: {debit: "322", household: "211", collective: "113", suspense: "211", cap_held_back: "113"}
"""


def settlement(amount_fen: int, period: str = "2026-10") -> dict:
    return {"station_id": STATION, "service_period": period, "amount_fen": amount_fen, "revenue_type": "base"}


def amounts(result) -> dict[tuple[str, str], int]:
    totals: dict[tuple[str, str], int] = {}
    for row in result.lines.itertuples():
        key = (row.component, row.payee_id)
        totals[key] = totals.get(key, 0) + int(row.amount_fen)
    return totals


# --- item 1: a tie goes to the lower holder id, for every split ---------------------------------


def test_issue19_item1_tie_goes_to_lower_holder_id():
    # Household 10020000001 and collective 611021100200 hold 3 kW each for the whole month: equal
    # exact shares of 0.5 fen each of a 0.01-yuan settlement. The fen goes to the lower holder id,
    # 10020000001 < 611021100200; before the fix it went to the collective (sorted by type first).
    households = households_frame({"household_id": HOUSEHOLD})
    holdings = holdings_frame(
        {"asset_id": STATION, "holder_id": HOUSEHOLD, "units_e4": 30_000},
        {"asset_id": STATION, "holder_type": "collective", "holder_id": VILLAGE, "units_e4": 30_000},
    )
    result = allocate_pv(load_rule(PV_TOGETHER), settlement(1), households, heads_for(households), holdings)
    assert amounts(result) == {("household_share", HOUSEHOLD): 1, ("collective_share", VILLAGE): 0}

    # The same with the holdings handed over in the other order.
    result = allocate_pv(load_rule(PV_TOGETHER), settlement(1), households, heads_for(households), holdings.iloc[::-1])
    assert amounts(result)[("household_share", HOUSEHOLD)] == 1


def test_issue19_item1_ties_between_villages_and_between_dividend_holders():
    # Villages by percentage: 3 fen, half (2 fen after the parts split, ties to the collective
    # part first) to villages 611002000002 and 611002000001 with equal claims: 1 fen each; the
    # households part (1 fen) to H1 alone. With 1 fen: the collective part takes it (0.5 vs 0.5,
    # the first part) and the village 611002000001 (the lower code) gets it.
    households = households_frame({"household_id": "H1"})
    holdings = holdings_frame(
        {"asset_id": STATION, "holder_type": "collective", "holder_id": "611002000002", "units_e4": 10_000},
        {"asset_id": STATION, "holder_type": "collective", "holder_id": "611002000001", "units_e4": 10_000},
        {"asset_id": STATION, "holder_id": "H1", "units_e4": 10_000},
    )
    result = allocate_pv(load_rule(PV_PERCENTAGE), settlement(1), households, heads_for(households), holdings)
    assert amounts(result) == {
        ("collective_share", "611002000001"): 1,
        ("collective_share", "611002000002"): 0,
        ("household_share", "H1"): 0,
    }
    # Dividend: H2 and H1 (listed in that order) hold one share and 1,000.00 each; floors 50.00
    # each; a pool of 100.01 leaves 0.01 over the floors, a tie: it goes to H1.
    households = households_frame({"household_id": "H2"}, {"household_id": "H1"})
    holdings = holdings_frame(
        {"asset_id": "COOP-001", "holder_id": "H2", "units_e4": 10_000, "principal_fen": 100_000},
        {"asset_id": "COOP-001", "holder_id": "H1", "units_e4": 10_000, "principal_fen": 100_000},
    )
    result = allocate_dividend(load_rule(DIVIDEND), households, heads_for(households), holdings, pool_fen=10_001)
    assert amounts(result) == {("dividend", "H1"): 5_001, ("dividend", "H2"): 5_000}


# --- item 2: the medical top-up applies the rule's eligibility --------------------------------


def medical_case():
    households = households_frame(
        {"household_id": "M1", "poverty_status": "已脱贫", "exited_on": datetime.date(2018, 12, 1)},
        {"household_id": "M2", "poverty_status": "未脱贫"},
    )
    people = heads_for(households)
    bills = pd.DataFrame(
        {
            "id_number": ["ID-HEAD-M1", "ID-HEAD-M2"],
            "total_cost_fen": [100_000, 100_000],
            "insurance_paid_fen": [70_000, 70_000],
            "own_payment_fen": [30_000, 30_000],
        }
    )
    return households, people, bills


def test_issue19_item2_medical_top_up_applies_eligibility():
    # Two bills of 1,000.00 with 300.00 paid by the patient: each would be topped up by
    # 300.00 − 100.00 = 200.00. The shipped rule admits 未脱贫/返贫/监测对象 only, so the patient of
    # the household 已脱贫 since 2018 is left out, with the filter that failed; before the fix both
    # were paid.
    rule = load_rule(EXAMPLES_DIRECTORY / "medical_topup.yaml")
    households, people, bills = medical_case()
    result = allocate_subsidy(rule, households, people, *OCTOBER, inputs=bills)
    assert amounts(result) == {("medical_topup", "ID-HEAD-M2"): 20_000}
    reason = result.exclusions.set_index("id_number").loc["ID-HEAD-M1", "reason"]
    assert "household.poverty_status" in reason and "已脱贫" in reason
    # population (out of scope, not reported) applies to every basis too.
    scoped = load_rule(
        (EXAMPLES_DIRECTORY / "medical_topup.yaml")
        .read_text(encoding="utf-8")
        .replace("eligibility:", "population:\n  - {field: household.household_id, op: eq, value: M1}\neligibility:")
    )
    result = allocate_subsidy(scoped, households, people, *OCTOBER, inputs=bills)
    assert result.lines.empty and set(result.exclusions["id_number"]) == {"ID-HEAD-M1"}


def test_issue19_item2_eligibility_scopes_are_checked_for_every_kind():
    # A PV or dividend rule's holders are households: a person.* filter has no data to test.
    text = PV_TOGETHER + "eligibility:\n  - {field: person.school_stage, op: eq, value: 小学}\n"
    with pytest.raises(RuleError, match="a PV rule"):
        load_rule(text)
    # any_member.* is applied to PV holders: H2 has no disabled member and is left out.
    households = households_frame({"household_id": "H1"}, {"household_id": "H2"})
    people = pd.concat(
        [
            heads_for(households),
            people_frame({"id_number": "P1", "household_id": "H1", "name": "残疾人", "health": "残疾"}),
        ],
        ignore_index=True,
    )
    holdings = holdings_frame(
        {"asset_id": STATION, "holder_id": "H1", "units_e4": 10_000},
        {"asset_id": STATION, "holder_id": "H2", "units_e4": 10_000},
    )
    rule = load_rule(PV_TOGETHER + "eligibility:\n  - {field: any_member.health, op: eq, value: 残疾}\n")
    result = allocate_pv(rule, settlement(1_000), households, people, holdings)
    assert amounts(result) == {("household_share", "H1"): 1_000}
    assert "any_member.health" in result.exclusions.set_index("household_id").loc["H2", "reason"]


# --- item 3: the top-up never leaves the own share above the cap -------------------------------


def test_issue19_item3_top_up_leaves_own_share_within_cap():
    # Total 1,000.05, own share 200.00, cap 10%: 10% × 1,000.05 = 100.005 may be kept as own
    # share at most, so the own share after the top-up is at most 100.00 (rounded down, never
    # up) and the top-up is 200.00 − 100.00 = 100.00. Before the fix: 99.99, leaving 100.01.
    rule = load_rule(EXAMPLES_DIRECTORY / "medical_topup.yaml")
    households = households_frame({"household_id": "M2"})
    bills = pd.DataFrame(
        {
            "id_number": ["ID-HEAD-M2"],
            "total_cost_fen": [100_005],
            "insurance_paid_fen": [80_005],
            "own_payment_fen": [20_000],
        }
    )
    result = allocate_subsidy(rule, households, heads_for(households), *OCTOBER, inputs=bills)
    assert amounts(result) == {("medical_topup", "ID-HEAD-M2"): 10_000}


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**12),
    st.fractions(min_value=0, max_value=1),
    st.integers(min_value=1, max_value=10_000),
    st.integers(min_value=0, max_value=10_000),
)
def test_issue19_item3_top_up_is_the_smallest_that_keeps_the_own_share_within_the_cap(
    total_fen, own_share, cap_numerator, cap_slack
):
    # For any total and own share (0 ≤ own ≤ total) and any cap, the own share after the top-up
    # is ≤ cap × total, and one fen less of top-up would leave it above (when there is a top-up).
    own_fen = int(own_share * total_fen)
    cap = Fraction(cap_numerator, cap_numerator + cap_slack)
    _, top_up = medical_top_up_fen(np.array([total_fen], dtype=np.int64), np.array([own_fen], dtype=np.int64), cap)
    top = int(top_up[0])
    assert 0 <= top <= own_fen
    assert own_fen - top <= cap * total_fen
    if top > 0:
        assert own_fen - (top - 1) > cap * total_fen
    else:
        assert own_fen <= cap * total_fen


# --- item 5: each beneficiary gets its own line, rounded once ----------------------------------

PUPILS_TO_THE_HEAD = """
kind: subsidy
name: pupils, paid to the household
programme: pupil_aid
paying_entity: COUNTY
fund_source: 教育
expense_account_code: "514"
population:
  - {field: person.school_stage, op: eq, value: 小学}
basis:
  type: attribute_table
  counted_per: person
  paid_to: household
  amount_per: year
  entries:
    - {label: 小学, amount_yuan: "2000", when: [{field: person.school_stage, op: eq, value: 小学}]}
"""


def test_issue19_item5_each_beneficiary_gets_its_own_line():
    # Two pupils of household S1 at 2,000.00 a year, for October (1/12 of a year): each pupil's
    # amount is 166.666… and is rounded once, to 166.67, on a line of its own naming the pupil
    # (享受人); the household is paid 166.67 + 166.67 = 333.34 on the head's card. Before the fix
    # one household line of 333.34 claimed to be 2 × 166.666….
    rule = load_rule(PUPILS_TO_THE_HEAD)
    households = households_frame({"household_id": "S1"})
    people = pd.concat(
        [
            heads_for(households),
            people_frame(
                {"id_number": "K1", "household_id": "S1", "name": "甲", "relation": "之子", "school_stage": "小学"},
                {"id_number": "K2", "household_id": "S1", "name": "乙", "relation": "之女", "school_stage": "小学"},
            ),
        ],
        ignore_index=True,
    )
    result = allocate_subsidy(rule, households, people, *OCTOBER)
    lines = result.lines.set_index("beneficiary_id")
    assert sorted(lines.index) == ["K1", "K2"]
    assert list(lines["amount_fen"]) == [16_667, 16_667]
    assert set(lines["payee_id"]) == {"S1"} and set(lines["account_no"]) == {"62S1"}
    assert result.pool_fen == 33_334
    text = "\n".join(explain(result, "S1"))
    assert text.count("pupil_aid: 166.67 yuan for") == 2


# --- item 6: a part with nobody to go to -------------------------------------------------------


def test_issue19_item6_redistribute_with_nobody_eligible_goes_to_the_residual_account():
    # H1's only holding starts after October: nobody is active, so the households part of 10.00
    # (100%) has nobody to go to. With a residual account it goes there (a line and a figure);
    # without one, only this settlement row is refused (RowRefused), never raised as a whole run.
    households = households_frame({"household_id": "H1"})
    holdings = holdings_frame(
        {"asset_id": STATION, "holder_id": "H1", "units_e4": 10_000, "start_on": datetime.date(2026, 11, 1)}
    )
    with pytest.raises(RowRefused, match="nobody eligible holds an active claim"):
        allocate_pv(load_rule(PV_TOGETHER), settlement(1_000), households, heads_for(households), holdings)
    rule = load_rule(
        PV_TOGETHER.replace(
            'debit_account_code: "322"}\n', 'debit_account_code: "322", residual_account_code: "311"}\n'
        )
    )
    result = allocate_pv(rule, settlement(1_000), households, heads_for(households), holdings)
    unclaimed = result.lines[result.lines["component"] == "unclaimed_part"].iloc[0]
    assert (unclaimed["account_code"], int(unclaimed["amount_fen"])) == ("311", 1_000)
    assert result.summary["unclaimed_fen"] == 1_000 and result.line_total_fen() == 1_000


# --- item 7: explain shows every step, for every kind ------------------------------------------


def test_issue19_item7_explain_a_dividend_household_shows_floor_pro_rata_and_cap():
    # H1 and H2 hold 5 shares and 5,000.00 of principal each for 2026. Floors 5%: 250.00 each
    # (500.00); pool 1,200.00 leaves 700.00 above the floors, 350.00 each by shares; totals 600.00
    # are capped at 10% = 500.00, so each is paid 500.00 and 100.00 each is held back.
    households = households_frame({"household_id": "H1"}, {"household_id": "H2"})
    holdings = holdings_frame(
        {"asset_id": "COOP-001", "holder_id": "H1", "units_e4": 50_000, "principal_fen": 500_000},
        {"asset_id": "COOP-001", "holder_id": "H2", "units_e4": 50_000, "principal_fen": 500_000},
    )
    result = allocate_dividend(load_rule(DIVIDEND), households, heads_for(households), holdings, pool_fen=120_000)
    text = "\n".join(explain(result, "H1"))
    for expected in (
        "H1 dividend from converted funds: 500.00 yuan",
        "floor: 250.00 on principal 5,000.00 over 365 active day(s)",
        "of 700.00 = 350 yuan exactly; 350.00 after the largest-remainder rounding",
        "floor + pro rata = 250.00 + 350.00 = 600.00",
        "cap 500.00",
        "paid 500.00, 100.00 held back by the cap",
    ):
        assert expected in text, expected


def test_issue19_item7_explain_a_pv_household_and_a_subsidy():
    # PV: 30.00 over H1 (2 kW) and H2 (1 kW) for the whole month: H1 20.00, H2 10.00 exactly.
    households = households_frame({"household_id": "H1"}, {"household_id": "H2"})
    holdings = holdings_frame(
        {"asset_id": STATION, "holder_id": "H1", "units_e4": 20_000},
        {"asset_id": STATION, "holder_id": "H2", "units_e4": 10_000},
    )
    result = allocate_pv(load_rule(PV_TOGETHER), settlement(3_000), households, heads_for(households), holdings)
    text = "\n".join(explain(result, "H1"))
    assert "share 620,000/930,000 (= 66.6667%) of 30.00 = 20 yuan exactly; 20.00 after" in text
    assert "claimed 2 kW × 31 active day(s)" in text
    # A subsidy: the basis says table entry × period.
    rule = load_rule(PUPILS_TO_THE_HEAD)
    households = households_frame({"household_id": "S1"})
    people = pd.concat(
        [
            heads_for(households),
            people_frame({"id_number": "K1", "household_id": "S1", "name": "甲", "school_stage": "小学"}),
        ],
        ignore_index=True,
    )
    text = "\n".join(explain(allocate_subsidy(rule, households, people, *OCTOBER), "S1"))
    assert "on 小学: 2,000.00 per year × 1/12" in text


# --- properties: every rule kind ----------------------------------------------------------------

holder_specs = st.lists(
    st.tuples(
        st.sampled_from(["household", "collective"]),
        st.integers(min_value=1, max_value=4),  # kW
        st.integers(min_value=1, max_value=31),  # first day in October
    ),
    min_size=1,
    max_size=12,
)


def pv_case(specs):
    rows, household_ids = [], []
    for index, (kind, kw, first_day) in enumerate(specs):
        holder = f"6110021012{index:02d}0001" if kind == "household" else f"6110021012{index:02d}"
        if kind == "household":
            household_ids.append(holder)
        start = datetime.date(2026, 10, first_day)
        rows.append(
            {"asset_id": STATION, "holder_type": kind, "holder_id": holder, "units_e4": kw * 10_000, "start_on": start}
        )
    # A register needs a household even when only collectives hold claims.
    households = households_frame(*({"household_id": holder} for holder in household_ids or ["6110021099990001"]))
    return households, heads_for(households), holdings_frame(*rows)


def check_ties(result, weights: dict[str, int], one_split: bool = True) -> None:
    """Among holders of equal weight in one split, a lower id never gets less (villages and
    households are one split when collectives share in the kW split, two splits otherwise)."""
    lines = result.lines[result.lines["payee_type"].isin(["household", "collective"])]
    paid = dict(zip(lines["payee_id"], lines["amount_fen"].astype(int)))
    kinds = dict(zip(lines["payee_id"], lines["payee_type"]))
    for first in paid:
        for second in paid:
            same_split = one_split or kinds[first] == kinds[second]
            if first < second and same_split and weights.get(first) == weights.get(second) is not None:
                assert paid[first] >= paid[second], (first, second, paid)


@settings(max_examples=60, deadline=None)
@given(holder_specs, st.integers(min_value=0, max_value=10**9), st.randoms(use_true_random=False), st.booleans())
def test_issue19_pv_permutation_ties_and_pool(specs, pool_fen, random, together):
    rule = load_rule(PV_TOGETHER if together else PV_PERCENTAGE)
    households, people, holdings = pv_case(specs)
    if not together and not (holdings["holder_type"] == "collective").any():
        return
    if not (holdings["holder_type"] == "household").any() and not together:
        return
    try:
        result = allocate_pv(rule, settlement(pool_fen), households, people, holdings)
    except RowRefused:
        return
    assert result.line_total_fen() == pool_fen
    order = list(range(len(holdings)))
    random.shuffle(order)
    shuffled = allocate_pv(
        rule,
        settlement(pool_fen),
        households.sample(frac=1, random_state=1),
        people.sample(frac=1, random_state=2),
        holdings.iloc[order],
    )
    assert amounts(shuffled) == amounts(result)
    days = {row.holder_id: row.units_e4 * (32 - row.start_on.day) for row in holdings.itertuples()}
    check_ties(result, days, one_split=together)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 5), st.integers(1, 5)), min_size=1, max_size=10),
    st.integers(min_value=0, max_value=10**8),
    st.randoms(use_true_random=False),
)
def test_issue19_dividend_permutation_ties_and_pool(specs, pool_fen, random):
    households = households_frame(*({"household_id": f"H{index:02d}"} for index in range(len(specs))))
    holdings = holdings_frame(
        *(
            {
                "asset_id": "COOP-001",
                "holder_id": f"H{index:02d}",
                "units_e4": shares * 10_000,
                "principal_fen": principal * 100_000,
            }
            for index, (shares, principal) in enumerate(specs)
        )
    )
    rule = load_rule(DIVIDEND)
    result = allocate_dividend(rule, households, heads_for(households), holdings, pool_fen=pool_fen)
    assert result.line_total_fen() == pool_fen
    order = list(range(len(holdings)))
    random.shuffle(order)
    shuffled = allocate_dividend(
        rule, households.iloc[::-1], heads_for(households).iloc[::-1], holdings.iloc[order], pool_fen=pool_fen
    )
    assert amounts(shuffled) == amounts(result)
    # Equal shares and principal: equal floors, caps and exact pro-rata parts; a lower id never less.
    check_ties(result, {f"H{index:02d}": shares * 1000 + principal for index, (shares, principal) in enumerate(specs)})


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["小学", "初中", None]), st.booleans()), min_size=1, max_size=12),
    st.randoms(use_true_random=False),
)
def test_issue19_subsidy_permutation_and_pool(members, random):
    # A subsidy has no pool to split: each line is its own amount, so the property is that the
    # order of the register and of the input changes no amount, and the pool is the lines' sum.
    households = households_frame({"household_id": "S1"}, {"household_id": "S2", "poverty_status": "已脱贫"})
    people = pd.concat(
        [
            heads_for(households),
            people_frame(
                *(
                    {
                        "id_number": f"K{index:02d}",
                        "household_id": "S1" if first else "S2",
                        "name": "生",
                        "school_stage": stage,
                    }
                    for index, (stage, first) in enumerate(members)
                )
            ),
        ],
        ignore_index=True,
    )
    bills = pd.DataFrame(
        {
            "id_number": people["id_number"],
            "total_cost_fen": 100_005,
            "insurance_paid_fen": 50_000,
            "own_payment_fen": 30_000,
        }
    )
    for rule, inputs in (
        (load_rule(PUPILS_TO_THE_HEAD), None),
        (load_rule(EXAMPLES_DIRECTORY / "education_aid.yaml"), None),
        (load_rule(EXAMPLES_DIRECTORY / "medical_topup.yaml"), bills),
    ):
        result = allocate_subsidy(rule, households, people, *OCTOBER, inputs=inputs)
        assert result.pool_fen == result.line_total_fen()
        order = list(range(len(people)))
        random.shuffle(order)
        shuffled = allocate_subsidy(
            rule,
            households.iloc[::-1],
            people.iloc[order],
            *OCTOBER,
            inputs=None if inputs is None else inputs.sample(frac=1, random_state=3),
        )
        assert amounts(shuffled) == amounts(result)
