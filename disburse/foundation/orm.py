"""The ORM base every stage declares its tables on, so one Alembic tree covers them all, with the
naming convention fixed from the first migration and the column types the schema relies on."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only aliases INTEGER PRIMARY KEY to its rowid; a BIGINT primary key there would be a
# plain column without automatic numbering.
BigId = BigInteger().with_variant(Integer(), "sqlite")

HASH_LENGTH = 64  # hex SHA-256


def utc_now() -> dt.datetime:
    """Naive UTC now, called at insert time (a callable default, never a value computed at import)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
