"""events.json lists what changed between snapshots; the snapshots must show each change."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

REQUIRED_KINDS = {"death", "exit", "relapse", "new_household", "card_change", "move", "split"}


@pytest.fixture(scope="module")
def by_snapshot(clean_county, registers):
    """Snapshot date -> (rows by resident ID, rows by household)."""
    indexed = {}
    for on, rows in zip(clean_county.snapshot_dates, registers):
        people = {row["证件号码"]: row for row in rows}
        households: dict[str, list[dict[str, str]]] = {}
        for row in rows:
            households.setdefault(row["户编号"], []).append(row)
        indexed[on.isoformat()] = (people, households)
    return indexed


def head(members):
    return next(row for row in members if row["与户主关系"] == "户主")


def test_every_kind_of_event_happens_in_every_month(events):
    assert events["snapshots"] == ["2026-08-31", "2026-09-30", "2026-10-31"]
    kinds = Counter((event["snapshot"], event["kind"]) for event in events["events"])
    for snapshot in events["snapshots"][1:]:
        for kind in REQUIRED_KINDS:
            assert kinds[(snapshot, kind)] >= 1, (snapshot, kind)


def test_deaths_appear_first_in_their_snapshot(events, by_snapshot):
    late = 0
    for event in (event for event in events["events"] if event["kind"] == "death"):
        before, _ = by_snapshot[event["previous_snapshot"]]
        after, _ = by_snapshot[event["snapshot"]]
        person = event["id_number"]
        assert before[person]["死亡日期"] == ""
        assert after[person]["死亡日期"] == event["on"]
        assert after[person]["户编号"] == event["household_id"]
        assert after[person]["与户主关系"] != "户主"
        if event["learnt_late"]:
            # Dated before the previous export, yet that export still showed the person alive.
            assert dt.date.fromisoformat(event["on"]) < dt.date.fromisoformat(event["previous_snapshot"])
            late += 1
        else:
            assert event["previous_snapshot"] < event["on"] <= event["snapshot"]
    assert late >= 2


def test_exits_and_relapses(events, by_snapshot):
    for event in events["events"]:
        if event["kind"] not in {"exit", "relapse"}:
            continue
        _, before = by_snapshot[event["previous_snapshot"]]
        _, after = by_snapshot[event["snapshot"]]
        old, new = head(before[event["household_id"]]), head(after[event["household_id"]])
        if event["kind"] == "exit":
            assert old["贫困状态"] == "未脱贫" and old["脱贫日期"] == ""
            assert new["贫困状态"] == "已脱贫" and new["脱贫日期"] == event["on"]
        else:
            assert old["贫困状态"] == "已脱贫"
            assert new["贫困状态"] == "返贫"
            assert new["脱贫日期"] == old["脱贫日期"] == event["exited_on"]
        assert {row["贫困状态"] for row in after[event["household_id"]]} == {new["贫困状态"]}


def test_new_households_enter_the_register(events, by_snapshot):
    for event in (event for event in events["events"] if event["kind"] == "new_household"):
        _, before = by_snapshot[event["previous_snapshot"]]
        people_after, after = by_snapshot[event["snapshot"]]
        assert event["household_id"] not in before
        members = after[event["household_id"]]
        assert sorted(row["证件号码"] for row in members) == sorted(event["member_id_numbers"])
        assert all(row["识别日期"] == event["on"] for row in members)
        assert head(members)["贫困状态"] in {"未脱贫", "监测对象"}


def test_card_changes(events, by_snapshot):
    for event in (event for event in events["events"] if event["kind"] == "card_change"):
        _, before = by_snapshot[event["previous_snapshot"]]
        _, after = by_snapshot[event["snapshot"]]
        old, new = head(before[event["household_id"]]), head(after[event["household_id"]])
        assert old["证件号码"] == new["证件号码"]
        assert (old["开户银行"], old["银行账号"]) == (event["old_bank_name"], event["old_account_no"])
        assert (new["开户银行"], new["银行账号"]) == (event["new_bank_name"], event["new_account_no"])
        assert old["银行账号"] != new["银行账号"]


def test_a_member_moves_between_households(events, by_snapshot):
    for event in (event for event in events["events"] if event["kind"] == "move"):
        people_before, households_before = by_snapshot[event["previous_snapshot"]]
        people_after, households_after = by_snapshot[event["snapshot"]]
        person = event["id_number"]
        assert people_before[person]["户编号"] == event["household_id"]
        assert people_after[person]["户编号"] == event["to_household_id"]
        assert people_after[person]["与户主关系"] == event["new_relation"]
        assert len(households_after[event["household_id"]]) == len(households_before[event["household_id"]]) - 1
        assert len(households_after[event["to_household_id"]]) == len(households_before[event["to_household_id"]]) + 1
        # Household-level columns follow the new household.
        assert people_after[person]["村代码"] == head(households_after[event["to_household_id"]])["村代码"]


def test_a_household_splits_in_two(events, by_snapshot):
    for event in (event for event in events["events"] if event["kind"] == "split"):
        people_before, households_before = by_snapshot[event["previous_snapshot"]]
        people_after, households_after = by_snapshot[event["snapshot"]]
        assert event["new_household_id"] not in households_before
        new_members = households_after[event["new_household_id"]]
        leaving = event["member_id_numbers"]
        assert sorted(row["证件号码"] for row in new_members) == sorted(leaving)
        assert head(new_members)["证件号码"] == leaving[0]
        assert all(people_before[person]["户编号"] == event["household_id"] for person in leaving)
        remaining = households_after[event["household_id"]]
        assert len(remaining) + len(leaving) == len(households_before[event["household_id"]])
        assert head(remaining)["证件号码"] == head(households_before[event["household_id"]])["证件号码"]
        assert head(new_members)["银行账号"] == event["new_account_no"]
        old_head = head(households_before[event["household_id"]])
        assert head(new_members)["户类型"] == old_head["户类型"]
        assert new_members[0]["村代码"] == old_head["村代码"]


def test_people_only_leave_the_register_by_moving_between_households(clean_county, registers):
    # Deaths are kept as rows with 死亡日期; nobody silently disappears.
    for earlier, later in zip(registers, registers[1:]):
        assert {row["证件号码"] for row in earlier} <= {row["证件号码"] for row in later}
