"""The web application: ``create_app(settings)`` gives the ASGI app `disburse serve` runs."""

from __future__ import annotations

import contextlib
from typing import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from disburse.accounts.service import account_named
from disburse.foundation.db import make_engine, read_transaction
from disburse.foundation.i18n import language, tr
from disburse.web import render
from disburse.web.auditing import AuditWriter
from disburse.web.base import WebState, log_defect
from disburse.web.jobs import JobRunner
from disburse.web.pages import admin, audit, cashier, counter, entry, review, work
from disburse.web.security import SessionStore, SlidingWindowLimiter
from disburse.web.settings import JOBS_KEPT_MAX, WebSettings
from disburse.web.uploads import BodyLimitMiddleware, UploadTooLarge, too_large_page

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeadersMiddleware:
    """Every response forbids framing, sniffing and anything loaded from outside the server;
    pages are not cached (they carry personal data)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + SECURITY_HEADERS
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class LanguageMiddleware:
    """Every request (and the jobs it starts) is served in the web application's language,
    whatever DISBURSE_LANG the server's shell has."""

    def __init__(self, app: ASGIApp, language_code: str) -> None:
        self.app = app
        self.language_code = language_code

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with language(self.language_code):
            await self.app(scope, receive, send)


def _page(title: str, text: str) -> str:
    back = tr("Back to the home page")  # computed first: Babel does not look inside f-strings
    return (
        f'<!doctype html><html lang="{render.html_language()}"><head><meta charset="utf-8">'
        f'<link rel="stylesheet" href="/static/app.css"><title>{title}</title></head><body><main><h1>{title}</h1>'
        f'<p>{text}</p><p><a href="/">{back}</a></p></main></body></html>'
    )


async def _http_error(request: Request, error: Exception) -> Response:
    status = getattr(error, "status_code", 500)
    texts = {
        404: (tr("Page not found"), tr("There is no such page.")),
        405: (tr("Method not allowed"), tr("This page does not accept this kind of request.")),
    }
    title, text = texts.get(status, (tr("Bad request"), tr("The request cannot be handled.")))
    return HTMLResponse(_page(title, text), status_code=status)


async def _too_large(request: Request, error: Exception) -> Response:
    return HTMLResponse(too_large_page(getattr(error, "limit_bytes", 0)), status_code=413)


async def _defect(request: Request, error: Exception) -> Response:
    # Never a stack trace on a page: the server's log has it.
    log_defect(f"{request.method} {request.url.path}")
    # This handler runs outside LanguageMiddleware (Starlette answers a defect outermost).
    with language(request.app.state.web.settings.language):
        page = _page(
            tr("Internal server error"),
            tr(
                "The request did not finish and nothing was written; the error is in the server's log, "
                "please contact the administrator."
            ),
        )
    return HTMLResponse(page, status_code=500)


def _account_checker(state_engine):  # type: ignore[no-untyped-def]
    def check(name: str) -> tuple[bool, frozenset[str]]:
        with read_transaction(state_engine) as session:
            account = account_named(session, name)
        return (account is not None and account.active), (account.roles if account is not None else frozenset())

    return check


def create_app(settings: WebSettings) -> Starlette:
    engine = make_engine(settings.database_url)
    state = WebState(
        settings=settings,
        engine=engine,
        templates=render.environment(),
        sessions=SessionStore(settings.secret_key, settings.idle_seconds),
        jobs=JobRunner(settings.files_directory / "jobs", settings.jobs_running_max, JOBS_KEPT_MAX),
        audit=AuditWriter(engine),
        public_limiter=SlidingWindowLimiter(settings.public_lookups_per_window, settings.public_window_seconds),
        login_limiter=SlidingWindowLimiter(settings.logins_per_address_window, settings.login_window_seconds),
    )
    state.account_checker = _account_checker(engine)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            state.jobs.shutdown()
            state.audit.flush()
            state.audit.close()
            engine.dispose()

    routes = [
        *entry.ROUTES,
        *counter.ROUTES,
        *work.ROUTES,
        *review.ROUTES,
        *cashier.ROUTES,
        *audit.ROUTES,
        *admin.ROUTES,
        Mount("/static", app=StaticFiles(directory=str(render.STATIC_DIRECTORY)), name="static"),
    ]
    application = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeadersMiddleware),
            Middleware(LanguageMiddleware, language_code=settings.language),
            Middleware(BodyLimitMiddleware, limit_bytes=settings.upload_bytes_max),
        ],
        exception_handlers={HTTPException: _http_error, UploadTooLarge: _too_large, Exception: _defect},
        lifespan=lifespan,
    )
    application.state.web = state
    return application
