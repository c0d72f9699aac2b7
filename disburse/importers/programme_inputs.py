"""Input lists of a programme run: attendance rosters (公益岗位, 生态护林员), hospital bills
(医疗费用) and house-repair applications (危房改造). Same reading layer, same problems-as-data.

Roster:   证件号码, 姓名, 出勤天数, 日工资标准 (yuan, optional when the rule sets the rate)
Bills:    证件号码, 姓名, 医疗总费用, 医保报销金额, 个人自付金额, 出院日期
Repairs:  户编号, 改造类型 (重建 / 修缮)
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from disburse.foundation.errors import ImportProblem
from disburse.foundation.i18n import tr
from disburse.importers.common import CheckContext, ImportContext, ParsedFile, run_checks, typed_columns
from disburse.importers.fields import (
    FREE_IDENTIFIER,
    RESIDENT_ID,
    parse_amounts_fen,
    parse_dates,
    parse_enum,
    parse_identifiers,
    parse_integers,
    parse_text,
)
from disburse.importers.reading import ColumnSpec, TableSpec, read_table

DAYS_IN_A_MONTH_MAX = 31

ROSTER_SPEC = TableSpec(
    "出勤表",
    (
        ColumnSpec("证件号码", "id_number", ("身份证号", "公民身份号码")),
        ColumnSpec("姓名", "name"),
        ColumnSpec("出勤天数", "days", ("工作天数", "在岗天数")),
        ColumnSpec("日工资标准", "daily_rate", ("日工资",), required=False),
    ),
)
ROSTER_COLUMNS = ("id_number", "name", "days_worked", "daily_rate_fen", "source_row")

BILLS_SPEC = TableSpec(
    "医疗费用",
    (
        ColumnSpec("证件号码", "id_number", ("身份证号", "公民身份号码")),
        ColumnSpec("姓名", "name"),
        ColumnSpec("医疗总费用", "total_cost", ("总费用",)),
        ColumnSpec("医保报销金额", "insurance_paid", ("报销金额",)),
        ColumnSpec("个人自付金额", "own_payment", ("自付金额",)),
        ColumnSpec("出院日期", "discharged_on", required=False),
    ),
)
BILLS_COLUMNS = (
    "id_number",
    "name",
    "total_cost_fen",
    "insurance_paid_fen",
    "own_payment_fen",
    "discharged_on",
    "source_row",
)

REPAIRS_SPEC = TableSpec(
    "危房改造申请",
    (
        ColumnSpec("户编号", "household_id"),
        ColumnSpec("改造类型", "work_kind"),
    ),
)
REPAIRS_COLUMNS = ("household_id", "work_kind", "source_row")
WORK_KINDS = {"重建": "rebuild", "拆除重建": "rebuild", "修缮": "repair", "维修加固": "repair"}


def _typed(
    frame: pd.DataFrame, results: dict[str, tuple[np.ndarray, list[ImportProblem]]]
) -> tuple[pd.DataFrame, list[ImportProblem]]:
    typed, problems, put = typed_columns(frame)
    for name, result in results.items():
        put(name, result)
    return typed, problems


def roster_fields(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """A resident ID, a name, whole days between 0 and 31, a daily rate in yuan (not negative) when given."""
    typed, problems = _typed(
        frame,
        {
            "id_number": parse_identifiers(frame["id_number"], context.source(frame, "id_number"), RESIDENT_ID),
            "name": parse_text(frame["name"], context.source(frame, "name"), what=context.header("name")),
            "days_worked": parse_integers(
                frame["days"], context.source(frame, "days"), minimum=0, what=context.header("days")
            ),
            "daily_rate_fen": parse_amounts_fen(
                frame["daily_rate"],
                context.source(frame, "daily_rate"),
                required=False,
                what=context.header("daily_rate"),
            ),
        },
    )
    days = typed["days_worked"].to_numpy(dtype=np.int64)
    problems += context.problems(
        typed,
        days > DAYS_IN_A_MONTH_MAX,
        "days",
        days,
        tr("more than {days} days in a month", days=DAYS_IN_A_MONTH_MAX),
    )
    # A negative rate would make a wage pool of less than nothing (a run owing the county).
    rates = typed["daily_rate_fen"].to_numpy(dtype=np.int64)
    problems += context.problems(typed, rates < 0, "daily_rate", rates, tr("a daily rate cannot be negative"))
    return typed, problems


def bills_fields(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """Amounts in fen; own payment equals total minus insurance; nothing negative."""
    typed, problems = _typed(
        frame,
        {
            "id_number": parse_identifiers(frame["id_number"], context.source(frame, "id_number"), RESIDENT_ID),
            "name": parse_text(frame["name"], context.source(frame, "name"), what=context.header("name")),
            "total_cost_fen": parse_amounts_fen(
                frame["total_cost"], context.source(frame, "total_cost"), what=context.header("total_cost")
            ),
            "insurance_paid_fen": parse_amounts_fen(
                frame["insurance_paid"], context.source(frame, "insurance_paid"), what=context.header("insurance_paid")
            ),
            "own_payment_fen": parse_amounts_fen(
                frame["own_payment"], context.source(frame, "own_payment"), what=context.header("own_payment")
            ),
            "discharged_on": parse_dates(
                frame["discharged_on"], context.source(frame, "discharged_on"), what=context.header("discharged_on")
            ),
        },
    )
    total = typed["total_cost_fen"].to_numpy(dtype=np.int64)
    insurance = typed["insurance_paid_fen"].to_numpy(dtype=np.int64)
    own = typed["own_payment_fen"].to_numpy(dtype=np.int64)
    problems += context.problems(
        typed, (total < 0) | (insurance < 0) | (own < 0), "total_cost", total, tr("amounts cannot be negative")
    )
    problems += context.problems(
        typed, own != total - insurance, "own_payment", own, tr("个人自付金额 must equal 医疗总费用 minus 医保报销金额")
    )
    return typed, problems


def repairs_fields(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    return _typed(
        frame,
        {
            "household_id": parse_identifiers(
                frame["household_id"], context.source(frame, "household_id"), FREE_IDENTIFIER
            ),
            "work_kind": parse_enum(
                frame["work_kind"], context.source(frame, "work_kind"), WORK_KINDS, what=context.header("work_kind")
            ),
        },
    )


def parse_roster(path: str | os.PathLike[str]) -> ParsedFile:
    """An attendance roster: id_number, name, days_worked, daily_rate_fen (0 when blank)."""
    return run_checks(
        read_table(path, ROSTER_SPEC),
        ROSTER_SPEC,
        (roster_fields,),
        ROSTER_COLUMNS,
        ImportContext(),
        rows_required=False,
    )


def parse_hospital_bills(path: str | os.PathLike[str]) -> ParsedFile:
    """Hospital bills: id_number, name, total_cost_fen, insurance_paid_fen, own_payment_fen, discharged_on."""
    return run_checks(
        read_table(path, BILLS_SPEC), BILLS_SPEC, (bills_fields,), BILLS_COLUMNS, ImportContext(), rows_required=False
    )


def parse_repair_applications(path: str | os.PathLike[str]) -> ParsedFile:
    """House-repair applications: household_id, work_kind ("rebuild" | "repair")."""
    return run_checks(
        read_table(path, REPAIRS_SPEC),
        REPAIRS_SPEC,
        (repairs_fields,),
        REPAIRS_COLUMNS,
        ImportContext(),
        rows_required=False,
    )
