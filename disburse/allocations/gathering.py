"""A run's inputs, gathered from the registers and files and checked against them, then handed to
the pure allocation functions.

Checks a rule must pass against the register before anything is computed (each refusal names the
rule's value, the register's and what to do):

- its station or cooperative is declared, and it pays from the entity the register books that
  asset in (the asset's paying entity or owner);
- a PV rule's ``capacity_kw``, when given, is the station's declared capacity; left out, the
  register's capacity is used and the run says so in its notes;
- a dividend rule's ``collective_id`` is a village the register knows (a household lives there,
  a collective holds shares of the cooperative, or a station serves it);
- a PV rule with a wages part gets its wage roster (``--inputs``) when a settlement row of the run's
  own period is allocated; a roster the run cannot pay (no row of its period is allocated) is
  reported with what it owes (a note and ``wage_roster_not_paid_fen``), never dropped silently.

PV cash basis: a settlement row is distributed only once its money has arrived, i.e. it carries a
到账日期 (the settlement import then books the receipt, Dr 102 / Cr 112); the others wait (a note
and ``settlements_not_received``/``not_received_fen``) unless the rule says
``allow_unreceived: true`` (advance payment: ``advance_fen`` and a note). A row the rule cannot allocate
(a part with nobody to go to and no residual account) is left out on its own with its reason
(``settlements_refused``/``refused_fen``); the run is refused only when no row is left.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from disburse.allocations.dividends import allocate_dividend
from disburse.allocations.frames import AllocationError, as_days, service_period_bounds
from disburse.allocations.model import AllocationResult, Step, result_build
from disburse.allocations.names import source_stored
from disburse.allocations.pv import RowRefused, allocate_pv
from disburse.allocations.rules import (
    CoopDividendRule,
    MedicalTopUpBasis,
    PvRevenueRule,
    RosterBasis,
    SubsidyRule,
)
from disburse.allocations.split import decimal_text
from disburse.allocations.subsidies import allocate_subsidy, collective_payee
from disburse.allocations.tables import SettlementAllocationRow
from disburse.foundation.dates import period_bounds, period_problem
from disburse.foundation.errors import DisburseError, ImportRefused
from disburse.foundation.files import file_sha256
from disburse.foundation.i18n import join_clauses, join_list, tr, tr_noop, tr_stored
from disburse.foundation.money import fen_from_text, format_yuan
from disburse.importers import programme_inputs
from disburse.ledger.tables import BankAccountRow, EntityRow
from disburse.registry import queries as registry

Rule = PvRevenueRule | CoopDividendRule | SubsidyRule
REFUSALS_SHOWN_MAX = 5


@dataclass(frozen=True, slots=True)
class Gathered:
    """What a run computed and on what: the result, a description of its inputs (stored with the
    run and part of its key) and the households frame for names and villages in the report."""

    result: AllocationResult
    description: dict
    households: pd.DataFrame


def month_bounds(period: str) -> tuple[dt.date, dt.date]:
    """The first and last day of ``period``; refused when it is not YYYY-MM."""
    problem = period_problem(period)
    if problem:
        raise DisburseError(problem)
    return period_bounds(period)


def _refuse_file(parsed) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    if parsed.refused:
        raise ImportRefused(list(parsed.problems))
    return parsed.frame


# The asset kinds _declared_asset names in its refusal (codes, translated where shown).
ASSET_KIND_NAMES = (tr_noop("station"), tr_noop("cooperative"))


# --- the rule against the register ----------------------------------------------------------------


def _declared_asset(session: Session, rule: PvRevenueRule | CoopDividendRule, asset_id: str, kind: str):  # type: ignore[no-untyped-def]
    found = {item.asset_id: item for item in registry.assets(session)}.get(asset_id)
    if found is None or found.kind != kind:
        raise DisburseError(
            tr(
                "{rule}: {asset} is not a declared {kind}; `disburse assets load FILE` declares it",
                rule=rule.name,
                asset=asset_id,
                kind=tr(kind),
            )
        )
    payers = {found.paying_entity or found.owner_entity, found.owner_entity}
    if rule.paying_entity not in payers:
        raise DisburseError(
            tr(
                "{rule}: the rule pays from {payer}, but the register books {asset} in {books}; "
                "set paying_entity: {entity}",
                rule=rule.name,
                payer=rule.paying_entity,
                asset=asset_id,
                books=tr(" or ").join(sorted(payers)),
                entity=found.paying_entity or found.owner_entity,
            )
        )
    return found


def station_capacity(session: Session, rule: PvRevenueRule, notes: list[str]) -> int | None:
    """The station's capacity in kW × 10⁴: the rule's when it agrees with the register, else
    refused; the register's when the rule states none (noted)."""
    station = _declared_asset(session, rule, rule.station_id, "station")
    declared = None if station.capacity_w is None else int(station.capacity_w) * 10
    if rule.capacity_units_e4 is not None:
        if declared is not None and rule.capacity_units_e4 != declared:
            raise DisburseError(
                tr(
                    "{rule}: capacity_kw {capacity} contradicts the register: {station} is declared with "
                    "{declared} kW; correct the rule or leave capacity_kw out to use the register's",
                    rule=rule.name,
                    capacity=decimal_text(rule.capacity_units_e4 / 10_000),
                    station=rule.station_id,
                    declared=decimal_text(declared / 10_000),
                )
            )
        return rule.capacity_units_e4
    if declared is not None:
        notes.append(
            tr_stored(
                "capacity {capacity} kW of {station} taken from the register (the rule states no capacity_kw)",
                capacity=decimal_text(declared / 10_000),
                station=rule.station_id,
            )
        )
    return declared


