"""Records of the anomaly checks: what a check is, what it found, the evidence, and reviews.

A finding's id is stable: the check's code and a hash of the keys that say *what* was found (a
payment reference, a household and a programme …), never of the figures, so running the checks
again gives the same ids. Its evidence digest is a hash of the evidence itself (rows, amounts,
dates, accounts), so a reviewed finding whose evidence later changes is shown again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Callable

from disburse.accounts.roles import CatalogNames
from disburse.foundation.i18n import tr, tr_noop

# Stored codes (a review's disposition column), Chinese as the auditors write them.
DISPOSITIONS = ("属实", "不属实", "已整改")
STATUS_NEW, STATUS_REVIEWED, STATUS_CHANGED = "new", "reviewed", "changed"
STATUS_NAMES = CatalogNames(
    {
        STATUS_NEW: tr_noop("not reviewed"),
        STATUS_REVIEWED: tr_noop("reviewed"),
        STATUS_CHANGED: tr_noop("evidence changed"),
    }
)
# The faces' old name for the table (its values are in the current language now).
STATUS_NAMES_ZH = STATUS_NAMES


class Said(str):
    """A text as it is shown (in the language of the moment it was made) that keeps its English
    form too: a finding's evidence digest hashes the English, so it is the same in every
    language and the same as the digests reviews stored before the texts were translated."""

    english: str

    def __new__(cls, shown: str, english: str) -> Said:
        text = super().__new__(cls, shown)
        text.english = english
        return text


def english(text: object) -> object:
    """The English form of a ``Said`` text; any other value as it is."""
    return getattr(text, "english", text)


def said(message: str, /, **parameters: object) -> Said:
    """``tr(message, **parameters)`` that remembers the English it stands for (the parameters'
    own English forms filled in)."""
    shown = tr(message, **parameters)
    if not parameters:
        return Said(shown, message)
    return Said(shown, message.format(**{name: english(value) for name, value in parameters.items()}))


def said_stripped(text: Said) -> Said:
    return Said(str(text).strip(), str(english(text)).strip())


class _EnglishKept:
    """``english_kept.tr(message, **parameters)``: ``said`` under the name the catalog tools
    extract (they find every ``tr(...)`` call, this one included), for the texts of findings."""

    tr = staticmethod(said)


english_kept = _EnglishKept()
FINDING_ID_HEX_DIGITS = 16
FINDING_ID_LENGTH_MAX = 40


@dataclass(frozen=True, slots=True)
class Evidence:
    """One row of evidence: a payment, a payable, a run line, a settlement, a statement line,
    a register fact, a batch or a card fix, with the figures that matter for the finding."""

    kind: str
    reference: str
    on: dt.date | None = None
    amount_fen: int | None = None
    account_no: str | None = None
    name: str | None = None
    household_id: str | None = None
    person_id: str | None = None
    note: str = ""

    def as_json(self, in_english: bool = False) -> list[object]:
        """The row as a list: as shown, or (``in_english``, for the digest) in English."""
        form = english if in_english else str
        return [
            self.kind,
            form(self.reference),
            self.on.isoformat() if self.on else None,
            self.amount_fen,
            self.account_no,
            self.name,
            self.household_id,
            self.person_id,
            form(self.note),
        ]


@dataclass(frozen=True, slots=True)
class Finding:
    """One anomaly: its stable id, its check and kind, a sentence with the figures, the rule
    that makes it suspicious, what it is about (``subjects``: ``household:…``, ``person:…``,
    ``account:…``, ``station:…``, ``programme:…``, ``batch:…`` …) and its evidence rows."""

    finding_id: str
    check: str
    kind: str
    summary: str
    rule: str
    subjects: tuple[str, ...]
    rows: tuple[Evidence, ...]
    amount_fen: int | None = None

    @property
    def evidence_digest(self) -> str:
        """SHA-256 of the evidence (rows, rule, amount): it changes when the evidence does, not
        with the language it is shown in (the English forms are hashed)."""
        rows = sorted(row.as_json(in_english=True) for row in self.rows)
        document = [self.kind, english(self.rule), self.amount_fen, rows]
        return hashlib.sha256(json.dumps(document, ensure_ascii=False, default=str).encode()).hexdigest()

    def evidence_json(self) -> str:
        """The evidence as stored with a review, as the reviewer saw it (the full values: the
        database is not a report)."""
        return json.dumps(
            {"summary": self.summary, "rule": self.rule, "amount_fen": self.amount_fen,
             "rows": [row.as_json() for row in self.rows]},
            ensure_ascii=False,
        )  # fmt: skip


def finding_id(code: str, kind: str, keys: tuple[object, ...]) -> str:
    """``A06-`` + 16 hex digits of the SHA-256 of the check's code, the finding's kind and the
    keys that identify what it found."""
    text = json.dumps([code, kind, *map(str, keys)], ensure_ascii=False)
    return f"{code}-{hashlib.sha256(text.encode()).hexdigest()[:FINDING_ID_HEX_DIGITS]}"


@dataclass(frozen=True, slots=True)
class Check:
    """A check: its code (``A06``), its id (``paid_twice``), its Chinese name (the name the
    national audits gave the pattern, the auditors' own word, shown as it is in every language),
    its explanation (a catalog id, marked with ``tr_noop``; ``shown_explanation`` is in the
    current language), the name of its section in audit/config.yaml, and the function that runs
    it."""

    code: str
    check_id: str
    title_zh: str
    explanation: str
    run: Callable[..., list[Finding]]

    @property
    def shown_explanation(self) -> str:
        return tr(self.explanation)

    # The faces' old name (the text was Chinese); in the current language now.
    explanation_zh = shown_explanation

    def finding(
        self,
        kind: str,
        keys: tuple[object, ...],
        summary: str,
        rule: str,
        subjects: tuple[str, ...] | list[str],
        rows: tuple[Evidence, ...] | list[Evidence],
        amount_fen: int | None = None,
    ) -> Finding:
        return Finding(
            finding_id(self.code, kind, keys),
            self.check_id,
            kind,
            summary,
            rule,
            tuple(sorted(set(subjects))),
            tuple(rows),
            amount_fen,
        )


@dataclass(frozen=True, slots=True)
class Review:
    """The newest review of a finding: who, when, the disposition and note, and the digest of
    the evidence as it stood then."""

    finding_id: str
    check: str
    disposition: str | None
    note: str
    evidence_digest: str | None
    reviewed_by: str
    reviewed_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ShownFinding:
    """A finding with its review state: ``new``, ``reviewed`` (the newest review saw this
    evidence) or ``changed`` (reviewed, but the evidence changed since)."""

    finding: Finding
    status: str
    review: Review | None


@dataclass(frozen=True, slots=True)
class AnomalyReport:
    """Every finding of every check with its review state (reviewed ones included: callers
    choose what to show), and the checks that found more than the per-check limit."""

    checks: tuple[Check, ...]
    findings: dict[str, list[ShownFinding]]
    truncated: dict[str, int] = field(default_factory=dict)
    checks_on: dt.date | None = None

    def open_findings(self, check_id: str) -> list[ShownFinding]:
        """Findings still to review: new ones and reviewed ones whose evidence changed."""
        return [shown for shown in self.findings.get(check_id, []) if shown.status != STATUS_REVIEWED]

    @property
    def reviewed_hidden(self) -> int:
        return sum(1 for found in self.findings.values() for shown in found if shown.status == STATUS_REVIEWED)
