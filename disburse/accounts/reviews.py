"""The checkers' decisions on runs and batches: approved, or returned to the maker with a comment
the maker sees. The run or batch itself changes state in its own stage; this keeps who decided
what, and why."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from disburse.accounts.model import ReviewDecision
from disburse.accounts.tables import REVIEW_DECISIONS, REVIEW_SUBJECT_KINDS, ReviewDecisionRow
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr, tr_noop

COMMENT_LENGTH_MAX = 2_000
RETURNED_SHOWN_MAX = 200


def _decision(row: ReviewDecisionRow) -> ReviewDecision:
    return ReviewDecision(
        row.id,
        row.subject_kind,
        row.subject_reference,
        row.maker,
        row.decision,
        row.comment,
        row.decided_by,
        row.decided_at,
    )


def record_decision(
    session: Session,
    subject_kind: str,
    subject_reference: str,
    maker: str,
    decision: str,
    comment: str,
    decided_by: str,
) -> None:
    """Record a decision; a return needs a comment, and nobody decides on what they made."""
    assert subject_kind in REVIEW_SUBJECT_KINDS and decision in REVIEW_DECISIONS
    comment = comment.strip()
    if decision == "returned" and not comment:
        raise DisburseError(tr("a returned run or batch needs a comment that tells its maker what to change"))
    if len(comment) > COMMENT_LENGTH_MAX:
        raise DisburseError(
            tr(
                "a comment has at most {length_max:,} characters, not {length:,}",
                length_max=COMMENT_LENGTH_MAX,
                length=len(comment),
            )
        )
    if decided_by == maker:
        message = (
            tr_noop("run {reference} was made by {maker}; a different person must decide on it (four eyes)")
            if subject_kind == "run"
            else tr_noop("batch {reference} was made by {maker}; a different person must decide on it (four eyes)")
        )
        raise DisburseError(tr(message, reference=subject_reference, maker=maker))
    session.execute(
        insert(ReviewDecisionRow).values(
            subject_kind=subject_kind,
            subject_reference=subject_reference,
            maker=maker,
            decision=decision,
            comment=comment,
            decided_by=decided_by,
        )
    )


def decisions_on(session: Session, subject_kind: str, subject_reference: str) -> list[ReviewDecision]:
    rows = session.scalars(
        select(ReviewDecisionRow)
        .where(ReviewDecisionRow.subject_kind == subject_kind, ReviewDecisionRow.subject_reference == subject_reference)
        .order_by(ReviewDecisionRow.id)
    )
    return [_decision(row) for row in rows]


def returned_to(session: Session, maker: str | None = None) -> list[ReviewDecision]:
    """Returns, newest first (of one maker when given): what the makers are asked to change."""
    statement = select(ReviewDecisionRow).where(ReviewDecisionRow.decision == "returned")
    if maker is not None:
        statement = statement.where(ReviewDecisionRow.maker == maker)
    rows = session.scalars(statement.order_by(ReviewDecisionRow.id.desc()).limit(RETURNED_SHOWN_MAX))
    return [_decision(row) for row in rows]
