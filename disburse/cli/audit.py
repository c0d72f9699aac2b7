"""`disburse audit ...`: the audit log, the anomaly checks and their reviews."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from disburse.cli.common import USER_HELP, books, console

# --------------------------------------------------------------------------------------- audit
audit_app = typer.Typer(no_args_is_help=True, help="The audit trail and anomaly checks.")


@audit_app.command("log")
def audit_log(
    since: Optional[str] = typer.Option(None, "--since", help="from this date (YYYY-MM-DD)"),
    user: Optional[str] = typer.Option(None, "--by", help="only this user's commands"),
    limit: int = typer.Option(200, "--limit", help="at most this many, newest last"),
) -> None:
    """Every command that changed state: who, when, what, the input hashes and the outcome."""
    from disburse.audit.log import audit_entries

    since_date = dt.date.fromisoformat(since) if since else None
    with books() as session:
        entries = audit_entries(session, since=since_date, user=user, limit=limit)
    table = Table("id", "when (UTC)", "user", "command", "outcome", "inputs", "message")
    for entry in entries:
        inputs = "\n".join(f"{Path(path).name} {digest[:12]}" for path, digest in entry.input_hashes.items())
        table.add_row(
            str(entry.id),
            f"{entry.started_at:%Y-%m-%d %H:%M:%S}",
            entry.user or "",
            entry.command,
            entry.outcome,
            inputs,
            escape(entry.message.splitlines()[0] if entry.message else ""),
        )
    console.print(table)


@audit_app.command("anomalies")
def audit_anomalies(
    period: Optional[str] = typer.Option(None, "--period", help="only this period (YYYY-MM)"),
    out: Optional[Path] = typer.Option(None, "--out", help="write every finding with its evidence (.xlsx or .csv)"),
) -> None:
    """Run the anomaly checks; each finding has a stable id and its evidence rows."""
    from disburse.audit.anomalies import run_checks, write_findings

    with books() as session:
        report = run_checks(session, period)
    table = Table("check", "findings", "first finding")
    for name, findings in report.findings.items():
        table.add_row(
            name, f"{len(findings):,}", escape(f"{findings[0].finding_id} {findings[0].summary}") if findings else ""
        )
    console.print(table)
    if report.reviewed_hidden:
        console.print(f"{report.reviewed_hidden:,} reviewed finding(s) not shown")
    for name, count in report.truncated.items():
        console.print(f"[yellow]{name}: {count:,} findings, the first {len(report.findings[name]):,} shown[/yellow]")
    if out is not None:
        for path in write_findings(report, out):
            console.print(f"written to {path}")


@audit_app.command("review")
def audit_review(
    finding: str = typer.Argument(..., help="the finding id (F-…)"),
    note: str = typer.Option(..., "--note", help="what was found and decided"),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Mark a finding reviewed; it does not come back."""
    from disburse.audit.anomalies import review_finding

    with books() as session:
        message = review_finding(session, finding, note, user)
    console.print(message)
