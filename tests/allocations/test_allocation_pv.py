"""PV revenue worked examples; every expected number was computed by hand in the comments."""

from __future__ import annotations

import datetime

import pandas as pd
import pytest
from allocation_builders import heads_for, holdings_frame, households_frame, people_frame

from disburse.allocations.explaining import explain
from disburse.allocations.frames import AllocationError
from disburse.allocations.model import result_check_conserved
from disburse.allocations.pv import allocate_pv
from disburse.allocations.rules import load_rule

STATION = "PV-611002-001"

RULE_PERCENTAGE = """
kind: pv_revenue
name: worked example, collective by percentage
station_id: PV-611002-001
capacity_kw: "100"
paying_entity: COUNTY
fund_source: PV-611002-001
stop_on_exit: true
deductions:
  - {name: om, per_watt_year_yuan: "0.03", account_code: "211", expense_account_code: "511"}
  - {name: land_rent, fixed_per_year_yuan: "6000", account_code: "211", expense_account_code: "511"}
  - {name: insurance, percent_of_revenue: "0.5%", account_code: "211", expense_account_code: "511"}
parts:
  collective: {mode: percentage, percent: "20%", among_villages: by_claimed_kw, account_code: "113",
    debit_account_code: "322"}
  wages: {percent: "10%", account_code: "212", debit_account_code: "514", unused_account_code: "311"}
  households: {percent: "70%", account_code: "211", debit_account_code: "322"}
"""


def amounts_by(result, component):
    lines = result.lines[result.lines["component"] == component]
    return dict(zip(lines["payee_id"], lines["amount_fen"].astype(int)))


