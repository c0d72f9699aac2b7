"""`disburse allocate` and `disburse runs ...`: parse arguments, call one service function in
allocations.runs, render the result. Wired into cli.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from disburse.cli.common import NOTE_LABEL, books, console
from disburse.foundation.i18n import tr, tr_noop
from disburse.foundation.masking import mask_payee
from disburse.foundation.money import format_yuan

runs_app = typer.Typer(
    no_args_is_help=True,
    help=tr_noop("Allocation runs: list, show, explain, approve, return, post, cancel, reverse, diff."),
)


def _print_summary(summary: dict, notes: list[str] | tuple[str, ...]) -> None:
    from disburse.allocations.names import summary_name

    table = Table(tr("figure"), tr("yuan"), title=tr("summary"))
    for key, value in summary.items():
        if key.endswith("_fen"):
            table.add_row(escape(summary_name(key)), format_yuan(int(value)))
        else:
            table.add_row(escape(summary_name(key)), f"{int(value):,}")
    console.print(table)
    for note in notes:
        console.print(f"{tr(NOTE_LABEL)} {escape(note)}", highlight=False)


ALLOCATE_HELP = tr_noop(
    "Compute an allocation run (status calculated); the same rule, period and inputs give the same run."
)


def allocate(
    rules: Path = typer.Argument(..., help=tr_noop("the rule file (YAML)")),
    period: str = typer.Option(..., "--period", help=tr_noop("the month the run belongs to in the books, YYYY-MM")),
    pool: Optional[str] = typer.Option(
        None, "--pool", help=tr_noop("a cooperative's declared dividend pool in yuan (overrides the rule)")
    ),
    inputs: Optional[Path] = typer.Option(
        None, "--inputs", help=tr_noop("roster, hospital bills or house-repair applications")
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help=tr_noop("compute and show, store nothing")),
    fund: Optional[str] = typer.Option(
        None,
        "--fund",
        help=tr_noop(
            "the budget indicator (指标文号) the run draws on (default: the oldest of its programme with enough "
            "available; none when the programme has no indicator)"
        ),
    ),
    out: Optional[Path] = typer.Option(
        None, "--out", help=tr_noop("write the payee lines, village summary and exclusions (.xlsx or .csv)")
    ),
    unmasked: bool = typer.Option(
        False, "--unmasked", help=tr_noop("write full card and resident ID numbers (recorded in the audit log)")
    ),
    user: str = typer.Option(
        ..., "--user", envvar="DISBURSE_USER", help=tr_noop("who calculates (recorded); or DISBURSE_USER")
    ),
) -> None:
    """Compute an allocation run (status calculated); the same rule, period and inputs give the same run."""
    from disburse.allocations.export import write_run_export
    from disburse.allocations.runs import RUN_STATUS_NAMES, calculate_run

    with books(sign=None if dry_run else "change", command="allocate", user=user) as session:
        outcome = calculate_run(
            session, rules, period, user, pool_yuan=pool, inputs_path=inputs, dry_run=dry_run, fund=fund
        )
    summary = dict(outcome.result.summary)
    if outcome.run_id is None:
        headline = tr("dry run of {rule} for {period}: nothing stored", rule=outcome.rule_name, period=period)
    elif outcome.created:
        headline = tr(
            "run {run} calculated: {rule} for {period}", run=outcome.run_id, rule=outcome.rule_name, period=period
        )
    else:
        headline = tr(
            "run {run} already exists for this rule, period and input ({status}); nothing changed",
            run=outcome.run_id,
            status=RUN_STATUS_NAMES.get(outcome.status, outcome.status),
        )
    console.print(escape(headline))
    if outcome.fund is not None:
        console.print(tr("draws on budget indicator {fund}", fund=escape(outcome.fund)), highlight=False)
    _print_summary(summary, outcome.notes)
    console.print(
        tr(
            "{lines:,} lines, {exclusions:,} exclusions",
            lines=len(outcome.lines),
            exclusions=len(outcome.result.exclusions),
        )
    )
    if out is not None:
        for path in write_run_export(out, outcome, unmasked):
            console.print(tr("written to {path}", path=path))


@runs_app.command("list", help=tr_noop("List the allocation runs."))
def runs_list() -> None:
    """List the allocation runs."""
    from disburse.allocations.runs import RUN_STATUS_NAMES, list_runs

    with books() as session:
        runs = list_runs(session)
    table = Table(
        tr("run"),
        tr("status"),
        tr("period"),
        tr("rule"),
        tr("entity"),
        tr("pool"),
        tr("payable"),
        tr("lines"),
        tr("calculated by"),
        tr("approved by"),
    )
    for run in runs:
        table.add_row(
            str(run.id),
            RUN_STATUS_NAMES.get(run.status, run.status),
            run.period,
            escape(run.rule_name),
            run.paying_entity_code,
            format_yuan(run.pool_fen),
            format_yuan(run.payable_fen),
            f"{run.line_count:,}",
            run.calculated_by,
            run.approved_by or "",
        )
    console.print(table)


@runs_app.command("show", help=tr_noop("Show a run: status, who did what, the summary and notes, the inputs."))
def runs_show(
    run: int = typer.Argument(..., help=tr_noop("run id")),
    out: Optional[Path] = typer.Option(None, "--out", help=tr_noop("write its lines (.xlsx or .csv)")),
) -> None:
    """Show a run: status, who did what, the summary and notes, the inputs."""
    from disburse.allocations.export import LINE_HEADERS, line_rows
    from disburse.allocations.names import component_name, rule_kind_name
    from disburse.allocations.run_review import review_lines, review_state
    from disburse.allocations.runs import RUN_STATUS_NAMES, run_lines, run_notes, run_row

    with books() as session:
        row = run_row(session, run)
        lines = run_lines(session, run)
        state = review_state(session, row)
        review_text = review_lines(state) if state is not None else []
    console.print(
        tr(
            "run {run}: {rule} ({kind}) for {period} in {entity} — {status}",
            run=row.id,
            rule=escape(row.rule_name),
            kind=rule_kind_name(row.rule_kind),
            period=row.period,
            entity=row.paying_entity_code,
            status=RUN_STATUS_NAMES.get(row.status, row.status),
        )
    )
    console.print(_run_history(row))
    for line in review_text:
        console.print(escape(line), highlight=False)
    console.print(tr("rule sha256 {rule}; inputs sha256 {inputs}", rule=row.rule_sha256, inputs=row.inputs_sha256))
    _print_summary(json.loads(row.summary_json), run_notes(row))
    by_component = lines.groupby("component")["amount_fen"].agg(["count", "sum"]).reset_index() if len(lines) else lines
    components = Table(tr("component"), tr("lines"), tr("yuan"))
    for item in by_component.to_dict("records"):
        components.add_row(
            escape(component_name(item["component"])), f"{int(item['count']):,}", format_yuan(int(item["sum"]))
        )
    console.print(components)
    if out is not None:
        from disburse.foundation.workbook import write_table

        write_table(
            out,
            title=f"{row.rule_name} {row.period}",
            headers=LINE_HEADERS,
            rows=line_rows(lines, row.rule_name),
            money_columns=(6,),
        )
        console.print(tr("written to {path}", path=out))


def _run_history(row) -> str:  # type: ignore[no-untyped-def]
    """Who calculated, approved, posted and reversed the run, and when."""
    minute = "%Y-%m-%d %H:%M"
    return (
        tr("calculated by {user} at {at}", user=row.calculated_by, at=f"{row.calculated_at:{minute}}")
        + (tr("; approved by {user}", user=row.approved_by) if row.approved_by else "")
        + (tr("; posted by {user}", user=row.posted_by) if row.posted_by else "")
        + (tr("; supersedes run {run}", run=row.supersedes_run_id) if row.supersedes_run_id else "")
        + (
            tr("; reversed by {user} at {at}", user=row.reversed_by, at=f"{row.reversed_at:{minute}}")
            if row.reversed_at
            else ""
        )
        + (f" ({escape(row.reversal_reason)})" if row.reversal_reason else "")
    )


@runs_app.command("explain", help=tr_noop("Every step from the pool to one household's amount, in words and numbers."))
def runs_explain(
    run: int = typer.Argument(..., help=tr_noop("run id")), household: str = typer.Argument(..., help=tr_noop("户编号"))
) -> None:
    """Every step from the pool to one household's amount, in words and numbers."""
    from disburse.allocations.runs import explain_run

    with books() as session:
        text = explain_run(session, run, household)
    for line in text:
        console.print(escape(line), highlight=False)


