"""Subsidy input sheets for the month of the last snapshot: forest rangers' and public-welfare
jobs' attendance, and in-county hospital bills. The people are living members of the last
register snapshot; a person holds at most one of the two jobs."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import numpy as np

from disburse.dev.generator.assets import yuan_text
from disburse.dev.generator.history import History
from disburse.dev.generator.model import Column, Table
from disburse.dev.generator.population import Population

# About one adult in a hundred is a forest ranger (生态护林员) and one in a hundred holds a
# public-welfare job; about three people in a thousand leave hospital in a month.
RANGER_SHARE = 0.01
PUBLIC_JOB_SHARE = 0.01
HOSPITAL_SHARE = 0.003
RANGER_DAILY_WAGE_YUAN = (30, 35, 40)
PUBLIC_JOB_DAILY_WAGE_YUAN = (20, 30, 50)
HOSPITAL_BILL_YUAN_MIN, HOSPITAL_BILL_YUAN_MAX = 300, 150_000
# Basic medical insurance reimburses between 55% and 85% of an in-county bill.
INSURANCE_RATE_BPS_RANGE = (5500, 8500)

# The lead fixed these layouts with Chinese headers only, so they have no English aliases (the
# messy writer leaves a header without an alias in Chinese).
ATTENDANCE_COLUMNS = (
    ("证件号码", "", "identifier"),
    ("姓名", "", "text"),
    ("出勤天数", "", "integer"),
    ("日工资标准", "", "amount"),
)
HOSPITAL_COLUMNS = (
    ("证件号码", "", "identifier"),
    ("姓名", "", "text"),
    ("医疗总费用", "", "amount"),
    ("医保报销金额", "", "amount"),
    ("个人自付金额", "", "amount"),
    ("出院日期", "", "date"),
)


@dataclass(frozen=True, slots=True)
class Subsidies:
    """The three subsidy input tables."""

    forest_rangers: Table
    public_welfare_jobs: Table
    hospital_bills: Table


def _table(title: str, layout: tuple[tuple[str, str, str], ...], values: dict[str, np.ndarray]) -> Table:
    return Table(
        title=title, columns=tuple(Column(header, alias, kind, values[header]) for header, alias, kind in layout)
    )


def subsidies_generate(
    rng: np.random.Generator, population: Population, history: History, month_end: dt.date
) -> Subsidies:
    """Attendance sheets and hospital bills for the month ending ``month_end``."""
    snapshot = history.snapshots[-1]
    people = np.flatnonzero(snapshot.household_present[snapshot.person_household] & np.isnat(snapshot.person_died))
    days = (np.datetime64(month_end, "D") - population.person_birth[people]).astype(np.int64)
    age = days * 4 // 1461
    healthy = population.person_health[people] == 0
    days_in_month = calendar.monthrange(month_end.year, month_end.month)[1]

    workers = people[healthy & (age >= 18) & (age <= 60)]
    workers = rng.permutation(workers)
    ranger_count = max(1, round(len(workers) * RANGER_SHARE))
    job_count = max(1, round(len(workers) * PUBLIC_JOB_SHARE))
    rangers = np.sort(workers[:ranger_count])
    jobs = np.sort(workers[ranger_count : ranger_count + job_count])

    def attendance(chosen: np.ndarray, fewest_days: int, wages: tuple[int, ...], title: str) -> Table:
        return _table(
            title,
            ATTENDANCE_COLUMNS,
            {
                "证件号码": population.person_id_number[chosen],
                "姓名": population.person_name[chosen],
                "出勤天数": rng.integers(fewest_days, days_in_month + 1, size=len(chosen)).astype("U2"),
                "日工资标准": np.array(
                    [f"{wage}.00" for wage in rng.choice(np.array(wages), size=len(chosen)).tolist()]
                ),
            },
        )

    month_text = f"{month_end.year}年{month_end.month}月"
    forest_rangers = attendance(rangers, 20, RANGER_DAILY_WAGE_YUAN, f"生态护林员出勤表（{month_text}）")
    public_jobs = attendance(jobs, 8, PUBLIC_JOB_DAILY_WAGE_YUAN, f"公益岗位出勤表（{month_text}）")

    # Old and ill people go to hospital more often.
    weights = (1.0 + age / 20.0) * np.where(healthy, 1.0, 4.0)
    patient_count = max(1, round(len(people) * HOSPITAL_SHARE))
    patients = np.sort(
        rng.choice(people, size=min(patient_count, len(people)), replace=False, p=weights / weights.sum())
    )
    bill_yuan = np.clip(
        rng.lognormal(np.log(4000), 1.0, size=len(patients)), HOSPITAL_BILL_YUAN_MIN, HOSPITAL_BILL_YUAN_MAX
    )
    total_fen = bill_yuan.astype(np.int64) * 100 + rng.integers(0, 100, size=len(patients))
    rate_bps = rng.integers(*INSURANCE_RATE_BPS_RANGE, size=len(patients))
    insurance_fen = total_fen * rate_bps // 10_000
    own_fen = total_fen - insurance_fen
    discharged = np.datetime64(month_end.replace(day=1), "D") + rng.integers(
        0, days_in_month, size=len(patients)
    ).astype("timedelta64[D]")
    hospital_bills = _table(
        f"县域内住院费用结算表（{month_text}）",
        HOSPITAL_COLUMNS,
        {
            "证件号码": population.person_id_number[patients],
            "姓名": population.person_name[patients],
            "医疗总费用": np.array([yuan_text(fen) for fen in total_fen.tolist()]),
            "医保报销金额": np.array([yuan_text(fen) for fen in insurance_fen.tolist()]),
            "个人自付金额": np.array([yuan_text(fen) for fen in own_fen.tolist()]),
            "出院日期": np.datetime_as_string(discharged, unit="D"),
        },
    )
    return Subsidies(forest_rangers=forest_rangers, public_welfare_jobs=public_jobs, hospital_bills=hospital_bills)
