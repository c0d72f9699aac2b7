"""Allocation runs: compute a rule over the registers as of its period, store the result, and
take it through approval (a second person) to balanced entries in the paying entity's books.

The math is the pure functions of this package; ``gathering`` collects their inputs from the
registers and files and checks the rule against them; this module stores what they return and
hands entries to the ledger's poster (the only code that writes postings). A run never commits:
the command around it does, once. Recording a posted run's payables is the payouts stage's,
called by the same command (``PostOutcome.payables``); reversing a posted run is ``reversal``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from disburse.allocations.explaining import explain
from disburse.allocations.frames import COLLECTIVE_ACCOUNT, HOUSEHOLD_CARD
from disburse.allocations.funds import choose_indicator, draw_for_run, fund_source_with, run_draw_fen
from disburse.allocations.gathering import gather, month_bounds
from disburse.allocations.model import AllocationResult, Step
from disburse.allocations.names import COMPONENT_DISPLAY
from disburse.allocations.review_chain import review_chain_of
from disburse.allocations.rules import CoopDividendRule, PvRevenueRule, RuleError, SubsidyRule, load_rule
from disburse.allocations.tables import (
    AllocationExclusionRow,
    AllocationLineRow,
    AllocationRunRow,
    AllocationStepRow,
    SettlementAllocationRow,
    utc_now,
)
from disburse.foundation.bulk import frame_insert
from disburse.foundation.dates import period_of
from disburse.foundation.errors import DisburseError
from disburse.foundation.frames import object_array, statement_frame, text_or_none
from disburse.foundation.i18n import (
    TranslatedNames,
    join_clauses,
    language,
    render_stored,
    stored_form,
    tr,
    tr_noop,
    tr_stored,
)
from disburse.ledger.model import EntryBatch
from disburse.ledger.posting import post_entries
from disburse.ledger.service import entity_by_code

# A journal entry holds at most this many household lines (line numbers are SMALLINT); a
# village rarely has more, and a larger group is split over several entries.
ENTRY_LINES_MAX = 20_000
FUND_SOURCE_LENGTH_MAX = 64
# Lines that are not paid to anyone through a bank: held back for a decision or by a cap.
UNPAID_COMPONENTS = frozenset({"suspense_deceased", "cap_held_back"})
PAYABLE_PAYEE_TYPES = frozenset({"household", "person"})
# Beside the beneficiary (beneficiary_id), each line names whose card it is paid into, the
# beneficiary's name and the head of household (issue #14 item 7).
PARTY_COLUMNS = ("card_kind", "beneficiary_name", "head_name")
# The line figures stored for `runs explain` (nullable integers).
LINE_FIGURE_COLUMNS = (
    "share_pool_fen",
    "units_e4",
    "principal_fen",
    "active_days",
    "floor_fen",
    "pro_rata_fen",
    "cap_fen",
    "owed_fen",
    "unpaid_fen",
)
LINE_TEXT_COLUMNS = (
    "household_id",
    "village_code",
    "share_numerator",
    "share_denominator",
    "account_no",
    "account_name",
    "source_reference",
    "beneficiary_id",
    *PARTY_COLUMNS,
)

# Kept under its old name: the component names in the current language (Chinese by default).
COMPONENT_NAMES_ZH = COMPONENT_DISPLAY
# A run's status (allocations.tables.RUN_STATUSES) as the CLI and the pages show it.
RUN_STATUS_NAMES = TranslatedNames(
    {
        "calculated": tr_noop("calculated, to be reviewed"),
        "approved": tr_noop("approved"),
        "posted": tr_noop("posted"),
        "cancelled": tr_noop("cancelled"),
        "superseded": tr_noop("superseded"),
        "reversed": tr_noop("reversed"),
    }
)


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What `allocate` did: the run (stored or, for a dry run, not), and its result."""

    run_id: int | None
    created: bool
    result: AllocationResult
    lines: pd.DataFrame  # result lines with village_code, head_name and source_reference
    period: str
    rule_name: str
    status: str
    supersedes_run_id: int | None = None
    fund: str | None = None  # the 指标文号 the run draws on, when its programme has indicators

    @property
    def notes(self) -> tuple[str, ...]:
        return self.result.notes


