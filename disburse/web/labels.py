"""Chinese names for the codes the stages return (counts, summary figures, check names, return
outcomes), for the pages only; a code without a name here is shown as it is. The stages' own
tables (component, match rule and status names) are used where they exist."""

from __future__ import annotations

from disburse.allocations.runs import COMPONENT_NAMES_ZH
from disburse.reconciliation.report import RULE_NAMES_ZH, STATUS_NAMES_ZH

COUNT_NAMES_ZH = {
    "people": "人数",
    "households": "户数",
    "households_unchanged": "未变化的户",
    "household_versions_opened": "新增户版本",
    "household_versions_closed": "关闭户版本",
    "person_versions_opened": "新增人员版本",
    "person_versions_closed": "关闭人员版本",
    "events": "名册变动事件",
    "villages_added": "新建村账套",
    "holdings": "份额记录",
    "assets": "资产",
    "rows": "结算行",
    "posted": "已记账",
    "duplicates": "重复（跳过）",
    "amount_fen": "金额",
}
SUMMARY_NAMES_ZH = {
    "pool_fen": "分配总额",
    "deduction_om_fen": "扣除运维费",
    "deduction_land_rent_fen": "扣除土地租金",
    "deduction_insurance_fen": "扣除保险费",
    "distributable_fen": "可分配收益",
    "part_collective_fen": "村集体部分",
    "part_wages_fen": "公益岗位部分",
    "part_households_fen": "农户部分",
    "wages_owed_fen": "应发公益岗位工资",
    "wages_paid_fen": "实发公益岗位工资",
    "unpaid_wages_fen": "未发工资",
    "wage_pool_unused_fen": "公益岗位结余",
    "residual_fen": "分配尾差",
    "inactive_claims_residual_fen": "未生效份额尾差",
    "holders_paid": "受益户数",
    "payees": "受益人(户)数",
    "excluded": "未纳入",
    "suspense_deceased_fen": "已故持有人暂挂",
    "exit_reverted_fen": "退出份额收回",
}
CHECK_NAMES_ZH = {
    "paid_after_death": "死亡后仍发放",
    "person_in_two_households": "一人在两户",
    "shared_bank_account": "多户共用一个账号",
    "account_name_mismatch": "账户名与户主不符",
    "paid_twice": "重复发放",
    "paid_after_exit": "退出名册后仍发放",
    "above_norm": "超过标准",
    "idle_payables": "长期未发的应付款",
    "pv_household_share": "光伏收益农户占比异常",
}
RETURN_OUTCOMES_ZH = {
    "success": "成功",
    "failure": "失败",
    "unmatched": "找不到对应付款",
    "already_settled": "已经入账",
    "mismatch": "金额不符",
    "duplicate": "重复行",
}


def name_of(names: dict[str, str], code: object) -> str:
    return names.get(str(code), str(code))


TABLES = {
    "count": COUNT_NAMES_ZH,
    "summary": SUMMARY_NAMES_ZH,
    "component": COMPONENT_NAMES_ZH,
    "check": CHECK_NAMES_ZH,
    "return_outcome": RETURN_OUTCOMES_ZH,
    "match_rule": RULE_NAMES_ZH,
    "match_status": STATUS_NAMES_ZH,
}


def zh(code: object, table: str) -> str:
    """A code's Chinese name from ``TABLES[table]``, or the code itself."""
    return name_of(TABLES[table], code)
