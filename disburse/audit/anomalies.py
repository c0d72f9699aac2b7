"""Anomaly checks: what auditors look for (paying the dead, one card for many households, the
same benefit twice, idle funds …), each a named check that returns its evidence rows.

Every finding has a stable id (a hash of its check and the keys of its evidence), so a finding
an auditor has reviewed (`disburse audit review ID`) does not come back, and running the checks
twice gives the same ids. The checks read the books and registers; they never change them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from disburse.audit.tables import FindingReviewRow
from disburse.foundation.dates import as_date_or_none
from disburse.foundation.errors import DisburseError
from disburse.foundation.frames import query_frame as _frame
from disburse.foundation.masking import mask_identifier
from disburse.foundation.money import format_yuan

CONFIG_PATH = Path(__file__).with_name("config.yaml")
FINDINGS_PER_CHECK_MAX = 10_000  # a check that finds more is reporting a systemic problem; the count says so


class AuditConfig(BaseModel):
    """Thresholds of the checks (audit/config.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    idle_payable_days: int = Field(90, ge=1)
    norm_multiple: int = Field(5, ge=2)
    norm_amount_floor_yuan: int = Field(1000, ge=0)
    pv_household_share_max_percent: int = Field(70, ge=0, le=100)


@dataclass(frozen=True, slots=True)
class Finding:
    """One anomaly: its stable id, the check that found it, a sentence, and its evidence."""

    finding_id: str
    check: str
    summary: str
    evidence: dict[str, object]


def load_config(path: Path | None = None) -> AuditConfig:
    source = Path(path or CONFIG_PATH)
    data = yaml.safe_load(source.read_text(encoding="utf-8")) if source.exists() else {}
    return AuditConfig(**(data or {}))


def finding_id(check: str, keys: tuple) -> str:
    """``F-`` + 16 hex digits of the SHA-256 of the check and the keys that identify what it
    found: the same finding gets the same id on every run, so a review stays attached to it."""
    digest = hashlib.sha256(json.dumps([check, *map(str, keys)], ensure_ascii=False).encode()).hexdigest()[:16]
    return f"F-{digest}"


def _finding(check: str, keys: tuple, summary: str, evidence: dict[str, object]) -> Finding:
    return Finding(finding_id(check, keys), check, summary, evidence)


def _period_filter(column: str, period: str | None) -> str:
    return f" AND {column} = :period" if period else ""


def _instruction_period(period: str | None) -> str:
    """An instruction belongs to the periods of the payables it pays."""
    if not period:
        return ""
    return (
        " AND EXISTS (SELECT 1 FROM instruction_payables l JOIN payables p ON p.id = l.payable_id"
        " WHERE l.instruction_id = i.id AND p.period = :period)"
    )


# ------------------------------------------------------------------------------------ checks
def paid_after_death(session: Session, period: str | None, config: AuditConfig) -> list[Finding]:
    """A payment to a person (or to a household whose card holder, the head) who had died before
    the payment date (the bank's settlement date, else the export date)."""
    deaths = _frame(
        session,
        "SELECT id_number, max(died_on) AS died_on FROM person_versions WHERE died_on IS NOT NULL GROUP BY id_number",
    )
    if deaths.empty:
        return []
    payments = _frame(
        session,
        f"""
        SELECT i.payment_reference, i.payee_type, i.payee_id, i.household_id, i.account_no, i.account_name, i.amount_fen,
               i.status, coalesce(i.settled_on, b.exported_at) AS paid_on, i.programmes,
               (SELECT h.head_id_number FROM household_versions h WHERE h.household_id = i.household_id
                 ORDER BY h.valid_from_import DESC LIMIT 1) AS head_id_number
          FROM payment_instructions i JOIN payment_batches b ON b.id = i.batch_id
         WHERE i.status IN ('exported', 'success'){_instruction_period(period)}
    """,
        period=period,
    )
    if payments.empty:
        return []
    died = dict(zip(deaths["id_number"], deaths["died_on"].map(as_date_or_none)))
    findings = []
    for row in payments.to_dict("records"):
        person = row["payee_id"] if row["payee_type"] == "person" else row["head_id_number"]
        death, paid_on = died.get(person), as_date_or_none(row["paid_on"])
        if death is not None and paid_on is not None and death < paid_on:
            findings.append(
                _finding(
                    "paid_after_death",
                    (row["payment_reference"],),
                    f"{row['payment_reference']} paid on {paid_on} to {row['account_name']}, who died on {death}",
                    {**row, "died_on": death, "person": person},
                )
            )
    return findings


def person_in_two_households(session: Session, period: str | None, config: AuditConfig) -> list[Finding]:
    """One resident ID in two households in the same snapshot, or one person-based benefit paid
    to one person through two households in one period."""
    findings = []
    same_time = _frame(
        session,
        """
        SELECT a.id_number, a.household_id AS household_a, b.household_id AS household_b, a.valid_from_import AS import_a
          FROM person_versions a JOIN person_versions b
            ON a.id_number = b.id_number AND a.household_id < b.household_id
           AND a.valid_from_import < coalesce(b.valid_to_import, 9223372036854775807)
           AND b.valid_from_import < coalesce(a.valid_to_import, 9223372036854775807)
    """,
    )
    for row in same_time.to_dict("records"):
        findings.append(
            _finding(
                "person_in_two_households",
                (row["id_number"], row["household_a"], row["household_b"]),
                f"{mask_identifier(row['id_number'])} is registered in {row['household_a']} and {row['household_b']} at once",
                row,
            )
        )
    through_two = _frame(
        session,
        f"""
        SELECT l.payee_id AS id_number, r.rule_name AS programme, r.period, count(DISTINCT l.household_id) AS households,
               min(l.household_id) AS household_a, max(l.household_id) AS household_b
          FROM allocation_lines l JOIN allocation_runs r ON r.id = l.run_id
         WHERE l.payee_type = 'person' AND r.status IN ('posted', 'superseded'){_period_filter("r.period", period)}
         GROUP BY l.payee_id, r.rule_name, r.period HAVING count(DISTINCT l.household_id) > 1
    """,
        period=period,
    )
    for row in through_two.to_dict("records"):
        findings.append(
            _finding(
                "person_in_two_households",
                (row["id_number"], row["programme"], row["period"]),
                f"{mask_identifier(row['id_number'])} received {row['programme']} {row['period']} through {row['households']} households",
                row,
            )
        )
    return findings


def shared_bank_account(session: Session, period: str | None, config: AuditConfig) -> list[Finding]:
    """One bank account receiving for several households (a card held by someone else)."""
    rows = _frame(
        session,
        f"""
        SELECT account_no, count(DISTINCT household_id) AS households, min(household_id) AS first_household,
               max(household_id) AS last_household, sum(amount_fen) AS amount_fen
          FROM payables WHERE household_id IS NOT NULL AND account_no IS NOT NULL{_period_filter("period", period)}
         GROUP BY account_no HAVING count(DISTINCT household_id) > 1
    """,
        period=period,
    )
    return [
        _finding(
            "shared_bank_account",
            (row["account_no"],),
            f"account {mask_identifier(row['account_no'])} receives for {row['households']} households ({row['first_household']} … {row['last_household']})",
            row,
        )
        for row in rows.to_dict("records")
    ]


def account_name_mismatch(session: Session, period: str | None, config: AuditConfig) -> list[Finding]:
    """A payment whose account name differs from the head's name (household benefits) or the
    person's name (person benefits) in the newest register."""
    rows = _frame(
        session,
        f"""
        SELECT i.payment_reference, i.payee_type, i.payee_id, i.household_id, i.account_no, i.account_name,
               (SELECT h.head_name FROM household_versions h WHERE h.household_id = i.household_id
                 ORDER BY h.valid_from_import DESC LIMIT 1) AS head_name,
               (SELECT p.name FROM person_versions p WHERE p.id_number = i.payee_id
                 ORDER BY p.valid_from_import DESC LIMIT 1) AS person_name
          FROM payment_instructions i WHERE i.status <> 'cancelled'{_instruction_period(period)}
    """,
        period=period,
    )
    findings = []
    for row in rows.to_dict("records"):
        # A person-based benefit goes to the person's own card, or to the head's when the person
        # has none: either holder's name is right; anything else is not.
        holders = {row["head_name"]} | ({row["person_name"]} if row["payee_type"] == "person" else set())
        holders.discard(None)
        if holders and row["account_name"] and row["account_name"] not in holders:
            findings.append(
                _finding(
                    "account_name_mismatch",
                    (row["payment_reference"],),
                    f"{row['payment_reference']}: account name {row['account_name']} is not the register's "
                    f"{' or '.join(sorted(holders))}",
                    row,
                )
            )
    return findings


def paid_twice(session: Session, period: str | None, config: AuditConfig) -> list[Finding]:
    """The same benefit for the same payee and period paid twice: in two live runs, or one
    payable settled by two successful payments."""
    findings = []
    twice_in_runs = _frame(
        session,
        f"""
        SELECT l.payee_id, l.component, r.rule_name AS programme, r.period, count(DISTINCT r.id) AS runs, sum(l.amount_fen) AS amount_fen
          FROM allocation_lines l JOIN allocation_runs r ON r.id = l.run_id
         WHERE r.status = 'posted' AND r.supersedes_run_id IS NULL AND l.payee_type IN ('household', 'person'){_period_filter("r.period", period)}
           AND l.component NOT LIKE '%deduction%'
         GROUP BY l.payee_id, l.component, r.rule_name, r.period HAVING count(DISTINCT r.id) > 1
    """,
        period=period,
    )
    for row in twice_in_runs.to_dict("records"):
        findings.append(
            _finding(
                "paid_twice",
                (row["payee_id"], row["programme"], row["period"], row["component"]),
                f"{row['payee_id']} has {row['programme']} {row['period']} in {row['runs']} posted runs",
                row,
            )
        )
    twice_paid = _frame(
        session,
        """
        SELECT p.id AS payable_id, p.payee_id, p.programme, p.period, count(*) AS payments
          FROM instruction_payables l JOIN payment_instructions i ON i.id = l.instruction_id JOIN payables p ON p.id = l.payable_id
         WHERE i.status = 'success' GROUP BY p.id, p.payee_id, p.programme, p.period HAVING count(*) > 1
    """,
    )
    for row in twice_paid.to_dict("records"):
        findings.append(
            _finding(
                "paid_twice",
                ("payable", row["payable_id"]),
                f"payable {row['payable_id']} ({row['payee_id']} {row['programme']} {row['period']}) was paid {row['payments']} times",
                row,
            )
        )
    return findings


def paid_after_exit(session: Session, period: str | None, config: AuditConfig) -> list[Finding]:
    """A household paid by a stop-on-exit rule for a period that began after it exited."""
    runs = _frame(
        session,
        f"SELECT id, rule_text, rule_name, period FROM allocation_runs WHERE status IN ('posted', 'superseded'){_period_filter('period', period)}",
        period=period,
    )
    findings = []
    exits = _frame(
        session,
        "SELECT household_id, max(exited_on) AS exited_on FROM household_versions WHERE exited_on IS NOT NULL GROUP BY household_id",
    )
    exited = dict(zip(exits["household_id"], exits["exited_on"].map(as_date_or_none))) if len(exits) else {}
    for run in runs.to_dict("records"):
        rule = yaml.safe_load(run["rule_text"]) or {}
        if not rule.get("stop_on_exit"):
            continue
        period_start = dt.date(int(run["period"][:4]), int(run["period"][5:]), 1)
        lines = _frame(
            session,
            "SELECT household_id, sum(amount_fen) AS amount_fen FROM allocation_lines WHERE run_id = :run AND payee_type = 'household' GROUP BY household_id",
            run=run["id"],
        )
        for line in lines.to_dict("records"):
            exit_date = exited.get(line["household_id"])
            if exit_date is not None and exit_date < period_start and line["amount_fen"] > 0:
                findings.append(
                    _finding(
                        "paid_after_exit",
                        (run["id"], line["household_id"]),
                        f"{line['household_id']} exited on {exit_date} but run {run['id']} ({run['rule_name']}) pays it for {run['period']}",
                        {**line, "run_id": run["id"], "exited_on": exit_date},
                    )
                )
    return findings


def above_norm(session: Session, period: str | None, config: AuditConfig) -> list[Finding]:
    """Amounts far above their programme's norm: more than N times the programme's median line
    and above a floor (so a few yuan above a tiny median is not a finding)."""
    lines = _frame(
        session,
        f"""
        SELECT r.rule_name AS programme, r.period, l.run_id, l.payee_id, l.household_id, l.component, l.amount_fen
          FROM allocation_lines l JOIN allocation_runs r ON r.id = l.run_id
         WHERE r.status IN ('posted', 'superseded') AND l.payee_type IN ('household', 'person'){_period_filter("r.period", period)}
    """,
        period=period,
    )
    if lines.empty:
        return []
    medians = lines.groupby(["programme", "component"])["amount_fen"].transform("median")
    floor_fen = config.norm_amount_floor_yuan * 100
    flagged = lines[(lines["amount_fen"] > medians * config.norm_multiple) & (lines["amount_fen"] > floor_fen)]
    return [
        _finding(
            "above_norm",
            (row["run_id"], row["payee_id"], row["component"]),
            f"{row['payee_id']} gets {format_yuan(int(row['amount_fen']))} yuan of {row['programme']}, over {config.norm_multiple}x the median",
            {**row, "median_fen": int(median)},
        )
        for row, median in zip(flagged.to_dict("records"), medians[flagged.index])
    ]


def idle_payables(
    session: Session, period: str | None, config: AuditConfig, today: dt.date | None = None
) -> list[Finding]:
    """Payables unpaid for more than the configured number of days (funds left idle)."""
    cutoff = dt.datetime.combine((today or dt.date.today()) - dt.timedelta(days=config.idle_payable_days), dt.time())
    rows = _frame(
        session,
        f"""
        SELECT p.id AS payable_id, p.payee_id, p.household_id, p.programme, p.period, p.amount_fen, p.created_at
          FROM payables p
         WHERE p.amount_fen > 0 AND p.created_at < :cutoff{_period_filter("p.period", period)}
           AND NOT EXISTS (SELECT 1 FROM instruction_payables l JOIN payment_instructions i ON i.id = l.instruction_id
                            WHERE l.payable_id = p.id AND i.status = 'success')
    """,
        cutoff=cutoff,
        period=period,
    )
    return [
        _finding(
            "idle_payables",
            (row["payable_id"],),
            f"payable {row['payable_id']} ({row['payee_id']} {row['programme']} {row['period']}) unpaid since {as_date_or_none(row['created_at'])}",
            row,
        )
        for row in rows.to_dict("records")
    ]


def pv_household_share(session: Session, period: str | None, config: AuditConfig) -> list[Finding]:
    """Village-station PV revenue paid out as unconditional household payouts above the share the
    configuration allows (it should go mainly to public-welfare jobs, works and targeted grants)."""
    runs = _frame(
        session,
        f"SELECT id, rule_name, period, summary_json FROM allocation_runs WHERE rule_kind = 'pv_revenue' AND status IN ('posted', 'superseded'){_period_filter('period', period)}",
        period=period,
    )
    findings = []
    for run in runs.to_dict("records"):
        summary = json.loads(run["summary_json"])
        distributable = int(summary.get("distributable_fen", 0))
        households = int(summary.get("part_households_fen", 0))
        if distributable > 0 and households * 100 > distributable * config.pv_household_share_max_percent:
            share_bps = households * 10_000 // distributable
            findings.append(
                _finding(
                    "pv_household_share",
                    (run["id"],),
                    f"run {run['id']} ({run['rule_name']} {run['period']}) pays {share_bps // 100}.{share_bps % 100:02d}% "
                    f"of the distributable revenue to households, above {config.pv_household_share_max_percent}%",
                    {"run_id": run["id"], "distributable_fen": distributable, "households_fen": households},
                )
            )
    return findings


CHECKS: dict[str, Callable[..., list[Finding]]] = {
    "paid_after_death": paid_after_death,
    "person_in_two_households": person_in_two_households,
    "shared_bank_account": shared_bank_account,
    "account_name_mismatch": account_name_mismatch,
    "paid_twice": paid_twice,
    "paid_after_exit": paid_after_exit,
    "above_norm": above_norm,
    "idle_payables": idle_payables,
    "pv_household_share": pv_household_share,
}


@dataclass(frozen=True, slots=True)
class AnomalyReport:
    """Unreviewed findings per check, and how many reviewed ones were left out."""

    findings: dict[str, list[Finding]]
    reviewed_hidden: int
    truncated: dict[str, int]


def run_checks(
    session: Session, period: str | None = None, *, config: AuditConfig | None = None, today: dt.date | None = None
) -> AnomalyReport:
    config = config or load_config()
    reviewed = set(session.scalars(select(FindingReviewRow.finding_id)).all())
    findings: dict[str, list[Finding]] = {}
    truncated: dict[str, int] = {}
    hidden = 0
    for name, check in CHECKS.items():
        found = check(session, period, config, today) if name == "idle_payables" else check(session, period, config)
        kept = [finding for finding in found if finding.finding_id not in reviewed]
        hidden += len(found) - len(kept)
        if len(kept) > FINDINGS_PER_CHECK_MAX:
            truncated[name] = len(kept)
            kept = kept[:FINDINGS_PER_CHECK_MAX]
        findings[name] = kept
    return AnomalyReport(findings, hidden, truncated)


def review_finding(session: Session, finding_id: str, note: str, user: str, *, period: str | None = None) -> str:
    """Mark a finding reviewed; it must be one the checks currently find."""
    if not note.strip():
        raise DisburseError("a review needs a note saying what was found (--note)")
    existing = session.get(FindingReviewRow, finding_id)
    if existing is not None:
        return f"{finding_id} was already reviewed by {existing.reviewed_by}; nothing changed"
    report = run_checks(session, period)
    match = next(
        (finding for found in report.findings.values() for finding in found if finding.finding_id == finding_id), None
    )
    if match is None:
        raise DisburseError(f"{finding_id} is not a current finding; `disburse audit anomalies` lists them")
    session.execute(
        insert(FindingReviewRow).values(finding_id=finding_id, check_name=match.check, note=note, reviewed_by=user)
    )
    return f"{finding_id} ({match.check}) marked reviewed by {user}"


def write_findings(report: AnomalyReport, path: Path) -> list[Path]:
    """Every finding with its evidence: one sheet of findings, personal numbers masked."""
    from disburse.foundation.masking import mask_identifier
    from disburse.foundation.workbook import Sheet, write_workbook

    def shown(key: str, value: object) -> str:
        if value is None:
            return ""
        if key in ("account_no", "id_number", "person", "head_id_number") or (
            key == "payee_id" and len(str(value)) == 18
        ):
            return mask_identifier(str(value)) or ""
        return str(value)

    rows = [
        [
            finding.finding_id,
            finding.check,
            finding.summary,
            "; ".join(f"{key}={shown(key, value)}" for key, value in finding.evidence.items()),
        ]
        for findings in report.findings.values()
        for finding in findings
    ]
    return write_workbook(Path(path), [Sheet("发现", "异常检查", ("编号", "检查", "说明", "证据"), rows)])
