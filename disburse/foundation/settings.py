"""Settings read from the environment, in one place. Light on purpose: the CLI reads them before
it knows which command runs, and `disburse --help` must not pay for the database libraries."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///disburse.db"
DATABASE_ENVIRONMENT_VARIABLE = "DISBURSE_DB"
# The complaints telephone printed on every notice (公示) roster. The default is a placeholder
# that says so on the paper, so a notice never goes up with a made-up number unnoticed.
HOTLINE_ENVIRONMENT_VARIABLE = "DISBURSE_HOTLINE"
HOTLINE_PLACEHOLDER = "（监督电话未设置：请设置 DISBURSE_HOTLINE）"
# Whether a run whose rule has no `notice:` key must be publicly posted before it is paid.
# Off for now (existing rules and flows prepare batches right after posting); a rule opts in
# with `notice: {days: N}`. Set to 1 to require notice of every rule that does not opt out.
NOTICE_REQUIRED_ENVIRONMENT_VARIABLE = "DISBURSE_NOTICE_REQUIRED"


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


def hotline() -> str:
    """The complaints telephone for notices: ``DISBURSE_HOTLINE``, else a visible placeholder."""
    return (os.environ.get(HOTLINE_ENVIRONMENT_VARIABLE) or "").strip() or HOTLINE_PLACEHOLDER


def notice_required_by_default() -> bool:
    """True when ``DISBURSE_NOTICE_REQUIRED`` is 1/true/yes: rules without ``notice:`` need one."""
    return (os.environ.get(NOTICE_REQUIRED_ENVIRONMENT_VARIABLE) or "").strip().lower() in ("1", "true", "yes")


# Whether a run of a programme that no budget indicator (指标文号) names may still be calculated.
# Off for now: a programme without indicators keeps today's behaviour (no indicator control), so
# existing rules and flows work unchanged; once a programme has an indicator its runs always draw
# on one. Set to 1 to refuse every run whose programme has no indicator.
FUNDS_REQUIRED_ENVIRONMENT_VARIABLE = "DISBURSE_FUNDS_REQUIRED"


def funds_required() -> bool:
    """True when ``DISBURSE_FUNDS_REQUIRED`` is 1/true/yes: every run must draw on an indicator."""
    return (os.environ.get(FUNDS_REQUIRED_ENVIRONMENT_VARIABLE) or "").strip().lower() in ("1", "true", "yes")
