"""The web application's settings, fixed when the server starts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

UPLOAD_BYTES_MAX = 512 * 1024 * 1024  # a province's register export as CSV is about 150 MiB
IDLE_MINUTES = 30
PUBLIC_LOOKUPS_PER_WINDOW = 10  # per client address
PUBLIC_WINDOW_SECONDS = 600
LOGINS_PER_ADDRESS_WINDOW = 30  # failed or not, per client address, against password guessing across accounts
LOGIN_WINDOW_SECONDS = 600
JOBS_RUNNING_MAX = 2  # the machine's cores; more jobs wait their turn
JOBS_KEPT_MAX = 500


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

    @classmethod
    def build(
        cls,
        database_url: str,
        files_directory: Path,
        *,
        upload_bytes_max: int = UPLOAD_BYTES_MAX,
        idle_minutes: int = IDLE_MINUTES,
        secret_key: bytes | None = None,
        **others: int,
    ) -> "WebSettings":
        """Settings with a fresh signing key (sessions live in the server's memory, so a
        restart ends them anyway) and the files directory created."""
        directory = Path(files_directory).resolve()
        directory.mkdir(parents=True, exist_ok=True)
        return cls(
            database_url=database_url,
            files_directory=directory,
            secret_key=secret_key or secrets.token_bytes(32),
            upload_bytes_max=upload_bytes_max,
            idle_seconds=idle_minutes * 60,
            **others,
        )
