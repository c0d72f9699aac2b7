"""Checks on who was paid: copied lists, more people paid in a household than live there,
programmes that exclude each other, the same benefit twice, payments to the dead and the exited,
a person paid through a household they did not belong to, and amounts far above their norm."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from disburse.allocations.rules import CoopDividendRule, PvRevenueRule, SubsidyRule
from disburse.audit.config import AuditConfig
from disburse.audit.evidence import (
    limited,
    line_evidence,
    payable_evidence,
    payee_subjects,
    payment_evidence,
    register_evidence,
    shown,
    yuan,
)
from disburse.audit.facts import PV_WAGE_COMPONENT, Facts, in_force_at
from disburse.audit.model import Check, Evidence, Finding, english_kept
from disburse.foundation.frames import per_distinct
from disburse.foundation.i18n import join_list

PAYEE_TYPES = ("household", "person")
STATUS_EXITED = "已脱贫"
STATUS_RELAPSED = "返贫"


def _owed(facts: Facts) -> pd.DataFrame:
    payables = facts.payables
    return payables[payables["amount_fen"] > 0]


# ------------------------------------------------------------------------------------ A03
def _lists(facts: Facts) -> pd.DataFrame:
    """Every list of payees with its rows: a run's household and person lines, or a hand-made
    list (one programme and period of payables without a run)."""
    runs = facts.runs.set_index("id")
    lines = facts.lines[
        facts.lines["effective"] & facts.lines["payee_type"].isin(PAYEE_TYPES) & (facts.lines["amount_fen"] > 0)
    ]
    from_runs = pd.DataFrame(
        {
            "list_id": "run " + lines["run_id"].astype(str),
            "list_name": lines["run_id"].map(runs["rule_name"]).to_numpy(),
            "programme_key": lines["programme_key"].to_numpy(dtype=object),
            "made_at": lines["run_id"].map(runs["calculated_at"]).to_numpy(dtype=object),
            "period": lines["run_id"].map(runs["period"]).to_numpy(),
            "payee_type": lines["payee_type"].to_numpy(),
            "payee_id": lines["payee_id"].to_numpy(),
            "household_id": lines["household_id"].to_numpy(dtype=object),
            "account_no": lines["account_no"].to_numpy(dtype=object),
            "amount_fen": lines["amount_fen"].to_numpy(),
        }
    )
    manual = _owed(facts)
    manual = manual[manual["run_id"].isna()]
    made = manual.groupby(["programme", "period"])["created_at"].transform("min")
    from_lists = pd.DataFrame(
        {
            "list_id": "list " + manual["programme"].astype(str) + " " + manual["period"].astype(str),
            "list_name": manual["programme"].to_numpy(),
            "programme_key": manual["programme_key"].to_numpy(dtype=object),
            "made_at": made.to_numpy(dtype=object),
            "period": manual["period"].to_numpy(),
            "payee_type": manual["payee_type"].to_numpy(),
            "payee_id": manual["payee_id"].to_numpy(),
            "household_id": manual["household_id"].to_numpy(dtype=object),
            "account_no": manual["account_no"].to_numpy(dtype=object),
            "amount_fen": manual["amount_fen"].to_numpy(),
        }
    )
    rows = pd.concat([from_runs, from_lists], ignore_index=True)
    rows["row"] = np.arange(len(rows))
    return rows


def _in_two_programmes(rows: pd.DataFrame, key: str) -> pd.DataFrame:
    """The rows whose (``key``, amount) also appears under another programme: only they can
    pair with a row of another programme's list (a county's lines mostly pair with themselves)."""
    if rows.empty:
        return rows
    groups = rows.groupby([key, "amount_fen"], sort=False, dropna=False)["programme_key"]
    # A missing programme is unequal to every programme, itself included, so it always pairs.
    keep = (groups.transform("nunique", dropna=False) > 1) | rows["programme_key"].isna()
    return rows[keep.to_numpy()]


def copied_list(check: Check, facts: Facts, config: AuditConfig) -> list[Finding]:
    """Rows of one list that repeat another programme's list of the same or an earlier period:
    the same person (or the same card) with the same amount."""
    rows_min = config.copied_list.rows_min
    rows = _lists(facts)
    if rows.empty:
        return []
    columns = ["row", "list_id", "list_name", "programme_key", "made_at", "period"]
    payees = _in_two_programmes(rows, "payee_id")
    by_payee = payees.merge(
        payees[[*columns, "payee_id", "amount_fen"]], on=["payee_id", "amount_fen"], suffixes=("", "_source")
    )
    carded = _in_two_programmes(rows[rows["account_no"].notna()], "account_no")
    by_card = carded.merge(
        carded[[*columns, "account_no", "amount_fen"]], on=["account_no", "amount_fen"], suffixes=("", "_source")
    )
    pairs = pd.concat([by_payee, by_card], ignore_index=True)
    pairs = pairs[
        (pairs["programme_key"] != pairs["programme_key_source"])
        & (pairs["period_source"] <= pairs["period"])
        & (pairs["made_at_source"] < pairs["made_at"])
    ].drop_duplicates(["row", "list_id_source"])
    findings = []
    for (list_id, source_id), group in pairs.groupby(["list_id", "list_id_source"], sort=True):
        if len(group) < rows_min:
            continue
        copied = rows[rows["row"].isin(group["row"])]
        name, source = group["list_name"].iloc[0], group["list_name_source"].iloc[0]
        size = int((rows["list_id"] == list_id).sum())
        findings.append(
            check.finding(
                "list",
                (list_id, source_id),
                english_kept.tr(
                    "{copied} of the {size} rows of {name} ({period}) repeat {source} ({source_period}): the same "
                    "person or card with the same amount",
                    copied=len(copied),
                    size=size,
                    name=name,
                    period=group["period"].iloc[0],
                    source=source,
                    source_period=group["period_source"].iloc[0],
                ),
                english_kept.tr(
                    "a list whose rows repeat another programme's list (at least {rows_min} rows) was copied from it",
                    rows_min=rows_min,
                ),
                [f"programme:{name}", *sorted({s for row in copied.to_dict("records") for s in payee_subjects(row)})],
                limited([line_evidence_of_list(row, source) for row in copied.to_dict("records")]),
                int(copied["amount_fen"].sum()),
            )
        )
    return findings


def line_evidence_of_list(row: dict, source: str) -> Evidence:
    """A row of a list that repeats another list's row."""
    person = row["payee_id"] if row["payee_type"] == "person" else None
    return Evidence(
        "list_row",
        str(row["list_id"]),
        None,
        int(row["amount_fen"]),
        row.get("account_no"),
        None,
        row.get("household_id"),
        person,
        english_kept.tr("also in {source}", source=source),
    )


