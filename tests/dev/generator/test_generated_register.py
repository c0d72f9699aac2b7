"""The register snapshots: layout, identifiers, households and plausible people.

Check characters are recomputed here by hand-written code, not by the generator's helpers, so a
bug shared by both cannot hide."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from generated_county_reading import read_csv_rows

# FORMATS.md section 1, copied by hand.
REGISTER_HEADERS = [
    "县",
    "乡镇",
    "行政村",
    "村代码",
    "户编号",
    "人编号",
    "姓名",
    "证件号码",
    "与户主关系",
    "性别",
    "在校生状况",
    "是否寄宿",
    "健康状况",
    "户类型",
    "贫困状态",
    "识别日期",
    "脱贫日期",
    "死亡日期",
    "开户银行",
    "银行账号",
    "个人银行账号",
    "联系电话",
]
SHARE_HEADERS = ["项目编号", "持有人类型", "持有人编号", "份额", "本金", "起始日期", "终止日期"]
SETTLEMENT_HEADERS = ["电站编号", "所属期", "上网电量", "收入类型", "结算金额", "到账日期"]
FORMATS_PATH = Path("/work/shared/FORMATS.md")

RELATIONS = {
    "户主",
    "配偶",
    "之子",
    "之女",
    "之父",
    "之母",
    "之孙子",
    "之孙女",
    "之儿媳",
    "之女婿",
    "之兄弟姐妹",
    "其他",
}
MALE_RELATIONS = {"之子", "之父", "之孙子", "之女婿"}
FEMALE_RELATIONS = {"之女", "之母", "之孙女", "之儿媳"}


def id_check_character(first_seventeen: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = 0
    for digit, weight in zip(first_seventeen, weights):
        total += int(digit) * weight
    return "10X98765432"[total % 11]


def luhn_valid(number: str) -> bool:
    total = 0
    for position, character in enumerate(reversed(number)):
        digit = int(character)
        if position % 2 == 1:
            digit = digit * 2
            if digit > 9:
                digit = digit - 9
        total += digit
    return total % 10 == 0


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def test_hand_written_checks_agree_with_known_values():
    # GB 11643's published example and a textbook Luhn number keep the test helpers honest.
    assert id_check_character("11010519491231002") == "X"
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")


def test_headers_are_the_formats_section_names(clean_county):
    assert read_csv_rows(clean_county.register_paths[0])[0] == REGISTER_HEADERS
    assert read_csv_rows(clean_county.shares_path)[0] == SHARE_HEADERS
    assert read_csv_rows(clean_county.settlements_path)[0] == SETTLEMENT_HEADERS
    assert read_csv_rows(clean_county.forest_rangers_path)[0] == ["证件号码", "姓名", "出勤天数", "日工资标准"]
    assert read_csv_rows(clean_county.public_welfare_jobs_path)[0] == ["证件号码", "姓名", "出勤天数", "日工资标准"]
    assert read_csv_rows(clean_county.hospital_bills_path)[0] == [
        "证件号码",
        "姓名",
        "医疗总费用",
        "医保报销金额",
        "个人自付金额",
        "出院日期",
    ]


@pytest.mark.skipif(not FORMATS_PATH.exists(), reason="shared FORMATS.md not present")
def test_hand_copied_headers_match_formats_md():
    text = FORMATS_PATH.read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.MULTILINE)

    def headers(prefix: str) -> list[str]:
        section = next(part for part in sections if part.startswith(prefix))
        found = re.findall(r"^\| ([^|\s]+) \| [a-z_]+ \|", section, flags=re.MULTILINE)
        return [name for name in found if name != "column"]  # "column" heads the table

    assert headers("1.") == REGISTER_HEADERS
    assert headers("2.") == SHARE_HEADERS
    assert headers("3.") == SETTLEMENT_HEADERS


def test_file_format_is_clean_utf8_with_lf(clean_county):
    for path in clean_county.paths():
        data = path.read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        assert b"\r\n" not in data
        data.decode("utf-8")


def test_resident_ids_are_valid_unique_and_agree_with_sex(registers):
    for rows in registers:
        seen = set()
        for row in rows:
            value = row["证件号码"]
            assert re.fullmatch(r"\d{17}[\dX]", value), value
            assert value.startswith("611002")
            assert id_check_character(value[:17]) == value[17], value
            birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
            assert dt.date(1920, 1, 1) <= birth <= dt.date(2026, 8, 31)
            assert row["性别"] == ("男" if int(value[16]) % 2 else "女")
            assert value not in seen, f"{value} appears twice in one snapshot"
            seen.add(value)


def test_exactly_one_head_per_household_and_household_numbers(registers):
    for rows in registers:
        heads = Counter(row["户编号"] for row in rows if row["与户主关系"] == "户主")
        households = {row["户编号"] for row in rows}
        assert set(heads) == households
        assert set(heads.values()) == {1}
        for row in rows:
            assert re.fullmatch(r"\d{12}", row["村代码"])
            assert row["村代码"].startswith("611002")
            assert row["户编号"].startswith(row["村代码"]) and len(row["户编号"]) == 16
            assert row["县"] == "商州区"
            assert row["乡镇"].endswith("镇") and row["行政村"].endswith("村")


def test_household_sizes_and_relations_are_plausible(registers):
    rows = registers[0]
    sizes = Counter(row["户编号"] for row in rows)
    mean = sum(sizes.values()) / len(sizes)
    assert 2.9 <= mean <= 3.7
    assert max(sizes.values()) <= 7 and min(sizes.values()) >= 1
    by_household = defaultdict(list)
    for row in rows:
        by_household[row["户编号"]].append(row)
    snapshot = dt.date(2026, 8, 31)
    for members in by_household.values():
        head = next(row for row in members if row["与户主关系"] == "户主")
        head_age = age_on(
            dt.date(int(head["证件号码"][6:10]), int(head["证件号码"][10:12]), int(head["证件号码"][12:14])), snapshot
        )
        assert head_age >= 18
        assert head["开户银行"] and head["银行账号"]
        for row in members:
            assert row["与户主关系"] in RELATIONS
            if row["与户主关系"] != "户主":
                assert row["开户银行"] == "" and row["银行账号"] == ""
            if row["与户主关系"] in MALE_RELATIONS:
                assert row["性别"] == "男"
            if row["与户主关系"] in FEMALE_RELATIONS:
                assert row["性别"] == "女"
            if row["与户主关系"] == "配偶":
                assert row["性别"] != head["性别"]
            assert 2 <= len(row["姓名"]) <= 3
            # Blood relatives carry the head's surname.
            if row["与户主关系"] in {"之子", "之女", "之孙子", "之孙女", "之父"}:
                assert row["姓名"][0] == head["姓名"][0]
    types = Counter(members[0]["户类型"] for members in by_household.values())
    total = sum(types.values())
    assert types["一般贫困户"] / total > 0.5
    assert 0.15 < types["低保贫困户"] / total < 0.35
    assert 0 < types["特困供养贫困户"] / total < 0.12


def test_school_stage_follows_age(registers):
    snapshot = dt.date(2026, 8, 31)
    allowed = {
        range(0, 3): {""},
        range(3, 6): {"", "学前教育"},
        range(6, 12): {"小学"},
        range(12, 15): {"初中"},
        range(15, 18): {"", "普通高中", "中职"},
        range(18, 22): {"", "高职", "本科及以上"},
        range(22, 200): {""},
    }
    for row in registers[0]:
        value = row["证件号码"]
        age = age_on(dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14])), snapshot)
        stage = row["在校生状况"]
        assert any(age in ages and stage in stages for ages, stages in allowed.items()), (age, stage)
        assert row["是否寄宿"] == "" if stage == "" else row["是否寄宿"] in {"是", "否"}
        assert row["健康状况"] in {"健康", "长期慢性病", "患有大病", "残疾"}


def test_status_and_dates_agree(registers):
    for rows in registers:
        for row in rows:
            status, kind = row["贫困状态"], row["户类型"]
            assert (status == "监测对象") == (kind == "一般农户")
            enrolled = dt.date.fromisoformat(row["识别日期"])
            if kind != "一般农户" and enrolled < dt.date(2026, 1, 1):
                assert 2014 <= enrolled.year <= 2019
            if status in {"已脱贫", "返贫"}:
                assert dt.date.fromisoformat(row["脱贫日期"]) > enrolled
            if status in {"未脱贫", "监测对象"}:
                assert row["脱贫日期"] == ""


def test_bank_cards_mostly_luhn_with_a_few_passbooks(registers):
    accounts = [row["银行账号"] for row in registers[0] if row["与户主关系"] == "户主"]
    failing = [account for account in accounts if not luhn_valid(account)]
    assert all(account.isdigit() and len(account) == 19 for account in accounts)
    assert 0 < len(failing) <= 0.05 * len(accounts)
    own = [row["个人银行账号"] for row in registers[0] if row["个人银行账号"]]
    assert own and all(luhn_valid(account) for account in own)
    prefixes = {account[:6] for account in accounts if luhn_valid(account)}
    assert prefixes <= {"621449", "622848", "621799", "621700"}
    phones = [row["联系电话"] for row in registers[0] if row["联系电话"]]
    assert phones and all(re.fullmatch(r"1[35789]\d{9}", phone) for phone in phones)


def test_a_person_is_in_one_household_only(registers):
    for rows in registers:
        households = defaultdict(set)
        for row in rows:
            households[row["证件号码"]].add(row["户编号"])
        assert all(len(found) == 1 for found in households.values())
