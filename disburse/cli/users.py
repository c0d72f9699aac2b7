"""`disburse users ...`: the accounts people log in with and name with --user.

The first account (on a database with none) needs no --user and must hold 管理员; after that
every `users` command needs --user naming an active 管理员 (checked in ``cli.app``).
"""

from __future__ import annotations

import sys
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from disburse.cli.common import books, console
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import join_list, tr, tr_noop

users_app = typer.Typer(
    no_args_is_help=True, help=tr_noop("Accounts and roles (经办, 审核, 出纳, 窗口, 审计, 管理员).")
)

ROLE_HELP = tr_noop("a role: 经办, 审核, 出纳, 窗口, 审计 or 管理员 (repeat --role for several)")
PASSWORD_STDIN_HELP = tr_noop("read the password from the first line of standard input instead of prompting")
# USER_HELP with " (a 管理员)": one id of its own, since help is looked up whole.
ADMIN_USER_HELP = tr_noop("who is acting (recorded with every change); or set DISBURSE_USER (a 管理员)")
ACCOUNT_HELP = tr_noop("the account")
# Shown in the status column of `users list`.
STATUS_DISABLED, STATUS_LOCKED, STATUS_ACTIVE = tr_noop("disabled"), tr_noop("locked"), tr_noop("active")


def _password(from_stdin: bool) -> str:
    """The new password: the first line of stdin, or typed twice at a terminal."""
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    if not sys.stdin.isatty():
        raise DisburseError(tr("no terminal to type a password at: give --password-stdin and pipe the password in"))
    return typer.prompt(tr("password"), hide_input=True, confirmation_prompt=True)


@users_app.command("add", help=tr_noop("Add an account with one or more roles; the first account must hold 管理员."))
def users_add(
    name: str = typer.Argument(..., help=tr_noop("the account name people log in with (also their --user)")),
    role: list[str] = typer.Option(..., "--role", help=ROLE_HELP),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=PASSWORD_STDIN_HELP),
    user: Optional[str] = typer.Option(None, "--user", envvar="DISBURSE_USER", help=ADMIN_USER_HELP),
) -> None:
    """Add an account with one or more roles; the first account must hold 管理员."""
    from disburse.accounts.service import add_account

    password = _password(password_stdin)
    with books() as session:
        account = add_account(session, name, role, password, user)
    console.print(
        tr(
            "account {name} added with role(s) {roles}",
            name=escape(account.name),
            roles=join_list(sorted(account.roles)),
        )
    )


@users_app.command("list", help=tr_noop("List the accounts: roles, status, lock-out and last login."))
def users_list(
    user: Optional[str] = typer.Option(None, "--user", envvar="DISBURSE_USER", help=ADMIN_USER_HELP),
) -> None:
    """List the accounts: roles, status, lock-out and last login."""
    from disburse.accounts.roles import roles_text
    from disburse.accounts.service import list_accounts
    from disburse.foundation.orm import utc_now

    with books() as session:
        accounts = list_accounts(session)
    if not accounts:
        console.print(tr("no accounts yet: `disburse users add NAME --role 管理员` creates the first"))
        return
    now = utc_now()
    table = Table(tr("name"), tr("roles"), tr("status"), tr("created by"), tr("created (UTC)"), tr("last login (UTC)"))
    for account in accounts:
        status = STATUS_DISABLED if not account.active else STATUS_LOCKED if account.locked(now) else STATUS_ACTIVE
        table.add_row(
            escape(account.name),
            roles_text(account.roles),
            tr(status),
            escape(account.created_by),
            f"{account.created_at:%Y-%m-%d %H:%M}",
            f"{account.last_login_at:%Y-%m-%d %H:%M}" if account.last_login_at else "",
        )
    console.print(table)


@users_app.command("disable", help=tr_noop("Disable an account: it can no longer log in or be named with --user."))
def users_disable(
    name: str = typer.Argument(..., help=tr_noop("the account to disable")),
    user: Optional[str] = typer.Option(None, "--user", envvar="DISBURSE_USER", help=ADMIN_USER_HELP),
) -> None:
    """Disable an account: it can no longer log in or be named with --user."""
    from disburse.accounts.service import set_active

    with books() as session:
        message = set_active(session, name, False, user or "(setup)")
    console.print(escape(message))


@users_app.command("enable", help=tr_noop("Enable a disabled account again (its lock-out is lifted too)."))
def users_enable(
    name: str = typer.Argument(..., help=tr_noop("the account to enable again")),
    user: Optional[str] = typer.Option(None, "--user", envvar="DISBURSE_USER", help=ADMIN_USER_HELP),
) -> None:
    """Enable a disabled account again (its lock-out is lifted too)."""
    from disburse.accounts.service import set_active

    with books() as session:
        message = set_active(session, name, True, user or "(setup)")
    console.print(escape(message))


@users_app.command("roles", help=tr_noop("Replace an account's roles."))
def users_roles(
    name: str = typer.Argument(..., help=ACCOUNT_HELP),
    role: list[str] = typer.Option(..., "--role", help=ROLE_HELP),
    user: Optional[str] = typer.Option(None, "--user", envvar="DISBURSE_USER", help=ADMIN_USER_HELP),
) -> None:
    """Replace an account's roles."""
    from disburse.accounts.service import set_roles

    with books() as session:
        message = set_roles(session, name, role, user or "(setup)")
    console.print(escape(message))


@users_app.command("reset-password", help=tr_noop("Give an account a new password and lift its lock-out."))
def users_reset_password(
    name: str = typer.Argument(..., help=ACCOUNT_HELP),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=PASSWORD_STDIN_HELP),
    user: Optional[str] = typer.Option(None, "--user", envvar="DISBURSE_USER", help=ADMIN_USER_HELP),
) -> None:
    """Give an account a new password and lift its lock-out."""
    from disburse.accounts.service import reset_password

    password = _password(password_stdin)
    with books() as session:
        message = reset_password(session, name, password, user or "(setup)")
    console.print(escape(message))
