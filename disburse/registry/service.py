"""Service functions of the registry: one per command, each working inside the caller's
transaction (the command opens it, calls one of these, and commits once). None commits.

Register snapshots and backfill
-------------------------------
A register import is a snapshot as of a date. It is compared (vectorised, one merge per kind)
with the versions in force at the snapshot before it: an unchanged row keeps its version, a
changed or vanished row's version is closed (``valid_to_import`` set, the only update ever made)
and a new version is opened; the differences are recorded as dated events.

A snapshot older than the newest is refused unless ``backfill``. A backfilled snapshot B is
inserted at its place between the snapshots P (before it, if any) and N (after it) without
touching any stored version: its rows that differ from what was in force at P are stored as
new versions valid from B to N (``valid_to_import`` = N, set when written, so no existing
version is changed). Where two versions of one key are then in force at a snapshot, the one
opened by the later snapshot wins (``registry.queries``), so the register as of a date in
[B, N) is exactly B, and from N on exactly what it was. A backfill that drops a household or
person that P lists would need to hide a version over [B, N); it is refused instead. Events
found by a backfill that are already recorded (same kind, household, person and date) are not
recorded twice; events dated by the snapshot (a card change, a move) may then appear twice, once
dated B and once dated N, and ``registry changes`` shows both.

The first snapshot (and a backfill before it) is a baseline: it records no events.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from disburse.foundation.actors import require_user
from disburse.foundation.bulk import frame_insert
from disburse.foundation.dates import period_of
from disburse.foundation.errors import DisburseError, ImportProblem, ImportRefused, problems_at
from disburse.foundation.files import file_sha256
from disburse.foundation.frames import statement_frame
from disburse.foundation.i18n import join_list, tr
from disburse.importers.common import ImportContext
from disburse.importers.register import parse_register
from disburse.importers.settlements import parse_settlements
from disburse.importers.shares import parse_shares
from disburse.ledger.chart import OPERATING_INCOME, RECEIVABLES
from disburse.ledger.model import EntryBatch, EntryDraft, PostingDraft
from disburse.ledger.posting import last_closed_periods, post_entries
from disburse.ledger.service import add_entity
from disburse.ledger.tables import BankAccountRow, EntityRow
from disburse.registry.assets_file import parse_assets
from disburse.registry.bulk import close_versions
from disburse.registry.model import (
    HOUSEHOLD_DATE_COLUMNS,
    HOUSEHOLD_VERSION_COLUMNS,
    PERSON_DATE_COLUMNS,
    PERSON_VERSION_COLUMNS,
    Asset,
    HouseholdHistory,
    ImportOutcome,
)
from disburse.registry.queries import (
    HOUSEHOLD_TABLE,
    PERSON_TABLE,
    assets,
    changes_since,
    household_history,
    register_as_of,
    snapshot_in_force,
    versions_in_force,
)
from disburse.registry.tables import AssetRow, HoldingRow, PvSettlementRow, RegisterEventRow, RegisterImportRow
from disburse.registry.versions import (
    EVENT_COLUMNS,
    register_events,
    snapshot_households,
    snapshot_people,
    versions_diff,
)

Progress = Callable[[str], None]
FILE_NAME_LENGTH_MAX = 500
REVENUE_TYPE_NAMES_ZH = {"base": "标杆电价", "subsidy": "国家补贴"}
SETTLEMENT_SOURCE_KIND = "pv_settlement"
SETTLEMENT_RECEIPT_SOURCE_KIND = "pv_receipt"


def _no_progress(stage: str) -> None:
    """The default progress callback: library callers see nothing."""


def _previous_import(session: Session, kind: str, digest: str) -> RegisterImportRow | None:
    return session.scalar(
        select(RegisterImportRow).where(RegisterImportRow.kind == kind, RegisterImportRow.file_sha256 == digest)
    )


def _repeat_outcome(kind: str, path: Path, digest: str, previous: RegisterImportRow, dry_run: bool) -> ImportOutcome:
    return ImportOutcome(
        kind=kind,
        file_name=path.name,
        file_sha256=digest,
        changed=False,
        dry_run=dry_run,
        message=(
            tr(
                "{file} was imported before (import {id}, {previous_file}, as of {as_of}, by {user}); nothing changed",
                file=path.name,
                id=previous.id,
                previous_file=previous.file_name,
                as_of=previous.as_of.isoformat(),
                user=previous.imported_by,
            )
        ),
        import_id=previous.id,
        as_of=previous.as_of,
        row_count=previous.row_count,
    )


def _insert_import(
    session: Session,
    kind: str,
    path: Path,
    digest: str,
    as_of: dt.date,
    row_count: int,
    warning_count: int,
    user: str,
    replaces: RegisterImportRow | None = None,
) -> int:
    return session.execute(
        insert(RegisterImportRow)
        .values(
            kind=kind,
            file_name=str(path)[-FILE_NAME_LENGTH_MAX:],
            file_sha256=digest,
            as_of=as_of,
            row_count=row_count,
            warning_count=warning_count,
            imported_by=user,
            replaces_import_id=replaces.id if replaces is not None else None,
        )
        .returning(RegisterImportRow.id)
    ).scalar_one()


def _warnings(problems: tuple[ImportProblem, ...] | list[ImportProblem]) -> tuple[ImportProblem, ...]:
    return tuple(problem for problem in problems if problem.severity == "warning")


# ------------------------------------------------------------------------------- register
# Warnings about an account number that an earlier snapshot already carried were shown when it
# first arrived; repeating them on every monthly import hides the new ones.
ACCOUNT_COLUMNS_ZH = ("银行账号", "个人银行账号")
# A snapshot lists every household in its scope, so one that lacks more than this share of them
# (or a whole township or village) is far more likely a partial or wrong file than a month of
# departures; it is refused unless the user states the number (--confirm-exits).
REMOVED_SHARE_MAX_PERCENT = 5
# --scope: the register column a township's or village's file is limited to.
SCOPE_COLUMNS = {"乡镇": "town", "town": "town", "行政村": "village", "village": "village"}


@dataclass(frozen=True, slots=True)
class RegisterScope:
    """A file that covers one township or village (``--scope 乡镇:城关镇``): households elsewhere
    are neither compared nor touched."""

    column: str
    name: str

    @classmethod
    def parse(cls, text: str) -> "RegisterScope":
        kind, separator, name = text.partition(":")
        if not separator or kind.strip() not in SCOPE_COLUMNS or not name.strip():
            raise DisburseError(tr("--scope takes 乡镇:NAME or 行政村:NAME, not {text!r}", text=text))
        return cls(SCOPE_COLUMNS[kind.strip()], name.strip())

    def describe(self) -> str:
        return f"{'乡镇' if self.column == 'town' else '行政村'} {self.name}"


@dataclass(frozen=True, slots=True)
class _Placement:
    """Where a snapshot goes in the history: the snapshot after it (a backfill) and the one it
    replaces (a corrected file for the same date)."""

    following: RegisterImportRow | None
    replaced: RegisterImportRow | None


@dataclass(frozen=True, slots=True)
class _SnapshotDiff:
    new_households: pd.DataFrame
    new_people: pd.DataFrame
    household_diff: object
    person_diff: object
    events: pd.DataFrame
    known_accounts: frozenset[str]
    old_households: pd.DataFrame


def _parsed_register(file: Path, today: dt.date):  # type: ignore[no-untyped-def]
    """The register file parsed and checked; refused (ImportRefused, every problem listed) with
    any error or without a single row: a register snapshot lists every household in its scope."""
    parsed = parse_register(file, today=today)
    if parsed.refused:
        raise ImportRefused(parsed.problems)
    if len(parsed.frame) == 0:
        reason = tr("the file has a header and no data rows; a register snapshot lists every household in its scope")
        raise ImportRefused([ImportProblem(str(file), None, None, "", reason)])
    return parsed


def import_register(
    session: Session,
    path: str | os.PathLike[str],
    *,
    user: str,
    as_of: dt.date | None = None,
    dry_run: bool = False,
    backfill: bool = False,
    replace: bool = False,
    scope: RegisterScope | None = None,
    confirm_exits: int | None = None,
    today: dt.date | None = None,
    progress: Progress = _no_progress,
) -> ImportOutcome:
    """Import a household register file as the snapshot as of ``as_of`` (default today).

    Refuses (ImportRefused) a file with any error, writing nothing; refuses (DisburseError) a
    snapshot older than the newest unless ``backfill``, and a second snapshot for one date unless
    ``replace`` (a corrected file for the newest date, which then supersedes the first). The same
    file again changes nothing. With ``dry_run`` everything is checked and counted, nothing
    written. Creates a village entity for every village code not yet one.

    With ``scope`` the file covers one township or village and only its households are
    compared. A snapshot that would remove more than REMOVED_SHARE_MAX_PERCENT of the households
    in scope, or every household of a township or village, is refused unless ``confirm_exits``
    states how many it removes.
    """
    require_user(user)
    file = Path(path)
    today = today or dt.date.today()
    as_of = as_of or today
    if as_of > today:
        raise DisburseError(
            tr("--as-of {as_of} is in the future (today is {today})", as_of=as_of.isoformat(), today=today.isoformat())
        )
    digest = file_sha256(file)
    previous_import = _previous_import(session, "register", digest)
    if previous_import is not None:
        return _repeat_outcome("register", file, digest, previous_import, dry_run)
    placement = _register_placement(session, as_of, backfill, replace)
    progress(tr("reading and validating"))
    parsed = _parsed_register(file, today)
    progress(tr("comparing with the register in force"))
    diff = _diff_with_register_in_force(session, parsed.frame, as_of, placement, scope, str(file))
    _refuse_mass_removal(diff, scope, confirm_exits)
    warnings, repeated = _new_warnings(parsed.problems, diff.known_accounts)
    new_villages = _new_village_codes(session, diff.new_households)
    counts = _register_counts(diff, placement, new_villages, repeated)
    outcome_base = dict(
        kind="register",
        file_name=file.name,
        file_sha256=digest,
        as_of=as_of,
        row_count=len(parsed.frame),
        counts=counts,
        problems=warnings,
    )
    if dry_run:
        message = tr(
            "dry run: {file} is valid ({people:,} people, {households:,} households, "
            "{warnings} warning(s)); nothing was written",
            file=file.name,
            people=len(parsed.frame),
            households=len(diff.new_households),
            warnings=len(warnings),
        )
        return ImportOutcome(changed=False, dry_run=True, message=message, **outcome_base)
    progress(tr("writing"))
    import_id = _insert_import(
        session, "register", file, digest, as_of, len(parsed.frame), len(warnings), user, replaces=placement.replaced
    )
    _write_snapshot(session, import_id, diff, placement, new_villages, user)
    return ImportOutcome(
        changed=True,
        dry_run=False,
        import_id=import_id,
        message=_imported_message(file, as_of, parsed.frame, diff, placement),
        **outcome_base,
    )


def _register_placement(session: Session, as_of: dt.date, backfill: bool, replace: bool) -> _Placement:
    """Refuse a snapshot whose date clashes with the history; say where it goes otherwise."""
    same_date = session.scalar(
        select(RegisterImportRow)
        .where(RegisterImportRow.kind == "register", RegisterImportRow.as_of == as_of)
        .order_by(RegisterImportRow.id.desc())
        .limit(1)
    )
    newest = session.scalar(select(func.max(RegisterImportRow.as_of)).where(RegisterImportRow.kind == "register"))
    if same_date is not None:
        if not replace:
            raise DisburseError(
                tr(
                    "a register snapshot as of {as_of} was already imported from {file} "
                    "(import {id}); give this file its own --as-of date, or --replace it with this "
                    "corrected file",
                    as_of=as_of.isoformat(),
                    file=same_date.file_name,
                    id=same_date.id,
                )
            )
        if as_of != newest:
            raise DisburseError(
                tr(
                    "only the newest snapshot ({newest}) can be replaced; {as_of} has later snapshots built on it",
                    newest=newest.isoformat(),
                    as_of=as_of.isoformat(),
                )
            )
        return _Placement(following=None, replaced=same_date)
    if replace:
        raise DisburseError(tr("--replace: no register snapshot as of {as_of} to replace", as_of=as_of.isoformat()))
    if newest is None or as_of > newest:
        return _Placement(following=None, replaced=None)
    if not backfill:
        raise DisburseError(
            tr(
                "the snapshot as of {as_of} is older than the newest imported one "
                "({newest}); use --backfill to insert it at its place in the history",
                as_of=as_of.isoformat(),
                newest=newest.isoformat(),
            )
        )
    following = session.scalar(
        select(RegisterImportRow)
        .where(RegisterImportRow.kind == "register", RegisterImportRow.as_of > as_of)
        .order_by(RegisterImportRow.as_of, RegisterImportRow.id)
        .limit(1)
    )
    return _Placement(following=following, replaced=None)


def _diff_with_register_in_force(
    session: Session,
    frame: pd.DataFrame,
    as_of: dt.date,
    placement: _Placement,
    scope: RegisterScope | None,
    file: str,
) -> _SnapshotDiff:
    """The snapshot's households and people against the register in force on ``as_of`` (within
    ``scope``): which versions open and close, and the dated events between them."""
    new_households = snapshot_households(frame)
    new_people = snapshot_people(frame)
    previous = snapshot_in_force(session, as_of)
    if previous is not None:
        old_households = versions_in_force(
            session, HOUSEHOLD_TABLE, "household_id", HOUSEHOLD_VERSION_COLUMNS, previous.as_of
        )
        old_people = versions_in_force(session, PERSON_TABLE, "id_number", PERSON_VERSION_COLUMNS, previous.as_of)
    else:
        old_households = _empty_versions(HOUSEHOLD_VERSION_COLUMNS, HOUSEHOLD_DATE_COLUMNS)
        old_people = _empty_versions(PERSON_VERSION_COLUMNS, PERSON_DATE_COLUMNS)
    if scope is not None:
        old_households, old_people = _within_scope(scope, file, frame, new_households, old_households, old_people)
    household_diff = versions_diff(old_households, new_households, "household_id", HOUSEHOLD_VERSION_COLUMNS)
    person_diff = versions_diff(old_people, new_people, "id_number", PERSON_VERSION_COLUMNS)
    if placement.following is not None and (len(household_diff.vanished) or len(person_diff.vanished)):
        missing = [*household_diff.vanished[:5].tolist(), *person_diff.vanished[:5].tolist()]
        raise DisburseError(
            tr(
                "a backfilled snapshot must list every household and person of the snapshot before it "
                "({previous}); this one drops {households} household(s) and {people} person(s), e.g. "
                "{examples}; nothing was written",
                previous=previous.as_of.isoformat() if previous else "-",
                households=len(household_diff.vanished),
                people=len(person_diff.vanished),
                examples=join_list(missing),
            )
        )
    if previous is not None:
        events = register_events(old_households, new_households, old_people, new_people, as_of)
        if placement.following is not None:
            events = _without_recorded_events(session, events)
    else:
        events = pd.DataFrame({name: pd.Series([], dtype=object) for name in EVENT_COLUMNS})
    known_accounts = frozenset(
        value
        for column in (old_households.get("account_no"), old_people.get("person_account_no"))
        if column is not None
        for value in column.dropna().astype(str).tolist()
    )
    return _SnapshotDiff(
        new_households, new_people, household_diff, person_diff, events, known_accounts, old_households
    )


def _within_scope(
    scope: RegisterScope,
    file: str,
    frame: pd.DataFrame,
    new_households: pd.DataFrame,
    old_households: pd.DataFrame,
    old_people: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The register in force limited to ``scope``, plus any household or person of the file that
    stood elsewhere before (a move into the scope closes its old version). A row of the file
    outside the scope refuses the file: the rest of the county is not this file's business."""
    outside = frame[scope.column].to_numpy(dtype=object) != scope.name
    if outside.any():
        rows = frame.loc[outside, "source_row"].tolist()
        raise ImportRefused(
            problems_at(
                file,
                None,
                rows,
                frame.loc[outside, scope.column].tolist(),
                tr("the row lies outside the scope {scope} of this import", scope=scope.describe()),
            )
        )
    in_scope = old_households[scope.column].to_numpy(dtype=object) == scope.name
    listed = old_households["household_id"].isin(new_households["household_id"]).to_numpy()
    households = old_households[in_scope | listed].reset_index(drop=True)
    people = old_people[
        old_people["household_id"].isin(households["household_id"]) | old_people["id_number"].isin(frame["id_number"])
    ].reset_index(drop=True)
    return households, people


