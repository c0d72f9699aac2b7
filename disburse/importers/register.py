"""Household register — 建档立卡人员信息 (FORMATS.md section 1), one row per person.

``parse_register(path, today=...)`` reads the file, types every field and runs the register's
checks, all vectorised over the whole frame (no per-row model), so a province's million-row
export validates in seconds. The frame has the columns of docs/contracts.md.
"""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pandas as pd

from disburse.foundation.errors import ImportProblem
from disburse.foundation.i18n import tr
from disburse.importers.common import (
    CheckContext,
    ImportContext,
    ParsedFile,
    later_than,
    object_column,
    run_checks,
    typed_columns,
)
from disburse.importers.fields import (
    ACCOUNT_NUMBER,
    FREE_IDENTIFIER,
    RESIDENT_ID,
    VILLAGE_CODE,
    luhn_valid,
    parse_dates,
    parse_enum,
    parse_identifiers,
    parse_text,
    resident_id_checks,
)
from disburse.importers.reading import ColumnSpec, TableSpec, read_table

HEAD_OF_HOUSEHOLD = "户主"
RELATIONS = (
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
)
SCHOOL_STAGES = ("学前教育", "小学", "初中", "普通高中", "中职", "高职", "本科及以上")
HEALTH_STATES = ("健康", "长期慢性病", "患有大病", "残疾")
HOUSEHOLD_TYPES = {
    "一般贫困户": "一般贫困户",
    "低保贫困户": "低保贫困户",
    "特困供养贫困户": "特困供养贫困户",
    "一般农户": "一般农户",
    # Older exports (贫困户属性) write these for the first two types.
    "扶贫户": "一般贫困户",
    "扶贫低保户": "低保贫困户",
}
POVERTY_STATES = ("未脱贫", "已脱贫", "返贫", "监测对象")
SEXES = ("男", "女")
BOARDING = {"是": True, "否": False}

REGISTER_SPEC = TableSpec(
    "建档立卡人员信息",
    (
        ColumnSpec("县", "county", ("县(市、区)",)),
        ColumnSpec("乡镇", "town", ("镇(乡)", "乡(镇)")),
        ColumnSpec("行政村", "village"),
        ColumnSpec("村代码", "village_code"),
        ColumnSpec("村民小组", "village_group", required=False),
        ColumnSpec("户编号", "household_id"),
        ColumnSpec("人编号", "person_id", required=False),
        ColumnSpec("姓名", "name"),
        ColumnSpec("证件号码", "id_number", ("公民身份号码", "身份证号")),
        ColumnSpec("与户主关系", "relation", ("户主关系",)),
        ColumnSpec("性别", "sex", required=False),
        ColumnSpec("在校生状况", "school_stage", ("在校学生",), required=False),
        ColumnSpec("是否寄宿", "boarding", required=False),
        ColumnSpec("健康状况", "health", required=False),
        ColumnSpec("户类型", "household_type", ("贫困户属性",)),
        ColumnSpec("贫困状态", "poverty_status"),
        ColumnSpec("识别日期", "enrolled_on"),
        ColumnSpec("脱贫日期", "exited_on", required=False),
        ColumnSpec("死亡日期", "died_on", required=False),
        # Required in the header: every household is paid on its head's "one card".
        ColumnSpec("开户银行", "bank_name"),
        ColumnSpec("银行账号", "account_no"),
        # A member's own card for person-level benefits: most often the 社会保障卡 (its financial
        # account), as the one-card platforms name it. Optional: registers without it import as before.
        ColumnSpec("个人银行账号", "person_account_no", ("社保卡号", "社会保障卡号", "社保卡账号"), required=False),
        # The bank of that card (a bank file such as ABC's names the payee's bank); optional too.
        ColumnSpec("个人开户银行", "person_bank_name", ("社保卡开户银行", "社保卡银行"), required=False),
        ColumnSpec("联系电话", "phone", required=False),
    ),
)

REGISTER_COLUMNS = (
    "county",
    "town",
    "village",
    "village_code",
    "village_group",
    "household_id",
    "person_number",
    "name",
    "id_number",
    "relation",
    "sex",
    "birth_date",
    "school_stage",
    "boarding",
    "health",
    "household_type",
    "poverty_status",
    "enrolled_on",
    "exited_on",
    "died_on",
    "bank_name",
    "account_no",
    "person_account_no",
    "person_bank_name",
    "phone",
    "source_row",
)