def _rule(rule_path: Path) -> PvRevenueRule | CoopDividendRule | SubsidyRule:
    try:
        return load_rule(Path(rule_path))
    except RuleError as error:
        details = join_clauses(f"{path or '(file)'}: {message}" for path, message in error.problems) or str(error)
        raise DisburseError(
            tr("{file}: the rule file was refused: {details}", file=rule_path, details=details)
        ) from None
    except FileNotFoundError:
        raise DisburseError(tr("{file}: no such rule file", file=rule_path)) from None


def _subject(rule: PvRevenueRule | CoopDividendRule | SubsidyRule) -> str:
    if isinstance(rule, PvRevenueRule):
        return rule.station_id
    if isinstance(rule, CoopDividendRule):
        return rule.cooperative_id
    return rule.programme


def _lines_for_storage(result: AllocationResult, households: pd.DataFrame) -> pd.DataFrame:
    lines = result.lines.copy()
    if "source_reference" not in lines.columns:
        lines["source_reference"] = None
    lookup = households.set_index("household_id")[["village_code", "head_name"]] if len(households) else None
    if lookup is not None:
        lines = lines.join(lookup, on="household_id")
    else:
        lines["village_code"] = None
        lines["head_name"] = None
    collective = lines["payee_type"] == "collective"
    lines.loc[collective, "village_code"] = lines.loc[collective, "payee_id"]
    return _parties_filled(lines)


def _parties_filled(lines: pd.DataFrame) -> pd.DataFrame:
    """A household-level line's beneficiary is the household, named by its head (whoever is
    paid: its card or its village's account); a line to a household that does not say which
    card is paid into the 户卡."""
    for column in PARTY_COLUMNS:
        if column not in lines.columns:
            lines[column] = None
    household = (lines["payee_type"] == "household").to_numpy()
    no_person = lines["beneficiary_id"].isna().to_numpy() if "beneficiary_id" in lines else np.ones(len(lines), bool)
    unnamed = no_person & lines["household_id"].notna().to_numpy() & lines["beneficiary_name"].isna().to_numpy()
    lines.loc[unnamed, "beneficiary_name"] = lines["head_name"]
    lines.loc[household & lines["card_kind"].isna().to_numpy(), "card_kind"] = HOUSEHOLD_CARD
    return lines


def _paid_through_bank(lines: pd.DataFrame) -> pd.Series:
    """The lines a bank pays: households' and people's, and a collective's paid into its own
    account by a rule's ``payee: collective`` (PV collective shares stay in the books)."""
    to_collective = (lines["payee_type"] == "collective") & (
        lines["card_kind"] == COLLECTIVE_ACCOUNT if "card_kind" in lines else False
    )
    return (lines["payee_type"].isin(PAYABLE_PAYEE_TYPES) | to_collective) & ~lines["component"].isin(UNPAID_COMPONENTS)


DIGEST_COLUMNS = (
    "payee_type",
    "payee_id",
    "component",
    "account_code",
    "debit_account_code",
    "amount_fen",
    "account_no",
)


def _digest_lines(lines: pd.DataFrame) -> str:
    """SHA-256 over what each line pays to whom: part of a run's identity (the bytes of joining
    each row's fields, as text with "" for a missing value, with \x1f and ending every row with
    \x1e). Vectorised per column: a PV run has hundreds of thousands of lines."""
    if len(lines) == 0:
        return hashlib.sha256(b"").hexdigest()
    texts = []
    for name in DIGEST_COLUMNS:
        values = lines[name]
        present = values.notna().to_numpy()
        column = np.full(len(values), "", dtype=object)
        column[present] = values[present].astype(str).to_numpy(dtype=object)
        texts.append(pd.Series(column, dtype=object))
    rows = texts[0].str.cat(texts[1:], sep="\x1f")
    return hashlib.sha256(("\x1e".join(rows.tolist()) + "\x1e").encode()).hexdigest()


