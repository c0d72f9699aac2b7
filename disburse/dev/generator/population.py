"""The county's places, households and people, as they stand on the first snapshot date.

Everything is drawn in whole arrays. Households are indexed 0..n-1; the first ``households``
are registered on the first snapshot date, the rest are the households that enter the register
later (``generator.history`` decides when). People are indexed by position and point to their
household; within a household ``slot`` orders the rows (0 is the head).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from disburse.dev.generator import vocabulary as words
from disburse.dev.generator.model import HOUSEHOLD_SERIALS_PER_VILLAGE_MAX
from disburse.dev.generator.numbers import (
    card_numbers,
    passbook_numbers,
    phone_numbers,
    resident_ids,
    text_of_code_points,
    weighted_choice,
)

# Around 500 households per administrative village, as in the hill counties of 商洛.
HOUSEHOLDS_PER_VILLAGE_TARGET = 500
TOWNS_MIN, TOWNS_MAX = 8, 20
VILLAGES_PER_TOWN_MIN, VILLAGES_PER_TOWN_MAX = 10, 30
# Household sizes 1..7; the weights give a mean of about 3.3 people.
HOUSEHOLD_SIZE_WEIGHTS = (0.13, 0.21, 0.23, 0.21, 0.12, 0.06, 0.04)
# Share of one-card accounts that are old passbooks failing the Luhn check.
PASSBOOK_SHARE = 0.01
# Year weights of 建档立卡 registration: the big 2014 drive, then yearly adjustments to 2019.
ENROLMENT_YEARS = (2014, 2015, 2016, 2017, 2018, 2019)
ENROLMENT_YEAR_WEIGHTS = (0.55, 0.13, 0.10, 0.10, 0.07, 0.05)
# Households watched for falling back (监测对象) were identified from 2020 on.
MONITORING_YEARS = (2020, 2021, 2022, 2023, 2024, 2025)
# All registered households had exited by the end of 2020 under the national programme; later
# exits are the ones that happen between snapshots.
EXITS_LAST_DAY = np.datetime64("2020-12-31", "D")


@dataclass(frozen=True, slots=True)
class Geography:
    """Towns and villages of the county. Village arrays are indexed by village number."""

    county_name: str
    area_code: str
    town_names: np.ndarray
    town_codes: np.ndarray
    village_names: np.ndarray
    village_codes: np.ndarray
    village_towns: np.ndarray

    @property
    def village_count(self) -> int:
        """Number of administrative villages."""
        return len(self.village_codes)


@dataclass(frozen=True, slots=True)
class Population:
    """Households and people on the first snapshot date (plus households that enter later).

    Household arrays are indexed by household number; ``household_serial`` is 0 for households
    not yet numbered (they get their serial when they enter the register). Person arrays hold
    codes into the ``generator.vocabulary`` tuples where a column takes a fixed set of values.
    """

    registered_count: int
    household_village: np.ndarray
    household_serial: np.ndarray
    household_type: np.ndarray
    household_status: np.ndarray
    household_enrolled: np.ndarray
    household_exited: np.ndarray
    household_bank: np.ndarray
    household_account: np.ndarray
    household_size: np.ndarray
    person_household: np.ndarray
    person_slot: np.ndarray
    person_relation: np.ndarray
    person_sex: np.ndarray
    person_birth: np.ndarray
    person_name: np.ndarray
    person_id_number: np.ndarray
    person_number: np.ndarray
    person_school: np.ndarray
    person_boarding: np.ndarray
    person_health: np.ndarray
    person_account: np.ndarray
    person_phone: np.ndarray


def geography_generate(rng: np.random.Generator, households: int) -> Geography:
    """Towns (8-20) and villages (10-30 per town), more of both for a bigger county."""
    villages_wanted = max(1, households // HOUSEHOLDS_PER_VILLAGE_TARGET)
    town_count = int(np.clip(round((villages_wanted / 1.5) ** 0.5), TOWNS_MIN, TOWNS_MAX))
    per_town = int(np.clip(round(villages_wanted / town_count), VILLAGES_PER_TOWN_MIN, VILLAGES_PER_TOWN_MAX))
    village_counts = np.clip(
        per_town + rng.integers(-3, 4, size=town_count), VILLAGES_PER_TOWN_MIN, VILLAGES_PER_TOWN_MAX
    )
    town_names = np.array(words.TOWN_NAMES)[rng.permutation(len(words.TOWN_NAMES))[:town_count]]
    # Statistical township codes of towns (镇) are in the 100s, village committees in the 200s.
    town_codes = np.array([f"{100 + index + 1:03d}" for index in range(town_count)])

    village_names: list[str] = []
    village_codes: list[str] = []
    village_towns: list[int] = []
    first = words.VILLAGE_FIRST_CHARACTERS
    second = words.VILLAGE_SECOND_PARTS
    for town, count in enumerate(village_counts.tolist()):
        combinations = rng.choice(len(first) * len(second), size=count, replace=False)
        for index, combination in enumerate(combinations.tolist()):
            village_names.append(first[combination // len(second)] + second[combination % len(second)] + "村")
            village_codes.append(f"{words.COUNTY_AREA_CODE}{town_codes[town]}{200 + index + 1:03d}")
            village_towns.append(town)
    return Geography(
        county_name=words.COUNTY_NAME,
        area_code=words.COUNTY_AREA_CODE,
        town_names=town_names,
        town_codes=town_codes,
        village_names=np.array(village_names),
        village_codes=np.array(village_codes),
        village_towns=np.array(village_towns, dtype=np.int64),
    )


def _random_days(rng: np.random.Generator, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """A uniformly random day in [first, last] for each pair of datetime64[D] bounds."""
    span = (last - first).astype(np.int64)
    return first + (rng.random(len(first)) * (span + 1)).astype(np.int64).astype("timedelta64[D]")


def _year_starts(years: np.ndarray) -> np.ndarray:
    return (years - 1970).astype("datetime64[Y]").astype("datetime64[D]")


def population_generate(
    rng: np.random.Generator,
    geography: Geography,
    households: int,
    later_households: int,
    first_snapshot: dt.date,
) -> Population:
    """Draw ``households`` registered households and ``later_households`` that enter later."""
    total = households + later_households
    reference = np.datetime64(first_snapshot, "D")

    # Villages differ in size; registered households are numbered within their village in order.
    village_weights = rng.uniform(0.6, 1.4, size=geography.village_count)
    village = np.sort(weighted_choice(rng, tuple(village_weights), households))
    village = np.concatenate([village, weighted_choice(rng, tuple(village_weights), later_households)])
    first_of_village = np.searchsorted(village[:households], village[:households], side="left")
    serial = np.zeros(total, dtype=np.int64)
    serial[:households] = np.arange(households) - first_of_village + 1
    if households and serial.max() > HOUSEHOLD_SERIALS_PER_VILLAGE_MAX:
        raise ValueError("too many households for one village's 4-digit serial numbers")

    size = weighted_choice(rng, HOUSEHOLD_SIZE_WEIGHTS, total) + 1
    household_type = weighted_choice(rng, words.HOUSEHOLD_TYPE_WEIGHTS, total)
    monitored = household_type == words.HOUSEHOLD_TYPE_MONITORED
    status = np.where(
        monitored,
        words.STATUS_MONITORED,
        weighted_choice(rng, (0.30, 0.66, 0.04), total),
    )
    enrolment_year = np.where(
        monitored,
        rng.choice(np.array(MONITORING_YEARS), size=total),
        np.array(ENROLMENT_YEARS)[weighted_choice(rng, ENROLMENT_YEAR_WEIGHTS, total)],
    )
    year_start = _year_starts(enrolment_year)
    enrolled = _random_days(rng, year_start, _year_starts(enrolment_year + 1) - np.timedelta64(1, "D"))
    has_exited = (status == words.STATUS_EXITED) | (status == words.STATUS_RELAPSED)
    # An exit comes at least ten months after registration and by the end of 2020.
    exit_first = np.minimum(enrolled + np.timedelta64(300, "D"), EXITS_LAST_DAY)
    exited = np.where(
        has_exited,
        _random_days(rng, exit_first, np.full(total, EXITS_LAST_DAY)),
        np.datetime64("NaT", "D"),
    )

    bank = weighted_choice(rng, words.BANK_WEIGHTS, total)
    account = card_numbers(rng, words.BANK_CARD_PREFIXES, bank).astype("U24")
    passbook = rng.random(total) < PASSBOOK_SHARE
    account[passbook] = passbook_numbers(rng, int(passbook.sum()), words.PASSBOOK_PREFIX)
    bank[passbook] = 0

    people = _people_generate(rng, geography, size, reference)
    return Population(
        registered_count=households,
        household_village=village,
        household_serial=serial,
        household_type=household_type,
        household_status=status,
        household_enrolled=enrolled,
        household_exited=exited,
        household_bank=bank,
        household_account=account,
        household_size=size,
        **people,
    )


def _people_generate(
    rng: np.random.Generator, geography: Geography, size: np.ndarray, reference: np.datetime64
) -> dict[str, np.ndarray]:
    """Members of every household: relation, sex, age, name, ID, school, health, accounts."""
    household_count = len(size)
    count = int(size.sum())
    household = np.repeat(np.arange(household_count), size)
    starts = np.cumsum(size) - size
    slot = np.arange(count) - np.repeat(starts, size)

    # The draws happen in this order, each step in whole arrays; changing the order changes
    # every county a seed generates.
    relation, age_of_head = _relations_draw(rng, size, household, slot)
    is_male = _sexes_draw(rng, relation, household, household_count)
    age = _ages_draw(rng, relation, age_of_head)
    # A birth date such that the person is ``age`` whole years old on the reference date.
    birth = reference - (age * 365 + age // 4 + rng.integers(1, 365, size=count)).astype("timedelta64[D]")
    exact_age = _age_on(birth, reference)

    names = _names_generate(rng, household, relation, is_male)
    id_numbers = resident_ids(rng, geography.area_code, birth, is_male)
    person_number = np.char.add(geography.area_code, np.char.zfill((np.arange(count) + 1).astype("U11"), 11))

    school = _school_stages(rng, exact_age)
    boarding_chance = np.array([0.0, 0.0, 0.12, 0.55, 0.85, 0.75, 0.6, 0.6])[school]
    # 0 = not a pupil (blank), 1 = 是, 2 = 否.
    boarding = np.where(school == 0, 0, np.where(rng.random(count) < boarding_chance, 1, 2))
    health = np.where(
        exact_age >= 60,
        weighted_choice(rng, (0.64, 0.22, 0.06, 0.08), count),
        weighted_choice(rng, (0.92, 0.04, 0.015, 0.025), count),
    )
    person_account, phone = _cards_and_phones_draw(rng, relation, exact_age)

    return {
        "person_household": household,
        "person_slot": slot,
        "person_relation": relation,
        "person_sex": np.where(is_male, words.SEX_MALE, words.SEX_FEMALE),
        "person_birth": birth,
        "person_name": names,
        "person_id_number": id_numbers,
        "person_number": person_number,
        "person_school": school,
        "person_boarding": boarding,
        "person_health": health,
        "person_account": person_account,
        "person_phone": phone,
    }


def _relations_draw(
    rng: np.random.Generator, size: np.ndarray, household: np.ndarray, slot: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each person's relation to the head, and the head's age on every person's row."""
    household_count = len(size)
    count = int(size.sum())
    members = size[household]

    # Heads of rural households are mostly middle-aged or old; people living alone are older.
    head_age = np.clip(np.round(rng.normal(54, 12, household_count)) + 8 * (size == 1), 22, 90)
    head_age = head_age.astype(np.int64)
    age_of_head = head_age[household]
    old = age_of_head >= 58
    young = age_of_head < 40
    middle = ~old & ~young
    last = slot == members - 1
    draw = rng.random(count)
    boy = rng.random(count) < 0.52

    relation = np.full(count, words.RELATION_OTHER)
    child = np.where(boy, words.RELATION_SON, words.RELATION_DAUGHTER)
    grandchild = np.where(boy, words.RELATION_GRANDSON, words.RELATION_GRANDDAUGHTER)
    parent = np.where(boy, words.RELATION_FATHER, words.RELATION_MOTHER)
    relation = np.where(slot == 0, words.RELATION_HEAD, relation)
    spouse_chance = np.where(old, 0.80, np.where(middle, 0.88, 0.85))
    relation = np.where((slot == 1) & (draw < spouse_chance), words.RELATION_SPOUSE, relation)
    relation = np.where((slot == 1) & (draw >= spouse_chance), child, relation)
    # Old heads live with a married son, his wife and their children (three generations), which
    # is also what a household split (分户) later separates.
    later = slot >= 2
    relation = np.where(later & old & (slot == 2), words.RELATION_SON, relation)
    relation = np.where(
        later & old & (slot == 3),
        np.where(draw < 0.75, words.RELATION_DAUGHTER_IN_LAW, words.RELATION_DAUGHTER),
        relation,
    )
    relation = np.where(later & old & (slot >= 4), np.where(draw < 0.85, grandchild, child), relation)
    middle_choice = np.where(last & (draw < 0.10), parent, np.where(draw > 0.97, words.RELATION_SIBLING, child))
    relation = np.where(later & middle, middle_choice, relation)
    young_choice = np.where(last & (draw < 0.25), parent, np.where(draw > 0.98, words.RELATION_OTHER, child))
    relation = np.where(later & young, young_choice, relation)
    return relation, age_of_head


