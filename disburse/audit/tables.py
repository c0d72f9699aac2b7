"""Storage of the audit trail: every state-changing command, and reviews of anomaly findings."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from disburse.foundation.orm import Base, BigId, utc_now


class AuditLogRow(Base):
    """One command that changes state (or tried to): who, when, what, the inputs' hashes, the outcome."""

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


class FindingReviewRow(Base):
    """A reviewed anomaly finding: it does not come back once reviewed."""

    __tablename__ = "finding_reviews"
    finding_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    check_name: Mapped[str] = mapped_column(String(60))
    note: Mapped[str] = mapped_column(Text)
    reviewed_by: Mapped[str] = mapped_column(String(64))
    reviewed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