def _previous_run(
    session: Session, rule, subject: str, period: str, description: dict
) -> tuple[int | None, str | None]:  # type: ignore[no-untyped-def]
    """The run a new one supersedes, and a note saying so. A dividend or subsidy supersedes the
    newest posted run of its subject and period (posting only the difference); failing that, or
    for PV (whose settlement rows a posted run takes once), the newest reversed run it replaces:
    of the same subject and period, or for PV one that had taken any of the same rows."""
    runs = AllocationRunRow
    same = (runs.rule_kind == rule.kind, runs.rule_subject == subject)
    if not isinstance(rule, PvRevenueRule):
        posted = session.scalar(
            select(runs.id).where(*same, runs.period == period, runs.status == "posted").order_by(runs.id.desc())
        )
        if posted is not None:
            return posted, tr_stored("supersedes posted run {run}: only the difference from it is posted", run=posted)
    reversed_runs = session.execute(
        select(runs.id, runs.period, runs.inputs_description, runs.reversed_at)
        .where(*same, runs.status == "reversed")
        .order_by(runs.id.desc())
    ).all()
    mine = {row[0] for row in description.get("settlements", [])}
    for run_id, run_period, inputs_text, reversed_at in reversed_runs:
        taken = {row[0] for row in json.loads(inputs_text).get("settlements", [])}
        if (isinstance(rule, PvRevenueRule) and taken & mine) or (
            not isinstance(rule, PvRevenueRule) and run_period == period
        ):
            if reversed_at is None:
                return run_id, tr_stored("supersedes run {run}, reversed: this run replaces it in full", run=run_id)
            return run_id, tr_stored(
                "supersedes run {run}, reversed on {day}: this run replaces it in full",
                run=run_id,
                day=f"{reversed_at:%Y-%m-%d}",
            )
    return None, None


def _store_lines(session: Session, run_id: int, lines: pd.DataFrame) -> None:
    """Every line in one bulk insert, column by column (a million lines go through the driver)."""

    def texts(column: str) -> pd.Series:
        """The column as text (numbers written out), None where missing: text_or_none, vectorised."""
        if column not in lines.columns:
            return pd.Series([None] * len(lines), dtype=object)
        values = lines[column].to_numpy(dtype=object)
        missing = pd.isna(values)
        result = np.full(len(values), None, dtype=object)
        present = np.flatnonzero(~missing)
        result[present] = object_array(list(map(str, values[present].tolist())))
        return pd.Series(result, dtype=object)

    def integers(column: str) -> pd.Series:
        if column not in lines.columns:
            return pd.Series([None] * len(lines), dtype=object)
        values = pd.array(lines[column].to_numpy(dtype=object), dtype="Int64")
        return pd.Series(values.to_numpy(dtype=object, na_value=None), dtype=object)

    stored = pd.DataFrame(
        {
            "run_id": run_id,
            "line_number": np.arange(1, len(lines) + 1, dtype=np.int64),
            "payee_type": lines["payee_type"].astype(str).tolist(),
            "payee_id": lines["payee_id"].astype(str).tolist(),
            "component": lines["component"].astype(str).tolist(),
            "account_code": lines["account_code"].astype(str).tolist(),
            "debit_account_code": lines["debit_account_code"].astype(str).tolist(),
            "amount_fen": lines["amount_fen"].astype(np.int64).to_numpy(),
            "basis": texts("basis").fillna(""),
            "note": texts("note").fillna(""),
            **{name: texts(name) for name in LINE_TEXT_COLUMNS},
            **{name: integers(name) for name in LINE_FIGURE_COLUMNS},
        }
    )
    frame_insert(session, AllocationLineRow.__tablename__, stored, list(stored.columns))


def _store_exclusions_and_steps(session: Session, run_id: int, result: AllocationResult) -> None:
    if len(result.exclusions):
        session.execute(
            insert(AllocationExclusionRow),
            [
                {
                    "run_id": run_id,
                    "household_id": text_or_none(row["household_id"]),
                    "id_number": text_or_none(row["id_number"]),
                    "reason": str(row["reason"]),
                }
                for row in result.exclusions.to_dict("records")
            ],
        )
    if result.steps:
        session.execute(
            insert(AllocationStepRow),
            [
                {
                    "run_id": run_id,
                    "position": position,
                    "text": step.text,
                    "amount_fen": step.amount_fen,
                    "component": step.component,
                    "source_reference": step.source_reference,
                }
                for position, step in enumerate(result.steps, start=1)
            ],
        )


def _payable_fen(lines: pd.DataFrame) -> int:
    return int(lines.loc[_paid_through_bank(lines), "amount_fen"].sum())


