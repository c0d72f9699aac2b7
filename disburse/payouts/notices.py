"""公示 before payment: a run's roster is publicly posted per village for a number of days, and
objections are settled before anything of the run is paid.

``create_notices`` records one notice per village of an approved or posted run and returns the
rosters (the files are written by ``reports.notice_print``); ``object_to_notice`` records an
objection to one household's line; ``dismiss_objection`` settles one, by a user other than the
notice's maker. ``notice_problems`` is the gate ``payout prepare`` asks: for each run whose rule
requires notice, the notice must exist, its last day must be before the day of preparation,
and no objection may be open. A corrected run (``runs reverse`` and a new run) is a new run
and needs notices of its own; the reversed run's payables are withdrawn, so its objections no
longer hold anything back.

Whether a run needs notice comes from its rule's ``notice:`` key, read from the rule text the
run stored (so a later edit of the YAML file changes nothing for a run already made); a rule
without the key needs notice only when ``DISBURSE_NOTICE_REQUIRED`` is set (off for now).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import yaml
from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from disburse.allocations.rules import NOTICE_DAYS_DEFAULT, NoticeSetting
from disburse.allocations.runs import PAYABLE_PAYEE_TYPES, UNPAID_COMPONENTS
from disburse.allocations.tables import AllocationRunRow
from disburse.foundation.actors import require_user
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import TranslatedNames, join_list, tr, tr_noop
from disburse.foundation.masking import mask_identifier
from disburse.foundation.settings import hotline, notice_required_by_default
from disburse.foundation.validation import problem_message
from disburse.payouts.tables import (
    NOTICE_DAYS_MAX,
    NOTICE_DAYS_MIN,
    REASON_LENGTH_MAX,
    NoticeObjectionRow,
    NoticeRow,
    utc_now,
)

NOTICEABLE_RUN_STATUSES = ("approved", "posted")
# An objection's status (payouts.tables.OBJECTION_STATUSES) as the CLI and the pages show it.
OBJECTION_STATUS_NAMES = TranslatedNames({"open": tr_noop("awaiting a decision"), "dismissed": tr_noop("dismissed")})
# A run's and an objection's status as a message shows it (tr of the value).
RUN_STATUS_NAMES = {
    "calculated": tr_noop("calculated"),
    "approved": tr_noop("approved"),
    "posted": tr_noop("posted"),
    "reversed": tr_noop("reversed"),
    "superseded": tr_noop("superseded"),
    "cancelled": tr_noop("cancelled"),
}
NOTICE_ROWS_MAX = 500_000  # households of one run's notices
NOTICE_PROBLEMS_SHOWN_MAX = 10
NOTICES_LISTED_MAX = 1_000
MASK = "*"


@dataclass(frozen=True, slots=True)
class NoticeRequirement:
    """What a run's rule says about notice: required or not, the days, and why not."""

    required: bool
    days: int
    reason: str | None


@dataclass(frozen=True, slots=True)
class NoticeLine:
    """One household's line on a notice roster; names and IDs are already masked."""

    household_id: str
    head_name: str
    head_id_number: str
    member_count: int | None
    basis: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Roster:
    """One village's notice: its record and its lines (household order)."""

    notice_id: int
    run_id: int
    rule_name: str
    period: str
    village_code: str
    village_name: str | None
    first_day: dt.date
    last_day: dt.date
    hotline: str
    lines: tuple[NoticeLine, ...]

    @property
    def total_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)


@dataclass(frozen=True, slots=True)
class NoticeOutcome:
    run_id: int
    created: bool
    rosters: tuple[Roster, ...]
    message: str


def mask_name(name: object) -> str:
    """``王小明 -> 王*明``, ``欧阳小明 -> 欧**明``, ``王明 -> 王*``, ``王 -> 王``: the first and last
    character kept, the middle ones starred; a two-character name keeps only its first."""
    text_value = "" if name is None else str(name).strip()
    if len(text_value) <= 1:
        return text_value
    if len(text_value) == 2:
        return text_value[0] + MASK
    return text_value[0] + MASK * (len(text_value) - 2) + text_value[-1]


def notice_requirement(rule_text: str) -> NoticeRequirement:
    """The ``notice:`` key of a stored rule text; without one, the setting decides."""
    try:
        document = yaml.safe_load(rule_text) if rule_text else None
    except yaml.YAMLError:
        document = None
    value = document.get("notice") if isinstance(document, dict) else None
    if value is None:
        return NoticeRequirement(notice_required_by_default(), NOTICE_DAYS_DEFAULT, None)
    try:
        setting = NoticeSetting.model_validate(value)
    except ValidationError as error:  # the rule was validated when the run was made
        raise DisburseError(
            tr("the rule's notice key is not valid: {problem}", problem=problem_message(error.errors()[0]))
        ) from None
    return NoticeRequirement(setting.required, setting.days, setting.reason)


