"""Small frames in the shapes of docs/contracts.md, for the allocation tests."""

from __future__ import annotations

import datetime

import pandas as pd

HOUSEHOLD_DEFAULTS = {
    "village_code": "611002001001",
    "county": "商州区",
    "town": "城关镇",
    "village": "东村",
    "household_type": "一般贫困户",
    "poverty_status": "未脱贫",
    "enrolled_on": datetime.date(2016, 1, 1),
    "exited_on": None,
    "bank_name": "商州农商银行",
    "member_count": 1,
}
PERSON_DEFAULTS = {
    "relation": "户主",
    "sex": "男",
    "birth_date": datetime.date(1970, 1, 1),
    "school_stage": None,
    "boarding": None,
    "health": "健康",
    "died_on": None,
    "person_account_no": None,
}


def households_frame(*rows: dict) -> pd.DataFrame:
    """Households with defaults; each row needs household_id (head name and card derived)."""
    filled = []
    for row in rows:
        household_id = row["household_id"]
        base = dict(HOUSEHOLD_DEFAULTS)
        base.update(
            head_name=f"户主{household_id}",
            head_id_number=f"ID-HEAD-{household_id}",
            account_no=f"62{household_id}",
        )
        base.update(row)
        filled.append(base)
    return pd.DataFrame(filled)


def people_frame(*rows: dict) -> pd.DataFrame:
    """People with defaults; each row needs id_number, household_id and name."""
    filled = []
    for row in rows:
        base = dict(PERSON_DEFAULTS)
        base.update(row)
        filled.append(base)
    columns = ["id_number", "household_id", "name", *PERSON_DEFAULTS]
    return pd.DataFrame(filled, columns=columns)


def heads_for(households: pd.DataFrame) -> pd.DataFrame:
    """One living head per household (so a household is never read as a deceased sole holder)."""
    return people_frame(
        *(
            {"id_number": f"ID-HEAD-{household_id}", "household_id": household_id, "name": f"户主{household_id}"}
            for household_id in households["household_id"]
        )
    )


def holdings_frame(*rows: dict) -> pd.DataFrame:
    """Holdings (asset_id, holder_type, holder_id, units_e4, principal_fen, start_on, end_on)."""
    filled = []
    for row in rows:
        base = {"holder_type": "household", "principal_fen": 0, "start_on": datetime.date(2016, 1, 1), "end_on": None}
        base.update(row)
        filled.append(base)
    return pd.DataFrame(
        filled, columns=["asset_id", "holder_type", "holder_id", "units_e4", "principal_fen", "start_on", "end_on"]
    )