def _known_villages(session: Session, rule: CoopDividendRule, households: pd.DataFrame) -> set[str]:
    villages = set(households["village_code"].dropna().astype(str))
    for item in registry.assets(session):
        villages.update(item.village_codes)
    holdings = registry.holdings_as_of(session, rule.cooperative_id, rule.period.start, rule.period.end)
    villages.update(holdings.loc[holdings["holder_type"] == "collective", "holder_id"].astype(str))
    return villages


def _check_collective(session: Session, rule: CoopDividendRule, households: pd.DataFrame) -> None:
    if rule.exit_handling != "collective" or rule.collective_id is None:
        return
    if rule.collective_id not in _known_villages(session, rule, households):
        raise DisburseError(
            tr(
                "{rule}: collective_id {collective} is not a village the register knows (no household lives there, "
                "no collective holds shares of {cooperative}, no station serves it); correct it, or leave it out so "
                "that exited households' shares go back to their own village's collective",
                rule=rule.name,
                collective=rule.collective_id,
                cooperative=rule.cooperative_id,
            )
        )


# --- PV: which settlement rows, which roster ------------------------------------------------------


def free_settlements(session: Session, rule: PvRevenueRule) -> pd.DataFrame:
    """The station's settlement rows no posted run has taken, in allocation order."""
    taken = set(session.scalars(select(SettlementAllocationRow.settlement_id)).all())
    settlements = registry.settlements(session, rule.station_id)
    settlements = settlements[~settlements["id"].isin(taken)]
    if settlements.empty:
        raise DisburseError(
            tr(
                "{station} has no settlement rows that are not allocated yet; import a 电费结算单 first",
                station=rule.station_id,
            )
        )
    return settlements.sort_values(["service_period", "revenue_type", "id"]).reset_index(drop=True)


def _row_name(row: dict) -> str:
    """The row's source reference, stored with the lines and steps it gave (names.source_name
    shows it)."""
    return f"settlement {row['id']} {row['service_period']} {row['revenue_type']}"


