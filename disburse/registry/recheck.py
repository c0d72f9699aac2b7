"""Eligibility checked again (issue #14 item 4): a run's recipients against the register as of a
day — who has died, whose household has left the register, whose card the register has closed
or changed since the run was calculated.

``recipient_changes`` takes the recipients as a frame (one row per line or payable) and returns
one row per recipient that changed, found by merging the recipients against the register as of
the day, never row by row: a batch may pay 300,000 payees. The register is read as
``register_as_of`` reads it, for the few columns the check needs: the snapshot in force on the
day for who is listed and their cards, each person's newest version for a 死亡日期 on or before
the day (enrolment dates are not applied: a run's recipient was registered when it ran).
``change_texts`` words each change for a person (household id, name, masked ID or card, what
changed, the day it took effect). The callers decide what a change means: ``runs approve``
warns (or refuses), ``payout prepare`` refuses or leaves the lines out and holds their money.

Each recipient gets at most one change, the first of: left the register, died, card closed,
card changed (a household no longer listed has no card to compare; a dead payee is not paid
whatever the card).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import Date, bindparam, func, select, text
from sqlalchemy.orm import Session

from disburse.foundation.i18n import tr
from disburse.foundation.masking import mask_identifier
from disburse.registry.queries import register_snapshot_for
from disburse.registry.tables import RegisterEventRow, RegisterImportRow

# The kinds of change, in the order a recipient's one change is chosen.
CHANGE_KINDS = ("left_register", "death", "card_closed", "card_changed")
CHANGE_COLUMNS = (
    "row",  # the recipient's position in the frame given
    "kind",
    "effective_on",
    "household_id",
    "name",
    "id_number",
    "old_account_no",
    "new_account_no",
)
RECIPIENT_PAYEE_TYPES = ("household", "person")
EVENT_IDS_PER_QUERY = 10_000


def _empty_changes() -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series([], dtype=object) for name in CHANGE_COLUMNS})
    return frame.astype({"row": np.int64})


def _text(values: pd.Series) -> np.ndarray:
    """Identifiers as str objects with None for missing or blank (a card column may say '')."""
    array = values.to_numpy(dtype=object)
    # Imports strip the cells, so a blank card is ''; comparing (not stripping) keeps this cheap.
    blank = pd.isna(array) | (array == "")
    return np.where(blank, None, array)


def _event_days(session: Session, kind: str, household_ids: list[str], on: dt.date) -> dict[str, dt.date]:
    """The newest ``kind`` event on or before ``on`` of each of the (few changed) households."""
    days: dict[str, dt.date] = {}
    statement = (
        select(RegisterEventRow.household_id, func.max(RegisterEventRow.effective_on))
        .where(
            RegisterEventRow.kind == kind,
            RegisterEventRow.effective_on <= on,
            RegisterEventRow.household_id.in_(bindparam("ids", expanding=True)),
        )
        .group_by(RegisterEventRow.household_id)
    )
    for start in range(0, len(household_ids), EVENT_IDS_PER_QUERY):
        chunk = household_ids[start : start + EVENT_IDS_PER_QUERY]
        days.update((str(key), day) for key, day in session.execute(statement, {"ids": chunk}).all())
    return days


def _recipient_frame(recipients: pd.DataFrame) -> pd.DataFrame:
    """The columns the check needs, positions as ``row``; only household and person payees."""
    frame = pd.DataFrame(
        {
            "row": np.arange(len(recipients), dtype=np.int64),
            "payee_type": recipients["payee_type"].to_numpy(dtype=object),
            "payee_id": recipients["payee_id"].to_numpy(dtype=object),
            "household_id": _text(recipients["household_id"]),
            "account_no": _text(recipients["account_no"]),
            "registered_account_no": _text(recipients.get("registered_account_no", recipients["account_no"])),
        }
    )
    wanted = frame["payee_type"].isin(RECIPIENT_PAYEE_TYPES).to_numpy() & pd.notna(frame["household_id"]).to_numpy()
    return frame[wanted].reset_index(drop=True)


def _matched(frame: pd.DataFrame, households: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """Each recipient with its household and its person (the person paid, else the head) as of
    the day: two left merges, the recipients' order kept."""
    listed = households[["household_id", "head_id_number", "head_name", "account_no"]].rename(
        columns={"account_no": "household_card"}
    )
    merged = frame.merge(listed.assign(_listed=True), on="household_id", how="left")
    person_paid = (merged["payee_type"] == "person").to_numpy()
    merged["id_number"] = np.where(person_paid, merged["payee_id"].to_numpy(dtype=object), merged["head_id_number"])
    persons = people[["id_number", "name", "died_on", "person_account_no"]]
    merged = merged.merge(persons.drop_duplicates("id_number"), on="id_number", how="left")
    merged["_listed"] = merged["_listed"].fillna(False).astype(bool)
    return merged


