"""Posting bank-only lines by rules (``disburse reconcile post-unmatched``).

A rules file (YAML, validated by pydantic, unknown keys refused) lists rules in order; the
first rule whose every condition holds decides a line. A rule names the account on the other
side of the bank's 102.xx sub-account, and optionally a fund source:

    rules:
      - name: 银行手续费
        when: {summary_contains: [手续费, 工本费], direction: out}
        account: "513"            # Dr 513 管理费用 / Cr 102.xx
      - name: 存款利息
        when: {summary_contains: [利息, 结息], direction: in}
        account: "504"            # Dr 102.xx / Cr 504 其他收入
      - name: 国网电费结算
        when: {counterparty_name_contains: [国网安康供电公司], direction: in}
        account: "112"            # Dr 102.xx / Cr 112 应收款, fund source the station
        fund_source: PV-001

Each line is posted once: ``unmatched_postings`` remembers the entry written for it, and the
next reconciliation joins the line to that entry's posting. All entries of one call go through
one ``post_entries`` call, dated on the line's day (or the period's first day for a line of an
earlier period) in the period given, which must be open.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from disburse.foundation.actors import require_user
from disburse.foundation.bulk import bulk_insert
from disburse.foundation.dates import iso, period_of
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr
from disburse.foundation.money import format_yuan
from disburse.foundation.validation import problem_lines, validation_problems
from disburse.foundation.yaml_text import load_yaml
from disburse.ledger.model import EntryBatch
from disburse.ledger.posting import post_entries
from disburse.ledger.service import period_is_closed
from disburse.ledger.tables import AccountRow
from disburse.reconciliation.model import ReconciliationResult
from disburse.reconciliation.runs import RunOutcome, compute, run_reconciliation
from disburse.reconciliation.statements import BankAccountRef, bank_account_by_reference
from disburse.reconciliation.tables import utc_now

RULES_MAX = 200
RULES_FILE_BYTES_MAX = 100_000
TEXTS_PER_CONDITION_MAX = 50
SOURCE_KIND = "bank_unmatched"
UNMATCHED_COLUMNS = (
    "statement_line_id",
    "entry_id",
    "posting_id",
    "rule_name",
    "rules_sha256",
    "posted_by",
    "posted_at",
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleCondition(_Model):
    """What a line must show for a rule to take it. Each list holds if any of its texts occurs
    (or, for accounts, equals); every condition given must hold."""

    summary_contains: list[str] = Field(default_factory=list, max_length=TEXTS_PER_CONDITION_MAX)
    memo_contains: list[str] = Field(default_factory=list, max_length=TEXTS_PER_CONDITION_MAX)
    counterparty_name_contains: list[str] = Field(default_factory=list, max_length=TEXTS_PER_CONDITION_MAX)
    counterparty_accounts: list[str] = Field(default_factory=list, max_length=TEXTS_PER_CONDITION_MAX)
    direction: Literal["in", "out", "any"] = "any"

    @model_validator(mode="after")
    def _something_to_test(self) -> "RuleCondition":
        lists = (self.summary_contains, self.memo_contains, self.counterparty_name_contains, self.counterparty_accounts)
        if not any(lists):
            raise ValueError(
                tr(
                    "a rule needs at least one of summary_contains, memo_contains, "
                    "counterparty_name_contains, counterparty_accounts (a direction alone would post every line)"
                )
            )
        if any(not value.strip() for values in lists for value in values):
            raise ValueError(tr("a condition's text may not be blank"))
        return self


class PostRule(_Model):
    """One rule: its name (stored with each entry it posts), its condition, the account on the
    other side of the bank sub-account, an optional fund source and memo prefix."""

    name: str = Field(min_length=1, max_length=100)
    when: RuleCondition
    account: str = Field(min_length=1, max_length=32)
    fund_source: str | None = Field(default=None, min_length=1, max_length=64)
    memo: str | None = Field(default=None, min_length=1, max_length=200)


class RulesFile(_Model):
    """A post-unmatched rules file: rules tried in order, the first that holds decides."""

    rules: list[PostRule] = Field(min_length=1, max_length=RULES_MAX)


@dataclass(frozen=True, slots=True)
class LoadedRules:
    """A validated rules file and the SHA-256 of its bytes (stored with every line it posts)."""

    rules: tuple[PostRule, ...]
    sha256: str
    path: str


def load_rules(path: str | os.PathLike[str]) -> LoadedRules:
    """Read and validate a rules file; every problem is listed in one refusal."""
    name = os.fspath(path)
    data = Path(name).read_bytes()
    if len(data) > RULES_FILE_BYTES_MAX:
        raise DisburseError(
            tr(
                "{name}: {size:,} bytes; a rules file is at most {limit:,}",
                name=name,
                size=len(data),
                limit=RULES_FILE_BYTES_MAX,
            )
        )
    try:
        raw = load_yaml(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise DisburseError(tr("{name}: not a UTF-8 YAML file: {error}", name=name, error=error)) from None
    try:
        parsed = RulesFile.model_validate(raw)
    except ValidationError as error:
        problems = problem_lines(validation_problems(error))
        raise DisburseError(
            tr("{name}: the rules file was refused:\n  {problems}", name=name, problems="\n  ".join(problems))
        ) from None
    return LoadedRules(tuple(parsed.rules), hashlib.sha256(data).hexdigest(), name)


def _contains_any(values: list[object], texts: list[str]) -> np.ndarray:
    return np.array([isinstance(value, str) and any(text_ in value for text_ in texts) for value in values], dtype=bool)


def rules_choose(lines: pd.DataFrame, rules: tuple[PostRule, ...]) -> np.ndarray:
    """For each bank-only line (columns of ``BANK_ONLY_COLUMNS``), the index of the first rule
    that takes it, or −1."""
    chosen = np.full(len(lines), -1, dtype=np.int64)
    if lines.empty:
        return chosen
    amounts = lines["amount_fen"].to_numpy(dtype=np.int64)
    columns = {
        name: lines[name].astype(object).where(lines[name].notna(), None).tolist()
        for name in ("summary", "memo", "counterparty_name", "counterparty_account")
    }
    for index, rule in enumerate(rules):
        condition = rule.when
        holds = np.ones(len(lines), dtype=bool)
        if condition.direction == "in":
            holds &= amounts > 0
        elif condition.direction == "out":
            holds &= amounts < 0
        for texts, column in (
            (condition.summary_contains, "summary"),
            (condition.memo_contains, "memo"),
            (condition.counterparty_name_contains, "counterparty_name"),
        ):
            if texts:
                holds &= _contains_any(columns[column], texts)
        if condition.counterparty_accounts:
            wanted = {value.strip() for value in condition.counterparty_accounts}
            holds &= np.array([value in wanted for value in columns["counterparty_account"]], dtype=bool)
        chosen[(chosen == -1) & holds] = index
    return chosen


@dataclass(frozen=True, slots=True, eq=False)
class PostUnmatchedOutcome:
    """What post-unmatched did: lines posted per rule, their entries, the lines no rule took,
    and the reconciliation stored afterwards."""

    posted: tuple[tuple[str, int, int], ...]  # (rule name, lines, net amount into the bank in fen)
    entry_ids: tuple[int, ...]
    left_over: pd.DataFrame
    run: RunOutcome | None
    changed: bool
    message: str


def _bank_only_to_post(
    session: Session, account: BankAccountRef, result: ReconciliationResult, end: dt.date
) -> pd.DataFrame:
    lines = result.bank_only
    lines = lines[lines["booked_on"] <= pd.Timestamp(end)].reset_index(drop=True)
    if lines.empty:
        return lines
    ids = lines["line_id"].astype(np.int64).tolist()
    posted: set[int] = set()
    statement = text("SELECT statement_line_id FROM unmatched_postings WHERE statement_line_id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    for start in range(0, len(ids), 10_000):
        posted.update(int(value) for value in session.scalars(statement, {"ids": ids[start : start + 10_000]}))
    return lines[~lines["line_id"].isin(posted)].reset_index(drop=True)


def _entries(
    account: BankAccountRef,
    period: str,
    start: dt.date,
    lines: pd.DataFrame,
    rules: tuple[PostRule, ...],
    chosen: np.ndarray,
) -> EntryBatch:
    """One entry per line: the bank sub-account moves by the line's amount, the rule's account
    by the opposite (a fee: Dr 513 / Cr 102.xx; interest: Dr 102.xx / Cr 504)."""
    count = len(lines)
    amounts = lines["amount_fen"].to_numpy(dtype=np.int64)
    days = [max(pd.Timestamp(value).date(), start) for value in lines["booked_on"].tolist()]
    memos = []
    for rule_index, summary, txn in zip(chosen.tolist(), lines["summary"].tolist(), lines["line_id"].tolist()):
        rule = rules[rule_index]
        memo = f"{rule.memo or rule.name} {summary or ''} 对账单行 {txn}".strip()
        memos.append(memo[:500])
    return EntryBatch(
        entity_code=[account.entity_code] * count,
        period=[period] * count,
        entry_date=days,
        memo=memos,
        source_kind=[SOURCE_KIND] * count,
        source_reference=[f"statement line {int(line_id)}" for line_id in lines["line_id"].tolist()],
        reverses_entry_id=[None] * count,
        label=[
            f"statement line {int(line_id)} ({rules[index].name})" for line_id, index in zip(lines["line_id"], chosen)
        ],
        posting_entry_index=np.repeat(np.arange(count, dtype=np.int64), 2),
        account_code=[
            code for index in chosen.tolist() for code in (account.ledger_account_code, rules[index].account)
        ],
        amount_fen=np.column_stack([amounts, -amounts]).reshape(-1).astype(np.int64),
        household_id=[None] * (2 * count),
        fund_source=[value for index in chosen.tolist() for value in (None, rules[index].fund_source)],
        payment_reference=[None] * (2 * count),
    )


def _checked_rules(session: Session, reference: BankAccountRef, rules_path: str | os.PathLike[str]) -> LoadedRules:
    """The rules file, refused whole if a rule names an unknown account or the bank's own."""
    loaded = load_rules(rules_path)
    codes = set(session.scalars(select(AccountRow.code)).all())
    problems = [
        tr(
            "rule {rule}: account {account} is not in the chart of accounts",
            rule=repr(rule.name),
            account=repr(rule.account),
        )
        for rule in loaded.rules
        if rule.account not in codes
    ]
    problems += [
        tr(
            "rule {rule}: account {account} is this bank account's own sub-account",
            rule=repr(rule.name),
            account=rule.account,
        )
        for rule in loaded.rules
        if rule.account == reference.ledger_account_code
    ]
    if problems:
        raise DisburseError(
            tr(
                "{path}: the rules were refused; nothing was posted:\n  {problems}",
                path=loaded.path,
                problems="\n  ".join(problems),
            )
        )
    return loaded


