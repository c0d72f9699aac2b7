"""A small generated county imported into fresh books, for the run, payout and report tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from generator import generate_county
from ledger_core.db import make_engine, transaction
from registry import service as registry_service

SEED = 7
HOUSEHOLDS = 200
TODAY = dt.date(2026, 11, 20)
EXAMPLES = Path(__file__).resolve().parents[2] / "allocations" / "examples"


def county(directory: Path) -> Path:
    """Generate the county once per directory (same seed, same files)."""
    if not (directory / "assets.yaml").exists():
        generate_county(directory, HOUSEHOLDS, SEED)
    return directory


def import_county(database_url: str, county_directory: Path, *, settlements: bool = True) -> None:
    engine = make_engine(database_url)
    try:
        with transaction(engine) as session:
            for path in sorted(county_directory.glob("register_*.csv")):
                registry_service.import_register(session, path, user="clerk",
                                                 as_of=dt.date.fromisoformat(path.stem.split("_")[1]), today=TODAY)
            registry_service.load_assets(session, county_directory / "assets.yaml", user="clerk")
            registry_service.import_shares(session, county_directory / "shares.csv", user="clerk",
                                           as_of=dt.date(2026, 8, 31), today=TODAY)
            if settlements:
                registry_service.import_settlements(session, county_directory / "pv_settlements.csv", user="clerk", today=TODAY)
    finally:
        engine.dispose()


def first_station(county_directory: Path) -> dict:
    return yaml.safe_load((county_directory / "assets.yaml").read_text(encoding="utf-8"))["stations"][0]


def pv_rule(directory: Path, county_directory: Path) -> Path:
    """The example PV rule, pointed at the generated county's first station."""
    station = first_station(county_directory)
    text = (EXAMPLES / "pv_revenue.yaml").read_text(encoding="utf-8")
    text = text.replace("PV-611002-001", station["asset_id"]).replace('capacity_kw: "300"', f'capacity_kw: "{station["capacity_kw"]}"')
    path = directory / "pv.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def dividend_rule(directory: Path, county_directory: Path, pool_yuan: str = "120000") -> Path:
    cooperative = yaml.safe_load((county_directory / "assets.yaml").read_text(encoding="utf-8"))["cooperatives"][0]
    text = (EXAMPLES / "coop_dividend.yaml").read_text(encoding="utf-8")
    text = text.replace("COOP-001", cooperative["asset_id"]).replace('pool_yuan: "120000"', f'pool_yuan: "{pool_yuan}"')
    village = next(line.split(",")[2] for line in (county_directory / "shares.csv").read_text(encoding="utf-8").splitlines()[1:]
                   if line.startswith(cooperative["asset_id"]) and ",村集体," in line)
    text = text.replace('collective_id: "611002001001"', f'collective_id: "{village}"')
    path = directory / f"dividend-{pool_yuan}.yaml"
    path.write_text(text, encoding="utf-8")
    return path