def _kinds(merged: pd.DataFrame) -> np.ndarray:
    """Each recipient's one change (CHANGE_KINDS order), '' when none."""
    listed = merged["_listed"].to_numpy(dtype=bool)
    died = listed & pd.notna(merged["died_on"]).to_numpy()
    person_paid = (merged["payee_type"] == "person").to_numpy()
    own = _text(merged["person_account_no"])
    # A person's benefit goes to their own card when the register has one, else the household's.
    card = np.where(person_paid & pd.notna(own), own, _text(merged["household_card"]))
    original = merged["registered_account_no"].to_numpy(dtype=object)
    paying = merged["account_no"].to_numpy(dtype=object)
    had_card = pd.notna(original)
    closed = listed & had_card & pd.isna(card)
    # Changed: the register's card is neither the run's nor the one an approved fix pays into.
    changed = listed & had_card & pd.notna(card) & (card != original) & (card != paying)
    kinds = np.full(len(merged), "", dtype=object)
    for kind, mask in (("card_changed", changed), ("card_closed", closed), ("death", died), ("left_register", ~listed)):
        kinds[mask] = kind  # the last written wins: the first of CHANGE_KINDS
    merged["register_card"] = card
    return kinds


IN_FORCE = (
    "FROM {table} v JOIN register_imports f ON f.id = v.valid_from_import "
    "LEFT JOIN register_imports t ON t.id = v.valid_to_import "
    "WHERE f.as_of <= :snapshot AND (v.valid_to_import IS NULL OR t.as_of > :snapshot)"
)


def _rows(session: Session, sql: str, **parameters: object) -> pd.DataFrame:
    """A text query's rows as a frame of the driver's plain tuples (``foundation.frames.query_frame``
    does the same for queries without dates); ``snapshot`` is bound as a date in either engine."""
    statement = text(sql).bindparams(bindparam("snapshot", type_=Date)) if ":snapshot" in sql else text(sql)
    result = session.execute(statement, parameters)
    columns = list(result.keys())
    rows = result.cursor.fetchall() if result.cursor is not None else []
    result.close()
    if not rows:
        return pd.DataFrame({name: pd.Series([], dtype=object) for name in columns})
    return pd.DataFrame.from_records(rows, columns=columns)