def _row_label(row: dict) -> str:
    """The row as a person reads it, remembered for a stored note (``结算单第 11 行（2025Q1 国家补贴）``)."""
    return source_stored(_row_name(row))


def received_rows(
    rule: PvRevenueRule, settlements: pd.DataFrame, summary: dict[str, int], notes: list[str]
) -> pd.DataFrame:
    """The rows whose money has arrived (a 到账日期), or all with ``allow_unreceived``."""
    arrived = ~np.isnat(as_days(settlements["received_on"]))
    waiting = settlements[~arrived]
    waiting_fen = int(waiting["amount_fen"].sum())
    names = [_row_label(row) for row in waiting.to_dict("records")[:REFUSALS_SHOWN_MAX]]
    if len(waiting) and rule.allow_unreceived:
        summary["advance_fen"] = waiting_fen
        notes.append(
            tr_stored(
                "paid in advance (allow_unreceived: true): {count} settlement row(s) totalling {total} have not "
                "arrived (no 到账日期): {names}",
                count=len(waiting),
                total=format_yuan(waiting_fen),
                names=names,
            )
        )
        return settlements
    if len(waiting):
        summary.update(settlements_not_received=len(waiting), not_received_fen=waiting_fen)
        notes.append(
            tr_stored(
                "not distributed: {count} settlement row(s) totalling {total} have no 到账日期 ({names}); they wait "
                "until the money arrives (or the rule says allow_unreceived: true)",
                count=len(waiting),
                total=format_yuan(waiting_fen),
                names=names,
            )
        )
    chosen = settlements[arrived].reset_index(drop=True)
    if chosen.empty:
        raise DisburseError(
            tr(
                "{rule}: no settlement row of {station} that is not allocated yet has arrived (到账日期): {names}; "
                "money is distributed once received, unless the rule says allow_unreceived: true",
                rule=rule.name,
                station=rule.station_id,
                names=join_list(names),
            )
        )
    return chosen


def _pv_roster(
    rule: PvRevenueRule,
    settlements: pd.DataFrame,
    period: str,
    inputs_path: Path | None,
    summary: dict[str, int],
    notes: list[str],
) -> pd.DataFrame | None:
    """The wage roster, checked against the rows it would be paid from (the run period's own)."""
    own_period = settlements["service_period"].astype(str) == period
    others = settlements[~own_period]
    if rule.parts.wages is None:
        if inputs_path is not None:
            raise DisburseError(
                tr("{rule}: a wage roster was given (--inputs) but the rule has no wages part", rule=rule.name)
            )
        return None
    if inputs_path is None:
        if own_period.any():
            raise DisburseError(
                tr(
                    "{rule}: the rule has a wages part (公益岗位) and the {period} settlement is allocated, but no "
                    "wage roster was given; give the month's attendance with --inputs (without it the whole wage "
                    "part would go to account {account})",
                    rule=rule.name,
                    period=period,
                    account=rule.parts.wages.unused_account_code,
                )
            )
        roster = None
    else:
        roster = _refuse_file(programme_inputs.parse_roster(inputs_path))
        if not own_period.any():
            kinds = sorted({str(value) for value in settlements["service_period"]})
            owed_fen = int(
                (
                    roster["days_worked"].to_numpy(dtype=np.int64) * roster["daily_rate_fen"].to_numpy(dtype=np.int64)
                ).sum()
            )
            summary["wage_roster_not_paid_fen"] = owed_fen
            notes.append(
                tr_stored(
                    "the wage roster (--inputs, the {period} attendance, owing {owed}) was not paid: no settlement "
                    "row for {period} is allocated by this run (service periods: {kinds}); pay it with the run that "
                    "allocates the {period} settlement",
                    period=period,
                    owed=format_yuan(owed_fen),
                    kinds=kinds,
                )
            )
            roster = None
    if len(others):
        notes.append(
            tr_stored(
                "the wage part of {count} row(s) of other service periods is not paid to the {period} roster: it "
                "stays on account {account}",
                count=len(others),
                period=period,
                account=rule.parts.wages.unused_account_code,
            )
        )
    return roster


