"""Domain records of the registry: small immutable types handed to commands and other stages.

The ORM tables are in ``registry/tables.py``; the frames the allocations read are described in
``docs/contracts.md`` and built by ``registry/queries.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from disburse.foundation.errors import ImportProblem
from disburse.foundation.i18n import TranslatedNames, tr_noop
from disburse.foundation.money import format_yuan

# Column sets of the stored versions; the order is the order of the tables' columns.
HOUSEHOLD_VERSION_COLUMNS = (
    "household_id",
    "village_code",
    "county",
    "town",
    "village",
    "village_group",
    "household_type",
    "poverty_status",
    "enrolled_on",
    "exited_on",
    "head_id_number",
    "head_name",
    "bank_name",
    "account_no",
    "member_count",
)
PERSON_VERSION_COLUMNS = (
    "id_number",
    "household_id",
    "name",
    "relation",
    "sex",
    "birth_date",
    "school_stage",
    "boarding",
    "health",
    "died_on",
    "person_account_no",
    "person_bank_name",
    "phone",
)
HOUSEHOLD_DATE_COLUMNS = ("enrolled_on", "exited_on")
PERSON_DATE_COLUMNS = ("birth_date", "died_on")

# The frames of docs/contracts.md.
HOUSEHOLDS_COLUMNS = (
    "household_id",
    "village_code",
    "county",
    "town",
    "village",
    "household_type",
    "poverty_status",
    "enrolled_on",
    "exited_on",
    "head_name",
    "head_id_number",
    "bank_name",
    "account_no",
    "member_count",
)
PEOPLE_COLUMNS = (
    "id_number",
    "household_id",
    "name",
    "relation",
    "sex",
    "birth_date",
    "school_stage",
    "boarding",
    "health",
    "died_on",
    "person_account_no",
)
HOLDINGS_COLUMNS = ("asset_id", "holder_type", "holder_id", "units_e4", "principal_fen", "start_on", "end_on")
SETTLEMENTS_COLUMNS = (
    "id",
    "station_id",
    "service_period",
    "kwh",
    "revenue_type",
    "amount_fen",
    "received_on",
    "receivable_entry_id",
)
CHANGES_COLUMNS = ("effective_on", "kind", "household_id", "id_number", "details", "import_id", "snapshot_as_of")

EVENT_KINDS = (
    "new_household",
    "split",
    "left_register",
    "exit",
    "relapse",
    "status_change",
    "type_change",
    "card_change",
    "head_change",
    "death",
    "move",
    "joined",
    "left",
)


@dataclass(frozen=True, slots=True)
class Asset:
    """A declared asset. A station has ``capacity_w``; a cooperative has ``share_count_e4``,
    ``principal_fen``, ``credit_code`` and ``paying_entity`` (entity codes, not ids)."""

    asset_id: str
    kind: str
    name: str
    owner_entity: str
    village_codes: tuple[str, ...]
    capacity_w: int | None = None
    commissioned_on: dt.date | None = None
    share_count_e4: int | None = None
    principal_fen: int | None = None
    credit_code: str | None = None
    paying_entity: str | None = None


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What one import command did (or, with ``dry_run``, would do).

    ``changed`` is False for a file imported before (same content) and for a dry run;
    ``counts`` names what was (or would be) written, e.g. ``{"households_opened": 3}``;
    ``problems`` are the file's warnings (an import with errors raises ImportRefused instead).
    """

    kind: str
    file_name: str
    file_sha256: str
    changed: bool
    dry_run: bool
    message: str
    import_id: int | None = None
    as_of: dt.date | None = None
    row_count: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    problems: tuple[ImportProblem, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HouseholdVersion:
    """One stored version of a household, with the snapshots between which it was in force
    (``valid_to`` None: still in force), and its members as that version's snapshot listed them."""

    valid_from: dt.date
    valid_to: dt.date | None
    valid_from_import: int
    valid_to_import: int | None
    values: dict[str, object]
    members: tuple[dict[str, object], ...]


@dataclass(frozen=True, slots=True)
class RegisterEvent:
    """A dated change found by comparing a snapshot with the register in force before it."""

    kind: str
    household_id: str
    id_number: str | None
    effective_on: dt.date
    details: dict[str, object]
    import_id: int
    snapshot_as_of: dt.date


@dataclass(frozen=True, slots=True)
class HouseholdHistory:
    """Everything the registry knows about one household: its versions and its events."""

    household_id: str
    versions: tuple[HouseholdVersion, ...]
    events: tuple[RegisterEvent, ...]


# The names of an import's counts (ImportOutcome.counts) for the CLI's table and the web page;
# a count without a name here is shown by its key.
COUNT_NAMES = TranslatedNames(
    {
        "people": tr_noop("people"),
        "households": tr_noop("households"),
        "households_unchanged": tr_noop("households unchanged"),
        "household_versions_opened": tr_noop("household versions opened"),
        "household_versions_closed": tr_noop("household versions closed"),
        "person_versions_opened": tr_noop("person versions opened"),
        "person_versions_closed": tr_noop("person versions closed"),
        "events": tr_noop("register change events"),
        "villages_added": tr_noop("village books opened"),
        "warnings_already_shown": tr_noop("warnings already shown"),
        "assets_added": tr_noop("assets added"),
        "assets_unchanged": tr_noop("assets unchanged"),
        "cooperative_entities_added": tr_noop("cooperative entities added"),
        "holdings": tr_noop("share holdings"),
        "assets": tr_noop("assets"),
        "rows": tr_noop("settlement rows"),
        "posted": tr_noop("posted"),
        "receipts": tr_noop("receipts"),
        "late_receipts": tr_noop("late receipts"),
        "duplicates": tr_noop("duplicates (skipped)"),
        "amount_fen": tr_noop("amount"),
    }
)


def shown_count(name: str, value: int) -> tuple[str, str]:
    """A count's name and value as a table shows them: ``*_fen`` counts are amounts, in yuan."""
    label = COUNT_NAMES.get(name, name.replace("_", " "))
    return label, format_yuan(int(value)) if name.endswith("_fen") else f"{int(value):,}"
