"""The registers as of a date: what the allocation runs and the commands read.

As-of semantics (``households_as_of``, ``people_as_of``, ``register_as_of``)
------------------------------------------------------------------------------
* **Structure from the snapshot in force.** Who is registered, who belongs to which household,
  relations, household type, cards and every other non-dated field come from the snapshot in
  force on D: the register import with the newest ``as_of`` ≤ D. Before the first snapshot the
  register is empty. A household first listed by a later snapshot is not in the register at D
  even when its 识别日期 is earlier (the register did not list it yet; a split household carries
  its parent's 识别日期, so that date cannot place it).
* **Dated facts from the newest knowledge.** 死亡日期 and 脱贫日期 are taken from the newest
  version of each person and household (the one of the latest snapshot listing it), and applied
  when they are ≤ D: a death learnt months later shows for any D on or after the death, even a
  D before the snapshot that reported it; a household that exited on a date ≤ D shows
  已脱贫 with that date although the snapshot in force still said 未脱贫. A date after D is not
  shown (a household whose 脱贫日期 is after D is still 未脱贫 at D). 返贫 has no date in the file,
  so it takes effect on the date of the snapshot that first shows it, which is then the snapshot
  in force for every later D.
* **Enrolment bounds the register.** A household whose 识别日期 (newest knowledge) is after D is
  not in the register at D, nor are its people.
* ``member_count`` counts the household's people at D who are not dead at D. Dead people stay in
  ``people_as_of`` with ``died_on`` set (a dividend rule must see a deceased sole holder).

Which versions are "in force" at a snapshot S: those whose ``valid_from_import`` snapshot is
on or before S and whose ``valid_to_import`` is NULL or a snapshot after S, compared by the
snapshots' ``as_of`` dates (not ids, so a backfilled snapshot takes its place in the sequence).
When a backfill has left two versions of one key in force at S, the one opened by the later
snapshot wins (see ``registry.service.import_register``).

Frames returned here hold dates as ``datetime.date`` objects in object columns, with None for a
missing date (never NaT); identifiers are ``str``; money (``_fen``) and units (``_e4``) are
``int64``; ``member_count`` is ``int64``; ``boarding`` is ``bool``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, Integer, String, Table, and_, cast, or_, select, type_coerce
from sqlalchemy.orm import Session, aliased

from disburse.foundation.errors import DisburseError
from disburse.foundation.frames import statement_frame
from disburse.foundation.i18n import tr
from disburse.importers.common import object_column
from disburse.ledger.tables import EntityRow
from disburse.registry.model import (
    CHANGES_COLUMNS,
    HOLDINGS_COLUMNS,
    HOUSEHOLD_VERSION_COLUMNS,
    HOUSEHOLDS_COLUMNS,
    PEOPLE_COLUMNS,
    PERSON_VERSION_COLUMNS,
    SETTLEMENTS_COLUMNS,
    Asset,
    HouseholdHistory,
    HouseholdVersion,
    RegisterEvent,
)
from disburse.registry.tables import (
    AssetRow,
    HoldingRow,
    HouseholdVersionRow,
    PersonVersionRow,
    PvSettlementRow,
    RegisterEventRow,
    RegisterImportRow,
)
from disburse.registry.versions import dates_as_objects

STATUS_NOT_EXITED = "未脱贫"
STATUS_EXITED = "已脱贫"
HOUSEHOLD_TABLE: Table = HouseholdVersionRow.__table__  # type: ignore[assignment]
PERSON_TABLE: Table = PersonVersionRow.__table__  # type: ignore[assignment]


# ------------------------------------------------------------------------------- snapshots
def snapshot_in_force(session: Session, on: dt.date, kind: str = "register") -> RegisterImportRow | None:
    """The import of ``kind`` with the newest ``as_of`` on or before ``on`` (None: before all)."""
    return session.scalar(
        select(RegisterImportRow)
        .where(RegisterImportRow.kind == kind, RegisterImportRow.as_of <= on)
        .order_by(RegisterImportRow.as_of.desc(), RegisterImportRow.id.desc())
        .limit(1)
    )


def snapshots(session: Session, kind: str = "register") -> list[RegisterImportRow]:
    """Every import of ``kind``, oldest ``as_of`` first."""
    return list(
        session.scalars(
            select(RegisterImportRow)
            .where(RegisterImportRow.kind == kind)
            .order_by(RegisterImportRow.as_of, RegisterImportRow.id)
        )
    )


def versions_in_force(
    session: Session,
    table: Table,
    key: str,
    columns: tuple[str, ...],
    snapshot_as_of: dt.date,
    keys: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Versions in force at the snapshot dated ``snapshot_as_of``: one row per key (only of
    ``keys`` when given), with ``version_id`` and ``from_as_of``; dates as ``datetime64[s]``."""
    statement, valid_from, valid_to = _versions_select(table, columns, until=False)
    statement = statement.where(
        valid_from.c.as_of <= snapshot_as_of,
        or_(table.c.valid_to_import.is_(None), valid_to.c.as_of > snapshot_as_of),
    )
    if keys is not None:
        statement = statement.where(table.c[key].in_(list(keys)))
    return _newest_per_key(statement_frame(session, statement), key, columns)


