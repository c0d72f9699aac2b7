"""Rule files: the examples load; unknown keys and bad values are refused with their path."""

from __future__ import annotations

import hashlib
from fractions import Fraction

import pytest

from disburse.allocations.rules import (
    EXAMPLES_DIRECTORY,
    CoopDividendRule,
    PvRevenueRule,
    RuleError,
    SubsidyRule,
    load_rule,
)

EXAMPLES = EXAMPLES_DIRECTORY
# The example with a capacity written out (the example itself takes it from the register).
PV_TEXT = (
    (EXAMPLES / "pv_revenue.yaml")
    .read_text(encoding="utf-8")
    .replace("station_id: PV-611002-001\n", 'station_id: PV-611002-001\ncapacity_kw: "300"\n')
)


@pytest.mark.parametrize(
    "name, kind",
    [
        ("pv_revenue.yaml", PvRevenueRule),
        ("coop_dividend.yaml", CoopDividendRule),
        ("education_aid.yaml", SubsidyRule),
        ("dibao.yaml", SubsidyRule),
        ("house_repair.yaml", SubsidyRule),
        ("forest_ranger.yaml", SubsidyRule),
        ("medical_topup.yaml", SubsidyRule),
    ],
)
def test_every_example_loads_with_its_text_and_hash(name, kind):
    path = EXAMPLES / name
    rule = load_rule(path)
    assert isinstance(rule, kind)
    assert rule.text == path.read_text(encoding="utf-8")
    assert rule.sha256 == hashlib.sha256(rule.text.encode("utf-8")).hexdigest()


def test_values_are_converted_exactly():
    rule = load_rule(PV_TEXT)
    om, land_rent, insurance = rule.deductions
    assert om.per_watt_year_fen == Fraction(3)  # 0.03 yuan = 3 fen per W per year
    assert land_rent.fixed_per_year_fen == 600_000
    assert insurance.percent_of_revenue == Fraction(1, 200)
    assert rule.capacity_units_e4 == 3_000_000
    assert rule.parts.collective.percent == Fraction(1, 5)
    dividend = load_rule(EXAMPLES / "coop_dividend.yaml")
    assert dividend.pool_fen == 12_000_000 and dividend.floor_rate == Fraction(1, 20)
    assert load_rule(PV_TEXT.replace('percent: "20%"', 'percent: "2000 bps"')).parts.collective.percent == Fraction(
        1, 5
    )


def refused(text: str) -> str:
    with pytest.raises(RuleError) as caught:
        load_rule(text)
    return str(caught.value)


def test_unknown_keys_are_refused_with_their_path():
    message = refused(PV_TEXT.replace("    payee: 保险公司", "    payee: 保险公司\n    colour: red"))
    assert "deductions.2.colour: unknown key" in message
    message = refused(PV_TEXT.replace("stop_on_exit: false", "stop_on_exit: false\nsplit_evenly: true"))
    assert "split_evenly: unknown key" in message


def test_bad_values_are_refused_with_their_path():
    assert "parts.wages.percent" in refused(PV_TEXT.replace('percent: "10%"', "percent: 0.1"))
    assert "quoted string" in refused(PV_TEXT.replace('percent: "10%"', "percent: 0.1"))
    message = refused(PV_TEXT.replace('percent: "10%"', 'percent: "15%"'))
    assert "parts" in message and "105%" in message
    assert "deductions.1.fixed_per_year_yuan" in refused(PV_TEXT.replace('"6000"', '"6000.001"'))
    message = refused(PV_TEXT.replace("op: in", "op: like"))
    assert "eligibility.0.op" in message
    assert "unknown column 'colour'" in refused(PV_TEXT.replace("household.poverty_status", "household.colour"))
    assert "station_id" in refused(PV_TEXT.replace("PV-611002-001\ncapacity", "STATION-1\ncapacity"))
    # An equal per-household split does not exist for PV (严禁简单平均分配).
    assert "parts.households.inactive_share" in refused(
        PV_TEXT.replace("inactive_share: redistribute", "inactive_share: equal_per_household")
    )


def test_dividend_and_subsidy_consistency_checks():
    dividend = (EXAMPLES / "coop_dividend.yaml").read_text(encoding="utf-8")
    assert "ceiling_rate must not be below floor_rate" in refused(
        dividend.replace('ceiling_rate: "10%"', 'ceiling_rate: "3%"')
    )
    assert "collective_id" in refused(
        dividend.replace("exit_handling: collective", 'exit_handling: collective\ncollective_id: "6110020010"')
    )
    repair = (EXAMPLES / "house_repair.yaml").read_text(encoding="utf-8")
    assert "input_list: true" in refused(repair.replace("input_list: true", "input_list: false"))
    assert "basis.type" in refused(repair.replace("type: attribute_table", "type: lottery"))


def test_not_a_rule():
    assert "kind" in refused("name: x\n")
    assert "not valid YAML" in refused("kind: [\n")
    assert "mapping" in refused("- a\n- b\n")
