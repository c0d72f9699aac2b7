"""A generated county read back for seeding: the last register snapshot, the rosters, the share
register and the assets, with the facts the plants choose by (who is a pupil the education rule
pays, who holds PV claims or cooperative shares, whose card is whose), and picks that never give
one household or person to two plants."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from disburse.foundation.identifiers import luhn_check_digit, resident_id_check_character

EDUCATION_STAGES_ALWAYS = ("学前教育", "普通高中", "中职", "高职")
EDUCATION_STAGES_BOARDING = ("小学", "初中")
EDUCATION_STATUSES = ("未脱贫", "返贫", "监测对象")
DIBAO_TYPES = ("低保贫困户", "特困供养贫困户")
HEAD = "户主"


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@dataclass
class County:
    """The generated files as frames, and what has been given to a plant already."""

    directory: Path
    rng: np.random.Generator
    register_header: list[str]
    register_rows: list[list[str]]
    people: pd.DataFrame
    households: pd.DataFrame
    rangers_header: list[str]
    rangers: list[list[str]]
    jobs_header: list[str]
    jobs: list[list[str]]
    bills: set[str]
    shares_header: list[str]
    shares: list[list[str]]
    assets: dict
    first_snapshot_households: set[str]
    used_households: set[str] = field(default_factory=set)
    used_people: set[str] = field(default_factory=set)

    # ------------------------------------------------------------------------------ picks
    def pick_households(self, mask: pd.Series, count: int, what: str) -> list[str]:
        """``count`` households meeting ``mask`` that no plant has yet, chosen by the seed."""
        candidates = self.households[mask & ~self.households.index.isin(self.used_households)]
        candidates = candidates[~candidates["member_ids"].map(lambda ids: bool(set(ids) & self.used_people))]
        if len(candidates) < count:
            raise ValueError(
                f"the county has {len(candidates)} household(s) for {what}, {count} needed: generate more households"
            )
        # Households with a pupil are few (the near-misses and the exit need them): spared when
        # the mask does not ask for one and there are enough others.
        others = candidates[~candidates["has_pupil"]]
        if len(others) >= count and not bool(candidates["has_pupil"].all()):
            candidates = others
        chosen = sorted(self.rng.choice(candidates.index.to_numpy(), size=count, replace=False).tolist())
        self.used_households.update(chosen)
        for household in chosen:
            self.used_people.update(self.households.at[household, "member_ids"])
        return chosen

    def pick_people(self, mask: pd.Series, count: int, what: str) -> list[str]:
        """``count`` living people meeting ``mask`` from households no plant has yet."""
        candidates = self.people[
            mask & ~self.people.index.isin(self.used_people) & ~self.people["household_id"].isin(self.used_households)
        ]
        candidates = candidates.drop_duplicates("household_id")
        if len(candidates) < count:
            raise ValueError(
                f"the county has {len(candidates)} people for {what}, {count} needed: generate more households"
            )
        chosen = sorted(self.rng.choice(candidates.index.to_numpy(), size=count, replace=False).tolist())
        self.used_people.update(chosen)
        self.used_households.update(self.people.loc[chosen, "household_id"].tolist())
        return chosen

    # ------------------------------------------------------------------------------ facts
    def paid_account(self, id_number: str) -> tuple[str, str]:
        """The card a person-level benefit goes to and its holder's name: their own, else the head's."""
        person = self.people.loc[id_number]
        if person["own_card"]:
            return person["own_card"], person["name"]
        household = self.households.loc[person["household_id"]]
        return household["account_no"], household["head_name"]

    def new_card(self, prefix: str = "621799") -> str:
        """A Luhn-valid 19-digit card number no one in the register holds."""
        known = set(self.households["account_no"]) | set(self.people["own_card"])
        while True:
            payload = prefix + "".join(str(digit) for digit in self.rng.integers(0, 10, 12))
            number = payload + luhn_check_digit(payload)
            if number not in known:
                return number

    def new_resident_id(self, birth: dt.date) -> str:
        """A valid resident ID of the county's area that the register does not hold."""
        area = self.households["village_code"].iloc[0][:6]
        while True:
            sequence = int(self.rng.integers(100, 999))
            first = f"{area}{birth:%Y%m%d}{sequence:03d}"
            number = first + resident_id_check_character(first)
            if number not in self.people.index:
                return number

    def ranger_wage_fen(self, row: list[str]) -> int:
        days = int(row[2])
        rate_fen = int(round(float(row[3]) * 100)) if row[3] else 3333
        return days * rate_fen

    def station_of_village(self) -> dict[str, str]:
        return {code: station["asset_id"] for station in self.assets["stations"] for code in station["village_codes"]}


