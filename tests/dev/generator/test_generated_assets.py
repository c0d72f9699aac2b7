"""assets.yaml, the share register and the PV settlements."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
import yaml
from generated_county_reading import read_csv_rows

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_code_valid(code: str) -> bool:
    total = 0
    for position, character in enumerate(code[:17]):
        total += CREDIT_ALPHABET.index(character) * (3**position % 31)
    check = 31 - total % 31
    return CREDIT_ALPHABET[0 if check == 31 else check] == code[17]


def units_e4(text: str) -> int:
    return int(Decimal(text) * 10_000)


def day(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


@pytest.fixture(scope="module")
def assets(clean_county):
    return yaml.safe_load(clean_county.assets_path.read_text(encoding="utf-8"))


def test_credit_code_helper_accepts_published_codes():
    # 91350100M000100Y43 is the example code printed in explanations of GB 32100.
    for code in ("91350100M000100Y43", "91310000775785552L", "9144030071526726XG"):
        assert credit_code_valid(code)
    assert not credit_code_valid("91350100M000100Y44")


def test_assets_yaml_follows_the_schema(assets, clean_county):
    assert set(assets) == {"stations", "cooperatives"}
    assert 3 <= len(assets["stations"]) <= 6
    assert 1 <= len(assets["cooperatives"]) <= 2
    served = []
    for station in assets["stations"]:
        assert set(station) == {"asset_id", "name", "capacity_kw", "owner", "village_codes", "commissioned_on"}
        assert re.fullmatch(r"PV-611002-\d{3}", station["asset_id"])
        assert isinstance(station["capacity_kw"], str) and int(station["capacity_kw"]) > 0
        assert station["owner"] == "COUNTY"
        assert isinstance(station["commissioned_on"], dt.date)
        assert all(isinstance(code, str) and re.fullmatch(r"611002\d{6}", code) for code in station["village_codes"])
        served += station["village_codes"]
    assert len(served) == len(set(served)) == clean_county.villages
    for cooperative in assets["cooperatives"]:
        assert set(cooperative) == {
            "asset_id",
            "name",
            "credit_code",
            "principal_yuan",
            "share_count",
            "owner",
            "paying_entity",
        }
        assert re.fullmatch(r"COOP-\d{3}", cooperative["asset_id"])
        code = cooperative["credit_code"]
        assert code.startswith("93611002") and len(code) == 18 and credit_code_valid(code)
        assert Decimal(cooperative["principal_yuan"]) == Decimal(cooperative["share_count"]) * 1000
        assert cooperative["owner"] == cooperative["paying_entity"] == "COUNTY"


def test_every_poor_household_has_a_claim_on_each_station_serving_it(assets, registers, shares):
    station_of_village = {
        code: station["asset_id"] for station in assets["stations"] for code in station["village_codes"]
    }
    claims = defaultdict(list)
    for row in shares:
        if row["项目编号"].startswith("PV-") and row["持有人类型"] == "农户":
            assert row["份额"] == "3" and row["本金"] == ""
            claims[(row["项目编号"], row["持有人编号"])].append((day(row["起始日期"]), day(row["终止日期"])))
    latest = dt.date(2026, 10, 31)
    for rows in registers:
        for row in rows:
            key = (station_of_village[row["村代码"]], row["户编号"])
            if row["户类型"] == "一般农户":
                assert key not in claims
                continue
            assert key in claims, key
            for start, end in claims[key]:
                assert start >= dt.date.fromisoformat(row["识别日期"])
                assert end is None or end > start
    for row in registers[-1]:
        if row["贫困状态"] in {"未脱贫", "返贫"} and row["户类型"] != "一般农户":
            key = (station_of_village[row["村代码"]], row["户编号"])
            assert any(start <= latest and (end is None or end >= latest) for start, end in claims[key]), key
    ended = [claim for spans in claims.values() for claim in spans if claim[1] is not None]
    assert ended, "some claims end when a household exited"


def test_village_collectives_hold_at_least_twenty_kw(assets, shares):
    collective = defaultdict(int)
    for row in shares:
        if row["项目编号"].startswith("PV-") and row["持有人类型"] == "村集体":
            collective[(row["项目编号"], row["持有人编号"])] += units_e4(row["份额"])
    for station in assets["stations"]:
        for code in station["village_codes"]:
            assert collective[(station["asset_id"], code)] >= 20 * 10_000


def test_station_capacity_covers_its_claims_on_every_day_a_claim_starts(assets, shares):
    for station in assets["stations"]:
        rows = [row for row in shares if row["项目编号"] == station["asset_id"]]
        for when in {day(row["起始日期"]) for row in rows}:
            active = sum(
                units_e4(row["份额"])
                for row in rows
                if day(row["起始日期"]) <= when and (not row["终止日期"] or day(row["终止日期"]) >= when)
            )
            assert active <= int(station["capacity_kw"]) * 10_000


def test_cooperative_shares_add_up_and_split_thirty_seventy(assets, shares):
    for cooperative in assets["cooperatives"]:
        rows = [row for row in shares if row["项目编号"] == cooperative["asset_id"]]
        total = sum(units_e4(row["份额"]) for row in rows)
        assert total == int(cooperative["share_count"]) * 10_000
        households = [row for row in rows if row["持有人类型"] == "农户"]
        household_total = sum(units_e4(row["份额"]) for row in households)
        # Each household's share is rounded down to 4 decimals; the collective takes the rest.
        assert 0 <= 7 * total // 10 - household_total <= len(households)
        principal = sum(Decimal(row["本金"]) for row in rows)
        assert principal == Decimal(cooperative["principal_yuan"])
        for row in rows:
            assert Decimal(row["本金"]) == Decimal(row["份额"]) * 1000
            assert re.fullmatch(r"\d+(\.\d{1,4})?", row["份额"])
        fractional = [row for row in households if "." in row["份额"]]
        assert fractional, "拨改股 shares are fractional"


def test_settlement_amounts_are_kwh_times_price_rounded_to_the_fen(clean_county, assets):
    header, rows = read_csv_rows(clean_county.settlements_path)
    stations = {station["asset_id"] for station in assets["stations"]}
    periods = defaultdict(set)
    for row in rows:
        assert row["电站编号"] in stations
        kwh = int(row["上网电量"])
        price = Decimal("0.3545") if row["收入类型"] == "标杆电价" else Decimal("0.42")
        expected = (kwh * price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert Decimal(row["结算金额"]) == expected
        assert re.fullmatch(r"\d+\.\d\d", row["结算金额"])
        periods[row["收入类型"]].add(row["所属期"])
        if row["到账日期"]:
            received = dt.date.fromisoformat(row["到账日期"])
            assert received <= dt.date(2026, 10, 31)
            if row["收入类型"] == "标杆电价":
                year, month = map(int, row["所属期"].split("-"))
                assert (
                    dt.date(year, month, 28)
                    < received
                    < dt.date(year + month // 12, month % 12 + 1, 28) + dt.timedelta(days=20)
                )
            else:
                year, quarter = int(row["所属期"][:4]), int(row["所属期"][-1])
                quarter_end = dt.date(year + quarter // 4, quarter * 3 % 12 + 1, 1) - dt.timedelta(days=1)
                assert received >= quarter_end.replace(year=quarter_end.year + 1)
    assert periods["标杆电价"] == {f"2026-{month:02d}" for month in range(1, 11)}
    assert periods["国家补贴"] == {f"2025Q{quarter}" for quarter in range(1, 5)}
    assert len(rows) == len(stations) * 14


def test_subsidy_sheets_name_living_registered_people(clean_county, registers):
    alive = {row["证件号码"]: row["姓名"] for row in registers[-1] if not row["死亡日期"]}
    rangers = read_csv_rows(clean_county.forest_rangers_path)[1]
    jobs = read_csv_rows(clean_county.public_welfare_jobs_path)[1]
    bills = read_csv_rows(clean_county.hospital_bills_path)[1]
    assert rangers and jobs and bills
    assert not {row["证件号码"] for row in rangers} & {row["证件号码"] for row in jobs}
    for row in rangers + jobs:
        assert alive[row["证件号码"]] == row["姓名"]
        assert 1 <= int(row["出勤天数"]) <= 31
        assert Decimal(row["日工资标准"]) > 0
    for row in bills:
        assert alive[row["证件号码"]] == row["姓名"]
        assert Decimal(row["个人自付金额"]) == Decimal(row["医疗总费用"]) - Decimal(row["医保报销金额"])
        assert Decimal(row["医保报销金额"]) > 0 and Decimal(row["个人自付金额"]) > 0
        assert dt.date.fromisoformat(row["出院日期"]).strftime("%Y-%m") == "2026-10"