def calculate_run(
    session: Session,
    rule_path: Path,
    period: str,
    user: str,
    *,
    pool_yuan: str | None = None,
    inputs_path: Path | None = None,
    dry_run: bool = False,
    fund: str | None = None,
) -> RunOutcome:
    """Compute a run. The same rule text, period and inputs return the existing run. A run that
    supersedes another (its difference is posted) or replaces a reversed one names it. A run of a
    programme with budget indicators draws on ``fund`` (a 指标文号) or the oldest with enough
    available (allocations.funds); the indicator is not part of the run's identity."""
    rule = _rule(rule_path)
    entity_by_code(session, rule.paying_entity)
    gathered = gather(session, rule, period, pool_yuan, inputs_path)
    result, description = gathered.result, gathered.description
    lines = _lines_for_storage(result, gathered.households)
    description["lines_sha256"] = _digest_lines(lines)
    inputs_text = json.dumps(description, ensure_ascii=False, sort_keys=True, default=str)
    inputs_sha = hashlib.sha256(inputs_text.encode()).hexdigest()
    run_key = hashlib.sha256(f"{rule.sha256}\x1f{period}\x1f{inputs_sha}".encode()).hexdigest()
    subject = _subject(rule)
    previous, note = _previous_run(session, rule, subject, period, description)
    if note:
        result = replace(result, notes=(note, *result.notes))
    existing = session.execute(
        select(
            AllocationRunRow.id,
            AllocationRunRow.status,
            AllocationRunRow.supersedes_run_id,
            AllocationRunRow.inputs_description,
        ).where(AllocationRunRow.run_key == run_key)
    ).first()
    if existing is not None and not dry_run:
        drawn_on = _existing_fund(existing, fund)
        return RunOutcome(
            existing.id, False, result, lines, period, rule.name, existing.status, existing.supersedes_run_id, drawn_on
        )
    chosen = _chosen_fund(session, rule, lines, previous, fund)
    if chosen is not None:
        description["fund"] = chosen
        inputs_text = json.dumps(description, ensure_ascii=False, sort_keys=True, default=str)
    if dry_run:
        return RunOutcome(None, False, result, lines, period, rule.name, "dry-run", previous, chosen)
    fund_source = fund_source_with(chosen, rule.fund_source) if chosen else rule.fund_source
    run_id = _insert_run(
        session, rule, subject, period, run_key, inputs_text, result, lines, previous, user, fund_source
    )
    _store_lines(session, run_id, lines)
    _store_exclusions_and_steps(session, run_id, result)
    return RunOutcome(run_id, True, result, lines, period, rule.name, "calculated", previous, chosen)


def _existing_fund(existing, named: str | None) -> str | None:  # type: ignore[no-untyped-def]
    """The indicator an already calculated run draws on; asking for another is refused."""
    drawn_on = json.loads(existing.inputs_description).get("fund")
    if named is not None and named.strip() != drawn_on:
        raise DisburseError(
            tr(
                "run {run} was already calculated for this rule, period and input, drawing on {fund}; cancel it "
                "(`disburse runs cancel {run}`) to draw on {named}",
                run=existing.id,
                fund=drawn_on or tr("no indicator"),
                named=named.strip(),
            )
        )
    return drawn_on


def _chosen_fund(session: Session, rule, lines: pd.DataFrame, previous: int | None, named: str | None) -> str | None:  # type: ignore[no-untyped-def]
    """The 指标文号 a new run draws on (None: its programme has no indicator). It needs the
    run's total, less what the posted run it supersedes (posting only the difference) drew."""
    need_fen = int(lines["amount_fen"].sum()) if len(lines) else 0
    if (
        previous is not None
        and session.scalar(select(AllocationRunRow.status).where(AllocationRunRow.id == previous)) == "posted"
    ):
        need_fen -= run_draw_fen(session, previous)
    chosen = choose_indicator(session, rule.programme_names, need_fen, named)
    return chosen.document_number if chosen is not None else None


def _insert_run(
    session, rule, subject, period, run_key, inputs_text, result, lines, previous, user, fund_source
) -> int:  # type: ignore[no-untyped-def]
    inputs_sha = hashlib.sha256(inputs_text.encode()).hexdigest()
    return session.execute(
        insert(AllocationRunRow)
        .values(
            run_key=run_key,
            rule_kind=rule.kind,
            rule_name=rule.name,
            rule_subject=subject,
            rule_text=rule.text,
            rule_sha256=rule.sha256,
            inputs_sha256=inputs_sha,
            inputs_description=inputs_text,
            period=period,
            paying_entity_code=rule.paying_entity,
            fund_source=fund_source[:FUND_SOURCE_LENGTH_MAX],
            status="calculated",
            pool_fen=result.pool_fen,
            payable_fen=_payable_fen(lines),
            line_count=len(lines),
            exclusion_count=len(result.exclusions),
            summary_json=json.dumps(dict(result.summary), sort_keys=True),
            notes_json=json.dumps([stored_form(note) for note in result.notes], ensure_ascii=False),
            supersedes_run_id=previous,
            calculated_by=user,
            calculated_at=utc_now(),
        )
        .returning(AllocationRunRow.id)
    ).scalar_one()


