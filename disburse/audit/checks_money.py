"""Checks on where the money went as a whole: money left idle, pools split evenly, PV
distributions that do not tie to the settlement or come from a station that produced nothing,
dividends below the contract's floor, and the household share of village-station revenue."""

from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction

import numpy as np
import pandas as pd

from disburse.allocations.rules import CoopDividendRule
from disburse.audit.config import AuditConfig
from disburse.audit.evidence import (
    limited,
    line_evidence,
    payable_evidence,
    payee_subjects,
    shown,
    status_name,
    yuan,
)
from disburse.audit.facts import Facts
from disburse.audit.model import Check, Evidence, Finding, Said, english_kept
from disburse.foundation.dates import as_date_or_none
from disburse.importers.settlements import REVENUE_TYPE_NAMES
from disburse.payouts.model import PAYABLE_STATUS_NAMES

SHARE_BASED_KINDS = ("pv_revenue", "coop_dividend")
DEDUCTION_SUFFIX = "_deduction"
FLOOR_SHORTFALL_COMPONENT = "floor_shortfall"
RECEIVABLES_ACCOUNT = "112"


def _revenue_type(code: object) -> Said:
    """A settlement's revenue type by name (国家补贴), its English form the stored code, so that a
    finding's evidence digest is what it was before the type was shown by name."""
    return Said(REVENUE_TYPE_NAMES.get(str(code), str(code)), str(code))


# ------------------------------------------------------------------------------------ A01
def money_idle(check: Check, facts: Facts, config: AuditConfig) -> list[Finding]:
    """Payables unpaid, received settlements unallocated and fund credits unspent for longer
    than the configured days."""
    days = config.money_idle.days
    cutoff = facts.today - dt.timedelta(days=days)
    return (
        _idle_payables(check, facts, cutoff, days)
        + _idle_settlements(check, facts, cutoff, days)
        + _idle_funds(check, facts, config, cutoff, days)
    )


def _idle_payables(check: Check, facts: Facts, cutoff: dt.date, days: int) -> list[Finding]:
    payables = facts.payables
    owed = payables[(payables["status"] != "paid") & (payables["amount_fen"] > 0)]
    owed = owed[np.array([due is not None and due < cutoff for due in owed["due_on"]], dtype=bool)]
    findings = []
    for row in owed.to_dict("records"):
        idle_days = (facts.today - row["due_on"]).days
        findings.append(
            check.finding(
                "payable",
                (row["payable_id"],),
                english_kept.tr(
                    "payable {payable} ({payee} {programme} {period}, {amount} yuan) has been owed since {due}, "
                    "{idle_days} days, unpaid",
                    payable=row["payable_id"],
                    payee=shown(row["payee_id"]),
                    programme=row["programme"],
                    period=row["benefit_period"],
                    amount=yuan(row["amount_fen"]),
                    due=row["due_on"],
                    idle_days=idle_days,
                ),
                english_kept.tr(
                    "money owed to a beneficiary must be paid within {days} days; this payable is {status}",
                    days=days,
                    status=status_name(row["status"], PAYABLE_STATUS_NAMES),
                ),
                [*payee_subjects(row), f"programme:{row['programme']}"],
                [payable_evidence(row)],
                int(row["amount_fen"]),
            )
        )
    return findings


def _idle_settlements(check: Check, facts: Facts, cutoff: dt.date, days: int) -> list[Finding]:
    settlements = facts.settlements
    idle = settlements[
        settlements["run_id"].isna()
        & np.array([received is not None and received < cutoff for received in settlements["received_on"]], dtype=bool)
        & (settlements["amount_fen"] > 0)
    ]
    return [
        check.finding(
            "settlement",
            (row["id"],),
            english_kept.tr(
                "settlement {settlement} of {station} ({period} {revenue_type}, {amount} yuan) reached the bank on "
                "{received} and is not distributed",
                settlement=row["id"],
                station=row["station_id"],
                period=row["service_period"],
                revenue_type=_revenue_type(row["revenue_type"]),
                amount=yuan(row["amount_fen"]),
                received=row["received_on"],
            ),
            english_kept.tr(
                "PV revenue must not sit idle: received more than {days} days ago and allocated by no posted run",
                days=days,
            ),
            [f"station:{row['station_id']}", f"settlement:{row['id']}"],
            [
                Evidence(
                    "settlement",
                    f"settlement {row['id']}",
                    row["received_on"],
                    int(row["amount_fen"]),
                    note=english_kept.tr(
                        "{station} {period} {revenue_type} {kwh} kWh, not allocated",
                        station=row["station_id"],
                        period=row["service_period"],
                        revenue_type=_revenue_type(row["revenue_type"]),
                        kwh=row["kwh"],
                    ),
                )
            ],
            int(row["amount_fen"]),
        )
        for row in idle.to_dict("records")
    ]


