"""What every page shares: the server's state, the guard that checks login, role and form token
before a handler runs, and the helpers that render a page or run a change in one transaction.

A handler never sees a request that its role may not make: the guard answers 403 (and logs it)
first. A handler that changes state calls ``change`` (or starts a job that does), which records
the action in the audit log in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, TypeVar
from urllib.parse import quote

from jinja2 import Environment
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from disburse.accounts.roles import PERMISSIONS, may
from disburse.foundation.db import read_transaction, transaction
from disburse.foundation.errors import DisburseError, ImportRefused
from disburse.foundation.files import file_sha256
from disburse.foundation.i18n import tr, tr_noop
from disburse.foundation.orm import utc_now
from disburse.foundation.settings import signing_key_path
from disburse.reports.printing import CHECKPOINT_MARK
from disburse.schema.checkpoints import WEB_COMMAND_TRIGGERS, checkpoint_append, checkpoint_mark
from disburse.web.auditing import AuditNote, AuditWriter, record
from disburse.web.jobs import JOB_WAIT_SECONDS, Job, JobRunner
from disburse.web.security import (
    ACCOUNT_RECHECK_SECONDS,
    FORM_COOKIE,
    SESSION_COOKIE,
    SessionStore,
    SlidingWindowLimiter,
    WebSession,
    tokens_equal,
)
from disburse.web.settings import WebSettings
from disburse.web.uploads import FormRefused

T = TypeVar("T")
FORM_FIELDS_MAX = 60
FORM_FILES_MAX = 4
FORM_PART_BYTES_MAX = 256 * 1024
TEXT_FIELD_LENGTH_MAX = 2_000

# The sections of the site, in the menu's order: (path, label, action needed to see it).
SECTIONS = (
    ("/counter", tr_noop("Counter"), "counter.read"),
    ("/work", tr_noop("Monthly work"), "work.read"),
    ("/review", tr_noop("Review"), "review.read"),
    ("/cashier", tr_noop("Cashier"), "cashier.read"),
    ("/audit", tr_noop("Reconciliation and audit"), "audit.read"),
    ("/admin", tr_noop("Accounts"), "accounts.read"),
)


@dataclass
class WebState:
    settings: WebSettings
    engine: Engine
    templates: Environment
    sessions: SessionStore
    jobs: JobRunner
    audit: AuditWriter
    public_limiter: SlidingWindowLimiter
    login_limiter: SlidingWindowLimiter
    account_checker: Callable[[str], tuple[bool, frozenset[str]]] | None = None


@dataclass
class Ctx:
    """One request as a handler sees it."""

    request: Request
    state: WebState
    session: WebSession | None
    form: FormData | None = None
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def user(self) -> str:
        assert self.session is not None
        return self.session.account_name

    def may(self, action: str) -> bool:
        return self.session is not None and may(self.session.roles, action)

    def field(
        self, name: str, *, required: bool = False, label: str = "", length_max: int = TEXT_FIELD_LENGTH_MAX
    ) -> str:
        """A text field of the form, stripped; refused when required and blank, or too long."""
        value = self.form.get(name) if self.form is not None else self.request.query_params.get(name)
        text = value.strip() if isinstance(value, str) else ""
        if required and not text:
            raise FormRefused(tr("Please fill in {field}.", field=label or name))
        if len(text) > length_max:
            raise FormRefused(
                tr(
                    "{field} takes at most {length_max:,} characters; this has {length:,}.",
                    field=label or name,
                    length_max=length_max,
                    length=len(text),
                )
            )
        return text

    def upload(self, name: str) -> object:
        return self.form.get(name) if self.form is not None else None

    def client(self) -> str:
        return self.request.client.host if self.request.client else "unknown"

    def flash(self, kind: str, text: str) -> None:
        if self.session is not None:
            self.session.flash(kind, text)


def render(ctx: Ctx, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    session = ctx.session
    sections = [
        (path, tr(label)) for path, label, action in SECTIONS if session is not None and may(session.roles, action)
    ]
    form_token = session.form_token if session is not None else ctx.cookies.get("form_token", "")
    html = ctx.state.templates.get_template(template).render(
        session=session,
        sections=sections,
        form_token=form_token,
        flashes=session.take_flashes() if session is not None else [],
        path=ctx.request.url.path,
        **values,
    )
    response = HTMLResponse(html, status_code=status_code)
    if session is not None:
        response.set_cookie(SESSION_COOKIE, ctx.state.sessions.cookie_of(session), **cookie_options(ctx.state))
    elif "form_cookie" in ctx.cookies:
        response.set_cookie(FORM_COOKIE, ctx.cookies["form_cookie"], **cookie_options(ctx.state))
    return response


def cookie_options(state: WebState) -> dict[str, Any]:
    return {"max_age": state.settings.idle_seconds, "httponly": True, "samesite": "strict", "path": "/"}


def redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def refusal_page(ctx: Ctx, status_code: int, title: str, text: str, detail: str = "") -> HTMLResponse:
    return render(ctx, "refused.html", status_code=status_code, title=title, text=text, detail=detail, problems=())


def note(
    ctx: Ctx,
    command: str,
    *arguments: str,
    outcome: str = "ok",
    message: str = "",
    inputs: dict[str, str] | None = None,
) -> AuditNote:
    user = ctx.session.account_name if ctx.session is not None else None
    return AuditNote(
        command,
        user,
        (f"client={ctx.client()}", *arguments),
        outcome,
        0 if outcome == "ok" else 1,
        message,
        inputs or {},
    )


def _session_of(request: Request, state: WebState) -> WebSession | None:
    session = state.sessions.find(request.cookies.get(SESSION_COOKIE))
    if session is None or state.account_checker is None:
        return session
    now = time.monotonic()
    if now - session.checked_at > ACCOUNT_RECHECK_SECONDS:
        active, roles = state.account_checker(session.account_name)
        if not active:
            state.sessions.end(session)
            return None
        session.roles, session.checked_at = roles, now
    return session


async def _checked_form(request: Request, ctx: Ctx) -> bool:
    """Parse the form (limits on fields, files and sizes) and check its token."""
    ctx.form = await request.form(
        max_files=FORM_FILES_MAX, max_fields=FORM_FIELDS_MAX, max_part_size=FORM_PART_BYTES_MAX
    )
    given = ctx.form.get("form_token")
    if ctx.session is not None:
        return tokens_equal(given if isinstance(given, str) else None, ctx.session.form_token)
    expected = ctx.state.sessions.form_token_of(request.cookies.get(FORM_COOKIE))
    return tokens_equal(given if isinstance(given, str) else None, expected)


Handler = Callable[[Ctx], Awaitable[Response]]
ROUTE_ACTIONS: dict[str, str | None] = {}  # endpoint name -> action (None: no login), for the tests


def guard(action: str | None) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler: login (unless ``action`` is None), role, form token on POST."""
    assert action is None or action in PERMISSIONS, action

    def decorate(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        ROUTE_ACTIONS[handler.__module__ + "." + handler.__name__] = action

        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            state: WebState = request.app.state.web
            ctx = Ctx(request, state, _session_of(request, state))
            if action is not None and ctx.session is None:
                if request.method == "GET":
                    return redirect("/login?next=" + quote(request.url.path))
                return refusal_page(
                    ctx,
                    401,
                    tr("Please log in first"),
                    tr("The session has ended or you have not logged in; log in again and then submit."),
                )
            if action is not None and not ctx.may(action):
                state.audit.put(
                    note(
                        ctx,
                        "refused",
                        request.method,
                        request.url.path,
                        outcome="refused",
                        message=tr("403: needs {action}", action=action),
                    )
                )
                return refusal_page(
                    ctx,
                    403,
                    tr("Not allowed"),
                    tr("The roles of your account may not do this; this attempt has been recorded."),
                )
            if request.method == "POST" and not await _checked_form(request, ctx):
                state.audit.put(
                    note(
                        ctx,
                        "refused",
                        request.method,
                        request.url.path,
                        outcome="refused",
                        message=tr("403: bad form token"),
                    )
                )
                return refusal_page(
                    ctx,
                    403,
                    tr("The form has expired"),
                    tr(
                        "The form's check code does not match (the page is old or came from another site); "
                        "go back to the page and submit again."
                    ),
                )
            try:
                return await handler(ctx)
            except FormRefused as refused:
                return refusal_page(ctx, 400, tr("Please check what you filled in"), str(refused))

        return endpoint

    return decorate


async def in_thread(function: Callable[..., T], *arguments: Any, **keywords: Any) -> T:
    return await run_in_threadpool(function, *arguments, **keywords)


def read(state: WebState, work: Callable[[Session], T]) -> T:
    """Run ``work`` in a transaction that only reads (no SQLite write lock)."""
    with read_transaction(state.engine) as session:
        # A page or file printed by ``work`` carries the newest checkpoint's short hash (the
        # thread pool runs each call in a copy of the context, so this stays with the request).
        CHECKPOINT_MARK.set(checkpoint_mark(session))
        return work(session)


def change(state: WebState, audit: AuditNote, work: Callable[[Session], T]) -> T:
    """Run ``work`` in one transaction with its audit row; a refusal or failure is logged after
    the rolled-back transaction, in one of its own."""
    started = utc_now()
    try:
        with transaction(state.engine) as session:
            result = work(session)
            refused = isinstance(result, DisburseError)  # a refusal whose traces must be kept (a failed login)
            message = (
                str(result)
                if refused
                else str(getattr(result, "message", "") or (result if isinstance(result, str) else ""))
            )
            outcome = {"outcome": "refused", "exit_code": 1} if refused else {}
            trigger = WEB_COMMAND_TRIGGERS.get(audit.command)
            if trigger is not None and not refused:
                # The same signed checkpoint the CLI appends, in the change's own transaction.
                signed = checkpoint_append(session, trigger, audit.command, audit.user or "", signing_key_path())
                if not signed.signed:
                    message = f"{message} ({signed.note})" if message else signed.note
            record(session, _with(audit, started_at=started, message=message[:2_000], **outcome))
        return result
    except (DisburseError, ImportRefused, FileNotFoundError) as error:
        state.audit.put(_with(audit, started_at=started, outcome="refused", exit_code=1, message=str(error)[:2_000]))
        raise
    except Exception as error:
        state.audit.put(
            _with(
                audit,
                started_at=started,
                outcome="failed",
                exit_code=1,
                message=f"{type(error).__name__}: {error}"[:2_000],
            )
        )
        raise


def _with(audit: AuditNote, **changes: Any) -> AuditNote:
    values = {name: getattr(audit, name) for name in AuditNote.__dataclass_fields__}
    values.update(changes)
    return AuditNote(**values)


def hashes(*paths: object) -> dict[str, str]:
    return {path.name: file_sha256(path) for path in paths if path is not None}  # type: ignore[attr-defined]


async def run_job(ctx: Ctx, job: Job, work: Callable[[Job], Any]) -> Response:
    """Start ``job`` and show its page; a quick one is shown finished."""
    ctx.state.jobs.start(job, work)
    await in_thread(job.done_event.wait, JOB_WAIT_SECONDS)
    return redirect(f"/jobs/{job.id}")


def refused_text(error: BaseException) -> str:
    return str(error)


def log_defect(where: str) -> None:
    # The server's log (for the administrator and the developers, English, not the catalog's).
    sys.stderr.write(f"disburse web: {where}:\n{traceback.format_exc()}\n")


def parse_date(text: str, label: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise FormRefused(
            tr("{field} “{text}” is not a date of the form YYYY-MM-DD.", field=label, text=text)
        ) from None


def parse_period(text: str, label: str | None = None) -> str:
    if len(text) != 7 or text[4] != "-" or not (text[:4] + text[5:]).isdigit() or not 1 <= int(text[5:]) <= 12:
        raise FormRefused(
            tr("{field} “{text}” is not a month of the form YYYY-MM.", field=label or tr("period"), text=text)
        )
    return text
