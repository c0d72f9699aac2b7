"""Templates (Jinja2, every value escaped) and the filters that show amounts as ¥1,234.56,
dates as 2026-12-01, times in Beijing time, and personal numbers masked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from disburse.foundation.i18n import current_language, tr, trn
from disburse.foundation.masking import mask_identifier
from disburse.foundation.money import format_yuan

TEMPLATES_DIRECTORY = Path(__file__).with_name("templates")
STATIC_DIRECTORY = Path(__file__).with_name("static")
BEIJING = dt.timezone(dt.timedelta(hours=8))
HTML_LANGUAGES = {"zh": "zh-CN", "en": "en"}


def yuan(amount_fen: object) -> str:
    """``123456 -> '¥1,234.56'``, ``-5 -> '-¥0.05'``, None -> ''."""
    if amount_fen is None or (isinstance(amount_fen, float) and amount_fen != amount_fen):
        return ""
    amount = int(amount_fen)  # type: ignore[call-overload]
    return ("-¥" if amount < 0 else "¥") + format_yuan(abs(amount))


def signed_yuan(amount_fen: object) -> str:
    if amount_fen is None:
        return "—"
    amount = int(amount_fen)  # type: ignore[call-overload]
    return ("+" if amount > 0 else "") + yuan(amount)


def day(value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:10]


def moment(value: object) -> str:
    """A stored UTC time as Beijing time, ``2026-12-01 10:30``."""
    if not isinstance(value, dt.datetime):
        return "" if value is None else str(value)
    local = value.replace(tzinfo=dt.timezone.utc).astimezone(BEIJING)
    return local.strftime("%Y-%m-%d %H:%M")


def masked(value: object, unmasked: bool = False) -> str:
    return mask_identifier(value, unmasked=unmasked) or ""


def basename(value: object) -> str:
    """The last part of a path: a page never shows the server's folders."""
    return str(value or "").replace("\\", "/").rsplit("/", 1)[-1]


def count(value: object) -> str:
    return f"{int(value):,}" if value is not None else ""  # type: ignore[call-overload]


def html_language() -> str:
    """The page's ``lang`` attribute for the language it is served in."""
    return HTML_LANGUAGES.get(current_language(), current_language())


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIRECTORY)),
        autoescape=select_autoescape(("html",), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    from disburse.payouts.sends import failure_text
    from disburse.registry.model import shown_count  # the stages' tables, imported once the templates are wanted
    from disburse.web.labels import zh

    env.filters.update(
        zh=zh, basename=basename, yuan=yuan, signed_yuan=signed_yuan, day=day, moment=moment, masked=masked, count=count
    )
    # The templates' texts go through the catalog: {{ tr("English id") }}, translated in the
    # language of the request rendering them (a context variable, so one environment serves all).
    env.globals.update(tr=tr, trn=trn, html_language=html_language, shown_count=shown_count, failure_text=failure_text)
    return env
