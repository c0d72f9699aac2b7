"""The household register snapshot as a table in the 建档立卡 layout (FORMATS.md section 1)."""

from __future__ import annotations

import numpy as np

from disburse.dev.generator import vocabulary as words
from disburse.dev.generator.history import History, Snapshot
from disburse.dev.generator.model import Column, Table
from disburse.dev.generator.numbers import date_texts
from disburse.dev.generator.population import Geography, Population

# Rows are ordered by village, household serial and the member's slot; slots stay below this.
SLOTS_PER_HOUSEHOLD_MAX = 128

# FORMATS.md section 1, in its order: Chinese header, English alias, kind of content.
REGISTER_COLUMNS = (
    ("县", "county", "text"),
    ("乡镇", "town", "text"),
    ("行政村", "village", "text"),
    ("村代码", "village_code", "identifier"),
    ("户编号", "household_id", "identifier"),
    ("人编号", "person_id", "identifier"),
    ("姓名", "name", "text"),
    ("证件号码", "id_number", "identifier"),
    ("与户主关系", "relation", "text"),
    ("性别", "sex", "text"),
    ("在校生状况", "school_stage", "text"),
    ("是否寄宿", "boarding", "text"),
    ("健康状况", "health", "text"),
    ("户类型", "household_type", "text"),
    ("贫困状态", "poverty_status", "text"),
    ("识别日期", "enrolled_on", "date"),
    ("脱贫日期", "exited_on", "date"),
    ("死亡日期", "died_on", "date"),
    ("开户银行", "bank_name", "text"),
    ("银行账号", "account_no", "identifier"),
    ("个人银行账号", "person_account_no", "identifier"),
    ("联系电话", "phone", "identifier"),
)


def register_rows(history: History, snapshot: Snapshot) -> np.ndarray:
    """Indices of the people in ``snapshot``, in the order the register lists them."""
    in_register = np.flatnonzero(snapshot.household_present[snapshot.person_household])
    household = snapshot.person_household[in_register]
    assert (snapshot.person_slot[in_register] < SLOTS_PER_HOUSEHOLD_MAX).all()
    key = (
        history.household_village[household].astype(np.int64) * 10_000 + snapshot.household_serial[household]
    ) * SLOTS_PER_HOUSEHOLD_MAX + snapshot.person_slot[in_register]
    return in_register[np.argsort(key, kind="stable")]


def register_table(geography: Geography, population: Population, history: History, snapshot: Snapshot) -> Table:
    """One row per person of the households in the register on ``snapshot.on``."""
    people = register_rows(history, snapshot)
    household = snapshot.person_household[people]
    village = history.household_village[household]
    household_ids = history.household_ids(geography, snapshot.household_serial)
    is_head = snapshot.person_relation[people] == words.RELATION_HEAD
    values = {
        "县": np.full(len(people), geography.county_name),
        "乡镇": geography.town_names[geography.village_towns[village]],
        "行政村": geography.village_names[village],
        "村代码": geography.village_codes[village],
        "户编号": household_ids[household],
        "人编号": population.person_number[people],
        "姓名": population.person_name[people],
        "证件号码": population.person_id_number[people],
        "与户主关系": np.array(words.RELATIONS)[snapshot.person_relation[people]],
        "性别": np.array(words.SEXES)[population.person_sex[people]],
        "在校生状况": np.array(words.SCHOOL_STAGES)[population.person_school[people]],
        "是否寄宿": np.array(["", "是", "否"])[population.person_boarding[people]],
        "健康状况": np.array(words.HEALTH_STATES)[population.person_health[people]],
        "户类型": np.array(words.HOUSEHOLD_TYPES)[history.household_type[household]],
        "贫困状态": np.array(words.POVERTY_STATUSES)[snapshot.household_status[household]],
        "识别日期": date_texts(history.household_enrolled[household]),
        "脱贫日期": date_texts(snapshot.household_exited[household]),
        "死亡日期": date_texts(snapshot.person_died[people]),
        "开户银行": np.where(is_head, np.array(words.BANK_NAMES)[snapshot.household_bank[household]], ""),
        "银行账号": np.where(is_head, snapshot.household_account[household], ""),
        "个人银行账号": population.person_account[people],
        "联系电话": population.person_phone[people],
    }
    columns = tuple(Column(header, alias, kind, values[header]) for header, alias, kind in REGISTER_COLUMNS)
    return Table(title=f"{geography.county_name}建档立卡人员信息（{snapshot.on.isoformat()}）", columns=columns)