def _run(session: Session, run_id: int) -> AllocationRunRow:
    run = session.get(AllocationRunRow, run_id)
    if run is None:
        raise DisburseError(tr("allocation run {run} does not exist; `disburse runs list` shows the runs", run=run_id))
    return run


def _roster_rows(session: Session, run_id: int) -> list:  # type: ignore[type-arg]
    """The run's paid lines summed per household, with the village and the head of household
    from the register's newest version of the household."""
    payee_types = sorted(PAYABLE_PAYEE_TYPES)
    unpaid = sorted(UNPAID_COMPONENTS)
    rows = session.execute(
        text(
            "SELECT l.household_id, coalesce(max(l.village_code), max(v.village_code)), max(v.village), "
            "max(v.head_name), max(v.head_id_number), max(v.member_count), sum(l.amount_fen), "
            "min(l.basis), max(l.basis), count(DISTINCT l.basis), count(*) "
            "FROM allocation_lines l LEFT JOIN household_versions v ON v.household_id = l.household_id "
            "AND v.id = (SELECT max(id) FROM household_versions w WHERE w.household_id = l.household_id) "
            f"WHERE l.run_id = :run AND l.household_id IS NOT NULL AND l.amount_fen <> 0 "
            # A rule's payee: collective pays a household's lines into its village's account.
            f"AND (l.payee_type IN ({', '.join(f':type{i}' for i in range(len(payee_types)))}) "
            "OR l.card_kind = 'collective') "
            f"AND l.component NOT IN ({', '.join(f':unpaid{i}' for i in range(len(unpaid)))}) "
            "GROUP BY l.household_id ORDER BY l.household_id"
        ),
        {
            "run": run_id,
            **{f"type{i}": value for i, value in enumerate(payee_types)},
            **{f"unpaid{i}": value for i, value in enumerate(unpaid)},
        },
    ).all()
    if len(rows) > NOTICE_ROWS_MAX:
        raise DisburseError(
            tr(
                "run {run} has {count:,} households; a notice lists at most {count_max:,}",
                run=run_id,
                count=len(rows),
                count_max=NOTICE_ROWS_MAX,
            )
        )
    return rows


def _basis_text(first: object, last: object, count: int, lines: int) -> str:
    """The basis of a household's lines: one text (with the number of lines when it is paid
    per person), two joined, or the first and how many."""
    if count <= 1:
        return str(first or "") + (f"（{lines}人次）" if lines > 1 else "")
    return f"{first}；{last}" if count == 2 else f"{first}；… 共{count}项"


def _rosters(session: Session, run: AllocationRunRow, notices: list[NoticeRow]) -> tuple[Roster, ...]:
    lines: dict[str, list[NoticeLine]] = {}
    for household, village_code, _, name, id_number, members, amount, first, last, count, lines_count in _roster_rows(
        session, run.id
    ):
        lines.setdefault(str(village_code or ""), []).append(
            NoticeLine(
                str(household),
                mask_name(name),
                mask_identifier(id_number) or "",
                None if members is None else int(members),
                _basis_text(first, last, int(count), int(lines_count)),
                int(amount),
            )
        )
    return tuple(
        Roster(
            notice.id,
            run.id,
            run.rule_name,
            run.period,
            notice.village_code,
            notice.village_name,
            notice.first_day,
            notice.last_day,
            notice.hotline,
            tuple(lines.get(notice.village_code, ())),
        )
        for notice in sorted(notices, key=lambda row: row.village_code)
    )


def _run_notices(session: Session, run_id: int) -> list[NoticeRow]:
    return list(session.scalars(select(NoticeRow).where(NoticeRow.run_id == run_id).order_by(NoticeRow.village_code)))


def _village_totals(session: Session, run_id: int) -> dict[str, tuple[str | None, int, int]]:
    """Per village code of the run's roster: its name, households and total fen."""
    villages: dict[str, tuple[str | None, int, int]] = {}
    for household, village_code, village_name, *_, amount, _, _, _, _ in _roster_rows(session, run_id):
        del household
        name, count, total = villages.get(str(village_code or ""), (village_name, 0, 0))
        villages[str(village_code or "")] = (name or village_name, count + 1, total + int(amount))
    return villages