def documented_real(directory: Path) -> list[dict]:
    """Findings a generated county raises by itself that are real: hospital bills of people in
    households that exited poverty. The example medical rule leaves such households out, but
    the allocation engine does not yet apply a top-up rule's eligibility, so they are paid, and
    paid_after_exit rightly finds them."""
    registers = sorted(Path(directory).glob("register_*.csv"))
    header, rows = read_csv(registers[-1])
    column = {name: index for index, name in enumerate(header)}
    household_of = {row[column["证件号码"]]: row[column["户编号"]] for row in rows}
    status_of = {row[column["户编号"]]: row[column["贫困状态"]] for row in rows}
    _, bills = read_csv(Path(directory) / "hospital_bills_2026-10.csv")
    exited = sorted(
        {
            household_of[row[0]]
            for row in bills
            if row[0] in household_of and status_of[household_of[row[0]]] not in EDUCATION_STATUSES
        }
    )
    return [
        {
            "check": "paid_after_exit",
            "subjects": [f"household:{household}"],
            "what": f"a medical top-up for a member of {household}, which exited poverty (the rule's eligibility "
            "leaves it out; the engine pays it)",
        }
        for household in exited
    ]


def _households_and_people(people: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Households (from their heads' rows, with members and living counts) and the living
    people, with whether the education rule pays each as a pupil and who is a working adult."""
    heads = people[people["relation"] == HEAD].set_index("household_id", drop=False)
    living = people[people["died_on"] == ""]
    households = heads[["household_id", "village_code", "household_type", "status", "account_no"]].copy()
    households["head_name"] = heads["name"]
    households["head_id"] = heads["id_number"]
    households["member_ids"] = people.groupby("household_id")["id_number"].agg(list).reindex(households.index)
    households["living"] = (
        living.groupby("household_id")["id_number"].count().reindex(households.index).fillna(0).astype(int)
    )
    households["dead"] = (
        people[people["died_on"] != ""]
        .groupby("household_id")["id_number"]
        .count()
        .reindex(households.index)
        .fillna(0)
        .astype(int)
    )
    people = living.copy()
    people["pupil"] = people["school_stage"].isin(EDUCATION_STAGES_ALWAYS) | (
        people["school_stage"].isin(EDUCATION_STAGES_BOARDING) & (people["boarding"] == "是")
    )
    people["pupil"] &= people["household_id"].map(households["status"]).isin(EDUCATION_STATUSES)
    age = (pd.Timestamp(2026, 10, 31) - people["birth"]).dt.days // 365
    people["adult"] = (age >= 18) & (age <= 60) & (people["school_stage"] == "")
    return households, people


def read_county(directory: Path, rng: np.random.Generator) -> County:
    """The generated county in ``directory`` (clean CSV; a messy county cannot be seeded)."""
    directory = Path(directory)
    registers = sorted(directory.glob("register_*.csv"))
    header, rows = read_csv(registers[-1])
    people = pd.DataFrame(rows, columns=header)
    people = people.rename(
        columns={"证件号码": "id_number", "户编号": "household_id", "姓名": "name", "与户主关系": "relation",
                 "在校生状况": "school_stage", "是否寄宿": "boarding", "户类型": "household_type", "贫困状态": "status",
                 "死亡日期": "died_on", "个人银行账号": "own_card", "银行账号": "account_no", "村代码": "village_code"}
    )  # fmt: skip
    people["birth"] = pd.to_datetime(people["id_number"].str[6:14], format="%Y%m%d")
    people = people.set_index("id_number", drop=False)
    households, people = _households_and_people(people)
    rangers_header, rangers = read_csv(directory / "forest_rangers_2026-10.csv")
    jobs_header, jobs = read_csv(directory / "public_welfare_jobs_2026-10.csv")
    _, bills = read_csv(directory / "hospital_bills_2026-10.csv")
    shares_header, shares = read_csv(directory / "shares.csv")
    on_rosters = {row[0] for row in rangers} | {row[0] for row in jobs} | {row[0] for row in bills}
    people["on_roster"] = people.index.isin(on_rosters)
    holders = pd.DataFrame(shares, columns=shares_header)
    # A claim that ended before the settlements' periods (2025 on) pays nothing this month.
    household_holders = holders[
        (holders["持有人类型"] == "农户") & ((holders["终止日期"] == "") | (holders["终止日期"] >= "2026-01-01"))
    ]
    households["pv_holder"] = households.index.isin(
        household_holders.loc[household_holders["项目编号"].str.startswith("PV"), "持有人编号"]
    )
    households["coop_holder"] = households.index.isin(
        household_holders.loc[household_holders["项目编号"].str.startswith("COOP"), "持有人编号"]
    )
    households["has_pupil"] = households.index.isin(people.loc[people["pupil"], "household_id"])
    households["has_card"] = households["account_no"] != ""
    households["has_bill"] = households.index.isin(
        people.loc[people.index.isin({row[0] for row in bills}), "household_id"]
    )
    first_header, first_rows = read_csv(registers[0])
    first_households = {row[first_header.index("户编号")] for row in first_rows}
    return County(
        directory=directory,
        rng=rng,
        register_header=header,
        register_rows=rows,
        people=people,
        households=households,
        rangers_header=rangers_header,
        rangers=rangers,
        jobs_header=jobs_header,
        jobs=jobs,
        bills={row[0] for row in bills},
        shares_header=shares_header,
        shares=shares,
        assets=yaml.safe_load((directory / "assets.yaml").read_text(encoding="utf-8")),
        first_snapshot_households=first_households,
    )
