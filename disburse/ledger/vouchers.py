"""Manual vouchers under review (凭证审核): a maker submits a file of vouchers, a checker (a
different person) approves and they post, or returns them with a comment.

A submission is checked in full when it is made (every problem the poster would find), so a
reviewer never approves what cannot post; it is checked again when it posts, since the books
may have moved on (a period closed meanwhile). The same file for the same entity is submitted
once: submitting it again answers with the earlier submission.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from disburse.foundation.actors import require_user
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import TranslatedNames, tr, tr_noop
from disburse.foundation.money import format_yuan
from disburse.foundation.orm import utc_now
from disburse.ledger.model import EntryBatch
from disburse.ledger.posting import check_entries, load_post_context, post_entries, refuse
from disburse.ledger.service import entity_by_code
from disburse.ledger.tables import EntityRow, VoucherSubmissionRow

COMMENT_LENGTH_MAX = 500
FILE_NAME_LENGTH_MAX = 500


# A voucher submission's status as the CLI and the pages show it.
SUBMISSION_STATUS_NAMES = TranslatedNames(
    {"submitted": tr_noop("waiting for review"), "returned": tr_noop("returned"), "posted": tr_noop("posted")}
)


@dataclass(frozen=True, slots=True)
class Submission:
    """A voucher submission as people see it."""

    id: int
    entity_code: str
    file_name: str
    voucher_count: int
    posting_count: int
    debit_total_fen: int
    status: str
    submitted_by: str
    submitted_at: dt.datetime
    decided_by: str | None
    comment: str | None


@dataclass(frozen=True, slots=True)
class SubmissionOutcome:
    submission_id: int
    changed: bool
    message: str


# The batch's columns, as stored for review (the entity is the submission's).
BATCH_JSON_COLUMNS = (
    "period",
    "memo",
    "source_reference",
    "label",
    "account_code",
    "household_id",
    "fund_source",
    "payment_reference",
)


def batch_json(batch: EntryBatch) -> str:
    """The vouchers as canonical columnar JSON: what the reviewer saw is what posts."""
    columns = {name: getattr(batch, name) for name in BATCH_JSON_COLUMNS}
    columns["entry_date"] = [day.isoformat() for day in batch.entry_date]
    columns["posting_entry_index"] = batch.posting_entry_index.tolist()
    columns["amount_fen"] = batch.amount_fen.tolist()
    return json.dumps(columns, ensure_ascii=False, sort_keys=True)


def batch_from_json(text: str, entity_code: str) -> EntryBatch:
    columns = json.loads(text)
    count = len(columns["period"])
    return EntryBatch(
        entity_code=[entity_code] * count,
        entry_date=[dt.date.fromisoformat(day) for day in columns["entry_date"]],
        source_kind=["manual"] * count,
        reverses_entry_id=[None] * count,
        posting_entry_index=np.asarray(columns["posting_entry_index"], dtype=np.int64),
        amount_fen=np.asarray(columns["amount_fen"], dtype=np.int64),
        **{name: columns[name] for name in BATCH_JSON_COLUMNS},
    )


def submit_vouchers(
    session: Session, batch: EntryBatch, file_name: str, file_hash: str, entity_code: str, user: str
) -> SubmissionOutcome:
    """Check the vouchers (a batch of manual entries of ``entity_code``) as the poster would and
    keep them for review; nothing is posted."""
    user = require_user(user)
    entity = entity_by_code(session, entity_code)
    earlier = session.scalar(
        select(VoucherSubmissionRow).where(
            VoucherSubmissionRow.entity_id == entity.id, VoucherSubmissionRow.file_sha256 == file_hash
        )
    )
    if earlier is not None:
        return SubmissionOutcome(
            earlier.id,
            False,
            tr(
                "{file} was already submitted into {entity} as 凭证批 {submission} ({status}); nothing changed",
                file=file_name,
                entity=entity_code,
                submission=earlier.id,
                status=earlier.status,
            ),
        )
    if set(batch.entity_code) != {entity_code} or set(batch.source_kind) != {"manual"}:
        raise DisburseError(tr("a voucher submission holds manual entries of {entity} only", entity=entity_code))
    errors = check_entries(batch, load_post_context(session, batch))
    if errors:
        raise refuse(errors)
    debit_total_fen = int(batch.amount_fen[batch.amount_fen > 0].sum())
    row = VoucherSubmissionRow(
        entity_id=entity.id,
        file_name=file_name[-FILE_NAME_LENGTH_MAX:],
        file_sha256=file_hash,
        voucher_count=batch.entry_count,
        posting_count=batch.posting_count,
        debit_total_fen=debit_total_fen,
        vouchers_json=batch_json(batch),
        status="submitted",
        submitted_by=user,
        submitted_at=utc_now(),
    )
    session.add(row)
    session.flush()
    return SubmissionOutcome(
        row.id,
        True,
        tr(
            "{file}: {count} voucher(s) with debits of {debits} submitted into {entity} as 凭证批 {submission}; "
            "nothing is in the books until a different person approves it (`disburse journal approve {submission}`)",
            file=file_name,
            count=batch.entry_count,
            debits=format_yuan(debit_total_fen),
            entity=entity_code,
            submission=row.id,
        ),
    )


def _pending(session: Session, submission_id: int, user: str, verb: str) -> VoucherSubmissionRow:
    row = session.get(VoucherSubmissionRow, submission_id, with_for_update=True)
    if row is None:
        raise DisburseError(
            tr(
                "凭证批 {submission} does not exist; `disburse journal pending` lists the submitted ones",
                submission=submission_id,
            )
        )
    if row.status != "submitted":
        raise DisburseError(
            tr(
                "凭证批 {submission} is {status} by {decider}; only a submitted one can be {verb}",
                submission=submission_id,
                status=row.status,
                decider=row.decided_by,
                verb=verb,
            )
        )
    if row.submitted_by == user:
        raise DisburseError(
            tr(
                "凭证批 {submission} was submitted by {user}; a different person must review it (four eyes)",
                submission=submission_id,
                user=user,
            )
        )
    return row


def approve_vouchers(session: Session, submission_id: int, user: str) -> SubmissionOutcome:
    """Post a submitted voucher file, checked again against the books as they are now."""
    user = require_user(user)
    row = _pending(session, submission_id, user, tr("approved"))
    entity_code = session.scalar(select(EntityRow.code).where(EntityRow.id == row.entity_id))
    batch = batch_from_json(row.vouchers_json, entity_code)
    result = post_entries(session, batch, idempotency_key=f"journal:{entity_code}:{row.file_sha256}", user=user)
    row.status, row.decided_by, row.decided_at, row.post_request_id = "posted", user, utc_now(), result.post_request_id
    return SubmissionOutcome(
        row.id,
        True,
        tr(
            "凭证批 {submission} ({file}) approved by {user}: {count} voucher(s) posted into {entity}",
            submission=row.id,
            file=row.file_name,
            user=user,
            count=len(result.entry_ids),
            entity=entity_code,
        ),
    )


def return_vouchers(session: Session, submission_id: int, user: str, comment: str) -> SubmissionOutcome:
    """Send a submission back to its maker with the reviewer's reason; nothing is posted."""
    user = require_user(user)
    comment = (comment or "").strip()
    if not comment or len(comment) > COMMENT_LENGTH_MAX:
        raise DisburseError(
            tr("a returned submission needs a reason of 1 to {limit} characters", limit=COMMENT_LENGTH_MAX)
        )
    row = _pending(session, submission_id, user, tr("returned"))
    row.status, row.decided_by, row.decided_at, row.comment = "returned", user, utc_now(), comment
    return SubmissionOutcome(
        row.id,
        True,
        tr(
            "凭证批 {submission} returned to {maker}: {comment}",
            submission=row.id,
            maker=row.submitted_by,
            comment=comment,
        ),
    )


def list_submissions(session: Session, status: str | None = None) -> list[Submission]:
    statement = (
        select(VoucherSubmissionRow, EntityRow.code)
        .join(EntityRow, EntityRow.id == VoucherSubmissionRow.entity_id)
        .order_by(VoucherSubmissionRow.id)
    )
    if status is not None:
        statement = statement.where(VoucherSubmissionRow.status == status)
    return [
        Submission(
            row.id,
            code,
            row.file_name,
            row.voucher_count,
            row.posting_count,
            row.debit_total_fen,
            row.status,
            row.submitted_by,
            row.submitted_at,
            row.decided_by,
            row.comment,
        )
        for row, code in session.execute(statement).all()
    ]