def _refuse_mass_removal(diff: _SnapshotDiff, scope: RegisterScope | None, confirm_exits: int | None) -> None:
    """Refuse a snapshot that drops more than REMOVED_SHARE_MAX_PERCENT of the households in
    scope, or a whole township or village, unless the user stated exactly how many it drops."""
    removed = diff.household_diff.vanished
    before = diff.old_households
    if confirm_exits is not None:
        if confirm_exits != len(removed):
            raise DisburseError(
                tr(
                    "--confirm-exits {confirm}, but the snapshot removes {removed:,} household(s); nothing was written",
                    confirm=confirm_exits,
                    removed=len(removed),
                )
            )
        return
    if len(before) == 0:
        return
    gone = before[before["household_id"].isin(removed)]
    emptied = [
        f"{'乡镇' if column == 'town' else '行政村'} {name}"
        for column in ("town", "village")
        for name, count in gone[column].value_counts().items()
        if count == int((before[column] == name).sum())
    ]
    share_percent = 100 * len(removed) / len(before)
    if share_percent <= REMOVED_SHARE_MAX_PERCENT and not emptied:
        return
    where = tr(" in {scope}", scope=scope.describe()) if scope is not None else ""
    whole = tr(", among them every household of {places}", places=join_list(emptied[:5])) if emptied else ""
    raise DisburseError(
        tr(
            "this snapshot would remove {removed:,} of the {before:,} households{where} "
            "({share:.1f}%; more than {limit}% is refused){whole}; a partial file or one "
            "township's file would do this (import it with --scope 乡镇:NAME). If they really left the register, "
            "import again with --confirm-exits {count}; nothing was written",
            removed=len(removed),
            before=len(before),
            where=where,
            share=share_percent,
            limit=REMOVED_SHARE_MAX_PERCENT,
            whole=whole,
            count=len(removed),
        )
    )


