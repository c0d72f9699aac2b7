"""`disburse db roles`: least-privilege PostgreSQL roles for the books."""

from __future__ import annotations

import typer

from disburse.cli.common import books, console

db_app = typer.Typer(no_args_is_help=True, help="The database: PostgreSQL roles.")


@db_app.command("roles")
def db_roles(
    owner: str = typer.Option("disburse_owner", "--owner", help="the role that owns the schema and runs `init`"),
    application: str = typer.Option("disburse_app", "--app", help="the role the CLI and the web server connect as"),
    auditor: str = typer.Option("disburse_auditor", "--auditor", help="the read-only role for auditors"),
) -> None:
    """Create the owner, application and auditor roles and grant each what it may do (run it as a
    superuser; then connect with the application role's URL for daily work)."""
    from disburse.schema.roles import Roles, set_up_roles

    with books() as session:
        done = set_up_roles(session, Roles(owner, application, auditor))
    for line in done:
        console.print(line)
