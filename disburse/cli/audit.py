"""`disburse audit ...`: the audit log, the anomaly checks, reviews of their findings, and the
seeded month the checks are tried on."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from disburse.cli.common import USER_HELP, books, console, error_console
from disburse.foundation.errors import DisburseError

audit_app = typer.Typer(no_args_is_help=True, help="The audit trail, the anomaly checks and their reviews.")
OUTCOMES = ("ok", "refused", "usage", "failed")
SHOWN_PER_CHECK = 20
TODAY_HELP = "the day the checks look from (YYYY-MM-DD; default today): money idle is counted to it"


def _date(value: Optional[str], option: str) -> Optional[dt.date]:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DisburseError(f"{option} {value!r} is not a date like 2026-11-30") from None


# ------------------------------------------------------------------------------------------ log
@audit_app.command("log")
def audit_log(
    since: Optional[str] = typer.Option(None, "--since", help="from this date (YYYY-MM-DD, UTC)"),
    until: Optional[str] = typer.Option(None, "--until", help="to this date, inclusive (YYYY-MM-DD, UTC)"),
    # Not called `user`: a command that takes a user is one that changes state, and is logged.
    by: Optional[str] = typer.Option(None, "--by", help="only this user's commands"),
    command: Optional[str] = typer.Option(
        None, "--command", help="only this command, e.g. 'payout' or 'payout fix-account'"
    ),
    outcome: Optional[str] = typer.Option(None, "--outcome", help="only ok, refused, usage or failed"),
    dry_runs: Optional[bool] = typer.Option(None, "--dry-runs/--changes", help="only dry runs, or only real changes"),
    limit: int = typer.Option(200, "--limit", help="at most this many, newest last"),
) -> None:
    """Every command that changed state, or tried to, or checked with --dry-run: when, who,
    what (arguments as typed, personal numbers masked), whether it was a dry run, the input
    files' hashes and the outcome."""
    from disburse.audit.log import audit_entries, shown_arguments

    if outcome is not None and outcome not in OUTCOMES:
        raise DisburseError(f"--outcome {outcome!r} must be one of {', '.join(OUTCOMES)}")
    with books() as session:
        entries = audit_entries(
            session, since=_date(since, "--since"), until=_date(until, "--until"), user=by, command=command,
            outcome=outcome, dry_run=dry_runs, limit=limit,
        )  # fmt: skip
    table = Table("id", "when (UTC)", "user", "command", "arguments", "mode", "outcome", "inputs", "message")
    for entry in entries:
        inputs = "\n".join(f"{Path(path).name} {digest[:12]}" for path, digest in entry.input_hashes.items())
        table.add_row(
            str(entry.id),
            f"{entry.started_at:%Y-%m-%d %H:%M:%S}",
            escape(entry.user or ""),
            escape(entry.command),
            escape(shown_arguments(entry.arguments, entry.command)),
            "[cyan]dry run[/cyan]" if entry.dry_run else "change",
            entry.outcome,
            escape(inputs),
            escape(entry.message.splitlines()[0] if entry.message else ""),
        )
    console.print(table)
    console.print(f"{len(entries):,} entr{'y' if len(entries) == 1 else 'ies'}", highlight=False)


# ------------------------------------------------------------------------------------------ checks
@audit_app.command("checks")
def audit_checks(
    config: Optional[Path] = typer.Option(None, "--config", help="another thresholds file (audit/config.yaml's shape)"),
) -> None:
    """The anomaly checks: code, id, Chinese title, what each looks for, and its thresholds."""
    from disburse.audit.anomalies import CHECKS
    from disburse.audit.config import load_config

    settings = load_config(config)
    table = Table("code", "check", "名称", "检查内容", "thresholds")
    for check in CHECKS:
        section = getattr(settings, check.check_id).model_dump()
        table.add_row(
            check.code,
            check.check_id,
            check.title_zh,
            check.explanation_zh,
            escape(json.dumps(section, ensure_ascii=False)),
        )
    console.print(table)


