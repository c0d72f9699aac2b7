"""Subsidy worked examples, using the example rule files; expected numbers computed by hand."""

from __future__ import annotations

import datetime

import pandas as pd
import pytest
from allocation_builders import heads_for, households_frame, people_frame

from disburse.allocations.frames import AllocationError
from disburse.allocations.rules import EXAMPLES_DIRECTORY, load_rule
from disburse.allocations.subsidies import allocate_subsidy

EXAMPLES = EXAMPLES_DIRECTORY
SCHOOL_YEAR = (datetime.date(2026, 9, 1), datetime.date(2027, 8, 31))
OCTOBER = (datetime.date(2026, 10, 1), datetime.date(2026, 10, 31))


def by_payee(result):
    return dict(zip(result.lines["payee_id"], result.lines["amount_fen"].astype(int)))


def reasons(result):
    return dict(
        zip(result.exclusions["id_number"].fillna(result.exclusions["household_id"]), result.exclusions["reason"])
    )


def pupils():
    households = households_frame(
        {"household_id": "H1"}, {"household_id": "H2"}, {"household_id": "H3", "poverty_status": "已脱贫"}
    )
    people = pd.concat(
        [
            heads_for(households),
            people_frame(
                {
                    "id_number": "K1",
                    "household_id": "H1",
                    "name": "幼儿",
                    "relation": "之子",
                    "school_stage": "学前教育",
                },
                {
                    "id_number": "K2",
                    "household_id": "H1",
                    "name": "寄宿小学生",
                    "relation": "之女",
                    "school_stage": "小学",
                    "boarding": True,
                },
                {
                    "id_number": "K3",
                    "household_id": "H2",
                    "name": "走读小学生",
                    "relation": "之子",
                    "school_stage": "小学",
                    "boarding": False,
                },
                {
                    "id_number": "K4",
                    "household_id": "H2",
                    "name": "高中生",
                    "relation": "之女",
                    "school_stage": "普通高中",
                    "person_account_no": "6200K4",
                },
                {"id_number": "K5", "household_id": "H2", "name": "中职生", "relation": "之子", "school_stage": "中职"},
                {
                    "id_number": "K6",
                    "household_id": "H3",
                    "name": "已脱贫户学生",
                    "relation": "之子",
                    "school_stage": "初中",
                    "boarding": True,
                },
            ),
        ],
        ignore_index=True,
    )
    return households, people


def test_education_aid_by_stage_and_boarding():
    # A whole school year (12 whole months = 1 year): pre-school 1,500; boarding primary 1,250;
    # day primary: no table entry (excluded, with the reason); senior high 2,500 to her own card;
    # vocational 2,000; the 已脱贫 household's boarding junior-high pupil fails eligibility.
    rule = load_rule(EXAMPLES / "education_aid.yaml")
    households, people = pupils()
    result = allocate_subsidy(rule, households, people, *SCHOOL_YEAR)
    assert by_payee(result) == {"K1": 150_000, "K2": 125_000, "K4": 250_000, "K5": 200_000}
    lines = result.lines.set_index("payee_id")
    assert (lines.loc["K4", "account_no"], lines.loc["K4", "account_name"]) == ("6200K4", "高中生")
    assert (lines.loc["K1", "account_no"], lines.loc["K1", "account_name"]) == ("62H1", "户主H1")
    assert (lines.loc["K1", "debit_account_code"], lines.loc["K1", "account_code"]) == ("514", "211")
    why = reasons(result)
    assert set(why) == {"K3", "K6"}
    assert "no entry" in why["K3"] and "poverty_status" in why["K6"]
    assert result.pool_fen == 725_000

    # Half a school year (Sep–Feb, 6 whole months): 1,250 × 6/12 = 625.00 for the boarding pupil.
    result = allocate_subsidy(rule, households, people, datetime.date(2026, 9, 1), datetime.date(2027, 2, 28))
    assert by_payee(result)["K2"] == 62_500


def test_dibao_per_living_member_per_month_to_the_heads_card():
    # October 2026 (one month): 特困 household of one → 520.00; 低保 household of three with one
    # member dead since September → 2 × 330.00 = 660.00; the 一般贫困户 is not in the programme.
    rule = load_rule(EXAMPLES / "dibao.yaml")
    households = households_frame(
        {"household_id": "T1", "household_type": "特困供养贫困户"},
        {"household_id": "D1", "household_type": "低保贫困户", "member_count": 3},
        {"household_id": "G1"},
    )
    people = pd.concat(
        [
            heads_for(households),
            people_frame(
                {"id_number": "D1-2", "household_id": "D1", "name": "配偶", "relation": "配偶"},
                {
                    "id_number": "D1-3",
                    "household_id": "D1",
                    "name": "之父",
                    "relation": "之父",
                    "died_on": datetime.date(2026, 9, 20),
                },
            ),
        ],
        ignore_index=True,
    )
    result = allocate_subsidy(rule, households, people, *OCTOBER)
    # One line per living beneficiary (享受人), each paid to the head's card; D1's total is the
    # sum of its two lines.
    assert result.lines.groupby("payee_id")["amount_fen"].sum().to_dict() == {"D1": 66_000, "T1": 52_000}
    lines = result.lines.set_index("beneficiary_id")
    assert lines.loc["ID-HEAD-D1", "payee_id"] == "D1" and lines.loc["D1-2", "amount_fen"] == 33_000
    assert "D1-3" not in lines.index  # died in September
    assert set(lines["account_name"]) == {"户主D1", "户主T1"}
    assert result.exclusions.empty


