"""The findings workbook (异常检查): a summary per check, every finding with its review, and every
evidence row. Resident IDs and card numbers are masked like in every report; summaries are
written masked by the checks themselves."""

from __future__ import annotations

from pathlib import Path

from disburse.audit.model import STATUS_CHANGED, STATUS_NAMES, STATUS_NEW, STATUS_REVIEWED, AnomalyReport
from disburse.foundation.masking import mask_identifier, mask_payee
from disburse.foundation.workbook import Sheet, write_workbook


def _day(value: object) -> str:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else ""


def summary_sheet(report: AnomalyReport) -> Sheet:
    rows = []
    for check in report.checks:
        found = report.findings.get(check.check_id, [])
        states = [shown.status for shown in found]
        rows.append(
            [
                check.code,
                check.check_id,
                check.title_zh,
                check.shown_explanation,
                len(found),
                states.count(STATUS_NEW),
                states.count(STATUS_CHANGED),
                states.count(STATUS_REVIEWED),
            ]
        )
    when = f"（{report.checks_on}）" if report.checks_on else ""
    return Sheet(
        "汇总",
        f"异常检查汇总{when}",
        ("编号", "检查", "名称", "检查内容", "发现", "未复核", "证据已变化", "已复核"),
        rows,
    )


def findings_sheet(report: AnomalyReport, include_reviewed: bool) -> Sheet:
    titles = {check.check_id: check for check in report.checks}
    rows = []
    for check_id, found in report.findings.items():
        for shown in found:
            if shown.status == STATUS_REVIEWED and not include_reviewed:
                continue
            finding, review = shown.finding, shown.review
            rows.append(
                [
                    finding.finding_id,
                    titles[check_id].code,
                    titles[check_id].title_zh,
                    finding.kind,
                    finding.summary,
                    finding.rule,
                    finding.amount_fen if finding.amount_fen is not None else "",
                    STATUS_NAMES[shown.status],
                    (review.disposition or "") if review else "",
                    review.note if review else "",
                    review.reviewed_by if review else "",
                    f"{review.reviewed_at:%Y-%m-%d %H:%M}" if review else "",
                ]
            )
    return Sheet(
        "发现",
        "异常发现（证件号码、银行账号已脱敏）",
        (
            "发现编号",
            "检查",
            "名称",
            "类别",
            "说明",
            "可疑依据",
            "金额",
            "复核状态",
            "处理意见",
            "复核说明",
            "复核人",
            "复核时间",
        ),
        rows,
        (6,),
    )


def evidence_sheet(report: AnomalyReport, include_reviewed: bool) -> Sheet:
    rows = []
    for found in report.findings.values():
        for shown in found:
            if shown.status == STATUS_REVIEWED and not include_reviewed:
                continue
            for row in shown.finding.rows:
                rows.append(
                    [
                        shown.finding.finding_id,
                        row.kind,
                        row.reference,
                        _day(row.on),
                        row.amount_fen if row.amount_fen is not None else "",
                        mask_identifier(row.account_no) or "",
                        row.name or "",
                        row.household_id or "",
                        mask_payee(row.person_id) if row.person_id else "",
                        row.note,
                    ]
                )
    return Sheet(
        "证据",
        "证据明细（证件号码、银行账号已脱敏）",
        ("发现编号", "类型", "编号", "日期", "金额", "账号", "户名", "户编号", "证件号码", "说明"),
        rows,
        (4,),
    )


def write_findings_workbook(report: AnomalyReport, path: Path, *, include_reviewed: bool = True) -> list[Path]:
    """The three sheets, as .xlsx (or .csv files side by side)."""
    return write_workbook(
        path,
        [summary_sheet(report), findings_sheet(report, include_reviewed), evidence_sheet(report, include_reviewed)],
    )
