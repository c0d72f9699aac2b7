"""Typer sub-apps of the registry commands; ``cli.py`` adds each with one line:

    app.add_typer(import_app, name="import")
    app.add_typer(assets_app, name="assets")
    app.add_typer(registry_app, name="registry")
    app.add_typer(generate_app, name="generate")

Each command parses its arguments, calls one service function of ``registry.service`` inside
one transaction (``books()``, committed once) and renders the result. Refusals raise
DisburseError or ImportRefused, which ``cli.DisburseGroup`` turns into exit code 1. ``cli`` is
imported inside the functions, because ``cli`` imports this module.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from disburse.registry.model import ImportOutcome

from disburse.cli.common import USER_HELP, books, console, error_console, show_warnings
from disburse.foundation.errors import DisburseError, ImportProblem, ImportRefused, problems_summary
from disburse.foundation.i18n import tr, tr_noop
from disburse.foundation.masking import mask_details, mask_identifier
from disburse.foundation.workbook import write_problems
from disburse.registry.model import shown_count

DATE_FORMATS = ["%Y-%m-%d"]
# Warnings listed on screen; the full list goes to --errors FILE.
PROBLEMS_SHOWN_MAX = 20

import_app = typer.Typer(no_args_is_help=True, help=tr_noop("Import registers, share registers and PV settlements."))
assets_app = typer.Typer(no_args_is_help=True, help=tr_noop("Declared assets: PV stations and cooperatives."))
registry_app = typer.Typer(no_args_is_help=True, help=tr_noop("The household register and its history."))
generate_app = typer.Typer(no_args_is_help=True, help=tr_noop("Synthetic data for demos, tests and benchmarks."))

DRY_RUN_HELP = tr_noop("check and count, write nothing")
ERRORS_HELP = tr_noop("write every problem to FILE.xlsx or FILE.csv")
BANK_FILE_OUT_HELP = tr_noop("FILE.csv or FILE.xlsx")
PROFILES_HELP = tr_noop("a directory of extra bank profiles (YAML)")
VERSION_COLUMNS = (
    tr_noop("from"),
    tr_noop("to"),
    tr_noop("status"),
    tr_noop("type"),
    tr_noop("head"),
    tr_noop("card"),
    tr_noop("members"),
)


def _day(value: Optional[dt.datetime]) -> Optional[dt.date]:
    return value.date() if value is not None else None


@contextlib.contextmanager
def _stages(stage_count: int) -> Iterator[Callable[[str], None]]:
    """A progress bar over the service's stages (reading, validating, writing …), on a terminal."""

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task(tr("starting"), total=stage_count)
        started = [False]

        def advance(stage: str) -> None:
            if started[0]:
                progress.advance(task)
            started[0] = True
            progress.update(task, description=stage)

        yield advance
        progress.update(task, completed=stage_count)


def _run_import(
    call: Callable[[Session, Callable[[str], None]], ImportOutcome],
    errors: Optional[Path],
    stage_count: int,
    signed: tuple[str, str, str] | None = None,
) -> ImportOutcome:
    """Run one import in one transaction; write the problem report to ``errors`` (also for a
    refused file, before the refusal propagates) and render the outcome. ``signed`` is the
    checkpoint (trigger, command, user) the import appends when it writes (not on a dry run)."""
    sign, command, user = signed or (None, "", "")
    try:
        with _stages(stage_count) as progress, books(sign, command, user) as session:
            outcome = call(session, progress)
    except ImportRefused as refused:
        if errors is not None:
            write_problems(refused.problems, errors)
            error_console.print(tr("every problem is listed in {file}", file=escape(str(errors))))
        raise
    if errors is not None:
        write_problems(outcome.problems, errors)
    _render_outcome(outcome, errors)
    return outcome


