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
from disburse.foundation.i18n import tr, tr_noop
from disburse.foundation.money import format_yuan

notice_app = typer.Typer(
    no_args_is_help=True,
    help=tr_noop("公示 before payment: notice rosters per village, objections and their settlement."),
)


def _day(value: Optional[str], option: str) -> Optional[dt.date]:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise DisburseError(
            tr("{option} {value!r} is not a date of the form YYYY-MM-DD", option=option, value=value)
        ) from None


@notice_app.command(
    "create",
    help=tr_noop("Record the run's notice per village and write each village's roster (.xlsx and a printable .html)."),
)
def create(
    run: int = typer.Argument(..., help=tr_noop("the approved or posted allocation run")),
    days: Optional[int] = typer.Option(
        None, "--days", help=tr_noop("days the notice runs (at least 1; default: the rule's notice.days, else 7)")
    ),
    first_day: Optional[str] = typer.Option(
        None, "--from", help=tr_noop("the notice's first day, YYYY-MM-DD (default today)")
    ),
    out: Path = typer.Option(Path("notices"), "--out", help=tr_noop("the directory the rosters are written to")),
    pdf: bool = typer.Option(False, "--pdf", help=tr_noop("also print each roster as a PDF")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Record the run's notice per village and write each village's roster (.xlsx and a printable .html)."""
    from disburse.payouts.notices import create_notices
    from disburse.reports.notice_print import write_notices

    with books() as session:
        outcome = create_notices(session, run, user, days=days, first_day=_day(first_day, "--from"))
    written = write_notices(outcome.rosters, out, prepared_by=user, pdf=pdf)
    table = Table(tr("notice"), "村", "户数", tr("合计 (yuan)"), "公示期")
    for roster in outcome.rosters:
        table.add_row(
            str(roster.notice_id),
            escape(f"{roster.village_name or ''} {roster.village_code}".strip()),
            f"{len(roster.lines):,}",
            format_yuan(roster.total_fen),
            tr("{first} to {last}", first=roster.first_day, last=roster.last_day),
        )
    console.print(table)
    console.print(tr("{count} file(s) written in {directory}", count=len(written), directory=escape(str(out))))
    console.print(escape(outcome.message))


@notice_app.command(
    "object",
    help=tr_noop("Record an objection (异议) to one household's line: the run is not paid while it is open."),
)
def object_command(
    notice: int = typer.Argument(..., help=tr_noop("the notice (see `notice list`)")),
    household: str = typer.Argument(..., help=tr_noop("the household objected to (户编号)")),
    reason: str = typer.Option(..., "--reason", help=tr_noop("what the objection says")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Record an objection (异议) to one household's line: the run is not paid while it is open."""
    from disburse.payouts.notices import object_to_notice

    with books() as session:
        objection_id = object_to_notice(session, notice, household, reason, user)
    console.print(
        tr(
            "objection {objection} to notice {notice} (household {household}) recorded; the run is not paid until "
            "it is dismissed or the run is reversed and its correction noticed",
            objection=objection_id,
            notice=notice,
            household=escape(household),
        )
    )


@notice_app.command(
    "dismiss", help=tr_noop("Dismiss an objection with a reason (by someone other than the notice's maker).")
)
def dismiss(
    objection: int = typer.Argument(..., help=tr_noop("the objection")),
    reason: str = typer.Option(..., "--reason", help=tr_noop("why the objection does not hold")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Dismiss an objection with a reason (by someone other than the notice's maker)."""
    from disburse.payouts.notices import dismiss_objection

    with books() as session:
        message = dismiss_objection(session, objection, reason, user)
    console.print(escape(message))


@notice_app.command("list", help=tr_noop("Notices with their periods, totals and objections."))
def list_command(run: Optional[int] = typer.Option(None, "--run", help=tr_noop("only this run's notices"))) -> None:
    """Notices with their periods, totals and objections."""
    from disburse.payouts.notices import OBJECTION_STATUS_NAMES, list_notices

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
        console.print(tr("no notices for run {run}", run=run) if run is not None else tr("no notices"))
        return
    table = Table(tr("notice"), tr("run"), "村", "户数", tr("合计 (yuan)"), "公示期", tr("made by"), tr("objections"))
    for notice, objections in rows:
        open_count = sum(1 for objection in objections if objection[2] == "open")
        table.add_row(
            str(notice.id),
            str(notice.run_id),
            escape(f"{notice.village_name or ''} {notice.village_code}".strip()),
            f"{notice.household_count:,}",
            format_yuan(notice.total_fen),
            tr("{first} to {last}", first=notice.first_day, last=notice.last_day),
            escape(notice.created_by),
            tr("{count} ({open} open)", count=len(objections), open=open_count) if objections else "",
        )
    console.print(table)
    for notice, objections in rows:
        for objection_id, household, status, reason, settled_by, settle_reason in objections:
            settled = f" — {settled_by}: {settle_reason}" if settled_by else ""
            console.print(
                escape(
                    tr(
                        "objection {objection} to notice {notice}, household {household}: {status}; {reason}{settled}",
                        objection=objection_id,
                        notice=notice.id,
                        household=household,
                        status=OBJECTION_STATUS_NAMES.get(status, status),
                        reason=reason,
                        settled=settled,
                    )
                )
            )


@notice_app.command(
    "create-annual",
    help=tr_noop(
        "Write each village's annual PV revenue notice (output, income, each deduction, the split) for a year, "
        "from the PV runs posted for its periods (.xlsx and a printable .html)."
    ),
)
def create_annual(
    year: int = typer.Option(..., "--year", help=tr_noop("the year, e.g. 2026")),
    village: Optional[str] = typer.Option(None, "--village", help=tr_noop("only this village (村代码)")),
    days: int = typer.Option(7, "--days", help=tr_noop("days the notice runs (at least 1)")),
    first_day: Optional[str] = typer.Option(
        None, "--from", help=tr_noop("the notice's first day, YYYY-MM-DD (default today)")
    ),
    out: Path = typer.Option(Path("notices"), "--out", help=tr_noop("the directory the notices are written to")),
    pdf: bool = typer.Option(False, "--pdf", help=tr_noop("also print each notice as a PDF")),
    user: str = typer.Option(..., "--user", envvar="DISBURSE_USER", help=USER_HELP),
) -> None:
    """Write each village's annual PV revenue notice for a year."""
    from disburse.payouts.annual_pv import annual_pv_notices
    from disburse.reports.notice_print import write_annual_pv_notices

    with books() as session:
        notices = annual_pv_notices(
            session, year, village=village.strip() if village else None, first_day=_day(first_day, "--from"), days=days
        )
    written = write_annual_pv_notices(notices, out, prepared_by=user, pdf=pdf)
    table = Table("村", tr("stations"), tr("income (yuan)"), tr("to the village (yuan)"), "户数", "公示期")
    for notice in notices:
        table.add_row(
            escape(f"{notice.village_name} {notice.village_code}"),
            escape(", ".join(station.station_id for station, _ in notice.stations)),
            format_yuan(sum(station.income_fen for station, _ in notice.stations)),
            format_yuan(notice.village_total_fen),
            f"{len(notice.households):,}",
            tr("{first} to {last}", first=notice.first_day, last=notice.last_day),
        )
    console.print(table)
    console.print(
        tr(
            "the figures tie to the ledger: each station's income to its settlements' receivable entries, its "
            "deductions and parts to the runs' entries"
        )
    )
    console.print(tr("{count} file(s) written in {directory}", count=len(written), directory=escape(str(out))))
