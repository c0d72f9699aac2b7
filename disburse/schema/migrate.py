"""Creating and upgrading the schema (Alembic to head) and seeding what every set of books needs."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, insert, inspect, select, text
from sqlalchemy.orm import Session

from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr
from disburse.ledger.chart import SEED_CHART
from disburse.ledger.tables import AccountRow, EntityRow
from disburse.schema import migrations

MIGRATIONS_DIRECTORY = Path(migrations.__file__).resolve().parent
COUNTY_ENTITY_CODE = "COUNTY"
COUNTY_ENTITY_NAME = "县级扶贫资金专户"
SYSTEM_USER = "system"
# Alembic's own bookkeeping table, and the two assignments every revision file starts with.
VERSION_TABLE = "alembic_version"
_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config() -> Config:
    # Alembic is imported only by what migrates: every command checks the schema version at
    # start-up, and importing Alembic for that cost each of them about 0.15 s.
    from alembic.config import Config

    config = Config(str(MIGRATIONS_DIRECTORY / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIRECTORY))
    return config


@cache
def head_revision() -> str:
    """The newest revision, read from the revision files' ``revision``/``down_revision`` lines
    without loading them through Alembic (a test holds this equal to Alembic's own head)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIRECTORY / "versions").glob("[0-9]*.py"):
        assigned = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        revisions.add(ast.literal_eval(assigned["revision"]))
        down = ast.literal_eval(assigned["down_revision"])
        parents.update([down] if isinstance(down, str) else list(down or ()))
    heads = sorted(revisions - parents)
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {heads}"
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, None when `disburse init` never ran on it."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        versions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    assert len(versions) <= 1, f"{VERSION_TABLE} holds {len(versions)} rows: {versions}"
    return versions[0] if versions else None


def migrate(engine: Engine, revision: str = "head", *, downgrade: bool = False) -> None:
    """Run the migrations on ``engine`` in one transaction.

    SQLite changes a table by copying it and dropping the old one, and with foreign keys
    enforced that drop would delete (or refuse for) every row that refers to the table. So, as
    SQLite's documentation prescribes for such changes, foreign keys are off while the
    migrations run (the pragma works only outside a transaction), every foreign key is checked
    before the transaction commits, and they are on again afterwards."""
    from alembic import command

    config = alembic_config()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        driver_connection = connection.connection.driver_connection
        if sqlite:
            driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                if downgrade:
                    command.downgrade(config, revision)
                else:
                    command.upgrade(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise DisburseError(
                            tr(
                                "the migration would leave {count:,} row(s) whose foreign keys point nowhere "
                                "(first: {first}); nothing was changed",
                                count=len(broken),
                                first=tuple(broken[0]),
                            )
                        )
        finally:
            if sqlite:
                driver_connection.execute("PRAGMA foreign_keys=ON")


def seed(session: Session) -> dict[str, int]:
    """Insert the chart of accounts and the county entity where missing; never changes a row
    that is already there, so running it again is harmless."""
    existing = set(session.scalars(select(AccountRow.code)).all())
    missing = [account for account in SEED_CHART if account.code not in existing]
    # Parents first: a sub-account's foreign key names its parent.
    missing.sort(key=lambda account: (account.code.count("."), account.code))
    if missing:
        session.execute(
            insert(AccountRow),
            [
                {
                    "code": account.code,
                    "name": account.name,
                    "account_type": account.account_type,
                    "parent_code": account.parent_code,
                    "description": account.description or None,
                }
                for account in missing
            ],
        )
    county = session.scalar(select(EntityRow.id).where(EntityRow.code == COUNTY_ENTITY_CODE))
    if county is None:
        session.execute(
            insert(EntityRow).values(
                code=COUNTY_ENTITY_CODE, name=COUNTY_ENTITY_NAME, kind="county", created_by=SYSTEM_USER
            )
        )
    return {"accounts_added": len(missing), "county_added": int(county is None)}


def require_current(engine: Engine) -> None:
    """Refuse to work on a database that `disburse init` has not brought to this version."""
    current = current_revision(engine)
    if current != head_revision():
        raise DisburseError(
            tr(
                "the database at {url} is at schema {current}, not {head}; run `disburse init` first",
                url=engine.url.render_as_string(hide_password=True),
                current=current or tr("none"),
                head=head_revision(),
            )
        )