def _remember_postings(
    session: Session,
    reference: BankAccountRef,
    entry_ids: list[int],
    line_ids: list[int],
    chosen: np.ndarray,
    loaded: LoadedRules,
    user: str,
) -> None:
    """Which entry and posting each line was posted as (so it is never posted again)."""
    written = session.execute(
        text(
            "SELECT e.id, e.source_reference, p.id AS posting_id FROM journal_entries e JOIN postings p ON p.entry_id "
            "= e.id WHERE e.id BETWEEN :first AND :last AND p.account_code = :code"
        ),
        {"first": entry_ids[0], "last": entry_ids[-1], "code": reference.ledger_account_code},
    ).all()
    by_line = {int(row.source_reference.rsplit(" ", 1)[1]): (int(row.id), int(row.posting_id)) for row in written}
    assert set(by_line) == set(line_ids), "every entry posted belongs to one line"
    posted_at = iso(utc_now())
    bulk_insert(
        session,
        "unmatched_postings",
        UNMATCHED_COLUMNS,
        [
            (
                line_id,
                by_line[line_id][0],
                by_line[line_id][1],
                loaded.rules[index].name[:100],
                loaded.sha256,
                user,
                posted_at,
            )
            for line_id, index in zip(line_ids, chosen.tolist())
        ],
    )