# ------------------------------------------------------------------------------------ A04
def too_many_in_household(check: Check, facts: Facts, config: AuditConfig) -> list[Finding]:
    """More people paid a person-level benefit in one household and period than the register
    lists there; or a per-person amount paid to a household for more people than live there."""
    extra_min = config.too_many_in_household.extra_people_min
    owed = _owed(facts)
    people = owed[(owed["payee_type"] == "person") & owed["household_id"].notna()]
    groups = (
        people.groupby(["household_id", "programme_key", "benefit_period"], sort=True)
        .agg(paid=("payee_id", "nunique"), start=("service_start", "min"), end=("service_end", "max"))
        .reset_index()
    )
    groups = groups[groups["paid"] > 1]
    findings: list[Finding] = []
    if len(groups):
        groups["row"] = np.arange(len(groups))
        wanted = groups[["row", "household_id"]].assign(on=groups["end"], alive_on=groups["start"])
        members = facts.household_members(wanted).groupby("row")["id_number"].nunique()
        groups["members"] = groups["row"].map(members).fillna(0).astype(int)
        for group in groups[groups["paid"] - groups["members"] >= extra_min].to_dict("records"):
            paid_rows = people[
                (people["household_id"] == group["household_id"])
                & (people["programme_key"] == group["programme_key"])
                & (people["benefit_period"] == group["benefit_period"])
            ]
            findings.append(
                check.finding(
                    "people",
                    (group["household_id"], group["programme_key"], group["benefit_period"]),
                    english_kept.tr(
                        "{household}: {paid} people paid {programme} {period}, but the register lists {members} "
                        "living member(s)",
                        household=group["household_id"],
                        paid=group["paid"],
                        programme=group["programme_key"],
                        period=group["benefit_period"],
                        members=group["members"],
                    ),
                    english_kept.tr("a person-level benefit is paid to no more people than live in the household"),
                    [
                        f"household:{group['household_id']}",
                        *[f"programme:{p}" for p in sorted(set(paid_rows["programme"]))],
                    ],
                    limited([payable_evidence(row) for row in paid_rows.to_dict("records")]),
                    int(paid_rows["amount_fen"].sum()),
                )
            )
    return findings + _counted_beyond_members(check, facts, extra_min)


