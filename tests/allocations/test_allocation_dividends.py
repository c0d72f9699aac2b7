"""拨改股 dividend worked examples; every expected number was computed by hand in the comments."""

from __future__ import annotations

import datetime

import pandas as pd
import pytest
from allocation_builders import heads_for, holdings_frame, households_frame, people_frame

from disburse.allocations.dividends import allocate_dividend
from disburse.allocations.explaining import explain
from disburse.allocations.frames import AllocationError
from disburse.allocations.rules import load_rule

COOP = "COOP-001"
VILLAGE = "611002001001"

RULE = """
kind: coop_dividend
name: worked example dividend
cooperative_id: COOP-001
paying_entity: COUNTY
fund_source: COOP-001
period: {start: 2026-01-01, end: 2026-12-31}
floor_rate: "5%"
ceiling_rate: "8%"
exit_handling: collective
collective_id: "611002001001"
accounts: {debit: "322", household: "211", collective: "113", floor_shortfall: "112", suspense: "211",
  cap_held_back: "113"}
"""


def three_holders():
    households = households_frame({"household_id": "H1"}, {"household_id": "H2"})
    holdings = holdings_frame(
        {"asset_id": COOP, "holder_id": "H1", "units_e4": 41150, "principal_fen": 411_500},
        {"asset_id": COOP, "holder_id": "H2", "units_e4": 20000, "principal_fen": 200_000},
        {
            "asset_id": COOP,
            "holder_type": "collective",
            "holder_id": VILLAGE,
            "units_e4": 30000,
            "principal_fen": 300_000,
        },
    )
    return households, heads_for(households), holdings


def amounts(result):
    return {(row.component, row.payee_id): int(row.amount_fen) for row in result.lines.itertuples()}


def test_floor_pro_rata_and_cap():
    # Whole year 2026 = 12 months = 1 year. Pool 1,000.00 yuan = 100,000 fen.
    # Floors 5%: H1 411,500 → 20,575; H2 200,000 → 10,000; C 300,000 → 15,000; Σ 45,575.
    # Excess 54,425 by shares 4.115 : 2 : 3 (of 9.115), same 365 days each:
    #   H1 54,425 × 41150/91150 = 24,570.36; H2 × 20000/91150 = 11,941.85; C × 30000/91150 = 17,912.78
    #   floors 54,423, two spare fen to H2 (.85) and C (.78) → 24,570 / 11,942 / 17,913.
    # Totals: H1 45,145; H2 21,942; C 32,913. Caps 8%: 32,920 / 16,000 / 24,000.
    # Paid: H1 32,920 (12,225 held back), H2 16,000 (5,942), C 24,000 (8,913): held back 27,080.
    rule = load_rule(RULE)
    result = allocate_dividend(rule, *three_holders(), pool_fen=100_000)
    assert amounts(result) == {
        ("dividend", "H1"): 32_920,
        ("dividend", "H2"): 16_000,
        ("dividend", VILLAGE): 24_000,
        ("cap_held_back", COOP): 27_080,
    }
    lines = result.lines.set_index("payee_id")
    assert (lines.loc["H1", "floor_fen"], lines.loc["H1", "pro_rata_fen"], lines.loc["H1", "cap_fen"]) == (
        20_575,
        24_570,
        32_920,
    )
    assert result.summary["cap_held_back_fen"] == 27_080
    assert result.summary["floors_fen"] == 45_575
    assert result.line_total_fen() == 100_000
    assert lines.loc[VILLAGE, "account_code"] == "113" and lines.loc[VILLAGE, "payee_type"] == "collective"


def test_pool_too_small_for_the_floors_records_the_shortfall():
    # Pool 300.00 yuan = 30,000 fen < floors 45,575: every floor is paid in full and the
    # shortfall 15,575 is a debit on 112 (owed by the cooperative); 45,575 − 15,575 = 30,000.
    rule = load_rule(RULE)
    result = allocate_dividend(rule, *three_holders(), pool_fen=30_000)
    assert amounts(result) == {
        ("dividend", "H1"): 20_575,
        ("dividend", "H2"): 10_000,
        ("dividend", VILLAGE): 15_000,
        ("floor_shortfall", COOP): -15_575,
    }
    shortfall = result.lines[result.lines["component"] == "floor_shortfall"].iloc[0]
    assert shortfall["account_code"] == "112"
    assert result.summary["shortfall_fen"] == 15_575
    assert result.line_total_fen() == 30_000