# --- PV: the rows, one by one ---------------------------------------------------------------------


def combine_results(results: list[tuple[str, AllocationResult]], rule_kind: str, rule_name: str) -> AllocationResult:
    """One result from several (a PV run over several settlement rows), lines and steps tagged
    by the row they came from."""
    frames, exclusions, steps, notes = [], [], [], []
    summary: dict[str, int] = {}
    for source, result in results:
        frames.append(result.lines.assign(source_reference=source))
        exclusions.append(result.exclusions)
        steps.extend(Step(step.text, step.amount_fen, step.component, source) for step in result.steps)
        notes.extend(tr_stored("{source}: {note}", source=source_stored(source), note=note) for note in result.notes)
        for key, value in result.summary.items():
            summary[key] = summary.get(key, 0) + int(value)
    combined = result_build(
        rule_kind=rule_kind,
        rule_name=rule_name,
        pool_fen=sum(result.pool_fen for _, result in results),
        line_frames=frames,
        exclusion_frames=exclusions,
        summary=summary,
        steps=steps,
        notes=notes,
    )
    return replace(combined, exclusions=combined.exclusions.drop_duplicates().reset_index(drop=True))


def _allocate_rows(
    session: Session,
    rule: PvRevenueRule,
    settlements: pd.DataFrame,
    period: str,
    roster: pd.DataFrame | None,
    capacity_units_e4: int | None,
) -> tuple[list[tuple[str, AllocationResult]], list[tuple[dict, str]], pd.DataFrame]:
    """Each row on the register of its own service period; rows the rule cannot allocate on
    their own (``RowRefused``) are set aside with their reason. Returns the results and refusals
    in the rows' order, and the households of the newest period (for names in the report).

    Rows are taken snapshot by snapshot: each register snapshot is read once (a year of
    settlement rows often uses one or two) and only one is held in memory at a time; the
    register as of each row's period end is made from it (``registry.register_on``)."""
    rows = settlements.to_dict("records")
    bounds = [service_period_bounds(str(row["service_period"])) for row in rows]
    snapshot_of = {end: registry.register_snapshot_for(session, end, "oldest") for _, end in set(bounds)}
    order = sorted(range(len(rows)), key=lambda i: (snapshot_of[bounds[i][1]] or dt.date.min, bounds[i][1], i))
    results: dict[int, tuple[str, AllocationResult]] = {}
    refused: dict[int, tuple[dict, str]] = {}
    reads, view_end, newest = None, None, (dt.date.min, pd.DataFrame())
    # Several snapshots: every version is read once and each snapshot taken from them; the newest
    # dated facts are the same for every snapshot, read once either way.
    several = len(set(snapshot_of.values()) - {None}) > 1
    versions = registry.register_versions(session) if several else None
    facts = registry.newest_facts_of(versions) if versions is not None else None
    station_holdings = registry.HoldingsReader(session, rule.station_id)
    for index in order:
        row, (start, end) = rows[index], bounds[index]
        if reads is None or reads.snapshot_as_of != snapshot_of[end]:
            # One snapshot: register_reads reads the newest facts beside it (only the history).
            reads = registry.register_reads(session, snapshot_of[end], newest=facts, versions=versions)
        if view_end != end:
            households, people = registry.register_on(reads, end)
            holdings = station_holdings.overlapping(start, end)
            view_end = end
            if end >= newest[0]:
                newest = (end, households)
        # The wage roster is the run month's attendance: it is paid from that month's row only.
        row_roster = roster if roster is not None and str(row["service_period"]) == period else None
        try:
            result = allocate_pv(
                rule, row, households, people, holdings, row_roster, capacity_units_e4=capacity_units_e4
            )
        except RowRefused as error:
            refused[index] = (row, str(error))
            continue
        except AllocationError as error:
            raise DisburseError(
                tr("{rule}, {row}: {error}", rule=rule.name, row=_row_label(row), error=error)
            ) from None
        results[index] = (_row_name(row), result)
    return [results[i] for i in sorted(results)], [refused[i] for i in sorted(refused)], newest[1]