@runs_app.command(
    "approve",
    help=tr_noop(
        "Approve a calculated run (a different person from the one who calculated it); a run whose rule has a "
        "review chain is approved level by level: --level names the level."
    ),
    short_help=tr_noop("Approve a calculated run, or one level of its review chain."),
)
def runs_approve(
    run: int = typer.Argument(..., help=tr_noop("run id")),
    user: str = typer.Option(
        ..., "--user", envvar="DISBURSE_USER", help=tr_noop("who approves: not the person who calculated")
    ),
    level: Optional[str] = typer.Option(
        None, "--level", help=tr_noop("the review level acting (the rule's review: levels, in order)")
    ),
    comment: Optional[str] = typer.Option(None, "--comment", help=tr_noop("a comment kept in the review log")),
    date: Optional[str] = typer.Option(
        None,
        "--date",
        help=tr_noop(
            "the day of approval, YYYY-MM-DD (default today): the recipients are checked against the register as of it"
        ),
    ),
) -> None:
    """Approve a calculated run, or one level of its review chain."""
    from disburse.allocations.run_review import approve_at_level
    from disburse.cli.payouts import _date as day_of  # the one --date parser of the payout commands

    with books(sign="change", command="runs approve", user=user) as session:
        outcome = approve_at_level(session, run, user, level, comment, today=day_of(date))
    console.print(escape(outcome.message), highlight=False)


