"""``payout export``: an approved batch's bank file(s), crash-safe and idempotent.

The payment references were fixed when the batch was prepared; export only renders them. The
files are rendered in memory, written under temporary names, recorded (SHA-256, size, row
count, total) in the same transaction that posts Dr payables / Cr 102.90 在途资金, and renamed
into place only after that commit (``payouts.publication``). So whatever moment a process is
killed at, there is never a file under a final name that the database does not record, and
exporting again after a crash writes the same references.

Exporting an exported batch again renders it again and must give the very bytes recorded: it
puts a missing file back in place, leaves a recorded file that is already there, posts nothing,
and refuses a file under a final name that it did not record (a leftover of another export, or
another batch's file), saying what to do.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from disburse.foundation.actors import require_user
from disburse.foundation.bulk import bulk_insert
from disburse.foundation.errors import DisburseError
from disburse.foundation.files import file_sha256
from disburse.foundation.frames import query_objects
from disburse.foundation.i18n import join_list, tr
from disburse.foundation.money import format_yuan
from disburse.importers.bank_profiles import profile_label
from disburse.ledger.chart import PAYMENTS_IN_TRANSIT
from disburse.ledger.posting import post_entries
from disburse.ledger.tables import EntityRow
from disburse.payouts.bank_files import BankFileError, BatchFile, render_batch_files
from disburse.payouts.bank_layout import PaymentProfile
from disburse.payouts.common import (
    batch_by_reference,
    batch_instructions,
    entries_against_payables,
    lock_payouts,
    none_for_missing,
    payable_lines_of,
)
from disburse.payouts.model import BatchOutcome, ExportedFile
from disburse.payouts.prepare import payment_profile_named
from disburse.payouts.publication import Publication, leftover_partials, stage_files
from disburse.payouts.tables import BatchFileRow, PaymentBatchRow, PaymentInstructionRow, utc_now


def _chosen_profile(batch: PaymentBatchRow, profile_name: str | None, profiles_directory: str | None) -> PaymentProfile:
    """The profile to write: the one the batch was prepared or exported for, which a named
    profile must match; refuses a batch that is not approved."""
    if batch.status == "prepared":
        needed = batch.approvals_required - (batch.first_approved_by is not None)
        raise DisburseError(
            tr(
                "batch {batch} is not approved yet ({count} approval(s) missing); "
                "`disburse payout approve` by someone other than its preparer",
                batch=batch.batch_reference,
                count=needed,
            )
        )
    if batch.status == "cancelled":
        raise DisburseError(tr("batch {batch} was cancelled; it cannot be exported", batch=batch.batch_reference))
    exported = batch.status in ("exported", "closed")
    if batch.bank_profile is not None and profile_name not in (None, batch.bank_profile):
        if exported:
            raise DisburseError(
                tr(
                    "batch {batch} was exported with the bank profile {profile}; export it again with --bank "
                    "{profile}, never to a second bank",
                    batch=batch.batch_reference,
                    profile=batch.bank_profile,
                )
            )
        raise DisburseError(
            tr(
                "batch {batch} was prepared for the bank profile {profile} and checked against its file; export it "
                "with --bank {profile}, or cancel it and prepare it again with --bank {named}",
                batch=batch.batch_reference,
                profile=batch.bank_profile,
                named=profile_name,
            )
        )
    chosen = profile_name or batch.bank_profile
    if chosen is None:
        raise DisburseError(
            tr("batch {batch} was prepared without a bank profile; name one with --bank", batch=batch.batch_reference)
        )
    return payment_profile_named(chosen, profiles_directory)


def _rendered(
    batch: PaymentBatchRow, instructions: pd.DataFrame, profile: PaymentProfile, out: Path
) -> list[BatchFile]:
    try:
        rendered = render_batch_files(instructions, profile, out, batch.batch_reference)
    except BankFileError as error:
        advice = (
            ""
            if batch.bank_profile is not None
            else "\n  "
            + tr(
                "cancel the batch (payout cancel {batch}) and prepare it again with --bank {profile}: the payments "
                "this file cannot carry are then kept out, each with the reason",
                batch=batch.batch_reference,
                profile=profile.name,
            )
        )
        raise DisburseError(
            tr(
                "batch {batch} cannot be written for {profile}:",
                batch=batch.batch_reference,
                profile=profile_label(profile.name),
            )
            + "\n  "
            + "\n  ".join(error.problems)
            + advice
        ) from None
    # The files' control totals are the batch's: nothing lost or doubled in the split.
    assert sum(file.total_fen for file in rendered) == batch.total_fen
    assert sum(file.row_count for file in rendered) == batch.instruction_count
    return rendered


def _leftover_refusal(batch: PaymentBatchRow, path: Path) -> DisburseError:
    return DisburseError(
        tr(
            "{path} already exists and batch {batch} did not record it (sha256 {sha256}…, {size:,} bytes): it may "
            "be left by an export that did not finish, or be another batch's file. Do not upload it: move it out of "
            "the way (or choose another --out) and export again",
            path=path,
            batch=batch.batch_reference,
            sha256=file_sha256(path)[:16],
            size=path.stat().st_size,
        )
    )


def _removed_partials(batch: PaymentBatchRow, rendered: list[BatchFile]) -> tuple[str, ...]:
    """Remove the temporary files an interrupted export of this batch left: nothing records
    them and their hidden names were never meant for the bank."""
    removed = []
    for directory in sorted({file.path.parent for file in rendered}):
        for path in leftover_partials(directory, batch.batch_reference):
            path.unlink(missing_ok=True)
            removed.append(path.name)
    if not removed:
        return ()
    return (
        tr(
            "removed {count} temporary file(s) left by an export that did not finish: {files}",
            count=len(removed),
            files=join_list(removed),
        ),
    )


def _exported_files(rendered: list[BatchFile]) -> tuple[ExportedFile, ...]:
    return tuple(
        ExportedFile(str(file.path), file.row_count, file.total_fen, file.sha256, file.size_bytes) for file in rendered
    )


def _batch_payable_lines(session: Session, batch_id: int, instructions: pd.DataFrame) -> pd.DataFrame:
    """``payable_lines_of`` the batch, read by the batch's id range (prepare gives a batch
    consecutive instruction ids) with the references taken from ``instructions``: a third
    less time than joining the instructions again for 300,000 payees."""
    ids = instructions["id"].to_numpy(dtype=np.int64)
    first, last = int(ids.min()), int(ids.max())
    if last - first + 1 != len(ids):
        return payable_lines_of(session, "batch_id = :batch", {"batch": batch_id}, active_only=True)
    frame = query_objects(
        session,
        text(
            "SELECT l.instruction_id, p.account_code, p.amount_fen, p.household_id, p.fund_source "
            "FROM instruction_payables l JOIN payables p ON p.id = l.payable_id "
            "WHERE l.active AND l.instruction_id BETWEEN :first AND :last ORDER BY l.instruction_id, l.payable_id"
        ),
        {"first": first, "last": last},
    )
    references = instructions["payment_reference"].to_numpy(dtype=object)
    frame.insert(1, "payment_reference", references[frame["instruction_id"].to_numpy(dtype=np.int64) - first])
    frame["amount_fen"] = frame["amount_fen"].astype(np.int64)
    return none_for_missing(frame, "household_id", "fund_source")


def _export_again(
    session: Session, batch: PaymentBatchRow, rendered: list[BatchFile], removed: tuple[str, ...]
) -> BatchOutcome:
    """An exported batch rendered again: the same bytes as recorded, or a refusal. Files
    already in place are left; missing ones are put back after the (empty) commit."""
    recorded = session.execute(
        select(BatchFileRow.file_number, BatchFileRow.sha256, BatchFileRow.row_count, BatchFileRow.total_fen)
        .where(BatchFileRow.batch_id == batch.id)
        .order_by(BatchFileRow.file_number)
    ).all()
    if [(row.row_count, row.total_fen) for row in recorded] != [(f.row_count, f.total_fen) for f in rendered]:
        raise DisburseError(
            tr(
                "batch {batch}: the files rendered now differ in count or total from those exported before; nothing "
                "was written or posted",
                batch=batch.batch_reference,
            )
        )
    differing = [(row, file) for row, file in zip(recorded, rendered) if row.sha256 != file.sha256]
    if differing:
        row, file = differing[0]
        raise DisburseError(
            tr(
                "batch {batch}: file {number} rendered now (sha256 {now}…) differs from the one recorded at export "
                "(sha256 {then}…), though it holds the same payments; the bank profile {profile} may have changed "
                "since. Nothing was written: the recorded file is the one the bank may have",
                batch=batch.batch_reference,
                number=row.file_number,
                now=file.sha256[:16],
                then=row.sha256[:16],
                profile=batch.bank_profile,
            )
        )
    missing = []
    for file in rendered:
        if not file.path.exists():
            missing.append(file)
        elif file_sha256(file.path) != file.sha256:
            raise _leftover_refusal(batch, file.path)
    publication = stage_files(session, batch.batch_reference, [(file.path, file.data) for file in missing])
    return BatchOutcome(
        batch.batch_reference,
        batch.status,
        False,
        tr(
            "batch {batch} was already exported; its {count} file(s) are byte for byte the ones recorded ({kept} "
            "already in place, {written} written again) and nothing was posted",
            batch=batch.batch_reference,
            count=len(rendered),
            kept=len(rendered) - len(missing),
            written=len(missing),
        ),
        _exported_files(rendered),
        removed,
        publication,
    )


def _record_and_post(
    session: Session,
    batch: PaymentBatchRow,
    instructions: pd.DataFrame,
    rendered: list[BatchFile],
    today: dt.date,
    user: str,
) -> int:
    """Record the files and post Dr each payable's account / Cr 102.90 (household and payment
    reference on every posting) in one post; the batch is exported. Returns the entry count."""
    bulk_insert(
        session,
        "payment_batch_files",
        ("batch_id", "file_number", "file_name", "row_count", "total_fen", "sha256", "size_bytes"),
        [
            (batch.id, number, file.path.name, file.row_count, file.total_fen, file.sha256, file.size_bytes)
            for number, file in enumerate(rendered, start=1)
        ],
    )
    entity_code = session.scalar(select(EntityRow.code).where(EntityRow.id == batch.entity_id))
    assert entity_code is not None
    lines = _batch_payable_lines(session, batch.id, instructions)
    assert int(lines["amount_fen"].sum()) == batch.total_fen
    entries = entries_against_payables(
        entity_code,
        today,
        f"批量代发 {batch.batch_reference} 付出，转入在途资金",
        "payout_export",
        batch.batch_reference,
        lines,
        PAYMENTS_IN_TRANSIT,
        lines_sign=1,
    )
    result = post_entries(session, entries, idempotency_key=f"payout-export:{batch.batch_reference}", user=user)
    session.execute(
        update(PaymentInstructionRow)
        .where(PaymentInstructionRow.batch_id == batch.id, PaymentInstructionRow.status == "pending")
        .values(status="exported")
    )
    batch.status, batch.exported_by = "exported", user
    batch.exported_at, batch.export_post_request_id = utc_now(), result.post_request_id
    return result.entry_count


def export_batch(
    session: Session,
    reference: str,
    profile_name: str | None,
    out: Path,
    user: str,
    *,
    today: dt.date | None = None,
    profiles_directory: str | None = None,
) -> BatchOutcome:
    """Write an approved batch's bank file(s) in the bank profile's layout (the one it was
    prepared for, unless ``profile_name`` names it first), record them and post Dr payables /
    Cr 102.90 在途资金 in one post. The files reach their final names only after the commit
    (see the module docstring). Exporting an exported batch again puts the same bytes in place
    and posts nothing."""
    user = require_user(user)
    today = today or dt.date.today()
    lock_payouts(session)
    batch = batch_by_reference(session, reference)
    profile = _chosen_profile(batch, profile_name, profiles_directory)
    instructions = batch_instructions(session, batch.id)
    assert len(instructions) == batch.instruction_count and int(instructions["amount_fen"].sum()) == batch.total_fen
    rendered = _rendered(batch, instructions, profile, Path(out))
    removed = _removed_partials(batch, rendered)
    if batch.status in ("exported", "closed"):
        return _export_again(session, batch, rendered, removed)
    for file in rendered:
        if file.path.exists():
            raise _leftover_refusal(batch, file.path)
    try:
        publication: Publication = stage_files(session, batch.batch_reference, [(f.path, f.data) for f in rendered])
    except OSError as error:
        raise DisburseError(
            tr(
                "the bank file cannot be written to {directory}: {error}",
                directory=Path(out).parent,
                error=error.strerror or error,
            )
        ) from None
    batch.bank_profile = profile.name
    entry_count = _record_and_post(session, batch, instructions, rendered, today, user)
    return BatchOutcome(
        batch.batch_reference,
        "exported",
        True,
        tr(
            "batch {batch} exported for {bank}: {files} file(s), {count:,} payment(s), {total} yuan posted Dr "
            "payables / Cr {transit} on {day} ({entries} entries)",
            batch=batch.batch_reference,
            bank=profile.bank,
            files=len(rendered),
            count=batch.instruction_count,
            total=format_yuan(batch.total_fen),
            transit=PAYMENTS_IN_TRANSIT,
            day=today.isoformat(),
            entries=entry_count,
        ),
        _exported_files(rendered),
        removed,
        publication,
    )