def test_deduction_order_parts_and_mid_period_exit():
    # Service period 2026-10: 31 days, one whole month = 1/12 year. Revenue 10,000.00 yuan.
    #   om:        100 kW = 100,000 W × 3 fen/W/year × 1/12          =  25,000 fen
    #   land rent: 600,000 fen/year × 1/12                            =  50,000 fen
    #   insurance: 0.5% × 1,000,000                                   =   5,000 fen
    #   distributable: 1,000,000 − 25,000 − 50,000 − 5,000           = 920,000 fen
    #   parts: collective 20% = 184,000; wages 10% = 92,000; households 70% = 644,000.
    # Villages by claimed kW (V1 20 kW, V2 10 kW, whole month): 184,000 × 2/3 = 122,666.67 and
    #   61,333.33; floors sum 183,999, the spare fen goes to V1 (remainder 2/3): 122,667 / 61,333.
    # Wages: P1 10 days × 40.00 = 40,000; P2 5 days × 40.00 = 20,000; unused 32,000 → 311.
    # Households (kW e4 × active days):
    #   H1 3 kW, whole month:            30,000 × 31 = 930,000
    #   H2 3 kW, exited 2026-10-16:      30,000 × 15 = 450,000 (Oct 1–15; the exit day is not counted)
    #   H3 2 kW, holding from 2026-10-11: 20,000 × 21 = 420,000
    #   total 1,800,000; shares of 644,000: H1 × 31/60 = 332,733.33, H2 × 15/60 = 161,000,
    #   H3 × 14/60 = 150,266.67; floors sum 643,999, the spare fen to H3 (2/3 > 1/3).
    rule = load_rule(RULE_PERCENTAGE)
    households = households_frame(
        {"household_id": "H1"},
        {"household_id": "H2", "exited_on": datetime.date(2026, 10, 16), "poverty_status": "已脱贫"},
        {"household_id": "H3"},
    )
    people = pd.concat(
        [
            heads_for(households),
            people_frame(
                {
                    "id_number": "P1",
                    "household_id": "H1",
                    "name": "工一",
                    "relation": "之子",
                    "person_account_no": "6200P1",
                },
                {"id_number": "P2", "household_id": "H3", "name": "工二", "relation": "之女"},
            ),
        ],
        ignore_index=True,
    )
    holdings = holdings_frame(
        {"asset_id": STATION, "holder_type": "collective", "holder_id": "V1", "units_e4": 200000},
        {"asset_id": STATION, "holder_type": "collective", "holder_id": "V2", "units_e4": 100000},
        {"asset_id": STATION, "holder_id": "H1", "units_e4": 30000},
        {"asset_id": STATION, "holder_id": "H2", "units_e4": 30000},
        {"asset_id": STATION, "holder_id": "H3", "units_e4": 20000, "start_on": datetime.date(2026, 10, 11)},
        {"asset_id": "PV-611002-002", "holder_id": "H1", "units_e4": 990000},
    )
    roster = pd.DataFrame({"id_number": ["P1", "P2"], "days_worked": [10, 5], "daily_rate_fen": [4000, 4000]})
    settlement = {"station_id": STATION, "service_period": "2026-10", "amount_fen": 1_000_000, "revenue_type": "base"}

    result = allocate_pv(rule, settlement, households, people, holdings, roster)

    deductions = result.lines[result.lines["component"].str.endswith("_deduction")]
    assert list(deductions["component"]) == ["om_deduction", "land_rent_deduction", "insurance_deduction"]
    assert list(deductions["amount_fen"]) == [25_000, 50_000, 5_000]
    assert result.summary["distributable_fen"] == 920_000
    assert (
        result.summary["part_collective_fen"],
        result.summary["part_wages_fen"],
        result.summary["part_households_fen"],
    ) == (184_000, 92_000, 644_000)
    assert amounts_by(result, "collective_share") == {"V1": 122_667, "V2": 61_333}
    assert amounts_by(result, "public_welfare_wage") == {"P1": 40_000, "P2": 20_000}
    assert amounts_by(result, "wage_pool_unused") == {"COUNTY": 32_000}
    assert amounts_by(result, "household_share") == {"H1": 332_733, "H2": 161_000, "H3": 150_267}
    assert result.summary["unpaid_wages_fen"] == 0
    # P1 has an own card; P2 has none and is paid to the head of H3.
    wages = result.lines[result.lines["component"] == "public_welfare_wage"].set_index("payee_id")
    assert (wages.loc["P1", "account_no"], wages.loc["P1", "account_name"]) == ("6200P1", "工一")
    assert (wages.loc["P2", "account_no"], wages.loc["P2", "account_name"]) == ("62H3", "户主H3")
    households_lines = result.lines[result.lines["component"] == "household_share"].set_index("payee_id")
    assert households_lines.loc["H2", "active_days"] == 15
    assert households_lines.loc["H2", "account_no"] == "62H2"
    result_check_conserved(result)
    assert result.line_total_fen() == 1_000_000

    text = "\n".join(explain(result, "H2"))
    assert "less operation and maintenance fee (" in text and "distributable after deductions: 9,200.00" in text
    assert "household income share: 1,610.00 yuan" in text
    assert "collective part" not in text  # steps off H2's path are not shown


RULE_BY_KW = """
kind: pv_revenue
name: worked example, collective by claimed kW
station_id: PV-611002-001
paying_entity: COUNTY
fund_source: PV-611002-001
parts:
  collective: {mode: by_claimed_kw, account_code: "113", debit_account_code: "322"}
  wages: {percent: "10%", account_code: "212", debit_account_code: "514", unused_account_code: "311"}
  households: {percent: "90%", account_code: "211", debit_account_code: "322"}
"""


