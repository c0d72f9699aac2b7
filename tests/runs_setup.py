"""A small generated county imported into fresh books, for the run, payout and report tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from disburse.allocations.rules import EXAMPLES_DIRECTORY
from disburse.dev.demo.cycle import rule_for_cooperative, rule_for_station
from disburse.dev.generator import generate_county
from disburse.foundation.db import make_engine, transaction
from disburse.ledger.service import add_bank_account
from disburse.registry import service as registry_service

SEED = 7
HOUSEHOLDS = 200
TODAY = dt.date(2026, 11, 20)
BANK_NAME = "中国农业银行"
BANK_ACCOUNT = "6228480012345678901"
EXAMPLES = EXAMPLES_DIRECTORY


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
                registry_service.import_register(
                    session, path, user="clerk", as_of=dt.date.fromisoformat(path.stem.split("_")[1]), today=TODAY
                )
            registry_service.load_assets(session, county_directory / "assets.yaml", user="clerk")
            registry_service.import_shares(
                session, county_directory / "shares.csv", user="clerk", as_of=dt.date(2026, 8, 31), today=TODAY
            )
            if settlements:
                # The station owner's bank account: rows with a 到账日期 book their receipt there.
                add_bank_account(session, "COUNTY", BANK_NAME, BANK_ACCOUNT, "clerk")
                registry_service.import_settlements(
                    session, county_directory / "pv_settlements.csv", user="clerk", today=TODAY
                )
    finally:
        engine.dispose()


def first_station(county_directory: Path) -> dict:
    return yaml.safe_load((county_directory / "assets.yaml").read_text(encoding="utf-8"))["stations"][0]


def pv_rule(directory: Path, county_directory: Path) -> Path:
    """The example PV rule, pointed at the generated county's first station."""
    return rule_for_station(EXAMPLES / "pv_revenue.yaml", first_station(county_directory), directory / "pv.yaml")


def dividend_rule(directory: Path, county_directory: Path, pool_yuan: str = "120000") -> Path:
    """The example dividend rule, pointed at the generated county's first cooperative."""
    cooperative = yaml.safe_load((county_directory / "assets.yaml").read_text(encoding="utf-8"))["cooperatives"][0]
    return rule_for_cooperative(
        EXAMPLES / "coop_dividend.yaml", cooperative, directory / f"dividend-{pool_yuan}.yaml", pool_yuan
    )
