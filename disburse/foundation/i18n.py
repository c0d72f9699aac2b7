"""Every user-facing text goes through one message catalog: ``tr`` looks a message up in the
catalog of the current language and fills in its figures.

The message ids are English sentences in the code (``tr("run {run} was calculated by {maker}",
run=7, maker="张会计")``); ``disburse/locale/zh_CN/LC_MESSAGES/disburse.po`` holds their Simplified
Chinese, compiled to ``disburse.mo`` beside it (``python -m disburse.dev.messages update`` extracts
new ids, ``... compile`` writes the .mo, ``... check`` is what CI runs). Chinese is the default;
``DISBURSE_LANG=en`` or ``--lang en`` shows the ids themselves.

Figures stay parameters, so the arithmetic of a message reads the same in both languages:
``tr("postings sum to {total}, not 0: {terms}", total=..., terms=...)`` is
``借贷不平：合计 {total}，应为 0（{terms}）`` in Chinese. A message with no parameters is returned as
the catalog has it, braces and all; with parameters it is ``str.format``-ed, so a literal brace is
written ``{{``.

The language is a context variable: the CLI sets it once per process, the web application once
per request, and a test can hold it for a block with ``language(...)``.
"""

from __future__ import annotations

import contextlib
import gettext
import os
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from functools import cache
from pathlib import Path

LANGUAGES: tuple[str, ...] = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LANGUAGE_ENVIRONMENT_VARIABLE = "DISBURSE_LANG"
DOMAIN = "disburse"
LOCALE_DIRECTORY = Path(__file__).resolve().parent.parent / "locale"
# The gettext locale each language's catalog is filed under ("en" needs none: its ids are English).
CATALOG_LOCALES = {"zh": "zh_CN"}

_current: ContextVar[str | None] = ContextVar("disburse_language", default=None)


def normalise_language(value: str | None) -> str | None:
    """``zh``, ``zh_CN``, ``zh-Hans``, ``zh_CN.UTF-8`` → ``zh``; ``en_US`` → ``en``; blank → None.
    Anything else is refused: a misspelt language would otherwise silently fall back."""
    if value is None or not value.strip():
        return None
    code = value.strip().replace("-", "_").split(".")[0].split("_")[0].lower()
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {value!r}; choose one of {', '.join(LANGUAGES)}")
    return code


def current_language() -> str:
    """The language set for this context, else DISBURSE_LANG, else Chinese."""
    chosen = _current.get()
    if chosen is not None:
        return chosen
    try:
        return normalise_language(os.environ.get(LANGUAGE_ENVIRONMENT_VARIABLE)) or DEFAULT_LANGUAGE
    except ValueError:
        return DEFAULT_LANGUAGE


def set_language(value: str | None) -> str:
    """Set the language of the current context (None: back to DISBURSE_LANG or the default)."""
    _current.set(normalise_language(value))
    return current_language()


@contextlib.contextmanager
def language(value: str) -> Iterator[str]:
    """Hold ``value`` as the language for a block (a web request, a test)."""
    token = _current.set(normalise_language(value))
    try:
        yield current_language()
    finally:
        _current.reset(token)


@cache
def _translations(code: str) -> gettext.NullTranslations:
    locale = CATALOG_LOCALES.get(code)
    if locale is None:
        return gettext.NullTranslations()
    # fallback=False would turn a missing .mo into a crash at the first message; the CI check
    # (python -m disburse.dev.messages check) is where a missing or stale catalog is caught.
    return gettext.translation(DOMAIN, LOCALE_DIRECTORY, languages=[locale], fallback=True)


def tr(message: str, /, **parameters: object) -> str:
    """``message`` in the current language, with ``parameters`` filled in."""
    text = _translations(current_language()).gettext(message)
    return text.format(**parameters) if parameters else text