def checked_notice_days(days: int) -> int:
    """``days`` when a notice may run that long (a run's notice and the annual PV notice)."""
    if not NOTICE_DAYS_MIN <= days <= NOTICE_DAYS_MAX:
        raise DisburseError(
            tr(
                "--days {days}: a notice runs for {days_min} to {days_max} days",
                days=days,
                days_min=NOTICE_DAYS_MIN,
                days_max=NOTICE_DAYS_MAX,
            )
        )
    return days


def create_notices(
    session: Session,
    run_id: int,
    user: str,
    *,
    days: int | None = None,
    first_day: dt.date | None = None,
) -> NoticeOutcome:
    """Record one notice per village of an approved or posted run, from ``first_day`` (default
    today) for ``days`` days (default: the rule's ``notice.days``, else 7; at least 1). A run
    already noticed keeps its notices: the rosters are returned again and nothing changes."""
    user = require_user(user)
    run = _run(session, run_id)
    existing = _run_notices(session, run_id)
    if existing:
        first, last = existing[0].first_day, max(row.last_day for row in existing)
        message = tr(
            "run {run} was noticed already ({first} to {last}, {count} village(s)); nothing changed",
            run=run_id,
            first=first,
            last=last,
            count=len(existing),
        )
        return NoticeOutcome(run_id, False, _rosters(session, run, existing), message)
    if run.status not in NOTICEABLE_RUN_STATUSES:
        raise DisburseError(
            tr(
                "run {run} is {status}: only an approved or posted run is publicly posted (公示)",
                run=run_id,
                status=tr(RUN_STATUS_NAMES.get(run.status, run.status)),
            )
            + (tr("; a reversed run's correction is a new run, noticed on its own") if run.status == "reversed" else "")
        )
    requirement = notice_requirement(run.rule_text)
    days = checked_notice_days(requirement.days if days is None else days)
    first = first_day or dt.date.today()
    last = first + dt.timedelta(days=days - 1)
    villages = _village_totals(session, run_id)
    if not villages:
        raise DisburseError(tr("run {run} pays no household: there is no roster to post", run=run_id))
    phone, now = hotline(), utc_now()
    for code, (name, count, total) in sorted(villages.items()):
        session.add(
            NoticeRow(
                run_id=run_id,
                village_code=code,
                village_name=name,
                first_day=first,
                last_day=last,
                household_count=count,
                total_fen=total,
                hotline=phone,
                created_by=user,
                created_at=now,
            )
        )
    session.flush()
    notices = _run_notices(session, run_id)
    message = tr(
        "run {run} noticed in {count} village(s) from {first} to {last} ({days} day(s)); "
        "a batch can be prepared from {next_day} if no objection is open",
        run=run_id,
        count=len(notices),
        first=first,
        last=last,
        days=days,
        next_day=last + dt.timedelta(days=1),
    )
    return NoticeOutcome(run_id, True, _rosters(session, run, notices), message)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DisburseError(tr("a reason is required (--reason)"))
    if len(reason) > REASON_LENGTH_MAX:
        raise DisburseError(
            tr(
                "the reason has {length} characters; at most {length_max}",
                length=len(reason),
                length_max=REASON_LENGTH_MAX,
            )
        )
    return reason


def object_to_notice(session: Session, notice_id: int, household_id: str, reason: str, user: str) -> int:
    """Record an objection to household ``household_id``'s line of notice ``notice_id``;
    returns the objection's id. The household must be on that notice."""
    user, reason, household_id = require_user(user), _reason(reason), household_id.strip()
    notice = session.get(NoticeRow, notice_id)
    if notice is None:
        raise DisburseError(
            tr("notice {notice} does not exist; `disburse notice list` shows the notices", notice=notice_id)
        )
    on_notice = session.execute(
        text(
            "SELECT count(*) FROM allocation_lines WHERE run_id = :run AND household_id = :household "
            "AND (village_code = :village OR village_code IS NULL)"
        ),
        {"run": notice.run_id, "household": household_id, "village": notice.village_code},
    ).scalar_one()
    if not on_notice:
        raise DisburseError(
            tr(
                "household {household} is not on notice {notice} (run {run}, village {village})",
                household=household_id,
                notice=notice_id,
                run=notice.run_id,
                village=notice.village_code,
            )
        )
    objection = NoticeObjectionRow(
        notice_id=notice_id,
        household_id=household_id,
        reason=reason,
        status="open",
        raised_by=user,
        raised_at=utc_now(),
    )
    session.add(objection)
    session.flush()
    return objection.id


