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
from disburse.foundation.errors import DisburseError, ImportProblem, ImportRefused
from disburse.foundation.files import file_sha256
from disburse.foundation.frames import statement_frame
from disburse.importers.common import ImportContext
from disburse.importers.register import parse_register
from disburse.importers.settlements import parse_settlements
from disburse.importers.shares import parse_shares
from disburse.ledger.chart import OPERATING_INCOME, RECEIVABLES
from disburse.ledger.model import EntryBatch, EntryDraft, PostingDraft
from disburse.ledger.posting import post_entries
from disburse.ledger.service import add_entity
from disburse.ledger.tables import BankAccountRow, EntityRow, PeriodRow
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
            f"{path.name} was imported before (import {previous.id}, {previous.file_name}, as of "
            f"{previous.as_of.isoformat()}, by {previous.imported_by}); nothing changed"
        ),
        import_id=previous.id,
        as_of=previous.as_of,
        row_count=previous.row_count,
    )


def _insert_import(
    session: Session, kind: str, path: Path, digest: str, as_of: dt.date, row_count: int, warning_count: int, user: str
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
        )
        .returning(RegisterImportRow.id)
    ).scalar_one()


def _warnings(problems: tuple[ImportProblem, ...] | list[ImportProblem]) -> tuple[ImportProblem, ...]:
    return tuple(problem for problem in problems if problem.severity == "warning")


