"""Scoring the checks on a seeded county: which planted anomalies each check found, which of its
findings were planted (or documented as real), and which near-misses it flagged.

A finding matches a planted anomaly when the anomaly lists the finding's check among those that
must find it and they share a subject (``household:…``, ``person:…``, ``station:…`` …). Recall of
a check is the share of the anomalies listing it that it found; precision is the share of its
findings that match a planted anomaly or a finding the generator documents as real. A finding
sharing a subject with a near-miss flags that near-miss.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from disburse.audit.model import AnomalyReport, Finding


@dataclass
class CheckScore:
    """One check's score: planted anomalies it must find and those it found, its findings and
    those that were true, and the near-misses and stray findings it raised."""

    check: str
    planted: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)
    findings: int = 0
    true_findings: int = 0
    flagged_near_misses: list[str] = field(default_factory=list)
    false_findings: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return len(self.found) / len(self.planted) if self.planted else None

    @property
    def precision(self) -> float | None:
        return self.true_findings / self.findings if self.findings else None


def _matches(finding: Finding, entry: dict) -> bool:
    return bool(set(finding.subjects) & set(entry.get("subjects", [])))


def score(report: AnomalyReport, manifest: dict) -> dict[str, CheckScore]:
    """Per check, its score against the manifest ``anomalies.json`` of a seeded county."""
    anomalies, near_misses, real = (
        manifest.get("anomalies", []),
        manifest.get("near_misses", []),
        manifest.get("real", []),
    )
    scores = {check.check_id: CheckScore(check.check_id) for check in report.checks}
    for anomaly in anomalies:
        for check in anomaly["checks"]:
            if check in scores:
                scores[check].planted.append(anomaly["id"])
    for check_id, found in report.findings.items():
        result = scores[check_id]
        for shown in found:
            finding = shown.finding
            result.findings += 1
            hits = [a["id"] for a in anomalies if check_id in a["checks"] and _matches(finding, a)]
            documented = [r for r in real if r.get("check") == check_id and _matches(finding, r)]
            near = [n["id"] for n in near_misses if _matches(finding, n)]
            result.flagged_near_misses.extend(near)
            if (hits or documented) and not near:
                result.true_findings += 1
                result.found.extend(hit for hit in hits if hit not in result.found)
            else:
                result.false_findings.append(f"{finding.finding_id} {finding.summary}")
    return scores


def score_lines(scores: dict[str, CheckScore]) -> list[str]:
    """A table of the scores, one line per check, for people."""

    def share(value: float | None) -> str:
        return "—" if value is None else f"{value:.0%}"

    lines = [
        f"{'check':<26} {'planted':>7} {'found':>5} {'findings':>8} {'true':>4}  recall  precision  near-misses flagged"
    ]
    for result in scores.values():
        lines.append(
            f"{result.check:<26} {len(result.planted):>7} {len(result.found):>5} {result.findings:>8} "
            f"{result.true_findings:>4}  {share(result.recall):>6}  {share(result.precision):>9}  "
            f"{', '.join(sorted(set(result.flagged_near_misses))) or '-'}"
        )
    return lines