class RegisterCsvWriter:
    """The clean register CSV, written fast: the same bytes as ``csv_write(register_table(…))``.

    A line is assembled from pieces that are built once: the person's own columns (the same in
    every snapshot) and the household's columns (once per household, not per member), so a
    million-person snapshot takes one formatted string per row instead of twenty-two cells.
    No value in a register contains a comma, quote or line break, so no cell needs quoting.
    """

    def __init__(self, geography: Geography, population: Population, history: History) -> None:
        self.geography = geography
        self.history = history
        self.person_identity = np.array(
            [
                f"{number},{name},{id_number}"
                for number, name, id_number in zip(
                    population.person_number.tolist(),
                    population.person_name.tolist(),
                    population.person_id_number.tolist(),
                )
            ],
            dtype=object,
        )
        sexes = np.array(words.SEXES, dtype=object)[population.person_sex]
        stages = np.array(words.SCHOOL_STAGES, dtype=object)[population.person_school]
        boarding = np.array(["", "是", "否"], dtype=object)[population.person_boarding]
        health = np.array(words.HEALTH_STATES, dtype=object)[population.person_health]
        self.person_traits = np.array(
            [
                f"{a},{b},{c},{d}"
                for a, b, c, d in zip(sexes.tolist(), stages.tolist(), boarding.tolist(), health.tolist())
            ],
            dtype=object,
        )
        self.person_contacts = np.array(
            [f"{a},{b}" for a, b in zip(population.person_account.tolist(), population.person_phone.tolist())],
            dtype=object,
        )
        self.relations = np.array(words.RELATIONS, dtype=object)
        for text in (*words.RELATIONS, *words.BANK_NAMES, *words.HOUSEHOLD_TYPES, *words.POVERTY_STATUSES):
            assert "," not in text and '"' not in text

    def write(self, path, snapshot: Snapshot) -> int:
        """Write the snapshot to ``path``; return the number of data rows."""
        geography, history = self.geography, self.history
        people = register_rows(history, snapshot)
        household = snapshot.person_household[people]
        households = np.flatnonzero(snapshot.household_present)
        village = history.household_village[households]
        household_ids = history.household_ids(geography, snapshot.household_serial)[households]
        front = np.empty(len(snapshot.household_present), dtype=object)
        front[households] = [
            f"{geography.county_name},{town},{village_name},{code},{household_id}"
            for town, village_name, code, household_id in zip(
                geography.town_names[geography.village_towns[village]].tolist(),
                geography.village_names[village].tolist(),
                geography.village_codes[village].tolist(),
                household_ids.tolist(),
            )
        ]
        middle = np.empty(len(snapshot.household_present), dtype=object)
        middle[households] = [
            f"{kind},{status},{enrolled},{exited}"
            for kind, status, enrolled, exited in zip(
                np.array(words.HOUSEHOLD_TYPES)[history.household_type[households]].tolist(),
                np.array(words.POVERTY_STATUSES)[snapshot.household_status[households]].tolist(),
                date_texts(history.household_enrolled[households]).tolist(),
                date_texts(snapshot.household_exited[households]).tolist(),
            )
        ]
        bank = np.empty(len(snapshot.household_present), dtype=object)
        bank[households] = [
            f"{name},{account}"
            for name, account in zip(
                np.array(words.BANK_NAMES)[snapshot.household_bank[households]].tolist(),
                snapshot.household_account[households].tolist(),
            )
        ]
        relation = snapshot.person_relation[people]
        bank_of_row = np.where(relation == words.RELATION_HEAD, bank[household], ",")
        died = np.full(len(people), "", dtype=object)
        has_died = ~np.isnat(snapshot.person_died[people])
        died[has_died] = date_texts(snapshot.person_died[people][has_died]).tolist()

        header = ",".join(column[0] for column in REGISTER_COLUMNS)
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(header + "\n")
            for start in range(0, len(people), _LINES_PER_WRITE):
                rows = slice(start, start + _LINES_PER_WRITE)
                chosen = people[rows]
                lines = [
                    f"{a},{b},{c},{d},{e},{f},{g},{h}\n"
                    for a, b, c, d, e, f, g, h in zip(
                        front[household[rows]].tolist(),
                        self.person_identity[chosen].tolist(),
                        self.relations[relation[rows]].tolist(),
                        self.person_traits[chosen].tolist(),
                        middle[household[rows]].tolist(),
                        died[rows].tolist(),
                        bank_of_row[rows].tolist(),
                        self.person_contacts[chosen].tolist(),
                    )
                ]
                handle.write("".join(lines))
        return len(people)


# Lines are joined and written this many at a time to bound memory.
_LINES_PER_WRITE = 200_000
