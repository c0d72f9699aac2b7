"""The display names of the codes allocations write (line components, summary figures, rule
kinds, deductions and the settlement rows a PV run took), for every face that shows them: the
CLI, run explanations and exports, the pages. A code is an identifier and stays one in the
database; a person reads its name, in the language of the moment (``TranslatedNames``), and a
code without a name is shown as it is.
"""

from __future__ import annotations

import re

from disburse.foundation.i18n import TranslatedNames, current_language, join_list, language, tr, tr_noop, tr_stored
from disburse.importers.register import REGISTER_SPEC
from disburse.importers.settlements import REVENUE_TYPE_IDS, REVENUE_TYPE_NAMES

COMPONENT_NAMES = {
    "household_share": tr_noop("household income share"),
    "collective_share": tr_noop("village collective income"),
    "public_welfare_wage": tr_noop("public welfare job wages"),
    "wage_pool_unused": tr_noop("unused public welfare wage pool"),
    "om_deduction": tr_noop("operation and maintenance fee"),
    "land_rent_deduction": tr_noop("land rent"),
    "insurance_deduction": tr_noop("insurance premium"),
    "inactive_claims_residual": tr_noop("rounding residue of inactive shares"),
    "unclaimed_part": tr_noop("share with no one to receive it"),
    "dividend": tr_noop("dividend from converted funds"),
    "exit_reverted": tr_noop("shares taken back on exit"),
    "floor_shortfall": tr_noop("guaranteed dividend owed"),
    "suspense_deceased": tr_noop("dividend of deceased holders held in suspense"),
    "cap_held_back": tr_noop("held back by the cap"),
    "benefit": tr_noop("benefit payment"),
}
COMPONENT_DISPLAY = TranslatedNames(COMPONENT_NAMES)

# The usual deductions of a PV rule (``deductions: - name: om``); a rule may name others, and may
# give any deduction its own ``label`` (shown instead of these).
DEDUCTION_NAMES = TranslatedNames(
    {
        "om": tr_noop("operation and maintenance fee"),
        "land_rent": tr_noop("land rent"),
        "insurance": tr_noop("insurance premium"),
        "management": tr_noop("management fee"),
        "tax": tr_noop("tax"),
        "repair": tr_noop("repair fund"),
    }
)

# The programmes of the example subsidy rules (``programme: dibao``): a subsidy run's lines carry
# the programme as their component. Another programme is shown by its code.
PROGRAMME_NAMES = TranslatedNames(
    {
        "dibao": tr_noop("minimum living allowance"),
        "education_aid": tr_noop("education aid"),
        "forest_ranger": tr_noop("ecological forest ranger wages"),
        "house_repair": tr_noop("dilapidated house repair subsidy"),
        "medical_topup": tr_noop("medical expenses top-up"),
    }
)

RULE_KIND_NAMES = TranslatedNames(
    {
        "pv_revenue": tr_noop("PV station income"),
        "coop_dividend": tr_noop("cooperative dividend"),
        "subsidy": tr_noop("subsidy"),
    }
)

SUMMARY_NAMES = TranslatedNames(
    {
        "pool_fen": tr_noop("amount to allocate"),
        "distributable_fen": tr_noop("distributable income"),
        "part_collective_fen": tr_noop("village collective part"),
        "part_wages_fen": tr_noop("public-welfare jobs part"),
        "part_households_fen": tr_noop("households part"),
        "wages_owed_fen": tr_noop("public-welfare wages owed"),
        "wages_paid_fen": tr_noop("public-welfare wages paid"),
        "unpaid_wages_fen": tr_noop("wages unpaid"),
        "wage_pool_unused_fen": tr_noop("public-welfare jobs pool left over"),
        "residual_fen": tr_noop("rounding remainder"),
        "inactive_claims_residual_fen": tr_noop("remainder of shares not in force"),
        "holders_paid": tr_noop("households paid"),
        "payees": tr_noop("payees (people or households)"),
        "excluded": tr_noop("left out"),
        "suspense_deceased_fen": tr_noop("held for deceased holders"),
        "exit_reverted_fen": tr_noop("shares taken back on exit"),
        "unclaimed_fen": tr_noop("share with no one to receive it"),
        "advance_fen": tr_noop("paid before the money arrived"),
        "settlements_allocated": tr_noop("settlement rows allocated"),
        "settlements_not_received": tr_noop("settlement rows not yet received"),
        "not_received_fen": tr_noop("settlement amount not yet received"),
        "settlements_refused": tr_noop("settlement rows refused"),
        "refused_fen": tr_noop("settlement amount refused"),
        "wage_roster_not_paid_fen": tr_noop("wage roster not paid"),
        "floors_fen": tr_noop("guaranteed dividends"),
        "excess_fen": tr_noop("pool above the guaranteed dividends"),
        "shortfall_fen": tr_noop("guaranteed dividend owed"),
        "cap_held_back_fen": tr_noop("held back by the cap"),
    }
)

_DEDUCTION_COMPONENT = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)_deduction$")
_DEDUCTION_FIGURE = re.compile(r"^deduction_(?P<name>[a-z][a-z0-9_]*?)(?P<uncovered>_uncovered)?_fen$")
# A PV run's source reference (``gathering.settlement_reference``): ``settlement 11 2025Q1 subsidy``.
_SETTLEMENT_REFERENCE = re.compile(r"^settlement (?P<id>\d+) (?P<period>\S+) (?P<revenue_type>\S+)$")