def _render_outcome(outcome: ImportOutcome, errors: Optional[Path]) -> None:
    show_warnings(list(outcome.warnings))
    if outcome.problems:
        warned = tr("{count} warning(s):", count=len(outcome.problems))
        error_console.print(f"[yellow]{warned}[/yellow]")
        error_console.print(escape(problems_summary(outcome.problems, limit=PROBLEMS_SHOWN_MAX)), highlight=False)
        if errors is not None:
            error_console.print(tr("every warning is listed in {file}", file=escape(str(errors))))
    console.print(escape(outcome.message), highlight=False)
    if outcome.counts and (outcome.changed or outcome.dry_run):
        table = Table("", tr("count"))
        for name, value in outcome.counts.items():
            table.add_row(*shown_count(name, value))
        console.print(table)


# ------------------------------------------------------------------------------------ import
@import_app.command("registry", help=tr_noop("Import a household register snapshot; its changes become dated events."))
def import_registry(
    file: Path = typer.Argument(
        ..., help=tr_noop("建档立卡 register export (.csv, .xlsx or .xls), one row per person")
    ),
    as_of: Optional[dt.datetime] = typer.Option(
        None, "--as-of", formats=DATE_FORMATS, help=tr_noop("the date of the snapshot (default today)")
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help=DRY_RUN_HELP),
    errors: Optional[Path] = typer.Option(None, "--errors", help=ERRORS_HELP),
    backfill: bool = typer.Option(False, "--backfill", help=tr_noop("allow a snapshot older than the newest one")),
    replace: bool = typer.Option(
        False, "--replace", help=tr_noop("a corrected file for the newest snapshot's date: it supersedes that import")
    ),
    scope: Optional[str] = typer.Option(
        None, "--scope", help=tr_noop("乡镇:NAME or 行政村:NAME: the file covers only that township or village")
    ),
    confirm_exits: Optional[int] = typer.Option(
        None,
        "--confirm-exits",
        help=tr_noop("the number of households this snapshot removes, when that many really left"),
    ),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Import a household register snapshot; its changes become dated events."""
    from disburse.registry.service import RegisterScope, import_register

    _run_import(
        lambda session, progress: import_register(
            session,
            file,
            user=user,
            as_of=_day(as_of),
            dry_run=dry_run,
            backfill=backfill,
            replace=replace,
            scope=RegisterScope.parse(scope) if scope else None,
            confirm_exits=confirm_exits,
            progress=progress,
        ),
        errors,
        3,
        None if dry_run else ("change", "import registry", user),
    )


@import_app.command(
    "shares",
    help=tr_noop("Import a share register: who holds how many units of which asset, from when to when."),
)
def import_shares_command(
    file: Path = typer.Argument(..., help=tr_noop("收益份额登记 share register (.csv, .xlsx or .xls)")),
    as_of: Optional[dt.datetime] = typer.Option(
        None,
        "--as-of",
        formats=DATE_FORMATS,
        help=tr_noop("the share register is in force from this date (default today)"),
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help=DRY_RUN_HELP),
    errors: Optional[Path] = typer.Option(None, "--errors", help=ERRORS_HELP),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Import a share register: who holds how many units of which asset, from when to when."""
    from disburse.registry.service import import_shares

    _run_import(
        lambda session, progress: import_shares(
            session, file, user=user, as_of=_day(as_of), dry_run=dry_run, progress=progress
        ),
        errors,
        2,
        None if dry_run else ("change", "import shares", user),
    )


@import_app.command(
    "pv-settlement",
    short_help=tr_noop("Import PV settlements: post the receivables and the money received."),
    help=tr_noop(
        "Import PV settlements: post each receivable (Dr 112 应收款 / Cr 501 经营收入) and, for a row "
        "with a 到账日期, the money received (Dr 102 银行存款 / Cr 112)."
    ),
)
def import_pv_settlement(
    file: Path = typer.Argument(..., help=tr_noop("电费结算单 grid settlement file (.csv, .xlsx or .xls)")),
    dry_run: bool = typer.Option(False, "--dry-run", help=tr_noop("check and count, post nothing")),
    errors: Optional[Path] = typer.Option(None, "--errors", help=ERRORS_HELP),
    bank_account: Optional[str] = typer.Option(
        None,
        "--bank-account",
        help=tr_noop("the owner's bank account the money reached (default: its first registered one)"),
    ),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Import PV settlements: post each receivable (Dr 112 应收款 / Cr 501 经营收入) and, for a row
    with a 到账日期, the money received (Dr 102 银行存款 / Cr 112)."""
    from disburse.registry.service import import_settlements

    _run_import(
        lambda session, progress: import_settlements(
            session, file, user=user, dry_run=dry_run, progress=progress, bank_account=bank_account
        ),
        errors,
        3,
        None if dry_run else ("post", "import pv-settlement", user),
    )


# ------------------------------------------------------------------------------------ assets
@assets_app.command(
    "load", help=tr_noop("Declare PV stations and cooperatives; loading the same file again changes nothing.")
)
def assets_load(
    file: Path = typer.Argument(..., help=tr_noop("assets.yaml: stations and cooperatives")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Declare PV stations and cooperatives; loading the same file again changes nothing."""
    from disburse.registry.service import load_assets

    try:
        with books(sign="change", command="assets load", user=user) as session:
            outcome = load_assets(session, file, user=user)
    except ImportRefused as refused:
        for problem in refused.problems:
            if problem.severity == "error":
                error_console.print(
                    f"[red]{escape(problem.column or file.name)}:[/red] {escape(problem.reason)}"
                    + (f" ({escape(problem.value)})" if problem.value else "")
                )
        raise
    _render_outcome(outcome, None)


@assets_app.command("list", help=tr_noop("List the declared assets."))
def assets_list() -> None:
    """List the declared assets."""
    from disburse.foundation.money import format_yuan
    from disburse.registry.queries import assets

    with books() as session:
        declared = assets(session)
    table = Table(
        "项目编号", tr("kind"), tr("name"), tr("owner"), tr("capacity kW / shares"), tr("principal"), tr("villages")
    )
    for item in declared:
        size = (
            f"{item.capacity_w / 1000:g}" if item.capacity_w is not None else f"{(item.share_count_e4 or 0) / 10_000:g}"
        )
        table.add_row(
            item.asset_id,
            item.kind,
            item.name,
            item.owner_entity,
            size,
            format_yuan(item.principal_fen) if item.principal_fen is not None else "",
            str(len(item.village_codes)),
        )
    console.print(table)


# ------------------------------------------------------------------------------------ registry
@registry_app.command("show", help=tr_noop("One household as of a date, its members, and its whole history."))
def registry_show(
    household: str = typer.Argument(..., help=tr_noop("户编号")),
    as_of: Optional[dt.datetime] = typer.Option(None, "--as-of", formats=DATE_FORMATS, help=tr_noop("default today")),
) -> None:
    """One household as of a date, its members, and its whole history."""
    from disburse.registry.service import household_report

    on = _day(as_of) or dt.date.today()
    with books() as session:
        row, members, history = household_report(session, household, on)
    if row is None:
        console.print(
            tr("household {household} is not in the register as of {date}", household=household, date=on.isoformat())
        )
    else:
        title = tr("户编号 {household} as of {date}", household=household, date=on.isoformat())
        table = Table(tr("field"), tr("value"), title=title)
        for name, value in row.items():
            shown = (
                mask_identifier(str(value)) if value is not None and name in ("account_no", "head_id_number") else value
            )
            table.add_row(name, "" if shown is None else str(shown))
        console.print(table)
        people = Table("证件号码", "姓名", "与户主关系", "性别", "出生日期", "在校生状况", "健康状况", "死亡日期")
        for member in members:
            people.add_row(
                *(
                    ""
                    if member[name] is None
                    else str(mask_identifier(str(member[name])) if name == "id_number" else member[name])
                    for name in (
                        "id_number",
                        "name",
                        "relation",
                        "sex",
                        "birth_date",
                        "school_stage",
                        "health",
                        "died_on",
                    )
                )
            )
        console.print(people)
    versions = Table(*(tr(name) for name in VERSION_COLUMNS), title=tr("versions"))
    for version in history.versions:
        values = version.values
        versions.add_row(
            version.valid_from.isoformat(),
            version.valid_to.isoformat() if version.valid_to else "",
            str(values["poverty_status"]),
            str(values["household_type"]),
            str(values["head_name"]),
            f"{values['bank_name']} {mask_identifier(values['account_no']) or ''}",
            str(len(version.members)),
        )
    console.print(versions)
    _print_events(
        console,
        [
            (event.effective_on, event.kind, event.household_id, event.id_number, event.details, event.snapshot_as_of)
            for event in history.events
        ],
        tr("events"),
    )


@registry_app.command(
    "changes",
    help=tr_noop(
        "Register events (new households, exits, 返贫, deaths, moves, splits, card changes …) "
        "effective on or after a date."
    ),
)
def registry_changes(
    since: dt.datetime = typer.Option(
        ..., "--since", formats=DATE_FORMATS, help=tr_noop("events effective on or after")
    ),
) -> None:
    """Register events (new households, exits, 返贫, deaths, moves, splits, card changes …)
    effective on or after a date."""
    from disburse.registry.service import register_changes

    with books() as session:
        frame = register_changes(session, since.date())
    if len(frame) == 0:
        console.print(tr("no register changes since {date}", date=since.date().isoformat()))
        return
    _print_events(
        console,
        [
            (row.effective_on, row.kind, row.household_id, row.id_number, json.loads(row.details), row.snapshot_as_of)
            for row in frame.itertuples(index=False)
        ],
        tr("{count} change(s) since {date}", count=len(frame), date=since.date().isoformat()),
    )


def _print_events(console, events: list[tuple], title: str) -> None:  # type: ignore[no-untyped-def, type-arg]
    table = Table(
        tr("effective"), tr("kind"), "户编号", "证件号码", tr("details"), tr("learnt in snapshot"), title=title
    )
    for effective_on, kind, household_id, id_number, details, snapshot_as_of in events:
        text = ", ".join(f"{key}={value}" for key, value in mask_details(details).items())
        table.add_row(
            effective_on.isoformat(),
            kind,
            household_id,
            mask_identifier(id_number) or "",
            escape(text),
            snapshot_as_of.isoformat(),
        )
    console.print(table)


# ------------------------------------------------------------------------------------ generate
@generate_app.command(
    "county",
    help=tr_noop("Write a synthetic county: register snapshots, assets, shares, settlements, subsidy sheets."),
)
def generate_county_command(
    households: int = typer.Option(..., "--households", help=tr_noop("households in the first snapshot")),
    seed: int = typer.Option(..., "--seed", help=tr_noop("the same seed gives the same files")),
    out: Path = typer.Option(..., "--out", help=tr_noop("directory to write into")),
    messy: bool = typer.Option(False, "--messy", help=tr_noop("GBK CSV and .xlsx with preambles and padded cells")),
    seed_anomalies: Optional[Path] = typer.Option(
        None,
        "--seed-anomalies",
        help=tr_noop(
            "plant the anomalies and near-misses this plan turns on (YAML; see docs/audit-checks.md) and write "
            "anomalies.json; `disburse audit build-month OUT` then builds the month's books"
        ),
    ),
) -> None:
    """Write a synthetic county: register snapshots, assets, shares, settlements, subsidy sheets."""
    from disburse.dev.generator import generate_county

    if seed_anomalies is not None and messy:
        raise DisburseError(tr("--seed-anomalies plants into the clean files: leave out --messy"))
    try:
        county = generate_county(out, households, seed, messy)
        if seed_anomalies is not None:
            from disburse.dev.generator.seeding import seed_county

            manifest = seed_county(out, seed, seed_anomalies)
    except (TypeError, ValueError) as error:  # the generator's refusal of its arguments
        raise DisburseError(str(error)) from None
    console.print(
        tr(
            "wrote {files} files to {out}: {households:,} households, {people:,} people, {villages} villages, "
            "{stations} stations, {cooperatives} cooperatives, {events} events",
            files=len(county.paths()),
            out=escape(str(out)),
            households=county.households,
            people=county.people,
            villages=county.villages,
            stations=county.stations,
            cooperatives=county.cooperatives,
            events=county.events,
        )
    )
    for path in county.paths():
        console.print(f"  {escape(str(path))}", highlight=False)
    if seed_anomalies is not None:
        planted = json.loads(manifest.read_text(encoding="utf-8"))
        console.print(
            tr(
                "planted {anomalies} anomalies and {near_misses} near-misses: {manifest}",
                anomalies=len(planted["anomalies"]),
                near_misses=len(planted["near_misses"]),
                manifest=escape(str(manifest)),
            ),
            highlight=False,
        )


# Bank files for test and training databases (layouts: docs/bank-files.md).
@generate_app.command(
    "bank-return",
    help=tr_noop("Write the bank's return file (代发回盘) for an exported batch, in the bank's own layout."),
)
def generate_bank_return_command(
    batch: str = typer.Argument(..., help=tr_noop("the exported batch, e.g. BATCH-202610-0001")),
    bank: str = typer.Option(
        ..., "--bank", help=tr_noop("bank profile whose return layout to write (e.g. ccb, icbc, generic)")
    ),
    fail: int = typer.Option(0, "--fail", help=tr_noop("how many payments the bank fails (户名不符, 账户已销户 …)")),
    seed: int = typer.Option(1, "--seed", help=tr_noop("the same seed fails the same payments")),
    out: Path = typer.Option(..., "--out", help=BANK_FILE_OUT_HELP),
    profiles: Optional[Path] = typer.Option(None, "--profiles", help=PROFILES_HELP),
) -> None:
    """Write the bank's return file (代发回盘) for an exported batch, in the bank's own layout."""
    from disburse.dev.bankfiles import write_bank_return

    with books() as session:
        outcome = write_bank_return(session, batch, bank, out, failures=fail, seed=seed, profiles_directory=profiles)
    console.print(escape(outcome.message), soft_wrap=True)
    for note in outcome.notes:
        console.print("  " + tr("failed: {note}", note=escape(note)), highlight=False)


@generate_app.command(
    "bank-statement", help=tr_noop("Write the bank's statement of an account for a period, consistent with the books.")
)
def generate_bank_statement_command(
    account: str = typer.Option(
        ..., "--account", help=tr_noop("the bank account: its number or its 102 sub-account code")
    ),
    period: str = typer.Option(..., "--period", help=tr_noop("YYYY-MM")),
    bank: Optional[str] = typer.Option(
        None, "--bank", help=tr_noop("bank profile whose statement layout to write; default: the account's bank's")
    ),
    batch_lines: str = typer.Option(
        "control", "--batch-lines", help=tr_noop("a batch as: control (debit all, refund failures), total, payee")
    ),
    late: bool = typer.Option(False, "--late", help=tr_noop("the books' last movement reaches the bank next period")),
    seed: int = typer.Option(1, "--seed", help=tr_noop("the same seed gives the same transaction numbers")),
    out: Path = typer.Option(..., "--out", help=BANK_FILE_OUT_HELP),
    profiles: Optional[Path] = typer.Option(None, "--profiles", help=PROFILES_HELP),
) -> None:
    """Write the bank's statement of an account for a period, consistent with the books."""
    from disburse.dev.bankfiles import write_bank_statement

    with books() as session:
        outcome = write_bank_statement(
            session,
            account,
            period,
            out,
            profile_name=bank,
            batch_lines=batch_lines,
            late=late,
            seed=seed,
            profiles_directory=profiles,
        )
    console.print(escape(outcome.message), soft_wrap=True)
    for note in outcome.notes:
        console.print(f"  {escape(note)}", highlight=False)


__all__ = ["import_app", "assets_app", "registry_app", "generate_app", "ImportProblem"]
