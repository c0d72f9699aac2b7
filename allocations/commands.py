"""`disburse allocate` and `disburse runs ...`: parse arguments, call one service function in
allocations.runs, render the result. Wired into cli.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from ledger_core.money import format_yuan
from reports.export import Sheet, write_workbook
from ledger_core.masking import mask_identifier, mask_payee

runs_app = typer.Typer(no_args_is_help=True, help="Allocation runs: list, show, explain, approve, post, cancel, diff.")

LINE_HEADERS = ("户编号", "户主姓名", "村", "规则", "基数", "份额", "金额(元)", "收款账号", "说明")


def _cli():  # type: ignore[no-untyped-def]
    import cli

    return cli


def _blank(value: object) -> str:
    """Text of a cell, with pandas' missing markers (None, NaN, NA) as an empty cell."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def line_rows(lines, rule_name: str, unmasked: bool = False) -> list[list[object]]:  # type: ignore[no-untyped-def]
    """Rows of the per-payee sheet: who, where, under which rule, on what basis, how much, to which card."""
    rows = []
    for raw in lines.to_dict("records"):
        row = {key: (value if key == "amount_fen" else _blank(value)) for key, value in raw.items()}
        share = ""
        if row.get("share_numerator") and row.get("share_denominator"):
            try:
                share = f"{int(row['share_numerator']):,}/{int(row['share_denominator']):,}"
            except (TypeError, ValueError):
                share = ""
        who = row.get("household_id") or mask_payee(row["payee_id"], unmasked=unmasked)
        explanation = "；".join(part for part in (row.get("component", ""), row.get("note") or "", row.get("source_reference") or "") if part)
        rows.append([
            who, row.get("head_name") or row.get("account_name") or "", row.get("village_code") or "", rule_name,
            row.get("basis") or "", share, int(row["amount_fen"]), mask_identifier(row.get("account_no") or None, unmasked=unmasked) or "", explanation,
        ])
    return rows


def write_run_export(out: Path, outcome, unmasked: bool = False) -> list[Path]:  # type: ignore[no-untyped-def]
    from allocations.runs import village_summary

    summary = village_summary(outcome.lines)
    exclusions = outcome.result.exclusions
    sheets = [
        Sheet("明细", f"{outcome.rule_name} {outcome.period} 分配明细", LINE_HEADERS, line_rows(outcome.lines, outcome.rule_name, unmasked), (6,)),
        Sheet("村汇总", f"{outcome.rule_name} {outcome.period} 分村汇总", ("村代码", "项目", "人(户)数", "金额(元)"),
              [[row["village_code"], row["component"], int(row["payees"]), int(row["amount_fen"])] for row in summary.to_dict("records")], (3,)),
        Sheet("未纳入", f"{outcome.rule_name} {outcome.period} 未纳入名单", ("户编号", "证件号码", "原因"),
              [[_blank(row["household_id"]), _blank(mask_identifier(_blank(row["id_number"]) or None, unmasked=unmasked)), _blank(row["reason"])] for row in exclusions.to_dict("records")]),
    ]
    return write_workbook(out, sheets)


def allocate(
    rules: Path = typer.Argument(..., help="the rule file (YAML)"),
    period: str = typer.Option(..., "--period", help="the month the run belongs to in the books, YYYY-MM"),
    pool: Optional[str] = typer.Option(None, "--pool", help="a cooperative's declared dividend pool in yuan (overrides the rule)"),
    inputs: Optional[Path] = typer.Option(None, "--inputs", help="roster, hospital bills or house-repair applications"),
    dry_run: bool = typer.Option(False, "--dry-run", help="compute and show, store nothing"),
    out: Optional[Path] = typer.Option(None, "--out", help="write the payee lines, village summary and exclusions (.xlsx or .csv)"),
    unmasked: bool = typer.Option(False, "--unmasked", help="write full card and resident ID numbers (recorded in the audit log)"),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help="who calculates (recorded); or DISBURSE_USER"),
) -> None:
    """Compute an allocation run (status calculated); the same rule, period and inputs give the same run."""
    from allocations.runs import calculate_run

    cli = _cli()
    with cli.books() as session:
        outcome = calculate_run(session, rules, period, user, pool_yuan=pool, inputs_path=inputs, dry_run=dry_run)
    summary = dict(outcome.result.summary)
    if outcome.run_id is None:
        headline = f"dry run of {outcome.rule_name} for {period}: nothing stored"
    elif outcome.created:
        headline = f"run {outcome.run_id} calculated: {outcome.rule_name} for {period}"
    else:
        headline = f"run {outcome.run_id} already exists for this rule, period and input ({outcome.status}); nothing changed"
    cli.console.print(escape(headline))
    table = Table("figure", "yuan", title="summary")
    for key, value in summary.items():
        if key.endswith("_fen"):
            table.add_row(key.removesuffix("_fen"), format_yuan(int(value)))
        else:
            table.add_row(key, f"{int(value):,}")
    cli.console.print(table)
    cli.console.print(f"{len(outcome.lines):,} lines, {len(outcome.result.exclusions):,} exclusions")
    if out is not None:
        for path in write_run_export(out, outcome, unmasked):
            cli.console.print(f"written to {path}")


