"""No double benefit (同类不得重复享受): a payee is never in two live batches for the same
programme — or two programmes configured as one purpose (``purposes.yaml``) — and period.

A live batch is one that is prepared, approved or exported (not closed, not cancelled), and a
payee is in it while a payment of it to them is pending, exported or succeeded (its claims
are active). ``double_benefit_problems`` is asked by ``payout prepare`` under the payouts lock,
so two prepares at once see each other's batches.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import text
from sqlalchemy.orm import Session

from disburse.foundation.errors import DisburseError
from disburse.foundation.frames import per_distinct
from disburse.foundation.i18n import join_clauses, tr
from disburse.foundation.masking import mask_payee
from disburse.foundation.validation import validation_problems

DEFAULT_PURPOSES_PATH = Path(__file__).with_name("purposes.yaml")
PURPOSES_ENVIRONMENT_VARIABLE = "DISBURSE_PURPOSES_CONFIG"
PURPOSE_GROUPS_MAX = 1_000
PROGRAMMES_PER_GROUP_MAX = 100
CONFLICTS_SHOWN_MAX = 10
KEY_COLUMNS = ["payee_type", "payee_id", "purpose", "period"]


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=200)
    programmes: list[str] = Field(min_length=2, max_length=PROGRAMMES_PER_GROUP_MAX)


class _PurposesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    groups: list[_Group] = Field(default_factory=list, max_length=PURPOSE_GROUPS_MAX)


@dataclass(frozen=True, slots=True)
class Purposes:
    """Programme (a rule name or a subsidy's programme key) → the purpose group it belongs to."""

    group_of: dict[str, str]

    def purpose(self, programme: str, subject: str | None) -> str:
        """The purpose a payable of ``programme`` (run subject ``subject``) pays."""
        group = self.group_of.get(programme) or (self.group_of.get(subject) if subject else None)
        return f"group:{group}" if group else f"programme:{programme}"


def load_purposes(path: str | Path | None = None) -> Purposes:
    """Read the purposes file (default ``payouts/purposes.yaml`` or DISBURSE_PURPOSES_CONFIG);
    a programme named in two groups is refused."""
    chosen = Path(path or os.environ.get(PURPOSES_ENVIRONMENT_VARIABLE) or DEFAULT_PURPOSES_PATH)
    try:
        parsed = _PurposesFile.model_validate(yaml.safe_load(chosen.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError) as error:
        raise DisburseError(tr("{path}: cannot read the purposes file: {error}", path=chosen, error=error)) from None
    except ValidationError as error:
        location, problem = validation_problems(error)[0]
        raise DisburseError(
            tr("{path}: {location}: {problem}", path=chosen, location=location, problem=problem)
        ) from None
    group_of: dict[str, str] = {}
    for group in parsed.groups:
        for programme in group.programmes:
            if group_of.get(programme, group.name) != group.name:
                raise DisburseError(
                    tr(
                        "{path}: programme {programme!r} is in two purpose groups ({first}, {second})",
                        path=chosen,
                        programme=programme,
                        first=group_of[programme],
                        second=group.name,
                    )
                )
            group_of[programme] = group.name
    return Purposes(group_of)


def _subjects(session: Session, run_ids: list[int]) -> dict[int, str]:
    if not run_ids:
        return {}
    rows = session.execute(
        text(f"SELECT id, rule_subject FROM allocation_runs WHERE id IN ({', '.join(str(int(i)) for i in run_ids)})")
    ).all()
    return {int(run_id): str(subject) for run_id, subject in rows}


def _with_purpose(frame: pd.DataFrame, subjects: dict[int, str], purposes: Purposes) -> pd.DataFrame:
    """``frame`` with each payable's purpose, decided once per distinct (programme, run): a batch
    of a million payables comes from a handful of runs."""
    frame = frame.copy()
    frame["purpose"] = per_distinct(
        zip(frame["programme"].tolist(), frame["run_id"].tolist()),
        lambda pair: purposes.purpose(pair[0], None if pd.isna(pair[1]) else subjects.get(int(pair[1]))),
    )
    return frame


def _live_claims(session: Session) -> pd.DataFrame:
    """Every payable in a live batch with its batch and payment reference."""
    rows = session.execute(
        text(
            "SELECT p.payee_type, p.payee_id, p.programme, p.period, p.run_id, b.batch_reference, i.payment_reference "
            "FROM payment_batches b JOIN payment_instructions i ON i.batch_id = b.id "
            "JOIN instruction_payables l ON l.instruction_id = i.id AND l.active "
            "JOIN payables p ON p.id = l.payable_id "
            "WHERE (b.status = 'prepared' OR b.status = 'approved' OR b.status = 'exported') "
            "AND (i.status = 'pending' OR i.status = 'exported' OR i.status = 'success')"
        )
    ).all()
    columns = ["payee_type", "payee_id", "programme", "period", "run_id", "batch_reference", "payment_reference"]
    return pd.DataFrame(rows, columns=columns)


def _shown(lines: list[str], what: str) -> str:
    more = len(lines) - CONFLICTS_SHOWN_MAX
    rest = tr("; and {count:,} more", count=more) if more > 0 else ""
    return tr("{what}: {lines}{rest}", what=what, lines=join_clauses(lines[:CONFLICTS_SHOWN_MAX]), rest=rest)


def _payee(row) -> str:  # type: ignore[no-untyped-def]
    if row.payee_type == "person":
        return tr("person {payee}", payee=mask_payee(row.payee_id))
    return tr("household {payee}", payee=mask_payee(row.payee_id))


def double_benefit_problems(session: Session, due: pd.DataFrame, purposes: Purposes | None = None) -> list[str]:
    """Refusals for the payables ``due`` to go into a new batch (columns payee_type, payee_id,
    programme, period, run_id): a payee already in a live batch for the same purpose and
    period, and a payee owed two different programmes of one purpose for one period here."""
    if len(due) == 0:
        return []
    purposes = purposes or load_purposes()
    live = _live_claims(session)
    run_ids = sorted({int(run) for run in pd.concat([due["run_id"], live["run_id"]]).dropna().tolist()})
    subjects = _subjects(session, run_ids)
    due = _with_purpose(due[["payee_type", "payee_id", "programme", "period", "run_id"]], subjects, purposes)
    problems = []
    if len(live):
        live = _with_purpose(live, subjects, purposes)
        clash = due.drop_duplicates(KEY_COLUMNS).merge(live.drop_duplicates(KEY_COLUMNS), on=KEY_COLUMNS)
        lines = [
            tr(
                "{payee} is already in live batch {batch}, payment {payment} ({programme}, {period}); this prepare "
                "would pay it {again} for {period} again",
                payee=_payee(row),
                batch=row.batch_reference,
                payment=row.payment_reference,
                programme=row.programme_y,
                period=row.period,
                again=row.programme_x,
            )
            for row in clash.sort_values(["batch_reference", "payment_reference"]).itertuples(index=False)
        ]
        if lines:
            what = tr("{count:,} payee(s) would be paid twice for one purpose and period", count=len(lines))
            problems.append(_shown(lines, what))
    # A payee can be owed two programmes of one purpose only when some purpose has two
    # programmes here; asking that of the few (purpose, programme) pairs first spares grouping
    # every payee (a second of a 300,000-payee prepare) in the usual batch.
    pairs = due[["purpose", "programme"]].drop_duplicates()
    twice = pd.Series(dtype="int64")
    if pairs["purpose"].duplicated().any():
        programmes = due.groupby(KEY_COLUMNS, sort=True)["programme"].nunique()
        twice = programmes[programmes > 1]
    if len(twice):
        lines = []
        for key in twice.index[: CONFLICTS_SHOWN_MAX + 1]:
            names = sorted(
                set(due.loc[(due[KEY_COLUMNS] == pd.Series(key, index=KEY_COLUMNS)).all(axis=1), "programme"])
            )
            payee = _payee(pd.Series(key, index=KEY_COLUMNS))
            lines.append(
                tr(
                    "{payee} is owed {programmes} for {period}, one purpose (同类不得重复享受)",
                    payee=payee,
                    programmes=tr(" and ").join(names),
                    period=key[3],
                )
            )
        problems.append(
            _shown(lines, tr("{count:,} payee(s) are owed two programmes of one purpose", count=len(twice)))
        )
    return problems
