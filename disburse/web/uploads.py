"""Uploads: a named size limit (checked as the body arrives, not after), and file names that
never reach the file system unchecked: only the last part of the name is kept, every character
outside letters, digits, CJK and ``._-()`` becomes ``_``, the suffix must be one the form takes,
and the file goes into a new folder of its own."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr
from disburse.web.render import html_language

TABLE_SUFFIXES = (".csv", ".xlsx", ".xls", ".txt")
RULE_SUFFIXES = (".yaml", ".yml")
FILE_NAME_LENGTH_MAX = 120
COPY_CHUNK_BYTES = 1024 * 1024
_UNSAFE = re.compile(r"[^\w.\-()\u4e00-\u9fff]")


class UploadTooLarge(Exception):
    """The request body is larger than the upload limit."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(limit_bytes)
        self.limit_bytes = limit_bytes


class FormRefused(DisburseError):
    """A form value the server refuses; the message is written for the page (through the catalog)."""


def safe_file_name(name: str | None, suffixes: tuple[str, ...]) -> str:
    """The name a user's upload is stored and reported under."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()
    base = _UNSAFE.sub("_", base).lstrip(".")[-FILE_NAME_LENGTH_MAX:]
    suffix = Path(base).suffix.lower()
    if not base or not Path(base).stem:
        raise FormRefused(tr("Please choose the file to upload."))
    if suffix not in suffixes:
        raise FormRefused(
            tr(
                "File {name} is of the wrong type: only {suffixes} files are accepted.",
                name=base,
                suffixes=tr(", ").join(suffixes),
            )
        )
    return base


def save_upload(upload: object, directory: Path, suffixes: tuple[str, ...], limit_bytes: int) -> Path:
    """Copy an uploaded file into ``directory`` under its safe name; refuses a missing or empty
    file and one over ``limit_bytes``."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise FormRefused(tr("Please choose the file to upload."))
    name = safe_file_name(upload.filename, suffixes)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    written = 0
    upload.file.seek(0)
    with target.open("wb") as out:
        while chunk := upload.file.read(COPY_CHUNK_BYTES):
            written += len(chunk)
            if written > limit_bytes:
                out.close()
                target.unlink(missing_ok=True)
                raise UploadTooLarge(limit_bytes)
            out.write(chunk)
    if written == 0:
        target.unlink(missing_ok=True)
        raise FormRefused(tr("File {name} is empty.", name=name))
    return target


class BodyLimitMiddleware:
    """Refuses a request body over the limit: at once by its Content-Length, or as it arrives."""

    def __init__(self, app: ASGIApp, limit_bytes: int) -> None:
        self.app, self.limit_bytes = app, limit_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The multipart envelope adds a little to the file itself.
        limit = self.limit_bytes + 64 * 1024
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = HTMLResponse(too_large_page(self.limit_bytes), status_code=413)
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise UploadTooLarge(self.limit_bytes)
            return message

        await self.app(scope, counted, send)


def too_large_text(limit_bytes: int) -> str:
    return tr(
        "The upload is over the limit of {limit:,} MiB and was not received; split the file or ask the "
        "administrator to raise the limit.",
        limit=limit_bytes // (1024 * 1024),
    )


def too_large_page(limit_bytes: int) -> str:
    title = tr("File too large")
    back = tr("Back to the home page")  # computed first: Babel does not look inside f-strings
    return (
        f'<!doctype html><html lang="{html_language()}"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><h1>{title}</h1><p>{too_large_text(limit_bytes)}</p>"
        f'<p><a href="/">{back}</a></p></body></html>'
    )