def _new_warnings(
    problems: tuple[ImportProblem, ...], known_accounts: frozenset[str]
) -> tuple[tuple[ImportProblem, ...], int]:
    """The file's warnings, less those about an account number the register in force already
    holds (shown when it first arrived); returns them and how many were left out."""
    warnings = _warnings(problems)
    fresh = tuple(
        problem
        for problem in warnings
        if not (problem.column in ACCOUNT_COLUMNS_ZH and problem.value.strip() in known_accounts)
    )
    return fresh, len(warnings) - len(fresh)


def _new_village_codes(session: Session, households: pd.DataFrame) -> list[str]:
    village_codes = sorted(set(households["village_code"].tolist()))
    known = set(session.scalars(select(EntityRow.code).where(EntityRow.code.in_(village_codes))).all())
    return [code for code in village_codes if code not in known]


def _register_counts(diff: _SnapshotDiff, placement: _Placement, new_villages: list[str], repeated: int) -> dict:
    backfilled = placement.following is not None
    return {
        "people": len(diff.new_people),
        "households": len(diff.new_households),
        "households_unchanged": diff.household_diff.unchanged_count,
        "household_versions_opened": len(diff.household_diff.opened),
        "household_versions_closed": 0 if backfilled else len(diff.household_diff.closed_ids),
        "person_versions_opened": len(diff.person_diff.opened),
        "person_versions_closed": 0 if backfilled else len(diff.person_diff.closed_ids),
        "events": len(diff.events),
        "villages_added": len(new_villages),
        "warnings_already_shown": repeated,
    }