def run_notes(run: AllocationRunRow) -> list[str]:
    """The notes a run stored, in the reader's language: a note is stored as its message id and
    figures; a run stored before that holds its notes' text, shown as stored (empty for a run
    stored before notes were kept)."""
    return [render_stored(note) for note in json.loads(run.notes_json)] if run.notes_json else []


def run_row(session: Session, run_id: int) -> AllocationRunRow:
    run = session.get(AllocationRunRow, run_id)
    if run is None:
        raise DisburseError(tr("allocation run {run} does not exist; `disburse runs list` shows the runs", run=run_id))
    return run


def list_runs(session: Session) -> list[AllocationRunRow]:
    return list(session.scalars(select(AllocationRunRow).order_by(AllocationRunRow.id)))


def approve_run(session: Session, run_id: int, user: str, today: dt.date | None = None) -> str:
    """Approve a calculated run; the approver must not be the person who calculated it. The
    run's recipients are checked against the register as of ``today`` (default: the clock's
    day): changes are listed after the message, or refuse the approval (``recheck:`` of the rule)."""
    from disburse.allocations.recheck import approval_recheck  # it reads the registry

    run = run_row(session, run_id)
    if run.status == "approved" and run.approved_by == user:
        return tr("run {run} was already approved by {user}; nothing changed", run=run_id, user=user)
    if run.status != "calculated":
        raise DisburseError(
            tr("run {run} is {status}; only a calculated run can be approved", run=run_id, status=run.status)
        )
    chain = review_chain_of(run.rule_text)
    if chain is not None:
        # A run of a programme with a review chain is approved level by level (allocations.run_review).
        raise DisburseError(
            tr(
                "run {run} is reviewed level by level ({levels}): `disburse runs approve {run} --level LEVEL`",
                run=run_id,
                levels=" → ".join(chain.names),
            )
        )
    if run.calculated_by == user:
        raise DisburseError(
            tr(
                "run {run} was calculated by {user}; a different person must approve it (four eyes)",
                run=run_id,
                user=user,
            )
        )
    warning = approval_recheck(session, run, today or dt.date.today())
    run.status, run.approved_by, run.approved_at = "approved", user, utc_now()
    message = tr("run {run} approved by {user}", run=run_id, user=user)
    return message if warning is None else f"{message}\n{warning}"


def cancel_run(session: Session, run_id: int, user: str) -> str:
    """Cancel a run that is not posted; its key is freed so the same inputs can be computed again."""
    run = run_row(session, run_id)
    if run.status == "cancelled":
        return tr("run {run} is already cancelled; nothing changed", run=run_id)
    if run.status in ("posted", "superseded", "reversed"):
        raise DisburseError(
            tr(
                "run {run} is {status}; a posted run is corrected by reversing it (`disburse runs reverse {run}`) "
                "and calculating a corrected run, or, for a dividend or subsidy, by a new run that posts the "
                "difference",
                run=run_id,
                status=run.status,
            )
        )
    run.status, run.cancelled_by, run.cancelled_at = "cancelled", user, utc_now()
    run.run_key = f"cancelled-{run_id}"
    return tr("run {run} cancelled", run=run_id)


RUN_LINE_COLUMNS = (
    "line_number",
    "payee_type",
    "payee_id",
    "household_id",
    "village_code",
    "component",
    "account_code",
    "debit_account_code",
    "amount_fen",
    "basis",
    "share_numerator",
    "share_denominator",
    "note",
    "account_no",
    "account_name",
    "source_reference",
    "beneficiary_id",
    *PARTY_COLUMNS,
    *LINE_FIGURE_COLUMNS,
)


