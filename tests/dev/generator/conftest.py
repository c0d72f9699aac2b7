"""Shared fixtures: one clean and one messy county of the same seed, generated once per session,
and readers that turn the files back into plain rows of strings."""

from __future__ import annotations

import json

import pytest
from generated_county_reading import read_csv_rows

from disburse.dev.generator import generate_county

SEED = 20261031
HOUSEHOLDS = 600


@pytest.fixture(scope="session")
def clean_county(tmp_path_factory):
    return generate_county(tmp_path_factory.mktemp("clean"), HOUSEHOLDS, SEED)


@pytest.fixture(scope="session")
def messy_county(tmp_path_factory):
    return generate_county(tmp_path_factory.mktemp("messy"), HOUSEHOLDS, SEED, messy=True)


@pytest.fixture(scope="session")
def registers(clean_county):
    """The three clean snapshots as lists of row dicts, in snapshot order."""
    return [read_csv_rows(path)[1] for path in clean_county.register_paths]


@pytest.fixture(scope="session")
def shares(clean_county):
    return read_csv_rows(clean_county.shares_path)[1]


@pytest.fixture(scope="session")
def events(clean_county):
    return json.loads(clean_county.events_path.read_text(encoding="utf-8"))