def _write_snapshot(
    session: Session, import_id: int, diff: _SnapshotDiff, placement: _Placement, new_villages: list[str], user: str
) -> None:
    names = diff.new_households.drop_duplicates("village_code").set_index("village_code")
    for code in new_villages:
        add_entity(session, code, f"{names.at[code, 'town']}{names.at[code, 'village']}", "village", user)
    following = placement.following
    if following is None:
        close_versions(session, HOUSEHOLD_TABLE, diff.household_diff.closed_ids, import_id)
        close_versions(session, PERSON_TABLE, diff.person_diff.closed_ids, import_id)
    constants = {"valid_from_import": import_id, "valid_to_import": following.id if following else None}
    for table, opened, columns, dates in (
        (HOUSEHOLD_TABLE, diff.household_diff.opened, HOUSEHOLD_VERSION_COLUMNS, HOUSEHOLD_DATE_COLUMNS),
        (PERSON_TABLE, diff.person_diff.opened, PERSON_VERSION_COLUMNS, PERSON_DATE_COLUMNS),
    ):
        frame_insert(session, table.name, opened, columns, date_columns=dates, constants=constants)
    frame_insert(
        session,
        RegisterEventRow.__tablename__,
        diff.events,
        EVENT_COLUMNS,
        date_columns=("effective_on",),
        constants={"import_id": import_id},
    )


def _imported_message(
    file: Path, as_of: dt.date, frame: pd.DataFrame, diff: _SnapshotDiff, placement: _Placement
) -> str:
    placed = ""
    if placement.following is not None:
        placed = tr(" (backfilled before the snapshot as of {as_of})", as_of=placement.following.as_of.isoformat())
    elif placement.replaced is not None:
        placed = tr(" (replacing import {id}, {file})", id=placement.replaced.id, file=placement.replaced.file_name)
    return tr(
        "imported {file} as the register snapshot as of {as_of}{placed}: "
        "{people:,} people in {households:,} households; {events} event(s)",
        file=file.name,
        as_of=as_of.isoformat(),
        placed=placed,
        people=len(frame),
        households=len(diff.new_households),
        events=len(diff.events),
    )


def _empty_versions(columns: tuple[str, ...], date_columns: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series([], dtype=object) for name in ("version_id", *columns)})
    for name in date_columns:
        frame[name] = pd.Series([], dtype="datetime64[s]")
    return frame


def _without_recorded_events(session: Session, events: pd.DataFrame) -> pd.DataFrame:
    """Drop events already recorded with the same kind, household, person and date."""
    if len(events) == 0:
        return events
    table = RegisterEventRow.__table__
    recorded = statement_frame(
        session,
        select(table.c.kind, table.c.household_id, table.c.id_number, table.c.effective_on).where(
            table.c.household_id.in_(sorted(set(events["household_id"])))
        ),
    )
    if len(recorded) == 0:
        return events
    keys = set(zip(recorded["kind"], recorded["household_id"], recorded["id_number"], recorded["effective_on"]))
    keep = [
        key not in keys
        for key in zip(events["kind"], events["household_id"], events["id_number"], events["effective_on"])
    ]
    return events[np.array(keep, dtype=bool)].reset_index(drop=True)


