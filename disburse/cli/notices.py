"""`disburse notice ...`: publicly post a run's roster per village (公示), record objections and
dismiss them. cli/app.py wires ``notice_app`` in as the ``notice`` group."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from disburse.cli.common import USER_HELP, books, console
from disburse.foundation.errors import DisburseError
from disburse.foundation.money import format_yuan

notice_app = typer.Typer(
    no_args_is_help=True,
    help="公示 before payment: notice rosters per village, objections and their settlement.",
)


def _day(value: Optional[str], option: str) -> Optional[dt.date]:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise DisburseError(f"{option} {value!r} is not a date of the form YYYY-MM-DD") from None


@notice_app.command("create")
def create(
    run: int = typer.Argument(..., help="the approved or posted allocation run"),
    days: Optional[int] = typer.Option(
        None, "--days", help="days the notice runs (at least 1; default: the rule's notice.days, else 7)"
    ),
    first_day: Optional[str] = typer.Option(None, "--from", help="the notice's first day, YYYY-MM-DD (default today)"),
    out: Path = typer.Option(Path("notices"), "--out", help="the directory the rosters are written to"),
    pdf: bool = typer.Option(False, "--pdf", help="also print each roster as a PDF"),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Record the run's notice per village and write each village's roster (.xlsx and a printable .html)."""
    from disburse.payouts.notices import create_notices
    from disburse.reports.notice_print import write_notices

    with books() as session:
        outcome = create_notices(session, run, user, days=days, first_day=_day(first_day, "--from"))
    written = write_notices(outcome.rosters, out, prepared_by=user, pdf=pdf)
    table = Table("notice", "村", "户数", "合计 (yuan)", "公示期")
    for roster in outcome.rosters:
        table.add_row(
            str(roster.notice_id),
            escape(f"{roster.village_name or ''} {roster.village_code}".strip()),
            f"{len(roster.lines):,}",
            format_yuan(roster.total_fen),
            f"{roster.first_day} to {roster.last_day}",
        )
    console.print(table)
    console.print(f"{len(written)} file(s) written in {escape(str(out))}")
    console.print(escape(outcome.message))


@notice_app.command("object")
def object_command(
    notice: int = typer.Argument(..., help="the notice (see `notice list`)"),
    household: str = typer.Argument(..., help="the household objected to (户编号)"),
    reason: str = typer.Option(..., "--reason", help="what the objection says"),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Record an objection (异议) to one household's line: the run is not paid while it is open."""
    from disburse.payouts.notices import object_to_notice

    with books() as session:
        objection_id = object_to_notice(session, notice, household, reason, user)
    console.print(
        f"objection {objection_id} to notice {notice} (household {escape(household)}) recorded; the run is not "
        "paid until it is dismissed or the run is reversed and its correction noticed"
    )


@notice_app.command("dismiss")
def dismiss(
    objection: int = typer.Argument(..., help="the objection"),
    reason: str = typer.Option(..., "--reason", help="why the objection does not hold"),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Dismiss an objection with a reason (by someone other than the notice's maker)."""
    from disburse.payouts.notices import dismiss_objection

    with books() as session:
        message = dismiss_objection(session, objection, reason, user)
    console.print(escape(message))


@notice_app.command("list")
def list_command(run: Optional[int] = typer.Option(None, "--run", help="only this run's notices")) -> None:
    """Notices with their periods, totals and objections."""
    from disburse.payouts.notices import list_notices

    with books() as session:
        listings = list_notices(session, run)
        rows = [
            (
                listing.notice,
                [(o.id, o.household_id, o.status, o.reason, o.settled_by, o.settle_reason) for o in listing.objections],
            )
            for listing in listings
        ]
    if not rows:
        console.print("no notices" + (f" for run {run}" if run is not None else ""))
        return
    table = Table("notice", "run", "村", "户数", "合计 (yuan)", "公示期", "made by", "objections")
    for notice, objections in rows:
        open_count = sum(1 for objection in objections if objection[2] == "open")
        table.add_row(
            str(notice.id),
            str(notice.run_id),
            escape(f"{notice.village_name or ''} {notice.village_code}".strip()),
            f"{notice.household_count:,}",
            format_yuan(notice.total_fen),
            f"{notice.first_day} to {notice.last_day}",
            escape(notice.created_by),
            f"{len(objections)} ({open_count} open)" if objections else "",
        )
    console.print(table)
    for notice, objections in rows:
        for objection_id, household, status, reason, settled_by, settle_reason in objections:
            settled = f" — {settled_by}: {settle_reason}" if settled_by else ""
            console.print(
                escape(
                    f"objection {objection_id} to notice {notice.id}, household {household}: {status}; "
                    f"{reason}{settled}"
                )
            )