# ------------------------------------------------------------------------------- register
def import_register(
    session: Session,
    path: str | os.PathLike[str],
    *,
    user: str,
    as_of: dt.date | None = None,
    dry_run: bool = False,
    backfill: bool = False,
    today: dt.date | None = None,
    progress: Progress = _no_progress,
) -> ImportOutcome:
    """Import a household register file as the snapshot as of ``as_of`` (default today).

    Refuses (ImportRefused) a file with any error, writing nothing; refuses (DisburseError) a
    snapshot older than the newest unless ``backfill``, and a second snapshot for one date.
    The same file again changes nothing. With ``dry_run`` everything is checked and counted,
    nothing written. Creates a village entity for every village code not yet one.
    """
    require_user(user)
    file = Path(path)
    today = today or dt.date.today()
    as_of = as_of or today
    if as_of > today:
        raise DisburseError(f"--as-of {as_of.isoformat()} is in the future (today is {today.isoformat()})")
    digest = file_sha256(file)
    previous_import = _previous_import(session, "register", digest)
    if previous_import is not None:
        return _repeat_outcome("register", file, digest, previous_import, dry_run)
    same_date = session.scalar(
        select(RegisterImportRow).where(RegisterImportRow.kind == "register", RegisterImportRow.as_of == as_of)
    )
    if same_date is not None:
        raise DisburseError(
            f"a register snapshot as of {as_of.isoformat()} was already imported from {same_date.file_name} "
            f"(import {same_date.id}); give this file its own --as-of date"
        )
    newest = session.scalar(select(func.max(RegisterImportRow.as_of)).where(RegisterImportRow.kind == "register"))
    following = None
    if newest is not None and as_of < newest:
        if not backfill:
            raise DisburseError(
                f"the snapshot as of {as_of.isoformat()} is older than the newest imported one "
                f"({newest.isoformat()}); use --backfill to insert it at its place in the history"
            )
        following = session.scalar(
            select(RegisterImportRow)
            .where(RegisterImportRow.kind == "register", RegisterImportRow.as_of > as_of)
            .order_by(RegisterImportRow.as_of, RegisterImportRow.id)
            .limit(1)
        )

    progress("reading and validating")
    parsed = parse_register(file, today=today)
    if parsed.refused:
        raise ImportRefused(parsed.problems)
    warnings = _warnings(parsed.problems)

    progress("comparing with the register in force")
    new_households = snapshot_households(parsed.frame)
    new_people = snapshot_people(parsed.frame)
    previous = snapshot_in_force(session, as_of)
    if previous is not None:
        old_households = versions_in_force(
            session, HOUSEHOLD_TABLE, "household_id", HOUSEHOLD_VERSION_COLUMNS, previous.as_of
        )
        old_people = versions_in_force(session, PERSON_TABLE, "id_number", PERSON_VERSION_COLUMNS, previous.as_of)
    else:
        old_households = _empty_versions(HOUSEHOLD_VERSION_COLUMNS, HOUSEHOLD_DATE_COLUMNS)
        old_people = _empty_versions(PERSON_VERSION_COLUMNS, PERSON_DATE_COLUMNS)
    household_diff = versions_diff(old_households, new_households, "household_id", HOUSEHOLD_VERSION_COLUMNS)
    person_diff = versions_diff(old_people, new_people, "id_number", PERSON_VERSION_COLUMNS)
    if following is not None and (len(household_diff.vanished) or len(person_diff.vanished)):
        missing = [*household_diff.vanished[:5].tolist(), *person_diff.vanished[:5].tolist()]
        raise DisburseError(
            f"a backfilled snapshot must list every household and person of the snapshot before it "
            f"({previous.as_of.isoformat() if previous else '-'}); this one drops "
            f"{len(household_diff.vanished)} household(s) and {len(person_diff.vanished)} person(s), e.g. "
            f"{', '.join(missing)}; nothing was written"
        )
    if previous is not None:
        events = register_events(old_households, new_households, old_people, new_people, as_of)
        if following is not None:
            events = _without_recorded_events(session, events)
    else:
        events = pd.DataFrame({name: pd.Series([], dtype=object) for name in EVENT_COLUMNS})

    village_codes = sorted(set(new_households["village_code"].tolist()))
    known_villages = set(session.scalars(select(EntityRow.code).where(EntityRow.code.in_(village_codes))).all())
    new_villages = [code for code in village_codes if code not in known_villages]
    counts = {
        "people": len(new_people),
        "households": len(new_households),
        "households_unchanged": household_diff.unchanged_count,
        "household_versions_opened": len(household_diff.opened),
        "household_versions_closed": 0 if following is not None else len(household_diff.closed_ids),
        "person_versions_opened": len(person_diff.opened),
        "person_versions_closed": 0 if following is not None else len(person_diff.closed_ids),
        "events": len(events),
        "villages_added": len(new_villages),
    }
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
        return ImportOutcome(
            changed=False,
            dry_run=True,
            message=(
                f"dry run: {file.name} is valid ({len(parsed.frame):,} people, {len(new_households):,} households, "
                f"{len(warnings)} warning(s)); nothing was written"
            ),
            **outcome_base,
        )

    progress("writing")
    import_id = _insert_import(session, "register", file, digest, as_of, len(parsed.frame), len(warnings), user)
    names = new_households.drop_duplicates("village_code").set_index("village_code")
    for code in new_villages:
        add_entity(session, code, f"{names.at[code, 'town']}{names.at[code, 'village']}", "village", user)
    if following is None:
        close_versions(session, HOUSEHOLD_TABLE, household_diff.closed_ids, import_id)
        close_versions(session, PERSON_TABLE, person_diff.closed_ids, import_id)
    constants = {"valid_from_import": import_id, "valid_to_import": following.id if following else None}
    frame_insert(
        session,
        HOUSEHOLD_TABLE.name,
        household_diff.opened,
        HOUSEHOLD_VERSION_COLUMNS,
        date_columns=HOUSEHOLD_DATE_COLUMNS,
        constants=constants,
    )
    frame_insert(
        session,
        PERSON_TABLE.name,
        person_diff.opened,
        PERSON_VERSION_COLUMNS,
        date_columns=PERSON_DATE_COLUMNS,
        constants=constants,
    )
    frame_insert(
        session,
        RegisterEventRow.__tablename__,
        events,
        EVENT_COLUMNS,
        date_columns=("effective_on",),
        constants={"import_id": import_id},
    )
    placed = f" (backfilled before the snapshot as of {following.as_of.isoformat()})" if following else ""
    return ImportOutcome(
        changed=True,
        dry_run=False,
        import_id=import_id,
        message=(
            f"imported {file.name} as the register snapshot as of {as_of.isoformat()}{placed}: "
            f"{len(parsed.frame):,} people in {len(new_households):,} households; {len(events)} event(s)"
        ),
        **outcome_base,
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
    conflicts = [
        f"{item.asset_id}: the file says {item}, the books say {existing[item.asset_id]}"
        for item in declared
        if item.asset_id in existing and existing[item.asset_id] != item
    ]
    if conflicts:
        raise DisburseError(
            "the assets file changes assets already declared (only adding assets is allowed); nothing was "
            "loaded:\n  " + "\n  ".join(conflicts)
        )
    added = [item for item in declared if item.asset_id not in existing]
    entity_codes = {item.owner_entity for item in added} | {item.paying_entity for item in added if item.paying_entity}
    entity_ids = dict(
        session.execute(select(EntityRow.code, EntityRow.id).where(EntityRow.code.in_(entity_codes))).all()
    )
    missing = sorted(entity_codes - set(entity_ids))
    if missing:
        raise DisburseError(
            f"owner or paying entity {', '.join(missing)} does not exist; "
            "`disburse entities add` creates it; nothing was loaded"
        )
    entity_warnings = []
    cooperatives_added = 0
    for item in added:
        if item.kind == "cooperative" and item.credit_code:
            exists = session.scalar(select(EntityRow.id).where(EntityRow.code == item.credit_code))
            if exists is None:
                outcome = add_entity(session, item.credit_code, item.name, "cooperative", user)
                entity_warnings.extend(outcome.warnings)
                cooperatives_added += 1
    import_id = _insert_import(session, "assets", file, digest, dt.date.today(), len(declared), len(warnings), user)
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
        message=(f"{len(added)} asset(s) declared from {file.name}, {len(declared) - len(added)} already declared"),
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
    progress("reading and validating")
    declared = assets(session)
    # A village is known when it has books (an entity, created by a register import) or when a
    # declared asset serves it: a station's village may have no registered household at all.
    villages = set(session.scalars(select(EntityRow.code).where(EntityRow.kind == "village")).all())
    villages.update(code for item in declared for code in item.village_codes)
    context = ImportContext(
        today=today,
        known_household_ids=frozenset(session.scalars(select(HOUSEHOLD_TABLE.c.household_id).distinct()).all()),
        known_village_codes=frozenset(villages),
        known_asset_ids=frozenset(item.asset_id for item in declared),
    )
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
            message=(f"dry run: {file.name} is valid ({len(frame):,} holdings); nothing was written"),
            **base,
        )
    progress("writing")
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
        message=(
            f"imported {file.name}: {len(frame):,} holdings in {counts['assets']} asset(s), in force from "
            f"{as_of.isoformat()}"
        ),
        **base,
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
            problems.append(_settlement_problem(file, frame, index, "amount is 0.00; nothing to post"))
        elif key not in recorded:
            new.append(index)
            recorded[key] = [(-1, bool(received[index]))]  # a repeat later in this file is a duplicate
        elif received[index] and any(not done for _, done in recorded[key]) and recorded[key][0][0] != -1:
            position = next(i for i, (_, done) in enumerate(recorded[key]) if not done)
            settlement_id = recorded[key][position][0]
            recorded[key][position] = (settlement_id, True)
            late.append(index)
            late_ids.append(settlement_id)
            reason = f"already imported as settlement {settlement_id} without a 到账日期: its receipt is posted now"
            problems.append(_settlement_problem(file, frame, index, reason))
        else:
            in_file = recorded[key][0][0] == -1
            reason = (
                "the same settlement appears earlier in this file; posted once"
                if in_file
                else "already imported from another file (same station, period, revenue type and amount); not posted again"
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
                f"{owner} has no registered bank account, so the receipt of {count} settlement row(s) with a 到账日期 "
                f"cannot be booked (Dr 102 / Cr 112); register it with `disburse entities add-bank-account {owner}` "
                "and import the file again"
            )
        numbers = ", ".join(row.account_number for row in registered)
        chosen = [row for row in registered if bank_account is None or row.account_number == bank_account]
        if not chosen:
            raise DisburseError(f"{owner} has no bank account {bank_account}; its bank accounts are {numbers}")
        if bank_account is None and len(registered) > 1:
            reason = (
                f"{owner} has {len(registered)} bank accounts ({numbers}); the receipts of {count} row(s) are booked "
                f"to the first registered, {chosen[0].account_number} ({chosen[0].ledger_account_code})"
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
    closed: set[tuple[str, str]],
    file: Path,
    today: dt.date,
) -> list[EntryDraft]:
    """Entries for ``rows``: ``kind`` "receivable" (Dr 112 / Cr 501, dated the 到账日期 or
    today) or "receipt" (Dr 102.xx / Cr 112, dated the 到账日期); a date in a closed period of
    the owner's books moves to ``today``."""
    drafts = []
    received = rows["received_on"].to_numpy(dtype="datetime64[s]")
    for index, row in enumerate(rows.itertuples(index=False)):
        owner = owners[row.station_id]
        entry_date = today if np.isnat(received[index]) else pd.Timestamp(received[index]).date()
        if (owner, period_of(entry_date)) in closed:
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
                label=f"{file.name} row {row.source_row}",
            )
        )
    return drafts


