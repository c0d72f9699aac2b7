"""The records of the accounts stage handed to the faces, and its typed refusal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from disburse.foundation.errors import DisburseError


class AccessRefused(DisburseError):
    """A name that is not an active account, or an account without the role an action needs.
    The CLI shows it like any refusal (exit 1); the web answers 403."""


LOGIN_REFUSAL_KINDS = ("wrong", "locked", "disabled")


class LoginRefused(DisburseError):
    """A wrong name or password, or an account that is locked or disabled: ``kind`` says which
    (one of LOGIN_REFUSAL_KINDS), so that a face can choose what to show without reading the
    message, which is in the language of the moment like every refusal."""

    def __init__(self, message: str, kind: str = "wrong") -> None:
        assert kind in LOGIN_REFUSAL_KINDS, kind
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Account:
    """One account as the faces see it (never its password hash)."""

    id: int
    name: str
    roles: frozenset[str]
    active: bool
    failed_logins: int
    locked_until: dt.datetime | None
    created_by: str
    created_at: dt.datetime
    last_login_at: dt.datetime | None

    def locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


@dataclass(frozen=True, slots=True)
class ReviewDecision:
    """A checker's decision on a run or a batch: approved, or returned to its maker with a comment."""

    id: int
    subject_kind: str
    subject_reference: str
    maker: str
    decision: str
    comment: str
    decided_by: str
    decided_at: dt.datetime
