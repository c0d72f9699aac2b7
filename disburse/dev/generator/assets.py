"""PV stations and 拨改股 cooperatives (assets.yaml) and the share register (shares.csv).

PV claims follow 商州 (seed 003): 3 kW for every poor household a station serves, and 20 kW or
more for every village collective it serves. A claim counts from the household's registration,
its creation (a split or a new household) or the station's commissioning, whichever is last;
some claims end when the household exited poverty, and a household that then fell back (返贫)
gets a new claim from that day.

Cooperative shares follow the 拨改股 example of DOMAIN.md: the principal at 1000 yuan a share
gives the share count; the members' households hold 70% of the shares, in proportion to their
people, and the village collectives the other 30% (the rounding remainder goes to the
collectives, so the shares add up exactly to principal / 1000).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from disburse.dev.generator import vocabulary as words
from disburse.dev.generator.history import History
from disburse.dev.generator.model import Column, Table
from disburse.dev.generator.numbers import date_texts, weighted_choice
from disburse.dev.generator.population import Geography
from disburse.foundation.identifiers import CREDIT_CODE_ALPHABET, credit_code_check_character

STATIONS_MIN, STATIONS_MAX = 3, 6
COOPERATIVES_MIN, COOPERATIVES_MAX = 1, 2
HOUSEHOLD_CLAIM_KW = 3
COLLECTIVE_CLAIM_KW_CHOICES = (20, 25, 30)
COLLECTIVE_CLAIM_KW_WEIGHTS = (0.6, 0.25, 0.15)
UNITS_E4_PER_UNIT = 10_000
YUAN_PER_SHARE = 1000
FEN_PER_YUAN = 100
# One share is 1000 yuan, so one ten-thousandth of a share is 0.1 yuan, 10 fen.
PRINCIPAL_FEN_PER_UNIT_E4 = YUAN_PER_SHARE * FEN_PER_YUAN // UNITS_E4_PER_UNIT
HOUSEHOLD_SHARE_PERCENT = 70
# Share of exited households whose PV claim ended with the exit (the rest kept theirs:
# 脱贫不脱政策).
CLAIM_ENDS_AT_EXIT_SHARE = 0.2
# 拨改股 cooperatives in the DOMAIN example have a few hundred members.
COOPERATIVE_PEOPLE_MIN, COOPERATIVE_PEOPLE_MAX = 200, 400
COOPERATIVE_PRINCIPAL_YUAN_CHOICES = (500_000, 1_000_000, 1_500_000, 2_000_000)
COOPERATIVE_PRODUCTS = ("香菇种植", "核桃种植", "中药材种植", "生猪养殖", "茶叶种植", "食用菌")
OWNER = "COUNTY"

SHARE_COLUMNS = (
    ("项目编号", "asset_id", "identifier"),
    ("持有人类型", "holder_type", "text"),
    ("持有人编号", "holder_id", "identifier"),
    ("份额", "units", "units"),
    ("本金", "principal", "amount"),
    ("起始日期", "start_on", "date"),
    ("终止日期", "end_on", "date"),
)
HOLDER_HOUSEHOLD, HOLDER_COLLECTIVE = "农户", "村集体"


@dataclass(frozen=True, slots=True)
class Station:
    """A village PV station owned by the county special account."""

    asset_id: str
    name: str
    capacity_kw: int
    village_indices: tuple[int, ...]
    commissioned_on: dt.date


@dataclass(frozen=True, slots=True)
class Cooperative:
    """A cooperative whose appropriated principal was converted into shares (拨改股)."""

    asset_id: str
    name: str
    credit_code: str
    principal_yuan: int
    share_count: int
    shares_from: dt.date


@dataclass(frozen=True, slots=True)
class Assets:
    """The declared assets and the share register rows."""

    stations: tuple[Station, ...]
    cooperatives: tuple[Cooperative, ...]
    shares: Table


@dataclass(slots=True)
class _Rows:
    """Share register rows while they are collected."""

    asset_id: list[str]
    holder_type: list[str]
    holder_id: list[str]
    units_e4: list[int]
    principal_fen: list[int | None]
    start_on: list[np.datetime64]
    end_on: list[np.datetime64]

    def add(
        self,
        asset_id: str,
        holder_type: str,
        holder_ids: np.ndarray,
        units_e4: np.ndarray,
        principal_fen: np.ndarray | None,
        start_on: np.ndarray,
        end_on: np.ndarray,
    ) -> None:
        count = len(holder_ids)
        self.asset_id.extend([asset_id] * count)
        self.holder_type.extend([holder_type] * count)
        self.holder_id.extend(np.asarray(holder_ids).tolist())
        self.units_e4.extend(np.asarray(units_e4).tolist())
        self.principal_fen.extend([None] * count if principal_fen is None else np.asarray(principal_fen).tolist())
        self.start_on.extend(np.asarray(start_on, dtype="datetime64[D]").tolist())
        self.end_on.extend(np.asarray(end_on, dtype="datetime64[D]").tolist())


def units_text(units_e4: int) -> str:
    """Share units as the register writes them: ``30000 -> '3'``, ``41152 -> '4.1152'``."""
    whole, fraction = divmod(units_e4, UNITS_E4_PER_UNIT)
    return str(whole) if fraction == 0 else f"{whole}.{fraction:04d}".rstrip("0")


def yuan_text(amount_fen: int) -> str:
    """Fen as a plain yuan amount with two decimals: ``412345 -> '4123.45'``."""
    yuan, fen = divmod(amount_fen, FEN_PER_YUAN)
    return f"{yuan}.{fen:02d}"


def assets_generate(rng: np.random.Generator, geography: Geography, history: History) -> Assets:
    """Stations serving every village, one or two cooperatives, and all their holdings."""
    rows = _Rows([], [], [], [], [], [], [])
    stations = _stations_generate(rng, geography, history, rows)
    cooperatives = _cooperatives_generate(rng, geography, history, rows)
    values = {
        "项目编号": np.array(rows.asset_id),
        "持有人类型": np.array(rows.holder_type),
        "持有人编号": np.array(rows.holder_id),
        "份额": np.array([units_text(units) for units in rows.units_e4]),
        "本金": np.array(["" if fen is None else yuan_text(fen) for fen in rows.principal_fen]),
        "起始日期": date_texts(np.array(rows.start_on, dtype="datetime64[D]")),
        "终止日期": date_texts(np.array(rows.end_on, dtype="datetime64[D]")),
    }
    table = Table(
        title=f"{geography.county_name}收益份额登记表",
        columns=tuple(Column(header, alias, kind, values[header]) for header, alias, kind in SHARE_COLUMNS),
    )
    return Assets(stations=tuple(stations), cooperatives=tuple(cooperatives), shares=table)


def _ever_present(history: History) -> np.ndarray:
    present = np.zeros(len(history.household_type), dtype=bool)
    for snapshot in history.snapshots:
        present |= snapshot.household_present
    return present


def _stations_generate(rng: np.random.Generator, geography: Geography, history: History, rows: _Rows) -> list[Station]:
    town_count = len(geography.town_names)
    station_count = int(rng.integers(STATIONS_MIN, STATIONS_MAX + 1))
    # Each station serves the villages of a run of neighbouring towns.
    boundaries = np.sort(rng.choice(np.arange(1, town_count), size=station_count - 1, replace=False))
    town_groups = np.split(np.arange(town_count), boundaries)

    latest = history.snapshots[-1]
    household_ids = history.household_ids(geography, latest.household_serial)
    first_status = history.snapshots[0].household_status
    first_exited = history.snapshots[0].household_exited
    poor = _ever_present(history) & (history.household_type != words.HOUSEHOLD_TYPE_MONITORED)
    ends_at_exit = rng.random(len(poor)) < CLAIM_ENDS_AT_EXIT_SHARE
    no_date = np.datetime64("NaT", "D")

    stations = []
    for number, towns in enumerate(town_groups, start=1):
        villages = np.flatnonzero(np.isin(geography.village_towns, towns))
        months = int(rng.integers(0, 31))
        commissioned = _month_end(2017, 6 + months)
        commissioned_day = np.datetime64(commissioned, "D")
        asset_id = f"PV-{geography.area_code}-{number:03d}"

        collective_kw = np.array(COLLECTIVE_CLAIM_KW_CHOICES)[
            weighted_choice(rng, COLLECTIVE_CLAIM_KW_WEIGHTS, len(villages))
        ]
        rows.add(
            asset_id,
            HOLDER_COLLECTIVE,
            geography.village_codes[villages],
            collective_kw * UNITS_E4_PER_UNIT,
            None,
            np.full(len(villages), commissioned_day),
            np.full(len(villages), no_date),
        )

        served = np.flatnonzero(poor & np.isin(history.household_village, villages))
        start = np.maximum(history.household_enrolled[served], commissioned_day)
        created = history.household_created[served]
        start = np.where(np.isnat(created), start, np.maximum(start, created))
        historical_end = np.where(
            (first_status[served] == words.STATUS_EXITED) & ends_at_exit[served] & (first_exited[served] > start),
            first_exited[served],
            no_date,
        )
        event_exit = history.exit_event_on[served]
        end = np.where(np.isnat(event_exit), historical_end, event_exit)
        claim_units = np.full(len(served), HOUSEHOLD_CLAIM_KW * UNITS_E4_PER_UNIT)
        rows.add(asset_id, HOLDER_HOUSEHOLD, household_ids[served], claim_units, None, start, end)
        # A household whose claim ended at its exit and that then fell back gets a new claim.
        relapsed = ~np.isnat(end) & ~np.isnat(history.relapse_event_on[served])
        again = served[relapsed]
        rows.add(
            asset_id,
            HOLDER_HOUSEHOLD,
            household_ids[again],
            claim_units[relapsed],
            None,
            history.relapse_event_on[again],
            np.full(len(again), no_date),
        )

        claimed_kw = int(collective_kw.sum()) + HOUSEHOLD_CLAIM_KW * (len(served) + len(again))
        # Built with some headroom over the claims, rounded up to 10 kW.
        capacity_kw = -(-int(claimed_kw * rng.uniform(1.0, 1.1)) // 10) * 10
        name = f"{geography.town_names[towns[0]]}光伏扶贫电站"
        stations.append(Station(asset_id, name, capacity_kw, tuple(villages.tolist()), commissioned))
    return stations


def _month_end(year: int, month: int) -> dt.date:
    """The last day of ``month`` counted from January of ``year`` (month 13 is next January)."""
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    first_of_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_of_next - dt.timedelta(days=1)


def credit_code_generate(rng: np.random.Generator, area_code: str) -> str:
    """A unified social credit code of a farmers' cooperative (登记管理部门 9, 类别 3) in the area,
    with a valid GB 32100 check character."""
    organisation = "MA" + "".join(rng.choice(list(CREDIT_CODE_ALPHABET), size=7).tolist())
    first_seventeen = f"93{area_code}{organisation}"
    return first_seventeen + credit_code_check_character(first_seventeen)


def _cooperatives_generate(
    rng: np.random.Generator, geography: Geography, history: History, rows: _Rows
) -> list[Cooperative]:
    first = history.snapshots[0]
    household_ids = history.household_ids(geography, first.household_serial)
    member_household = first.household_present & (history.household_type != words.HOUSEHOLD_TYPE_MONITORED)
    people_per_household = np.bincount(
        first.person_household[first.household_present[first.person_household]],
        minlength=len(history.household_type),
    )
    village_order = rng.permutation(geography.village_count).tolist()
    cooperatives = []
    for number in range(1, int(rng.integers(COOPERATIVES_MIN, COOPERATIVES_MAX + 1)) + 1):
        people_wanted = int(rng.integers(COOPERATIVE_PEOPLE_MIN, COOPERATIVE_PEOPLE_MAX + 1))
        villages: list[int] = []
        people = 0
        # Take whole villages until the cooperative has enough members (or villages run out).
        while village_order and (people < people_wanted or not villages):
            village = village_order.pop()
            in_village = member_household & (history.household_village == village)
            if in_village.any():
                villages.append(village)
                people += int(people_per_household[in_village].sum())
        if not villages:
            break
        members = np.flatnonzero(member_household & np.isin(history.household_village, villages))
        member_people = people_per_household[members]
        principal_yuan = int(rng.choice(np.array(COOPERATIVE_PRINCIPAL_YUAN_CHOICES)))
        share_count = principal_yuan // YUAN_PER_SHARE
        total_e4 = share_count * UNITS_E4_PER_UNIT
        people_total = int(member_people.sum())
        household_e4 = HOUSEHOLD_SHARE_PERCENT * total_e4 * member_people // (100 * people_total)
        collective_e4_total = total_e4 - int(household_e4.sum())
        village_people = np.array(
            [int(member_people[history.household_village[members] == village].sum()) for village in villages]
        )
        collective_e4 = _split_largest_remainder(collective_e4_total, village_people)
        shares_from = dt.date(int(rng.integers(2020, 2023)), int(rng.choice([1, 7])), 1)
        asset_id = f"COOP-{number:03d}"
        start = np.datetime64(shares_from, "D")
        rows.add(
            asset_id,
            HOLDER_HOUSEHOLD,
            household_ids[members],
            household_e4,
            household_e4 * PRINCIPAL_FEN_PER_UNIT_E4,
            np.full(len(members), start),
            np.full(len(members), np.datetime64("NaT", "D")),
        )
        village_codes = geography.village_codes[np.array(villages)]
        rows.add(
            asset_id,
            HOLDER_COLLECTIVE,
            village_codes,
            collective_e4,
            collective_e4 * PRINCIPAL_FEN_PER_UNIT_E4,
            np.full(len(villages), start),
            np.full(len(villages), np.datetime64("NaT", "D")),
        )
        assert int(household_e4.sum()) + int(collective_e4.sum()) == total_e4
        product = COOPERATIVE_PRODUCTS[int(rng.integers(0, len(COOPERATIVE_PRODUCTS)))]
        village_name = str(geography.village_names[villages[0]]).removesuffix("村")
        cooperatives.append(
            Cooperative(
                asset_id=asset_id,
                name=f"{geography.county_name}{village_name}{product}专业合作社",
                credit_code=credit_code_generate(rng, geography.area_code),
                principal_yuan=principal_yuan,
                share_count=share_count,
                shares_from=shares_from,
            )
        )
    return cooperatives


def _split_largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer ``total`` in proportion to integer ``weights``; the parts sum to total."""
    weights = weights.astype(np.int64)
    floors = total * weights // weights.sum()
    remainders = total * weights - floors * weights.sum()
    short = total - int(floors.sum())
    floors[np.argsort(-remainders, kind="stable")[:short]] += 1
    assert int(floors.sum()) == total
    return floors


def assets_yaml_write(path: Path, geography: Geography, assets: Assets) -> None:
    """Write assets.yaml in the schema the lead's loader validates (written by hand, so the
    layout is fixed and byte-identical for the same seed)."""
    lines = ["stations:"]
    for station in assets.stations:
        codes = json.dumps(geography.village_codes[np.array(station.village_indices)].tolist())
        lines += [
            f"  - asset_id: {station.asset_id}",
            f"    name: {station.name}",
            f'    capacity_kw: "{station.capacity_kw}"',
            f"    owner: {OWNER}",
            f"    village_codes: {codes}",
            f"    commissioned_on: {station.commissioned_on.isoformat()}",
        ]
    lines.append("cooperatives:" if assets.cooperatives else "cooperatives: []")
    for cooperative in assets.cooperatives:
        lines += [
            f"  - asset_id: {cooperative.asset_id}",
            f"    name: {cooperative.name}",
            f'    credit_code: "{cooperative.credit_code}"',
            f'    principal_yuan: "{cooperative.principal_yuan}.00"',
            f'    share_count: "{cooperative.share_count}"',
            f"    owner: {OWNER}",
            f"    paying_entity: {OWNER}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