def _counted_beyond_members(check: Check, facts: Facts, extra_min: int) -> list[Finding]:
    """Household lines of a per-person table (counted per person, paid to the household): the
    amount needs more people than the household's living members at the period's end."""
    lines = facts.lines[facts.lines["effective"] & (facts.lines["payee_type"] == "household")]
    findings = []
    for run_id, group in lines.groupby("run_id", sort=True):
        rule = facts.rules.get(int(run_id))
        basis = getattr(rule, "basis", None)
        if not (
            isinstance(rule, SubsidyRule)
            and getattr(basis, "type", "") == "attribute_table"
            and basis.counted_per == "person"  # type: ignore[union-attr]
            and basis.amount_per in ("month", "once")  # type: ignore[union-attr]
        ):
            continue
        top_fen = max(entry.amount_fen for entry in basis.entries)  # type: ignore[union-attr]
        group = group.assign(row=np.arange(len(group)))
        wanted = group[["row", "household_id"]].assign(on=group["service_end"], alive_on=group["service_end"])
        living = facts.household_members(wanted).groupby("row")["id_number"].nunique()
        group = group.assign(members=group["row"].map(living).fillna(0).astype(int))
        group = group.assign(needed=[math.ceil(amount / top_fen) for amount in group["amount_fen"]])
        for row in group[group["needed"] - group["members"] >= extra_min].to_dict("records"):
            findings.append(
                check.finding(
                    "counted",
                    (row["household_id"], row["programme_key"], row["benefit_period"]),
                    english_kept.tr(
                        "{household}: {amount} yuan of {programme} {period} needs at least {needed} people at {top} "
                        "yuan, but {members} live there",
                        household=row["household_id"],
                        amount=yuan(row["amount_fen"]),
                        programme=row["programme_key"],
                        period=row["benefit_period"],
                        needed=row["needed"],
                        top=yuan(top_fen),
                        members=row["members"],
                    ),
                    english_kept.tr("a per-person amount paid to the household counts no more people than live there"),
                    [f"household:{row['household_id']}"],
                    [line_evidence(row)],
                    int(row["amount_fen"]),
                )
            )
    return findings


