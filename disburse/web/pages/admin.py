"""账户管理 (管理员): add accounts, change roles, disable and enable them, reset a password."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from disburse.accounts.roles import ROLE_DESCRIPTIONS, ROLES
from disburse.accounts.service import add_account, list_accounts, reset_password, set_active, set_roles
from disburse.foundation.errors import DisburseError
from disburse.foundation.orm import utc_now
from disburse.web.base import Ctx, change, guard, in_thread, note, read, redirect, refusal_page, render
from disburse.web.uploads import FormRefused


@guard("accounts.read")
async def accounts(ctx: Ctx) -> Response:
    listed = await in_thread(read, ctx.state, list_accounts)
    return render(
        ctx, "admin.html", title="账户管理", accounts=listed, roles=ROLES, descriptions=ROLE_DESCRIPTIONS, now=utc_now()
    )


def _roles(ctx: Ctx) -> list[str]:
    chosen = [value for value in ctx.form.getlist("role") if isinstance(value, str)] if ctx.form is not None else []
    if not chosen or any(role not in ROLES for role in chosen):
        raise FormRefused("请至少选择一个角色。")
    return chosen


@guard("accounts.manage")
async def manage(ctx: Ctx) -> Response:
    what = ctx.request.path_params["what"]
    name = ctx.field("name", required=True, label="账户名", length_max=64)
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
        raise FormRefused("没有这项操作。")
    if what == "roles" or what == "add":
        _roles(ctx)
    try:
        await in_thread(change, ctx.state, note(ctx, f"users {what}", f"name={name}"), actions[what])
    except DisburseError as error:
        return refusal_page(ctx, 409, "操作被拒绝", "没有做任何更改。", detail=str(error))
    if what in ("disable", "roles", "reset-password"):
        ctx.state.sessions.end_account(name)  # the account logs in again with what it now is
    done = {
        "add": "已添加",
        "roles": "角色已更改",
        "disable": "已停用",
        "enable": "已启用",
        "reset-password": "密码已重置",
    }[what]
    ctx.flash("ok", f"账户 {name} {done}。")
    return redirect("/admin")


ROUTES = [
    Route("/admin", accounts, methods=["GET"]),
    Route("/admin/accounts/{what}", manage, methods=["POST"]),
]
