"""Eligibility checked again at ``payout prepare`` (issue #14 item 4).

The payables due are merged against the register as of the day of preparation
(``registry.recheck.recipient_changes``). A payable whose recipient has died, whose household
has left the register, or whose card the register has closed or changed since the run was
calculated is not paid. What happens then is the rule's ``recheck:`` setting, read from the
rule text its run stored:

* ``hold`` (the default): the payable is left out of the batch with the change as its reason,
  one ``eligibility_holds`` row records it, and its money moves off the payable account to
  211.90 待决定款项 (Dr 211 / Cr 211.90, each posting with its household and fund source), to
  wait for a decision (an heir, the collective, a corrected card); a later prepare leaves it out
  again without posting twice;
* ``refuse``: the whole batch is refused, naming each payable and its change.

Payables without a run (none in practice) follow the default.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.orm import Session

from disburse.allocations.recheck import recheck_setting, shown_changes
from disburse.allocations.tables import AllocationRunRow
from disburse.foundation.dates import period_of
from disburse.foundation.errors import DisburseError
from disburse.foundation.frames import query_objects
from disburse.foundation.i18n import tr
from disburse.foundation.money import format_yuan
from disburse.ledger.chart import SUSPENSE
from disburse.ledger.model import EntryBatch
from disburse.ledger.posting import post_entries
from disburse.payouts.common import _dimension
from disburse.payouts.model import ENTRY_POSTINGS_MAX, KeptPayee
from disburse.payouts.tables import ELIGIBILITY_REASON_LENGTH_MAX, EligibilityHoldRow, utc_now
from disburse.registry.recheck import change_texts, recipient_changes, register_imported_since

IDS_PER_QUERY = 10_000
HOLD_SOURCE_KIND = "eligibility_hold"


def _kept(rows: pd.DataFrame, reasons: list[str]) -> list[KeptPayee]:
    """KeptPayee of each held payable (the changed few) with its reason."""
    return [
        KeptPayee(
            row.payee_type,
            row.payee_id,
            row.household_id,
            row.account_no,
            int(row.amount_fen),
            1,
            reason,
            row.programme,
            row.period,
        )
        for row, reason in zip(rows.itertuples(index=False), reasons)
    ]


def _held_before(session: Session, entity_id: int) -> pd.DataFrame:
    """The entity's open payables held on 211.90 by an earlier prepare, with their reasons."""
    return query_objects(
        session,
        text(
            "SELECT h.payable_id, h.reason FROM eligibility_holds h JOIN payables p ON p.id = h.payable_id "
            "WHERE p.entity_id = :entity AND p.status = 'open'"
        ),
        {"entity": entity_id},
    )