# ------------------------------------------------------------------------------------ A05
def incompatible_programmes(check: Check, facts: Facts, config: AuditConfig) -> list[Finding]:
    """Two programmes configured as mutually exclusive paid to one person (or household) for
    overlapping service periods."""
    owed = _owed(facts)
    by_id = owed.set_index("payable_id", drop=False)
    columns = ["payable_id", "payee_type", "payee_id", "household_id", "benefit_period", "service_start", "service_end"]
    findings = []
    for first, second in config.incompatible_programmes.pairs:
        left, right = owed[owed["programme_key"] == first][columns], owed[owed["programme_key"] == second][columns]
        if left.empty or right.empty:
            continue
        people = left[left["payee_type"] == "person"].merge(
            right[right["payee_type"] == "person"], on="payee_id", suffixes=("", "_other")
        )
        people["who"], people["kind"] = people["payee_id"], "person"
        households = left[left["household_id"].notna()].merge(
            right[right["household_id"].notna()], on="household_id", suffixes=("", "_other")
        )
        households = households[
            (households["payee_type"] == "household") | (households["payee_type_other"] == "household")
        ]
        households["who"], households["kind"] = households["household_id"], "household"
        pairs = pd.concat([people, households], ignore_index=True)
        overlap = (pairs["service_start"] <= pairs["service_end_other"]) & (
            pairs["service_start_other"] <= pairs["service_end"]
        )
        for (kind, who), group in pairs[overlap].groupby(["kind", "who"], sort=True):
            period = min(group["benefit_period"])
            ids = sorted(set(group["payable_id"]) | set(group["payable_id_other"]))
            both = by_id.loc[ids]
            findings.append(
                check.finding(
                    kind,
                    (first, second, who, period),
                    english_kept.tr(
                        "{payee} is paid both {first} and {second} for {period} ({amount} yuan in all)",
                        payee=shown(who),
                        first=first,
                        second=second,
                        period=period,
                        amount=yuan(int(both["amount_fen"].sum())),
                    ),
                    english_kept.tr(
                        "{first} and {second} exclude each other (audit/config.yaml incompatible_programmes)",
                        first=first,
                        second=second,
                    ),
                    [f"{kind}:{who}", *[f"programme:{p}" for p in sorted(set(both["programme"]))]],
                    limited([payable_evidence(row) for row in both.to_dict("records")]),
                    int(both["amount_fen"].sum()),
                )
            )
    return findings


# ------------------------------------------------------------------------------------ A06
def paid_twice(check: Check, facts: Facts, config: AuditConfig) -> list[Finding]:
    """One benefit (payee, programme, subject, service period, revenue type) owed by two
    independent runs or lists. A correction of a run (a run that supersedes it) is the same
    benefit; a settlement of another service period is another benefit."""
    owed = _owed(facts).copy()
    owed["instance"] = [
        f"run {int(root)}" if not pd.isna(root) else f"payable {payable}"
        for root, payable in zip(owed["root_run_id"], owed["payable_id"])
    ]
    owed["revenue"] = owed["revenue_type"].fillna("")
    keys = ["payee_type", "payee_id", "programme_key", "rule_subject", "benefit_period", "revenue"]
    counts = owed.groupby(keys, sort=True)["instance"].transform("nunique")
    findings = []
    for key, group in owed[counts > 1].groupby(keys, sort=True):
        # Owed again is all but the largest instance; a few fen of 补差 is not a duplicate.
        again_fen = int(group.groupby("instance")["amount_fen"].sum().sort_values().iloc[:-1].sum())
        if again_fen < config.paid_twice.amount_min_fen:
            continue
        payee_type, payee_id, programme_key, subject, period, revenue = key
        findings.append(
            check.finding(
                "benefit",
                key,
                english_kept.tr(
                    "{payee} is owed {programme} {period}{revenue} {count} times ({instances}), {amount} yuan in all",
                    payee=shown(payee_id),
                    programme=programme_key,
                    period=period,
                    revenue=(" " + revenue) if revenue else "",
                    count=group["instance"].nunique(),
                    instances=join_list(sorted(set(group["instance"]))),
                    amount=yuan(int(group["amount_fen"].sum())),
                ),
                english_kept.tr("one payee gets one benefit once per programme and service period"),
                [
                    *payee_subjects(group.iloc[0].to_dict()),
                    *[f"programme:{p}" for p in sorted(set(group["programme"]))],
                ],
                limited([payable_evidence(row) for row in group.to_dict("records")]),
                int(group["amount_fen"].sum()),
            )
        )
    return findings