def dismiss_objection(session: Session, objection_id: int, reason: str, user: str) -> str:
    """Dismiss an open objection with a reason, by a user other than the notice's maker."""
    user, reason = require_user(user), _reason(reason)
    objection = session.get(NoticeObjectionRow, objection_id)
    if objection is None:
        raise DisburseError(
            tr("objection {objection} does not exist; `disburse notice list` shows them", objection=objection_id)
        )
    if objection.status != "open":
        return tr(
            "objection {objection} was already {status} by {user}; nothing changed",
            objection=objection_id,
            status=OBJECTION_STATUS_NAMES.get(objection.status, objection.status),
            user=objection.settled_by,
        )
    notice = session.get(NoticeRow, objection.notice_id)
    assert notice is not None
    if user == notice.created_by:
        raise DisburseError(
            tr(
                "{user} made notice {notice} and cannot dismiss an objection to it: a checker other than the "
                "notice's maker settles it (separation of duties)",
                user=user,
                notice=notice.id,
            )
        )
    objection.status, objection.settled_by, objection.settled_at = "dismissed", user, utc_now()
    objection.settle_reason = reason
    return tr(
        "objection {objection} to notice {notice} (household {household}) dismissed by {user}",
        objection=objection_id,
        notice=notice.id,
        household=objection.household_id,
        user=user,
    )


@dataclass(frozen=True, slots=True)
class NoticeListing:
    notice: NoticeRow
    objections: tuple[NoticeObjectionRow, ...]


def list_notices(session: Session, run_id: int | None = None) -> list[NoticeListing]:
    """Notices (of one run, or the newest ``NOTICES_LISTED_MAX``) with their objections."""
    statement = select(NoticeRow).order_by(NoticeRow.id.desc()).limit(NOTICES_LISTED_MAX)
    if run_id is not None:
        statement = statement.where(NoticeRow.run_id == run_id)
    notices = list(reversed(session.scalars(statement).all()))
    objections: dict[int, list[NoticeObjectionRow]] = {}
    if notices:
        for row in session.scalars(
            select(NoticeObjectionRow)
            .where(NoticeObjectionRow.notice_id.in_([notice.id for notice in notices]))
            .order_by(NoticeObjectionRow.id)
        ):
            objections.setdefault(row.notice_id, []).append(row)
    return [NoticeListing(notice, tuple(objections.get(notice.id, ()))) for notice in notices]


def _run_problems(session: Session, run: AllocationRunRow, requirement: NoticeRequirement, today: dt.date) -> list[str]:
    notices = _run_notices(session, run.id)
    if not notices:
        return [
            tr(
                "run {run} ({rule}) must be publicly posted (公示) for {days} day(s) before it is paid, and has no "
                "notice: `disburse notice create {run}`",
                run=run.id,
                rule=run.rule_name,
                days=requirement.days,
            )
        ]
    problems = []
    running = [notice for notice in notices if notice.last_day >= today]
    if running:
        last = max(notice.last_day for notice in running)
        names = join_list(f"{notice.id} ({notice.village_name or notice.village_code})" for notice in running[:5])
        more = tr(" and {count} more", count=len(running) - 5) if len(running) > 5 else ""
        problems.append(
            tr(
                "run {run} ({rule}): notice {notices}{more} runs until {last}; a batch can be prepared from {next_day}",
                run=run.id,
                rule=run.rule_name,
                notices=names,
                more=more,
                last=last,
                next_day=last + dt.timedelta(days=1),
            )
        )
    open_objections = session.execute(
        select(NoticeObjectionRow.id, NoticeObjectionRow.notice_id, NoticeObjectionRow.household_id)
        .where(NoticeObjectionRow.notice_id.in_([notice.id for notice in notices]), NoticeObjectionRow.status == "open")
        .order_by(NoticeObjectionRow.id)
    ).all()
    for objection_id, notice_id, household in open_objections[:NOTICE_PROBLEMS_SHOWN_MAX]:
        problems.append(
            tr(
                "run {run}: objection {objection} to notice {notice} (household {household}) is open: dismiss it "
                "(`disburse notice dismiss {objection} --reason …`, by a checker) or reverse the run and notice its "
                "correction",
                run=run.id,
                objection=objection_id,
                notice=notice_id,
                household=household,
            )
        )
    return problems


def notice_problems(session: Session, run_ids: list[int], today: dt.date) -> list[str]:
    """Why the payables of ``run_ids`` cannot be paid on ``today`` for want of notice (公示):
    empty when every run that needs notice has run its notice period with no objection open."""
    if not run_ids:
        return []
    problems: list[str] = []
    runs = session.scalars(
        select(AllocationRunRow).where(AllocationRunRow.id.in_(sorted(set(run_ids)))).order_by(AllocationRunRow.id)
    )
    for run in runs:
        requirement = notice_requirement(run.rule_text)
        if requirement.required:
            problems.extend(_run_problems(session, run, requirement, today))
    return problems
