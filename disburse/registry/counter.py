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

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

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


def _person_condition(kind: str, text: str):  # type: ignore[no-untyped-def]
    people = PersonVersionRow
    if kind == "resident_id":
        return people.id_number == text
    if kind == "id_suffix":
        return func.substr(people.id_number, 13, 6) == text
    # A name, or its beginning: the range lets the index answer, LIKE keeps it exact.
    return and_(
        people.name >= text,
        people.name < text + _PREFIX_END,
        people.name.like(_escaped_like(text) + "%", escape="\\"),
    )


def search_households(session: Session, query: str, limit: int = SEARCH_RESULTS_MAX) -> list[Found]:
    """Households matching ``query`` (户编号 or its beginning, 姓名 or its beginning, a whole
    身份证号 or its last six characters), at most ``limit``, by 户编号."""
    text = query.strip().upper() if query.strip()[-1:].lower() == "x" else query.strip()
    if not text or len(text) > SEARCH_TEXT_LENGTH_MAX:
        return []
    kind = search_kind(text)
    matched: dict[str, tuple[str | None, str | None, str | None]] = {}
    if kind in ("household", "household_prefix"):
        condition = (
            HouseholdVersionRow.household_id == text
            if kind == "household"
            else and_(HouseholdVersionRow.household_id >= text, HouseholdVersionRow.household_id < text + _PREFIX_END)
        )
        ids = session.scalars(
            select(HouseholdVersionRow.household_id)
            .where(condition)
            .distinct()
            .order_by(HouseholdVersionRow.household_id)
            .limit(limit)
        ).all()
        matched = {household_id: (None, None, None) for household_id in ids}
    else:
        rows = session.execute(
            select(
                PersonVersionRow.household_id,
                PersonVersionRow.name,
                PersonVersionRow.relation,
                PersonVersionRow.id_number,
            )
            .where(_person_condition(kind, text))
            .order_by(PersonVersionRow.household_id, PersonVersionRow.id.desc())
            .limit(SEARCH_ROWS_MAX)
        ).all()
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
                version.head_name,
                version.town,
                version.village,
                version.poverty_status,
                left_on is None,
                name,
                relation,
                id_number,
            )
        )
    return found


def newest_versions_of(
    session: Session, household_ids: list[str]
) -> dict[str, tuple[HouseholdVersionRow, dt.date, dt.date | None]]:
    """Per household: its newest version, the date of the snapshot that opened it, and the date
    of the snapshot that closed it (None while it is in force)."""
    if not household_ids:
        return {}
    valid_from = aliased(RegisterImportRow)
    valid_to = aliased(RegisterImportRow)
    rows = session.execute(
        select(HouseholdVersionRow, valid_from.as_of, valid_to.as_of)
        .join(valid_from, valid_from.id == HouseholdVersionRow.valid_from_import)
        .outerjoin(valid_to, valid_to.id == HouseholdVersionRow.valid_to_import)
        .where(HouseholdVersionRow.household_id.in_(household_ids))
        .order_by(HouseholdVersionRow.household_id, valid_from.as_of, HouseholdVersionRow.id)
    ).all()
    newest: dict[str, tuple[HouseholdVersionRow, dt.date, dt.date | None]] = {}
    for version, listed_on, left_on in rows:
        newest[version.household_id] = (version, listed_on, left_on)
    return newest


def household_profile(session: Session, household_id: str) -> HouseholdProfile | None:
    """The household as its newest snapshot lists it, with its members then; None when no
    snapshot ever listed it."""
    household_id = household_id.strip()
    found = newest_versions_of(session, [household_id]).get(household_id)
    if found is None:
        return None
    version, listed_on, left_on = found
    valid_from = aliased(RegisterImportRow)
    valid_to = aliased(RegisterImportRow)
    people = session.execute(
        select(PersonVersionRow, valid_from.as_of, valid_to.as_of)
        .join(valid_from, valid_from.id == PersonVersionRow.valid_from_import)
        .outerjoin(valid_to, valid_to.id == PersonVersionRow.valid_to_import)
        .where(PersonVersionRow.household_id == household_id)
        .order_by(PersonVersionRow.id)
    ).all()
    # The members the version's snapshot listed: person versions in force at its start.
    members = tuple(
        {name: getattr(person, name) for name in PERSON_VERSION_COLUMNS}
        for person, start, stop in people
        if start <= listed_on and (stop is None or stop > listed_on)
    )
    values = {name: getattr(version, name) for name in HOUSEHOLD_VERSION_COLUMNS}
    return HouseholdProfile(household_id, values, listed_on, left_on, members)


def household_of_head(session: Session, head_name: str, id_number: str) -> str | None:
    """The household whose head, in its newest version, has this name and resident ID; None
    otherwise (a member who is not the head, or a name that does not go with the ID, finds
    nothing, so the public page shows no one else's household)."""
    name, number = head_name.strip(), id_number.strip().upper()
    if not name or not RESIDENT_ID_SHAPE.match(number):
        return None
    candidates = session.scalars(
        select(PersonVersionRow.household_id)
        .where(or_(PersonVersionRow.id_number == number))
        .where(PersonVersionRow.name == name, PersonVersionRow.relation == HEAD_RELATION)
        .distinct()
        .limit(SEARCH_RESULTS_MAX)
    ).all()
    for household_id, (version, _listed_on, _left_on) in newest_versions_of(session, list(candidates)).items():
        if version.head_id_number == number and version.head_name == name:
            return household_id
    return None