@dataclass(frozen=True, slots=True)
class RegisterVersions:
    """Every version of every household and person with the dates of the snapshots it was in
    force from and until (ISO text; ``to_as_of`` None while in force), as read once by
    ``register_versions``: a caller needing several snapshots (a PV run over a year of rows)
    takes each from these rather than reading the register again."""

    households: pd.DataFrame
    people: pd.DataFrame


def register_versions(session: Session) -> RegisterVersions:
    return RegisterVersions(
        _all_versions(session, HOUSEHOLD_TABLE, HOUSEHOLD_VERSION_COLUMNS),
        _all_versions(session, PERSON_TABLE, PERSON_VERSION_COLUMNS),
    )


def _all_versions(session: Session, table: Table, columns: tuple[str, ...]) -> pd.DataFrame:
    return statement_frame(session, _versions_select(table, columns, until=True)[0])


def _versions_select(table: Table, columns: tuple[str, ...], *, until: bool):  # type: ignore[no-untyped-def]
    """Versions with the snapshot they are in force from (``from_as_of``) and, with ``until``, the
    one that ended them (``to_as_of``), as ISO text, which sorts as the dates do; returns the
    statement and the two aliases of register_imports for the caller's conditions."""
    # Table aliases, not ORM aliases: a Core statement's rows skip the ORM's result loading,
    # which cost two thirds of reading a county's 330,000 people.
    valid_from = RegisterImportRow.__table__.alias("valid_from")
    valid_to = RegisterImportRow.__table__.alias("valid_to")
    ends = [cast(valid_to.c.as_of, String).label("to_as_of")] if until else []
    statement = (
        select(
            table.c.id.label("version_id"),
            cast(valid_from.c.as_of, String).label("from_as_of"),
            *ends,
            *_selected(table, columns),
        )
        .join(valid_from, valid_from.c.id == table.c.valid_from_import)
        .outerjoin(valid_to, valid_to.c.id == table.c.valid_to_import)
    )
    return statement, valid_from, valid_to


def _in_force(versions: pd.DataFrame, key: str, columns: tuple[str, ...], snapshot_as_of: dt.date) -> pd.DataFrame:
    """What ``versions_in_force`` reads, taken from versions already read (the same condition:
    in force from a snapshot on or before the day, until none or one after it)."""
    day = snapshot_as_of.isoformat()
    starts = versions["from_as_of"].to_numpy(dtype=object)
    ends = versions["to_as_of"].to_numpy(dtype=object)
    open_ended = pd.isna(ends)
    kept = open_ended.copy()
    kept[~open_ended] = ends[~open_ended] > day
    kept &= starts <= day
    return _newest_per_key(versions.loc[kept, ["version_id", "from_as_of", *columns]], key, columns)