def _closed_periods(session: Session, owner_codes: set[str]) -> set[tuple[str, str]]:
    return {
        (code, period)
        for code, period in session.execute(
            select(EntityRow.code, PeriodRow.period)
            .join(EntityRow, EntityRow.id == PeriodRow.entity_id)
            .where(PeriodRow.status == "closed", EntityRow.code.in_(sorted(owner_codes)))
        )
    }


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
    closed = _closed_periods(session, set(owners.values()))
    receivables = _settlement_drafts(new, "receivable", owners, banks, closed, file, today)
    receipts = _settlement_drafts(receipts_new, "receipt", owners, banks, closed, file, today)
    receipts += _settlement_drafts(late, "receipt", owners, banks, closed, file, today)
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
    progress("reading and validating")
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
        message = (
            f"dry run: {file.name} is valid; {len(new)} of {len(frame)} row(s) would be posted, with {receipts} "
            "receipt(s); nothing was written"
        )
        return ImportOutcome(changed=False, dry_run=True, message=message, **base)
    progress("posting receivables and receipts")
    entry_ids, receipts = _post_settlements(session, sorted_rows, owners, banks, file, digest, today, user)
    warning_count = sum(1 for problem in base["problems"] if problem.severity == "warning")
    import_id = _insert_import(session, "settlements", file, digest, today, len(frame), warning_count, user)
    progress("writing")
    frame_insert(
        session,
        PvSettlementRow.__tablename__,
        new.assign(receivable_entry_id=np.asarray(entry_ids, dtype=np.int64)),
        ("station_id", "service_period", "kwh", "revenue_type", "amount_fen", "received_on", "receivable_entry_id"),
        date_columns=("received_on",),
        constants={"import_id": import_id},
    )
    _record_late_receipts(session, late)
    message = (
        f"imported {file.name}: {len(new)} receivable(s) posted, {receipts} receipt(s) posted "
        f"({len(late)} of them for rows imported before), {sorted_rows.duplicates} duplicate(s) skipped"
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
