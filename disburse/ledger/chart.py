"""The chart of accounts: the 2023 village-collective chart (农村集体经济组织会计制度, 财会〔2023〕14号)
and the few sub-accounts the engine needs beyond it.

Account types give the normal balance side: assets, costs and expenses are debit-normal;
liabilities, equity and income are credit-normal.
"""

from __future__ import annotations

from dataclasses import dataclass

ACCOUNT_TYPES = ("asset", "liability", "equity", "cost", "income", "expense")
DEBIT_NORMAL_TYPES = frozenset({"asset", "cost", "expense"})
ACCOUNT_TYPE_NAMES_ZH = {
    "资产": "asset",
    "负债": "liability",
    "所有者权益": "equity",
    "权益": "equity",
    "成本": "cost",
    "收入": "income",
    "损益": "income",
    "费用": "expense",
    "支出": "expense",
}


@dataclass(frozen=True, slots=True)
class Account:
    """A line of the chart: code (sub-accounts as ``211.01``), Chinese name, type."""

    code: str
    name: str
    account_type: str
    description: str = ""

    @property
    def parent_code(self) -> str | None:
        return self.code.rsplit(".", 1)[0] if "." in self.code else None


STANDARD_CHART: tuple[Account, ...] = tuple(
    Account(code, name, kind)
    for code, name, kind in (
        ("101", "库存现金", "asset"),
        ("102", "银行存款", "asset"),
        ("111", "短期投资", "asset"),
        ("112", "应收款", "asset"),
        ("113", "内部往来", "asset"),
        ("121", "库存物资", "asset"),
        ("131", "消耗性生物资产", "asset"),
        ("132", "生产性生物资产", "asset"),
        ("133", "生产性生物资产累计折旧", "asset"),
        ("134", "公益性生物资产", "asset"),
        ("141", "长期投资", "asset"),
        ("151", "固定资产", "asset"),
        ("152", "累计折旧", "asset"),
        ("153", "在建工程", "asset"),
        ("154", "固定资产清理", "asset"),
        ("161", "无形资产", "asset"),
        ("162", "累计摊销", "asset"),
        ("171", "长期待摊费用", "asset"),
        ("181", "待处理财产损溢", "asset"),
        ("201", "短期借款", "liability"),
        ("211", "应付款", "liability"),
        ("212", "应付工资", "liability"),
        ("213", "应付劳务费", "liability"),
        ("214", "应交税费", "liability"),
        ("221", "长期借款及应付款", "liability"),
        ("231", "一事一议资金", "liability"),
        ("241", "专项应付款", "liability"),
        ("301", "资本", "equity"),
        ("311", "公积公益金", "equity"),
        ("321", "本年收益", "equity"),
        ("322", "收益分配", "equity"),
        ("401", "生产(劳务)成本", "cost"),
        ("501", "经营收入", "income"),
        ("502", "投资收益", "income"),
        ("503", "补助收入", "income"),
        ("504", "其他收入", "income"),
        ("511", "经营支出", "expense"),
        ("512", "税金及附加", "expense"),
        ("513", "管理费用", "expense"),
        ("514", "公益支出", "expense"),
        ("515", "其他支出", "expense"),
        ("521", "所得税费用", "expense"),
    )
)
assert len(STANDARD_CHART) == 42

# Codes the engine posts to by name, so no other module spells a bare number.
BANK_DEPOSITS = "102"
PAYMENTS_IN_TRANSIT = "102.90"
RECEIVABLES = "112"
INTERNAL_ACCOUNTS = "113"
PAYABLES = "211"
SUSPENSE = "211.90"
DISTRIBUTION_DECLARED = "322.01"
UNDISTRIBUTED_INCOME = "322.02"
ROUNDING_RESIDUAL = "322.90"
OPERATING_INCOME = "501"
OPERATING_EXPENSES = "511"
MANAGEMENT_EXPENSES = "513"
PUBLIC_WELFARE_EXPENSES = "514"
OTHER_INCOME = "504"

ENGINE_SUB_ACCOUNTS: tuple[Account, ...] = (
    Account(
        PAYMENTS_IN_TRANSIT,
        "银行存款—在途资金",
        "asset",
        "Money sent to the bank in a batch-payment file and not yet confirmed by its return file.",
    ),
    Account(
        SUSPENSE,
        "应付款—待决定款项",
        "liability",
        "Amounts awaiting a decision, e.g. a deceased sole holder's dividend.",
    ),
    Account(
        DISTRIBUTION_DECLARED, "收益分配—各项分配", "equity", "Distributions declared to households and collectives."
    ),
    Account(UNDISTRIBUTED_INCOME, "收益分配—未分配收益", "equity", "Income not yet distributed."),
    Account(
        ROUNDING_RESIDUAL,
        "收益分配—分配尾差",
        "equity",
        "Fen left over by rounding when a rule computes rate x base per line.",
    ),
)

SEED_CHART: tuple[Account, ...] = STANDARD_CHART + ENGINE_SUB_ACCOUNTS


def is_debit_normal(account_type: str) -> bool:
    """True when the account's balance normally sits on the debit side."""
    assert account_type in ACCOUNT_TYPES, account_type
    return account_type in DEBIT_NORMAL_TYPES