def newest_versions(
    session: Session,
    table: Table,
    key: str,
    columns: tuple[str, ...],
    keys: Sequence[str] | None = None,
    *,
    not_in_force_at: dt.date | None = None,
) -> pd.DataFrame:
    """Each key's version from the latest snapshot that lists it: the newest knowledge (only of
    ``keys`` when given; with ``not_in_force_at``, only of the versions not in force at that
    snapshot, which the caller holds)."""
    valid_from = RegisterImportRow.__table__.alias("valid_from")
    statement = select(
        table.c.id.label("version_id"), cast(valid_from.c.as_of, String).label("from_as_of"), *_selected(table, columns)
    ).join(valid_from, valid_from.c.id == table.c.valid_from_import)
    if keys is not None:
        statement = statement.where(table.c[key].in_(list(keys)))
    if not_in_force_at is not None:
        valid_to = RegisterImportRow.__table__.alias("valid_to")
        statement = statement.outerjoin(valid_to, valid_to.c.id == table.c.valid_to_import).where(
            or_(valid_from.c.as_of > not_in_force_at, valid_to.c.as_of <= not_in_force_at)
        )
    return _newest_per_key(statement_frame(session, statement), key, columns)


def _is_date_column(name: str) -> bool:
    return name.endswith("_on") or name == "birth_date"


def _selected(table: Table, columns: tuple[str, ...]) -> list:  # type: ignore[type-arg]
    """The columns to select; dates as ISO text, which pandas parses in one vectorised pass
    (a million date objects built row by row by the driver, then converted, cost seconds)."""
    return [_plain(table.c[name]) for name in columns]


def _plain(column):  # type: ignore[no-untyped-def]
    """A column as the driver gives it, so that no value is converted row by row: a date as ISO
    text, a boolean as the driver's own value (0/1 on SQLite; ``_newest_per_key`` makes it bool)."""
    if _is_date_column(column.name):
        return cast(column, String).label(column.name)
    if isinstance(column.type, Boolean):
        return type_coerce(column, Integer).label(column.name)
    return column


def _newest_per_key(frame: pd.DataFrame, key: str, columns: tuple[str, ...]) -> pd.DataFrame:
    if len(frame):
        frame = frame.sort_values(["from_as_of", "version_id"], kind="stable").drop_duplicates(key, keep="last")
    frame = frame.reset_index(drop=True)
    for name in columns:
        if _is_date_column(name):
            frame[name] = (
                pd.to_datetime(pd.Series(frame[name].to_numpy(dtype=object), dtype=object), format="%Y-%m-%d")
                .to_numpy()
                .astype("datetime64[s]")
            )
    if "member_count" in frame.columns:
        frame["member_count"] = frame["member_count"].astype(np.int64)
    if "boarding" in frame.columns:
        frame["boarding"] = frame["boarding"].astype(bool)
    return frame


# ------------------------------------------------------------------------------- as of
BEFORE_FIRST_SNAPSHOT_CHOICES = ("empty", "oldest")


@dataclass(frozen=True, slots=True)
class RegisterReads:
    """What the register as of a day is made from, read once for one snapshot: the versions in
    force at the snapshot as contract frames (sorted by key, without ``member_count``) and,
    aligned row by row, the newest knowledge of the dated facts (enrolled, exited, died) as
    ``datetime64`` and as date objects. ``register_on`` makes the frames as of any day that uses
    this snapshot, so a caller needing many days of one snapshot (a PV run over a year of
    settlement rows) reads and converts once. ``snapshot_as_of`` is None when there is none."""

    snapshot_as_of: dt.date | None
    households: pd.DataFrame
    people: pd.DataFrame
    enrolled: np.ndarray
    exited: np.ndarray
    exited_objects: np.ndarray
    snapshot_exited: np.ndarray
    died: np.ndarray
    died_objects: np.ndarray
    # Each person's household as a row number of ``households`` (-1: not in the snapshot).
    person_household: np.ndarray


