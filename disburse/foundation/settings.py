"""Settings read from the environment, in one place. Light on purpose: the CLI reads them before
it knows which command runs, and `disburse --help` must not pay for the database libraries."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///disburse.db"
DATABASE_ENVIRONMENT_VARIABLE = "DISBURSE_DB"


def database_url(explicit: str | None = None) -> str:
    """``--db`` wins, then ``DISBURSE_DB``, then ``disburse.db`` in the working directory. A bare
    file path is taken as a SQLite file."""
    url = explicit or os.environ.get(DATABASE_ENVIRONMENT_VARIABLE) or DEFAULT_DATABASE_URL
    if "://" not in url:
        url = f"sqlite:///{Path(url)}"
    return url


# The Ed25519 private key that signs checkpoints lives outside the database, in a file only its
# owner can read (`disburse keys init` creates it). The default is a file in the working
# directory, like the default database; a deployment names a path outside the database's
# backups with DISBURSE_KEY_FILE.
DEFAULT_KEY_FILE = "disburse-signing.key"
KEY_FILE_ENVIRONMENT_VARIABLE = "DISBURSE_KEY_FILE"


def signing_key_path(explicit: str | Path | None = None) -> Path:
    """``--out``/an explicit path wins, then ``DISBURSE_KEY_FILE``, then ``disburse-signing.key``
    in the working directory."""
    return Path(explicit or os.environ.get(KEY_FILE_ENVIRONMENT_VARIABLE) or DEFAULT_KEY_FILE)
