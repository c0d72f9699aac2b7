"""The counter's questions about one household, each answered from indexes so a clerk waits
milliseconds on a province's register: find households by 户编号, a member's 姓名 (or its
beginning, as the clerk types), a whole 身份证号 or its last six characters; the household as
its newest snapshot lists it, with its members; and, for the public page, the one household
whose head has a given name and resident ID.

"Newest" is the version opened by the latest snapshot listing the household (by ``as_of``); a
household no longer listed keeps that version, with the date of the snapshot that left it out.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import bindparam, func, literal_column, select
from sqlalchemy.orm import Session, aliased

from disburse.foundation.dates import as_date, as_date_or_none
from disburse.registry.model import HOUSEHOLD_VERSION_COLUMNS, PERSON_VERSION_COLUMNS
from disburse.registry.tables import HouseholdVersionRow, PersonVersionRow, RegisterImportRow

SEARCH_RESULTS_MAX = 20
SEARCH_TEXT_LENGTH_MAX = 40
# Rows read per search before they are grouped into households: a common name matches many
# people, and the clerk narrows the search rather than scrolls.
SEARCH_ROWS_MAX = 200
HOUSEHOLD_ID_SHAPE = re.compile(r"^\d{16}$")
HOUSEHOLD_PREFIX_SHAPE = re.compile(r"^\d{4,15}$")
RESIDENT_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
RESIDENT_ID_SUFFIX_SHAPE = re.compile(r"^\d{5}[\dX]$")
HEAD_RELATION = "户主"
# The largest code point: every text that starts with a prefix sorts before prefix + this.
_PREFIX_END = "\U0010ffff"


@dataclass(frozen=True, slots=True)
class Found:
    """One household a search found, and the member (or 户编号) it was found by."""

    household_id: str
    head_name: str | None
    town: str
    village: str
    poverty_status: str
    in_register: bool
    matched_name: str | None
    matched_relation: str | None
    matched_id_number: str | None


@dataclass(frozen=True, slots=True)
class HouseholdProfile:
    """A household as its newest snapshot lists it, with the members that snapshot listed."""

    household_id: str
    values: dict[str, object]
    listed_on: dt.date  # the as_of of the snapshot that opened this version
    left_on: dt.date | None  # the as_of of the snapshot that no longer listed it, if any
    members: tuple[dict[str, object], ...]

    @property
    def in_register(self) -> bool:
        return self.left_on is None


def search_kind(text: str) -> str:
    """How a search text is read: household, household_prefix, resident_id, id_suffix or name."""
    if HOUSEHOLD_ID_SHAPE.match(text):
        return "household"
    if RESIDENT_ID_SHAPE.match(text):
        return "resident_id"
    if RESIDENT_ID_SUFFIX_SHAPE.match(text):
        return "id_suffix"
    if HOUSEHOLD_PREFIX_SHAPE.match(text):
        return "household_prefix"
    return "name"


def _escaped_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_VALID_FROM = aliased(RegisterImportRow)
_VALID_TO = aliased(RegisterImportRow)
_HOUSEHOLDS = HouseholdVersionRow.__table__
_PEOPLE = PersonVersionRow.__table__
# The statements are built once: building a select with aliases costs more than running it.
_NEWEST_VERSIONS = (
    select(_HOUSEHOLDS, _VALID_FROM.as_of.label("listed_on"), _VALID_TO.as_of.label("left_on"))
    .join(_VALID_FROM, _VALID_FROM.id == _HOUSEHOLDS.c.valid_from_import)
    .outerjoin(_VALID_TO, _VALID_TO.id == _HOUSEHOLDS.c.valid_to_import)
    .where(_HOUSEHOLDS.c.household_id.in_(bindparam("ids", expanding=True)))
    .order_by(_HOUSEHOLDS.c.household_id, _VALID_FROM.as_of, _HOUSEHOLDS.c.id)
)
_MEMBERS = (
    select(_PEOPLE, _VALID_FROM.as_of.label("start"), _VALID_TO.as_of.label("stop"))
    .join(_VALID_FROM, _VALID_FROM.id == _PEOPLE.c.valid_from_import)
    .outerjoin(_VALID_TO, _VALID_TO.id == _PEOPLE.c.valid_to_import)
    .where(_PEOPLE.c.household_id == bindparam("household"))
    .order_by(_PEOPLE.c.id)
)
_PERSON_COLUMNS = (_PEOPLE.c.household_id, _PEOPLE.c.name, _PEOPLE.c.relation, _PEOPLE.c.id_number)
# No ORDER BY: with one, a planner may walk the household index in order instead of using the
# name or number index; the few rows found are ordered here.
_PEOPLE_BY = {
    "resident_id": select(*_PERSON_COLUMNS).where(_PEOPLE.c.id_number == bindparam("text")).limit(SEARCH_ROWS_MAX),
    "id_suffix": select(*_PERSON_COLUMNS)
    # Literal 13 and 6, as in the index's expression: with bound numbers the planner cannot see
    # that it is the same expression and scans the table.
    .where(func.substr(_PEOPLE.c.id_number, literal_column("13"), literal_column("6")) == bindparam("text"))
    .limit(SEARCH_ROWS_MAX),
    # A name, or its beginning: the range lets the index answer, LIKE keeps it exact.
    "name": select(*_PERSON_COLUMNS)
    .where(
        _PEOPLE.c.name >= bindparam("text"),
        _PEOPLE.c.name < bindparam("text_end"),
        _PEOPLE.c.name.like(bindparam("pattern"), escape="\\"),
    )
    .limit(SEARCH_ROWS_MAX),
}
_HOUSEHOLD_EXACT = select(_HOUSEHOLDS.c.household_id).where(_HOUSEHOLDS.c.household_id == bindparam("text")).limit(1)
_HOUSEHOLD_PREFIX = (
    select(_HOUSEHOLDS.c.household_id)
    .where(_HOUSEHOLDS.c.household_id >= bindparam("text"), _HOUSEHOLDS.c.household_id < bindparam("text_end"))
    .distinct()
    .order_by(_HOUSEHOLDS.c.household_id)
    .limit(bindparam("limit"))
)
_HEADS = (
    select(_PEOPLE.c.household_id)
    .where(
        _PEOPLE.c.id_number == bindparam("number"),
        _PEOPLE.c.name == bindparam("name"),
        _PEOPLE.c.relation == HEAD_RELATION,
    )
    .distinct()
    .limit(SEARCH_RESULTS_MAX)
)


def search_households(session: Session, query: str, limit: int = SEARCH_RESULTS_MAX) -> list[Found]:
    """Households matching ``query`` (户编号 or its beginning, 姓名 or its beginning, a whole
    身份证号 or its last six characters), at most ``limit``, by 户编号."""
    text = query.strip().upper() if query.strip()[-1:].lower() == "x" else query.strip()
    if not text or len(text) > SEARCH_TEXT_LENGTH_MAX:
        return []
    kind = search_kind(text)
    values = {"text": text, "text_end": text + _PREFIX_END, "pattern": _escaped_like(text) + "%", "limit": limit}
    matched: dict[str, tuple[str | None, str | None, str | None]] = {}
    if kind in ("household", "household_prefix"):
        statement = _HOUSEHOLD_EXACT if kind == "household" else _HOUSEHOLD_PREFIX
        matched = {household_id: (None, None, None) for household_id in session.scalars(statement, values)}
    else:
        rows = sorted(
            session.execute(_PEOPLE_BY[kind], values).all(), key=lambda row: (row.household_id, row.id_number)
        )
        for row in rows:
            matched.setdefault(row.household_id, (row.name, row.relation, row.id_number))
    households = newest_versions_of(session, sorted(matched)[:limit])
    found = []
    for household_id in sorted(households):
        version, _listed_on, left_on = households[household_id]
        name, relation, id_number = matched[household_id]
        found.append(
            Found(
                household_id,
                version["head_name"],
                version["town"],
                version["village"],
                version["poverty_status"],
                left_on is None,
                name,
                relation,
                id_number,
            )
        )
    return found


def newest_versions_of(
    session: Session, household_ids: list[str]
) -> dict[str, tuple[dict[str, object], dt.date, dt.date | None]]:
    """Per household: its newest version's values, the date of the snapshot that opened it, and
    the date of the snapshot that closed it (None while it is in force)."""
    if not household_ids:
        return {}
    newest: dict[str, tuple[dict[str, object], dt.date, dt.date | None]] = {}
    for row in session.execute(_NEWEST_VERSIONS, {"ids": household_ids}).mappings():
        newest[row["household_id"]] = (
            {name: row[name] for name in HOUSEHOLD_VERSION_COLUMNS},
            as_date(row["listed_on"]),
            as_date_or_none(row["left_on"]),
        )
    return newest


def household_profile(session: Session, household_id: str) -> HouseholdProfile | None:
    """The household as its newest snapshot lists it, with its members then; None when no
    snapshot ever listed it."""
    household_id = household_id.strip()
    found = newest_versions_of(session, [household_id]).get(household_id)
    if found is None:
        return None
    values, listed_on, left_on = found
    members = []
    for person in session.execute(_MEMBERS, {"household": household_id}).mappings():
        start, stop = as_date(person["start"]), as_date_or_none(person["stop"])
        # The members the version's snapshot listed: person versions in force at its start.
        if start <= listed_on and (stop is None or stop > listed_on):
            members.append({name: person[name] for name in PERSON_VERSION_COLUMNS})
    return HouseholdProfile(household_id, values, listed_on, left_on, tuple(members))


def household_of_head(session: Session, head_name: str, id_number: str) -> str | None:
    """The household whose head, in its newest version, has this name and resident ID; None
    otherwise (a member who is not the head, or a name that does not go with the ID, finds
    nothing, so the public page shows no one else's household)."""
    name, number = head_name.strip(), id_number.strip().upper()
    if not name or not RESIDENT_ID_SHAPE.match(number):
        return None
    candidates = list(session.scalars(_HEADS, {"number": number, "name": name}))
    for household_id, (values, _listed_on, _left_on) in newest_versions_of(session, candidates).items():
        if values["head_id_number"] == number and values["head_name"] == name:
            return household_id
    return None