# ------------------------------------------------------------------------------------ A13
def paid_after_death(check: Check, facts: Facts, config: AuditConfig) -> list[Finding]:
    """A payment for a person who died before its service period began, and (a kind of its own)
    one for a person who died after the period ended but before the payment. A household whose
    every member was dead before the period counts as a person."""
    paid = facts.sent_payables
    # Deaths are found on the few columns they need; only the rows with one are taken whole.
    payee_type = paid["payee_type"].to_numpy(dtype=object)
    died = np.full(len(paid), None, dtype=object)
    person, household = payee_type == "person", payee_type == "household"
    died[person] = paid.loc[person, "payee_id"].map(facts.people["died_on"]).to_numpy(dtype=object)
    died[household] = _household_deaths(facts, paid.loc[household, ["household_id", "service_start", "service_end"]])
    dead = pd.notna(died)
    rows = pd.concat(
        [paid[kind & dead].assign(died_on=died[kind & dead]) for kind in (person, household)], ignore_index=True
    )
    findings = []
    for row in rows.to_dict("records"):
        died, start, end, paid_on = row["died_on"], row["service_start"], row["service_end"], row["paid_on"]
        if died < start:
            kind, why = (
                "period_after_death",
                english_kept.tr("died on {died}, before the service period began on {start}", died=died, start=start),
            )
        elif paid_on is not None and end < died < paid_on:
            kind, why = (
                "died_before_payment",
                english_kept.tr(
                    "died on {died}, after the period ended on {end} but before the payment on {paid_on}",
                    died=died,
                    end=end,
                    paid_on=paid_on,
                ),
            )
        elif config.paid_after_death.death_in_period and start <= died <= end:
            kind, why = (
                "period_of_death",
                english_kept.tr(
                    "died on {died}, during the service period {start} to {end}", died=died, start=start, end=end
                ),
            )
        else:
            continue
        who = row["payee_id"]
        findings.append(
            check.finding(
                kind,
                (row["payment_reference"], who, row["payable_id"]),
                english_kept.tr(
                    "{payment} paid {amount} yuan of {programme} {period} for {payee}, who {why}",
                    payment=row["payment_reference"],
                    amount=yuan(row["amount_fen"]),
                    programme=row["programme"],
                    period=row["benefit_period"],
                    payee=shown(who),
                    why=why,
                ),
                english_kept.tr("the dead are not paid for periods after their death")
                if kind == "period_after_death"
                else english_kept.tr(
                    "a payment that reaches a person after their death goes to the estate: it needs a decision"
                ),
                [*payee_subjects(row), f"programme:{row['programme']}"],
                [
                    payment_evidence(row),
                    payable_evidence(row),
                    register_evidence(
                        "death", died, row["household_id"], who if row["payee_type"] == "person" else None
                    ),
                ],
                int(row["amount_fen"]),
            )
        )
    return findings


def _household_deaths(facts: Facts, rows: pd.DataFrame) -> list[object]:
    """The last death among a household's members when every member the register listed at the
    service period's end had died before the period began; None otherwise. The members are
    looked up once per (household, period end): a household has a payable per programme and
    settlement, and each lookup joins every version of its people."""
    if rows.empty:
        return []
    keys = pd.DataFrame(
        {"household_id": rows["household_id"].to_numpy(dtype=object), "on": rows["service_end"].to_numpy(dtype=object)}
    )
    distinct = keys.drop_duplicates(ignore_index=True)
    distinct["row"] = np.arange(len(distinct))
    wanted = distinct.assign(alive_on=[dt.date.min] * len(distinct))
    members = facts.household_members(wanted)
    members = members.assign(died_on=pd.to_datetime(members["id_number"].map(facts.people["died_on"])))
    per_key = members.groupby("row").agg(
        people=("id_number", "size"), dead=("died_on", "count"), last=("died_on", "max")
    )
    # Each row's key, in the rows' order (a left merge keeps the left's order).
    per_row = per_key.reindex(keys.merge(distinct, on=["household_id", "on"], how="left")["row"].to_numpy())
    per_row.index = np.arange(len(rows))
    starts = pd.to_datetime(pd.Series(rows["service_start"].to_numpy(dtype=object)))
    all_dead = per_row[(per_row["people"] == per_row["dead"]) & (per_row["last"] < starts.to_numpy())]
    deaths: list[object] = [None] * len(rows)
    for row, last in zip(all_dead.index, all_dead["last"]):
        deaths[int(row)] = last.date()
    return deaths


# ------------------------------------------------------------------------------------ A14
def _exit_filters(rule: object) -> list:  # type: ignore[type-arg]
    if not isinstance(rule, SubsidyRule):
        return []
    return [item for item in [*rule.population, *rule.eligibility] if item.field == "household.poverty_status"]


