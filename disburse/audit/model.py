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

DISPOSITIONS = ("属实", "不属实", "已整改")
STATUS_NEW, STATUS_REVIEWED, STATUS_CHANGED = "new", "reviewed", "changed"
STATUS_NAMES_ZH = {STATUS_NEW: "未复核", STATUS_REVIEWED: "已复核", STATUS_CHANGED: "证据已变化"}
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

    def as_json(self) -> list[object]:
        return [
            self.kind,
            self.reference,
            self.on.isoformat() if self.on else None,
            self.amount_fen,
            self.account_no,
            self.name,
            self.household_id,
            self.person_id,
            self.note,
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
        """SHA-256 of the evidence (rows, rule, amount): it changes when the evidence does."""
        document = [self.kind, self.rule, self.amount_fen, sorted(row.as_json() for row in self.rows)]
        return hashlib.sha256(json.dumps(document, ensure_ascii=False, default=str).encode()).hexdigest()

    def evidence_json(self) -> str:
        """The evidence as stored with a review (the full values: the database is not a report)."""
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
    """A check: its code (``A06``), its id (``paid_twice``), its Chinese title and explanation,
    the name of its section in audit/config.yaml, and the function that runs it."""

    code: str
    check_id: str
    title_zh: str
    explanation_zh: str
    run: Callable[..., list[Finding]]

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
