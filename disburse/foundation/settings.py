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
