"""A small subsidy over the tiny county (tiny_county.py) and budget indicator files, for the
budget indicator tests: H1 and H2 are 未脱贫 and get 150.00 each, 300.00 in all; H3 (已脱贫) none."""

from __future__ import annotations

from pathlib import Path

FUNDS_HEADER = "指标文号,资金名称,资金级次,资金性质,功能科目,年度,金额,可用于项目\n"
OLD_FUND, NEW_FUND = "商财社〔2025〕9号", "商财社〔2026〕3号"
# The old one (2025) cannot carry a 300.00 run; the new one can.
FUNDS = (
    FUNDS_HEADER
    + f"{OLD_FUND},2025年困难群众救助补助资金,省,一般公共预算,2082001,2025,200.00,test_aid\n"
    + f'{NEW_FUND},2026年困难群众救助补助资金,中央,一般公共预算,2082001,2026,"1,000.00",test_aid、其他项目\n'
)
RULE = """kind: subsidy
name: 2026年10月测试救助金
programme: test_aid
paying_entity: COUNTY
fund_source: 困难群众救助资金
expense_account_code: "514"
population:
  - {field: household.poverty_status, op: in, value: [未脱贫]}
basis:
  type: attribute_table
  counted_per: household
  paid_to: household
  amount_per: month
  entries:
    - {label: 每户, amount_yuan: "150", when: [{field: household.poverty_status, op: eq, value: 未脱贫}]}
"""


def write_funds(directory: Path, text: str = FUNDS, name: str = "资金指标.csv") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def write_rule(directory: Path) -> Path:
    path = directory / "test_aid.yaml"
    path.write_text(RULE, encoding="utf-8")
    return path
