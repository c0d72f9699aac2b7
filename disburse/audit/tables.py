"""Storage of the audit trail: every state-changing command, and reviews of anomaly findings."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, DateTime, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from disburse.foundation.orm import HASH_LENGTH, Base, BigId, utc_now


class AuditLogRow(Base):
    """One command that changes state (or tried to): who, when, what, the inputs' hashes, the
    outcome, and whether it was a dry run (checked and counted, nothing written)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    command: Mapped[str] = mapped_column(String(100), index=True)
    arguments: Mapped[str] = mapped_column(Text)  # JSON list, as typed
    user: Mapped[str | None] = mapped_column(String(64), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    outcome: Mapped[str] = mapped_column(String(16))  # ok | refused | usage | failed
    exit_code: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    input_hashes: Mapped[str] = mapped_column(Text)  # JSON {path: sha256}
    dry_run: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # The hash chain (see audit.log): the previous row's hash and this row's own.
    previous_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    row_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)


class FindingReviewRow(Base):
    """A review of an anomaly finding, kept for ever: who, when, the disposition (属实 true,
    不属实 not true, 已整改 corrected), a note, and the digest and text of the evidence the
    reviewer saw. The newest review of a finding decides whether it is shown: when the evidence
    changes, the digest no longer matches and the finding comes back. Reviews made before
    dispositions existed have none (NULL)."""

    __tablename__ = "audit_finding_reviews"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    finding_id: Mapped[str] = mapped_column(String(40), index=True)
    check_name: Mapped[str] = mapped_column(String(60))
    disposition: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text)
    evidence_digest: Mapped[str | None] = mapped_column(String(HASH_LENGTH))
    evidence: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str] = mapped_column(String(64))
    reviewed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    __table_args__ = (
        CheckConstraint(
            "disposition IS NULL OR disposition = '属实' OR disposition = '不属实' OR disposition = '已整改'",
            name="disposition",
        ),
        Index("ix_audit_finding_reviews_check_name", "check_name"),
    )
