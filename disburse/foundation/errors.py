"""The error types every stage shares: ``DisburseError`` (a refused request, shown as a message)
and the import problems found in a user's file, as data.

Every importer collects ``ImportProblem`` records instead of raising, so a user sees every
mistake in a file at once. ``severity`` is ``"error"`` (the whole file is refused) or
``"warning"`` (stored and shown, the file is still accepted).
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from disburse.foundation.i18n import join_list, tr, tr_noop

# A file with the same mistake on every row (a column of numbers instead of text) would
# otherwise produce millions of problem records; beyond this many per check and column the
# importer reports one more problem that counts the rest.
PROBLEMS_PER_CHECK_MAX = 1_000

Severity = Literal["error", "warning"]
SEVERITIES: tuple[str, ...] = ("error", "warning")
SEVERITY_NAMES = {"error": tr_noop("error"), "warning": tr_noop("warning")}


class DisburseError(Exception):
    """A refusal of a user's request or input: shown as a message, never as a traceback.
    ``errors`` optionally carries the individual problems (ledger errors, import problems)."""

    def __init__(self, message: str, errors: Sequence[object] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors)


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One thing wrong with one cell, row or file.

    ``row`` is the 1-based row number as the user's spreadsheet or editor shows it (None for a
    problem with the whole file); ``column`` is the header as written in the file (None when the
    problem is not about one column); ``value`` is the offending value as text.
    """

    file: str
    row: int | None
    column: str | None
    value: str
    reason: str
    severity: Severity = "error"

    def __post_init__(self) -> None:
        assert self.severity in SEVERITIES, self.severity
        assert self.row is None or self.row >= 1, self.row

    def describe(self) -> str:
        """``file:row [column] 'value': reason`` — the one-line form used in summaries."""
        row = "" if self.row is None else str(self.row)
        column = f" [{self.column}]" if self.column else ""
        return f"{self.file}:{row}{column} {self.value!r}: {self.reason}"


class ImportRefused(Exception):
    """A file was refused because it has at least one error; ``problems`` holds all of them.

    Nothing inside ``importers`` raises this: importers return problems as data. The command
    layer raises it to turn a refused file into exit code 1.
    """

    def __init__(self, problems: Sequence[ImportProblem], message: str | None = None) -> None:
        self.problems = tuple(problems)
        super().__init__(message or problems_summary(self.problems))


def has_errors(problems: Iterable[ImportProblem]) -> bool:
    """True when at least one problem refuses the file."""
    return any(problem.severity == "error" for problem in problems)


def problems_summary(problems: Sequence[ImportProblem], limit: int = 20) -> str:
    """Counts by severity and by reason, then the first ``limit`` problems, one per line."""
    assert limit >= 0
    if not problems:
        return tr("no problems")
    by_severity = collections.Counter(problem.severity for problem in problems)
    by_reason = collections.Counter((problem.severity, problem.reason) for problem in problems)
    counts = [
        tr("{count} {severity}(s)", count=by_severity[severity], severity=tr(SEVERITY_NAMES[severity]))
        for severity in SEVERITIES
        if by_severity[severity]
    ]
    lines = [join_list(counts)]
    for (severity, reason), count in by_reason.most_common():
        lines.append(
            tr("  {count} x {severity}: {reason}", count=count, severity=tr(SEVERITY_NAMES[severity]), reason=reason)
        )
    for problem in problems[:limit]:
        lines.append(problem.describe())
    if len(problems) > limit:
        lines.append(tr("... and {count} more", count=len(problems) - limit))
    return "\n".join(lines)


def problems_at(
    file: str,
    column: str | None,
    rows: Iterable[int],
    values: Iterable[object],
    reason: str,
    severity: Severity = "error",
    limit: int | None = None,
) -> list[ImportProblem]:
    """One problem per offending row, capped at ``limit`` (PROBLEMS_PER_CHECK_MAX) per call.

    When more rows have the same problem than the cap, one more problem counts the rest, so a
    column of a million wrong cells still gives a short, complete report.
    """
    cap = PROBLEMS_PER_CHECK_MAX if limit is None else limit
    problems: list[ImportProblem] = []
    extra = 0
    for row, value in zip(rows, values):
        if len(problems) >= cap:
            extra += 1
            continue
        problems.append(
            ImportProblem(file, None if row is None else int(row), column, _value_text(value), reason, severity)
        )
    if extra:
        more = tr("{extra:,} more rows: {reason}", extra=extra, reason=reason)
        problems.append(ImportProblem(file, None, column, "", more, severity))
    return problems


def _value_text(value: object) -> str:
    """A cell value as text for a problem report; blank is the empty string."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN
        return ""
    if type(value).__name__ == "datetime64":
        return "" if str(value) == "NaT" else str(value)[:10] if str(value).endswith("T00:00:00") else str(value)
    if hasattr(value, "isoformat") and hasattr(value, "year"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    return str(value)