def test_mid_year_exit_goes_to_the_collective_and_a_deceased_sole_holder_to_suspense():
    # 2026, floor 6%, no ceiling, pool 200.00 yuan = 20,000 fen.
    # H1: 1 share, principal 1,000.00, exited 2026-05-16 → counted Jan 1–May 15:
    #   4 whole months + 15 days = (4 × 365 + 15 × 12)/4380 = 1640/4380 of a year;
    #   floor 100,000 × 6% × 1640/4380 = 2,246.58 → 2,247.
    # The collective holds H1's share from May 16: 16 days of May + 7 whole months
    #   = (7 × 365 + 16 × 12)/4380 = 2747/4380; floor 6,000 × 2747/4380 = 3,763.01 → 3,763.
    # H2: 1 share, principal 1,000.00, whole year: floor 6,000. Its only member died 2026-11-03.
    # Floors 12,010; excess 7,990 by share-days: H1 135, C 230, H2 365 (of 730):
    #   H1 1,477.60, C 2,517.40, H2 3,995 exactly; spare fen to H1 → 1,478 / 2,517 / 3,995.
    # Paid: H1 3,725; collective (exit_reverted) 6,280; H2 9,995 held in suspense.
    text = RULE.replace('floor_rate: "5%"\nceiling_rate: "8%"', 'floor_rate: "6%"')
    rule = load_rule(text)
    households = households_frame(
        {"household_id": "H1", "exited_on": datetime.date(2026, 5, 16), "poverty_status": "已脱贫"},
        {"household_id": "H2"},
    )
    people = pd.concat(
        [
            heads_for(households.iloc[:1]),
            people_frame(
                {"id_number": "ID-H2", "household_id": "H2", "name": "独居", "died_on": datetime.date(2026, 11, 3)}
            ),
        ],
        ignore_index=True,
    )
    holdings = holdings_frame(
        {"asset_id": COOP, "holder_id": "H1", "units_e4": 10000, "principal_fen": 100_000},
        {"asset_id": COOP, "holder_id": "H2", "units_e4": 10000, "principal_fen": 100_000},
    )
    result = allocate_dividend(rule, households, people, holdings, pool_fen=20_000)
    assert amounts(result) == {
        ("dividend", "H1"): 3_725,
        ("exit_reverted", VILLAGE): 6_280,
        ("suspense_deceased", "suspense"): 9_995,
    }
    suspense = result.lines[result.lines["component"] == "suspense_deceased"].iloc[0]
    assert suspense["household_id"] == "H2" and pd.isna(suspense["account_no"])
    assert "only member has died" in result.exclusions.set_index("household_id").loc["H2", "reason"]
    assert result.summary["suspense_deceased_fen"] == 9_995
    assert any("suspense" in line for line in explain(result, "H2"))

    # remaining_holders: H1 stops at its exit and nobody takes over its share. Floors 2,247 +
    # 6,000 = 8,247; excess 11,753 by share-days 135 : 365 (of 500): H1 3,173.31, H2 8,579.69;
    # spare fen to H2 → 3,173 / 8,580. Paid H1 5,420; H2 14,580 (suspense). Σ 20,000.
    rule = load_rule(text.replace("exit_handling: collective", "exit_handling: remaining_holders"))
    result = allocate_dividend(rule, households, people, holdings, pool_fen=20_000)
    assert amounts(result) == {("dividend", "H1"): 5_420, ("suspense_deceased", "suspense"): 14_580}


def test_pool_is_required():
    rule = load_rule(RULE)
    with pytest.raises(AllocationError, match="no dividend pool"):
        allocate_dividend(rule, *three_holders())
