"""The web application's settings, fixed when the server starts.

The pages' language is a setting of the web application of its own: ``DISBURSE_WEB_LANG`` (``zh``,
the default, or ``en``), read when the server starts and held for every request and every job it
starts (``disburse.foundation.i18n.language``). It is not ``DISBURSE_LANG``, the command line's
language: a county runs its web application in Chinese whatever language an operator's shell has.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import DEFAULT_LANGUAGE, normalise_language, tr

UPLOAD_BYTES_MAX = 512 * 1024 * 1024  # a province's register export as CSV is about 150 MiB
IDLE_MINUTES = 30
PUBLIC_LOOKUPS_PER_WINDOW = 10  # per client address
PUBLIC_WINDOW_SECONDS = 600
LOGINS_PER_ADDRESS_WINDOW = 30  # failed or not, per client address, against password guessing across accounts
LOGIN_WINDOW_SECONDS = 600
JOBS_RUNNING_MAX = 2  # the machine's cores; more jobs wait their turn
JOBS_KEPT_MAX = 500
WEB_LANGUAGE_ENVIRONMENT_VARIABLE = "DISBURSE_WEB_LANG"


def web_language_from_environment() -> str:
    """``DISBURSE_WEB_LANG`` (zh or en), Chinese when unset; a misspelt value is refused at start
    rather than silently showing Chinese to someone who asked for English."""
    value = os.environ.get(WEB_LANGUAGE_ENVIRONMENT_VARIABLE)
    try:
        return normalise_language(value) or DEFAULT_LANGUAGE
    except ValueError:
        raise DisburseError(
            tr("{variable} is {value!r}: choose zh or en", variable=WEB_LANGUAGE_ENVIRONMENT_VARIABLE, value=value)
        ) from None


@dataclass(frozen=True, slots=True)
class WebSettings:
    database_url: str
    files_directory: Path
    secret_key: bytes
    upload_bytes_max: int = UPLOAD_BYTES_MAX
    idle_seconds: int = IDLE_MINUTES * 60
    public_lookups_per_window: int = PUBLIC_LOOKUPS_PER_WINDOW
    public_window_seconds: int = PUBLIC_WINDOW_SECONDS
    logins_per_address_window: int = LOGINS_PER_ADDRESS_WINDOW
    login_window_seconds: int = LOGIN_WINDOW_SECONDS
    jobs_running_max: int = JOBS_RUNNING_MAX
    language: str = DEFAULT_LANGUAGE  # the pages' language, zh or en

    @classmethod
    def build(
        cls,
        database_url: str,
        files_directory: Path,
        *,
        upload_bytes_max: int = UPLOAD_BYTES_MAX,
        idle_minutes: int = IDLE_MINUTES,
        secret_key: bytes | None = None,
        language: str | None = None,
        **others: int,
    ) -> "WebSettings":
        """Settings with a fresh signing key (sessions live in the server's memory, so a
        restart ends them anyway) and the files directory created; the language is ``language``,
        else ``DISBURSE_WEB_LANG``, else Chinese."""
        directory = Path(files_directory).resolve()
        directory.mkdir(parents=True, exist_ok=True)
        return cls(
            database_url=database_url,
            files_directory=directory,
            secret_key=secret_key or secrets.token_bytes(32),
            upload_bytes_max=upload_bytes_max,
            idle_seconds=idle_minutes * 60,
            language=normalise_language(language) or web_language_from_environment(),
            **others,
        )