def trn(singular: str, plural: str, count: int, /, **parameters: object) -> str:
    """The singular or plural form for ``count`` (Chinese has one form); ``{count}`` is filled in."""
    text = _translations(current_language()).ngettext(singular, plural, count)
    return text.format(count=count, **parameters)


def tr_noop(message: str, /) -> str:
    """Marks a message for the catalog without translating it now: for a module-level constant
    (a command's help, a table of names) that is translated with ``tr`` where it is shown."""
    return message


class TranslatedNames(Mapping[str, str]):
    """A table of code names (``{"paid": tr_noop("paid to the account")}``) read through the
    catalog at each lookup: in ``fixed_language`` if given (a printed book is Chinese in every
    language), else in the language of the moment (one table serves every web request)."""

    def __init__(self, names: Mapping[str, str], fixed_language: str | None = None) -> None:
        self._names = names
        self._language = fixed_language

    def __getitem__(self, code: str) -> str:
        name = self._names[code]
        if self._language is None:
            return tr(name)
        with language(self._language):
            return tr(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


# The separators of a list in each language: ``甲、乙、丙`` and ``第一；第二`` in Chinese.
_LIST_SEPARATORS = {"zh": "、", "en": ", "}
_CLAUSE_SEPARATORS = {"zh": "；", "en": "; "}


def join_list(items: Iterable[object]) -> str:
    """Items of a list a person reads (names, rows, codes) joined as the current language
    writes them: ``甲、乙`` in Chinese, ``a, b`` in English."""
    return _LIST_SEPARATORS[current_language()].join(str(item) for item in items)


def join_clauses(items: Iterable[object]) -> str:
    """Sentences or clauses (each problem of a refusal) joined as the current language writes
    them: ``第一；第二`` in Chinese, ``first; second`` in English."""
    return _CLAUSE_SEPARATORS[current_language()].join(str(item) for item in items)


class StoredMessage(str):
    """A message translated now that also remembers its id and figures, so that what is stored
    (a run's notes) can be shown later in the reader's language: ``stored()`` is the JSON-able
    form, ``render_stored`` turns it back into text. A figure may itself be a StoredMessage, or a
    list (of text or StoredMessages) that is shown joined as the language joins a list."""

    message_id: str
    parameters: dict[str, object]

    def __new__(cls, message: str, /, **parameters: object) -> "StoredMessage":
        shown = {name: join_list(value) if isinstance(value, (list, tuple)) else value
                 for name, value in parameters.items()}  # fmt: skip
        made = super().__new__(cls, tr(message, **shown))
        made.message_id = message
        made.parameters = parameters
        return made

    def stored(self) -> dict[str, object]:
        """``{"id": ..., "parameters": {...}}`` with nested messages stored the same way."""
        return {
            "id": self.message_id,
            "parameters": {name: _stored_figure(value) for name, value in self.parameters.items()},
        }


def _stored_figure(value: object) -> object:
    if isinstance(value, StoredMessage):
        return value.stored()
    if isinstance(value, (list, tuple)):
        return [_stored_figure(item) for item in value]
    return value


def tr_stored(message: str, /, **parameters: object) -> StoredMessage:
    """``tr`` whose result remembers its id and figures (for text stored and shown later)."""
    return StoredMessage(message, **parameters)


def stored_form(text: str) -> object:
    """What to store for ``text``: its id and figures if it is a StoredMessage, else the text."""
    return text.stored() if isinstance(text, StoredMessage) else text


def render_stored(value: object) -> str:
    """Stored text in the current language: ``{"id", "parameters"}`` translated now (figures
    that are stored messages too, lists joined); plain text (rows stored before) as it is."""
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        parameters = value.get("parameters") or {}
        return tr(value["id"], **{name: _rendered_figure(figure) for name, figure in parameters.items()})
    return str(value)


def _rendered_figure(figure: object) -> object:
    if isinstance(figure, Mapping):
        return render_stored(figure)
    if isinstance(figure, list):
        return join_list(_rendered_figure(item) for item in figure)
    return figure
