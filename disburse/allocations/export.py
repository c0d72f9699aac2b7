"""A run as a workbook for the people who check it: one row per payee line, the totals by village,
and the households left out with their reasons. Card and resident ID numbers are masked unless
the caller asks (and records that it asked)."""

from __future__ import annotations

from pathlib import Path

from disburse.allocations.frames import CARD_KIND_NAMES
from disburse.allocations.names import component_name, in_chinese, source_name
from disburse.allocations.runs import village_summary
from disburse.foundation.frames import blank_text
from disburse.foundation.i18n import TranslatedNames
from disburse.foundation.masking import mask_identifier, mask_payee
from disburse.foundation.workbook import Sheet, write_workbook

LINE_HEADERS = (
    *("户编号", "户主姓名", "村", "规则", "基数", "份额", "金额(元)", "收款账号", "说明"),
    # The three parties apart: the beneficiary, the name on the card paid, whose card it is.
    *("享受人", "收款人", "卡别"),
)
# The sheet is book text: Chinese whatever the operator reads.
CARD_KINDS_ZH = TranslatedNames(CARD_KIND_NAMES, "zh")


def line_rows(lines, rule_name: str, unmasked: bool = False) -> list[list[object]]:  # type: ignore[no-untyped-def]
    """Rows of the per-payee sheet: who, where, under which rule, on what basis, how much, to which card."""
    rows = []
    for raw in lines.to_dict("records"):
        row = {key: (value if key == "amount_fen" else blank_text(value)) for key, value in raw.items()}
        share = ""
        if row.get("share_numerator") and row.get("share_denominator"):
            try:
                share = f"{int(row['share_numerator']):,}/{int(row['share_denominator']):,}"
            except (TypeError, ValueError):
                share = ""
        who = row.get("household_id") or mask_payee(row["payee_id"], unmasked=unmasked)
        explanation = "；".join(
            part
            for part in (
                in_chinese(component_name, row["component"]) if row.get("component") else "",
                row.get("note") or "",
                in_chinese(source_name, row.get("source_reference") or ""),
            )
            if part
        )
        rows.append(
            [
                who,
                row.get("head_name") or row.get("account_name") or "",
                row.get("village_code") or "",
                rule_name,
                row.get("basis") or "",
                share,
                int(row["amount_fen"]),
                mask_identifier(row.get("account_no") or None, unmasked=unmasked) or "",
                explanation,
                row.get("beneficiary_name") or "",
                row.get("account_name") or "",
                CARD_KINDS_ZH[row["card_kind"]] if row.get("card_kind") in CARD_KIND_NAMES else "",
            ]
        )
    return rows


def write_run_export(out: Path, outcome, unmasked: bool = False) -> list[Path]:  # type: ignore[no-untyped-def]
    """A run's workbook: the payee lines, the village summary and who was left out and why."""
    summary = village_summary(outcome.lines)
    exclusions = outcome.result.exclusions
    sheets = [
        Sheet(
            "明细",
            f"{outcome.rule_name} {outcome.period} 分配明细",
            LINE_HEADERS,
            line_rows(outcome.lines, outcome.rule_name, unmasked),
            (6,),
        ),
        Sheet(
            "村汇总",
            f"{outcome.rule_name} {outcome.period} 分村汇总",
            ("村代码", "项目", "人(户)数", "金额(元)"),
            [
                [
                    row["village_code"] or "不分村",
                    in_chinese(component_name, row["component"]),
                    int(row["payees"]),
                    int(row["amount_fen"]),
                ]
                for row in summary.to_dict("records")
            ],
            (3,),
        ),
        Sheet(
            "未纳入",
            f"{outcome.rule_name} {outcome.period} 未纳入名单",
            ("户编号", "证件号码", "原因"),
            [
                [
                    blank_text(row["household_id"]),
                    blank_text(mask_identifier(blank_text(row["id_number"]) or None, unmasked=unmasked)),
                    blank_text(row["reason"]),
                ]
                for row in exclusions.to_dict("records")
            ],
        ),
    ]
    return write_workbook(out, sheets)
