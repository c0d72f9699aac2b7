"""Eligibility checked again at ``runs approve`` (issue #14 item 4): the run's paid lines against
the register as of the day of approval. A change (died, left the register, card closed or
changed since the run was calculated) is listed as a warning; under a rule's
``recheck: {changes: refuse}`` the approval is refused, naming the lines.

What a rule says is read from the rule text the run stored (``recheck_setting``), so a later edit
of the YAML file changes nothing for a run already made; ``payout prepare`` reads it the same way.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from disburse.allocations.rules import RecheckSetting
from disburse.allocations.runs import PAYABLE_PAYEE_TYPES, UNPAID_COMPONENTS
from disburse.allocations.tables import AllocationLineRow, AllocationRunRow
from disburse.foundation.errors import DisburseError
from disburse.foundation.frames import statement_frame
from disburse.foundation.i18n import join_list, tr
from disburse.foundation.validation import problem_message
from disburse.registry.recheck import change_texts, recipient_changes, register_imported_since

CHANGES_SHOWN_MAX = 20


def recheck_setting(rule_text: str | None) -> str:
    """``hold`` or ``refuse``: the ``recheck:`` key of a stored rule text (default ``hold``)."""
    try:
        document = yaml.safe_load(rule_text) if rule_text else None
    except yaml.YAMLError:
        document = None
    value = document.get("recheck") if isinstance(document, dict) else None
    if value is None:
        return RecheckSetting().changes
    try:
        return RecheckSetting.model_validate(value).changes
    except ValidationError as error:  # the rule was validated when the run was made
        raise DisburseError(
            tr("the rule's recheck key is not valid: {problem}", problem=problem_message(error.errors()[0]))
        ) from None


def shown_changes(texts: list[str]) -> str:
    """The first CHANGES_SHOWN_MAX changes, one a line, and how many more."""
    shown = "\n".join(f"  {text}" for text in texts[:CHANGES_SHOWN_MAX])
    more = len(texts) - CHANGES_SHOWN_MAX
    return shown + ("\n" + tr("  … and {count:,} more", count=more) if more > 0 else "")


def _run_recipients(session: Session, run_id: int) -> pd.DataFrame:
    """The run's lines paid through a bank (household and person payees, not held back)."""
    table = AllocationLineRow.__table__
    return statement_frame(
        session,
        select(table.c.line_number, table.c.payee_type, table.c.payee_id, table.c.household_id, table.c.account_no)
        .where(
            table.c.run_id == run_id,
            table.c.payee_type.in_(sorted(PAYABLE_PAYEE_TYPES)),
            table.c.component.not_in(sorted(UNPAID_COMPONENTS)),
        )
        .order_by(table.c.line_number),
    )


def approval_recheck(session: Session, run: AllocationRunRow, today: dt.date) -> str | None:
    """The warning listing the run's recipients whose register standing changed by ``today``
    (None when none did); refused instead under ``recheck: {changes: refuse}``."""
    if not register_imported_since(session, run.calculated_at):
        return None  # the register the run was calculated on is still the newest
    recipients = _run_recipients(session, run.id)
    if len(recipients) == 0:
        return None
    changes = recipient_changes(session, recipients, today)
    if len(changes) == 0:
        return None
    lines = recipients["line_number"].to_numpy(dtype=np.int64)[changes["row"].to_numpy(dtype=np.int64)]
    # One change of a household per text, with every line it touches (a per-person subsidy
    # paid to the household has a line per member).
    grouped = pd.DataFrame({"line": lines, "change": change_texts(changes)}).groupby("change", sort=False)["line"]
    texts = [
        tr("line(s) {lines}: {change}", lines=join_list([str(int(line)) for line in sorted(numbers)]), change=change)
        for change, numbers in grouped
    ]
    line_count = len(lines)
    if recheck_setting(run.rule_text) == "refuse":
        raise DisburseError(
            tr(
                "run {run} is not approved: the register as of {day} shows the recipients of {count:,} of its lines "
                "changed since it was calculated (the rule says recheck: refuse); correct the run (runs cancel, "
                "a new run):\n{changes}",
                run=run.id,
                day=today,
                count=line_count,
                changes=shown_changes(texts),
            )
        )
    return tr(
        "warning: the register as of {day} shows the recipients of {count:,} line(s) of run {run} changed since it was "
        "calculated; payout prepare will leave those lines out and hold their money on 211.90 待决定款项:\n{changes}",
        day=today,
        count=line_count,
        run=run.id,
        changes=shown_changes(texts),
    )
