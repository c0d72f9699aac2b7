"""Importing bank statements into one registered bank account (``disburse import bank-statement``).

The file is read by ``importers.bank_statement`` (a given profile, or the one detected from the
header); a file with any error is refused whole. Each line gets a ``dedupe_key``: the bank's
transaction number, or when it gives none (blank or all zeros), date + time + amount + balance
+ counterparty. Lines whose key the account already holds are skipped, so importing the same or
an overlapping statement again adds only the new lines; the same file (by SHA-256) is
recognised at once and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.orm import Session

from disburse.foundation.actors import require_user
from disburse.foundation.bulk import bulk_insert
from disburse.foundation.errors import DisburseError, ImportProblem, ImportRefused
from disburse.foundation.files import file_sha256
from disburse.foundation.frames import blank_text
from disburse.foundation.i18n import join_list, tr
from disburse.importers.bank_profiles import profile_label
from disburse.ledger.tables import AccountRow, BankAccountRow, EntityRow
from disburse.reconciliation.tables import (
    COUNTERPARTY_ACCOUNT_LENGTH_MAX,
    COUNTERPARTY_NAME_LENGTH_MAX,
    DEDUPE_KEY_LENGTH_MAX,
    MEMO_LENGTH_MAX,
    SUMMARY_LENGTH_MAX,
    TXN_ID_LENGTH_MAX,
    StatementImportRow,
)

if TYPE_CHECKING:
    # Only for the annotation: the importer is imported when a statement is read.
    from disburse.importers.bank_statement import ParsedStatement

# One statement file of one account; far above a county special account's year of lines.
STATEMENT_IMPORT_LINES_MAX = 2_000_000
# Existing keys are looked up this many at a time (well under the drivers' parameter limits).
KEYS_PER_QUERY = 10_000
STATEMENT_LINE_COLUMNS = (
    "bank_account_id",
    "import_id",
    "line_number",
    "source_row",
    "booked_on",
    "booked_time",
    "txn_id",
    "summary",
    "counterparty_account",
    "counterparty_name",
    "amount_fen",
    "balance_fen",
    "memo",
    "dedupe_key",
)
_TEXT_LIMITS = {
    "summary": SUMMARY_LENGTH_MAX,
    "counterparty_account": COUNTERPARTY_ACCOUNT_LENGTH_MAX,
    "counterparty_name": COUNTERPARTY_NAME_LENGTH_MAX,
    "memo": MEMO_LENGTH_MAX,
    "txn_id": TXN_ID_LENGTH_MAX,
}


@dataclass(frozen=True, slots=True)
class BankAccountRef:
    """A registered bank account: its row id, the entity that holds it, and its 102.xx code."""

    id: int
    entity_id: int
    entity_code: str
    bank_name: str
    account_number: str
    account_name: str | None
    ledger_account_code: str
    ledger_account_name: str

    def describe(self) -> str:
        return tr(
            "{entity} {bank} {number} ({account})",
            entity=self.entity_code,
            bank=self.bank_name,
            number=self.account_number,
            account=self.ledger_account_code,
        )


@dataclass(frozen=True, slots=True)
class StatementImportOutcome:
    """What importing one statement did: the profile used (and whether it was detected), how
    many lines the file has, how many were new and how many the account already held, the
    warnings, and a one-paragraph message."""

    account: BankAccountRef
    file_name: str
    file_sha256: str
    profile: str
    detected: bool
    line_count: int
    added_count: int
    known_count: int
    warnings: tuple[ImportProblem, ...]
    changed: bool
    message: str
    import_id: int | None = None


def bank_account_by_reference(session: Session, reference: str) -> BankAccountRef:
    """The registered bank account named by its account number or its 102 sub-account code."""
    reference = (reference or "").strip()
    table = BankAccountRow.__table__
    rows = session.execute(
        select(table, EntityRow.code.label("entity_code"), AccountRow.name.label("ledger_account_name"))
        .join(EntityRow, EntityRow.id == table.c.entity_id)
        .join(AccountRow, AccountRow.code == table.c.ledger_account_code)
        .where((table.c.account_number == reference) | (table.c.ledger_account_code == reference))
    ).all()
    if not rows:
        known = session.execute(
            select(table.c.account_number, table.c.ledger_account_code).order_by(table.c.ledger_account_code)
        ).all()
        listed = join_list(f"{row.account_number} ({row.ledger_account_code})" for row in known) or tr("none yet")
        raise DisburseError(
            tr(
                "no registered bank account {reference!r} (give its account number or its 102 "
                "sub-account code); registered: {listed}. `disburse entities add-bank-account` registers one",
                reference=reference,
                listed=listed,
            )
        )
    row = rows[0]
    return BankAccountRef(
        int(row.id),
        int(row.entity_id),
        row.entity_code,
        row.bank_name,
        row.account_number,
        row.account_name,
        row.ledger_account_code,
        row.ledger_account_name,
    )


def dedupe_keys(frame: pd.DataFrame) -> np.ndarray:
    """The key that identifies each line of a parsed statement within its bank account.

    ``T|<transaction number>`` when the bank gives one (the parser already turned blank and
    all-zero numbers into None), else ``K|date|time|amount|balance|counterparty`` (the
    counterparty's account, else its name). A key repeated within the file (a bank that reuses
    a number for a transfer and its fee) gets ``#2``, ``#3`` … in file order, so both lines are
    kept and a re-import numbers them the same way.
    """
    dates = pd.Series(frame["booked_on"]).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    keys = []
    for txn_id, day, time, amount, balance, account, name in zip(
        frame["txn_id"].tolist(),
        dates.tolist(),
        frame["booked_time"].tolist(),
        frame["amount_fen"].tolist(),
        frame["balance_fen"].astype(object).tolist(),
        frame["counterparty_account"].tolist(),
        frame["counterparty_name"].tolist(),
    ):
        if txn_id:
            keys.append(f"T|{txn_id}")
        else:
            keys.append(
                f"K|{day}|{blank_text(time)}|{int(amount)}|{blank_text(balance)}|"
                f"{blank_text(account) or blank_text(name)}"
            )
    series = pd.Series(keys, dtype=object)
    occurrence = series.groupby(series).cumcount().to_numpy()
    keyed = np.array(
        [key if count == 0 else f"{key}#{count + 1}" for key, count in zip(keys, occurrence)], dtype=object
    )
    return np.array([key[:DEDUPE_KEY_LENGTH_MAX] for key in keyed], dtype=object)


def _known_keys(session: Session, bank_account_id: int, keys: list[str]) -> set[str]:
    statement = text(
        "SELECT dedupe_key FROM statement_lines WHERE bank_account_id = :account AND dedupe_key IN :keys"
    ).bindparams(bindparam("keys", expanding=True))
    known: set[str] = set()
    for start in range(0, len(keys), KEYS_PER_QUERY):
        known.update(
            session.scalars(statement, {"account": bank_account_id, "keys": keys[start : start + KEYS_PER_QUERY]})
        )
    return known


def _clipped(frame: pd.DataFrame, file: str) -> tuple[dict[str, list[object]], list[ImportProblem]]:
    """Text columns as plain values, cut to their column's length (with a warning per column)."""
    columns: dict[str, list[object]] = {}
    problems: list[ImportProblem] = []
    for name, limit in _TEXT_LIMITS.items():
        values = [None if value is None or value is pd.NA else str(value) for value in frame[name].tolist()]
        long = [index for index, value in enumerate(values) if value is not None and len(value) > limit]
        if long:
            problems.append(
                ImportProblem(
                    file,
                    int(frame["source_row"].iat[long[0]]),
                    name,
                    values[long[0]] or "",
                    tr(
                        "{count:,} value(s) longer than {limit} characters are stored cut to {limit}",
                        count=len(long),
                        limit=limit,
                    ),
                    "warning",
                )
            )
            for index in long:
                values[index] = values[index][:limit]  # type: ignore[index]
        columns[name] = values
    return columns, problems


