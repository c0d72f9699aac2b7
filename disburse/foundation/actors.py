"""Who is acting: every change records a user name, checked in one place.

The faces (CLI, web) decide who the user is (an account once accounts exist); the stages only
require that a name was given and fits the columns that record it.
"""

from __future__ import annotations

from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr

USER_LENGTH_MAX = 64


def require_user(user: str | None) -> str:
    """The acting user's name, stripped; refused when blank or longer than the columns hold."""
    name = (user or "").strip()
    if not name or len(name) > USER_LENGTH_MAX:
        raise DisburseError(
            tr(
                "a user name of 1 to {limit} characters is required (--user or DISBURSE_USER)",
                limit=USER_LENGTH_MAX,
            )
        )
    return name
