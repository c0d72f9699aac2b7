"""Logging in and out, the home page, one's own password, the job pages and the public page."""

from __future__ import annotations

import datetime as dt

from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from disburse.accounts.model import LoginRefused
from disburse.accounts.service import change_own_password, log_in
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr, tr_noop
from disburse.payouts.status import household_status
from disburse.registry.counter import household_of_head, household_profile
from disburse.web.base import (
    SESSION_COOKIE,
    Ctx,
    change,
    cookie_options,
    guard,
    in_thread,
    note,
    read,
    redirect,
    refusal_page,
    render,
)
from disburse.web.pages.counter import next_step_zh, state_zh

NEXT_PATH_LENGTH_MAX = 200
# What the login page says for each kind of refusal (accounts.model.LOGIN_REFUSAL_KINDS).
LOGIN_REFUSALS_SHOWN = {
    "wrong": tr_noop("Wrong account name or password."),
    "locked": tr_noop("The account is locked; try again later or ask the administrator to reset the password."),
    "disabled": tr_noop("The account is disabled."),
}


def visitor_form(ctx: Ctx) -> None:
    """Give a visitor (not logged in) a form token: the one its cookie holds, or a new one."""
    from disburse.web.security import FORM_COOKIE

    sessions = ctx.state.sessions
    token = sessions.form_token_of(ctx.request.cookies.get(FORM_COOKIE))
    if token is None:
        token, cookie = sessions.new_form_token()
    else:
        cookie = ctx.request.cookies[FORM_COOKIE]
    ctx.cookies.update(form_token=token, form_cookie=cookie)


def _safe_next(path: str) -> str:
    # Only a path of this site: never another host (//evil, http://…).
    if not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > NEXT_PATH_LENGTH_MAX:
        return "/"
    return path


@guard(None)
async def home(ctx: Ctx) -> Response:
    if ctx.session is None:
        return redirect("/login")
    return render(ctx, "home.html", title=tr("Home"), jobs=ctx.state.jobs.of_owner(ctx.user))


@guard(None)
async def login_page(ctx: Ctx) -> Response:
    visitor_form(ctx)
    target = _safe_next(ctx.request.query_params.get("next", "/"))
    return render(ctx, "login.html", title=tr("Log in"), next=target, error="")


@guard(None)
async def login(ctx: Ctx) -> Response:
    visitor_form(ctx)
    name = ctx.field("name", length_max=64)
    password = ctx.form.get("password") if ctx.form is not None else ""
    password = password if isinstance(password, str) else ""
    target = _safe_next(ctx.field("next", length_max=NEXT_PATH_LENGTH_MAX) or "/")
    if not ctx.state.login_limiter.allow(ctx.client()):
        ctx.state.audit.put(
            note(ctx, "login", f"name={name}", outcome="refused", message=tr("too many logins from this address"))
        )
        return render(
            ctx,
            "login.html",
            status_code=429,
            title=tr("Log in"),
            next=target,
            error=tr("Too many login attempts from this address; try again later."),
        )
    attempt = await in_thread(
        change, ctx.state, note(ctx, "login", f"name={name}"), lambda session: _log_in(session, name, password)
    )
    if isinstance(attempt, LoginRefused):
        # The failure is counted (and logged) in the committed transaction; the page says less
        # than the refusal (never whether the name exists), chosen by the refusal's kind.
        shown = tr(LOGIN_REFUSALS_SHOWN[attempt.kind])
        return render(ctx, "login.html", status_code=401, title=tr("Log in"), next=target, error=shown)
    account = attempt
    session, cookie = ctx.state.sessions.create(account.name, account.roles)
    response = redirect(target)
    response.set_cookie(SESSION_COOKIE, cookie, **cookie_options(ctx.state))
    return response


def _log_in(session, name: str, password: str):  # type: ignore[no-untyped-def]
    return log_in(session, name, password)


@guard(None)
async def logout(ctx: Ctx) -> Response:
    if ctx.session is not None:
        ctx.state.audit.put(note(ctx, "logout"))
        ctx.state.sessions.end(ctx.session)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@guard(None)
async def password_page(ctx: Ctx) -> Response:
    if ctx.session is None:
        return redirect("/login?next=/password")
    return render(ctx, "password.html", title=tr("Change password"), error="")