def register_fields(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """Type every cell: identifiers as text, enumerations checked, dates as datetime64[s]."""
    typed, problems, put = typed_columns(frame)

    for alias, required in (
        ("county", True),
        ("town", True),
        ("village", True),
        ("name", True),
        ("village_group", False),
        ("bank_name", False),
        ("person_bank_name", False),
        ("phone", False),
    ):
        put(
            alias, parse_text(frame[alias], context.source(frame, alias), required=required, what=context.header(alias))
        )
    put("village_code", parse_identifiers(frame["village_code"], context.source(frame, "village_code"), VILLAGE_CODE))
    put(
        "household_id", parse_identifiers(frame["household_id"], context.source(frame, "household_id"), FREE_IDENTIFIER)
    )
    put(
        "person_number",
        parse_identifiers(frame["person_id"], context.source(frame, "person_id"), FREE_IDENTIFIER, required=False),
    )
    put("id_number", parse_identifiers(frame["id_number"], context.source(frame, "id_number"), RESIDENT_ID))
    for alias in ("account_no", "person_account_no"):
        put(alias, parse_identifiers(frame[alias], context.source(frame, alias), ACCOUNT_NUMBER, required=False))
    enumerations = (
        ("relation", {value: value for value in RELATIONS}, True, None),
        ("sex", {value: value for value in SEXES}, False, None),
        ("school_stage", {value: value for value in SCHOOL_STAGES}, False, None),
        ("boarding", BOARDING, False, False),
        ("health", {value: value for value in HEALTH_STATES}, False, None),
        ("household_type", HOUSEHOLD_TYPES, True, None),
        ("poverty_status", {value: value for value in POVERTY_STATES}, True, None),
    )
    for alias, mapping, required, blank in enumerations:
        put(
            alias,
            parse_enum(
                frame[alias],
                context.source(frame, alias),
                mapping,
                required=required,
                what=context.header(alias),
                blank=blank,
            ),
        )
    typed["boarding"] = typed["boarding"].astype(bool)
    for alias, required in (("enrolled_on", True), ("exited_on", False), ("died_on", False)):
        put(
            alias,
            parse_dates(frame[alias], context.source(frame, alias), required=required, what=context.header(alias)),
        )
    return typed, problems


def check_resident_ids(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """Check character and birth date of every resident ID; derive ``birth_date``; check sex.

    A blank 性别 is filled from the ID (odd sequence number = 男), which encodes it.
    """
    ids = frame["id_number"].to_numpy(dtype=object)
    bad_check, births, male = resident_id_checks(ids)
    present = np.array([value is not None for value in ids], dtype=bool)
    problems = context.problems(
        frame,
        bad_check,
        "id_number",
        ids,
        tr("resident ID check character does not match (GB 11643); a typing mistake?"),
    )
    bad_birth = present & ~bad_check & np.isnat(births)
    problems += context.problems(
        frame, bad_birth, "id_number", ids, tr("resident ID birth date (characters 7-14) is not a calendar date")
    )
    valid = present & ~bad_check & ~bad_birth
    frame = frame.copy()
    frame["birth_date"] = np.where(valid, births, np.datetime64("NaT")).astype("datetime64[s]")
    sex_from_id = np.where(male, "男", "女").astype(object)
    sex = frame["sex"].to_numpy(dtype=object)
    disagrees = valid & (sex != None) & (sex != sex_from_id)  # noqa: E711 - elementwise None test
    problems += context.problems(
        frame, disagrees, "sex", sex, tr("sex does not agree with the resident ID (17th digit odd = 男, even = 女)")
    )
    frame["sex"] = object_column(np.where((sex == None) & valid, sex_from_id, sex))  # noqa: E711
    return frame, problems


def check_heads(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """Exactly one 户主 per household."""
    problems: list[ImportProblem] = []
    known = frame["household_id"].notna().to_numpy()
    is_head = (frame["relation"] == HEAD_OF_HOUSEHOLD).to_numpy() & known
    heads_per_household = pd.Series(is_head).groupby(frame["household_id"].to_numpy()).transform("sum").to_numpy()
    first_of_household = known & ~frame["household_id"].duplicated().to_numpy()
    households = frame["household_id"].to_numpy(dtype=object)
    problems += context.problems(
        frame,
        first_of_household & (heads_per_household == 0),
        "relation",
        households,
        tr("household has no {head} row (exactly one is required)", head=HEAD_OF_HOUSEHOLD),
    )
    extra_heads = is_head & (pd.Series(is_head).groupby(households).cumsum().to_numpy() > 1)
    if extra_heads.any():
        first_head_row = frame.loc[is_head].groupby("household_id")["source_row"].first()
        indices = np.flatnonzero(extra_heads)
        reasons = [
            tr(
                "household {household} has a second {head} (the first is on row {row})",
                household=households[index],
                head=HEAD_OF_HOUSEHOLD,
                row=first_head_row[households[index]],
            )
            for index in indices
        ]
        problems += context.problems_each(frame, indices, "relation", [HEAD_OF_HOUSEHOLD] * len(indices), reasons)
    return frame, problems


def check_duplicate_people(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """No resident ID twice; in particular nobody in two households."""
    ids = frame["id_number"]
    repeated = (ids.duplicated(keep="first") & ids.notna()).to_numpy()
    problems: list[ImportProblem] = []
    if not repeated.any():
        return frame, problems
    involved = frame.loc[ids.isin(ids[repeated]), ["id_number", "household_id", "source_row"]]
    first_seen = involved.groupby("id_number").first()
    indices = np.flatnonzero(repeated)
    reasons = []
    for index in indices:
        id_number = frame["id_number"].iat[index]
        first_household, first_row = first_seen.loc[id_number, "household_id"], first_seen.loc[id_number, "source_row"]
        household = frame["household_id"].iat[index]
        if household != first_household:
            reasons.append(
                tr(
                    "the same person is in two households: {first} (row {row}) and {household}",
                    first=first_household,
                    row=first_row,
                    household=household,
                )
            )
        else:
            reasons.append(
                tr(
                    "resident ID appears twice in household {household} (first on row {row})",
                    household=household,
                    row=first_row,
                )
            )
    problems += context.problems_each(frame, indices, "id_number", ids.to_numpy(dtype=object)[indices], reasons)
    return frame, problems


def check_dates(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """No death before birth or after today; no exit before enrolment; no enrolment after today."""
    today = context.options.today_or_now()
    born = frame["birth_date"].to_numpy(dtype="datetime64[s]")
    died = frame["died_on"].to_numpy(dtype="datetime64[s]")
    enrolled = frame["enrolled_on"].to_numpy(dtype="datetime64[s]")
    exited = frame["exited_on"].to_numpy(dtype="datetime64[s]")
    problems = context.problems(
        frame,
        ~np.isnat(died) & ~np.isnat(born) & (died < born),
        "died_on",
        died,
        tr("date of death is before the birth date in the resident ID"),
    )
    problems += context.problems(
        frame,
        later_than(died, today),
        "died_on",
        died,
        tr("date of death is in the future (today is {today})", today=today.isoformat()),
    )
    problems += context.problems(
        frame,
        ~np.isnat(exited) & ~np.isnat(enrolled) & (exited < enrolled),
        "exited_on",
        exited,
        tr("exit date is before the enrolment date (识别日期)"),
    )
    problems += context.problems(
        frame,
        later_than(enrolled, today),
        "enrolled_on",
        enrolled,
        tr("enrolment date is in the future (today is {today})", today=today.isoformat()),
    )
    problems += context.problems(
        frame,
        later_than(exited, today),
        "exited_on",
        exited,
        tr("exit date is in the future (today is {today})", today=today.isoformat()),
    )
    return frame, problems


def check_head_bank_accounts(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """开户银行 and 银行账号 on every 户主 row (the household's "one card"); Luhn failures warn."""
    is_head = (frame["relation"] == HEAD_OF_HOUSEHOLD).to_numpy()
    problems: list[ImportProblem] = []
    for alias in ("bank_name", "account_no"):
        blank = frame[alias].isna().to_numpy()
        problems += context.problems(
            frame,
            is_head & blank,
            alias,
            frame[alias].to_numpy(dtype=object),
            tr("{column} is required on the {head} row", column=context.header(alias), head=HEAD_OF_HOUSEHOLD),
        )
    for alias in ("account_no", "person_account_no"):
        numbers = frame[alias].to_numpy(dtype=object)
        lengths = frame[alias].str.len().to_numpy(dtype=float, na_value=np.nan)
        card_shaped = (lengths >= 16) & (lengths <= 19)
        problems += context.problems(
            frame,
            card_shaped & ~luhn_valid(numbers),
            alias,
            numbers,
            tr("bank card Luhn check digit does not match (a passbook account?)"),
            "warning",
        )
        other_length = ~np.isnan(lengths) & ~card_shaped
        problems += context.problems(
            frame, other_length, alias, numbers, tr("not a 16-19 digit card number (a passbook account?)"), "warning"
        )
    return frame, problems


def check_household_villages(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """All members of a household name the same county, town, village and village code."""
    problems: list[ImportProblem] = []
    grouped = frame.groupby("household_id", sort=False, dropna=True)
    for alias in ("village_code", "village", "town", "county"):
        first = grouped[alias].transform("first").to_numpy(dtype=object)
        values = frame[alias].to_numpy(dtype=object)
        differs = frame["household_id"].notna().to_numpy() & (values != None) & (first != None) & (values != first)  # noqa: E711
        indices = np.flatnonzero(differs)
        reasons = [
            tr(
                "household {household} also has members in {village}; a household lives in one village",
                household=frame["household_id"].iat[index],
                village=first[index],
            )
            for index in indices
        ]
        problems += context.problems_each(frame, indices, alias, values[indices], reasons)
    return frame, problems


REGISTER_CHECKS = (
    register_fields,
    check_resident_ids,
    check_heads,
    check_duplicate_people,
    check_dates,
    check_head_bank_accounts,
    check_household_villages,
)


def parse_register(path: str | os.PathLike[str], *, today: dt.date | None = None) -> ParsedFile:
    """Read and check a household register file (.csv, .xlsx or .xls).

    ``today`` bounds death, enrolment and exit dates (None: the real today). Returns every row
    (invalid values as None/NaT) and every problem; the file is refused when any problem is an
    error (``ParsedFile.refused``).
    """
    raw = read_table(path, REGISTER_SPEC)
    return run_checks(raw, REGISTER_SPEC, REGISTER_CHECKS, REGISTER_COLUMNS, ImportContext(today=today))