# ------------------------------------------------------------------------------- assets
def load_assets(session: Session, path: str | os.PathLike[str], *, user: str) -> ImportOutcome:
    """Declare the assets of an ``assets.yaml`` file.

    The same file again changes nothing. A file may add assets; one that changes the definition
    of an asset already declared is refused (shares and settlements were read against it). A
    cooperative becomes an entity (kind cooperative, code = its credit code) if it is not one.
    Owners and paying entities must exist.
    """
    require_user(user)
    file = Path(path)
    declared, problems, digest = parse_assets(file)
    if any(problem.severity == "error" for problem in problems):
        raise ImportRefused(problems)
    warnings = _warnings(problems)
    previous_import = _previous_import(session, "assets", digest)
    if previous_import is not None:
        return _repeat_outcome("assets", file, digest, previous_import, False)

    existing = {item.asset_id: item for item in assets(session)}
    _assets_conflicts_check(declared, existing)
    added = [item for item in declared if item.asset_id not in existing]
    entity_ids = _asset_entity_ids(session, added)
    entity_warnings, cooperatives_added = _cooperative_entities_add(session, added, user)
    import_id = _insert_import(session, "assets", file, digest, dt.date.today(), len(declared), len(warnings), user)
    _asset_rows_insert(session, added, entity_ids, digest, user)
    return ImportOutcome(
        kind="assets",
        file_name=file.name,
        file_sha256=digest,
        changed=bool(added),
        dry_run=False,
        import_id=import_id,
        row_count=len(declared),
        problems=warnings,
        warnings=tuple(entity_warnings),
        counts={
            "assets_added": len(added),
            "assets_unchanged": len(declared) - len(added),
            "cooperative_entities_added": cooperatives_added,
        },
        message=tr(
            "{added} asset(s) declared from {file}, {unchanged} already declared",
            added=len(added),
            file=file.name,
            unchanged=len(declared) - len(added),
        ),
    )


def _assets_conflicts_check(declared: tuple[Asset, ...], existing: dict[str, Asset]) -> None:
    """Refuse a file that redefines an asset already declared: shares and settlements were read
    against the definition in the books."""
    conflicts = [
        tr(
            "{asset}: the file says {file}, the books say {books}",
            asset=item.asset_id,
            file=item,
            books=existing[item.asset_id],
        )
        for item in declared
        if item.asset_id in existing and existing[item.asset_id] != item
    ]
    if conflicts:
        raise DisburseError(
            tr("the assets file changes assets already declared (only adding assets is allowed); nothing was loaded:")
            + "\n  "
            + "\n  ".join(conflicts)
        )


def _asset_entity_ids(session: Session, added: list[Asset]) -> dict[str, int]:
    """The entity ids of the owners and paying entities of the assets being added; refuse the file
    if one does not exist (an asset's money must have books to go to)."""
    entity_codes = {item.owner_entity for item in added} | {item.paying_entity for item in added if item.paying_entity}
    entity_ids = dict(
        session.execute(select(EntityRow.code, EntityRow.id).where(EntityRow.code.in_(entity_codes))).all()
    )
    missing = sorted(entity_codes - set(entity_ids))
    if missing:
        raise DisburseError(
            tr(
                "owner or paying entity {entities} does not exist; `disburse entities add` creates it; "
                "nothing was loaded",
                entities=join_list(missing),
            )
        )
    return entity_ids


def _cooperative_entities_add(session: Session, added: list[Asset], user: str) -> tuple[list[str], int]:
    """Make each added cooperative an entity (code = its credit code) unless one exists; return the
    warnings of the entities added and how many were added."""
    entity_warnings = []
    cooperatives_added = 0
    for item in added:
        if item.kind == "cooperative" and item.credit_code:
            exists = session.scalar(select(EntityRow.id).where(EntityRow.code == item.credit_code))
            if exists is None:
                outcome = add_entity(session, item.credit_code, item.name, "cooperative", user)
                entity_warnings.extend(outcome.warnings)
                cooperatives_added += 1
    return entity_warnings, cooperatives_added


def _asset_rows_insert(
    session: Session, added: list[Asset], entity_ids: dict[str, int], digest: str, user: str
) -> None:
    """Insert the added assets in one statement, each stamped with the file it was declared in."""
    if added:
        session.execute(
            insert(AssetRow),
            [
                {
                    "asset_id": item.asset_id,
                    "kind": item.kind,
                    "name": item.name,
                    "owner_entity_id": entity_ids[item.owner_entity],
                    "capacity_w": item.capacity_w,
                    "share_count_e4": item.share_count_e4,
                    "principal_fen": item.principal_fen,
                    "paying_entity_id": entity_ids[item.paying_entity] if item.paying_entity else None,
                    "village_codes": _json_list(item.village_codes),
                    "credit_code": item.credit_code,
                    "commissioned_on": item.commissioned_on,
                    "config_sha256": digest,
                    "created_by": user,
                }
                for item in added
            ],
        )


def _json_list(values: tuple[str, ...]) -> str:
    return json.dumps(list(values))