@guard(None)
async def password_change(ctx: Ctx) -> Response:
    if ctx.session is None:
        return redirect("/login")
    old, new, again = (ctx.form.get(name) or "" for name in ("old", "new", "again"))  # type: ignore[union-attr]
    if new != again:
        return render(
            ctx,
            "password.html",
            status_code=400,
            title=tr("Change password"),
            error=tr("The two new passwords differ."),
        )
    try:
        await in_thread(
            change,
            ctx.state,
            note(ctx, "password"),
            lambda session: change_own_password(session, ctx.user, str(old), str(new)),
        )
    except LoginRefused:
        return render(
            ctx,
            "password.html",
            status_code=400,
            title=tr("Change password"),
            error=tr("The current password is wrong."),
        )
    except DisburseError as error:
        return render(
            ctx,
            "password.html",
            status_code=400,
            title=tr("Change password"),
            error=tr("The new password cannot be used: {reason}", reason=error),
        )
    ctx.flash("ok", tr("Password changed."))
    return redirect("/")


# ---------------------------------------------------------------------------------------- jobs
@guard(None)
async def job_page(ctx: Ctx) -> Response:
    if ctx.session is None:
        return redirect("/login")
    job = ctx.state.jobs.get(ctx.request.path_params["job_id"], ctx.user)
    if job is None:
        return refusal_page(ctx, 404, tr("Job not found"), tr("This job does not exist, or you did not start it."))
    return render(ctx, "job.html", title=job.title, job=job)


@guard(None)
async def job_status(ctx: Ctx) -> Response:
    job = ctx.state.jobs.get(ctx.request.path_params["job_id"], ctx.user) if ctx.session is not None else None
    if job is None:
        return JSONResponse({"error": "not found"}, status_code=404)
    return JSONResponse(job.status(), headers={"Cache-Control": "no-store"})


@guard(None)
async def job_file(ctx: Ctx) -> Response:
    job = ctx.state.jobs.get(ctx.request.path_params["job_id"], ctx.user) if ctx.session is not None else None
    found = job.downloads.get(ctx.request.path_params["key"]) if job is not None else None
    if found is None or not found[0].is_file():
        return refusal_page(ctx, 404, tr("File not found"), tr("This file does not exist, or is not yours."))
    path, file_name = found
    return FileResponse(path, filename=file_name)


# -------------------------------------------------------------------------------------- public
@guard(None)
async def public_page(ctx: Ctx) -> Response:
    visitor_form(ctx)
    return render(ctx, "public.html", title=tr("Public lookup"), found=None, error="", year=dt.date.today().year)


@guard(None)
async def public_lookup(ctx: Ctx) -> Response:
    """A household sees its own payments of the year by the head's name and full resident ID."""
    visitor_form(ctx)
    year = dt.date.today().year
    name = ctx.field("name", length_max=100)
    number = ctx.field("id_number", length_max=18).upper()
    if not ctx.state.public_limiter.allow(ctx.client()):
        ctx.state.audit.put(note(ctx, "public lookup", outcome="refused", message=tr("rate limit")))
        return render(
            ctx,
            "public.html",
            status_code=429,
            title=tr("Public lookup"),
            found=None,
            year=year,
            error=tr("Too many lookups; try again later."),
        )
    if not name or len(number) != 18:
        return render(
            ctx,
            "public.html",
            status_code=400,
            title=tr("Public lookup"),
            found=None,
            year=year,
            error=tr("Fill in the name of the head of household and the 18-character resident ID."),
        )

    def look(session):  # type: ignore[no-untyped-def]
        household_id = household_of_head(session, name, number)
        if household_id is None:
            return None
        return household_profile(session, household_id), household_status(session, household_id)

    found = await in_thread(read, ctx.state, look)
    # Logged with the number masked: the log says who asked what, not the number itself.
    ctx.state.audit.put(
        note(
            ctx,
            "public lookup",
            f"id={number[:6]}********{number[-4:]}",
            message=tr("found") if found else tr("not found"),
        )
    )
    if found is None:
        return render(
            ctx,
            "public.html",
            status_code=404,
            title=tr("Public lookup"),
            found=None,
            year=year,
            error=tr(
                "No household matches this head of household's name and resident ID. Check them and try again, "
                "or ask at the counter of the policy payment centre."
            ),
        )
    profile, status = found
    lines = [line for line in status.lines if line.period.startswith(str(year))]
    return render(
        ctx,
        "public.html",
        title=tr("Public lookup"),
        found=profile,
        lines=lines,
        year=year,
        error="",
        state_zh=state_zh,
        next_step_zh=next_step_zh,
    )


ROUTES = [
    Route("/", home, methods=["GET"]),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/password", password_page, methods=["GET"]),
    Route("/password", password_change, methods=["POST"]),
    Route("/jobs/{job_id}", job_page, methods=["GET"]),
    Route("/jobs/{job_id}/status", job_status, methods=["GET"]),
    Route("/jobs/{job_id}/files/{key}", job_file, methods=["GET"]),
    Route("/public", public_page, methods=["GET"]),
    Route("/public", public_lookup, methods=["POST"]),
]