def _status_passes(filters: list, status: str) -> bool:  # type: ignore[type-arg]
    for item in filters:
        values = item.value if isinstance(item.value, list) else [item.value]
        if (item.op in ("in", "eq") and status not in values) or (item.op in ("ne", "not_in") and status in values):
            return False
    return True


def stops_on_exit(rule: object) -> bool:
    """A rule that stops paying a household once it exits poverty: ``stop_on_exit`` on a PV or
    dividend rule, or a subsidy whose population or eligibility leaves out 已脱贫 households."""
    if isinstance(rule, (PvRevenueRule, CoopDividendRule)):
        return bool(rule.stop_on_exit)
    filters = _exit_filters(rule)
    return bool(filters) and not _status_passes(filters, STATUS_EXITED)


def _exit_finding_reason(
    row: dict, config: AuditConfig, prorates: bool, known_and_calculated: tuple
) -> tuple[str, str] | None:  # type: ignore[type-arg]
    """The finding's kind and why for a payment to an exited household, or None when it is not one:
    a period after the exit, or (``prorates``) an exit in the period recorded after the run."""
    exited, start, end = row["exited_on"], row["service_start"], row["service_end"]
    if exited < start or (config.paid_after_exit.exit_in_period and not prorates and exited <= end):
        when = (
            english_kept.tr("before the service period began on {start}", start=start)
            if exited < start
            else english_kept.tr("during {period}", period=row["benefit_period"])
        )
        return "period_after_exit", english_kept.tr("exited on {exited}, {when}", exited=exited, when=when)
    known_at, calculated_at = known_and_calculated
    if prorates and start <= exited <= end and known_at > calculated_at:
        return (
            "exit_not_prorated",
            english_kept.tr(
                "exited on {exited}, during {period}; the exit was recorded after run {run} was calculated, so it "
                "was not prorated",
                exited=exited,
                period=row["benefit_period"],
                run=int(row["run_id"]),
            ),
        )
    return None


def paid_after_exit(check: Check, facts: Facts, config: AuditConfig) -> list[Finding]:
    """A household paid by a rule that stops on exit, for a service period that began after its
    exit; or (PV and dividends, which prorate) for a period it exited in, when the exit was
    recorded only after the run was calculated, so the run could not prorate it."""
    paid = facts.sent_payables
    paid = paid[paid["run_id"].notna() & paid["household_id"].notna()].copy()
    paid["stops"] = [stops_on_exit(facts.rules.get(int(run))) for run in paid["run_id"]]
    paid = paid[paid["stops"].astype(bool)]
    households = facts.households
    paid["exited_on"] = paid["household_id"].map(households["exited_on"]).to_numpy(dtype=object)
    paid = paid[paid["exited_on"].notna()].reset_index(drop=True)
    if paid.empty:
        return []
    # A household that fell back (返贫) by the period is paid again: not a finding.
    versions = facts.household_version_at(
        pd.DataFrame({"row": np.arange(len(paid)), "household_id": paid["household_id"], "on": paid["service_end"]})
    )
    status = versions.set_index("row")["poverty_status"]
    paid["status_then"] = paid.index.map(status).to_numpy(dtype=object)
    runs = facts.runs.set_index("id")
    findings = []
    for row in paid[paid["status_then"] != STATUS_RELAPSED].to_dict("records"):
        exited, end = row["exited_on"], row["service_end"]
        rule = facts.rules.get(int(row["run_id"]))
        known_at = households.at[row["household_id"], "exit_known_at"]
        prorates = isinstance(rule, (PvRevenueRule, CoopDividendRule))
        # A subsidy's own filter decides: the status then, as the register now knows it (an exit
        # dated before the period turns 未脱贫 into 已脱贫; 监测对象 stays eligible).
        status_now = STATUS_EXITED if row["status_then"] == "未脱贫" and exited <= end else row["status_then"]
        if not prorates and _status_passes(_exit_filters(rule), str(status_now)):
            continue
        calculated_at = runs.at[int(row["run_id"]), "calculated_at"]
        found = _exit_finding_reason(row, config, prorates, (known_at, calculated_at))
        if found is None:
            continue
        kind, why = found
        findings.append(
            check.finding(
                kind,
                (row["household_id"], row["root_run_id"], row["benefit_period"], row["payee_id"]),
                english_kept.tr(
                    "{payment} paid {amount} yuan of {programme} {period} to {household}, which {why}",
                    payment=row["payment_reference"],
                    amount=yuan(row["amount_fen"]),
                    programme=row["programme"],
                    period=row["benefit_period"],
                    household=row["household_id"],
                    why=why,
                ),
                english_kept.tr("a rule that stops on exit pays nothing for the time after the exit"),
                [*payee_subjects(row), f"programme:{row['programme']}"],
                [
                    payment_evidence(row),
                    payable_evidence(row),
                    register_evidence(
                        "exit",
                        exited,
                        row["household_id"],
                        None,
                        english_kept.tr(
                            "recorded by the snapshot of {day}", day=households.at[row["household_id"], "exit_known_on"]
                        ),
                    ),
                ],  # fmt: skip
                int(row["amount_fen"]),
            )
        )
    return findings


