"""Sessions, CSRF tokens and rate limits, held in the server's memory.

A session is a random token; the cookie carries it signed (itsdangerous, with the time it was
signed), HttpOnly and SameSite=Strict, and the server keeps what it stands for: the account, its
roles, the form token and when it was last used. A session idle longer than the idle timeout is
gone, and so is every session of an account that is disabled.
"""

from __future__ import annotations

import collections
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "disburse_session"
FORM_COOKIE = "disburse_form"  # the form token of a visitor not logged in (login, public page)
TOKEN_BYTES = 32
SESSIONS_MAX = 10_000
FLASHES_MAX = 10
# How often a session looks its account up again (disabled, roles changed by the CLI).
ACCOUNT_RECHECK_SECONDS = 15.0


@dataclass
class WebSession:
    token: str
    account_name: str
    roles: frozenset[str]
    form_token: str
    created_at: float
    last_seen_at: float
    checked_at: float
    flashes: list[tuple[str, str]] = field(default_factory=list)

    def flash(self, kind: str, text: str) -> None:
        self.flashes = (self.flashes + [(kind, text)])[-FLASHES_MAX:]

    def take_flashes(self) -> list[tuple[str, str]]:
        taken, self.flashes = self.flashes, []
        return taken


class SessionStore:
    """Sessions by token; thread-safe; the idle ones are dropped when met."""

    def __init__(self, secret_key: bytes, idle_seconds: int) -> None:
        self._sessions: dict[str, WebSession] = {}
        self._lock = threading.Lock()
        self._signer = URLSafeTimedSerializer(secret_key, salt="disburse-session")
        self._form_signer = URLSafeTimedSerializer(secret_key, salt="disburse-form")
        self.idle_seconds = idle_seconds

    def create(self, account_name: str, roles: frozenset[str]) -> tuple[WebSession, str]:
        """A new session and the signed cookie value that stands for it."""
        now = time.monotonic()
        session = WebSession(
            secrets.token_urlsafe(TOKEN_BYTES), account_name, roles, secrets.token_urlsafe(TOKEN_BYTES), now, now, now
        )
        with self._lock:
            self._drop_idle(now)
            if len(self._sessions) >= SESSIONS_MAX:
                oldest = min(self._sessions.values(), key=lambda item: item.last_seen_at)
                del self._sessions[oldest.token]
            self._sessions[session.token] = session
        return session, self._signer.dumps(session.token)

    def find(self, cookie: str | None) -> WebSession | None:
        """The live session a cookie stands for, touched; None for a bad, old or unknown one."""
        if not cookie:
            return None
        try:
            token = self._signer.loads(cookie, max_age=self.idle_seconds)
        except BadSignature:
            return None
        now = time.monotonic()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if now - session.last_seen_at > self.idle_seconds:
                del self._sessions[token]
                return None
            session.last_seen_at = now
            return session

    def cookie_of(self, session: WebSession) -> str:
        """The cookie re-signed now, so an active session's cookie does not age out."""
        return self._signer.dumps(session.token)

    def end(self, session: WebSession) -> None:
        with self._lock:
            self._sessions.pop(session.token, None)

    def end_account(self, account_name: str) -> int:
        with self._lock:
            tokens = [token for token, item in self._sessions.items() if item.account_name == account_name]
            for token in tokens:
                del self._sessions[token]
        return len(tokens)

    def _drop_idle(self, now: float) -> None:
        for token in [token for token, item in self._sessions.items() if now - item.last_seen_at > self.idle_seconds]:
            del self._sessions[token]

    # A visitor's form token (double submit): the cookie holds it signed, the form repeats it.
    def new_form_token(self) -> tuple[str, str]:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        return token, self._form_signer.dumps(token)

    def form_token_of(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            return self._form_signer.loads(cookie, max_age=self.idle_seconds)
        except BadSignature:
            return None


def tokens_equal(given: str | None, expected: str | None) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(str(given), str(expected))


class SlidingWindowLimiter:
    """At most ``count`` events per key in any ``window_seconds``."""

    KEYS_MAX = 100_000

    def __init__(self, count: int, window_seconds: float) -> None:
        self.count, self.window_seconds = count, window_seconds
        self._events: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one event for ``key``; False (not counted) when the key is over its limit."""
        now = time.monotonic()
        with self._lock:
            if len(self._events) >= self.KEYS_MAX:
                self._events.clear()  # a flood of addresses: start again rather than grow without bound
            events = self._events.setdefault(key, collections.deque())
            while events and now - events[0] > self.window_seconds:
                events.popleft()
            if len(events) >= self.count:
                return False
            events.append(now)
            return True