def _idle_funds(check: Check, facts: Facts, config: AuditConfig, cutoff: dt.date, days: int) -> list[Finding]:
    """Credits to a fund account (241 …) that later debits have not used up, oldest used first."""
    accounts = list(config.money_idle.fund_accounts)
    if not accounts:
        return []
    conditions = " OR ".join(f"p.account_code = :a{i} OR p.account_code LIKE :p{i}" for i in range(len(accounts)))
    parameters = {f"a{i}": code for i, code in enumerate(accounts)} | {
        f"p{i}": f"{code}.%" for i, code in enumerate(accounts)
    }
    postings = facts.frame(
        "SELECT e.entity_id, p.account_code, coalesce(p.fund_source, '') AS fund_source, e.entry_date, e.id AS "
        f"entry_id, e.memo, p.amount_fen FROM postings p JOIN journal_entries e ON e.id = p.entry_id WHERE {conditions}"
        " ORDER BY e.entry_date, e.id",
        **parameters,
    )
    if postings.empty:
        return []
    postings["amount_fen"] = postings["amount_fen"].astype(np.int64)
    postings["entry_date"] = [as_date_or_none(value) for value in postings["entry_date"]]
    findings = []
    for (entity_id, account, fund), group in postings.groupby(["entity_id", "account_code", "fund_source"], sort=True):
        credits = group[group["amount_fen"] < 0]
        spent = int(group.loc[group["amount_fen"] > 0, "amount_fen"].sum())
        cumulative = (-credits["amount_fen"]).cumsum().to_numpy()
        before = np.concatenate([[0], cumulative[:-1]])
        unused = np.clip(cumulative - spent, 0, None) - np.clip(before - spent, 0, None)
        old = np.array([on < cutoff for on in credits["entry_date"]], dtype=bool) & (unused > 0)
        if not old.any():
            continue
        idle_fen = int(unused[old].sum())
        entity = facts.entity_codes.get(int(entity_id), str(entity_id))
        rows = [
            Evidence(
                "ledger",
                f"entry {int(row['entry_id'])}",
                row["entry_date"],
                int(amount),
                note=english_kept.tr("{account} {fund}: {memo} (unused)", account=account, fund=fund, memo=row["memo"]),
            )
            for row, amount in zip(credits[old].to_dict("records"), unused[old])
        ]
        findings.append(
            check.finding(
                "fund",
                (entity, account, fund),
                english_kept.tr(
                    "{entity} {account} {fund}: {idle} yuan credited before {cutoff} is still not paid out ({spent} "
                    "yuan paid out of the fund in all)",
                    entity=entity,
                    account=account,
                    fund=fund or english_kept.tr("(no fund source)"),
                    idle=yuan(idle_fen),
                    cutoff=cutoff,
                    spent=yuan(spent),
                ),
                english_kept.tr(
                    "funds must be paid out within {days} days of arriving; credits are used oldest first", days=days
                ),
                [f"fund:{fund}", f"entity:{entity}"],
                limited(rows),
                idle_fen,
            )
        )
    return findings


# ------------------------------------------------------------------------------------ A02
def _is_pool_money(text: object, words: tuple[str, ...]) -> bool:
    return isinstance(text, str) and any(word in text for word in words)


def equal_split(check: Check, facts: Facts, config: AuditConfig) -> list[Finding]:
    """A pool handed out in (near-)equal amounts that its basis does not explain: a PV or
    dividend run whose shares differ while the amounts do not, or a flat list (a subsidy rule or
    a hand-made list) paying pool money."""
    settings = config.equal_split
    findings = []
    runs = facts.runs.set_index("id")
    lines = facts.lines[facts.lines["effective"] & facts.lines["payee_type"].isin(["household", "person"])]
    lines = lines[lines["amount_fen"] > 0]
    for (run_id, component), group in lines.groupby(["run_id", "component"], sort=True):
        run = runs.loc[run_id]
        share_based = run["rule_kind"] in SHARE_BASED_KINDS
        if not share_based and not _is_pool_money(run["fund_source"], settings.pool_fund_words):
            continue
        if not _near_equal(group["amount_fen"], settings) or (share_based and _shares_equal(group, settings)):
            continue
        findings.append(
            _equal_finding(
                check,
                ("run", run_id, component),
                str(run["rule_name"]),
                str(run["period"]),
                str(run["fund_source"]),
                group,
                settings,
                share_based,
                line_evidence,
            )
        )
    manual = facts.payables[facts.payables["run_id"].isna() & (facts.payables["amount_fen"] > 0)]
    for (programme, period), group in manual.groupby(["programme", "period"], sort=True):
        fund = group["fund_source"].iloc[0]
        if not (_is_pool_money(fund, settings.pool_fund_words) or _is_pool_money(programme, settings.pool_fund_words)):
            continue
        if _near_equal(group["amount_fen"], settings):
            findings.append(_equal_finding(check, ("list", programme, period), str(programme), str(period), str(fund),
                                           group, settings, False, payable_evidence))  # fmt: skip
    return findings


