"""Checks on the accounts money actually went to (the bank file and the bank's return): wages
that flowed back, payments kept just under an approval threshold, cards that belong to someone
else, one card for several households, and names that are not the payee's."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from disburse.audit.config import AuditConfig
from disburse.audit.evidence import (
    card,
    limited,
    payable_evidence,
    payee_subjects,
    payment_evidence,
    shown,
    statement_evidence,
    yuan,
)
from disburse.audit.facts import Facts
from disburse.audit.model import Check, Evidence, Finding, english_kept
from disburse.foundation.i18n import join_clauses, join_list, tr_noop

PAYMENT_REFERENCE = re.compile(r"PAY-\d{6}-\d{6}")


# ------------------------------------------------------------------------------------ A10
def wages_clawed_back(check: Check, facts: Facts, config: AuditConfig) -> list[Finding]:
    """A public-welfare wage paid, then within N days an equal or near-equal amount moving from
    the account it was paid to into an account whose statement we hold (a village's, the
    county's). A bank's refund of a failed payment is not a transfer back."""
    settings = config.wages_clawed_back
    paid = facts.paid_payables
    wages = paid[(paid["payment_status"] == "success") & paid["programme_key"].isin(settings.wage_programmes)]
    if wages.empty:
        return []
    per_payment = (
        wages.groupby("payment_reference", sort=True)
        .agg(
            wage_fen=("amount_fen", "sum"),
            paid_account_no=("paid_account_no", "first"),
            paid_on=("paid_on", "first"),
            payee_id=("payee_id", "first"),
            payee_type=("payee_type", "first"),
            household_id=("household_id", "first"),
            programme=("programme", "first"),
            paid_account_name=("paid_account_name", "first"),
        )  # fmt: skip
        .reset_index()
    )
    lines = facts.statement_lines
    lines = lines[(lines["amount_fen"] > 0) & lines["counterparty_account"].notna()]
    failed = set(
        facts.frame("SELECT payment_reference FROM payment_instructions WHERE status = 'failed'")["payment_reference"]
    )
    refunds = [bool(set(PAYMENT_REFERENCE.findall(str(memo or ""))) & failed) for memo in lines["memo"]]
    lines = lines[~np.array(refunds, dtype=bool)]
    joined = per_payment.merge(lines, left_on="paid_account_no", right_on="counterparty_account", how="inner")
    if joined.empty:
        return []
    after_days = np.array(
        [(booked - paid_on).days if paid_on else -1 for booked, paid_on in zip(joined["booked_on"], joined["paid_on"])]
    )
    difference = np.abs(joined["amount_fen"].to_numpy() - joined["wage_fen"].to_numpy())
    close = difference * 100 <= joined["wage_fen"].to_numpy() * settings.tolerance_percent
    findings = []
    for row, days in zip(
        joined[(after_days >= 0) & (after_days <= settings.days) & close].to_dict("records"),
        after_days[(after_days >= 0) & (after_days <= settings.days) & close],
    ):
        findings.append(
            check.finding(
                "transfer",
                (row["payment_reference"], row["id"]),
                english_kept.tr(
                    "{payment} paid a wage of {wage} yuan ({programme}) to {account} on {paid_on}; {days} days later "
                    "{amount} yuan came from that account into {into}",
                    payment=row["payment_reference"],
                    wage=yuan(row["wage_fen"]),
                    programme=row["programme"],
                    account=card(row["paid_account_no"]),
                    paid_on=row["paid_on"],
                    days=int(days),
                    amount=yuan(row["amount_fen"]),
                    into=card(row["account_number"]),
                ),
                english_kept.tr(
                    "a wage moved back to the village or a cadre within {days} days (within {tolerance}% of the "
                    "wage) was taken back from the worker",
                    days=settings.days,
                    tolerance=settings.tolerance_percent,
                ),
                [*payee_subjects(row), f"account:{row['paid_account_no']}"],
                [
                    payment_evidence({**row, "payment_fen": row["wage_fen"], "payment_status": "success"}),
                    statement_evidence(row),
                ],
                int(row["amount_fen"]),
            )
        )
    return findings


# ------------------------------------------------------------------------------------ A11
def _clusters(frame: pd.DataFrame, window_days: int, count_min: int) -> list[pd.DataFrame]:
    """Runs of rows (sorted by ``on``) within ``window_days`` of the run's first row."""
    ordered = frame.sort_values(["on", "reference"], kind="stable")
    clusters, current, first = [], [], None
    for position, on in enumerate(ordered["on"].tolist()):
        if first is not None and (on - first).days > window_days:
            clusters.append(current)
            current, first = [], None
        if first is None:
            first = on
        current.append(position)
    if current:
        clusters.append(current)
    return [ordered.iloc[cluster] for cluster in clusters if len(cluster) >= count_min]


def just_under_threshold(check: Check, facts: Facts, config: AuditConfig) -> list[Finding]:
    """Several batches of one entity, or several payments to one payee, each just under an
    approval threshold within a few days."""
    from disburse.payouts.config import load_payout_config

    settings = config.just_under_threshold
    thresholds = sorted({load_payout_config().second_approval_above_fen, *settings.thresholds_fen})
    batches = facts.batches.assign(on=facts.batches["paid_on"], reference=facts.batches["batch_reference"])
    payments = facts.payments.assign(on=facts.payments["paid_on"], reference=facts.payments["payment_reference"])
    findings = []
    for threshold in thresholds:
        lower = threshold * (100 - settings.margin_percent) // 100
        under = batches[(batches["total_fen"] >= lower) & (batches["total_fen"] <= threshold) & batches["on"].notna()]
        for entity_id, group in under.groupby("entity_id", sort=True):
            for cluster in _clusters(group, settings.window_days, settings.count_min):
                findings.append(_under_finding(check, "batches", facts.entity_codes.get(int(entity_id), str(entity_id)),
                                               threshold, lower, settings, cluster, "total_fen"))  # fmt: skip
        close = payments[
            (payments["amount_fen"] >= lower) & (payments["amount_fen"] <= threshold) & payments["on"].notna()
        ]
        for payee, group in close.groupby("payee_id", sort=True):
            for cluster in _clusters(group, settings.window_days, settings.count_min):
                findings.append(
                    _under_finding(check, "payee", str(payee), threshold, lower, settings, cluster, "amount_fen")
                )
    return findings


def _under_finding(check, kind, who, threshold, lower, settings, cluster, amount_column) -> Finding:  # type: ignore[no-untyped-def]
    references = cluster["reference"].tolist()
    if kind == "batches":
        rows = [
            Evidence(
                "batch",
                row["batch_reference"],
                row["on"],
                int(row["total_fen"]),
                note=english_kept.tr(
                    "{count} payments, {approvals} approver(s), {programme}",
                    count=row["instruction_count"],
                    approvals=row["approvals_required"],
                    programme=row["programme_filter"] or "",
                ),
            )
            for row in cluster.to_dict("records")
        ]
        subjects = [f"entity:{who}", *[f"batch:{r}" for r in references],
                    *[f"programme:{p}" for p in sorted(set(cluster["programme_filter"].dropna()))]]  # fmt: skip
    else:
        rows = [payment_evidence(row) for row in cluster.to_dict("records")]
        subjects = [*payee_subjects(cluster.iloc[0].to_dict()), f"payee:{who}"]
    total = int(cluster[amount_column].sum())
    summary = (
        tr_noop(
            "{count} batches of {who} between {first} and {last} are each between {lower} and {threshold} yuan "
            "(just under the approval threshold {threshold}), {total} yuan in all"
        )
        if kind == "batches"
        else tr_noop(
            "{count} payments to {who} between {first} and {last} are each between {lower} and {threshold} yuan "
            "(just under the approval threshold {threshold}), {total} yuan in all"
        )
    )
    return check.finding(
        kind,
        (who, threshold, references[0]),
        english_kept.tr(
            summary,
            count=len(cluster),
            who=who if kind == "batches" else shown(who),
            first=cluster["on"].min(),
            last=cluster["on"].max(),
            lower=yuan(lower),
            threshold=yuan(threshold),
            total=yuan(total),
        ),
        english_kept.tr(
            "amounts kept within {margin}% under an approval threshold, {count_min} or more within {days} days, "
            "look split to avoid the approval",
            margin=settings.margin_percent,
            count_min=settings.count_min,
            days=settings.window_days,
        ),
        subjects,
        rows,
        total,
    )


# ------------------------------------------------------------------------------------ A12
def payee_not_beneficiary(check: Check, facts: Facts, config: AuditConfig) -> list[Finding]:
    """A payment to a card registered to someone outside the beneficiary's household; a large
    payment to a card changed shortly before; a card a fix gave one payee that also receives
    for another household."""
    sent = facts.sent_payables.reset_index(drop=True)
    if sent.empty:
        return []
    reasons: dict[str, list[str]] = {}
    for position, reason in _foreign_cards(facts, sent):
        reasons.setdefault(sent.at[position, "payment_reference"], []).append(reason)
    for reference, reason in _changed_before_large(facts, config):
        reasons.setdefault(reference, []).append(reason)
    for reference, reason in _fixed_then_shared(facts, sent):
        reasons.setdefault(reference, []).append(reason)
    payments = facts.payments.set_index("payment_reference")
    findings = []
    for reference in sorted(reasons):
        payment = payments.loc[reference].to_dict() | {"payment_reference": reference}
        rows = sent[sent["payment_reference"] == reference]
        why = sorted(set(reasons[reference]))
        findings.append(
            check.finding(
                "payment",
                (reference,),
                english_kept.tr(
                    "{payment} paid {amount} yuan to {account} ({name}) for {payee}: {why}",
                    payment=reference,
                    amount=yuan(payment["amount_fen"]),
                    account=card(payment["paid_account_no"]),
                    name=payment["paid_account_name"],
                    payee=shown(payment["payee_id"]),
                    why=join_clauses(why),
                ),
                english_kept.tr("money goes to the beneficiary's own card or the head's, inside the household"),
                [*payee_subjects(payment), f"account:{payment['paid_account_no']}"],
                [payment_evidence(payment), *[payable_evidence(row) for row in rows.to_dict("records")]],
                int(payment["amount_fen"]),
            )
        )
    return findings


def _foreign_cards(facts: Facts, sent: pd.DataFrame) -> list[tuple[int, str]]:
    """(row of ``sent``, reason) for payments to a card registered, at some time from the service
    period's start to the payment, to a household none of the beneficiary's."""
    ends = [on or end for on, end in zip(sent["paid_on"], sent["service_end"])]
    holders = facts.card_holders
    wanted = pd.DataFrame(
        {
            "row": np.arange(len(sent)),
            "account_no": sent["paid_account_no"],
            "start": sent["service_start"],
            "end": ends,
        }
    )
    merged = wanted.merge(holders, on="account_no", how="inner")
    if merged.empty:
        return []
    to_on = merged["to_on"].to_numpy(dtype=object)
    open_ended = pd.isna(to_on)
    overlaps = (merged["from_on"].to_numpy(dtype=object) <= merged["end"].to_numpy(dtype=object)) & (
        open_ended | (np.where(open_ended, merged["start"], to_on) > merged["start"].to_numpy(dtype=object))
    )
    merged = merged[overlaps]
    people = sent["payee_type"] == "person"
    # The beneficiary's households, as (row, household) pairs: the payment's own household, and
    # for a person every household they were in over the period.
    households = sent["household_id"].to_numpy(dtype=object)
    named = np.array([isinstance(household, str) for household in households.tolist()], dtype=bool)
    parts = [pd.DataFrame({"row": np.flatnonzero(named), "holder_household_id": households[named]})]
    if people.any():
        wanted_people = pd.DataFrame(
            {
                "row": np.flatnonzero(people),
                "id_number": sent.loc[people, "payee_id"].to_numpy(),
                "start": sent.loc[people, "service_start"].to_numpy(),
                "end": np.array(ends, dtype=object)[people.to_numpy()],
            }
        )
        found = facts.people_households(wanted_people)
        parts.append(found.rename(columns={"household_id": "holder_household_id"}).astype({"row": np.int64}))
    pairs = pd.concat(parts, ignore_index=True).drop_duplicates()
    inside = set(merged.merge(pairs, on=["row", "holder_household_id"])["row"])
    outside = merged[~merged["row"].isin(inside)].drop_duplicates("row", keep="last")
    return [
        (
            int(holder["row"]),
            english_kept.tr(
                "the card is registered to {name} of household {household}, outside the beneficiary's household",
                name=holder["holder_name"],
                household=holder["holder_household_id"],
            ),
        )
        for holder in outside.to_dict("records")
    ]


def _changed_before_large(facts: Facts, config: AuditConfig) -> list[tuple[str, str]]:
    settings = config.payee_not_beneficiary
    payments = facts.payments[facts.payments["amount_fen"] >= settings.large_payment_fen]
    if payments.empty:
        return []
    found = []
    fixes = facts.account_fixes
    joined = payments.merge(
        fixes, left_on=["payee_id", "paid_account_no"], right_on=["payee_id", "new_account_no"], how="inner"
    )
    for row in joined.to_dict("records"):
        if row["exported_at"] is None or pd.isna(row["exported_at"]):
            continue
        days = (row["exported_at"] - row["fixed_at"]).total_seconds() / 86_400
        if 0 <= days <= settings.card_change_days:
            found.append(
                (
                    row["payment_reference"],
                    english_kept.tr(
                        "a large payment {days:.0f} days after a card fix by {user} ({reason})",
                        days=days,
                        user=row["fixed_by"],
                        reason=row["reason"],
                    ),
                )
            )
    events = facts.events[facts.events["kind"] == "card_change"]
    if len(events):
        events = events.assign(new_account_no=[details.get("new_account_no") for details in events["details"]])
        joined = payments.merge(
            events,
            left_on=["household_id", "paid_account_no"],
            right_on=["household_id", "new_account_no"],
            how="inner",
        )
        for row in joined.to_dict("records"):
            days = (row["paid_on"] - row["effective_on"]).days if row["paid_on"] else -1
            if 0 <= days <= settings.card_change_days:
                found.append(
                    (
                        row["payment_reference"],
                        english_kept.tr("a large payment {days} days after the register changed the card", days=days),
                    )
                )
    return found


def _fixed_then_shared(facts: Facts, sent: pd.DataFrame) -> list[tuple[str, str]]:
    fixes = facts.account_fixes
    if fixes.empty:
        return []
    found = []
    by_account = sent.groupby("paid_account_no")
    for fix in fixes.to_dict("records"):
        if fix["new_account_no"] not in by_account.groups:
            continue
        group = by_account.get_group(fix["new_account_no"])
        mine = group[group["payee_id"] == fix["payee_id"]]
        others = group[(group["payee_id"] != fix["payee_id"]) & (group["household_id"] != fix["household_id"])]
        if mine.empty or others.empty:
            continue
        other_households = sorted(set(others["household_id"].dropna()))
        for reference in sorted(set(mine["payment_reference"])):
            found.append(
                (
                    reference,
                    english_kept.tr(
                        "the card a fix gave {payee} also receives for {households}",
                        payee=shown(fix["payee_id"]),
                        households=join_list(other_households),
                    ),
                )
            )
    return found


# ------------------------------------------------------------------------------------ A16
def shared_bank_account(check: Check, facts: Facts, config: AuditConfig) -> list[Finding]:
    """One account actually paid for payees of several households (a card shared inside one
    household is not a finding, nor a village collective's own account that a rule's ``payee:
    collective`` pays for its households)."""
    sent = facts.sent_payables
    sent = sent[sent["payee_type"] != "collective"]
    sent = sent.assign(beneficiary=sent["household_id"].where(sent["household_id"].notna(), sent["payee_id"]))
    counts = sent.groupby("paid_account_no")["beneficiary"].transform("nunique")
    findings = []
    for account, group in sent[counts >= config.shared_bank_account.households_min].groupby(
        "paid_account_no", sort=True
    ):
        households = sorted(set(group["beneficiary"]))
        payments = group.drop_duplicates("payment_reference")
        findings.append(
            check.finding(
                "account",
                (account,),
                english_kept.tr(
                    "account {account} received {count} payments for {households} households ({listed}), {amount} yuan",
                    account=card(account),
                    count=len(payments),
                    households=len(households),
                    listed=join_list(households[:5]) + (" …" if len(households) > 5 else ""),
                    amount=yuan(int(payments["payment_fen"].sum())),
                ),
                english_kept.tr("a card belongs to one household: one card paid for several is held by someone else"),
                [f"account:{account}", *[f"household:{h}" for h in households]],
                limited([payment_evidence(row) for row in payments.to_dict("records")]),
                int(payments["payment_fen"].sum()),
            )
        )
    return findings


# ------------------------------------------------------------------------------------ A17
def account_name_mismatch(check: Check, facts: Facts, config: AuditConfig) -> list[Finding]:
    """A payment whose account name (as the bank reported it, else as we sent it) is neither the
    name of the head of any household the payee belonged to nor, for a person-level payment,
    the person's own."""
    payments = facts.payments[facts.payments["paid_account_name"].notna()]
    heads = facts.household_versions[["household_id", "head_name"]].dropna().drop_duplicates()
    people = facts.person_versions[["id_number", "household_id", "name"]]
    # Every (payee, name) that is right: a household's heads; a person's own names and the heads
    # of every household they were in.
    allowed = pd.concat(
        [
            heads.rename(columns={"household_id": "payee_id", "head_name": "name"}),
            people[["id_number", "name"]].rename(columns={"id_number": "payee_id"}),
            people[["id_number", "household_id"]]
            .merge(heads, on="household_id")[["id_number", "head_name"]]
            .rename(columns={"id_number": "payee_id", "head_name": "name"}),
        ],
        ignore_index=True,
    ).drop_duplicates()
    keyed = payments[["payment_reference", "payee_id", "household_id", "paid_account_name"]].rename(
        columns={"paid_account_name": "name"}
    )
    if config.account_name_mismatch.ignore_spaces:
        # Banks pad names ("王 芳"): compared without any whitespace on both sides.
        keyed = keyed.assign(name=keyed["name"].astype(str).str.replace(r"\s+", "", regex=True))
        allowed = allowed.assign(name=allowed["name"].astype(str).str.replace(r"\s+", "", regex=True))
        heads = heads.assign(head_name=heads["head_name"].astype(str).str.replace(r"\s+", "", regex=True))
    by_household = heads.rename(columns={"head_name": "name"})
    right = set(keyed.merge(allowed, on=["payee_id", "name"])["payment_reference"])
    right |= set(keyed.merge(by_household, on=["household_id", "name"])["payment_reference"])
    known = set(
        payments.loc[
            payments["payee_id"].isin(set(allowed["payee_id"]))
            | payments["household_id"].isin(set(heads["household_id"])),
            "payment_reference",
        ]
    )
    wrong = payments[payments["payment_reference"].isin(known - right)]
    wanted = set(wrong["payee_id"]) | set(wrong["household_id"].dropna())
    names = allowed[allowed["payee_id"].isin(wanted)].groupby("payee_id")["name"].agg(set)
    findings = []
    for row in wrong.to_dict("records"):
        expected = names.get(row["payee_id"], set()) | names.get(row["household_id"], set())
        findings.append(
            check.finding(
                "payment",
                (row["payment_reference"],),
                english_kept.tr(
                    "{payment}: the bank paid account name {name}, not the register's {expected}",
                    payment=row["payment_reference"],
                    name=row["paid_account_name"],
                    expected=english_kept.tr(" or ").join(sorted(expected)),
                ),
                english_kept.tr("the name on the account paid is the head's (household benefits) or the beneficiary's"),
                [*payee_subjects(row), f"account:{row['paid_account_no']}"],
                [payment_evidence(row)],
                int(row["amount_fen"]),
            )
        )
    return findings