# What posting a run does not read of its lines (its entries and payables need none of them):
# the figures and texts kept for `runs explain`, 14 of the 29 columns of a county's 86,000 lines.
EXPLAINED_ONLY_COLUMNS = ("basis", "share_numerator", "share_denominator", "note", "source_reference")
POSTED_LINE_COLUMNS = tuple(
    name for name in RUN_LINE_COLUMNS if name not in (*EXPLAINED_ONLY_COLUMNS, *LINE_FIGURE_COLUMNS)
)


def run_lines(session: Session, run_id: int, columns: tuple[str, ...] = RUN_LINE_COLUMNS) -> pd.DataFrame:
    """A run's stored lines in line order (the figures as nullable integers), with ``columns``
    (every stored column by default; ``line_number`` and ``amount_fen`` always)."""
    assert {"line_number", "amount_fen"} <= set(columns) <= set(RUN_LINE_COLUMNS), columns
    table = AllocationLineRow.__table__
    frame = statement_frame(
        session,
        select(*[table.c[name] for name in columns]).where(table.c.run_id == run_id).order_by(table.c.line_number),
    )
    frame["line_number"] = frame["line_number"].astype("int64")
    for name in LINE_FIGURE_COLUMNS:
        if name in frame.columns:
            frame[name] = pd.array(frame[name].to_numpy(dtype=object), dtype="Int64")
    frame["amount_fen"] = frame["amount_fen"].astype("int64")
    return frame


LINE_KEY = [
    "payee_type",
    "payee_id",
    "household_id",
    "beneficiary_id",
    "component",
    "account_code",
    "debit_account_code",
]


def run_difference(session: Session, old_run_id: int, new_run_id: int) -> pd.DataFrame:
    """Per payee and component: old amount, new amount, difference (new − old), non-zero only."""
    old = run_lines(session, old_run_id)
    new = run_lines(session, new_run_id)

    def totals(frame: pd.DataFrame) -> pd.DataFrame:
        keyed = frame.assign(
            household_id=frame["household_id"].fillna(""), beneficiary_id=frame["beneficiary_id"].fillna("")
        )
        return (
            keyed.groupby(LINE_KEY, sort=True, dropna=False)
            .agg(
                amount_fen=("amount_fen", "sum"),
                village_code=("village_code", "first"),
                account_no=("account_no", "last"),
                account_name=("account_name", "last"),
                **{column: (column, "last") for column in PARTY_COLUMNS},
            )
            .reset_index()
        )

    merged = totals(old).merge(totals(new), on=LINE_KEY, how="outer", suffixes=("_old", "_new"))
    merged["old_fen"] = merged["amount_fen_old"].fillna(0).astype("int64")
    merged["new_fen"] = merged["amount_fen_new"].fillna(0).astype("int64")
    merged["difference_fen"] = merged["new_fen"] - merged["old_fen"]
    merged["village_code"] = merged["village_code_new"].combine_first(merged["village_code_old"])
    merged["account_no"] = merged["account_no_new"].combine_first(merged["account_no_old"])
    merged["account_name"] = merged["account_name_new"].combine_first(merged["account_name_old"])
    for column in PARTY_COLUMNS:
        merged[column] = merged[f"{column}_new"].combine_first(merged[f"{column}_old"])
    merged["household_id"] = merged["household_id"].replace("", None)
    merged["beneficiary_id"] = merged["beneficiary_id"].replace("", None)
    changed = merged[merged["difference_fen"] != 0]
    return changed[
        LINE_KEY
        + ["village_code", "old_fen", "new_fen", "difference_fen", "account_no", "account_name", *PARTY_COLUMNS]
    ].reset_index(drop=True)


def _entry_date(period: str, today: dt.date) -> dt.date:
    start, end = month_bounds(period)
    return min(max(today, start), end)