def test_collective_by_claimed_kw_and_a_roster_the_pool_cannot_cover():
    # Service period 2026Q3 (92 days), revenue 1,000.00 yuan, no deductions.
    # Parts: wages 10% = 10,000; holders 90% = 90,000.
    # Wages: P1 owes 10 × 10.00 = 10,000, P2 owes 5 × 10.00 = 5,000; total 15,000 > 10,000:
    #   pro rata P1 10,000 × 10/15 = 6,666.67, P2 3,333.33; spare fen to P1 → 6,667 / 3,333;
    #   unpaid P1 3,333, P2 1,667, total 5,000 (reported, not cut silently).
    # Holders by kW e4 × days: V1 20 kW × 92 = 18,400,000; H1 3 kW × 92 = 2,760,000;
    #   H2 3 kW ending 2026-08-15 (its last counted day) → Jul 1–Aug 15 = 46 days → 1,380,000.
    #   ratio 40 : 6 : 3 (of 49): V1 3,600,000/49 = 73,469 r19; H1 540,000/49 = 11,020 r20;
    #   H2 270,000/49 = 5,510 r10; floors sum 89,999, spare fen to H1 (r20) → 73,469 / 11,021 / 5,510.
    rule = load_rule(RULE_BY_KW)
    households = households_frame({"household_id": "H1"}, {"household_id": "H2"})
    people = pd.concat(
        [
            heads_for(households),
            people_frame({"id_number": "P1", "household_id": "H1", "name": "工一", "relation": "之子"}),
        ],
        ignore_index=True,
    )
    holdings = holdings_frame(
        {"asset_id": STATION, "holder_type": "collective", "holder_id": "V1", "units_e4": 200000},
        {"asset_id": STATION, "holder_id": "H1", "units_e4": 30000},
        {"asset_id": STATION, "holder_id": "H2", "units_e4": 30000, "end_on": datetime.date(2026, 8, 15)},
    )
    roster = pd.DataFrame({"id_number": ["P1", "ID-HEAD-H2"], "days_worked": [10, 5], "daily_rate_fen": [1000, 1000]})
    settlement = {"station_id": STATION, "service_period": "2026Q3", "amount_fen": 100_000, "revenue_type": "subsidy"}

    result = allocate_pv(rule, settlement, households, people, holdings, roster)

    assert amounts_by(result, "public_welfare_wage") == {"P1": 6_667, "ID-HEAD-H2": 3_333}
    wages = result.lines[result.lines["component"] == "public_welfare_wage"].set_index("payee_id")
    assert wages.loc["P1", "unpaid_fen"] == 3_333 and wages.loc["ID-HEAD-H2", "unpaid_fen"] == 1_667
    assert result.summary["unpaid_wages_fen"] == 5_000
    assert result.summary["wage_pool_unused_fen"] == 0
    assert amounts_by(result, "collective_share") == {"V1": 73_469}
    assert amounts_by(result, "household_share") == {"H1": 11_021, "H2": 5_510}
    assert result.line_total_fen() == 100_000


def test_villages_equally_and_inactive_days_to_the_residual():
    # 2026-10, revenue 10.00 yuan, collective 30% equally among V1/V2/V3, households 70%,
    # inactive days to the residual account 311.
    # Parts: 300 and 700. Villages: 100 each, whatever their claims.
    # Full household claim: 2 × 30,000 × 31 = 1,860,000. H1 active 31 days = 930,000;
    #   H2 exits 2026-10-16 → 15 days = 450,000; residual 480,000.
    #   H1 700 × 930/1860 = 350; H2 700 × 450/1860 = 169.35; residual 700 × 480/1860 = 180.65;
    #   floors 699, spare fen to the residual (0.65 > 0.35) → 350 / 169 / 181.
    text = RULE_PERCENTAGE.replace('capacity_kw: "100"', "").replace(
        'percent: "20%", among_villages: by_claimed_kw', 'percent: "30%", among_villages: equally'
    )
    text = (
        text.split("deductions:")[0]
        + """deductions: []
parts:
  collective: {mode: percentage, percent: "30%", among_villages: equally, account_code: "113",
    debit_account_code: "322"}
  households: {percent: "70%", account_code: "211", debit_account_code: "322", inactive_share: residual,
    residual_account_code: "311"}
"""
    )
    rule = load_rule(text)
    households = households_frame(
        {"household_id": "H1"}, {"household_id": "H2", "exited_on": datetime.date(2026, 10, 16)}
    )
    holdings = holdings_frame(
        {"asset_id": STATION, "holder_type": "collective", "holder_id": "V1", "units_e4": 200000},
        {"asset_id": STATION, "holder_type": "collective", "holder_id": "V2", "units_e4": 100000},
        {"asset_id": STATION, "holder_type": "collective", "holder_id": "V3", "units_e4": 50000},
        {"asset_id": STATION, "holder_id": "H1", "units_e4": 30000},
        {"asset_id": STATION, "holder_id": "H2", "units_e4": 30000},
    )
    settlement = {"station_id": STATION, "service_period": "2026-10", "amount_fen": 1_000}
    result = allocate_pv(rule, settlement, households, heads_for(households), holdings)
    assert amounts_by(result, "collective_share") == {"V1": 100, "V2": 100, "V3": 100}
    assert amounts_by(result, "household_share") == {"H1": 350, "H2": 169}
    assert amounts_by(result, "inactive_claims_residual") == {"COUNTY": 181}
    assert result.line_total_fen() == 1_000