@audit_app.command("anomalies")
def audit_anomalies(
    period: Optional[str] = typer.Option(None, "--period", help="only findings touching this period (YYYY-MM)"),
    check: list[str] = typer.Option([], "--check", help="only this check (id or code); may be repeated"),
    out: Optional[Path] = typer.Option(None, "--out", help="write the findings workbook (.xlsx or .csv)"),
    show_all: bool = typer.Option(False, "--all", help="also list findings reviewed on the same evidence"),
    config: Optional[Path] = typer.Option(None, "--config", help="another thresholds file (audit/config.yaml's shape)"),
    today: Optional[str] = typer.Option(None, "--today", help=TODAY_HELP),
) -> None:
    """Run the anomaly checks. Each finding has a stable id, its evidence and its review state:
    new, reviewed, or changed (reviewed, but its evidence changed since, so it is back)."""
    from disburse.audit.anomalies import run_checks, write_findings
    from disburse.audit.config import load_config
    from disburse.audit.model import STATUS_NAMES_ZH, STATUS_REVIEWED
    from disburse.foundation.dates import period_problem

    if period is not None and period_problem(period):
        raise DisburseError(period_problem(period) or "")
    settings = load_config(config)
    with books() as session:
        report = run_checks(session, period, config=settings, today=_date(today, "--today"), only=tuple(check))
    table = Table("code", "check", "名称", "new", "changed", "reviewed")
    for item in report.checks:
        states = [shown.status for shown in report.findings[item.check_id]]
        table.add_row(
            item.code,
            item.check_id,
            item.title_zh,
            f"{states.count('new'):,}",
            f"{states.count('changed'):,}",
            f"{states.count(STATUS_REVIEWED):,}",
        )
    console.print(table)
    for item in report.checks:
        listed = [shown for shown in report.findings[item.check_id] if show_all or shown.status != STATUS_REVIEWED]
        if not listed:
            continue
        console.print(f"[bold]{item.code} {item.check_id} {item.title_zh}[/bold]", highlight=False)
        for shown in listed[:SHOWN_PER_CHECK]:
            state = (
                ""
                if shown.status == "new"
                else f" [{STATUS_NAMES_ZH[shown.status]}: {shown.review.disposition or '已复核'} by "
                f"{shown.review.reviewed_by}]"
            )  # type: ignore[union-attr]
            console.print(
                f"  {shown.finding.finding_id}{escape(state)} {escape(shown.finding.summary)}", highlight=False
            )
        if len(listed) > SHOWN_PER_CHECK:
            console.print(f"  … and {len(listed) - SHOWN_PER_CHECK:,} more (--out writes them all)", highlight=False)
    hidden = report.reviewed_hidden
    if hidden and not show_all:
        console.print(f"{hidden:,} finding(s) reviewed on the same evidence not listed (--all lists them)")
    for name, count in report.truncated.items():
        console.print(f"[yellow]{name}: {count:,} findings, the first {len(report.findings[name]):,} kept[/yellow]")
    if out is not None:
        for path in write_findings(report, out):
            console.print(f"written to {escape(str(path))}")


@audit_app.command("review")
def audit_review(
    finding: str = typer.Argument(..., help="the finding id (A06-…)"),
    disposition: str = typer.Option(..., "--disposition", help="属实 (true), 不属实 (not true) or 已整改 (corrected)"),
    note: str = typer.Option(..., "--note", help="what was found and decided"),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
    config: Optional[Path] = typer.Option(None, "--config", help="the thresholds the finding was found with"),
    today: Optional[str] = typer.Option(None, "--today", help=TODAY_HELP),
) -> None:
    """Record a review of a finding with the evidence as it stands; the finding stays reviewed
    while its evidence does not change, and comes back when it does."""
    from disburse.audit.anomalies import review_finding
    from disburse.audit.config import load_config

    settings = load_config(config)
    with books() as session:
        message = review_finding(
            session, finding, disposition, note, user, config=settings, today=_date(today, "--today")
        )
    console.print(escape(message), highlight=False)