@runs_app.command(
    "return",
    help=tr_noop(
        "Return a calculated run to its maker with a comment (at the level it waits for, when its rule has a "
        "review chain): the run is cancelled, and the corrected run is calculated again."
    ),
    short_help=tr_noop("Return a run to its maker with a comment; the run is cancelled."),
)
def runs_return(
    run: int = typer.Argument(..., help=tr_noop("run id")),
    comment: str = typer.Option(..., "--comment", help=tr_noop("what the maker must change")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=tr_noop("who returns it (recorded)")),
    level: Optional[str] = typer.Option(None, "--level", help=tr_noop("the review level returning it")),
) -> None:
    """Return a run to its maker with a comment; the run is cancelled."""
    from disburse.payouts.approvals import return_run

    with books(sign="change", command="runs return", user=user) as session:
        message = return_run(session, run, user, comment, level=level)
    console.print(escape(message))


@runs_app.command(
    "post",
    help=tr_noop(
        "Post an approved run into the paying entity's books (only the difference when it supersedes a posted run)."
    ),
)
def runs_post(
    run: int = typer.Argument(..., help=tr_noop("run id")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=tr_noop("who posts (recorded)")),
) -> None:
    """Post an approved run into the paying entity's books (only the difference when it supersedes a posted run)."""
    from disburse.payouts.approvals import post_run_and_payables

    with books(sign="post", command="runs post", user=user) as session:
        outcome = post_run_and_payables(session, run, user)
    console.print(outcome.message)


@runs_app.command("cancel", help=tr_noop("Cancel a run that is not posted."))
def runs_cancel(
    run: int = typer.Argument(..., help=tr_noop("run id")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=tr_noop("who cancels (recorded)")),
) -> None:
    """Cancel a run that is not posted."""
    from disburse.allocations.runs import cancel_run

    with books(sign="change", command="runs cancel", user=user) as session:
        message = cancel_run(session, run, user)
    console.print(message)