def _already_imported(
    session: Session, reference: BankAccountRef, file_name: str, digest: str
) -> StatementImportOutcome | None:
    """The outcome of importing a file the account already imported (by SHA-256): nothing."""
    previous = session.execute(
        select(StatementImportRow).where(
            StatementImportRow.bank_account_id == reference.id, StatementImportRow.file_sha256 == digest
        )
    ).scalar_one_or_none()
    if previous is None:
        return None
    message = tr(
        "{file} was imported into {account} on {at} by {user} (profile {profile}, {added:,} new line(s)); "
        "nothing changed",
        file=file_name,
        account=reference.describe(),
        at=f"{previous.imported_at:%Y-%m-%d %H:%M}",
        user=previous.imported_by,
        profile=profile_label(previous.profile),
        added=previous.added_count,
    )
    return StatementImportOutcome(
        reference,
        file_name,
        digest,
        previous.profile,
        False,
        previous.line_count,
        0,
        previous.line_count,
        (),
        False,
        message,
        previous.id,
    )


def _parsed(name: str, profile_name: str | None, profiles_directory: str | os.PathLike[str] | None):  # type: ignore[no-untyped-def]
    """The statement read in its profile's layout; refused whole for any error or past the limit."""
    from disburse.importers.bank_profiles import ProfileError, load_profiles
    from disburse.importers.bank_statement import parse_bank_statement

    try:
        profiles = load_profiles(profiles_directory)
    except ProfileError as error:
        raise DisburseError(str(error)) from None
    if profile_name is not None and profile_name not in profiles:
        raise DisburseError(
            tr("no bank profile {profile!r}; known: {known}", profile=profile_name, known=join_list(sorted(profiles)))
        )
    parsed = parse_bank_statement(name, profile_name, profiles)
    if parsed.refused:
        raise ImportRefused(parsed.problems)
    assert parsed.profile is not None
    if len(parsed.frame) > STATEMENT_IMPORT_LINES_MAX:
        raise ImportRefused(
            [
                ImportProblem(
                    name,
                    None,
                    None,
                    f"{len(parsed.frame):,}",
                    tr(
                        "more than {limit:,} lines (STATEMENT_IMPORT_LINES_MAX); split the statement by date",
                        limit=STATEMENT_IMPORT_LINES_MAX,
                    ),
                )
            ]
        )
    return parsed