def _newest(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """One row per key: the version of the latest snapshot (then the latest version), as
    ``registry.queries`` chooses between versions."""
    ordered = frame.sort_values(["from_as_of", "version_id"], kind="stable")
    return ordered.drop_duplicates(key, keep="last").reset_index(drop=True)


def _deaths(session: Session, on: dt.date) -> dict[str, dt.date]:
    """Resident ID → 死亡日期 on or before ``on``, from each person's newest version (the newest
    knowledge, as ``register_as_of`` applies it); only people some version reports dead are read."""
    frame = _rows(
        session,
        "SELECT v.id_number, v.died_on, f.as_of AS from_as_of, v.id AS version_id FROM person_versions v "
        "JOIN register_imports f ON f.id = v.valid_from_import WHERE v.id_number IN "
        "(SELECT id_number FROM person_versions WHERE died_on IS NOT NULL)",
    )
    if len(frame) == 0:
        return {}
    newest = _newest(frame.astype({"from_as_of": str}), "id_number")
    days = pd.to_datetime(newest["died_on"].astype(object), errors="coerce")
    known = (days.notna() & (days <= pd.Timestamp(on))).to_numpy()
    return dict(zip(newest.loc[known, "id_number"], days[known].dt.date))


def _register_for_check(
    session: Session, snapshot_as_of: dt.date, on: dt.date, frame: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The households in force at the snapshot (``household_id, head_id_number, head_name,
    account_no``) and the people the check looks at (``id_number, name, died_on,
    person_account_no``: the heads, and the persons paid), read as four columns of plain rows,
    not the whole register with every column (a 300,000-household batch spent three quarters of
    the check building row objects)."""
    households = _rows(
        session,
        "SELECT v.household_id, v.head_id_number, v.head_name, v.account_no, f.as_of AS from_as_of, "
        "v.id AS version_id " + IN_FORCE.format(table="household_versions"),
        snapshot=snapshot_as_of,
    )
    households = _newest(households.astype({"from_as_of": str}), "household_id")
    heads = pd.DataFrame(
        {
            "id_number": households["head_id_number"].to_numpy(dtype=object),
            "name": households["head_name"].to_numpy(dtype=object),
            "person_account_no": None,
        }
    )
    persons = heads.iloc[:0]
    if (frame["payee_type"] == "person").any():
        persons = _rows(
            session,
            "SELECT v.id_number, v.name, v.person_account_no, f.as_of AS from_as_of, v.id AS version_id "
            + IN_FORCE.format(table="person_versions"),
            snapshot=snapshot_as_of,
        )
        persons = _newest(persons.astype({"from_as_of": str}), "id_number")[["id_number", "name", "person_account_no"]]
    people = pd.concat([persons, heads], ignore_index=True).drop_duplicates("id_number", keep="first")
    deaths = _deaths(session, on)
    people["died_on"] = people["id_number"].map(deaths).astype(object) if deaths else None
    return households, people.reset_index(drop=True)


HOUSEHOLDS_PER_QUERY = 500


def _register_cards_only(session: Session, changed: pd.DataFrame) -> pd.DataFrame:
    """The changes without the card changes of lines whose card the register never listed for
    that household or person: a roster may name the card a benefit goes to (the register's card
    moving on says nothing of it). One query per HOUSEHOLDS_PER_QUERY households with a card change."""
    card = changed["kind"].str.startswith("card").to_numpy()
    if not card.any():
        return changed
    households = sorted(set(changed.loc[card, "household_id"]))
    statement = text(
        "SELECT household_id, account_no FROM household_versions WHERE household_id IN :ids AND account_no IS NOT NULL "
        "UNION SELECT household_id, person_account_no FROM person_versions WHERE household_id IN :ids "
        "AND person_account_no IS NOT NULL"
    ).bindparams(bindparam("ids", expanding=True))
    listed: set[tuple[str, str]] = set()
    for start in range(0, len(households), HOUSEHOLDS_PER_QUERY):
        chunk = households[start : start + HOUSEHOLDS_PER_QUERY]
        listed.update((str(h), str(a)) for h, a in session.execute(statement, {"ids": chunk}))
    pairs = zip(changed["household_id"].tolist(), changed["registered_account_no"].tolist())
    ever_listed = np.fromiter(((str(h), str(a)) in listed for h, a in pairs), dtype=bool, count=len(changed))
    return changed[~card | ever_listed].reset_index(drop=True)


def register_imported_since(session: Session, moment: dt.datetime) -> bool:
    """Whether a register snapshot was imported after ``moment`` (a run's calculation): without
    one, nothing the register says can have changed since, and the check costs one query, not a
    read of the register."""
    statement = select(RegisterImportRow.id).where(
        RegisterImportRow.kind == "register", RegisterImportRow.imported_at > moment
    )
    return session.scalar(statement.limit(1)) is not None


def recipient_changes(session: Session, recipients: pd.DataFrame, on: dt.date) -> pd.DataFrame:
    """The recipients (``payee_type, payee_id, household_id, account_no`` and, when a fix
    redirected a line, ``registered_account_no``: the card the run gave it) whose standing in the
    register as of ``on`` changed: one row each (CHANGE_COLUMNS; ``effective_on`` a date).
    Before the first register snapshot nothing is known and nothing is returned."""
    snapshot_as_of = register_snapshot_for(session, on)
    if snapshot_as_of is None or len(recipients) == 0:
        return _empty_changes()
    frame = _recipient_frame(recipients)
    if len(frame) == 0:
        return _empty_changes()
    households, people = _register_for_check(session, snapshot_as_of, on, frame)
    merged = _matched(frame, households, people)
    kinds = _kinds(merged)
    changed = _register_cards_only(
        session, merged[kinds != ""].assign(kind=kinds[kinds != ""]).reset_index(drop=True)
    )
    if len(changed) == 0:
        return _empty_changes()
    return _dated(session, changed, on, snapshot_as_of)


def _dated(session: Session, changed: pd.DataFrame, on: dt.date, snapshot_as_of: dt.date) -> pd.DataFrame:
    """The day each change took effect: a death on its 死亡日期; leaving the register and a card
    change on the day of the event the snapshot import recorded (else the snapshot's day)."""
    effective = changed["died_on"].to_numpy(dtype=object).copy()
    for kind, event_kind in (("left_register", "left_register"), ("card", "card_change")):
        mask = changed["kind"].str.startswith(kind).to_numpy()
        if not mask.any():
            continue
        days = _event_days(session, event_kind, sorted(set(changed.loc[mask, "household_id"])), on)
        found = changed.loc[mask, "household_id"].map(days).to_numpy(dtype=object)
        effective[mask] = np.where(pd.isna(found), snapshot_as_of, found)
    head_listed = changed["kind"] != "left_register"
    return pd.DataFrame(
        {
            "row": changed["row"].to_numpy(dtype=np.int64),
            "kind": changed["kind"].to_numpy(dtype=object),
            "effective_on": effective,
            "household_id": changed["household_id"].to_numpy(dtype=object),
            "name": np.where(head_listed, changed["name"].to_numpy(dtype=object), None),
            "id_number": np.where(head_listed, changed["id_number"].to_numpy(dtype=object), None),
            "old_account_no": changed["registered_account_no"].to_numpy(dtype=object),
            "new_account_no": changed["register_card"].to_numpy(dtype=object),
        }
    )


def change_texts(changes: pd.DataFrame) -> list[str]:
    """Each change worded for a person, in the operator's language: ``户 H 张三
    (610102********1234) died on 2026-11-05``; IDs and cards masked."""
    texts = []
    for row in changes.itertuples(index=False):  # the changed few, not the batch
        day = str(row.effective_on)
        who = tr(
            "household {household} {name} ({id_number})",
            household=row.household_id,
            name=row.name or "",
            id_number=mask_identifier(row.id_number) or "-",
        )
        if row.kind == "left_register":
            texts.append(tr("household {household} left the register on {day}", household=row.household_id, day=day))
        elif row.kind == "death":
            texts.append(tr("{who} died on {day}", who=who, day=day))
        elif row.kind == "card_closed":
            texts.append(
                tr(
                    "{who}: since {day} the register lists no card (was {old})",
                    who=who,
                    day=day,
                    old=mask_identifier(row.old_account_no),
                )
            )
        else:
            texts.append(
                tr(
                    "{who}: the card changed on {day} from {old} to {new}",
                    who=who,
                    day=day,
                    old=mask_identifier(row.old_account_no),
                    new=mask_identifier(row.new_account_no),
                )
            )
    return texts
