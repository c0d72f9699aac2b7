"""`disburse db roles`: least-privilege PostgreSQL roles for the books."""

from __future__ import annotations

import typer

from disburse.cli.common import books, console
from disburse.foundation.i18n import tr_noop

db_app = typer.Typer(no_args_is_help=True, help=tr_noop("The database: PostgreSQL roles."))


@db_app.command(
    "roles",
    short_help=tr_noop("Create the owner, application and auditor PostgreSQL roles and their grants."),
    help=tr_noop(
        "Create the owner, application and auditor roles and grant each what it may do (run it as a "
        "superuser; then connect with the application role's URL for daily work)."
    ),
)
def db_roles(
    owner: str = typer.Option(
        "disburse_owner", "--owner", help=tr_noop("the role that owns the schema and runs `init`")
    ),
    application: str = typer.Option(
        "disburse_app", "--app", help=tr_noop("the role the CLI and the web server connect as")
    ),
    auditor: str = typer.Option("disburse_auditor", "--auditor", help=tr_noop("the read-only role for auditors")),
) -> None:
    """Create the owner, application and auditor roles and grant each what it may do (run it as a
    superuser; then connect with the application role's URL for daily work)."""
    from disburse.schema.roles import Roles, set_up_roles

    with books() as session:
        done = set_up_roles(session, Roles(owner, application, auditor))
    for line in done:
        console.print(line)
