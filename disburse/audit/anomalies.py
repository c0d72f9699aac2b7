"""Anomaly checks: the patterns national audits of poverty-relief money found, each a named
check with a stable id, a Chinese title and explanation, a threshold section in
audit/config.yaml, and findings with their evidence (docs/audit-checks.md describes each).

Findings are reviewable work: ``review_finding`` records a disposition (属实, 不属实, 已整改), a
note, the reviewer and the digest of the evidence; reviews are kept for ever (a history per
finding). A finding whose newest review saw the same evidence is ``reviewed`` and not shown by
default; one whose evidence changed since is ``changed`` and shown again. The checks read the
books and registers; they never change them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from disburse.audit import checks_money as money
from disburse.audit import checks_payments as payments
from disburse.audit import checks_people as people
from disburse.audit.config import AuditConfig, load_config
from disburse.audit.facts import Facts
from disburse.audit.model import (
    DISPOSITIONS,
    STATUS_CHANGED,
    STATUS_NEW,
    STATUS_REVIEWED,
    AnomalyReport,
    Check,
    Finding,
    Review,
    ShownFinding,
)
from disburse.audit.tables import FindingReviewRow
from disburse.foundation.actors import require_user
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import join_list, tr, tr_noop

FINDINGS_PER_CHECK_MAX = 10_000  # a check that finds more is reporting a systemic problem; the count says so
NOTE_LENGTH_MAX = 2_000

CHECKS: tuple[Check, ...] = (
    Check("A01", "money_idle", "资金闲置超期",
          tr_noop("Money owed to households, electricity settlements that have reached the bank, or earmarked funds "
                  "still not paid out after the days allowed (365 by default). PV revenue must not sit idle in village "
                  "accounts."),
          money.money_idle),
    Check("A02", "equal_split", "收益简单平均分配",
          tr_noop("PV, dividend and other revenue paid in equal amounts per household although the basis of payment "
                  "(shares, standards) differs or there is none. PV revenue must never be split evenly."),
          money.equal_split),
    Check("A03", "copied_list", "套用名单",
          tr_noop("Rows of a payout list in bulk (the same person or card with the same amount) match another "
                  "programme's list of the same or an earlier period: the list was copied."),
          people.copied_list),
    Check("A04", "too_many_in_household", "一户多人超员",
          tr_noop("A per-person benefit paid to more people in one household than the register lists as living; or a "
                  "per-person amount paid to the household that needs more people than the register lists."),
          people.too_many_in_household),
    Check("A05", "incompatible_programmes", "互斥项目重复享受",
          tr_noop("Two programmes configured as mutually exclusive (such as ecological forest ranger and public-welfare"
                  " job) paid to the same person or household for the same period."),
          people.incompatible_programmes),
    Check("A06", "paid_twice", "重复发放",
          tr_noop("The same benefit of the same person or household, programme and service period paid in two "
                  "allocations or two lists; a corrected allocation and the settlement of another service period are "
                  "not duplicates."),
          people.paid_twice),
    Check("A07", "dividend_below_floor", "分红低于保底",
          tr_noop("A 拨改股 dividend rule whose guaranteed floor is below the contract's; or a floor shortfall the "
                  "cooperative owes still not recovered after the days allowed."),
          money.dividend_below_floor),
    Check("A08", "settlement_mismatch", "收益分配与结算不符",
          tr_noop("What a station distributed for a period (including lists paid outside the runs) is not the "
                  "electricity settlement minus the deductions for operation, rent, insurance and the like."),
          money.settlement_mismatch),
    Check("A09", "station_no_output", "无发电量仍分配收益",
          tr_noop("The settlement shows no electricity fed into the grid, yet revenue was distributed to households and"
                  " villages."),
          money.station_no_output),
    Check("A10", "wages_clawed_back", "公益岗位工资回流",
          tr_noop("Within days of a public-welfare job's wage (forest ranger and the like) reaching the worker, the "
                  "same or a similar amount moves from the worker's account into a village collective's or a cadre's "
                  "account."),
          payments.wages_clawed_back),
    Check("A11", "just_under_threshold", "化整为零规避审批",
          tr_noop("Several batches within a short time, or several payments to the same payee, each just under the "
                  "approval limit."),
          payments.just_under_threshold),
    Check("A12", "payee_not_beneficiary", "收款人非受益人",
          tr_noop("The card actually paid is registered to someone outside the household; the card was changed shortly "
                  "before a large payment; an account obtained by a card fix also receives other households' money."),
          payments.payee_not_beneficiary),
    Check("A13", "paid_after_death", "向已故人员发放",
          tr_noop("By the register as of the payment date, the beneficiary died before the service period began and was"
                  " still paid; a death after the period ended but before the payment is listed as a kind of its own."),
          people.paid_after_death),
    Check("A14", "paid_after_exit", "退出后仍发放",
          tr_noop("A programme that stops on exit from poverty still paid for service periods after the exit; or an "
                  "exit in the middle of a period not yet recorded when the allocation was made, so it was not "
                  "prorated."),
          people.paid_after_exit),
    Check("A15", "person_in_two_households", "一人多户",
          tr_noop("The same resident ID registered in two households in the same period's register; or a per-person "
                  "benefit paid through a household the person does not belong to (a dated move excepted)."),
          people.person_in_two_households),
    Check("A16", "shared_bank_account", "一卡多户",
          tr_noop("The same bank account actually received money for two or more households (a card shared within one "
                  "household does not count)."),
          payments.shared_bank_account),
    Check("A17", "account_name_mismatch", "户名不符",
          tr_noop("The account name the bank actually credited is neither the head of household's nor the beneficiary's"
                  " own."),
          payments.account_name_mismatch),
    Check("A18", "above_norm", "金额异常偏高",
          tr_noop("In a programme paid by standard, single amounts more than a number of times the programme's median "
                  "and above a floor; PV, dividends shared by holdings and medical top-ups reimbursed by bills are not "
                  "checked."),
          people.above_norm),
    Check("A19", "pv_household_share", "光伏收益到户比例过高",
          tr_noop("The share of a village station's distributable revenue paid directly to households is above the "
                  "limit; the revenue goes mainly to public-welfare jobs, small public works and rewards and grants."),
          money.pv_household_share),
)  # fmt: skip
CHECKS_BY_ID = {check.check_id: check for check in CHECKS}
CHECKS_BY_CODE = {check.code: check for check in CHECKS}


def check_named(name: str) -> Check:
    """A check by its id (``paid_twice``) or code (``A06``)."""
    found = CHECKS_BY_ID.get(name) or CHECKS_BY_CODE.get(name.upper())
    if found is None:
        raise DisburseError(tr("no check {name!r}; the checks are {checks}", name=name, checks=join_list(CHECKS_BY_ID)))
    return found


def newest_reviews(session: Session) -> dict[str, Review]:
    """The newest review of every reviewed finding."""
    reviews: dict[str, Review] = {}
    for row in session.scalars(select(FindingReviewRow).order_by(FindingReviewRow.id)):
        reviews[row.finding_id] = Review(
            row.finding_id,
            row.check_name,
            row.disposition,
            row.note,
            row.evidence_digest,
            row.reviewed_by,
            row.reviewed_at,
        )
    return reviews


def review_state(finding: Finding, review: Review | None) -> str:
    """new, reviewed (the newest review saw this evidence, or predates digests) or changed."""
    if review is None:
        return STATUS_NEW
    if review.evidence_digest is None or review.evidence_digest == finding.evidence_digest:
        return STATUS_REVIEWED
    return STATUS_CHANGED


def run_checks(
    session: Session,
    period: str | None = None,
    *,
    config: AuditConfig | None = None,
    today: dt.date | None = None,
    only: tuple[str, ...] = (),
) -> AnomalyReport:
    """Run the checks (``only``: these ids or codes) on the books as they are on ``today``;
    ``period`` keeps findings whose evidence touches that period (YYYY-MM). Every finding comes
    with its review state."""
    config = config or load_config()
    today = today or dt.date.today()
    facts = Facts(session, today)
    reviews = newest_reviews(session)
    chosen = [check_named(name) for name in only] if only else list(CHECKS)
    findings: dict[str, list[ShownFinding]] = {}
    truncated: dict[str, int] = {}
    for check in chosen:
        found = sorted(check.run(check, facts, config), key=lambda finding: finding.finding_id)
        if period:
            found = [finding for finding in found if _touches(finding, period)]
        if len(found) > FINDINGS_PER_CHECK_MAX:
            truncated[check.check_id] = len(found)
            found = found[:FINDINGS_PER_CHECK_MAX]
        findings[check.check_id] = [
            ShownFinding(
                finding, review_state(finding, reviews.get(finding.finding_id)), reviews.get(finding.finding_id)
            )
            for finding in found
        ]
    return AnomalyReport(tuple(chosen), findings, truncated, today)


def _touches(finding: Finding, period: str) -> bool:
    return (
        any((row.on is not None and f"{row.on:%Y-%m}" == period) or period in row.note for row in finding.rows)
        or period in finding.summary
    )


def review_finding(
    session: Session,
    finding_id: str,
    disposition: str,
    note: str,
    user: str,
    *,
    config: AuditConfig | None = None,
    today: dt.date | None = None,
) -> str:
    """Record a review of a finding the checks find now: its disposition, a note, the reviewer
    and the evidence as it stands. The same review again (same disposition and evidence)
    changes nothing; a new disposition or changed evidence adds a review to the history."""
    user = require_user(user)
    if disposition not in DISPOSITIONS:
        raise DisburseError(
            tr(
                "disposition {disposition!r} must be one of {dispositions}",
                disposition=disposition,
                dispositions=join_list(DISPOSITIONS),
            )
        )
    note = (note or "").strip()
    if not note:
        raise DisburseError(tr("a review needs a note saying what was found and decided (--note)"))
    if len(note) > NOTE_LENGTH_MAX:
        raise DisburseError(
            tr(
                "the note is {length:,} characters; at most {length_max:,}",
                length=len(note),
                length_max=NOTE_LENGTH_MAX,
            )
        )
    code = finding_id.split("-", 1)[0]
    if code not in CHECKS_BY_CODE:
        raise DisburseError(
            tr(
                "{finding!r} is not a finding id (A01-… to A19-…); `disburse audit anomalies` lists them",
                finding=finding_id,
            )
        )
    report = run_checks(session, config=config, today=today, only=(code,))
    shown = next(
        (item for item in report.findings[CHECKS_BY_CODE[code].check_id] if item.finding.finding_id == finding_id), None
    )
    if shown is None:
        raise DisburseError(
            tr("{finding} is not a current finding; `disburse audit anomalies --all` lists them", finding=finding_id)
        )
    finding = shown.finding
    if shown.review is not None and shown.status == STATUS_REVIEWED and shown.review.disposition == disposition:
        return tr(
            "{finding} was already reviewed {disposition} by {user} on this evidence; nothing changed",
            finding=finding_id,
            disposition=disposition,
            user=shown.review.reviewed_by,
        )
    session.execute(
        insert(FindingReviewRow).values(
            finding_id=finding_id,
            check_name=finding.check,
            disposition=disposition,
            note=note,
            evidence_digest=finding.evidence_digest,
            evidence=finding.evidence_json(),
            reviewed_by=user,
        )
    )
    again = tr(" (the evidence changed since the last review)") if shown.status == STATUS_CHANGED else ""
    return tr(
        "{finding} ({check}) reviewed {disposition} by {user}{again}",
        finding=finding_id,
        check=finding.check,
        disposition=disposition,
        user=user,
        again=again,
    )


def review_history(session: Session, finding_id: str | None = None) -> list[Review]:
    """Every review (of one finding, or all), oldest first."""
    statement = select(FindingReviewRow).order_by(FindingReviewRow.id)
    if finding_id is not None:
        statement = statement.where(FindingReviewRow.finding_id == finding_id)
    return [
        Review(
            row.finding_id,
            row.check_name,
            row.disposition,
            row.note,
            row.evidence_digest,
            row.reviewed_by,
            row.reviewed_at,
        )
        for row in session.scalars(statement)
    ]


def write_findings(report: AnomalyReport, path: Path, *, include_reviewed: bool = True) -> list[Path]:
    """The findings workbook (see ``audit.workbook``)."""
    from disburse.audit.workbook import write_findings_workbook

    return write_findings_workbook(report, Path(path), include_reviewed=include_reviewed)


__all__ = [
    "CHECKS",
    "AnomalyReport",
    "Finding",
    "check_named",
    "review_finding",
    "review_history",
    "run_checks",
    "write_findings",
]