@runs_app.command(
    "reverse",
    help=tr_noop(
        "Reverse a posted run: one reversing entry set, its unpaid payables withdrawn, its settlement rows freed "
        "for a corrected run. Refused when any of its payables is paid or in a batch."
    ),
    # The list of commands shows this; the Chinese of the whole help has no spaces to cut it at.
    short_help=tr_noop("Reverse a posted run and withdraw its unpaid payables."),
)
def runs_reverse(
    run: int = typer.Argument(..., help=tr_noop("run id of a posted run")),
    reason: Optional[str] = typer.Option(None, "--reason", help=tr_noop("why the run is reversed (recorded)")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=tr_noop("who reverses (recorded)")),
) -> None:
    """Reverse a posted run: one reversing entry set, its unpaid payables withdrawn, its settlement
    rows freed for a corrected run. Refused when any of its payables is paid or in a batch."""
    from disburse.allocations.reversal import reverse_run
    from disburse.payouts.payables import withdraw_run_payables

    with books(sign="post", command="runs reverse", user=user) as session:
        # Payables first: a run with money in a batch or paid is refused before anything is written.
        withdrawn = withdraw_run_payables(session, run)
        outcome = reverse_run(session, run, user, reason=reason, withdrawn=withdrawn.as_record())
    console.print(escape(outcome.message))
    if withdrawn.count:
        console.print(
            tr(
                "{count:,} unpaid payable(s) totalling {total} yuan withdrawn",
                count=withdrawn.count,
                total=format_yuan(withdrawn.total_fen),
            )
            + (
                tr(
                    " ({count:,} had a cancelled or failed payment, kept in the run's record)",
                    count=len(withdrawn.history),
                )
                if withdrawn.history
                else ""
            )
        )


@runs_app.command("diff", help=tr_noop("Per household and component: the old amount, the new one, and the difference."))
def runs_diff(
    old: int = typer.Argument(..., help=tr_noop("the earlier run")),
    new: int = typer.Argument(..., help=tr_noop("the later run")),
    out: Optional[Path] = typer.Option(None, "--out", help=tr_noop("write the differences (.xlsx or .csv)")),
) -> None:
    """Per household and component: the old amount, the new one, and the difference."""
    from disburse.allocations.names import component_name, in_chinese
    from disburse.allocations.runs import run_difference
    from disburse.foundation.frames import blank_text

    with books() as session:
        difference = run_difference(session, old, new)
    # "new amount", not "new": the catalog's "new" is an audit finding not yet reviewed (新发现).
    table = Table(tr("payee"), tr("household"), tr("component"), tr("old amount"), tr("new amount"), tr("difference"))
    for row in difference.to_dict("records"):
        table.add_row(
            mask_payee(row["payee_id"]),
            blank_text(row["household_id"]),
            escape(component_name(row["component"])),
            format_yuan(int(row["old_fen"])),
            format_yuan(int(row["new_fen"])),
            format_yuan(int(row["difference_fen"])),
        )
    console.print(table)
    total = int(difference["difference_fen"].sum()) if len(difference) else 0
    console.print(
        tr("{count:,} changed line(s); net difference {total} yuan", count=len(difference), total=format_yuan(total))
    )
    if out is not None:
        from disburse.foundation.workbook import write_table

        write_table(
            out,
            title=tr("run {old} → run {new}", old=old, new=new),
            headers=("收款人", "户编号", "项目", "原金额", "新金额", "差额"),
            rows=[
                [
                    mask_payee(r["payee_id"]),
                    blank_text(r["household_id"]),
                    in_chinese(component_name, r["component"]),
                    int(r["old_fen"]),
                    int(r["new_fen"]),
                    int(r["difference_fen"]),
                ]
                for r in difference.to_dict("records")
            ],
            money_columns=(3, 4, 5),
        )
        console.print(tr("written to {path}", path=out))