def _note_refused(
    rule: PvRevenueRule, refused: list[tuple[dict, str]], period: str, roster, summary: dict, notes: list[str]
) -> None:  # type: ignore[no-untyped-def]
    if not refused:
        return
    summary.update(settlements_refused=len(refused), refused_fen=int(sum(int(row["amount_fen"]) for row, _ in refused)))
    for row, reason in refused:
        notes.append(
            tr_stored(
                "{row} ({amount}) not allocated: {reason}; it stays unallocated",
                row=_row_label(row),
                amount=format_yuan(int(row["amount_fen"])),
                reason=reason,
            )
        )
        if roster is not None and str(row["service_period"]) == period:
            notes.append(
                tr_stored(
                    "the wage roster for {period} was not used, because {row} was not allocated",
                    period=period,
                    row=_row_label(row),
                )
            )


def _gather_pv(session: Session, rule: PvRevenueRule, period: str, inputs_path: Path | None) -> Gathered:
    notes: list[str] = []
    summary: dict[str, int] = {}
    capacity = station_capacity(session, rule, notes)
    settlements = received_rows(rule, free_settlements(session, rule), summary, notes)
    roster = _pv_roster(rule, settlements, period, inputs_path, summary, notes)
    results, refused, newest_households = _allocate_rows(session, rule, settlements, period, roster, capacity)
    if not results:
        reasons = join_clauses(
            tr("{row}: {reason}", row=_row_label(row), reason=reason) for row, reason in refused[:REFUSALS_SHOWN_MAX]
        )
        raise DisburseError(
            tr(
                "{rule}: no settlement row could be allocated: {reasons}",
                rule=rule.name,
                reasons=reasons,
            )
        )
    _note_refused(rule, refused, period, roster, summary, notes)
    combined = combine_results(results, rule.kind, rule.name)
    allocated = {int(result_row["id"]) for result_row in settlements.to_dict("records")} - {
        int(row["id"]) for row, _ in refused
    }
    summary["settlements_allocated"] = len(allocated)
    result = replace(
        combined,
        summary=MappingProxyType({**combined.summary, **summary}),
        notes=tuple(dict.fromkeys((*notes, *combined.notes))),
    )
    description = {
        "settlements": [
            [int(row["id"]), str(row["service_period"]), str(row["revenue_type"]), int(row["amount_fen"])]
            for row in settlements.sort_values("id").to_dict("records")
            if int(row["id"]) in allocated
        ],
        "roster_sha256": file_sha256(inputs_path) if inputs_path else None,
    }
    # Names and villages for the report come from the newest register among the periods.
    return Gathered(result, description, newest_households)


# --- dividends and subsidies ----------------------------------------------------------------------


def _gather_dividend(session: Session, rule: CoopDividendRule, pool_yuan: str | None) -> Gathered:
    _declared_asset(session, rule, rule.cooperative_id, "cooperative")
    start, end = rule.period.start, rule.period.end
    pool_fen = fen_from_text(pool_yuan) if pool_yuan is not None else None
    households, people = registry.register_as_of(session, end, before_first_snapshot="oldest")
    _check_collective(session, rule, households)
    holdings = registry.holdings_as_of(session, rule.cooperative_id, start, end)
    try:
        result = allocate_dividend(rule, households, people, holdings, pool_fen)
    except AllocationError as error:
        raise DisburseError(tr("{rule}: {error}", rule=rule.name, error=error)) from None
    declared = pool_fen if pool_fen is not None else rule.pool_fen
    return Gathered(result, {"pool_fen": declared, "from": str(start), "to": str(end)}, households)


