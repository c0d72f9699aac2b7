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
from disburse.foundation.i18n import join_list, tr, tr_noop, trn

audit_app = typer.Typer(no_args_is_help=True, help=tr_noop("The audit trail, the anomaly checks and their reviews."))
OUTCOMES = ("ok", "refused", "usage", "failed")
SHOWN_PER_CHECK = 20
LOG_COLUMNS = (
    tr_noop("id"),
    tr_noop("when (UTC)"),
    tr_noop("user"),
    tr_noop("command"),
    tr_noop("arguments"),
    tr_noop("mode"),
    tr_noop("outcome"),
    tr_noop("inputs"),
    tr_noop("message"),
)
TODAY_HELP = tr_noop("the day the checks look from (YYYY-MM-DD; default today): money idle is counted to it")
CONFIG_HELP = tr_noop("another thresholds file (audit/config.yaml's shape)")


def _date(value: Optional[str], option: str) -> Optional[dt.date]:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DisburseError(
            tr("{option} {value!r} is not a date like 2026-11-30", option=option, value=value)
        ) from None


# ------------------------------------------------------------------------------------------ log
@audit_app.command(
    "log",
    short_help=tr_noop("Every command that changed state or tried to: when, who, what, the outcome."),
    help=tr_noop(
        "Every command that changed state, or tried to, or checked with --dry-run: when, who, "
        "what (arguments as typed, personal numbers masked), whether it was a dry run, the input "
        "files' hashes and the outcome."
    ),
)
def audit_log(
    since: Optional[str] = typer.Option(None, "--since", help=tr_noop("from this date (YYYY-MM-DD, UTC)")),
    until: Optional[str] = typer.Option(None, "--until", help=tr_noop("to this date, inclusive (YYYY-MM-DD, UTC)")),
    # Not called `user`: a command that takes a user is one that changes state, and is logged.
    by: Optional[str] = typer.Option(None, "--by", help=tr_noop("only this user's commands")),
    command: Optional[str] = typer.Option(
        None, "--command", help=tr_noop("only this command, e.g. 'payout' or 'payout fix-account'")
    ),
    outcome: Optional[str] = typer.Option(None, "--outcome", help=tr_noop("only ok, refused, usage or failed")),
    dry_runs: Optional[bool] = typer.Option(
        None, "--dry-runs/--changes", help=tr_noop("only dry runs, or only real changes")
    ),
    limit: int = typer.Option(200, "--limit", help=tr_noop("at most this many, newest last")),
) -> None:
    """Every command that changed state, or tried to, or checked with --dry-run: when, who,
    what (arguments as typed, personal numbers masked), whether it was a dry run, the input
    files' hashes and the outcome."""
    from disburse.audit.log import audit_entries, shown_arguments

    if outcome is not None and outcome not in OUTCOMES:
        raise DisburseError(
            tr("--outcome {value!r} must be one of {choices}", value=outcome, choices=join_list(OUTCOMES))
        )
    with books() as session:
        entries = audit_entries(
            session, since=_date(since, "--since"), until=_date(until, "--until"), user=by, command=command,
            outcome=outcome, dry_run=dry_runs, limit=limit,
        )  # fmt: skip
    table = Table(*(tr(name) for name in LOG_COLUMNS))
    for entry in entries:
        inputs = "\n".join(f"{Path(path).name} {digest[:12]}" for path, digest in entry.input_hashes.items())
        table.add_row(
            str(entry.id),
            f"{entry.started_at:%Y-%m-%d %H:%M:%S}",
            escape(entry.user or ""),
            escape(entry.command),
            escape(shown_arguments(entry.arguments, entry.command)),
            "[cyan]" + tr("dry run") + "[/cyan]" if entry.dry_run else tr("change"),
            entry.outcome,
            escape(inputs),
            escape(entry.message.splitlines()[0] if entry.message else ""),
        )
    console.print(table)
    console.print(trn("{count:,} entry", "{count:,} entries", len(entries)), highlight=False)