# ------------------------------------------------------------------------------- shares
def import_shares(
    session: Session,
    path: str | os.PathLike[str],
    *,
    user: str,
    as_of: dt.date | None = None,
    dry_run: bool = False,
    today: dt.date | None = None,
    progress: Progress = _no_progress,
) -> ImportOutcome:
    """Import a share register file as the share register in force from ``as_of`` (default
    today): it replaces, from that date on, the holdings of every earlier shares import.

    Holders must be households the registry has held (in any snapshot) or known villages (a
    village entity, or a village a declared asset serves); assets must be declared. The same file again changes nothing.
    """
    require_user(user)
    file = Path(path)
    today = today or dt.date.today()
    as_of = as_of or today
    digest = file_sha256(file)
    previous_import = _previous_import(session, "shares", digest)
    if previous_import is not None:
        return _repeat_outcome("shares", file, digest, previous_import, dry_run)
    progress(tr("reading and validating"))
    context = _shares_context(session, today)
    parsed = parse_shares(file, context)
    if parsed.refused:
        raise ImportRefused(parsed.problems)
    warnings = _warnings(parsed.problems)
    frame = parsed.frame
    counts = {"holdings": len(frame), "assets": int(frame["asset_id"].nunique())}
    base = dict(
        kind="shares",
        file_name=file.name,
        file_sha256=digest,
        as_of=as_of,
        row_count=len(frame),
        counts=counts,
        problems=warnings,
    )
    if dry_run:
        return ImportOutcome(
            changed=False,
            dry_run=True,
            message=tr(
                "dry run: {file} is valid ({holdings:,} holdings); nothing was written",
                file=file.name,
                holdings=len(frame),
            ),
            **base,
        )
    progress(tr("writing"))
    import_id = _insert_import(session, "shares", file, digest, as_of, len(frame), len(warnings), user)
    frame_insert(
        session,
        HoldingRow.__tablename__,
        frame,
        ("asset_id", "holder_type", "holder_id", "units_e4", "principal_fen", "start_on", "end_on"),
        date_columns=("start_on", "end_on"),
        constants={"import_id": import_id},
    )
    return ImportOutcome(
        changed=True,
        dry_run=False,
        import_id=import_id,
        message=tr(
            "imported {file}: {holdings:,} holdings in {assets} asset(s), in force from {as_of}",
            file=file.name,
            holdings=len(frame),
            assets=counts["assets"],
            as_of=as_of.isoformat(),
        ),
        **base,
    )


def _shares_context(session: Session, today: dt.date) -> ImportContext:
    """What a share register is checked against: the households the registry has held, the known
    villages and the declared assets."""
    declared = assets(session)
    # A village is known when it has books (an entity, created by a register import) or when a
    # declared asset serves it: a station's village may have no registered household at all.
    villages = set(session.scalars(select(EntityRow.code).where(EntityRow.kind == "village")).all())
    villages.update(code for item in declared for code in item.village_codes)
    return ImportContext(
        today=today,
        known_household_ids=frozenset(session.scalars(select(HOUSEHOLD_TABLE.c.household_id).distinct()).all()),
        known_village_codes=frozenset(villages),
        known_asset_ids=frozenset(item.asset_id for item in declared),
    )


# ------------------------------------------------------------------------------- settlements
SETTLEMENT_KEY = ["station_id", "service_period", "revenue_type", "amount_fen"]


@dataclass(frozen=True, slots=True)
class _SettlementRows:
    """A settlement file's rows sorted into what is posted: ``new`` rows (receivable, and the
    receipt when a 到账日期 is given), ``late`` receipts for rows imported before without a
    到账日期 (with ``settlement_id``), and the warnings for what is skipped."""

    new: pd.DataFrame
    late: pd.DataFrame
    problems: list[ImportProblem]
    duplicates: int


def _settlement_problem(file: Path, frame: pd.DataFrame, index: int, reason: str) -> ImportProblem:
    value = " ".join(str(frame[name].iat[index]) for name in SETTLEMENT_KEY[:3])
    return ImportProblem(str(file), int(frame["source_row"].iat[index]), None, value, reason, "warning")


def _recorded_settlements(session: Session, frame: pd.DataFrame) -> dict[tuple, list[tuple[int, bool]]]:
    """Recorded rows of the file's stations by key: (id, received?) in id order."""
    table = PvSettlementRow.__table__
    recorded = statement_frame(
        session,
        select(table.c.id, table.c.received_on, *[table.c[name] for name in SETTLEMENT_KEY])
        .where(table.c.station_id.in_(sorted(set(frame["station_id"]))))
        .order_by(table.c.id),
    )
    by_key: dict[tuple, list[tuple[int, bool]]] = {}
    for row in recorded.to_dict("records"):
        key = tuple(row[name] for name in SETTLEMENT_KEY)
        by_key.setdefault(key, []).append((int(row["id"]), row["received_on"] is not None))
    return by_key


def _sort_settlement_rows(session: Session, file: Path, frame: pd.DataFrame) -> _SettlementRows:
    """New rows, late receipts and skipped rows (each skipped row a warning)."""
    recorded = _recorded_settlements(session, frame)
    received = ~np.isnat(frame["received_on"].to_numpy(dtype="datetime64[s]"))
    problems: list[ImportProblem] = []
    new, late, late_ids = [], [], []
    for index, key in enumerate(zip(*(frame[name].tolist() for name in SETTLEMENT_KEY))):
        if key[3] == 0:
            problems.append(_settlement_problem(file, frame, index, tr("amount is 0.00; nothing to post")))
        elif key not in recorded:
            new.append(index)
            recorded[key] = [(-1, bool(received[index]))]  # a repeat later in this file is a duplicate
        elif received[index] and any(not done for _, done in recorded[key]) and recorded[key][0][0] != -1:
            position = next(i for i, (_, done) in enumerate(recorded[key]) if not done)
            settlement_id = recorded[key][position][0]
            recorded[key][position] = (settlement_id, True)
            late.append(index)
            late_ids.append(settlement_id)
            reason = tr(
                "already imported as settlement {settlement} without a 到账日期: its receipt is posted now",
                settlement=settlement_id,
            )
            problems.append(_settlement_problem(file, frame, index, reason))
        else:
            in_file = recorded[key][0][0] == -1
            reason = (
                tr("the same settlement appears earlier in this file; posted once")
                if in_file
                else tr(
                    "already imported from another file (same station, period, revenue type and amount); not posted "
                    "again"
                )
            )
            problems.append(_settlement_problem(file, frame, index, reason))
    late_rows = frame.iloc[late].reset_index(drop=True).assign(settlement_id=np.asarray(late_ids, dtype=np.int64))
    duplicates = len(frame) - len(new) - len(late) - int((frame["amount_fen"].to_numpy() == 0).sum())
    return _SettlementRows(frame.iloc[new].reset_index(drop=True), late_rows, problems, duplicates)