def _insert_lines(
    session: Session,
    reference: BankAccountRef,
    import_id: int,
    added: pd.DataFrame,
    texts: dict[str, list[object]],
    keys: np.ndarray,
) -> None:
    count = len(added)
    bulk_insert(
        session,
        "statement_lines",
        STATEMENT_LINE_COLUMNS,
        list(
            zip(
                [reference.id] * count,
                [import_id] * count,
                added["line_number"].astype(np.int64).tolist(),
                added["source_row"].astype(np.int64).tolist(),
                pd.Series(added["booked_on"]).dt.strftime("%Y-%m-%d").tolist(),
                [None if value is None else str(value) for value in added["booked_time"].tolist()],
                texts["txn_id"],
                texts["summary"],
                texts["counterparty_account"],
                texts["counterparty_name"],
                added["amount_fen"].astype(np.int64).tolist(),
                [
                    None if value is pd.NA or value is None else int(value)
                    for value in added["balance_fen"].astype(object).tolist()
                ],
                texts["memo"],
                keys.tolist(),
            )
        ),
    )


def import_statement(
    session: Session,
    path: str | os.PathLike[str],
    account: str,
    user: str,
    *,
    profile_name: str | None = None,
    profiles_directory: str | os.PathLike[str] | None = None,
) -> StatementImportOutcome:
    """Import a bank statement into the registered bank account ``account`` (account number or
    102 sub-account code), inside the caller's transaction.

    Raises ``ImportRefused`` for a file with errors (an unknown layout lists the headers found;
    a break in the running balance names the line) and ``DisburseError`` for an unknown account
    or profile. Returns what was added; the same file again adds nothing.
    """
    user = require_user(user)
    reference = bank_account_by_reference(session, account)
    name = os.fspath(path)
    file_name = Path(name).name
    digest = file_sha256(name)
    previous = _already_imported(session, reference, file_name, digest)
    if previous is not None:
        return previous
    parsed = _parsed(name, profile_name, profiles_directory)
    frame = parsed.frame
    warnings = [problem for problem in parsed.problems if problem.severity == "warning"]
    keys = dedupe_keys(frame)
    known = _known_keys(session, reference.id, sorted(set(keys.tolist())))
    new = np.array([key not in known for key in keys.tolist()], dtype=bool)
    texts, clipped = _clipped(frame[new].reset_index(drop=True), name)
    warnings += clipped
    import_id, first_day, last_day = _import_row_insert(
        session, reference, file_name, digest, parsed, new, warnings, user
    )
    added = frame[new].reset_index(drop=True)
    count = len(added)
    _insert_lines(session, reference, import_id, added, texts, keys[new])
    detected = profile_name is None
    how = tr("detected from the header") if detected else tr("as given")
    span = tr("{first} to {last}", first=first_day, last=last_day) if first_day else tr("no lines")
    message = tr(
        "{file}: bank profile {profile} ({how}); {lines:,} line(s) from {span}, "
        "{new:,} new, {old:,} already imported, into {account}",
        file=file_name,
        profile=profile_label(parsed.profile),
        how=how,
        lines=len(frame),
        span=span,
        new=count,
        old=len(frame) - count,
        account=reference.describe(),
    )
    if parsed.newest_first:
        message += tr("; the file listed the newest lines first and was put in date order")
    return StatementImportOutcome(
        reference,
        file_name,
        digest,
        parsed.profile,
        detected,
        len(frame),
        count,
        len(frame) - count,
        tuple(warnings),
        count > 0,
        message,
        import_id,
    )


def _import_row_insert(
    session: Session,
    reference: BankAccountRef,
    file_name: str,
    digest: str,
    parsed: ParsedStatement,
    new: np.ndarray,
    warnings: list[ImportProblem],
    user: str,
) -> tuple[int, dt.date | None, dt.date | None]:
    """Record the import (its lines' dates, counts and warnings); return its id and the first and
    last day the file covers (None for a file without lines)."""
    frame = parsed.frame
    dates = pd.Series(frame["booked_on"])
    first_day = dates.min().date() if len(frame) else None
    last_day = dates.max().date() if len(frame) else None
    import_id = session.execute(
        insert(StatementImportRow)
        .values(
            bank_account_id=reference.id,
            file_name=file_name[-500:],
            file_sha256=digest,
            profile=parsed.profile,
            encoding=(parsed.encoding or "")[:40] or None,
            line_count=len(frame),
            added_count=int(new.sum()),
            known_count=int((~new).sum()),
            warning_count=len(warnings),
            first_booked_on=first_day,
            last_booked_on=last_day,
            imported_by=user,
        )
        .returning(StatementImportRow.id)
    ).scalar_one()
    return import_id, first_day, last_day