def _posted_message(
    account: str, period: str, summary: dict[str, list[int]], lines: int, entries: int, left: int
) -> str:
    """What post_unmatched did: lines and entries by rule, and the lines no rule takes."""
    shown = tr("; ").join(
        tr(
            "{rule}: {count} line(s), {amount} yuan",
            rule=name,
            count=count,
            amount=("+" if amount > 0 else "") + format_yuan(amount),
        )
        for name, (count, amount) in summary.items()
    )
    return tr(
        "{account} {period}: posted {lines} bank-only line(s) in {entries} entries ({shown}); "
        "{left} line(s) match no rule",
        account=account,
        period=period,
        lines=f"{lines:,}",
        entries=f"{entries:,}",
        shown=shown,
        left=f"{left:,}",
    )


def post_unmatched(
    session: Session, account: str | BankAccountRef, period: str, rules_path: str | os.PathLike[str], user: str
) -> PostUnmatchedOutcome:
    """Post the period's bank-only lines that a rule takes, each line once, in one post; then
    reconcile the period again so the new entries join their lines. Refuses a closed period, a
    rule naming an unknown account or the bank's own sub-account."""
    require_user(user)
    reference = account if isinstance(account, BankAccountRef) else bank_account_by_reference(session, account)
    loaded = _checked_rules(session, reference, rules_path)
    inputs, result, _, _ = compute(session, reference, period)
    if period_is_closed(session, reference.entity_id, period):
        raise DisburseError(
            tr(
                "period {period} of {entity} is closed; post the bank-only lines into "
                "an open period (run post-unmatched with that period)",
                period=period,
                entity=reference.entity_code,
            )
        )
    lines = _bank_only_to_post(session, reference, result, inputs.dates.end)
    chosen = rules_choose(lines, loaded.rules)
    taken = lines[chosen >= 0].reset_index(drop=True)
    left_over = lines[chosen < 0].reset_index(drop=True)
    chosen = chosen[chosen >= 0]
    if taken.empty:
        message = (
            tr(
                "{account} {period}: nothing to post; {count} bank-only line(s) match no rule",
                account=reference.describe(),
                period=period,
                count=f"{len(left_over):,}",
            )
            if len(left_over)
            else tr(
                "{account} {period}: nothing to post; no bank-only lines", account=reference.describe(), period=period
            )
        )
        return PostUnmatchedOutcome((), (), left_over, None, False, message)
    assert all(
        period_of(day) == period
        for day in [max(pd.Timestamp(value).date(), inputs.dates.start) for value in taken["booked_on"].tolist()]
    )
    batch = _entries(reference, period, inputs.dates.start, taken, loaded.rules, chosen)
    line_ids = taken["line_id"].astype(np.int64).tolist()
    key_digest = hashlib.sha256(",".join(str(value) for value in line_ids).encode()).hexdigest()[:32]
    posted = post_entries(
        session, batch, idempotency_key=f"reconcile-unmatched:{reference.id}:{period}:{key_digest}", user=user
    )
    entry_ids = list(posted.entry_ids)
    _remember_postings(session, reference, entry_ids, line_ids, chosen, loaded, user)
    summary: dict[str, list[int]] = {}
    for index, amount in zip(chosen.tolist(), taken["amount_fen"].tolist()):
        totals = summary.setdefault(loaded.rules[index].name, [0, 0])
        totals[0] += 1
        totals[1] += int(amount)
    run = run_reconciliation(session, reference, period, user)
    message = _posted_message(reference.describe(), period, summary, len(line_ids), len(entry_ids), len(left_over))
    return PostUnmatchedOutcome(
        tuple((name, values[0], values[1]) for name, values in summary.items()),
        tuple(entry_ids),
        left_over,
        run,
        True,
        message,
    )