# ------------------------------------------------------------------------------------ A15
def person_in_two_households(check: Check, facts: Facts, config: AuditConfig) -> list[Finding]:
    """A person-level payment made through a household the person did not belong to at any time
    from the service period's start to the payment (a dated move is followed), and a resident
    ID listed in two households by one snapshot."""
    paid = facts.sent_payables
    people = paid[(paid["payee_type"] == "person") & paid["household_id"].notna()].reset_index(drop=True)
    people = people[people["payee_id"].isin(facts.people.index)].reset_index(drop=True)
    findings = []
    if len(people):
        ends = [max(end, on) if on is not None else end for end, on in zip(people["service_end"], people["paid_on"])]
        # A household left shortly before the period may still be on the register the run read.
        grace = dt.timedelta(days=config.person_in_two_households.grace_days)
        starts = [start - grace for start in people["service_start"]]
        wanted = pd.DataFrame(
            {"row": np.arange(len(people)), "id_number": people["payee_id"], "start": starts, "end": ends}
        )
        belonged = facts.people_households(wanted).groupby("row")["household_id"].agg(set)
        for position, row in enumerate(people.to_dict("records")):
            households = belonged.get(position, set())
            if row["household_id"] in households:
                continue
            findings.append(
                check.finding(
                    "paid_through",
                    (row["payee_id"], row["household_id"], row["programme_key"], row["benefit_period"]),
                    english_kept.tr(
                        "{payment}: {payee} was paid {programme} {period} through {household}, but the register lists "
                        "them in {households}",
                        payment=row["payment_reference"],
                        payee=shown(row["payee_id"]),
                        programme=row["programme"],
                        period=row["benefit_period"],
                        household=row["household_id"],
                        households=join_list(sorted(households)) or english_kept.tr("no household"),
                    ),
                    english_kept.tr("a person belongs to one household; a payment through another needs a dated move"),
                    [
                        f"person:{row['payee_id']}",
                        f"household:{row['household_id']}",
                        *[f"household:{h}" for h in households],
                    ],
                    [payment_evidence(row), payable_evidence(row)],
                    int(row["amount_fen"]),
                )
            )
    return findings + _listed_twice(check, facts)


def _listed_twice(check: Check, facts: Facts) -> list[Finding]:
    versions = facts.person_versions[["id_number", "household_id", "from_on", "to_on"]]
    snapshots = pd.DataFrame({"snapshot_on": facts.snapshots["as_of"]}).drop_duplicates()
    crossed = versions.merge(snapshots, how="cross")
    crossed = crossed[in_force_at(crossed, crossed["snapshot_on"])]
    counts = crossed.groupby(["snapshot_on", "id_number"])["household_id"].transform("nunique")
    findings = []
    for (on, id_number), group in crossed[counts > 1].groupby(["snapshot_on", "id_number"], sort=True):
        households = sorted(set(group["household_id"]))
        findings.append(
            check.finding(
                "listed_twice",
                (id_number, *households),
                english_kept.tr(
                    "{person} is listed in {households} by the snapshot of {day}",
                    person=id_number,
                    households=english_kept.tr(" and ").join(households),
                    day=on,
                ),
                english_kept.tr("a person appears in one household only"),
                [f"person:{id_number}", *[f"household:{h}" for h in households]],
                [register_evidence("person version", on, household, id_number) for household in households],
            )
        )
    return findings