def _receipt_accounts(
    session: Session, file: Path, receipts_by_owner: dict[str, int], bank_account: str | None
) -> tuple[dict[str, str], list[ImportProblem]]:
    """The 102.xx sub-account each owner's receipts go to: the account named, else its only one,
    else the first it registered (a warning says so). Refused when an owner with receipts to book
    has no bank account, or not the one named."""
    accounts: dict[str, str] = {}
    warnings = []
    for owner, count in sorted(receipts_by_owner.items()):
        registered = session.execute(
            select(BankAccountRow.account_number, BankAccountRow.ledger_account_code)
            .join(EntityRow, EntityRow.id == BankAccountRow.entity_id)
            .where(EntityRow.code == owner)
            .order_by(BankAccountRow.id)
        ).all()
        if not registered:
            raise DisburseError(
                tr(
                    "{owner} has no registered bank account, so the receipt of {count} settlement row(s) with a "
                    "到账日期 cannot be booked (Dr 102 / Cr 112); register it with "
                    "`disburse entities add-bank-account {owner}` and import the file again",
                    owner=owner,
                    count=count,
                )
            )
        numbers = join_list(row.account_number for row in registered)
        chosen = [row for row in registered if bank_account is None or row.account_number == bank_account]
        if not chosen:
            raise DisburseError(
                tr(
                    "{owner} has no bank account {account}; its bank accounts are {numbers}",
                    owner=owner,
                    account=bank_account,
                    numbers=numbers,
                )
            )
        if bank_account is None and len(registered) > 1:
            reason = tr(
                "{owner} has {accounts} bank accounts ({numbers}); the receipts of {count} row(s) are booked "
                "to the first registered, {first} ({code})",
                owner=owner,
                accounts=len(registered),
                numbers=numbers,
                count=count,
                first=chosen[0].account_number,
                code=chosen[0].ledger_account_code,
            )
            warnings.append(ImportProblem(str(file), None, None, owner, reason, "warning"))
        accounts[owner] = chosen[0].ledger_account_code
    return accounts, warnings


def _receipts_by_owner(sorted_rows: _SettlementRows, owners: dict[str, str]) -> dict[str, int]:
    received = ~np.isnat(sorted_rows.new["received_on"].to_numpy(dtype="datetime64[s]"))
    counts: dict[str, int] = {}
    for station_id in [*sorted_rows.new["station_id"][received], *sorted_rows.late["station_id"]]:
        counts[owners[station_id]] = counts.get(owners[station_id], 0) + 1
    return counts


def _settlement_drafts(
    rows: pd.DataFrame,
    kind: str,
    owners: dict[str, str],
    banks: dict[str, str],
    last_closed: dict[str, str],
    file: Path,
    today: dt.date,
) -> list[EntryDraft]:
    """Entries for ``rows``: ``kind`` "receivable" (Dr 112 / Cr 501, dated the 到账日期 or
    today) or "receipt" (Dr 102.xx / Cr 112, dated the 到账日期); a date in or before the last
    closed period of the owner's books moves to ``today``."""
    drafts = []
    received = rows["received_on"].to_numpy(dtype="datetime64[s]")
    for index, row in enumerate(rows.itertuples(index=False)):
        owner = owners[row.station_id]
        entry_date = today if np.isnat(received[index]) else pd.Timestamp(received[index]).date()
        if owner in last_closed and period_of(entry_date) <= last_closed[owner]:
            entry_date = today
        amount, name = int(row.amount_fen), REVENUE_TYPE_NAMES_ZH[row.revenue_type]
        settlement = f" (settlement {row.settlement_id})" if "settlement_id" in rows.columns else ""
        if kind == "receivable":
            memo, debit, credit = (
                f"{row.station_id} {row.service_period} {name} 电费结算",
                RECEIVABLES,
                OPERATING_INCOME,
            )
        else:
            memo, debit, credit = f"{row.station_id} {row.service_period} {name} 电费到账", banks[owner], RECEIVABLES
        drafts.append(
            EntryDraft(
                entity_code=owner,
                period=period_of(entry_date),
                entry_date=entry_date,
                memo=memo,
                postings=(
                    PostingDraft(debit, amount, fund_source=row.station_id),
                    PostingDraft(credit, -amount, fund_source=row.station_id),
                ),
                source_kind=SETTLEMENT_SOURCE_KIND if kind == "receivable" else SETTLEMENT_RECEIPT_SOURCE_KIND,
                source_reference=f"{file.name[-120:]} row {row.source_row}{settlement}",
                label=tr("{file} row {row}", file=file.name, row=row.source_row),
            )
        )
    return drafts


def _post_settlements(
    session: Session,
    sorted_rows: _SettlementRows,
    owners: dict[str, str],
    banks: dict[str, str],
    file: Path,
    digest: str,
    today: dt.date,
    user: str,
) -> tuple[list[int], int]:
    """Post the receivables of the new rows and every receipt; returns the receivable entry
    ids (in the order of the new rows) and the number of receipts posted."""
    new, late = sorted_rows.new, sorted_rows.late
    receipts_new = new[~np.isnat(new["received_on"].to_numpy(dtype="datetime64[s]"))].reset_index(drop=True)
    last_closed = last_closed_periods(session, sorted(set(owners.values())))
    receivables = _settlement_drafts(new, "receivable", owners, banks, last_closed, file, today)
    receipts = _settlement_drafts(receipts_new, "receipt", owners, banks, last_closed, file, today)
    receipts += _settlement_drafts(late, "receipt", owners, banks, last_closed, file, today)
    if not receivables and not receipts:
        return [], 0
    result = post_entries(
        session, EntryBatch.from_drafts(receivables + receipts), idempotency_key=f"pv-settlement:{digest}", user=user
    )
    return list(result.entry_ids)[: len(receivables)], len(receipts)