def test_eligibility_excludes_and_redistributes_and_deductions_cannot_exceed_revenue():
    # 2026-10, revenue 100.00 yuan; land rent 6,000/yr → 500.00 asked, only 100.00 left:
    # it takes 10,000 fen, 40,000 fen are reported uncovered, nothing is distributed.
    text = RULE_BY_KW.replace(
        "parts:",
        """eligibility:
  - {field: household.poverty_status, op: in, value: [未脱贫, 返贫]}
deductions:
  - {name: land_rent, fixed_per_year_yuan: "6000", account_code: "211", expense_account_code: "511"}
parts:""",
    )
    rule = load_rule(text)
    households = households_frame({"household_id": "H1"}, {"household_id": "H2", "poverty_status": "已脱贫"})
    holdings = holdings_frame(
        {"asset_id": STATION, "holder_id": "H1", "units_e4": 30000},
        {"asset_id": STATION, "holder_id": "H2", "units_e4": 30000},
        {"asset_id": STATION, "holder_id": "H9", "units_e4": 30000},
    )
    settlement = {"station_id": STATION, "service_period": "2026-10", "amount_fen": 10_000}
    result = allocate_pv(rule, settlement, households, heads_for(households), holdings)
    assert result.summary["deduction_land_rent_fen"] == 10_000
    assert result.summary["deduction_land_rent_uncovered_fen"] == 40_000
    assert result.summary["distributable_fen"] == 0
    reasons = dict(zip(result.exclusions["household_id"], result.exclusions["reason"]))
    assert set(reasons) == {"H2", "H9"}
    assert "poverty_status" in reasons["H2"] and "已脱贫" in reasons["H2"]
    assert "not in the register" in reasons["H9"]

    # With revenue 1,000.00: 500.00 rent, 500.00 left: wages 50.00 (no roster → unused),
    # holders 450.00 all to H1, the only eligible holder (H2's share is redistributed).
    result = allocate_pv(rule, {**settlement, "amount_fen": 100_000}, households, heads_for(households), holdings)
    assert amounts_by(result, "household_share") == {"H1": 45_000}
    assert amounts_by(result, "wage_pool_unused") == {"COUNTY": 5_000}


def test_refusals():
    rule = load_rule(RULE_BY_KW)
    households = households_frame({"household_id": "H1"})
    holdings = holdings_frame({"asset_id": STATION, "holder_id": "H1", "units_e4": 30000})
    with pytest.raises(AllocationError, match="negative"):
        allocate_pv(
            rule,
            {"station_id": STATION, "service_period": "2026-10", "amount_fen": -5},
            households,
            heads_for(households),
            holdings,
        )
    with pytest.raises(AllocationError, match="PV-611002-002"):
        allocate_pv(
            rule,
            {"station_id": "PV-611002-002", "service_period": "2026-10", "amount_fen": 5},
            households,
            heads_for(households),
            holdings,
        )
    with pytest.raises(AllocationError, match="2026-13"):
        allocate_pv(
            rule,
            {"station_id": STATION, "service_period": "2026-13", "amount_fen": 5},
            households,
            heads_for(households),
            holdings,
        )