def _entries(
    run: AllocationRunRow, lines: pd.DataFrame, amount_column: str, memo_prefix: str, date: dt.date
) -> EntryBatch:
    """Entries of a run: per component, debit account and village, one debit posting for the
    group's total and one credit posting per line (one line per household, as 收益分配 is booked)."""
    lines = lines[lines[amount_column] != 0].copy()
    lines["village_key"] = lines["village_code"].fillna("")
    entity, period, fund = run.paying_entity_code, run.period, run.fund_source
    entity_codes: list[str] = []
    memos: list[str] = []
    entry_index: list[int] = []
    accounts: list[str] = []
    amounts: list[int] = []
    households: list[str | None] = []
    for (component, debit_account, village), group in lines.groupby(
        ["component", "debit_account_code", "village_key"], sort=True
    ):
        for start in range(0, len(group), ENTRY_LINES_MAX):
            chunk = group.iloc[start : start + ENTRY_LINES_MAX]
            index = len(entity_codes)
            entity_codes.append(entity)
            # A memo is book text, hashed into the chain and part of the post's identity: it is
            # Chinese whatever language the poster reads, so posting twice is the same post.
            with language("zh"):
                name = COMPONENT_NAMES_ZH.get(component, component)
            memos.append(f"{memo_prefix}{run.rule_name} {name}{(' ' + village) if village else ''}"[:500])
            chunk_amounts = chunk[amount_column].astype("int64").tolist()
            total = sum(chunk_amounts)
            if total:
                entry_index.append(index)
                accounts.append(debit_account)
                amounts.append(total)
                households.append(None)
            entry_index.extend([index] * len(chunk))
            accounts.extend(chunk["account_code"].tolist())
            amounts.extend(-amount for amount in chunk_amounts)
            households.extend(text_or_none(value) for value in chunk["household_id"])
    count = len(entity_codes)
    return EntryBatch(
        entity_code=entity_codes,
        period=[period] * count,
        entry_date=[date] * count,
        memo=memos,
        source_kind=["allocation_run"] * count,
        source_reference=[f"run {run.id}"] * count,
        reverses_entry_id=[None] * count,
        label=[f"run {run.id} {memo}" for memo in memos],
        posting_entry_index=np.asarray(entry_index, dtype=np.int64),
        account_code=accounts,
        amount_fen=np.asarray(amounts, dtype=np.int64),
        household_id=households,
        fund_source=[fund] * len(amounts),
        payment_reference=[None] * len(amounts),
    )


@dataclass(frozen=True, slots=True)
class PostOutcome:
    """What posting a run wrote."""

    run_id: int
    changed: bool
    entry_count: int
    posting_count: int
    adjustment_of: int | None
    message: str
    # What the posting made payable, one row per payee line (the columns of
    # payouts.model.PAYABLE_COLUMNS): the caller hands it to payouts.payables.record_payables in
    # the same transaction. Empty when nothing changed.
    payables: pd.DataFrame = field(default_factory=pd.DataFrame)


def post_run(session: Session, run_id: int, user: str, today: dt.date | None = None) -> PostOutcome:
    """Post an approved run (or, when it supersedes a posted run, only the difference)."""
    run = run_row(session, run_id)
    if run.status == "posted":
        return PostOutcome(
            run_id, False, 0, 0, run.supersedes_run_id, tr("run {run} is already posted; nothing changed", run=run_id)
        )
    if run.status != "approved":
        raise DisburseError(
            tr(
                "run {run} is {status}; it must be approved by a second person before posting",
                run=run_id,
                status=run.status,
            )
        )
    date = _entry_date(run.period, today or dt.date.today())
    if period_of(date) != run.period:
        raise DisburseError(tr("run {run} belongs to {period}, which cannot be dated", run=run_id, period=run.period))
    previous = run_row(session, run.supersedes_run_id) if run.supersedes_run_id else None
    replaced = previous.id if previous is not None and previous.status == "reversed" else None
    if previous is not None and previous.status == "posted":
        lines = run_difference(session, previous.id, run.id)
        batch = (
            _entries(run, lines, "difference_fen", f"调整(run {previous.id}→{run.id}) ", date) if len(lines) else None
        )
    else:
        previous = None
        lines = run_lines(session, run.id, POSTED_LINE_COLUMNS)
        batch = _entries(run, lines, "amount_fen", "", date)
    settlements = json.loads(run.inputs_description).get("settlements", [])
    if settlements:
        taken = session.scalars(
            select(SettlementAllocationRow.settlement_id).where(
                SettlementAllocationRow.settlement_id.in_([s[0] for s in settlements])
            )
        ).all()
        if taken:
            raise DisburseError(
                tr(
                    "run {run}: settlement rows {rows} were allocated by another posted run; calculate again",
                    run=run_id,
                    rows=sorted(taken),
                )
            )
        session.execute(
            insert(SettlementAllocationRow),
            [{"settlement_id": settlement[0], "run_id": run_id, "allocated_on": date} for settlement in settlements],
        )
    amount_column = "difference_fen" if previous is not None else "amount_fen"
    draw_for_run(session, run.id, run.inputs_description, int(lines[amount_column].sum()) if len(lines) else 0, user)
    entry_count = posting_count = 0
    request_id = None
    if batch is not None and batch.entry_count:
        result = post_entries(session, batch, idempotency_key=f"run:{run_id}", user=user)
        entry_count, posting_count, request_id = result.entry_count, batch.posting_count, result.post_request_id
    if previous is not None:
        previous.status = "superseded"
    run.status, run.posted_by, run.posted_at, run.post_request_id = "posted", user, utc_now(), request_id
    posted_lines = lines
    what = tr("the difference from run {run}", run=previous.id) if previous is not None else tr("its lines")
    if replaced is not None:
        what += tr(", replacing reversed run {run}", run=replaced)
    return PostOutcome(
        run_id,
        True,
        entry_count,
        posting_count,
        previous.id if previous else None,
        tr(
            "run {run} posted ({what}): {entries} entries, {postings} postings in {entity} {period}",
            run=run_id,
            what=what,
            entries=entry_count,
            postings=posting_count,
            entity=run.paying_entity_code,
            period=run.period,
        ),
        _payables(run, posted_lines, "difference_fen" if previous is not None else "amount_fen"),
    )


