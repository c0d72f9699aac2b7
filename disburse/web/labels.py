"""Names for the codes the stages return (counts, summary figures, check names, return outcomes),
for the pages only: English ids marked for the catalog and translated when a page shows them; a
code without a name here is shown as it is. The stages' own tables (component, match rule and
status names) are used where they exist."""

from __future__ import annotations

from disburse.allocations.names import component_name, rule_kind_name, source_name, summary_name
from disburse.allocations.runs import RUN_STATUS_NAMES
from disburse.foundation.i18n import TranslatedNames, tr_noop
from disburse.payouts.model import BATCH_STATUS_NAMES, INSTRUCTION_STATUS_NAMES
from disburse.payouts.sends import RESULT_NAMES
from disburse.reconciliation.report import RULE_NAMES_ZH, STATUS_NAMES_ZH
from disburse.registry.model import COUNT_NAMES

CHECK_NAMES = TranslatedNames(
    {
        "paid_after_death": tr_noop("paid after death"),
        "person_in_two_households": tr_noop("one person in two households"),
        "shared_bank_account": tr_noop("one account shared by several households"),
        "account_name_mismatch": tr_noop("account name differs from the head of household"),
        "paid_twice": tr_noop("paid twice"),
        "paid_after_exit": tr_noop("paid after leaving the register"),
        "above_norm": tr_noop("above the norm"),
        "idle_payables": tr_noop("payables unpaid for long"),
        "pv_household_share": tr_noop("unusual households' share of PV income"),
    }
)
RETURN_OUTCOMES = TranslatedNames(
    {
        "success": tr_noop("success"),
        "failure": tr_noop("failure"),
        "unmatched": tr_noop("no payment found"),
        "already_settled": tr_noop("already settled"),
        "mismatch": tr_noop("amount differs"),
        "duplicate": tr_noop("duplicate line"),
    }
)


TABLES = {
    "count": COUNT_NAMES,
    "check": CHECK_NAMES,
    "return_outcome": RETURN_OUTCOMES,
    "match_rule": RULE_NAMES_ZH,
    "match_status": STATUS_NAMES_ZH,
    "run_status": RUN_STATUS_NAMES,
    "batch_status": TranslatedNames(BATCH_STATUS_NAMES),
    "batch_result": RESULT_NAMES,
    "instruction_status": TranslatedNames(INSTRUCTION_STATUS_NAMES),
}


# Codes whose names are made by a function (a rule's own deduction has a name made of its code).
NAMERS = {"summary": summary_name, "component": component_name, "rule_kind": rule_kind_name, "source": source_name}


def zh(code: object, table: str) -> str:
    """A code's name from ``TABLES[table]`` in the page's language, or the code itself."""
    if table in NAMERS:
        return NAMERS[table](code)
    return TABLES[table].get(str(code), str(code))