@audit_app.command("reviews")
def audit_reviews(
    finding: Optional[str] = typer.Argument(None, help="one finding's reviews; default every review"),
) -> None:
    """The history of reviews: every disposition ever recorded, oldest first."""
    from disburse.audit.anomalies import review_history

    with books() as session:
        reviews = review_history(session, finding)
    table = Table("finding", "check", "处理意见", "note", "by", "when (UTC)", "evidence")
    for review in reviews:
        table.add_row(
            review.finding_id,
            review.check,
            review.disposition or "(none)",
            escape(review.note),
            escape(review.reviewed_by),
            f"{review.reviewed_at:%Y-%m-%d %H:%M}",
            (review.evidence_digest or "")[:12],
        )
    console.print(table)


# ------------------------------------------------------------------------------------------ seeded month
@audit_app.command("build-month")
def audit_build_month(
    county: Path = typer.Argument(..., help="a county written by `disburse generate county` (seeded or not)"),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
    work: Optional[Path] = typer.Option(
        None, "--work", help="where the rules, rosters and bank files go; default COUNTY/books"
    ),
) -> None:
    """Build October 2026's books of a generated county in a fresh database (--db): import it,
    run the example rules, pay through a simulated bank, and carry out what a seeded county's
    anomalies.json asks. For trying the anomaly checks and for training, not for real books."""
    from disburse.cli.common import state
    from disburse.dev.audit_month import build_month
    from disburse.foundation.db import make_engine
    from disburse.schema import migrate as schema

    engine = make_engine(state.database_url)
    try:
        if schema.current_revision(engine) is not None:
            from sqlalchemy import text

            with engine.connect() as connection:
                used = connection.execute(text("SELECT count(*) FROM journal_entries")).scalar_one()
            if used:
                raise DisburseError(
                    f"{state.database_url} already holds {used:,} journal entries: build-month needs a fresh database"
                )
    finally:
        engine.dispose()
    if not (county / "assets.yaml").exists():
        raise DisburseError(
            f"{county} is not a generated county (no assets.yaml); `disburse generate county` writes one"
        )
    month = build_month(
        county,
        state.database_url,
        work_dir=work,
        progress=lambda step: error_console.print(f"[dim]… {escape(step)}[/dim]"),
    )
    console.print(f"books of {escape(str(county))} built: {len(month.steps)} steps, batches {', '.join(month.batches)}")
    console.print(f"run the checks as of {month.checks_on}: disburse audit anomalies --today {month.checks_on}")


@audit_app.command("score")
def audit_score(
    manifest: Path = typer.Argument(..., help="the anomalies.json of a seeded county whose month is in --db"),
    config: Optional[Path] = typer.Option(None, "--config", help="another thresholds file"),
) -> None:
    """Score every check against what a seeded county planted: recall, precision, near-misses."""
    from disburse.audit.anomalies import run_checks
    from disburse.audit.config import load_config
    from disburse.audit.scoring import score, score_lines

    document = json.loads(manifest.read_text(encoding="utf-8"))
    with books() as session:
        report = run_checks(
            session, config=load_config(config), today=dt.date.fromisoformat(document.get("checks_on", "2026-12-01"))
        )
    scores = score(report, document)
    for line in score_lines(scores):
        console.print(escape(line), highlight=False)
    missed = [
        (result.check, anomaly)
        for result in scores.values()
        for anomaly in result.planted
        if anomaly not in result.found
    ]
    for check_id, anomaly in missed:
        console.print(f"[yellow]{check_id} did not find {anomaly}[/yellow]")
    for result in scores.values():
        for text in result.false_findings:
            console.print(f"[yellow]{result.check}: not planted: {escape(text)}[/yellow]")