def _payables(run: AllocationRunRow, posted_lines: pd.DataFrame, amount_column: str) -> pd.DataFrame:
    """The payee lines a posting made payable: households, people and collectives paid through
    the bank, not the parts that stay in the books (retained, rounding, suspense)."""
    payable = posted_lines[_paid_through_bank(posted_lines) & (posted_lines[amount_column] != 0)]
    return pd.DataFrame(
        {
            "entity_code": run.paying_entity_code,
            "run_id": run.id,
            "source_line": payable["line_number"] if "line_number" in payable.columns else range(1, len(payable) + 1),
            "household_id": payable["household_id"],
            "payee_type": payable["payee_type"],
            "payee_id": payable["payee_id"].astype(str),
            "programme": run.rule_name,
            "fund_source": run.fund_source,
            "account_code": payable["account_code"],
            "amount_fen": payable[amount_column].astype("int64"),
            "account_no": payable["account_no"],
            "account_name": payable["account_name"],
            "period": run.period,
            "beneficiary_id": payable["beneficiary_id"],
            **{column: payable[column] for column in PARTY_COLUMNS},
        }
    ).reset_index(drop=True)


def explain_run(session: Session, run_id: int, household_id: str) -> list[str]:
    """Every step from the pool to one household's amount, from what the run stored."""
    run = run_row(session, run_id)
    lines = run_lines(session, run_id)
    steps = (
        session.execute(
            select(AllocationStepRow).where(AllocationStepRow.run_id == run_id).order_by(AllocationStepRow.position)
        )
        .scalars()
        .all()
    )
    notes = run_notes(run)
    exclusions = (
        session.execute(select(AllocationExclusionRow).where(AllocationExclusionRow.run_id == run_id)).scalars().all()
    )
    exclusion_frame = pd.DataFrame(
        [[e.household_id, e.id_number, e.reason] for e in exclusions], columns=["household_id", "id_number", "reason"]
    )
    stored = AllocationResult(
        run.rule_kind,
        run.rule_name,
        run.pool_fen,
        lines,
        exclusion_frame,
        json.loads(run.summary_json),
        tuple(Step(step.text, step.amount_fen, step.component, step.source_reference) for step in steps),
        tuple(notes),
    )
    text = [
        tr(
            "run {run} ({status}), period {period}, rule sha256 {sha}…",
            run=run_id,
            status=RUN_STATUS_NAMES.get(run.status, run.status),
            period=run.period,
            sha=run.rule_sha256[:12],
        )
    ]
    text += [tr("  note: {note}", note=note) for note in notes]
    return text + explain(stored, household_id)


def village_summary(lines: pd.DataFrame) -> pd.DataFrame:
    """Per village: payees and amount of the household and person lines, and the collective's
    (lines of no village, such as a PV run's deductions, under a blank village code)."""
    frame = lines.assign(village_code=lines["village_code"].fillna(""))
    return (
        frame.groupby(["village_code", "component"], sort=True)
        .agg(payees=("payee_id", "nunique"), amount_fen=("amount_fen", "sum"))
        .reset_index()
    )