def register_snapshot_for(session: Session, on: dt.date, before_first_snapshot: str = "empty") -> dt.date | None:
    """The ``as_of`` of the snapshot the register as of ``on`` is made from (see
    ``register_as_of``), or None."""
    assert before_first_snapshot in BEFORE_FIRST_SNAPSHOT_CHOICES, before_first_snapshot
    snapshot = snapshot_in_force(session, on)
    if snapshot is None and before_first_snapshot == "oldest":
        oldest = snapshots(session)
        snapshot = oldest[0] if oldest else None
    return None if snapshot is None else snapshot.as_of


def _by_key(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    order = np.argsort(frame[key].to_numpy(dtype=object), kind="stable")
    return frame.iloc[order].reset_index(drop=True)


def _people_keys_of(session: Session, household_ids: Sequence[str]) -> list[str]:
    """The resident IDs any version lists in these households (a person's versions in force are
    then chosen over all their households, as for the whole register)."""
    return list(
        session.scalars(
            select(PERSON_TABLE.c.id_number).where(PERSON_TABLE.c.household_id.in_(list(household_ids))).distinct()
        )
    )


@dataclass(frozen=True, slots=True)
class NewestFacts:
    """The newest knowledge of the dated facts, whatever the snapshot: each household's enrolled,
    exited and status, each person's death. The same for every snapshot, so a caller reading
    several snapshots (a PV run whose rows span months) reads it once."""

    households: pd.DataFrame
    people: pd.DataFrame


NEWEST_HOUSEHOLD_FACTS = ("household_id", "enrolled_on", "exited_on", "poverty_status")
NEWEST_PERSON_FACTS = ("id_number", "died_on")


def newest_facts(session: Session, household_ids: Sequence[str] | None = None) -> NewestFacts:
    """The newest dated facts of every household (only ``household_ids`` and their people when given)."""
    person_keys = _people_keys_of(session, household_ids) if household_ids is not None else None
    households = newest_versions(session, HOUSEHOLD_TABLE, "household_id", NEWEST_HOUSEHOLD_FACTS, household_ids)
    people = newest_versions(session, PERSON_TABLE, "id_number", NEWEST_PERSON_FACTS, person_keys)
    return NewestFacts(households, people)


def _newest_facts_beside(
    session: Session, snapshot_as_of: dt.date, households: pd.DataFrame, people: pd.DataFrame
) -> NewestFacts:
    """``newest_facts`` of the whole register, for a caller holding the versions in force at a
    snapshot (``households``, ``people``: with ``version_id`` and ``from_as_of``): only the other
    versions are read (none but the history: a county's register changes by about 1% a month),
    and each key's newest is chosen over both, as ``newest_versions`` chooses over all."""

    def beside(in_force: pd.DataFrame, table: Table, key: str, columns: tuple[str, ...]) -> pd.DataFrame:
        others = newest_versions(session, table, key, columns, not_in_force_at=snapshot_as_of)
        return _newest_of(in_force, others, key, columns)

    return NewestFacts(
        beside(households, HOUSEHOLD_TABLE, "household_id", NEWEST_HOUSEHOLD_FACTS),
        beside(people, PERSON_TABLE, "id_number", NEWEST_PERSON_FACTS),
    )


def _newest_of(in_force: pd.DataFrame, others: pd.DataFrame, key: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """Each key's version from the latest snapshot over two frames of versions whose dates are
    converted already (by ``_newest_per_key``)."""
    chosen = ["version_id", "from_as_of", *columns]
    frame = pd.concat([in_force[chosen], others[chosen]], ignore_index=True)
    frame = frame.sort_values(["from_as_of", "version_id"], kind="stable").drop_duplicates(key, keep="last")
    return frame.reset_index(drop=True)


def newest_facts_of(versions: RegisterVersions) -> NewestFacts:
    """``newest_facts`` of the whole register, from versions already read (each key's version
    from the latest snapshot that lists it, as ``newest_versions`` chooses)."""
    households = versions.households[["version_id", "from_as_of", *NEWEST_HOUSEHOLD_FACTS]]
    people = versions.people[["version_id", "from_as_of", *NEWEST_PERSON_FACTS]]
    return NewestFacts(
        _newest_per_key(households, "household_id", NEWEST_HOUSEHOLD_FACTS),
        _newest_per_key(people, "id_number", NEWEST_PERSON_FACTS),
    )


def register_reads(
    session: Session,
    snapshot_as_of: dt.date | None,
    household_ids: Sequence[str] | None = None,
    newest: NewestFacts | None = None,
    versions: RegisterVersions | None = None,
) -> RegisterReads:
    """Read the snapshot dated ``snapshot_as_of`` and the newest dated facts (see RegisterReads);
    with ``household_ids``, only those households and their people, through the indexes (one
    household at the counter in milliseconds, not the county's register in seconds). ``newest``
    is what ``newest_facts`` read for the same ``household_ids``, when the caller has it;
    ``versions``, what ``register_versions`` read, instead of reading the snapshot again."""
    household_columns = tuple(name for name in HOUSEHOLDS_COLUMNS if name != "member_count")
    if snapshot_as_of is None:
        none = np.array([], dtype="datetime64[s]")
        objects = np.array([], dtype=object)
        households, people = _empty(household_columns), _empty(PEOPLE_COLUMNS)
        rows = np.array([], dtype=np.int64)
        return RegisterReads(None, households, people, none, none, objects, np.array([], bool), none, objects, rows)
    if versions is not None:
        assert household_ids is None, "versions hold the whole register"
        households = _in_force(versions.households, "household_id", HOUSEHOLD_VERSION_COLUMNS, snapshot_as_of)
        people = _in_force(versions.people, "id_number", PERSON_VERSION_COLUMNS, snapshot_as_of)
    else:
        person_keys = _people_keys_of(session, household_ids) if household_ids is not None else None
        households = versions_in_force(
            session, HOUSEHOLD_TABLE, "household_id", HOUSEHOLD_VERSION_COLUMNS, snapshot_as_of, household_ids
        )
        people = versions_in_force(
            session, PERSON_TABLE, "id_number", PERSON_VERSION_COLUMNS, snapshot_as_of, person_keys
        )
    households, people = _by_key(households, "household_id"), _by_key(people, "id_number")
    if newest is not None:
        facts = newest
    elif household_ids is None:
        facts = _newest_facts_beside(session, snapshot_as_of, households, people)
    else:
        facts = newest_facts(session, household_ids)
    newest = households[["household_id"]].merge(facts.households, on="household_id", how="left")
    died = people[["id_number"]].merge(facts.people, on="id_number", how="left")["died_on"]
    exited = newest["exited_on"].to_numpy(dtype="datetime64[s]")
    died_days = died.to_numpy(dtype="datetime64[s]")
    person_household = pd.Index(households["household_id"]).get_indexer(people["household_id"])
    return RegisterReads(
        snapshot_as_of,
        # Sorted by key already: the contract frames keep that order (keys are unique).
        _contract_frame(households, household_columns),
        _contract_frame(people, PEOPLE_COLUMNS),
        newest["enrolled_on"].to_numpy(dtype="datetime64[s]"),
        exited,
        dates_as_objects(exited),
        ~np.isnat(households["exited_on"].to_numpy(dtype="datetime64[s]")),
        died_days,
        dates_as_objects(died_days),
        person_household.astype(np.int64),
    )


def register_on(reads: RegisterReads, on: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The households and people frames as of ``on`` from what ``register_reads`` read (the
    semantics of ``register_as_of``); ``reads`` is not changed."""
    if reads.snapshot_as_of is None:
        return _empty(HOUSEHOLDS_COLUMNS), _empty(PEOPLE_COLUMNS)
    day = np.datetime64(on, "s")
    # Dated facts from the newest knowledge; each shown only when it is on or before D.
    exited_known = ~np.isnat(reads.exited) & (reads.exited <= day)
    status = reads.households["poverty_status"].to_numpy(dtype=object).copy()
    status[exited_known & (status == STATUS_NOT_EXITED)] = STATUS_EXITED
    # A snapshot may carry an exit dated after D (its as_of was given earlier than its content).
    status[~exited_known & reads.snapshot_exited & (status == STATUS_EXITED)] = STATUS_NOT_EXITED
    households = reads.households.assign(
        poverty_status=object_column(status),
        exited_on=object_column(np.where(exited_known, reads.exited_objects, None)),
    )
    registered = np.isnat(reads.enrolled) | (reads.enrolled <= day)
    died_known = ~np.isnat(reads.died) & (reads.died <= day)
    rows = reads.person_household
    # People of the households registered at D; member_count counts those alive at D.
    in_register = (rows >= 0) & (registered[np.maximum(rows, 0)] if len(registered) else False)
    living = np.bincount(rows[in_register & ~died_known], minlength=len(registered)).astype(np.int64)
    households = households.assign(member_count=living)[registered]
    people = reads.people.assign(died_on=object_column(np.where(died_known, reads.died_objects, None)))
    return households[list(HOUSEHOLDS_COLUMNS)].reset_index(drop=True), people[in_register].reset_index(drop=True)


def register_as_of(
    session: Session,
    on: dt.date,
    *,
    before_first_snapshot: str = "empty",
    household_ids: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The households and people frames of docs/contracts.md as of ``on`` (see the module
    docstring for the semantics). Before the first snapshot both are empty, or, with
    ``before_first_snapshot="oldest"``, the oldest snapshot stands in for the structure (with
    the same dated facts: households enrolled after ``on`` left out, deaths and exits after
    ``on`` not shown) — for money of a period older than the registry, such as a national
    subsidy that arrives a year late. With ``household_ids``, the same rows of those households
    only. Many days of one snapshot: ``register_reads`` once, then
    ``register_on`` per day."""
    snapshot_as_of = register_snapshot_for(session, on, before_first_snapshot)
    return register_on(register_reads(session, snapshot_as_of, household_ids), on)


def households_as_of(session: Session, on: dt.date) -> pd.DataFrame:
    """Households registered on ``on``: ``household_id, village_code, county, town, village,
    household_type, poverty_status, enrolled_on, exited_on, head_name, head_id_number, bank_name,
    account_no, member_count`` (living members at ``on``); dates as date objects or None."""
    return register_as_of(session, on)[0]


def people_as_of(session: Session, on: dt.date) -> pd.DataFrame:
    """People of the households registered on ``on``: ``id_number, household_id, name, relation,
    sex, birth_date, school_stage, boarding, health, died_on, person_account_no``; the dead are
    kept with ``died_on`` set (only deaths on or before ``on``)."""
    return register_as_of(session, on)[1]


def _contract_frame(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    result = frame[list(columns)].reset_index(drop=True).copy()
    for name in columns:
        if result[name].dtype.kind == "M":
            result[name] = pd.Series(dates_as_objects(result[name].to_numpy()), dtype=object)
        elif result[name].dtype.kind not in "biu":
            # Identifiers and texts stay plain str objects with None for missing (pandas 3
            # would otherwise infer its string dtype, whose missing value is NaN).
            result[name] = object_column(result[name])
    return result.sort_values(columns[0], kind="stable").reset_index(drop=True)


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([], dtype=object) for name in columns})


# ------------------------------------------------------------------------------- holdings
def holdings_as_of(session: Session, asset_id: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Holdings of ``asset_id`` overlapping ``[start, end]`` (inclusive), from the share register
    import in force: the newest whose ``as_of`` ≤ ``end``, else (a period before every share
    import) the newest one. Columns ``asset_id, holder_type, holder_id, units_e4, principal_fen,
    start_on, end_on``; dates as date objects, ``end_on`` None for an open holding. Many periods
    of one asset: ``HoldingsReader``."""
    return HoldingsReader(session, asset_id).overlapping(start, end)


class HoldingsReader:
    """The holdings of one asset over many periods (a PV run's settlement rows): each share
    import's holdings of the asset are read once, ordered by holder and start, and each period
    is taken from them (``overlapping``), as ``holdings_as_of`` would read it."""

    def __init__(self, session: Session, asset_id: str) -> None:
        self._session = session
        self._asset_id = asset_id
        self._by_import: dict[int, pd.DataFrame] = {}

    def overlapping(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        assert start <= end, (start, end)
        shares_import = _shares_import_for(self._session, end)
        if shares_import is None:
            return _empty(HOLDINGS_COLUMNS)
        held = self._by_import.get(shares_import.id)
        if held is None:
            held = self._by_import[shares_import.id] = _asset_holdings(self._session, shares_import.id, self._asset_id)
        starts = held["start_on"].to_numpy(dtype=object)
        ends = held["end_on"].to_numpy(dtype=object)
        open_ended = pd.isna(ends)
        kept = open_ended.copy()
        kept[~open_ended] = ends[~open_ended] >= start
        kept &= starts <= end
        return held[kept].reset_index(drop=True)


def _shares_import_for(session: Session, end: dt.date) -> RegisterImportRow | None:
    """The share register import in force on ``end``, else the newest one (None: no import)."""
    shares_import = snapshot_in_force(session, end, "shares")
    if shares_import is None:
        shares_import = session.scalar(
            select(RegisterImportRow)
            .where(RegisterImportRow.kind == "shares")
            .order_by(RegisterImportRow.as_of.desc(), RegisterImportRow.id.desc())
            .limit(1)
        )
    return shares_import


def _asset_holdings(session: Session, import_id: int, asset_id: str) -> pd.DataFrame:
    """Every holding of ``asset_id`` in one share import, by holder type, holder and start."""
    frame = statement_frame(
        session,
        select(*[HoldingRow.__table__.c[name] for name in HOLDINGS_COLUMNS])
        .where(HoldingRow.import_id == import_id, HoldingRow.asset_id == asset_id)
        .order_by(HoldingRow.holder_type, HoldingRow.holder_id, HoldingRow.start_on),
    )
    for name in ("units_e4", "principal_fen"):
        frame[name] = frame[name].astype(np.int64)
    return frame.reset_index(drop=True)


# ------------------------------------------------------------------------------- settlements
def settlements(session: Session, station_id: str | None = None) -> pd.DataFrame:
    """Imported PV settlement rows (optionally of one station): ``id, station_id,
    service_period, kwh, revenue_type, amount_fen, received_on, receivable_entry_id``."""
    table = PvSettlementRow.__table__
    statement = select(*[table.c[name] for name in SETTLEMENTS_COLUMNS]).order_by(table.c.id)
    if station_id is not None:
        statement = statement.where(table.c.station_id == station_id)
    frame = statement_frame(session, statement)
    for name in ("id", "kwh", "amount_fen", "receivable_entry_id"):
        frame[name] = frame[name].astype(np.int64)
    return frame


# ------------------------------------------------------------------------------- assets
def assets(session: Session) -> list[Asset]:
    """Every declared asset, stations and cooperatives, by asset id."""
    owner = aliased(EntityRow)
    payer = aliased(EntityRow)
    rows = session.execute(
        select(AssetRow, owner.code, payer.code)
        .join(owner, owner.id == AssetRow.owner_entity_id)
        .outerjoin(payer, payer.id == AssetRow.paying_entity_id)
        .order_by(AssetRow.asset_id)
    ).all()
    return [
        Asset(
            asset_id=row.asset_id,
            kind=row.kind,
            name=row.name,
            owner_entity=owner_code,
            village_codes=tuple(json.loads(row.village_codes)),
            capacity_w=row.capacity_w,
            commissioned_on=row.commissioned_on,
            share_count_e4=row.share_count_e4,
            principal_fen=row.principal_fen,
            credit_code=row.credit_code,
            paying_entity=payer_code,
        )
        for row, owner_code, payer_code in rows
    ]


def asset(session: Session, asset_id: str) -> Asset:
    """One declared asset; refused when it is not declared."""
    for found in assets(session):
        if found.asset_id == asset_id:
            return found
    raise DisburseError(
        tr("asset {asset!r} is not declared; `disburse assets load FILE` declares assets", asset=asset_id)
    )


# ------------------------------------------------------------------------------- history
def household_history(session: Session, household_id: str) -> HouseholdHistory:
    """Every stored version of one household (oldest first, each with its members as its
    snapshot listed them) and every event naming it; refused when the registry never held it."""
    valid_from = aliased(RegisterImportRow)
    valid_to = aliased(RegisterImportRow)
    table = HOUSEHOLD_TABLE
    rows = (
        session.execute(
            select(table, valid_from.as_of.label("from_as_of"), valid_to.as_of.label("to_as_of"))
            .join(valid_from, valid_from.id == table.c.valid_from_import)
            .outerjoin(valid_to, valid_to.id == table.c.valid_to_import)
            .where(table.c.household_id == household_id)
            .order_by(valid_from.as_of, table.c.id)
        )
        .mappings()
        .all()
    )
    if not rows:
        raise DisburseError(
            tr("household {household!r} is not in any imported register snapshot", household=household_id)
        )
    people_rows = (
        session.execute(
            select(PERSON_TABLE, valid_from.as_of.label("from_as_of"), valid_to.as_of.label("to_as_of"))
            .join(valid_from, valid_from.id == PERSON_TABLE.c.valid_from_import)
            .outerjoin(valid_to, valid_to.id == PERSON_TABLE.c.valid_to_import)
            .where(PERSON_TABLE.c.household_id == household_id)
            .order_by(valid_from.as_of, PERSON_TABLE.c.id)
        )
        .mappings()
        .all()
    )
    versions = []
    for row in rows:
        start, stop = row["from_as_of"], row["to_as_of"]
        # The members this version's snapshot listed: person versions in force at its start.
        members = tuple(
            {name: person[name] for name in PERSON_VERSION_COLUMNS}
            for person in people_rows
            if person["from_as_of"] <= start and (person["to_as_of"] is None or person["to_as_of"] > start)
        )
        versions.append(
            HouseholdVersion(
                valid_from=start,
                valid_to=stop,
                valid_from_import=row["valid_from_import"],
                valid_to_import=row["valid_to_import"],
                values={name: row[name] for name in HOUSEHOLD_VERSION_COLUMNS},
                members=members,
            )
        )
    events = _events(session, [RegisterEventRow.household_id == household_id])
    # A move or split names the household it left; also list those that name this one as target.
    events += [
        event
        for event in _events(session, [RegisterEventRow.kind.in_(("move", "split"))])
        if household_id in (event.details.get("to_household_id"), event.details.get("new_household_id"))
    ]
    events.sort(key=lambda event: (event.effective_on, event.kind))
    return HouseholdHistory(household_id, tuple(versions), tuple(events))


def _events(session: Session, conditions: list) -> list[RegisterEvent]:  # type: ignore[type-arg]
    rows = session.execute(
        select(RegisterEventRow, RegisterImportRow.as_of)
        .join(RegisterImportRow, RegisterImportRow.id == RegisterEventRow.import_id)
        .where(and_(*conditions))
        .order_by(RegisterEventRow.effective_on, RegisterEventRow.id)
    ).all()
    return [
        RegisterEvent(
            row.kind, row.household_id, row.id_number, row.effective_on, json.loads(row.details), row.import_id, as_of
        )
        for row, as_of in rows
    ]


def changes_since(session: Session, since: dt.date) -> pd.DataFrame:
    """Register events effective on or after ``since``, oldest first: ``effective_on, kind,
    household_id, id_number, details (JSON text), import_id, snapshot_as_of``."""
    events = _events(session, [RegisterEventRow.effective_on >= since])
    return pd.DataFrame(
        {
            "effective_on": pd.Series([event.effective_on for event in events], dtype=object),
            "kind": pd.Series([event.kind for event in events], dtype=object),
            "household_id": pd.Series([event.household_id for event in events], dtype=object),
            "id_number": pd.Series([event.id_number for event in events], dtype=object),
            "details": pd.Series(
                [json.dumps(event.details, ensure_ascii=False, sort_keys=True) for event in events], dtype=object
            ),
            "import_id": pd.Series([event.import_id for event in events], dtype=np.int64),
            "snapshot_as_of": pd.Series([event.snapshot_as_of for event in events], dtype=object),
        },
        columns=list(CHANGES_COLUMNS),
    )