def test_house_repair_by_household_type_and_kind_of_work():
    # 低保 rebuild 20,000; 一般 household with a disabled member, repair 6,000; 一般 rebuild
    # 10,000; 一般 repair 4,000; an unknown kind of work and an unknown household are excluded.
    rule = load_rule(EXAMPLES / "house_repair.yaml")
    households = households_frame(
        {"household_id": "A1", "household_type": "低保贫困户"},
        {"household_id": "A2"},
        {"household_id": "A3"},
        {"household_id": "A4"},
        {"household_id": "A5"},
    )
    people = pd.concat(
        [
            heads_for(households),
            people_frame(
                {"id_number": "A2-2", "household_id": "A2", "name": "残疾人", "relation": "之子", "health": "残疾"}
            ),
        ],
        ignore_index=True,
    )
    applications = pd.DataFrame(
        {
            "household_id": ["A1", "A2", "A3", "A4", "A5", "ZZ"],
            "work_kind": ["rebuild", "repair", "rebuild", "repair", "extend", "repair"],
        }
    )
    result = allocate_subsidy(rule, households, people, *OCTOBER, inputs=applications)
    assert by_payee(result) == {"A1": 2_000_000, "A2": 600_000, "A3": 1_000_000, "A4": 400_000}
    why = reasons(result)
    assert "no entry" in why["A5"] and "not in the register" in why["ZZ"]


def test_forest_rangers_from_the_attendance_sheet():
    # October (31 days): R1 22 days × 33.33 (rule's rate) = 733.26; R2 30 days × 40.00 (own rate
    # on the sheet) = 1,200.00; R3 claims 35 days in a 31-day month: excluded.
    rule = load_rule(EXAMPLES / "forest_ranger.yaml")
    households = households_frame({"household_id": "F1"}, {"household_id": "F2"}, {"household_id": "F3"})
    people = pd.concat(
        [
            heads_for(households),
            people_frame(
                {
                    "id_number": "R1",
                    "household_id": "F1",
                    "name": "护林员一",
                    "relation": "之子",
                    "person_account_no": "6200R1",
                },
                {"id_number": "R2", "household_id": "F2", "name": "护林员二", "relation": "之子"},
                {"id_number": "R3", "household_id": "F3", "name": "护林员三", "relation": "之子"},
            ),
        ],
        ignore_index=True,
    )
    roster = pd.DataFrame(
        {"id_number": ["R1", "R2", "R3"], "days_on_duty": [22, 30, 35], "daily_rate_fen": [None, 4000, None]}
    )
    result = allocate_subsidy(rule, households, people, *OCTOBER, inputs=roster)
    assert by_payee(result) == {"R1": 73_326, "R2": 120_000}
    lines = result.lines.set_index("payee_id")
    assert lines.loc["R1", "account_no"] == "6200R1" and lines.loc["R2", "account_no"] == "62F2"
    assert "35 days" in reasons(result)["R3"]


def test_medical_top_up_brings_the_own_share_down_to_ten_percent():
    # Bill 1: total 10,000.00, insurance 7,000.00, own 3,000.00 → 3,000.00 − 1,000.00 = 2,000.00.
    # Bill 2 (same patient): total 1,234.55, insurance 1,000.00, own 234.55; 10% of the total is
    #   123.455, so the own share may be at most 123.45 (rounded down: 123.46 would exceed the
    #   cap); top-up 234.55 − 123.45 = 111.10. Patient M1 gets 2,111.10.
    # Bill 3: total 500.00, insurance 460.00, own 40.00 ≤ 50.00: nothing to pay (reported).
    # Bill 4: own + insurance above the total: refused as inconsistent.
    rule = load_rule(EXAMPLES / "medical_topup.yaml")
    households = households_frame({"household_id": "M"}, {"household_id": "N"})
    people = pd.concat(
        [
            heads_for(households),
            people_frame({"id_number": "M1", "household_id": "M", "name": "病人", "relation": "之父"}),
        ],
        ignore_index=True,
    )
    bills = pd.DataFrame(
        {
            "id_number": ["M1", "M1", "ID-HEAD-N", "ID-HEAD-M"],
            "total_cost_fen": [1_000_000, 123_455, 50_000, 10_000],
            "insurance_paid_fen": [700_000, 100_000, 46_000, 9_000],
            "own_payment_fen": [300_000, 23_455, 4_000, 2_000],
        }
    )
    result = allocate_subsidy(rule, households, people, *OCTOBER, inputs=bills)
    assert by_payee(result) == {"M1": 211_110}
    assert result.lines.iloc[0]["account_no"] == "62M"  # no own card: the head's
    why = reasons(result)
    assert "within 10%" in why["ID-HEAD-N"] and "does not add up" in why["ID-HEAD-M"]


def test_inputs_required():
    rule = load_rule(EXAMPLES / "medical_topup.yaml")
    households = households_frame({"household_id": "M"})
    with pytest.raises(AllocationError, match="hospital bills"):
        allocate_subsidy(rule, households, heads_for(households), *OCTOBER)