def subsidy_inputs(rule: SubsidyRule, inputs_path: Path | None) -> pd.DataFrame | None:
    """The subsidy's input list as the allocation reads it (roster, bills or applications)."""
    if inputs_path is None:
        return None
    if isinstance(rule.basis, RosterBasis):
        frame = _refuse_file(programme_inputs.parse_roster(inputs_path))
        rates = pd.array(frame["daily_rate_fen"], dtype="Int64")
        # A blank 日工资标准 means "the rule's rate", not zero.
        rates[np.asarray(frame["daily_rate_fen"].to_numpy() == 0)] = pd.NA
        return pd.DataFrame(
            {
                "id_number": frame["id_number"],
                "name": frame["name"],
                "days_on_duty": frame["days_worked"],
                "daily_rate_fen": rates,
            }
        )
    if isinstance(rule.basis, MedicalTopUpBasis):
        return _refuse_file(programme_inputs.parse_hospital_bills(inputs_path))
    if not rule.basis.input_list:
        raise DisburseError(
            tr(
                "{rule}: the rule reads no input list, but --inputs {file} was given",
                rule=rule.name,
                file=inputs_path,
            )
        )
    return _refuse_file(programme_inputs.parse_repair_applications(inputs_path))


def village_accounts(session: Session) -> pd.DataFrame:
    """Each village entity's first registered bank account (``village_code, account_no,
    account_name``; the name as registered, else the entity's): where ``payee: collective`` pays."""
    rows = session.execute(
        select(EntityRow.code, BankAccountRow.account_number, BankAccountRow.account_name, EntityRow.name)
        .join(BankAccountRow, BankAccountRow.entity_id == EntityRow.id)
        .where(EntityRow.kind == "village")
        .order_by(EntityRow.code, BankAccountRow.id)
    ).all()
    frame = pd.DataFrame(rows, columns=["village_code", "account_no", "account_name", "entity_name"], dtype=object)
    frame["account_name"] = frame["account_name"].where(frame["account_name"].notna(), frame["entity_name"])
    return frame.drop_duplicates("village_code")[["village_code", "account_no", "account_name"]]


def _gather_subsidy(session: Session, rule: SubsidyRule, period: str, inputs_path: Path | None) -> Gathered:
    period_start, period_end = month_bounds(period)
    households, people = registry.register_as_of(session, period_end, before_first_snapshot="oldest")
    inputs = subsidy_inputs(rule, inputs_path)
    try:
        result = allocate_subsidy(rule, households, people, period_start, period_end, inputs)
        if rule.payee == "collective":
            result = collective_payee(result, households, village_accounts(session))
    except AllocationError as error:
        raise DisburseError(tr("{rule}: {error}", rule=rule.name, error=error)) from None
    return Gathered(result, {"inputs_sha256": file_sha256(inputs_path) if inputs_path else None}, households)


def gather(session: Session, rule: Rule, period: str, pool_yuan: str | None, inputs_path: Path | None) -> Gathered:
    """Check the rule against the register and run its math on its inputs.

    A period before the first register snapshot (a national subsidy for 2025 arriving in 2026,
    say) is computed on the oldest snapshot, with enrolments, exits and deaths after the period
    left out, because that is the best knowledge of the register as it stood then."""
    month_bounds(period)
    if isinstance(rule, PvRevenueRule):
        return _gather_pv(session, rule, period, inputs_path)
    if inputs_path is not None and isinstance(rule, CoopDividendRule):
        raise DisburseError(
            tr(
                "{rule}: a dividend reads no input list, but --inputs {file} was given",
                rule=rule.name,
                file=inputs_path,
            )
        )
    if isinstance(rule, CoopDividendRule):
        return _gather_dividend(session, rule, pool_yuan)
    return _gather_subsidy(session, rule, period, inputs_path)


__all__ = ["Gathered", "gather", "month_bounds", "subsidy_inputs"]