def _settlement_outcome_base(file, digest, today, frame, sorted_rows, parse_problems) -> dict:  # type: ignore[no-untyped-def]
    """What every outcome of a settlement import reports: the file, the counts, the warnings."""
    new, late = sorted_rows.new, sorted_rows.late
    receipts = int((~np.isnat(new["received_on"].to_numpy(dtype="datetime64[s]"))).sum()) + len(late)
    counts = {
        "rows": len(frame),
        "posted": len(new),
        "receipts": receipts,
        "late_receipts": len(late),
        "duplicates": sorted_rows.duplicates,
        "amount_fen": int(new["amount_fen"].sum()) if len(new) else 0,
    }
    return dict(
        kind="settlements",
        file_name=file.name,
        file_sha256=digest,
        as_of=today,
        row_count=len(frame),
        counts=counts,
        problems=tuple(_warnings(parse_problems)) + tuple(sorted_rows.problems),
    )


def import_settlements(
    session: Session,
    path: str | os.PathLike[str],
    *,
    user: str,
    dry_run: bool = False,
    today: dt.date | None = None,
    progress: Progress = _no_progress,
    bank_account: str | None = None,
) -> ImportOutcome:
    """Import a PV settlement file and post into the station owner's books, in one post: each
    new row's receivable (Dr 112 应收款 / Cr 501 经营收入, fund source the station, dated the
    row's 到账日期 or ``today`` when blank) and, for a row that carries a 到账日期, the cash received
    (Dr 102.xx 银行存款 of the owner's bank account / Cr 112, dated the 到账日期), so 112 is
    cleared when the money arrives. A date in a closed period moves to ``today``.

    ``bank_account`` names the owner's account the grid company paid into; without it, the only
    account, or the first registered (a warning says which).
    The same file again changes nothing. A row already imported from another file (same station,
    service period, revenue type and amount) is a warning and not posted twice, unless the
    recorded row had no 到账日期 and this one has: then its receipt is posted now and the date
    recorded (a late receipt). Rows without a 到账日期 are not distributed by a PV run until
    their money arrives (``allocations.gathering``).
    """
    require_user(user)
    file = Path(path)
    today = today or dt.date.today()
    digest = file_sha256(file)
    previous_import = _previous_import(session, "settlements", digest)
    if previous_import is not None:
        return _repeat_outcome("settlements", file, digest, previous_import, dry_run)
    progress(tr("reading and validating"))
    stations = {item.asset_id: item for item in assets(session) if item.kind == "station"}
    parsed = parse_settlements(file, ImportContext(today=today, known_station_ids=frozenset(stations)))
    if parsed.refused:
        raise ImportRefused(parsed.problems)
    frame = parsed.frame
    sorted_rows = _sort_settlement_rows(session, file, frame)
    new, late = sorted_rows.new, sorted_rows.late
    owners = {station_id: stations[station_id].owner_entity for station_id in set(frame["station_id"])}
    banks, bank_warnings = _receipt_accounts(session, file, _receipts_by_owner(sorted_rows, owners), bank_account)
    base = _settlement_outcome_base(file, digest, today, frame, sorted_rows, (*parsed.problems, *bank_warnings))
    receipts = base["counts"]["receipts"]
    if dry_run:
        message = tr(
            "dry run: {file} is valid; {new} of {rows} row(s) would be posted, with {receipts} "
            "receipt(s); nothing was written",
            file=file.name,
            new=len(new),
            rows=len(frame),
            receipts=receipts,
        )
        return ImportOutcome(changed=False, dry_run=True, message=message, **base)
    progress(tr("posting receivables and receipts"))
    entry_ids, receipts = _post_settlements(session, sorted_rows, owners, banks, file, digest, today, user)
    warning_count = sum(1 for problem in base["problems"] if problem.severity == "warning")
    import_id = _insert_import(session, "settlements", file, digest, today, len(frame), warning_count, user)
    progress(tr("writing"))
    frame_insert(
        session,
        PvSettlementRow.__tablename__,
        new.assign(receivable_entry_id=np.asarray(entry_ids, dtype=np.int64)),
        ("station_id", "service_period", "kwh", "revenue_type", "amount_fen", "received_on", "receivable_entry_id"),
        date_columns=("received_on",),
        constants={"import_id": import_id},
    )
    _record_late_receipts(session, late)
    message = tr(
        "imported {file}: {new} receivable(s) posted, {receipts} receipt(s) posted "
        "({late} of them for rows imported before), {duplicates} duplicate(s) skipped",
        file=file.name,
        new=len(new),
        receipts=receipts,
        late=len(late),
        duplicates=sorted_rows.duplicates,
    )
    return ImportOutcome(
        changed=bool(entry_ids) or receipts > 0, dry_run=False, import_id=import_id, message=message, **base
    )


def _record_late_receipts(session: Session, late: pd.DataFrame) -> None:
    """The 到账日期 of rows imported before without one (the only update a settlement row gets)."""
    table = PvSettlementRow.__table__
    received = late["received_on"].to_numpy(dtype="datetime64[s]")
    for index, settlement_id in enumerate(late["settlement_id"].tolist()):
        session.execute(
            table.update()
            .where(table.c.id == int(settlement_id), table.c.received_on.is_(None))
            .values(received_on=pd.Timestamp(received[index]).date())
        )


# ------------------------------------------------------------------------------- reading
def household_report(
    session: Session, household_id: str, on: dt.date | None = None
) -> tuple[dict | None, list[dict], HouseholdHistory]:
    """One household as of ``on`` (None when it is not registered then) with its people, and its
    whole history."""
    history = household_history(session, household_id)
    households, people = register_as_of(session, on or dt.date.today())
    row = households[households["household_id"] == household_id]
    members = people[people["household_id"] == household_id]
    return (row.iloc[0].to_dict() if len(row) else None), members.to_dict("records"), history


def register_changes(session: Session, since: dt.date) -> pd.DataFrame:
    """Register events effective on or after ``since`` (see ``registry.queries.changes_since``)."""
    return changes_since(session, since)


__all__ = [
    "Asset",
    "file_sha256",
    "import_register",
    "load_assets",
    "import_shares",
    "import_settlements",
    "household_report",
    "register_changes",
]