# ------------------------------------------------------------------------------------------ checks
@audit_app.command(
    "checks", help=tr_noop("The anomaly checks: code, id, Chinese title, what each looks for, and its thresholds.")
)
def audit_checks(
    config: Optional[Path] = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """The anomaly checks: code, id, Chinese title, what each looks for, and its thresholds."""
    from disburse.audit.anomalies import CHECKS
    from disburse.audit.config import load_config

    settings = load_config(config)
    table = Table(tr("code"), tr("check"), "名称", "检查内容", tr("thresholds"))
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


@audit_app.command(
    "anomalies",
    short_help=tr_noop("Run the anomaly checks: findings with their evidence and review state."),
    help=tr_noop(
        "Run the anomaly checks. Each finding has a stable id, its evidence and its review state: "
        "new, reviewed, or changed (reviewed, but its evidence changed since, so it is back)."
    ),
)
def audit_anomalies(
    period: Optional[str] = typer.Option(
        None, "--period", help=tr_noop("only findings touching this period (YYYY-MM)")
    ),
    check: list[str] = typer.Option([], "--check", help=tr_noop("only this check (id or code); may be repeated")),
    out: Optional[Path] = typer.Option(None, "--out", help=tr_noop("write the findings workbook (.xlsx or .csv)")),
    show_all: bool = typer.Option(False, "--all", help=tr_noop("also list findings reviewed on the same evidence")),
    config: Optional[Path] = typer.Option(None, "--config", help=CONFIG_HELP),
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
    table = Table(tr("code"), tr("check"), "名称", tr("new"), tr("changed"), tr("reviewed"))
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
                else tr(
                    " [{status}: {disposition} by {reviewer}]",
                    status=STATUS_NAMES_ZH[shown.status],
                    disposition=shown.review.disposition or "已复核",  # type: ignore[union-attr]
                    reviewer=shown.review.reviewed_by,  # type: ignore[union-attr]
                )
            )
            console.print(
                f"  {shown.finding.finding_id}{escape(state)} {escape(shown.finding.summary)}", highlight=False
            )
        if len(listed) > SHOWN_PER_CHECK:
            console.print(
                "  " + tr("… and {count:,} more (--out writes them all)", count=len(listed) - SHOWN_PER_CHECK),
                highlight=False,
            )
    hidden = report.reviewed_hidden
    if hidden and not show_all:
        console.print(
            tr("{count:,} finding(s) reviewed on the same evidence not listed (--all lists them)", count=hidden)
        )
    for name, count in report.truncated.items():
        kept = tr(
            "{check}: {count:,} findings, the first {kept:,} kept",
            check=name,
            count=count,
            kept=len(report.findings[name]),
        )
        console.print(f"[yellow]{kept}[/yellow]")
    if out is not None:
        for path in write_findings(report, out):
            console.print(tr("written to {path}", path=escape(str(path))))


@audit_app.command(
    "review",
    short_help=tr_noop("Record a review of a finding with the evidence as it stands."),
    help=tr_noop(
        "Record a review of a finding with the evidence as it stands; the finding stays reviewed "
        "while its evidence does not change, and comes back when it does."
    ),
)
def audit_review(
    finding: str = typer.Argument(..., help=tr_noop("the finding id (A06-…)")),
    disposition: str = typer.Option(
        ..., "--disposition", help=tr_noop("属实 (true), 不属实 (not true) or 已整改 (corrected)")
    ),
    note: str = typer.Option(..., "--note", help=tr_noop("what was found and decided")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
    config: Optional[Path] = typer.Option(None, "--config", help=tr_noop("the thresholds the finding was found with")),
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


@audit_app.command("reviews", help=tr_noop("The history of reviews: every disposition ever recorded, oldest first."))
def audit_reviews(
    finding: Optional[str] = typer.Argument(None, help=tr_noop("one finding's reviews; default every review")),
) -> None:
    """The history of reviews: every disposition ever recorded, oldest first."""
    from disburse.audit.anomalies import review_history

    with books() as session:
        reviews = review_history(session, finding)
    table = Table(tr("finding"), tr("check"), "处理意见", tr("note"), tr("by"), tr("when (UTC)"), tr("evidence"))
    for review in reviews:
        table.add_row(
            review.finding_id,
            review.check,
            review.disposition or tr("(none)"),
            escape(review.note),
            escape(review.reviewed_by),
            f"{review.reviewed_at:%Y-%m-%d %H:%M}",
            (review.evidence_digest or "")[:12],
        )
    console.print(table)


# ------------------------------------------------------------------------------------------ seeded month
@audit_app.command(
    "build-month",
    short_help=tr_noop("Build a generated county's October 2026 books in a fresh database (for training)."),
    help=tr_noop(
        "Build October 2026's books of a generated county in a fresh database (--db): import it, "
        "run the example rules, pay through a simulated bank, and carry out what a seeded county's "
        "anomalies.json asks. For trying the anomaly checks and for training, not for real books."
    ),
)
def audit_build_month(
    county: Path = typer.Argument(..., help=tr_noop("a county written by `disburse generate county` (seeded or not)")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
    work: Optional[Path] = typer.Option(
        None, "--work", help=tr_noop("where the rules, rosters and bank files go; default COUNTY/books")
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
                    tr(
                        "{url} already holds {count:,} journal entries: build-month needs a fresh database",
                        url=state.database_url,
                        count=used,
                    )
                )
    finally:
        engine.dispose()
    if not (county / "assets.yaml").exists():
        raise DisburseError(
            tr(
                "{county} is not a generated county (no assets.yaml); `disburse generate county` writes one",
                county=county,
            )
        )
    month = build_month(
        county,
        state.database_url,
        work_dir=work,
        progress=lambda step: error_console.print(f"[dim]… {escape(step)}[/dim]"),
    )
    console.print(
        tr(
            "books of {county} built: {steps} steps, batches {batches}",
            county=escape(str(county)),
            steps=len(month.steps),
            batches=join_list(month.batches),
        )
    )
    console.print(tr("run the checks as of {date}: disburse audit anomalies --today {date}", date=month.checks_on))


@audit_app.command(
    "score", help=tr_noop("Score every check against what a seeded county planted: recall, precision, near-misses.")
)
def audit_score(
    manifest: Path = typer.Argument(..., help=tr_noop("the anomalies.json of a seeded county whose month is in --db")),
    config: Optional[Path] = typer.Option(None, "--config", help=tr_noop("another thresholds file")),
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
        missing = tr("{check} did not find {anomaly}", check=check_id, anomaly=anomaly)
        console.print(f"[yellow]{missing}[/yellow]")
    for result in scores.values():
        for text in result.false_findings:
            unplanted = tr("{check}: not planted: {text}", check=result.check, text=escape(text))
            console.print(f"[yellow]{unplanted}[/yellow]")