@runs_app.command("list")
def runs_list() -> None:
    """List the allocation runs."""
    from allocations.runs import list_runs

    cli = _cli()
    with cli.books() as session:
        runs = list_runs(session)
    table = Table("run", "status", "period", "rule", "entity", "pool", "payable", "lines", "calculated by", "approved by")
    for run in runs:
        table.add_row(str(run.id), run.status, run.period, escape(run.rule_name), run.paying_entity_code, format_yuan(run.pool_fen),
                      format_yuan(run.payable_fen), f"{run.line_count:,}", run.calculated_by, run.approved_by or "")
    cli.console.print(table)


@runs_app.command("show")
def runs_show(
    run: int = typer.Argument(..., help="run id"),
    out: Optional[Path] = typer.Option(None, "--out", help="write its lines (.xlsx or .csv)"),
) -> None:
    """Show a run: status, who did what, the summary, the inputs."""
    from allocations.runs import run_lines, run_row

    cli = _cli()
    with cli.books() as session:
        row = run_row(session, run)
        lines = run_lines(session, run)
    cli.console.print(f"run {row.id}: {escape(row.rule_name)} ({row.rule_kind}) for {row.period} in {row.paying_entity_code} — {row.status}")
    cli.console.print(f"calculated by {row.calculated_by} at {row.calculated_at:%Y-%m-%d %H:%M}"
                      + (f"; approved by {row.approved_by}" if row.approved_by else "")
                      + (f"; posted by {row.posted_by}" if row.posted_by else "")
                      + (f"; supersedes run {row.supersedes_run_id}" if row.supersedes_run_id else ""))
    cli.console.print(f"rule sha256 {row.rule_sha256}; inputs sha256 {row.inputs_sha256}")
    table = Table("figure", "value")
    for key, value in json.loads(row.summary_json).items():
        table.add_row(key, format_yuan(int(value)) if key.endswith("_fen") else f"{int(value):,}")
    cli.console.print(table)
    by_component = lines.groupby("component")["amount_fen"].agg(["count", "sum"]).reset_index() if len(lines) else lines
    components = Table("component", "lines", "yuan")
    for item in by_component.to_dict("records"):
        components.add_row(item["component"], f"{int(item['count']):,}", format_yuan(int(item["sum"])))
    cli.console.print(components)
    if out is not None:
        from reports.export import write_table

        write_table(out, title=f"{row.rule_name} {row.period}", headers=LINE_HEADERS, rows=line_rows(lines, row.rule_name), money_columns=(6,))
        cli.console.print(f"written to {out}")


@runs_app.command("explain")
def runs_explain(run: int = typer.Argument(..., help="run id"), household: str = typer.Argument(..., help="户编号")) -> None:
    """Every step from the pool to one household's amount, in words and numbers."""
    from allocations.runs import explain_run

    cli = _cli()
    with cli.books() as session:
        text = explain_run(session, run, household)
    for line in text:
        cli.console.print(escape(line), highlight=False)


@runs_app.command("approve")
def runs_approve(
    run: int = typer.Argument(..., help="run id"),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help="who approves: not the person who calculated"),
) -> None:
    """Approve a calculated run (a different person from the one who calculated it)."""
    from allocations.runs import approve_run

    cli = _cli()
    with cli.books() as session:
        message = approve_run(session, run, user)
    cli.console.print(message)


@runs_app.command("post")
def runs_post(
    run: int = typer.Argument(..., help="run id"),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help="who posts (recorded)"),
) -> None:
    """Post an approved run into the paying entity's books (only the difference when it supersedes a posted run)."""
    from allocations.runs import post_run

    cli = _cli()
    with cli.books() as session:
        outcome = post_run(session, run, user)
    cli.console.print(outcome.message)


@runs_app.command("cancel")
def runs_cancel(
    run: int = typer.Argument(..., help="run id"),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help="who cancels (recorded)"),
) -> None:
    """Cancel a run that is not posted."""
    from allocations.runs import cancel_run

    cli = _cli()
    with cli.books() as session:
        message = cancel_run(session, run, user)
    cli.console.print(message)


@runs_app.command("diff")
def runs_diff(
    old: int = typer.Argument(..., help="the earlier run"),
    new: int = typer.Argument(..., help="the later run"),
    out: Optional[Path] = typer.Option(None, "--out", help="write the differences (.xlsx or .csv)"),
) -> None:
    """Per household and component: the old amount, the new one, and the difference."""
    from allocations.runs import run_difference

    cli = _cli()
    with cli.books() as session:
        difference = run_difference(session, old, new)
    table = Table("payee", "household", "component", "old", "new", "difference")
    for row in difference.to_dict("records"):
        table.add_row(mask_payee(row["payee_id"]), _blank(row["household_id"]), row["component"], format_yuan(int(row["old_fen"])),
                      format_yuan(int(row["new_fen"])), format_yuan(int(row["difference_fen"])))
    cli.console.print(table)
    total = int(difference["difference_fen"].sum()) if len(difference) else 0
    cli.console.print(f"{len(difference):,} changed line(s); net difference {format_yuan(total)} yuan")
    if out is not None:
        from reports.export import write_table

        write_table(out, title=f"run {old} → run {new}", headers=("收款人", "户编号", "项目", "原金额", "新金额", "差额"),
                    rows=[[mask_payee(r["payee_id"]), _blank(r["household_id"]), r["component"], int(r["old_fen"]), int(r["new_fen"]), int(r["difference_fen"])]
                          for r in difference.to_dict("records")], money_columns=(3, 4, 5))
        cli.console.print(f"written to {out}")
