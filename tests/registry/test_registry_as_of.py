"""The register as of any date, across the generated snapshots: every event of events.json
shows at the right date, and the registry records it with the right effective date."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from registry_helpers import (  # noqa: F401 (fixtures)
    TODAY,
    county,
    county_events,
    import_snapshots,
    messy_county,
    reference_engine,
    row_counts,
    run,
)
from sqlalchemy import select

from disburse.foundation.db import transaction
from disburse.foundation.errors import DisburseError
from disburse.ledger.tables import EntityRow
from disburse.registry import queries, service
from disburse.registry.model import HOUSEHOLDS_COLUMNS, PEOPLE_COLUMNS

ONE_DAY = dt.timedelta(days=1)
# Events the file dates itself (死亡日期, 脱贫日期, 识别日期); the others take the snapshot's date.
DATED_KINDS = {"death", "exit", "new_household"}


def as_of(engine, on: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        return queries.register_as_of(session, on)


def household(frame: pd.DataFrame, household_id: str) -> dict | None:
    rows = frame[frame["household_id"] == household_id]
    return rows.iloc[0].to_dict() if len(rows) else None


def person(frame: pd.DataFrame, id_number: str) -> dict | None:
    rows = frame[frame["id_number"] == id_number]
    return rows.iloc[0].to_dict() if len(rows) else None


def test_every_generated_event_shows_at_its_date(engine, county, county_events) -> None:
    import_snapshots(engine, county)
    first = county.snapshot_dates[0]
    kinds_seen = set()
    for event in county_events["events"]:
        kind, on = event["kind"], dt.date.fromisoformat(event["on"])
        snapshot = dt.date.fromisoformat(event["snapshot"])
        previous = dt.date.fromisoformat(event["previous_snapshot"])
        kinds_seen.add(kind)
        households, people = as_of(engine, snapshot)
        households_before, people_before = as_of(engine, snapshot - ONE_DAY)
        if kind == "death":
            id_number = event["id_number"]
            assert person(people, id_number)["died_on"] == on
            if on >= first:
                assert person(as_of(engine, on)[1], id_number)["died_on"] == on
            if on - ONE_DAY >= first:
                assert person(as_of(engine, on - ONE_DAY)[1], id_number)["died_on"] is None
            if event["learnt_late"]:
                # Dated before the previous snapshot, reported only by this one: still visible
                # as of a day between the death and the snapshot that reported it.
                assert on < previous
                assert person(as_of(engine, previous)[1], id_number)["died_on"] == on
        elif kind == "exit":
            assert household(households, event["household_id"])["poverty_status"] == "已脱贫"
            exited = household(as_of(engine, on)[0], event["household_id"])
            assert (exited["poverty_status"], exited["exited_on"]) == ("已脱贫", on)
            before = household(as_of(engine, on - ONE_DAY)[0], event["household_id"])
            assert (before["poverty_status"], before["exited_on"]) == ("未脱贫", None)
        elif kind == "relapse":
            assert household(households, event["household_id"])["poverty_status"] == "返贫"
            assert household(households_before, event["household_id"])["poverty_status"] == "已脱贫"
        elif kind == "split":
            new_household = household(households, event["new_household_id"])
            assert new_household is not None and household(households_before, event["new_household_id"]) is None
            for id_number, relation in zip(event["member_id_numbers"], event["new_relations"]):
                assert person(people, id_number)["household_id"] == event["new_household_id"]
                assert person(people, id_number)["relation"] == relation
                assert person(people_before, id_number)["household_id"] == event["household_id"]
            assert new_household["account_no"] == event["new_account_no"]
        elif kind == "move":
            assert person(people, event["id_number"])["household_id"] == event["to_household_id"]
            assert person(people, event["id_number"])["relation"] == event["new_relation"]
            assert person(people_before, event["id_number"])["household_id"] == event["household_id"]
        elif kind == "card_change":
            now, before = (
                household(households, event["household_id"]),
                household(households_before, event["household_id"]),
            )
            assert (now["bank_name"], now["account_no"]) == (event["new_bank_name"], event["new_account_no"])
            assert (before["bank_name"], before["account_no"]) == (event["old_bank_name"], event["old_account_no"])
        elif kind == "new_household":
            assert household(households, event["household_id"])["enrolled_on"] == on
            assert household(households_before, event["household_id"]) is None
            members = people[people["household_id"] == event["household_id"]]
            assert sorted(members["id_number"]) == sorted(event["member_id_numbers"])

        # The registry recorded the event, dated by the file or else by the snapshot.
        with transaction(engine) as session:
            changes = queries.changes_since(session, dt.date(2000, 1, 1))
        expected_date = on if kind in DATED_KINDS else snapshot
        found = changes[
            (changes["kind"] == kind)
            & (changes["household_id"] == event["household_id"])
            & (changes["effective_on"] == expected_date)
        ]
        if "id_number" in event:
            found = found[found["id_number"] == event["id_number"]]
        assert len(found) == 1, (event, changes.to_string())
    assert kinds_seen == {"death", "exit", "relapse", "split", "move", "card_change", "new_household"}


def test_member_count_counts_the_living_at_the_date(engine, county, county_events) -> None:
    import_snapshots(engine, county)
    death = next(event for event in county_events["events"] if event["kind"] == "death")
    on = dt.date.fromisoformat(death["on"])
    before, after = as_of(engine, on - ONE_DAY), as_of(engine, on)
    household_id = death["household_id"]
    assert household(after[0], household_id)["member_count"] == household(before[0], household_id)["member_count"] - 1
    # The dead stay in the people frame, with their date of death.
    assert person(after[1], death["id_number"]) is not None


def test_frames_follow_the_contract(engine, county) -> None:
    import_snapshots(engine, county)
    households, people = as_of(engine, county.snapshot_dates[-1])
    assert tuple(households.columns) == HOUSEHOLDS_COLUMNS
    assert tuple(people.columns) == PEOPLE_COLUMNS
    assert households["member_count"].dtype == "int64"
    assert all(isinstance(value, dt.date) for value in households["enrolled_on"])
    assert all(value is None or isinstance(value, dt.date) for value in households["exited_on"])
    assert all(isinstance(value, str) for value in households["household_id"])
    assert len(households) == county.households
    assert people["household_id"].isin(households["household_id"]).all()


def test_before_the_first_snapshot_the_register_is_empty(engine, county) -> None:
    import_snapshots(engine, county)
    households, people = as_of(engine, county.snapshot_dates[0] - ONE_DAY)
    assert len(households) == 0 and len(people) == 0
    assert tuple(households.columns) == HOUSEHOLDS_COLUMNS


def test_village_entities_are_created_for_every_village(engine, county) -> None:
    import_snapshots(engine, county, [0])
    households, _ = as_of(engine, county.snapshot_dates[0])
    with transaction(engine) as session:
        villages = set(session.scalars(select(EntityRow.code).where(EntityRow.kind == "village")).all())
    assert villages == set(households["village_code"])


def test_importing_the_same_file_twice_changes_nothing(engine, county) -> None:
    first = import_snapshots(engine, county, [0])[0]
    counts = row_counts(engine)
    again = run(
        engine,
        service.import_register,
        county.register_paths[0],
        user="tester",
        as_of=county.snapshot_dates[0],
        today=TODAY,
    )
    assert first.changed and not again.changed
    assert "imported before" in again.message
    assert row_counts(engine) == counts


def test_an_older_snapshot_is_refused_without_backfill(engine, county) -> None:
    import_snapshots(engine, county, [0, 2])
    counts = row_counts(engine)
    with pytest.raises(DisburseError, match="older than the newest"):
        run(
            engine,
            service.import_register,
            county.register_paths[1],
            user="tester",
            as_of=county.snapshot_dates[1],
            today=TODAY,
        )
    assert row_counts(engine) == counts


def test_a_backfilled_snapshot_gives_the_register_of_a_sequential_import(
    engine, county, sqlite_template, tmp_path
) -> None:
    import_snapshots(engine, county, [0, 2])
    import_snapshots(engine, county, [1], backfill=True)
    reference = reference_engine(sqlite_template, tmp_path)
    try:
        import_snapshots(reference, county)
        first, middle, last = county.snapshot_dates
        for on in (first, first + ONE_DAY, middle - ONE_DAY, middle, middle + ONE_DAY, last - ONE_DAY, last, TODAY):
            for got, expected in zip(as_of(engine, on), as_of(reference, on)):
                pd.testing.assert_frame_equal(got, expected)
    finally:
        reference.dispose()


def test_a_backfill_before_the_first_snapshot(engine, county, sqlite_template, tmp_path) -> None:
    import_snapshots(engine, county, [1])
    import_snapshots(engine, county, [0], backfill=True)
    reference = reference_engine(sqlite_template, tmp_path)
    try:
        import_snapshots(reference, county, [0, 1])
        first, middle, _ = county.snapshot_dates
        for on in (first, middle - ONE_DAY, middle, TODAY):
            for got, expected in zip(as_of(engine, on), as_of(reference, on)):
                pd.testing.assert_frame_equal(got, expected)
    finally:
        reference.dispose()


def test_a_file_with_an_error_writes_nothing(engine, county, tmp_path) -> None:
    import_snapshots(engine, county, [0])
    counts = row_counts(engine)
    lines = county.register_paths[1].read_text(encoding="utf-8").splitlines()
    cells = lines[5].split(",")
    cells[7] = cells[7][:-1] + ("0" if cells[7][-1] != "0" else "1")  # a wrong check character
    lines[5] = ",".join(cells)
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    from disburse.foundation.errors import ImportRefused

    with pytest.raises(ImportRefused) as refused:
        run(engine, service.import_register, broken, user="tester", as_of=county.snapshot_dates[1], today=TODAY)
    assert any(problem.row == 6 and "check character" in problem.reason for problem in refused.value.problems)
    assert row_counts(engine) == counts


def test_a_dry_run_writes_nothing(engine, county) -> None:
    import_snapshots(engine, county, [0])
    counts = row_counts(engine)
    outcome = run(
        engine,
        service.import_register,
        county.register_paths[1],
        user="tester",
        as_of=county.snapshot_dates[1],
        today=TODAY,
        dry_run=True,
    )
    assert outcome.dry_run and not outcome.changed
    assert outcome.counts["events"] > 0
    assert row_counts(engine) == counts


def test_the_messy_county_gives_the_same_register(engine, county, messy_county, sqlite_template, tmp_path) -> None:
    import_snapshots(engine, messy_county)
    reference = reference_engine(sqlite_template, tmp_path)
    try:
        import_snapshots(reference, county)
        for on in (*county.snapshot_dates, county.snapshot_dates[1] - ONE_DAY, TODAY):
            for got, expected in zip(as_of(engine, on), as_of(reference, on)):
                pd.testing.assert_frame_equal(got, expected)
        with transaction(engine) as session, transaction(reference) as reference_session:
            got = queries.changes_since(session, dt.date(2000, 1, 1)).drop(columns=["import_id"])
            expected = queries.changes_since(reference_session, dt.date(2000, 1, 1)).drop(columns=["import_id"])
        pd.testing.assert_frame_equal(got, expected)
    finally:
        reference.dispose()


def test_household_history_lists_versions_and_events(engine, county, county_events) -> None:
    import_snapshots(engine, county)
    card = next(event for event in county_events["events"] if event["kind"] == "card_change")
    with transaction(engine) as session:
        history = queries.household_history(session, card["household_id"])
    assert len(history.versions) == 2
    assert history.versions[0].values["account_no"] == card["old_account_no"]
    assert history.versions[1].values["account_no"] == card["new_account_no"]
    assert history.versions[0].valid_to == history.versions[1].valid_from
    assert [event.kind for event in history.events] == ["card_change"]
    with transaction(engine) as session, pytest.raises(DisburseError):
        queries.household_history(session, "0000000000000000")


def test_before_the_first_snapshot_the_oldest_can_stand_in(engine, county) -> None:
    import_snapshots(engine, county)
    first = county.snapshot_dates[0]
    earlier = dt.date(2025, 3, 31)
    with transaction(engine) as session:
        households, people = queries.register_as_of(session, earlier, before_first_snapshot="oldest")
        at_first, _ = queries.register_as_of(session, first)
    assert 0 < len(households) <= len(at_first)
    assert all(enrolled <= earlier for enrolled in households["enrolled_on"])
    assert all(died is None or died <= earlier for died in people["died_on"])
    assert all(exited is None or exited <= earlier for exited in households["exited_on"])


@pytest.mark.parametrize("backfilled", [False, True], ids=["sequential", "backfilled"])
def test_the_newest_facts_beside_a_snapshot_are_those_of_the_whole_register(engine, county, backfilled) -> None:
    """register_reads of the whole register reads only the versions not in force at the snapshot
    for the newest dated facts; the register it makes equals the one made with the newest facts
    read from every version (``newest_facts``), at every snapshot and on days around them,
    including a register whose middle snapshot came in last (a backfill ends and opens versions
    out of order)."""
    if backfilled:
        import_snapshots(engine, county, [0, 2])
        import_snapshots(engine, county, [1], backfill=True)
    else:
        import_snapshots(engine, county)
    with transaction(engine) as session:
        whole = queries.newest_facts(session)
        for snapshot in county.snapshot_dates:
            beside = queries.register_reads(session, snapshot)
            full = queries.register_reads(session, snapshot, newest=whole)
            for name in ("enrolled", "exited", "snapshot_exited", "died", "person_household"):
                np.testing.assert_array_equal(getattr(beside, name), getattr(full, name), err_msg=f"{snapshot} {name}")
            for on in (snapshot - ONE_DAY, snapshot, snapshot + ONE_DAY, TODAY):
                for got, expected in zip(queries.register_on(beside, on), queries.register_on(full, on)):
                    pd.testing.assert_frame_equal(got, expected)
