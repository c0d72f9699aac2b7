"""Helpers and fixtures shared by the registry tests (imported by name, not from a conftest, so
that ``conftest`` stays unambiguous across tests/): one small clean county and its messy twin
(same seed), generated once per session; one service call per transaction; row counts."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from disburse.dev.generator import generate_county
from disburse.foundation.db import make_engine, transaction
from disburse.registry import service

# After the last generated snapshot (2026-10-31), so every file's dates are in the past.
TODAY = dt.date(2026, 11, 15)
COUNTED_TABLES = (
    "register_imports",
    "household_versions",
    "person_versions",
    "register_events",
    "entities",
    "assets",
    "holdings",
    "pv_settlements",
    "journal_entries",
    "postings",
)


def run(engine, function, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Call ``function(session, *args, **kwargs)`` in one committed transaction."""
    with transaction(engine) as session:
        return function(session, *args, **kwargs)


def import_snapshots(engine, county, indices=None, *, backfill: bool = False):  # type: ignore[no-untyped-def]
    """Import the county's register snapshots (all, or those at ``indices``) in that order."""
    outcomes = []
    for index in indices if indices is not None else range(len(county.register_paths)):
        outcomes.append(
            run(
                engine,
                service.import_register,
                county.register_paths[index],
                user="tester",
                as_of=county.snapshot_dates[index],
                today=TODAY,
                backfill=backfill,
            )
        )
    return outcomes


def row_counts(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return {name: connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one() for name in COUNTED_TABLES}


def reference_engine(sqlite_template: Path, directory: Path):  # type: ignore[no-untyped-def]
    """A second, fresh SQLite database (a copy of the migrated template) to compare against."""
    path = directory / "reference.db"
    shutil.copyfile(sqlite_template, path)
    return make_engine(f"sqlite:///{path}")


SEED = 20261124
HOUSEHOLDS = 200


@pytest.fixture(scope="session")
def county(tmp_path_factory):
    return generate_county(tmp_path_factory.mktemp("registry_clean"), HOUSEHOLDS, SEED)


@pytest.fixture(scope="session")
def messy_county(tmp_path_factory):
    return generate_county(tmp_path_factory.mktemp("registry_messy"), HOUSEHOLDS, SEED, messy=True)


@pytest.fixture(scope="session")
def county_events(county):
    return json.loads(county.events_path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def snapshot_dates(county) -> tuple[dt.date, ...]:
    return county.snapshot_dates
