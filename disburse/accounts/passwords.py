"""Password hashing with argon2id (argon2-cffi), with the parameters fixed here so that a hash
made today verifies on any later version."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr

PASSWORD_LENGTH_MIN = 8
PASSWORD_LENGTH_MAX = 256
# RFC 9106's second recommended option (64 MiB, 3 passes), on one lane: a login costs tens of
# milliseconds, a guessed password as much.
_HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1, hash_len=32, salt_len=16)


@functools.cache
def _dummy_hash() -> str:
    """Verified when the name is unknown, so a wrong name takes as long as a wrong password. Made
    on first use, not at import: hashing costs about 0.2 s, and every command imports this module
    (to check who runs it) while only a login verifies a password."""
    return _HASHER.hash("not a password anyone has")


def password_problem(password: str) -> str | None:
    """Why ``password`` cannot be used, or None."""
    if len(password) < PASSWORD_LENGTH_MIN:
        return tr(
            "a password needs at least {length_min} characters, not {length}",
            length_min=PASSWORD_LENGTH_MIN,
            length=len(password),
        )
    if len(password) > PASSWORD_LENGTH_MAX:
        return tr(
            "a password has at most {length_max} characters, not {length}",
            length_max=PASSWORD_LENGTH_MAX,
            length=len(password),
        )
    if password.strip() != password:
        return tr("a password cannot start or end with a space")
    return None


def hash_password(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise DisburseError(problem)
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` is the one ``password_hash`` was made from; never raises."""
    if len(password) > PASSWORD_LENGTH_MAX:
        return False
    try:
        return _HASHER.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