def _near_equal(amounts: pd.Series, settings) -> bool:  # type: ignore[no-untyped-def]
    if len(amounts) < settings.lines_min:
        return False
    values = amounts.to_numpy(dtype=np.int64)
    median = int(np.median(values))
    close = np.abs(values - median) <= settings.tolerance_fen
    return int(close.sum()) * 100 >= settings.same_amount_percent * len(values)


def _shares_equal(group: pd.DataFrame, settings) -> bool:  # type: ignore[no-untyped-def]
    """The exact shares behind the lines are (near-)equal too: equal claims explain equal pay."""
    shares = [
        Fraction(int(numerator), int(denominator))
        if isinstance(numerator, str) and isinstance(denominator, str)
        else None
        for numerator, denominator in zip(group["share_numerator"], group["share_denominator"])
    ]
    known = [share for share in shares if share is not None]
    if len(known) < len(shares):
        return True  # lines without a recorded share: their basis cannot be compared, so no finding
    median = sorted(known)[len(known) // 2]
    close = sum(1 for share in known if abs(share - median) <= median / 100)
    return close * 100 >= settings.same_amount_percent * len(known)


def _equal_finding(check, keys, name, period, fund, group, settings, share_based, to_evidence) -> Finding:  # type: ignore[no-untyped-def]
    values = group["amount_fen"].to_numpy(dtype=np.int64)
    median = int(np.median(values))
    close = int((np.abs(values - median) <= settings.tolerance_fen).sum())
    why = (
        english_kept.tr("the amounts are equal while the payees' shares are not")
        if share_based
        else english_kept.tr("pool money ({fund}) is paid as a flat amount per payee, not by any basis", fund=fund)
    )
    return check.finding(
        "split",
        keys,
        english_kept.tr(
            "{name} {period}: {close} of {count} payees get {median} yuan each (±{tolerance})",
            name=name,
            period=period,
            close=close,
            count=len(values),
            median=yuan(median),
            tolerance=yuan(settings.tolerance_fen),
        ),
        english_kept.tr("a pool must not be handed out evenly (严禁简单平均分配): {why}", why=why),
        [f"programme:{name}", *sorted({s for row in group.to_dict("records") for s in payee_subjects(row)})],
        limited([to_evidence(row) for row in group.to_dict("records")]),
        int(values.sum()),
    )


# ------------------------------------------------------------------------------------ A07
def _fraction_of(rate: object) -> Fraction:
    return rate if isinstance(rate, Fraction) else Fraction(str(rate))


def dividend_below_floor(check: Check, facts: Facts, config: AuditConfig) -> list[Finding]:
    """A dividend rule whose guaranteed floor is below the contract's, and a floor shortfall the
    cooperative still owes after the configured days."""
    settings = config.dividend_below_floor
    findings = []
    runs = facts.runs[(facts.runs["status"] == "posted") & (facts.runs["rule_kind"] == "coop_dividend")]
    lines = facts.lines[facts.lines["effective"]]
    for run in runs.to_dict("records"):
        rule = facts.rules.get(int(run["id"]))
        if not isinstance(rule, CoopDividendRule):
            continue
        numerator, denominator = settings.floor_of(rule.cooperative_id)
        contract = Fraction(numerator, denominator)
        rule_floor = _fraction_of(rule.floor_rate)
        holders = lines[(lines["run_id"] == run["id"]) & (lines["payee_type"] == "household")]
        subjects = [f"cooperative:{rule.cooperative_id}", f"programme:{run['rule_name']}"]
        if rule_floor < contract:
            findings.append(
                check.finding(
                    "floor",
                    (run["root_run_id"],),
                    english_kept.tr(
                        "run {run} ({rule}) guarantees {floor:g}% a year on principal; the contract guarantees "
                        "{contract:g}% ({holders} household holders)",
                        run=run["id"],
                        rule=run["rule_name"],
                        floor=float(rule_floor * 100),
                        contract=float(contract * 100),
                        holders=len(holders),
                    ),
                    english_kept.tr(
                        "a 拨改股 holder must get at least the contract's floor (保底分红) for the holding period"
                    ),
                    subjects,
                    limited([line_evidence(row) for row in holders.to_dict("records")]),
                    int(holders["amount_fen"].sum()),
                )
            )
        findings += _unpaid_shortfall(check, facts, run, rule, lines, settings.shortfall_days, subjects)
    return findings


def _unpaid_shortfall(check, facts, run, rule, lines, days, subjects) -> list[Finding]:  # type: ignore[no-untyped-def]
    shortfall = lines[(lines["run_id"] == run["id"]) & (lines["component"] == FLOOR_SHORTFALL_COMPONENT)]
    owed_fen = -int(shortfall["amount_fen"].sum())
    if owed_fen <= 0 or (facts.today - run["posted_on"]).days <= days:
        return []
    balance = facts.frame(
        "SELECT coalesce(sum(p.amount_fen), 0) AS balance FROM postings p JOIN journal_entries e ON e.id = p.entry_id"
        " WHERE (p.account_code = :code OR p.account_code LIKE :sub) AND p.fund_source = :fund",
        code=RECEIVABLES_ACCOUNT,
        sub=f"{RECEIVABLES_ACCOUNT}.%",
        fund=rule.fund_source,
    )["balance"].iloc[0]
    still_owed = int(balance or 0)
    if still_owed <= 0:
        return []
    return [
        check.finding(
            "shortfall",
            (run["root_run_id"],),
            english_kept.tr(
                "run {run} ({rule}): the cooperative owes a floor shortfall of {owed} yuan since {posted}; {still} "
                "yuan is still receivable on {account}",
                run=run["id"],
                rule=run["rule_name"],
                owed=yuan(owed_fen),
                posted=run["posted_on"],
                still=yuan(still_owed),
                account=RECEIVABLES_ACCOUNT,
            ),
            english_kept.tr("a floor shortfall the cooperative owes must be paid within {days} days", days=days),
            subjects,
            [
                line_evidence(row, english_kept.tr("floor shortfall owed by the cooperative"))
                for row in shortfall.to_dict("records")
            ],
            still_owed,
        )
    ]


# ------------------------------------------------------------------------------------ A08
def settlement_mismatch(check: Check, facts: Facts, config: AuditConfig) -> list[Finding]:
    """Per station and run period: what went to collectives, wages, households and reserves
    (runs and hand-made lists paying the station's fund) against the settlements allocated
    minus the deductions; and each settlement's lines against its amount."""
    tolerance = config.settlement_mismatch.tolerance_fen
    runs = facts.runs[(facts.runs["status"] == "posted") & (facts.runs["rule_kind"] == "pv_revenue")]
    lines = facts.lines[facts.lines["effective"] & (facts.lines["rule_kind"] == "pv_revenue")]
    settlements = facts.settlements.set_index("id")
    manual = facts.payables[facts.payables["run_id"].isna()]
    findings = []
    for (station, period), group in runs.groupby(["rule_subject", "period"], sort=True):
        station_lines = lines[lines["run_id"].isin(group["id"])]
        taken = sorted({int(s) for s in station_lines["settlement_id"].dropna()})
        settled = int(settlements.loc[taken, "amount_fen"].sum()) if taken else 0
        deductions = int(
            station_lines.loc[station_lines["component"].str.endswith(DEDUCTION_SUFFIX), "amount_fen"].sum()
        )
        distributed = int(station_lines["amount_fen"].sum()) - deductions
        funds = set(group["fund_source"])
        extra = manual[
            (manual["period"] == period)
            & (
                manual["fund_source"].isin(funds)
                | manual["fund_source"].astype(str).str.contains(str(station), regex=False)
            )
        ]
        extra_fen = int(extra["amount_fen"].sum())
        difference = distributed + extra_fen - (settled - deductions)
        if abs(difference) <= tolerance:
            continue
        rows = [
            Evidence(
                "settlement",
                f"settlement {s}",
                settlements.at[s, "received_on"],
                int(settlements.at[s, "amount_fen"]),
                note=f"{station} {settlements.at[s, 'service_period']} {settlements.at[s, 'revenue_type']}",
            )
            for s in taken
        ]
        rows += [
            payable_evidence(row, english_kept.tr("paid from {fund} outside the runs", fund=row["fund_source"]))
            for row in extra.to_dict("records")
        ]
        findings.append(
            check.finding(
                "station",
                (station, period),
                english_kept.tr(
                    "{station} {period}: distributed {distributed} yuan (runs {runs} + lists {lists}), but settlements "
                    "{settled} − deductions {deductions} = {due}; difference {difference}",
                    station=station,
                    period=period,
                    distributed=yuan(distributed + extra_fen),
                    runs=yuan(distributed),
                    lists=yuan(extra_fen),
                    settled=yuan(settled),
                    deductions=yuan(deductions),
                    due=yuan(settled - deductions),
                    difference=yuan(difference),
                ),
                english_kept.tr(
                    "what is distributed for a station and period must equal its settlement minus the deductions"
                ),
                [f"station:{station}", *[f"programme:{p}" for p in sorted(set(extra["programme"]))]],
                limited(rows),
                difference,
            )
        )
    return findings


# ------------------------------------------------------------------------------------ A09
def station_no_output(check: Check, facts: Facts, config: AuditConfig) -> list[Finding]:
    """A settlement of 0 kWh that carried money and was distributed."""
    settlements = facts.settlements
    kwh_max = config.station_no_output.kwh_max
    empty = settlements[
        (settlements["kwh"] <= kwh_max) & (settlements["amount_fen"] > 0) & settlements["run_id"].notna()
    ]
    lines = facts.lines[facts.lines["effective"]]
    findings = []
    for row in empty.to_dict("records"):
        paid = lines[
            (lines["settlement_id"] == row["id"]) & lines["payee_type"].isin(["household", "person", "collective"])
        ]
        findings.append(
            check.finding(
                "settlement",
                (row["id"],),
                english_kept.tr(
                    "settlement {settlement} of {station} ({period} {revenue_type}) shows {kwh} kWh yet {amount} yuan, "
                    "of which {paid} went to {payees} payees",
                    settlement=row["id"],
                    station=row["station_id"],
                    period=row["service_period"],
                    revenue_type=_revenue_type(row["revenue_type"]),
                    kwh=row["kwh"],
                    amount=yuan(row["amount_fen"]),
                    paid=yuan(int(paid["amount_fen"].sum())),
                    payees=paid["payee_id"].nunique(),
                ),
                english_kept.tr("a station that produced nothing has no revenue to distribute"),
                [f"station:{row['station_id']}", f"settlement:{row['id']}"],
                [
                    Evidence(
                        "settlement",
                        f"settlement {row['id']}",
                        row["received_on"],
                        int(row["amount_fen"]),
                        note=english_kept.tr("{kwh} kWh, allocated by run {run}", kwh=row["kwh"], run=row["run_id"]),
                    )
                ]  # fmt: skip
                + limited([line_evidence(line) for line in paid.to_dict("records")]),
                int(row["amount_fen"]),
            )
        )
    return findings


# ------------------------------------------------------------------------------------ A19
def pv_household_share(check: Check, facts: Facts, config: AuditConfig) -> list[Finding]:
    """Village-station revenue paid to households above the allowed share of the distributable."""
    limit = config.pv_household_share.max_percent
    runs = facts.runs[(facts.runs["status"] == "posted") & (facts.runs["rule_kind"] == "pv_revenue")]
    findings = []
    for run in runs.to_dict("records"):
        summary = json.loads(run["summary_json"])
        distributable = int(summary.get("distributable_fen", 0))
        households = int(summary.get("part_households_fen", 0))
        if distributable <= 0 or households * 100 <= distributable * limit:
            continue
        share_bps = households * 10_000 // distributable
        findings.append(
            check.finding(
                "run",
                (run["root_run_id"],),
                english_kept.tr(
                    "run {run} ({rule} {period}) pays {whole}.{part:02d}% of the distributable revenue ({households} "
                    "of {distributable} yuan) to households, above {limit}%",
                    run=run["id"],
                    rule=run["rule_name"],
                    period=run["period"],
                    whole=share_bps // 100,
                    part=share_bps % 100,
                    households=yuan(households),
                    distributable=yuan(distributable),
                    limit=limit,
                ),
                english_kept.tr(
                    "village-station revenue goes mainly to public-welfare jobs, works and targeted grants "
                    "(国开办发〔2017〕61号)"
                ),
                [f"station:{run['rule_subject']}", f"programme:{run['rule_name']}"],
                [
                    Evidence(
                        "run",
                        f"run {run['id']}",
                        run["posted_on"],
                        households,
                        note=english_kept.tr(
                            "households part of {distributable} distributable", distributable=yuan(distributable)
                        ),
                    )
                ],
                households,
            )
        )
    return findings


__all__ = [
    "dividend_below_floor",
    "equal_split",
    "money_idle",
    "pv_household_share",
    "settlement_mismatch",
    "station_no_output",
]
