"""账户管理 (管理员): add accounts, change roles, disable and enable them, reset a password."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from disburse.accounts.roles import ROLE_DESCRIPTIONS, ROLES
from disburse.accounts.service import add_account, list_accounts, reset_password, set_active, set_roles
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr
from disburse.foundation.orm import utc_now
from disburse.web.base import Ctx, change, guard, in_thread, note, read, redirect, refusal_page, render
from disburse.web.uploads import FormRefused


@guard("accounts.read")
async def accounts(ctx: Ctx) -> Response:
    listed = await in_thread(read, ctx.state, list_accounts)
    return render(
        ctx,
        "admin.html",
        title=tr("Accounts"),
        accounts=listed,
        roles=ROLES,
        descriptions=ROLE_DESCRIPTIONS,
        now=utc_now(),
    )


def _roles(ctx: Ctx) -> list[str]:
    chosen = [value for value in ctx.form.getlist("role") if isinstance(value, str)] if ctx.form is not None else []
    if not chosen or any(role not in ROLES for role in chosen):
        raise FormRefused(tr("Choose at least one role."))
    return chosen


@guard("accounts.manage")
async def manage(ctx: Ctx) -> Response:
    what = ctx.request.path_params["what"]
    name = ctx.field("name", required=True, label=tr("account name"), length_max=64)
    password = ctx.form.get("password") if ctx.form is not None else ""
    password = password if isinstance(password, str) else ""
    actions = {
        "add": lambda session: add_account(session, name, _roles(ctx), password, ctx.user),
        "roles": lambda session: set_roles(session, name, _roles(ctx), ctx.user),
        "disable": lambda session: set_active(session, name, False, ctx.user),
        "enable": lambda session: set_active(session, name, True, ctx.user),
        "reset-password": lambda session: reset_password(session, name, password, ctx.user),
    }
    if what not in actions:
        raise FormRefused(tr("There is no such action."))
    if what == "roles" or what == "add":
        _roles(ctx)
    try:
        await in_thread(change, ctx.state, note(ctx, f"users {what}", f"name={name}"), actions[what])
    except DisburseError as error:
        return refusal_page(ctx, 409, tr("Refused"), tr("Nothing was changed."), detail=str(error))
    if what in ("disable", "roles", "reset-password"):
        ctx.state.sessions.end_account(name)  # the account logs in again with what it now is
    done = {
        "add": tr("Account {name} added.", name=name),
        "roles": tr("Account {name}: roles changed.", name=name),
        "disable": tr("Account {name} disabled.", name=name),
        "enable": tr("Account {name} enabled.", name=name),
        "reset-password": tr("Account {name}: password reset.", name=name),
    }[what]
    ctx.flash("ok", done)
    return redirect("/admin")


ROUTES = [
    Route("/admin", accounts, methods=["GET"]),
    Route("/admin/accounts/{what}", manage, methods=["POST"]),
]