def deduction_name(code: str, label: str | None = None) -> str:
    """A deduction's name: the rule's ``label``, else the usual name of its code, else the code."""
    return label or DEDUCTION_NAMES.get(code, code)


def component_name(code: object) -> str:
    """A line component's name (``om_deduction`` → 运维费, a subsidy's programme ``dibao`` →
    低保金); a rule's own deduction or programme by its code."""
    text = str(code)
    if text in COMPONENT_DISPLAY:
        return COMPONENT_DISPLAY[text]
    if text in PROGRAMME_NAMES:
        return PROGRAMME_NAMES[text]
    deduction = _DEDUCTION_COMPONENT.match(text)
    if deduction is not None:
        return tr("{deduction} (deduction)", deduction=deduction_name(deduction["name"]))
    return text


def summary_name(key: object) -> str:
    """A summary figure's name (``deduction_om_fen`` → 扣除运维费), else the key without ``_fen``."""
    text = str(key)
    if text in SUMMARY_NAMES:
        return SUMMARY_NAMES[text]
    deduction = _DEDUCTION_FIGURE.match(text)
    if deduction is not None:
        name = deduction_name(deduction["name"])
        if deduction["uncovered"]:
            return tr("{deduction} not covered by the income", deduction=name)
        return tr("{deduction} deducted", deduction=name)
    return text.removesuffix("_fen")


def rule_kind_name(kind: object) -> str:
    return RULE_KIND_NAMES.get(str(kind), str(kind))


def revenue_type_name(code: object) -> str:
    return REVENUE_TYPE_NAMES.get(str(code), str(code))


def source_name(reference: object) -> str:
    """A stored source reference as a person reads it: ``settlement 11 2025Q1 subsidy`` →
    ``结算单第 11 行（2025Q1 国家补贴）``; any other reference as it is."""
    return str(source_stored(reference))


def source_stored(reference: object) -> str:
    """``source_name`` as a StoredMessage (for a note stored with a run and shown later in the
    reader's language); any other reference as it is."""
    text = "" if reference is None else str(reference)
    found = _SETTLEMENT_REFERENCE.match(text)
    if found is None:
        return text
    revenue_type = REVENUE_TYPE_IDS.get(found["revenue_type"])
    return tr_stored(
        "settlement row {id} ({period} {revenue_type})",
        id=found["id"],
        period=found["period"],
        revenue_type=found["revenue_type"] if revenue_type is None else tr_stored(revenue_type),
    )


def in_chinese(name_of, code: object) -> str:  # type: ignore[no-untyped-def]
    """``name_of(code)`` in Chinese whatever the language of the moment (the run export, whose
    headers are Chinese)."""
    if current_language() == "zh":
        return name_of(code)
    with language("zh"):
        return name_of(code)


# A rule's filter as a person reads it. In English the rule's own words (``household.poverty_status
# eq 已脱贫``), so that it can be found in the rule file; in Chinese the register's column headers
# and words for the operators (``户.贫困状态 等于 已脱贫``).
FILTER_SCOPE_TEMPLATES = {
    "household": tr_noop("household.{column}"),
    "person": tr_noop("person.{column}"),
    "any_member": tr_noop("any_member.{column}"),
    "input": tr_noop("input.{column}"),
}
FILTER_OPERATOR_TEMPLATES = {
    "in": tr_noop("{field} in [{value}]"),
    "not_in": tr_noop("{field} not_in [{value}]"),
    "eq": tr_noop("{field} eq {value}"),
    "ne": tr_noop("{field} ne {value}"),
    "gte": tr_noop("{field} gte {value}"),
    "lte": tr_noop("{field} lte {value}"),
    "is_null": tr_noop("{field} is null"),
    "not_null": tr_noop("{field} not null"),
}
# The register's headers (the users' own words, as the 建档立卡 export writes them), and those of
# the columns the engine derives from it.
COLUMN_HEADERS = {
    **{column.alias_en: column.name_zh for column in REGISTER_SPEC.columns},
    "head_name": "户主姓名",
    "head_id_number": "户主证件号码",
    "member_count": "家庭人口数",
    "birth_date": "出生日期",
}


def field_name(field: str) -> str:
    """A filter's field: ``household.poverty_status`` (English) or ``户.贫困状态`` (Chinese)."""
    scope, _, column = field.partition(".")
    template = FILTER_SCOPE_TEMPLATES.get(scope)
    if template is None:
        return field
    shown = COLUMN_HEADERS.get(column, column) if current_language() == "zh" and scope != "input" else column
    return tr(template, column=shown)


def filter_description(field: str, op: str, value: object) -> str:
    """``household.poverty_status in [未脱贫, 返贫]`` / ``户.贫困状态 为 未脱贫、返贫 之一``."""
    shown = join_list(value) if isinstance(value, (list, tuple)) else str(value)
    template = FILTER_OPERATOR_TEMPLATES.get(op)
    if template is None:
        return f"{field_name(field)} {op} {shown}"
    return tr(template, field=field_name(field), value=shown)
