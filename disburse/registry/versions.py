"""Pure functions over frames: a register snapshot compared with the versions in force.

Nothing here opens a session. ``snapshot_households`` and ``snapshot_people`` turn a parsed
register (one row per person) into the stored shapes; ``versions_diff`` finds, with one merge,
the versions a snapshot leaves unchanged, closes and opens; ``register_events`` names the dated
changes (new household, split, exit, 返贫, death, move, card change …).

Frames here hold dates as ``datetime64[s]`` (NaT for missing) so that comparisons are vectorised.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from disburse.foundation.frames import text_or_none
from disburse.importers.register import HEAD_OF_HOUSEHOLD
from disburse.registry.model import (
    HOUSEHOLD_VERSION_COLUMNS,
    PERSON_DATE_COLUMNS,
    PERSON_VERSION_COLUMNS,
)

STATUS_EXITED = "已脱贫"
STATUS_RELAPSED = "返贫"
EVENT_COLUMNS = ("kind", "household_id", "id_number", "effective_on", "details")


@dataclass(frozen=True, slots=True)
class VersionDiff:
    """How a snapshot changes one kind of version: ``closed_ids`` are versions in force that it
    changes or no longer lists; ``opened`` holds the snapshot's rows that need a new version
    (new keys and changed ones); ``vanished`` the keys in force that the snapshot dropped."""

    closed_ids: np.ndarray
    opened: pd.DataFrame
    vanished: np.ndarray
    unchanged_count: int


def as_datetimes(values: object) -> np.ndarray:
    """Dates in any form (date objects, None, datetime64) as ``datetime64[s]``."""
    array = np.asarray(values)
    if array.dtype.kind == "M":
        return array.astype("datetime64[s]")
    return pd.to_datetime(pd.Series(array, dtype=object)).to_numpy().astype("datetime64[s]")


def dates_as_objects(values: object) -> np.ndarray:
    """``datetime64`` values as ``datetime.date`` objects, None where missing (contract frames)."""
    days = as_datetimes(values).astype("datetime64[D]")
    result = np.full(len(days), None, dtype=object)
    present = ~np.isnat(days)
    if present.any():
        result[present] = days[present].astype(object)
    return result


def snapshot_people(register: pd.DataFrame) -> pd.DataFrame:
    """The person versions a parsed register frame states (one row per person)."""
    people = register[list(PERSON_VERSION_COLUMNS)].copy()
    people["boarding"] = people["boarding"].astype(bool)
    for name in PERSON_DATE_COLUMNS:
        people[name] = as_datetimes(people[name].to_numpy())
    return people.reset_index(drop=True)


def snapshot_households(register: pd.DataFrame) -> pd.DataFrame:
    """The household versions a parsed register frame states: household fields from the 户主 row
    (the importer checked there is exactly one), ``member_count`` the members not dead on it."""
    heads = register[register["relation"].to_numpy() == HEAD_OF_HOUSEHOLD].drop_duplicates("household_id")
    households = pd.DataFrame(
        {
            "household_id": heads["household_id"].to_numpy(dtype=object),
            "village_code": heads["village_code"].to_numpy(dtype=object),
            "county": heads["county"].to_numpy(dtype=object),
            "town": heads["town"].to_numpy(dtype=object),
            "village": heads["village"].to_numpy(dtype=object),
            "village_group": heads["village_group"].to_numpy(dtype=object),
            "household_type": heads["household_type"].to_numpy(dtype=object),
            "poverty_status": heads["poverty_status"].to_numpy(dtype=object),
            "enrolled_on": as_datetimes(heads["enrolled_on"].to_numpy()),
            "exited_on": as_datetimes(heads["exited_on"].to_numpy()),
            "head_id_number": heads["id_number"].to_numpy(dtype=object),
            "head_name": heads["name"].to_numpy(dtype=object),
            "bank_name": heads["bank_name"].to_numpy(dtype=object),
            "account_no": heads["account_no"].to_numpy(dtype=object),
        }
    )
    living = register.loc[np.isnat(as_datetimes(register["died_on"].to_numpy())), "household_id"]
    counts = living.value_counts()
    households["member_count"] = households["household_id"].map(counts).fillna(0).astype(np.int64).to_numpy()
    return households[list(HOUSEHOLD_VERSION_COLUMNS)]


def same_values(left: pd.Series, right: pd.Series) -> np.ndarray:
    """Elementwise equality where two missing values are equal (dates compared as datetimes)."""
    if left.dtype.kind == "M" or right.dtype.kind == "M":
        a, b = as_datetimes(left.to_numpy()), as_datetimes(right.to_numpy())
        return (a == b) | (np.isnat(a) & np.isnat(b))
    a = left.to_numpy(dtype=object)
    b = right.to_numpy(dtype=object)
    missing_a = pd.isna(left).to_numpy()
    missing_b = pd.isna(right).to_numpy()
    return (missing_a & missing_b) | (~missing_a & ~missing_b & (a == b))


def versions_diff(in_force: pd.DataFrame, snapshot: pd.DataFrame, key: str, columns: Sequence[str]) -> VersionDiff:
    """Compare the versions in force (with ``version_id``) with a snapshot, by ``key``.

    A row whose every column in ``columns`` is equal keeps its version; a changed row closes its
    version and opens a new one; a new key opens one; a key the snapshot no longer lists closes.
    """
    if len(in_force) == 0:
        # The first snapshot (or a backfill before it): every row opens a version, nothing to merge.
        return VersionDiff(np.zeros(0, dtype=np.int64), snapshot.reset_index(drop=True), np.zeros(0, dtype=object), 0)
    compared = [name for name in columns if name != key]
    merged = in_force[[key, "version_id", *compared]].merge(
        snapshot[[key, *compared]], on=key, how="outer", suffixes=("_old", "_new"), indicator=True
    )
    both = (merged["_merge"] == "both").to_numpy()
    changed = np.zeros(len(merged), dtype=bool)
    for name in compared:
        changed |= ~same_values(merged[f"{name}_old"], merged[f"{name}_new"])
    changed &= both
    vanished = (merged["_merge"] == "left_only").to_numpy()
    new = (merged["_merge"] == "right_only").to_numpy()
    closed_ids = merged.loc[changed | vanished, "version_id"].to_numpy().astype(np.int64)
    opened_keys = merged.loc[changed | new, key]
    opened = snapshot[snapshot[key].isin(opened_keys)].reset_index(drop=True)
    return VersionDiff(
        closed_ids=closed_ids,
        opened=opened,
        vanished=merged.loc[vanished, key].to_numpy(dtype=object),
        unchanged_count=int((both & ~changed).sum()),
    )


def _date(value: object) -> dt.date:
    return pd.Timestamp(value).date()


Event = tuple[str, str, str | None, dt.date, dict]


def register_events(
    old_households: pd.DataFrame,
    new_households: pd.DataFrame,
    old_people: pd.DataFrame,
    new_people: pd.DataFrame,
    as_of: dt.date,
) -> pd.DataFrame:
    """The dated changes between the register in force (``old_*``) and a snapshot (``new_*``).

    An event takes effect on the date the file gives (脱贫日期 for an exit, 死亡日期 for a death,
    识别日期 for a new household), else on the snapshot's date ``as_of``. Returns a frame with
    ``kind, household_id, id_number, effective_on (date), details (JSON text)``.
    """
    events: list[Event] = []
    old_household_ids = set(old_households["household_id"].tolist())
    new_household_ids = set(new_households["household_id"].tolist())

    # People: deaths, moves between households, splits, joining and leaving.
    people = old_people[["id_number", "household_id", "died_on"]].merge(
        new_people[["id_number", "household_id", "died_on", "relation"]],
        on="id_number",
        how="outer",
        suffixes=("_old", "_new"),
        indicator=True,
    )
    split_households = _person_move_events(events, people, old_household_ids, new_household_ids, as_of)
    joined = people[(people["_merge"] == "right_only") & people["household_id_new"].isin(old_household_ids)]
    for row in joined.itertuples(index=False):
        events.append(("joined", row.household_id_new, row.id_number, as_of, {"relation": row.relation}))
    left = people[(people["_merge"] == "left_only") & people["household_id_old"].isin(new_household_ids)]
    for row in left.itertuples(index=False):
        events.append(("left", row.household_id_old, row.id_number, as_of, {}))

    # Households: new, gone, exits, 返贫 and other status changes, type, card and head changes.
    households = old_households.merge(
        new_households, on="household_id", how="outer", suffixes=("_old", "_new"), indicator=True
    )
    _household_arrival_events(events, households, new_people, split_households, as_of)
    kept = households[households["_merge"] == "both"]
    _household_status_events(events, kept, as_of)
    _household_field_events(events, kept, as_of)

    events.sort(key=lambda event: (event[3], event[1], event[0], event[2] or ""))
    return pd.DataFrame(
        {
            "kind": pd.Series([event[0] for event in events], dtype=object),
            "household_id": pd.Series([event[1] for event in events], dtype=object),
            "id_number": pd.Series([event[2] for event in events], dtype=object),
            "effective_on": pd.Series([event[3] for event in events], dtype=object),
            "details": pd.Series(
                [json.dumps(event[4], ensure_ascii=False, sort_keys=True) for event in events], dtype=object
            ),
        }
    )


def _person_move_events(
    events: list[Event],
    people: pd.DataFrame,
    old_household_ids: set,
    new_household_ids: set,
    as_of: dt.date,
) -> set:
    """Append the deaths, moves and splits among people on both registers; return the households
    that split off (their arrival is the split, so no ``new_household`` event names them too)."""
    both = people["_merge"] == "both"
    died_old = as_datetimes(people["died_on_old"].to_numpy())
    died_new = as_datetimes(people["died_on_new"].to_numpy())
    for row in people[both.to_numpy() & np.isnat(died_old) & ~np.isnat(died_new)].itertuples(index=False):
        events.append(("death", row.household_id_new, row.id_number, _date(row.died_on_new), {}))
    moved = people[both & (people["household_id_old"] != people["household_id_new"])]
    into_new = moved["household_id_new"].isin(new_household_ids - old_household_ids)
    for row in moved[~into_new].itertuples(index=False):
        events.append(
            (
                "move",
                row.household_id_old,
                row.id_number,
                as_of,
                {"to_household_id": row.household_id_new, "new_relation": row.relation},
            )
        )
    split_sources = moved[into_new].groupby("household_id_new", sort=True)
    split_households = set()
    for new_household, group in split_sources:
        source = group["household_id_old"].mode().iloc[0]
        split_households.add(new_household)
        events.append(
            (
                "split",
                source,
                None,
                as_of,
                {
                    "new_household_id": new_household,
                    "member_id_numbers": sorted(group["id_number"].tolist()),
                },
            )
        )
    return split_households


def _household_arrival_events(
    events: list[Event],
    households: pd.DataFrame,
    new_people: pd.DataFrame,
    split_households: set,
    as_of: dt.date,
) -> None:
    """Append a ``new_household`` for each household the snapshot adds (other than split-offs) and
    a ``left_register`` for each it no longer lists."""
    new_rows = households[households["_merge"] == "right_only"]
    for row in new_rows.itertuples(index=False):
        if row.household_id in split_households:
            continue
        enrolled = as_datetimes(np.array([row.enrolled_on_new]))[0]
        members = sorted(new_people.loc[new_people["household_id"] == row.household_id, "id_number"].tolist())
        events.append(
            (
                "new_household",
                row.household_id,
                None,
                as_of if np.isnat(enrolled) else _date(enrolled),
                {"household_type": row.household_type_new, "member_id_numbers": members},
            )
        )
    for row in households[households["_merge"] == "left_only"].itertuples(index=False):
        events.append(("left_register", row.household_id, None, as_of, {}))


def _household_status_events(events: list[Event], kept: pd.DataFrame, as_of: dt.date) -> None:
    """Append exits, 返贫 and other poverty-status changes of the households on both registers.

    An exit to 已脱贫 is its own event, so it is not reported a second time as a status change."""
    exited_old = as_datetimes(kept["exited_on_old"].to_numpy())
    exited_new = as_datetimes(kept["exited_on_new"].to_numpy())
    exit_mask = ~np.isnat(exited_new) & (np.isnat(exited_old) | (exited_old != exited_new))
    for row in kept[exit_mask].itertuples(index=False):
        events.append(
            ("exit", row.household_id, None, _date(row.exited_on_new), {"poverty_status": row.poverty_status_new})
        )
    status_changed = (kept["poverty_status_old"] != kept["poverty_status_new"]).to_numpy()
    relapse = status_changed & (kept["poverty_status_new"] == STATUS_RELAPSED).to_numpy()
    for row in kept[relapse].itertuples(index=False):
        events.append(("relapse", row.household_id, None, as_of, {"exited_on": text_or_none(_iso(row.exited_on_new))}))
    other_status = status_changed & ~relapse & ~(exit_mask & (kept["poverty_status_new"] == STATUS_EXITED).to_numpy())
    for row in kept[other_status].itertuples(index=False):
        events.append(
            (
                "status_change",
                row.household_id,
                None,
                as_of,
                {"old": row.poverty_status_old, "new": row.poverty_status_new},
            )
        )


def _household_field_events(events: list[Event], kept: pd.DataFrame, as_of: dt.date) -> None:
    """Append the type, bank-card and head-of-household changes of the households on both registers."""
    for row in kept[(kept["household_type_old"] != kept["household_type_new"]).to_numpy()].itertuples(index=False):
        events.append(
            (
                "type_change",
                row.household_id,
                None,
                as_of,
                {"old": row.household_type_old, "new": row.household_type_new},
            )
        )
    card_changed = ~same_values(kept["account_no_old"], kept["account_no_new"]) | ~same_values(
        kept["bank_name_old"], kept["bank_name_new"]
    )
    for row in kept[card_changed].itertuples(index=False):
        events.append(
            (
                "card_change",
                row.household_id,
                None,
                as_of,
                {
                    "old_bank_name": text_or_none(row.bank_name_old),
                    "old_account_no": text_or_none(row.account_no_old),
                    "new_bank_name": text_or_none(row.bank_name_new),
                    "new_account_no": text_or_none(row.account_no_new),
                },
            )
        )
    head_changed = ~same_values(kept["head_id_number_old"], kept["head_id_number_new"])
    for row in kept[head_changed].itertuples(index=False):
        events.append(
            (
                "head_change",
                row.household_id,
                None,
                as_of,
                {
                    "old_head_id_number": text_or_none(row.head_id_number_old),
                    "new_head_id_number": text_or_none(row.head_id_number_new),
                },
            )
        )


def _iso(value: object) -> str | None:
    days = as_datetimes(np.array([value]))[0]
    return None if np.isnat(days) else str(days.astype("datetime64[D]"))
