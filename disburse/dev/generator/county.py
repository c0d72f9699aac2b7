"""``generate_county``: write a whole synthetic county, deterministically from a seed.

Each stage draws from its own random stream, spawned from the seed, so that changing how one
stage draws (say, the messy writer) does not change what another stage produces: the clean and
the messy county of one seed hold the same content.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from disburse.dev.generator.assets import assets_generate, assets_yaml_write
from disburse.dev.generator.history import History, history_generate, later_household_count
from disburse.dev.generator.model import (
    HOUSEHOLDS_MAX,
    HOUSEHOLDS_MIN,
    MESSY_HOUSEHOLDS_MAX,
    SNAPSHOT_DATES,
    GeneratedCounty,
    Table,
)
from disburse.dev.generator.population import Geography, Population, geography_generate, population_generate
from disburse.dev.generator.register import RegisterCsvWriter, register_table
from disburse.dev.generator.settlements import settlements_generate
from disburse.dev.generator.subsidies import subsidies_generate
from disburse.dev.generator.writing import REGISTER_ALTERNATE_HEADERS, csv_write, messy_csv_write, messy_xlsx_write

# Streams, in the order they are spawned from the seed; append new ones at the end only, or
# every existing county changes.
_STREAMS = ("geography", "population", "history", "assets", "settlements", "subsidies", "messy")


def _generators(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(_STREAMS))
    return {name: np.random.Generator(np.random.PCG64(child)) for name, child in zip(_STREAMS, children)}


def generate_county(out_dir: Path, households: int, seed: int, messy: bool = False) -> GeneratedCounty:
    """Write a synthetic county into ``out_dir`` and return the paths written.

    ``households`` is the number of households in the first register snapshot (a few more
    enter later). The same arguments always give byte-identical files. With ``messy`` the
    registers, share register, settlements and subsidy sheets are written the way users hand
    them over (GBK CSV, .xlsx with preamble and totals, …) with the same content.
    """
    _arguments_check(households, seed, messy)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    streams = _generators(seed)

    geography = geography_generate(streams["geography"], households)
    population = population_generate(
        streams["population"],
        geography,
        households,
        later_household_count(households) * (len(SNAPSHOT_DATES) - 1),
        SNAPSHOT_DATES[0],
    )
    history = history_generate(streams["history"], geography, population, SNAPSHOT_DATES)
    assets = assets_generate(streams["assets"], geography, history)
    settlements = settlements_generate(streams["settlements"], geography, assets.stations, SNAPSHOT_DATES[-1])
    last = SNAPSHOT_DATES[-1]
    subsidies = subsidies_generate(streams["subsidies"], population, history, last)

    writer = _Writer(out_dir, messy, streams["messy"])
    register_paths, people = _registers_write(out_dir, messy, writer, geography, population, history)
    assets_path = out_dir / "assets.yaml"
    assets_yaml_write(assets_path, geography, assets)
    shares_path = writer.write("shares", assets.shares, spreadsheet=True)
    settlements_path = writer.write("pv_settlements", settlements, spreadsheet=True)
    month = f"{last.year}-{last.month:02d}"
    rangers_path = writer.write(f"forest_rangers_{month}", subsidies.forest_rangers, spreadsheet=False)
    jobs_path = writer.write(f"public_welfare_jobs_{month}", subsidies.public_welfare_jobs, spreadsheet=False)
    bills_path = writer.write(f"hospital_bills_{month}", subsidies.hospital_bills, spreadsheet=False)
    events_path = out_dir / "events.json"
    _events_write(events_path, geography, history, seed, households)

    latest = history.snapshots[-1]
    return GeneratedCounty(
        out_dir=out_dir,
        seed=seed,
        messy=messy,
        snapshot_dates=SNAPSHOT_DATES,
        register_paths=tuple(register_paths),
        assets_path=assets_path,
        shares_path=shares_path,
        settlements_path=settlements_path,
        forest_rangers_path=rangers_path,
        public_welfare_jobs_path=jobs_path,
        hospital_bills_path=bills_path,
        events_path=events_path,
        towns=len(geography.town_names),
        villages=geography.village_count,
        households=int(latest.household_present.sum()),
        people=people,
        stations=len(assets.stations),
        cooperatives=len(assets.cooperatives),
        share_rows=assets.shares.row_count,
        settlement_rows=settlements.row_count,
        events=len(history.events),
    )


def _arguments_check(households: int, seed: int, messy: bool) -> None:
    """Refuse a household count or seed the generator cannot honour, before anything is written."""
    if isinstance(households, bool) or not isinstance(households, int):
        raise TypeError(f"households must be an int, not {type(households).__name__}")
    if not HOUSEHOLDS_MIN <= households <= HOUSEHOLDS_MAX:
        raise ValueError(f"households must be between {HOUSEHOLDS_MIN:,} and {HOUSEHOLDS_MAX:,}, not {households:,}")
    if messy and households > MESSY_HOUSEHOLDS_MAX:
        raise ValueError(
            f"a messy county has at most {MESSY_HOUSEHOLDS_MAX:,} households (one register is an .xlsx sheet), "
            f"not {households:,}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, not {seed!r}")


def _registers_write(
    out_dir: Path, messy: bool, writer: _Writer, geography: Geography, population: Population, history: History
) -> tuple[list[Path], int]:
    """Write one register file per snapshot; return their paths and the last register's row count."""
    register_paths = []
    people = 0
    fast_register = None if messy else RegisterCsvWriter(geography, population, history)
    for number, snapshot in enumerate(history.snapshots):
        stem = f"register_{snapshot.on.isoformat()}"
        if fast_register is not None:
            path = out_dir / f"{stem}.csv"
            people = fast_register.write(path, snapshot)
        else:
            table = register_table(geography, population, history, snapshot)
            # In the messy county the last snapshot is a spreadsheet, the others GBK CSV.
            spreadsheet = number == len(history.snapshots) - 1
            path = writer.write(stem, table, spreadsheet=spreadsheet, alternate_headers=REGISTER_ALTERNATE_HEADERS)
            people = table.row_count
        register_paths.append(path)
    return register_paths, people


class _Writer:
    """Writes each table cleanly (CSV) or, for a messy county, as GBK CSV or .xlsx."""

    def __init__(self, out_dir: Path, messy: bool, rng: np.random.Generator) -> None:
        self.out_dir = out_dir
        self.messy = messy
        self.rng = rng

    def write(
        self, stem: str, table: Table, *, spreadsheet: bool, alternate_headers: dict[str, tuple[str, ...]] | None = None
    ) -> Path:
        if not self.messy:
            path = self.out_dir / f"{stem}.csv"
            csv_write(path, table)
        elif spreadsheet:
            path = self.out_dir / f"{stem}.xlsx"
            messy_xlsx_write(path, table, self.rng, alternate_headers=alternate_headers)
        else:
            path = self.out_dir / f"{stem}.csv"
            messy_csv_write(path, table, self.rng, alternate_headers=alternate_headers)
        return path


def _events_write(path: Path, geography: Geography, history: History, seed: int, households: int) -> None:
    """events.json: the county, the snapshots and every event between them, for tests."""
    document = {
        "county": geography.county_name,
        "area_code": geography.area_code,
        "seed": seed,
        "households": households,
        "snapshots": [snapshot.on.isoformat() for snapshot in history.snapshots],
        "events": list(history.events),
    }
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


__all__ = ["generate_county", "GeneratedCounty"]