def _registered_cards(session: Session, payables: pd.DataFrame) -> pd.Series:
    """The card each payable's run gave it (a fix may have redirected ``account_no`` since)."""
    registered = payables["account_no"].copy()
    if "account_fixed" not in payables.columns or not payables["account_fixed"].any():
        return registered
    fixed = payables.loc[payables["account_fixed"].astype(bool), "id"].astype(np.int64).tolist()
    cards: dict[int, object] = {}
    statement = text("SELECT id, account_no FROM payables WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    for start in range(0, len(fixed), IDS_PER_QUERY):
        cards.update(session.execute(statement, {"ids": fixed[start : start + IDS_PER_QUERY]}).all())
    mask = payables["account_fixed"].astype(bool).to_numpy()
    registered[mask] = payables.loc[mask, "id"].astype(np.int64).map(cards).to_numpy(dtype=object)
    return registered


def _settings(session: Session, run_ids: pd.Series) -> np.ndarray:
    """Each payable's ``recheck:`` setting, from its run's stored rule."""
    wanted = sorted({int(run) for run in run_ids.dropna().tolist()})
    statement = select(AllocationRunRow.id, AllocationRunRow.rule_text).where(AllocationRunRow.id.in_(wanted))
    texts = {int(run): rule_text for run, rule_text in session.execute(statement).all()} if wanted else {}
    by_run = {run: recheck_setting(rule_text) for run, rule_text in texts.items()}
    return np.array([by_run.get(int(run), "hold") if pd.notna(run) else "hold" for run in run_ids], dtype=object)


def _register_changed(session: Session, payables: pd.DataFrame) -> bool:
    """Whether a register snapshot came in after the oldest run of these payables (each from a
    run) was calculated."""
    if len(payables) == 0:
        return False
    runs = sorted({int(run) for run in payables["run_id"].unique().tolist()})
    oldest = session.scalar(select(func.min(AllocationRunRow.calculated_at)).where(AllocationRunRow.id.in_(runs)))
    return oldest is None or register_imported_since(session, oldest)


def recheck_payables(
    session: Session, entity_id: int, entity_code: str, payables: pd.DataFrame, today: dt.date, user: str
) -> tuple[pd.DataFrame, list[KeptPayee]]:
    """The payables still to pay after the recheck, and those left out with their reasons:
    held before, or found now and held on 211.90 (posted here); refused when a changed
    payable's rule says ``recheck: {changes: refuse}``."""
    if len(payables) == 0:
        return payables, []
    held = _held_before(session, entity_id)
    kept: list[KeptPayee] = []
    if len(held):
        before = payables["id"].isin(held["payable_id"].astype(np.int64)).to_numpy()
        reasons = dict(zip(held["payable_id"].astype(np.int64), held["reason"]))
        rows = payables[before]
        kept = _kept(rows, [tr("held on 211.90: {reason}", reason=reasons[int(i)]) for i in rows["id"]])
        payables = payables[~before]
    # A run's recipients are rechecked; a payable recorded without a run (a manual 补发) names
    # its payee itself and has no register it was calculated on.
    checked = payables[payables["run_id"].notna().to_numpy()]
    if not _register_changed(session, checked):
        return payables, kept
    recipients = checked.assign(registered_account_no=_registered_cards(session, checked))
    changes = recipient_changes(session, recipients, today)
    if len(changes) == 0:
        return payables, kept
    rows = checked.iloc[changes["row"].to_numpy(dtype=np.int64)]
    texts = change_texts(changes)
    named = [
        tr("payable {payable} ({programme} {period}): {change}", payable=int(i), programme=p, period=d, change=t)
        for i, p, d, t in zip(rows["id"], rows["programme"], rows["period"], texts)
    ]
    refusing = _settings(session, rows["run_id"]) == "refuse"
    if refusing.any():
        raise DisburseError(
            tr(
                "no batch for {entity} on {day}: the register as of that day shows {count:,} recipient(s) changed "
                "since their run was calculated, and their rule says recheck: refuse; correct the run (runs reverse, "
                "a new run):\n{changes}",
                entity=entity_code,
                day=today,
                count=int(refusing.sum()),
                changes=shown_changes([name for name, refused in zip(named, refusing) if refused]),
            )
        )
    _hold(session, entity_code, rows, changes, texts, today, user)
    reasons = [tr("held on 211.90 待决定款项: {change}", change=change) for change in texts]
    remaining = payables[~payables["id"].isin(rows["id"]).to_numpy()]
    return remaining, kept + _kept(rows, reasons)


def _payable_accounts(session: Session, ids: list[int]) -> pd.DataFrame:
    """``id, account_code, fund_source`` of the held payables (the changed few), by id."""
    statement = text("SELECT id, account_code, fund_source FROM payables WHERE id IN :ids ORDER BY id").bindparams(
        bindparam("ids", expanding=True)
    )
    parts = [
        query_objects(session, statement, {"ids": ids[start : start + IDS_PER_QUERY]})
        for start in range(0, len(ids), IDS_PER_QUERY)
    ]
    frame = pd.concat(parts, ignore_index=True)
    frame["id"] = frame["id"].astype(np.int64)
    return frame


def hold_entries(entity_code: str, on: dt.date, held: pd.DataFrame) -> EntryBatch:
    """Per held payable, Dr its account / Cr 211.90 of its amount, both with its household and
    fund source (so the 明白卡 finds the money held for the household); at most
    ENTRY_POSTINGS_MAX postings an entry. ``held``: ``account_code, amount_fen, household_id,
    fund_source``."""
    count = len(held)
    assert count > 0
    pair_entry = np.arange(count, dtype=np.int64) // (ENTRY_POSTINGS_MAX // 2)
    entry_count = int(pair_entry[-1]) + 1
    amounts = held["amount_fen"].to_numpy(dtype=np.int64)
    households = [_dimension(value, "household_id") for value in held["household_id"].tolist()]
    funds = [_dimension(value, "fund_source") for value in held["fund_source"].tolist()]

    def paired(first: list, second: list) -> list:  # noqa: E306
        return [value for pair in zip(first, second) for value in pair]

    return EntryBatch(
        entity_code=[entity_code] * entry_count,
        period=[period_of(on)] * entry_count,
        entry_date=[on] * entry_count,
        memo=["资格复核：名册显示享受人已变化，款项暂挂待决定款项"] * entry_count,
        source_kind=[HOLD_SOURCE_KIND] * entry_count,
        source_reference=[f"eligibility recheck {on.isoformat()}"] * entry_count,
        reverses_entry_id=[None] * entry_count,
        label=[f"eligibility hold {number + 1}" for number in range(entry_count)],
        posting_entry_index=np.repeat(pair_entry, 2),
        account_code=paired(held["account_code"].tolist(), [SUSPENSE] * count),
        amount_fen=np.column_stack([amounts, -amounts]).reshape(-1).astype(np.int64),
        household_id=paired(households, households),
        fund_source=paired(funds, funds),
        payment_reference=[None] * (2 * count),
    )


def _hold(
    session: Session,
    entity_code: str,
    rows: pd.DataFrame,
    changes: pd.DataFrame,
    texts: list[str],
    today: dt.date,
    user: str,
) -> None:
    """Post the held payables' money to 211.90 and record one hold each."""
    ids = rows["id"].astype(np.int64).tolist()
    accounts = _payable_accounts(session, ids).set_index("id").loc[ids]
    held = pd.DataFrame(
        {
            "account_code": accounts["account_code"].to_numpy(dtype=object),
            "amount_fen": rows["amount_fen"].to_numpy(dtype=np.int64),
            "household_id": rows["household_id"].to_numpy(dtype=object),
            "fund_source": accounts["fund_source"].to_numpy(dtype=object),
        }
    )
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:32]
    result = post_entries(
        session, hold_entries(entity_code, today, held), idempotency_key=f"eligibility-hold:{digest}", user=user
    )
    now = utc_now()
    session.execute(
        insert(EligibilityHoldRow),
        [
            {
                "payable_id": payable,
                "kind": kind,
                "effective_on": effective,
                "reason": reason[:ELIGIBILITY_REASON_LENGTH_MAX],
                "amount_fen": int(amount),
                "held_on": today,
                "held_by": user,
                "held_at": now,
                "post_request_id": result.post_request_id,
            }
            for payable, kind, effective, reason, amount in zip(
                ids, changes["kind"], changes["effective_on"], texts, held["amount_fen"]
            )
        ],
    )


def refuse_reversing_held(session: Session, run_id: int) -> None:
    """Refuse ``runs reverse`` of a run some of whose payables are held on 211.90: reversing the
    run would take back from 211 money the hold already moved to 211.90."""
    count, total_fen = session.execute(
        text(
            "SELECT count(*), coalesce(sum(h.amount_fen), 0) FROM eligibility_holds h "
            "JOIN payables p ON p.id = h.payable_id WHERE p.run_id = :run"
        ),
        {"run": run_id},
    ).one()
    if count:
        raise DisburseError(
            tr(
                "run {run} cannot be reversed: {count:,} of its payables ({total} yuan) are held on 211.90 待决定款项 "
                "since the eligibility recheck found their recipients changed; that money is decided on first",
                run=run_id,
                count=int(count),
                total=format_yuan(int(total_fen)),
            )
        )