# ------------------------------------------------------------------------------------ A18
def _per_run(runs: pd.Series, decide, facts: Facts) -> np.ndarray:  # type: ignore[no-untyped-def]
    """``decide(rule)`` of each line's run as booleans, decided once per run (a month's lines
    come from a handful of runs)."""
    return np.array(per_distinct(runs.tolist(), lambda run: bool(decide(facts.rules.get(int(run))))), dtype=bool)


def above_norm(check: Check, facts: Facts, config: AuditConfig) -> list[Finding]:
    """Amounts of a standard-based programme far above its median: more than N times the median
    and above a floor. Shares of a pool (PV, dividends) follow holdings and are left out, as are
    top-ups that follow a bill; a per-person amount paid to a household is compared per person."""
    settings = config.above_norm
    lines = facts.lines[
        facts.lines["effective"] & facts.lines["payee_type"].isin(PAYEE_TYPES) & (facts.lines["amount_fen"] > 0)
    ]
    share_based = lines["rule_kind"].isin(["pv_revenue", "coop_dividend"]) & (lines["component"] != PV_WAGE_COMPONENT)
    bill_based = _per_run(
        lines["run_id"],
        lambda rule: getattr(getattr(rule, "basis", None), "type", "") == "medical_topup",
        facts,
    )
    lines = lines[~share_based & ~bill_based].reset_index(drop=True)
    per_person = _per_run(lines["run_id"], _counted_per_person, facts)
    people = np.ones(len(lines), dtype=np.int64)
    if per_person.any():
        counted = lines[per_person]
        wanted = pd.DataFrame(
            {
                "row": np.flatnonzero(per_person),
                "household_id": counted["household_id"].to_numpy(dtype=object),
                "on": counted["service_end"].to_numpy(dtype=object),
                "alive_on": counted["service_end"].to_numpy(dtype=object),
            }
        )
        living = facts.household_members(wanted).groupby("row")["id_number"].nunique()
        people[np.flatnonzero(per_person)] = [max(1, int(living.get(row, 1))) for row in np.flatnonzero(per_person)]
    lines = lines.assign(norm_fen=lines["amount_fen"].to_numpy() // people, people=people)
    medians = lines.groupby("programme_key")["norm_fen"].transform("median")
    flagged = lines[(lines["norm_fen"] > medians * settings.multiple) & (lines["amount_fen"] > settings.floor_fen)]
    return [
        check.finding(
            "line",
            (row["run_id"], row["payee_id"], row["component"], row["benefit_period"]),
            english_kept.tr(
                "{payee} gets {amount} yuan of {programme} {period}{per_person}, over {multiple} times the median "
                "{median}",
                payee=shown(row["payee_id"]),
                amount=yuan(row["amount_fen"]),
                programme=row["programme_key"],
                period=row["benefit_period"],
                per_person=english_kept.tr(" ({amount} per person)", amount=yuan(row["norm_fen"]))
                if row["people"] > 1
                else "",
                multiple=settings.multiple,
                median=yuan(int(median)),
            ),
            english_kept.tr(
                "a standard-based amount above {multiple}× its programme's median and above {floor} yuan",
                multiple=settings.multiple,
                floor=yuan(settings.floor_fen),
            ),
            payee_subjects(row),
            [line_evidence(row)],
            int(row["amount_fen"]),
        )
        for row, median in zip(flagged.to_dict("records"), medians[flagged.index])
    ]


def _counted_per_person(rule: object) -> bool:
    basis = getattr(rule, "basis", None)
    return (
        getattr(basis, "type", "") == "attribute_table"
        and basis.counted_per == "person"
        and basis.paid_to == "household"
    )  # type: ignore[union-attr]
