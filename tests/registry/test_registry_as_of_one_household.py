"""The register as of a date for a few households is exactly the whole register's rows of those
households (the counter's 明白卡 reads it through the indexes)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from disburse.dev.generator import generate_county
from disburse.foundation.db import transaction
from disburse.registry import queries
from disburse.registry.service import import_register


def test_some_households_as_of_are_the_whole_registers_rows(engine, tmp_path: Path) -> None:
    county = generate_county(tmp_path / "county", 80, 5)
    with transaction(engine) as session:
        for path, as_of in zip(county.register_paths, county.snapshot_dates):
            import_register(session, path, user="clerk", as_of=as_of)
    dates = [county.snapshot_dates[0] - dt.timedelta(days=1), *county.snapshot_dates, dt.date(2026, 12, 31)]
    with transaction(engine) as session:
        every_id = sorted(
            queries.newest_versions(session, queries.HOUSEHOLD_TABLE, "household_id", ("household_id",))["household_id"]
        )
        compared = 0
        for on in dates:
            for before in ("empty", "oldest"):
                households, people = queries.register_as_of(session, on, before_first_snapshot=before)
                for household_id in every_id[::7] + every_id[-3:]:
                    some_households, some_people = queries.register_as_of(
                        session, on, before_first_snapshot=before, household_ids=[household_id]
                    )
                    expected_households = households[households["household_id"] == household_id].reset_index(drop=True)
                    expected_people = people[people["household_id"] == household_id].reset_index(drop=True)
                    pd.testing.assert_frame_equal(some_households, expected_households, check_dtype=False)
                    pd.testing.assert_frame_equal(some_people, expected_people, check_dtype=False)
                    compared += len(expected_people)
    assert compared > 300  # people compared, over every date


def test_each_snapshot_taken_from_versions_read_once_is_the_snapshot_read_alone(engine, tmp_path: Path) -> None:
    """A PV run over several snapshots reads every version once (``register_versions``) and takes
    each snapshot from them; every frame and array is what reading that snapshot alone gives."""
    county = generate_county(tmp_path / "county", 120, 9)
    with transaction(engine) as session:
        for path, as_of in zip(county.register_paths, county.snapshot_dates):
            import_register(session, path, user="clerk", as_of=as_of)
    with transaction(engine) as session:
        versions = queries.register_versions(session)
        facts = queries.newest_facts_of(versions)
        for snapshot in county.snapshot_dates:
            alone = queries.register_reads(session, snapshot)
            taken = queries.register_reads(session, snapshot, newest=facts, versions=versions)
            pd.testing.assert_frame_equal(taken.households, alone.households)
            pd.testing.assert_frame_equal(taken.people, alone.people)
            for name in (
                "enrolled", "exited", "exited_objects", "snapshot_exited", "died", "died_objects", "person_household"
            ):  # fmt: skip
                pd.testing.assert_series_equal(pd.Series(getattr(taken, name)), pd.Series(getattr(alone, name)))
    assert len(county.snapshot_dates) >= 3 and len(alone.people) > 300