def _sexes_draw(
    rng: np.random.Generator, relation: np.ndarray, household: np.ndarray, household_count: int
) -> np.ndarray:
    """Whether each person is male: fixed by a gendered relation, else drawn (heads mostly men)."""
    count = len(relation)
    head_male = rng.random(household_count) < 0.82
    random_male = rng.random(count) < 0.5
    male_relations = np.array(
        [words.RELATION_SON, words.RELATION_FATHER, words.RELATION_GRANDSON, words.RELATION_SON_IN_LAW]
    )
    female_relations = np.array(
        [words.RELATION_DAUGHTER, words.RELATION_MOTHER, words.RELATION_GRANDDAUGHTER, words.RELATION_DAUGHTER_IN_LAW]
    )
    is_male = random_male.copy()
    is_male[np.isin(relation, male_relations)] = True
    is_male[np.isin(relation, female_relations)] = False
    is_male = np.where(relation == words.RELATION_HEAD, head_male[household], is_male)
    is_male = np.where(relation == words.RELATION_SPOUSE, ~head_male[household], is_male)
    return is_male


def _ages_draw(rng: np.random.Generator, relation: np.ndarray, age_of_head: np.ndarray) -> np.ndarray:
    """Each person's age in whole years, from the head's age and the generation the relation names."""
    count = len(relation)
    generation_gap = rng.integers(22, 37, size=count)
    age = np.select(
        [
            relation == words.RELATION_HEAD,
            relation == words.RELATION_SPOUSE,
            np.isin(
                relation,
                [
                    words.RELATION_SON,
                    words.RELATION_DAUGHTER,
                    words.RELATION_DAUGHTER_IN_LAW,
                    words.RELATION_SON_IN_LAW,
                ],
            ),
            np.isin(relation, [words.RELATION_GRANDSON, words.RELATION_GRANDDAUGHTER]),
            np.isin(relation, [words.RELATION_FATHER, words.RELATION_MOTHER]),
            relation == words.RELATION_SIBLING,
        ],
        [
            age_of_head,
            np.maximum(age_of_head + rng.integers(-5, 6, size=count), 20),
            age_of_head - generation_gap,
            age_of_head - rng.integers(44, 59, size=count),
            age_of_head + generation_gap - 2,
            age_of_head + rng.integers(-8, 9, size=count),
        ],
        default=rng.integers(5, 80, size=count),
    )
    return np.clip(age, 0, 99)


