"""Least-privilege PostgreSQL roles (issue #16 item 6).

Three roles, so that what the accounts mean is enforced by the database itself:

- the **owner** owns every table, sequence and function and runs the migrations (`disburse init`);
- the **application** role, which the CLI and the web server connect as, may read and write rows
  but owns nothing: it cannot drop or disable a trigger, alter or drop a table, or truncate, so
  the guards on posted rows hold even against someone holding its password;
- the **auditor** role reads everything and writes nothing.

`disburse db roles` creates the roles (when missing), hands every object of the schema to the
owner, grants the other two what they need, and sets default privileges so that tables a later
migration creates are granted the same way. It must run as a superuser or as the owner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DEFAULT_ROLES = ("disburse_owner", "disburse_app", "disburse_auditor")


@dataclass(frozen=True, slots=True)
class Roles:
    owner: str
    application: str
    auditor: str

    def __post_init__(self) -> None:
        names = (self.owner, self.application, self.auditor)
        for name in names:
            if not ROLE_NAME.match(name):
                raise DisburseError(
                    tr("role name {name!r} must be lower-case letters, digits and _ (at most 63)", name=name)
                )
        if len(set(names)) != 3:
            raise DisburseError(tr("the owner, application and auditor roles must be three different roles"))


def _create_missing(session: Session, role: str) -> bool:
    exists = session.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": role}).first()
    if exists:
        return False
    # Names are checked against ROLE_NAME above; PostgreSQL takes no bind parameter here.
    session.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    return True


def _owned_objects(session: Session) -> list[tuple[str, str]]:
    """(kind, name) of every table and view in the public schema; a table's own sequences (its
    id columns) follow it to its new owner."""
    rows = session.execute(
        text(
            "SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END, c.relname "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v')"
        )
    ).all()
    return [(kind, name) for kind, name in rows]


def _functions(session: Session) -> list[str]:
    rows = session.execute(
        text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public'"
        )
    ).all()
    return [row[0] for row in rows]


def set_up_roles(session: Session, roles: Roles) -> list[str]:
    """Create the roles and give each what it may do; returns what was done, line by line."""
    if session.get_bind().dialect.name != "postgresql":
        raise DisburseError(
            tr("database roles are a PostgreSQL matter; a SQLite file is protected by its file permissions")
        )
    done = [
        tr("role {role} created", role=role)
        for role in (roles.owner, roles.application, roles.auditor)
        if _create_missing(session, role)
    ]
    database = session.execute(text("SELECT current_database()")).scalar_one()
    owner, application, auditor = (f'"{name}"' for name in (roles.owner, roles.application, roles.auditor))
    statements = [
        f'GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO {owner}, {application}, {auditor}',
        f"ALTER SCHEMA public OWNER TO {owner}",
        f"REVOKE CREATE ON SCHEMA public FROM PUBLIC, {application}, {auditor}",
        f"GRANT USAGE ON SCHEMA public TO {application}, {auditor}",
    ]
    for kind, name in _owned_objects(session):
        statements.append(f'ALTER {kind} public."{name}" OWNER TO {owner}')
    for function in _functions(session):
        statements.append(f"ALTER FUNCTION {function} OWNER TO {owner}")
    statements += [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {application}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {application}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {auditor}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {application}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {application}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT SELECT ON TABLES TO {auditor}",
    ]
    for statement in statements:
        session.execute(text(statement))
    done.append(
        tr(
            "{owner} owns the schema ({count} tables); {application} reads and writes rows; {auditor} reads",
            owner=roles.owner,
            count=len(_owned_objects(session)),
            application=roles.application,
            auditor=roles.auditor,
        )
    )
    return done
