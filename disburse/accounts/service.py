"""Service functions of the accounts: add, list, disable, enable, reset a password, log in with
lock-out, and the one check both faces make before an action (``authorise``). None commits.

Until the first account exists nothing is enforced (``authorise`` returns None and the faces say
so): a database made before accounts keeps working. The first account must hold 管理员, so
someone can add the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from disburse.accounts.model import AccessRefused, Account, LoginRefused
from disburse.accounts.passwords import hash_password, verify_password
from disburse.accounts.roles import ROLE_ADMINISTRATOR, ROLES, roles_for, roles_of_text, roles_text
from disburse.accounts.tables import UserAccountRow
from disburse.foundation.actors import USER_LENGTH_MAX
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import join_list, tr
from disburse.foundation.orm import utc_now

LOGIN_FAILURES_MAX = 5  # wrong passwords in a row before the account is locked
LOCKOUT_MINUTES = 15
SETUP_USER = "(setup)"  # who created the first account, when nobody could be named yet
NAME_FORBIDDEN_CHARACTERS = set("<>\"'&\\/;`")


def _account(row: UserAccountRow) -> Account:
    return Account(
        row.id,
        row.name,
        roles_of_text(row.roles),
        row.active,
        row.failed_logins,
        row.locked_until,
        row.created_by,
        row.created_at,
        row.last_login_at,
    )


def accounts_exist(session: Session) -> bool:
    """True once any account was added (disabled ones count: accounts are set up)."""
    return session.scalar(select(UserAccountRow.id).limit(1)) is not None


def _row(session: Session, name: str) -> UserAccountRow:
    row = session.scalar(select(UserAccountRow).where(UserAccountRow.name == name.strip()))
    if row is None:
        raise DisburseError(
            tr("there is no account named {name!r}; `disburse users list` shows the accounts", name=name.strip())
        )
    return row


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > USER_LENGTH_MAX:
        raise DisburseError(
            tr(
                "an account name has 1 to {length_max} characters, not {length}",
                length_max=USER_LENGTH_MAX,
                length=len(name),
            )
        )
    bad = sorted(set(name) & NAME_FORBIDDEN_CHARACTERS)
    if bad or any(character.isspace() for character in name):
        raise DisburseError(
            tr(
                "an account name cannot contain spaces or any of {characters}: {name!r}",
                characters=" ".join(sorted(NAME_FORBIDDEN_CHARACTERS)),
                name=name,
            )
        )
    return name


def _checked_roles(roles: Iterable[str]) -> frozenset[str]:
    chosen = frozenset(role.strip() for role in roles if role.strip())
    unknown = sorted(chosen - set(ROLES))
    if unknown:
        raise DisburseError(
            tr("unknown role(s) {unknown}; the roles are {roles}", unknown=join_list(unknown), roles=join_list(ROLES))
        )
    if not chosen:
        raise DisburseError(tr("an account needs at least one role of {roles}", roles=join_list(ROLES)))
    return chosen


def add_account(session: Session, name: str, roles: Iterable[str], password: str, created_by: str | None) -> Account:
    """Add an account; the first one must hold 管理员. Refuses a name already taken."""
    name = _checked_name(name)
    chosen = _checked_roles(roles)
    first = not accounts_exist(session)
    if first and ROLE_ADMINISTRATOR not in chosen:
        raise DisburseError(
            tr("the first account must hold {role}, so that it can add the others", role=ROLE_ADMINISTRATOR)
        )
    if session.scalar(select(UserAccountRow.id).where(UserAccountRow.name == name)) is not None:
        raise DisburseError(tr("an account named {name!r} already exists", name=name))
    password_hash = hash_password(password)
    session.execute(
        insert(UserAccountRow).values(
            name=name,
            roles=roles_text(chosen),
            password_hash=password_hash,
            active=True,
            failed_logins=0,
            created_by=(created_by or SETUP_USER)[:USER_LENGTH_MAX],
        )
    )
    return _account(_row(session, name))


def list_accounts(session: Session) -> list[Account]:
    return [_account(row) for row in session.scalars(select(UserAccountRow).order_by(UserAccountRow.name))]


def account_named(session: Session, name: str) -> Account | None:
    row = session.scalar(select(UserAccountRow).where(UserAccountRow.name == name.strip()))
    return _account(row) if row is not None else None


def _active_administrators(session: Session) -> int:
    rows = session.scalars(select(UserAccountRow.roles).where(UserAccountRow.active.is_(True))).all()
    return sum(ROLE_ADMINISTRATOR in roles_of_text(text) for text in rows)


def set_active(session: Session, name: str, active: bool, by: str) -> str:
    """Disable (or enable again) an account; the last active 管理员 cannot be disabled."""
    row = _row(session, name)
    if row.active == active:
        if active:
            return tr("account {name} is already active; nothing changed", name=row.name)
        return tr("account {name} is already disabled; nothing changed", name=row.name)
    if not active and ROLE_ADMINISTRATOR in roles_of_text(row.roles) and _active_administrators(session) <= 1:
        raise DisburseError(
            tr(
                "{name} is the last active {role}; add another before disabling it",
                name=row.name,
                role=ROLE_ADMINISTRATOR,
            )
        )
    row.active, row.changed_by, row.changed_at = active, by, utc_now()
    if active:
        row.failed_logins, row.locked_until = 0, None
    if active:
        return tr("account {name} enabled by {user}", name=row.name, user=by)
    return tr("account {name} disabled by {user}", name=row.name, user=by)


def set_roles(session: Session, name: str, roles: Iterable[str], by: str) -> str:
    row = _row(session, name)
    chosen = _checked_roles(roles)
    losing_admin = ROLE_ADMINISTRATOR in roles_of_text(row.roles) and ROLE_ADMINISTRATOR not in chosen
    if losing_admin and row.active and _active_administrators(session) <= 1:
        raise DisburseError(
            tr("{name} is the last active {role}; it keeps that role", name=row.name, role=ROLE_ADMINISTRATOR)
        )
    row.roles, row.changed_by, row.changed_at = roles_text(chosen), by, utc_now()
    return tr("account {name} now holds {roles}", name=row.name, roles=roles_text(chosen))


def reset_password(session: Session, name: str, password: str, by: str) -> str:
    """Give an account a new password and lift its lock-out."""
    row = _row(session, name)
    row.password_hash = hash_password(password)
    row.failed_logins, row.locked_until = 0, None
    row.password_changed_at = row.changed_at = utc_now()
    row.changed_by = by
    return tr("the password of {name} was reset by {user}; its lock-out, if any, is lifted", name=row.name, user=by)


def change_own_password(session: Session, name: str, old_password: str, new_password: str) -> str:
    row = _row(session, name)
    if not verify_password(row.password_hash, old_password):
        raise LoginRefused(tr("the current password is wrong"))
    row.password_hash = hash_password(new_password)
    row.password_changed_at = row.changed_at = utc_now()
    row.changed_by = row.name
    return tr("the password of {name} was changed", name=row.name)


def log_in(session: Session, name: str, password: str, now: dt.datetime | None = None) -> Account | LoginRefused:
    """The account when ``password`` is right; otherwise the refusal, returned (not raised) so
    the caller commits the counted failure. ``LOGIN_FAILURES_MAX`` failures in a row lock the
    account for ``LOCKOUT_MINUTES``; a locked account is refused even the right password."""
    now = now or utc_now()
    row = session.scalar(select(UserAccountRow).where(UserAccountRow.name == name.strip()))
    if row is None:
        verify_password(None, password)  # the same time as a wrong password
        return LoginRefused(tr("wrong account name or password"))
    if row.locked_until is not None and row.locked_until > now:
        return LoginRefused(
            tr(
                "account {name} is locked after {count} wrong passwords until {until:%Y-%m-%d %H:%M} UTC",
                name=row.name,
                count=LOGIN_FAILURES_MAX,
                until=row.locked_until,
            ),
            kind="locked",
        )
    if not verify_password(row.password_hash, password):
        row.failed_logins += 1
        if row.failed_logins >= LOGIN_FAILURES_MAX:
            row.locked_until = now + dt.timedelta(minutes=LOCKOUT_MINUTES)
            row.failed_logins = 0
            return LoginRefused(
                tr(
                    "wrong password {count} times in a row: account {name} is locked for {minutes} minutes",
                    count=LOGIN_FAILURES_MAX,
                    name=row.name,
                    minutes=LOCKOUT_MINUTES,
                ),
                kind="locked",
            )
        return LoginRefused(tr("wrong account name or password"))
    if not row.active:
        return LoginRefused(tr("account {name} is disabled", name=row.name), kind="disabled")
    row.failed_logins, row.locked_until, row.last_login_at = 0, None, now
    return _account(row)


def authorise(session: Session, user: str | None, action: str) -> Account | None:
    """The account that may do ``action``; None when no account exists yet (nothing enforced).
    Refuses (AccessRefused) a name that is not an active account or lacks every role ``action``
    needs."""
    if not accounts_exist(session):
        return None
    allowed = roles_for(action)
    if not (user or "").strip():
        raise AccessRefused(
            tr(
                "accounts are set up: name your account with --user (it needs one of {roles})",
                roles=roles_text(allowed),
            )
        )
    row = session.scalar(select(UserAccountRow).where(UserAccountRow.name == user.strip()))
    if row is None:
        raise AccessRefused(
            tr("{name!r} is not an account; `disburse users list` shows the accounts", name=user.strip())
        )
    if not row.active:
        raise AccessRefused(tr("account {name} is disabled", name=row.name))
    held = roles_of_text(row.roles)
    if not held & allowed:
        raise AccessRefused(
            tr(
                "account {name} holds {held}; {action} needs one of {allowed}",
                name=row.name,
                held=roles_text(held),
                action=action,
                allowed=roles_text(allowed) or tr("no role (nobody may)"),
            )
        )
    return _account(row)


def account_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(UserAccountRow)) or 0)
