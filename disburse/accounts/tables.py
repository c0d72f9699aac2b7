"""Storage of the accounts: who may log in with which roles, and the checkers' decisions.

Roles are stored as text in the canonical order joined by "、" (``经办、审核``): a handful of
fixed names, read with every request, never queried by role.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from disburse.foundation.actors import USER_LENGTH_MAX
from disburse.foundation.orm import Base, BigId, utc_now

PASSWORD_HASH_LENGTH_MAX = 200
ROLES_TEXT_LENGTH_MAX = 100
REVIEW_SUBJECT_KINDS = ("run", "batch")
REVIEW_DECISIONS = ("approved", "returned")


class UserAccountRow(Base):
    """One person's account: name, roles, argon2 password hash, lock-out state."""

    __tablename__ = "user_accounts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(USER_LENGTH_MAX), unique=True)
    roles: Mapped[str] = mapped_column(String(ROLES_TEXT_LENGTH_MAX))
    password_hash: Mapped[str] = mapped_column(String(PASSWORD_HASH_LENGTH_MAX))
    active: Mapped[bool] = mapped_column(Boolean)
    failed_logins: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(USER_LENGTH_MAX))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    changed_by: Mapped[str | None] = mapped_column(String(USER_LENGTH_MAX))
    changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    __table_args__ = (CheckConstraint("failed_logins >= 0", name="failed_logins"),)


class ReviewDecisionRow(Base):
    """A checker's decision on a run or batch; a returned one carries the comment its maker sees."""

    __tablename__ = "review_decisions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_reference: Mapped[str] = mapped_column(String(40))
    maker: Mapped[str] = mapped_column(String(USER_LENGTH_MAX))
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(USER_LENGTH_MAX))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    __table_args__ = (
        CheckConstraint("subject_kind IN ('run','batch')", name="subject_kind"),
        CheckConstraint("decision IN ('approved','returned')", name="decision"),
        # Four eyes once more in the database: nobody decides on what they made.
        CheckConstraint("decided_by <> maker", name="not_maker"),
        Index("ix_review_decisions_subject", "subject_kind", "subject_reference"),
        Index("ix_review_decisions_maker", "maker"),
    )