def _cards_and_phones_draw(
    rng: np.random.Generator, relation: np.ndarray, exact_age: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each person's own bank card and mobile number ("" for none): some adults, most heads."""
    count = len(relation)
    adult = exact_age >= 18
    has_own_card = adult & (rng.random(count) < 0.3)
    own_bank = weighted_choice(rng, words.BANK_WEIGHTS, count)
    own_cards = card_numbers(rng, words.BANK_CARD_PREFIXES, own_bank[has_own_card])
    person_account = np.full(count, "", dtype="U19")
    person_account[has_own_card] = own_cards
    has_phone = np.where(
        relation == words.RELATION_HEAD,
        rng.random(count) < 0.9,
        adult & (exact_age <= 65) & (rng.random(count) < 0.35),
    )
    phone = np.full(count, "", dtype="U11")
    phone[has_phone] = phone_numbers(rng, int(has_phone.sum()))
    return person_account, phone


def _calendar_parts(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month (1-12) and day of month of datetime64[D] values."""
    days = np.asarray(days, dtype="datetime64[D]")
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    months = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day_of_month = (days - days.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    return years, months, day_of_month


def _age_on(birth: np.ndarray, day: np.datetime64) -> np.ndarray:
    """Whole years between each birth date and ``day``."""
    birth_year, birth_month, birth_day = _calendar_parts(birth)
    day_year, day_month, day_day = (int(part[0]) for part in _calendar_parts(np.array([day])))
    before_birthday = (birth_month > day_month) | ((birth_month == day_month) & (birth_day > day_day))
    return day_year - birth_year - before_birthday.astype(np.int64)


def _school_stages(rng: np.random.Generator, age: np.ndarray) -> np.ndarray:
    """School stage codes (indices into ``vocabulary.SCHOOL_STAGES``) by age."""
    count = len(age)
    draw = rng.random(count)
    stage = np.zeros(count, dtype=np.int64)
    stage = np.where((age >= 3) & (age <= 5) & (draw < 0.85), 1, stage)
    stage = np.where((age >= 6) & (age <= 11), 2, stage)
    stage = np.where((age >= 12) & (age <= 14), 3, stage)
    stage = np.where((age >= 15) & (age <= 17), np.where(draw < 0.6, 4, np.where(draw < 0.9, 5, 0)), stage)
    stage = np.where((age >= 18) & (age <= 21), np.where(draw < 0.2, 6, np.where(draw < 0.4, 7, 0)), stage)
    return stage


def _names_generate(
    rng: np.random.Generator, household: np.ndarray, relation: np.ndarray, is_male: np.ndarray
) -> np.ndarray:
    """Chinese names: the head's surname for blood relatives, another surname for those who
    married in, and one or two given-name characters chosen by sex."""
    count = len(household)
    surname_codes = np.array([ord(character) for character in words.SURNAMES])
    surname_weights = 1.0 / np.arange(1, len(surname_codes) + 1) ** 0.8
    household_surname = weighted_choice(rng, tuple(surname_weights), int(household.max(initial=-1)) + 1)
    own_surname = weighted_choice(rng, tuple(surname_weights), count)
    married_in = np.isin(
        relation,
        [
            words.RELATION_SPOUSE,
            words.RELATION_DAUGHTER_IN_LAW,
            words.RELATION_SON_IN_LAW,
            words.RELATION_MOTHER,
            words.RELATION_OTHER,
        ],
    )
    surname = np.where(married_in, own_surname, household_surname[household])

    male_codes = np.array([ord(character) for character in words.GIVEN_CHARACTERS_MALE])
    female_codes = np.array([ord(character) for character in words.GIVEN_CHARACTERS_FEMALE])
    first = np.where(
        is_male,
        male_codes[rng.integers(0, len(male_codes), size=count)],
        female_codes[rng.integers(0, len(female_codes), size=count)],
    )
    second = np.where(
        is_male,
        male_codes[rng.integers(0, len(male_codes), size=count)],
        female_codes[rng.integers(0, len(female_codes), size=count)],
    )
    one_character = rng.random(count) < 0.3
    second = np.where(one_character, 0, second)
    code_points = np.stack([surname_codes[surname], first, second], axis=1)
    return text_of_code_points(code_points)
