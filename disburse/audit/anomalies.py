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

FINDINGS_PER_CHECK_MAX = 10_000  # a check that finds more is reporting a systemic problem; the count says so
NOTE_LENGTH_MAX = 2_000

CHECKS: tuple[Check, ...] = (
    Check("A01", "money_idle", "资金闲置超期",
          "应付到户的款项、已到账的电费结算或专项资金，超过规定天数（默认 365 天）仍未拨付。"
          "光伏收益不得在村级账户闲置。",
          money.money_idle),
    Check("A02", "equal_split", "收益简单平均分配",
          "光伏、分红等收益资金按户等额发放，而发放依据（份额、标准）并不相同或根本没有依据。"
          "光伏收益严禁简单平均分配。",
          money.equal_split),
    Check("A03", "copied_list", "套用名单",
          "一份发放名单中成批的行（同一人或同一卡号、同一金额）与另一项目同期或以前的名单相同，名单系照抄而来。",
          people.copied_list),
    Check("A04", "too_many_in_household", "一户多人超员",
          "按人发放的补助，一户领取的人数超过户籍登记的在世人口；或按人计算、发到户的金额所需人数超过在册人口。",
          people.too_many_in_household),
    Check("A05", "incompatible_programmes", "互斥项目重复享受",
          "配置为互斥的两个项目（如生态护林员与公益岗位）在同一期发给了同一人或同一户。",
          people.incompatible_programmes),
    Check("A06", "paid_twice", "重复发放",
          "同一人或同一户、同一项目、同一所属期的待遇，在两次分配或两份名单中重复发放；"
          "更正后的分配与另一所属期的结算不算重复。",
          people.paid_twice),
    Check("A07", "dividend_below_floor", "分红低于保底",
          "拨改股分红规则的保底比例低于合同约定；或合作社应补的保底差额超过规定天数仍未收回。",
          money.dividend_below_floor),
    Check("A08", "settlement_mismatch", "收益分配与结算不符",
          "某电站某期分配出去的金额（含名单外另发的）不等于电费结算金额减去运维、租金、保险等扣除。",
          money.settlement_mismatch),
    Check("A09", "station_no_output", "无发电量仍分配收益",
          "电站结算单上网电量为零，却有收益分配到户到村。",
          money.station_no_output),
    Check("A10", "wages_clawed_back", "公益岗位工资回流",
          "公益岗位（护林员等）工资到账后若干天内，相同或相近金额从领取人的账户转入村集体或干部账户。",
          payments.wages_clawed_back),
    Check("A11", "just_under_threshold", "化整为零规避审批",
          "短时间内多个批次、或对同一收款人的多笔付款，金额都略低于审批限额。",
          payments.just_under_threshold),
    Check("A12", "payee_not_beneficiary", "收款人非受益人",
          "实际收款的银行卡登记在户外他人名下；大额付款前不久刚更换银行卡；经改卡得到的账户又收取其他户的款项。",
          payments.payee_not_beneficiary),
    Check("A13", "paid_after_death", "向已故人员发放",
          "按付款日的户籍信息，受益人在所属期开始前已死亡仍获发放；所属期结束后、付款前死亡的另列一类。",
          people.paid_after_death),
    Check("A14", "paid_after_exit", "退出后仍发放",
          "脱贫即停发的项目，在退出之后的所属期仍发放；或期中退出而分配时尚未登记退出、未按比例折算。",
          people.paid_after_exit),
    Check("A15", "person_in_two_households", "一人多户",
          "同一身份证号在同一期户籍中登记于两户；或按人发放的补助经由此人不属于的户发放（有日期的迁移除外）。",
          people.person_in_two_households),
    Check("A16", "shared_bank_account", "一卡多户",
          "同一银行账户实际收取了两户及以上的款项（同一户内共用一卡不算）。",
          payments.shared_bank_account),
    Check("A17", "account_name_mismatch", "户名不符",
          "银行实际入账的户名既不是户主也不是受益人本人。",
          payments.account_name_mismatch),
    Check("A18", "above_norm", "金额异常偏高",
          "按标准发放的项目中，个别金额超过该项目中位数若干倍且超过下限；按份额分配的光伏、"
          "分红和按票据报销的医疗补助不在此列。",
          people.above_norm),
    Check("A19", "pv_household_share", "光伏收益到户比例过高",
          "村级光伏电站可分配收益直接分到户的比例超过上限；收益应主要用于公益岗位、小型公益事业和奖励补助。",
          money.pv_household_share),
)  # fmt: skip
CHECKS_BY_ID = {check.check_id: check for check in CHECKS}
CHECKS_BY_CODE = {check.code: check for check in CHECKS}


def check_named(name: str) -> Check:
    """A check by its id (``paid_twice``) or code (``A06``)."""
    found = CHECKS_BY_ID.get(name) or CHECKS_BY_CODE.get(name.upper())
    if found is None:
        raise DisburseError(f"no check {name!r}; the checks are {', '.join(CHECKS_BY_ID)}")
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
        raise DisburseError(f"disposition {disposition!r} must be one of {', '.join(DISPOSITIONS)}")
    note = (note or "").strip()
    if not note:
        raise DisburseError("a review needs a note saying what was found and decided (--note)")
    if len(note) > NOTE_LENGTH_MAX:
        raise DisburseError(f"the note is {len(note):,} characters; at most {NOTE_LENGTH_MAX:,}")
    code = finding_id.split("-", 1)[0]
    if code not in CHECKS_BY_CODE:
        raise DisburseError(
            f"{finding_id!r} is not a finding id (A01-… to A19-…); `disburse audit anomalies` lists them"
        )
    report = run_checks(session, config=config, today=today, only=(code,))
    shown = next(
        (item for item in report.findings[CHECKS_BY_CODE[code].check_id] if item.finding.finding_id == finding_id), None
    )
    if shown is None:
        raise DisburseError(f"{finding_id} is not a current finding; `disburse audit anomalies --all` lists them")
    finding = shown.finding
    if shown.review is not None and shown.status == STATUS_REVIEWED and shown.review.disposition == disposition:
        return (
            f"{finding_id} was already reviewed {disposition} by {shown.review.reviewed_by} on this evidence; "
            "nothing changed"
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
    again = " (the evidence changed since the last review)" if shown.status == STATUS_CHANGED else ""
    return f"{finding_id} ({finding.check}) reviewed {disposition} by {user}{again}"


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
