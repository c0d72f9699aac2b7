"""Service functions of payouts, one per command, each inside the caller's transaction (the
command opens it, calls one of these and commits once; nothing here commits).

prepare → approve → export → returns, with cancel before export and fix-account for a failed
card. Every state change of payouts takes one lock first (PostgreSQL: a transaction advisory
lock; SQLite: the write lock that ``BEGIN IMMEDIATE`` already holds), so two commands at once
run one after the other; the partial unique index on active claims refuses a payable in two
instructions whatever happens.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from disburse.foundation.actors import require_user
from disburse.foundation.bulk import ANALYZE_ROWS_MIN, bulk_insert, columns_insert, refresh_statistics
from disburse.foundation.dates import period_of, period_problem
from disburse.foundation.errors import DisburseError
from disburse.foundation.locks import PAYOUTS_LOCK, advisory_lock
from disburse.foundation.money import format_yuan
from disburse.ledger.chart import PAYMENTS_IN_TRANSIT
from disburse.ledger.model import DIMENSION_LENGTH_MAX, EntryBatch
from disburse.ledger.posting import post_entries
from disburse.ledger.service import entity_by_code
from disburse.ledger.tables import EntityRow
from disburse.payouts.cards import CardLookup, register_cards
from disburse.payouts.config import PayoutConfig, load_payout_config
from disburse.payouts.model import (
    ENTRY_POSTINGS_MAX,
    PAYABLES_PER_BATCH_MAX,
    PAYEES_PER_BATCH_MAX,
    BatchOutcome,
    ExportedFile,
    FixOutcome,
    KeptPayee,
    PrepareOutcome,
    batch_reference,
    payment_references,
)
from disburse.payouts.netting import apply_account_fixes, net_payables
from disburse.payouts.tables import (
    ACCOUNT_NAME_LENGTH_MAX,
    AccountFixRow,
    BatchFileRow,
    CardFixRow,
    PayableRow,
    PaymentBatchRow,
    PaymentInstructionRow,
    PayoutCounterRow,
    utc_now,
)

# One key for every payout state change on PostgreSQL (prepare numbers instructions from
# max(id) and moves the reference counters; returns and exports settle instructions).
ACCOUNT_DIGITS = re.compile(r"^\d{8,30}$")
REASON_TEXT_LENGTH_MAX = 500
IDS_PER_QUERY = 10_000


# ------------------------------------------------------------------------------------ helpers
def lock_payouts(session: Session) -> None:
    """Serialise payout state changes (see the module docstring)."""
    advisory_lock(session, PAYOUTS_LOCK)


def next_numbers(session: Session, kind: str, month: str, count: int) -> int:
    """Reserve ``count`` consecutive numbers of ``kind`` in ``month``; returns the first. The
    counter row moves on in the caller's transaction, so a rolled-back command reuses nothing
    that anyone saw and a committed one never hands the same number out again."""
    assert count >= 1
    last = session.scalar(
        select(PayoutCounterRow.last_number).where(PayoutCounterRow.kind == kind, PayoutCounterRow.month == month)
    )
    if last is None:
        session.execute(insert(PayoutCounterRow).values(kind=kind, month=month, last_number=count))
        return 1
    session.execute(
        update(PayoutCounterRow)
        .where(PayoutCounterRow.kind == kind, PayoutCounterRow.month == month)
        .values(last_number=last + count)
    )
    return last + 1


def batch_by_reference(session: Session, reference: str) -> PaymentBatchRow:
    batch = session.scalar(select(PaymentBatchRow).where(PaymentBatchRow.batch_reference == reference.strip()))
    if batch is None:
        raise DisburseError(f"batch {reference!r} does not exist; `disburse payout prepare` makes batches")
    return batch


def _frame(session: Session, statement, parameters: dict | None = None) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The rows of a SELECT of plain values (numbers, text) as a frame of object columns.

    The driver's tuples go straight to pandas: building a Row object per row and letting pandas
    inspect each costs more than the query itself on a batch of 300,000. Dates come back as the
    driver gives them (ISO text on SQLite); callers convert the few date columns they read."""
    result = session.connection().execute(statement, parameters or {})
    keys = list(result.keys())
    rows = result.cursor.fetchall()
    frame = (
        pd.DataFrame.from_records(rows, columns=keys, coerce_float=False)
        if rows
        else pd.DataFrame({key: pd.Series([], dtype=object) for key in keys})
    )
    return frame.astype(object)


def _objects(frame: pd.DataFrame, *names: str) -> pd.DataFrame:
    """Identifier columns as object dtype with None for missing (never NaN)."""
    for name in names:
        frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


# ------------------------------------------------------------------------------------ prepare
def _register_fixes(session: Session, entity_id: int, user: str, on: dt.date, card_lookup: CardLookup) -> int:
    """Resolve open fix-list entries whose payee has a different card in the register now;
    each resolution is logged as an account fix. Returns how many payees were released."""
    open_fixes = _frame(
        session,
        select(
            CardFixRow.id, CardFixRow.payee_type, CardFixRow.payee_id, CardFixRow.household_id, CardFixRow.account_no
        )
        .where(CardFixRow.entity_id == entity_id, CardFixRow.status == "open")
        .order_by(CardFixRow.id),
    )
    if len(open_fixes) == 0:
        return 0
    cards = card_lookup(session, open_fixes[["payee_type", "payee_id"]].drop_duplicates(), on)
    if len(cards) == 0:
        return 0
    merged = open_fixes.merge(cards, on=["payee_type", "payee_id"], how="inner", suffixes=("", "_register"))
    # Released only when the register's card differs from every card that failed for the payee.
    failed_cards = open_fixes.groupby(["payee_type", "payee_id"])["account_no"].agg(set)
    changed = merged[
        [row.account_no_register not in failed_cards[(row.payee_type, row.payee_id)] for row in merged.itertuples()]
    ]
    released = 0
    now = utc_now()
    for (payee_type, payee_id), group in changed.groupby(["payee_type", "payee_id"], sort=True):
        first = group.iloc[-1]
        fix_id = session.execute(
            insert(AccountFixRow)
            .values(
                payee_type=payee_type,
                payee_id=payee_id,
                household_id=first["household_id"],
                old_account_no=first["account_no"],
                new_account_no=first["account_no_register"],
                new_account_name=first["account_name"] if pd.notna(first["account_name"]) else None,
                new_bank_name=first["bank_name"] if pd.notna(first["bank_name"]) else None,
                source="register",
                reason=f"the register in force on {on.isoformat()} lists a new card",
                fixed_by=user,
                fixed_at=now,
            )
            .returning(AccountFixRow.id)
        ).scalar_one()
        session.execute(
            update(CardFixRow)
            .where(CardFixRow.id.in_(group["id"].astype(int).tolist()))
            .values(status="fixed", account_fix_id=fix_id, resolved_by=user, resolved_at=now)
        )
        released += 1
    return released


def _open_payables(session: Session, entity_id: int, programme: str | None, period: str | None) -> pd.DataFrame:
    table = PayableRow.__table__
    statement = select(
        table.c.id,
        table.c.payee_type,
        table.c.payee_id,
        table.c.household_id,
        table.c.account_no,
        table.c.account_name,
        table.c.bank_name,
        table.c.programme,
        table.c.amount_fen,
    ).where(table.c.entity_id == entity_id, table.c.status == "open")
    if programme is not None:
        statement = statement.where(table.c.programme == programme)
    if period is not None:
        statement = statement.where(table.c.period == period)
    frame = _frame(session, statement.order_by(table.c.id))
    frame["amount_fen"] = frame["amount_fen"].astype(np.int64)
    frame["id"] = frame["id"].astype(np.int64)
    return _objects(frame, "household_id", "account_no", "account_name", "bank_name")


def _account_fixes(session: Session, payee_ids: list[str]) -> pd.DataFrame:
    """The account fixes of these payees (the fix log is short: one row per repaired card)."""
    table = AccountFixRow.__table__
    columns = (
        table.c.id,
        table.c.payee_type,
        table.c.payee_id,
        table.c.old_account_no,
        table.c.new_account_no,
        table.c.new_account_name,
        table.c.new_bank_name,
    )
    total = session.scalar(select(func.count()).select_from(table)) or 0
    if total == 0:
        return _frame(session, select(*columns).where(text("1 = 0")))
    if total <= len(payee_ids):
        frame = _frame(session, select(*columns))
        return frame[frame["payee_id"].isin(set(payee_ids))]
    parts = [
        _frame(
            session,
            select(*columns).where(table.c.payee_id.in_(bindparam("ids", expanding=True))),
            {"ids": payee_ids[start : start + IDS_PER_QUERY]},
        )
        for start in range(0, len(payee_ids), IDS_PER_QUERY)
    ]
    return pd.concat(parts, ignore_index=True)


def prepare_batch(
    session: Session,
    entity_code: str,
    user: str,
    *,
    programme: str | None = None,
    period: str | None = None,
    force: bool = False,
    today: dt.date | None = None,
    config: PayoutConfig | None = None,
    card_lookup: CardLookup = register_cards,
) -> PrepareOutcome:
    """Gather the entity's open payables (optionally of one programme and period), net them per
    payee account and make one batch of instructions with new, stable payment references.

    A payee on the fix-the-card list is left out until its card is fixed (``fix-account``, or a
    register that now lists another card) unless ``force``; a payee account netting to 0 or
    less, or without an account, stays for later. All are reported in ``kept``."""
    user = require_user(user)
    today = today or dt.date.today()
    if period is not None and period_problem(period):
        raise DisburseError(period_problem(period) or "")
    config = config or load_payout_config()
    entity = entity_by_code(session, entity_code)
    lock_payouts(session)
    register_fixes = _register_fixes(session, entity.id, user, today, card_lookup)

    payables = _open_payables(session, entity.id, programme, period)
    if len(payables) > PAYABLES_PER_BATCH_MAX:
        raise DisburseError(
            f"{entity_code} has {len(payables):,} open payables; one batch takes at most {PAYABLES_PER_BATCH_MAX:,} "
            "(PAYABLES_PER_BATCH_MAX): prepare per programme (--programme) or period (--period)"
        )
    payee_ids = sorted(set(payables["payee_id"].tolist()))
    payables = apply_account_fixes(payables, _account_fixes(session, payee_ids))

    # Payees whose card failed and is not fixed yet: held, unless forced.
    open_fixes = _frame(
        session,
        select(CardFixRow.id, CardFixRow.payee_type, CardFixRow.payee_id, CardFixRow.account_no).where(
            CardFixRow.entity_id == entity.id, CardFixRow.status == "open"
        ),
    )
    held = np.zeros(len(payables), dtype=bool)
    if len(open_fixes):
        held_keys = open_fixes[["payee_type", "payee_id", "account_no"]].drop_duplicates().assign(_held=True)
        marked = payables.merge(held_keys, on=["payee_type", "payee_id", "account_no"], how="left")
        held = marked["_held"].fillna(False).astype(bool).to_numpy()
    kept: list[KeptPayee] = []
    if held.any() and not force:
        for key, group in payables[held].groupby(["payee_type", "payee_id", "account_no"], sort=True):
            kept.append(
                KeptPayee(
                    key[0],
                    key[1],
                    group["household_id"].iloc[0],
                    key[2],
                    int(group["amount_fen"].sum()),
                    len(group),
                    "the last payment to this card failed; fix the card (payout fix-account) or --force",
                )
            )
        payables = payables[~held]
    netted = net_payables(payables)
    instructions: pd.DataFrame = netted.instructions  # type: ignore[assignment]
    links: pd.DataFrame = netted.links  # type: ignore[assignment]
    for row in netted.kept.itertuples(index=False):  # type: ignore[attr-defined]
        kept.append(
            KeptPayee(
                row.payee_type,
                row.payee_id,
                row.household_id,
                row.account_no,
                int(row.amount_fen),
                int(row.payable_count),
                row.reason,
            )
        )
    kept_tuple = tuple(kept)
    if len(instructions) > PAYEES_PER_BATCH_MAX:
        raise DisburseError(
            f"{len(instructions):,} payee accounts are due; one batch pays at most {PAYEES_PER_BATCH_MAX:,} "
            "(PAYEES_PER_BATCH_MAX): prepare per programme (--programme) or period (--period)"
        )
    if len(instructions) == 0:
        message = f"nothing new to pay for {entity_code}" + (
            f" ({len(kept_tuple)} payee account(s) kept for later)" if kept_tuple else ""
        )
        return PrepareOutcome(None, 0, 0, 0, 0, kept_tuple, register_fixes, message)

    if force and held.any():
        forced_ids = (
            open_fixes.merge(
                payables[held][["payee_type", "payee_id", "account_no"]].drop_duplicates(),
                on=["payee_type", "payee_id", "account_no"],
            )["id"]
            .astype(int)
            .tolist()
        )
        if forced_ids:
            session.execute(
                update(CardFixRow)
                .where(CardFixRow.id.in_(forced_ids))
                .values(status="forced", resolved_by=user, resolved_at=utc_now())
            )

    month = today.strftime("%Y%m")
    count = len(instructions)
    total_fen = int(instructions["amount_fen"].sum())
    approvals_required = config.approvals_required(total_fen)
    reference = batch_reference(month, next_numbers(session, "batch", month, 1))
    first_payment = next_numbers(session, "payment", month, count)
    batch_id = session.execute(
        insert(PaymentBatchRow)
        .values(
            batch_reference=reference,
            entity_id=entity.id,
            status="prepared",
            programme_filter=programme,
            period_filter=period,
            total_fen=total_fen,
            instruction_count=count,
            payable_count=len(links),
            approvals_required=approvals_required,
            prepared_by=user,
            prepared_at=utc_now(),
        )
        .returning(PaymentBatchRow.id)
    ).scalar_one()

    first_id = int(session.execute(text("SELECT coalesce(max(id), 0) + 1 FROM payment_instructions")).scalar_one())
    ids = np.arange(first_id, first_id + count, dtype=np.int64)
    references = payment_references(month, first_payment, count)
    names = instructions["account_name"].tolist()
    if any(isinstance(name, str) and len(name) > ACCOUNT_NAME_LENGTH_MAX for name in names):
        names = [None if value is None else str(value)[:ACCOUNT_NAME_LENGTH_MAX] for value in names]
    columns_insert(
        session,
        "payment_instructions",
        (
            "id",
            "payment_reference",
            "batch_id",
            "entity_id",
            "payee_type",
            "payee_id",
            "household_id",
            "account_no",
            "account_name",
            "bank_name",
            "programmes",
            "amount_fen",
            "status",
        ),
        [
            ids.tolist(),
            references,
            [batch_id] * count,
            [entity.id] * count,
            instructions["payee_type"].tolist(),
            instructions["payee_id"].tolist(),
            instructions["household_id"].tolist(),
            instructions["account_no"].tolist(),
            names,
            instructions["bank_name"].tolist(),
            instructions["programmes"].tolist(),
            instructions["amount_fen"].astype(np.int64).tolist(),
            ["pending"] * count,
        ],
    )
    link_instruction_ids = ids[links["instruction_index"].to_numpy(dtype=np.int64)]
    columns_insert(
        session,
        "instruction_payables",
        ("instruction_id", "payable_id", "active"),
        [link_instruction_ids.tolist(), links["payable_id"].astype(np.int64).tolist(), [True] * len(links)],
    )
    if len(links) >= ANALYZE_ROWS_MIN:
        refresh_statistics(session, "payment_instructions", "instruction_payables", "payables")
    claimed = session.execute(
        text(
            "UPDATE payables SET status = 'claimed' WHERE status = 'open' AND id IN "
            "(SELECT payable_id FROM instruction_payables WHERE instruction_id BETWEEN :first AND :last)"
        ),
        {"first": first_id, "last": first_id + count - 1},
    ).rowcount
    # Every payable read as open is claimed now; anything else means another writer got in.
    assert claimed == len(links), (claimed, len(links))
    approvals = "one approver" if approvals_required == 1 else "two approvers (total above the threshold)"
    message = (
        f"batch {reference}: {count:,} payment(s) totalling {format_yuan(total_fen)} yuan from {len(links):,} payable(s) "
        f"of {entity_code}; needs {approvals} other than {user}"
    )
    return PrepareOutcome(
        reference, total_fen, count, len(links), approvals_required, kept_tuple, register_fixes, message
    )


# ------------------------------------------------------------------------------------ approve / cancel
def approve_batch(session: Session, reference: str, user: str, config: PayoutConfig | None = None) -> BatchOutcome:
    """Approve a prepared batch: by someone other than its preparer; a batch whose total is
    above the configured threshold needs a second approver, different from both."""
    user = require_user(user)
    config = config or load_payout_config()
    lock_payouts(session)
    batch = batch_by_reference(session, reference)
    if batch.status in ("cancelled",):
        raise DisburseError(
            f"batch {batch.batch_reference} was cancelled by {batch.cancelled_by}; it cannot be approved"
        )
    if batch.status != "prepared":
        return BatchOutcome(
            batch.batch_reference,
            batch.status,
            False,
            f"batch {batch.batch_reference} is already {batch.status}; nothing changed",
        )
    if user == batch.prepared_by:
        raise DisburseError(
            f"{user} prepared batch {batch.batch_reference} and cannot approve it: a batch is approved by someone "
            "other than its preparer (separation of duties)"
        )
    required = max(batch.approvals_required, config.approvals_required(batch.total_fen))
    now = utc_now()
    if batch.first_approved_by is None:
        batch.first_approved_by, batch.first_approved_at, batch.approvals_required = user, now, required
        if required == 1:
            batch.status = "approved"
            return BatchOutcome(
                batch.batch_reference,
                "approved",
                True,
                f"batch {batch.batch_reference} approved by {user}; it can be exported",
            )
        return BatchOutcome(
            batch.batch_reference,
            "prepared",
            True,
            f"batch {batch.batch_reference} approved by {user} (1 of 2): its total {format_yuan(batch.total_fen)} yuan "
            f"is above {format_yuan(config.second_approval_above_fen)} yuan, so a second approver other than "
            f"{batch.prepared_by} and {user} is needed",
        )
    if user == batch.first_approved_by:
        return BatchOutcome(
            batch.batch_reference,
            "prepared",
            False,
            f"{user} already approved batch {batch.batch_reference}; a second approver other than "
            f"{batch.prepared_by} and {user} is needed; nothing changed",
        )
    batch.second_approved_by, batch.second_approved_at, batch.approvals_required = user, now, required
    batch.status = "approved"
    return BatchOutcome(
        batch.batch_reference,
        "approved",
        True,
        f"batch {batch.batch_reference} approved by {batch.first_approved_by} and {user}; it can be exported",
    )


def _release(session: Session, instruction_condition: str, parameters: dict) -> int:
    """Give the payables of the instructions selected back (open again) and end their claims."""
    session.execute(
        text(
            f"UPDATE payables SET status = 'open' WHERE id IN (SELECT payable_id FROM instruction_payables "
            f"WHERE active AND instruction_id IN (SELECT id FROM payment_instructions WHERE {instruction_condition}))"
        ),
        parameters,
    )
    return session.execute(
        text(
            f"UPDATE instruction_payables SET active = false WHERE active AND instruction_id IN "
            f"(SELECT id FROM payment_instructions WHERE {instruction_condition})"
        ),
        parameters,
    ).rowcount


def cancel_batch(session: Session, reference: str, user: str) -> BatchOutcome:
    """Cancel a batch that has not gone to the bank: its payables are open again."""
    user = require_user(user)
    lock_payouts(session)
    batch = batch_by_reference(session, reference)
    if batch.status == "cancelled":
        return BatchOutcome(
            batch.batch_reference, "cancelled", False, f"batch {batch.batch_reference} is already cancelled"
        )
    if batch.status not in ("prepared", "approved"):
        raise DisburseError(
            f"batch {batch.batch_reference} is {batch.status}: its file went to the bank, so it cannot be cancelled; "
            "the bank's return file settles each payment"
        )
    released = _release(session, "batch_id = :batch", {"batch": batch.id})
    session.execute(
        update(PaymentInstructionRow).where(PaymentInstructionRow.batch_id == batch.id).values(status="cancelled")
    )
    batch.status, batch.cancelled_by, batch.cancelled_at = "cancelled", user, utc_now()
    return BatchOutcome(
        batch.batch_reference,
        "cancelled",
        True,
        f"batch {batch.batch_reference} cancelled; {released:,} payable(s) are open again",
    )


# ------------------------------------------------------------------------------------ export
def batch_instructions(session: Session, batch_id: int) -> pd.DataFrame:
    """The instructions of a batch in reference order, as ``payouts.bank_files`` takes them."""
    table = PaymentInstructionRow.__table__
    frame = _frame(
        session,
        select(
            table.c.id,
            table.c.payment_reference,
            table.c.account_no,
            table.c.account_name,
            table.c.bank_name,
            table.c.amount_fen,
            table.c.programmes.label("memo"),
            table.c.household_id,
        )
        .where(table.c.batch_id == batch_id)
        .order_by(table.c.id),
    )
    frame["amount_fen"] = frame["amount_fen"].astype(np.int64)
    return _objects(frame, "account_name", "bank_name", "household_id")


def _dimension(value: object, name: str) -> str | None:
    """A posting dimension, or None when it is missing or longer than the ledger holds."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text_value = str(value)
    return text_value if 0 < len(text_value) <= DIMENSION_LENGTH_MAX[name] else None


def entries_against_payables(
    entity_code: str,
    entry_date: dt.date,
    memo: str,
    source_kind: str,
    source_reference: str,
    payable_lines: pd.DataFrame,
    counter_account: str,
    lines_sign: int,
) -> EntryBatch:
    """Entries with one posting per payable on the payable's own account (``lines_sign`` × its
    amount, with its household, fund source and the payment reference that paid it) and, per
    entry, one balancing posting of the entry's total on ``counter_account`` (102.90). An entry
    holds at most ENTRY_POSTINGS_MAX postings; a larger batch is split into parts.

    ``payable_lines``: ``payment_reference, account_code, amount_fen, household_id, fund_source``
    in the order to post.
    """
    assert lines_sign in (1, -1) and len(payable_lines) > 0
    count = len(payable_lines)
    per_entry = ENTRY_POSTINGS_MAX - 1
    line_entry = np.arange(count, dtype=np.int64) // per_entry
    entry_count = int(line_entry[-1]) + 1
    amounts = lines_sign * payable_lines["amount_fen"].to_numpy(dtype=np.int64)
    totals = np.zeros(entry_count, dtype=np.int64)
    np.add.at(totals, line_entry, amounts)
    # Each entry's lines, then its balancing posting (an entry whose lines net to 0 needs none
    # and gets none: postings are never zero; such an entry is impossible with positive
    # instructions but the poster would refuse it anyway).
    with_counter = np.flatnonzero(totals != 0)
    posting_entry = np.concatenate([line_entry, with_counter])
    order = np.argsort(posting_entry, kind="stable")
    all_amounts = np.concatenate([amounts, -totals[with_counter]])[order]
    fund_texts = {value: _dimension(value, "fund_source") for value in set(payable_lines["fund_source"].tolist())}
    household_texts = {
        value: _dimension(value, "household_id") for value in set(payable_lines["household_id"].tolist())
    }
    none_column = [None] * len(with_counter)

    def arranged(values: list) -> list:  # noqa: E306
        return np.asarray(values + none_column, dtype=object)[order].tolist()

    accounts = np.asarray(payable_lines["account_code"].tolist() + [counter_account] * len(with_counter), dtype=object)[
        order
    ].tolist()
    return EntryBatch(
        entity_code=[entity_code] * entry_count,
        period=[period_of(entry_date)] * entry_count,
        entry_date=[entry_date] * entry_count,
        memo=[memo] * entry_count,
        source_kind=[source_kind] * entry_count,
        source_reference=[source_reference] * entry_count,
        reverses_entry_id=[None] * entry_count,
        label=[f"{source_reference} part {number + 1}" for number in range(entry_count)],
        posting_entry_index=posting_entry[order],
        account_code=accounts,
        amount_fen=all_amounts.astype(np.int64),
        household_id=arranged([household_texts[value] for value in payable_lines["household_id"].tolist()]),
        fund_source=arranged([fund_texts[value] for value in payable_lines["fund_source"].tolist()]),
        payment_reference=arranged(payable_lines["payment_reference"].tolist()),
    )


def payable_lines_of(session: Session, instruction_condition: str, parameters: dict, active_only: bool) -> pd.DataFrame:
    """The payables paid by the selected instructions: ``instruction_id, payment_reference,
    account_code, amount_fen, household_id, fund_source``, by instruction."""
    frame = _frame(
        session,
        text(
            "SELECT l.instruction_id, i.payment_reference, p.account_code, p.amount_fen, p.household_id, p.fund_source "
            "FROM instruction_payables l JOIN payables p ON p.id = l.payable_id "
            "JOIN payment_instructions i ON i.id = l.instruction_id "
            f"WHERE {'l.active AND ' if active_only else ''}l.instruction_id IN "
            f"(SELECT id FROM payment_instructions WHERE {instruction_condition}) ORDER BY l.instruction_id, l.payable_id"
        ),
        parameters,
    )
    frame["amount_fen"] = frame["amount_fen"].astype(np.int64)
    return _objects(frame, "household_id", "fund_source")


def _batch_payable_lines(session: Session, batch_id: int, instructions: pd.DataFrame) -> pd.DataFrame:
    """``payable_lines_of`` the batch, read by the batch's id range (prepare gives a batch
    consecutive instruction ids) with the references taken from ``instructions``: a third
    less time than joining the instructions again for 300,000 payees."""
    ids = instructions["id"].to_numpy(dtype=np.int64)
    first, last = int(ids.min()), int(ids.max())
    if last - first + 1 != len(ids):
        return payable_lines_of(session, "batch_id = :batch", {"batch": batch_id}, active_only=True)
    frame = _frame(
        session,
        text(
            "SELECT l.instruction_id, p.account_code, p.amount_fen, p.household_id, p.fund_source "
            "FROM instruction_payables l JOIN payables p ON p.id = l.payable_id "
            "WHERE l.active AND l.instruction_id BETWEEN :first AND :last ORDER BY l.instruction_id, l.payable_id"
        ),
        {"first": first, "last": last},
    )
    references = instructions["payment_reference"].to_numpy(dtype=object)
    frame.insert(1, "payment_reference", references[frame["instruction_id"].to_numpy(dtype=np.int64) - first])
    frame["amount_fen"] = frame["amount_fen"].astype(np.int64)
    return _objects(frame, "household_id", "fund_source")


def export_batch(
    session: Session,
    reference: str,
    profile_name: str,
    out: Path,
    user: str,
    *,
    today: dt.date | None = None,
    profiles_directory: str | None = None,
) -> BatchOutcome:
    """Write an approved batch's bank file(s) in the bank profile's layout, record their names
    and hashes, and post Dr each payable's account / Cr 102.90 在途资金 (household and payment
    reference on every posting) in one post. Exporting an exported batch again writes the same
    files and posts nothing."""
    from disburse.importers.bank_profiles import ProfileError, profile_by_name
    from disburse.payouts.bank_files import BankFileError, write_batch_files
    from disburse.payouts.bank_layout import payment_profile

    user = require_user(user)
    today = today or dt.date.today()
    lock_payouts(session)
    batch = batch_by_reference(session, reference)
    if batch.status == "prepared":
        needed = batch.approvals_required - (batch.first_approved_by is not None)
        raise DisburseError(
            f"batch {batch.batch_reference} is not approved yet ({needed} approval(s) missing); "
            "`disburse payout approve` by someone other than its preparer"
        )
    if batch.status == "cancelled":
        raise DisburseError(f"batch {batch.batch_reference} was cancelled; it cannot be exported")
    again = batch.status in ("exported", "closed")
    if again and batch.bank_profile != profile_name:
        raise DisburseError(
            f"batch {batch.batch_reference} was exported with the bank profile {batch.bank_profile}; "
            f"export it again with --bank {batch.bank_profile}, never to a second bank"
        )
    try:
        bank_profile = profile_by_name(profile_name, extra_directory=profiles_directory)
    except (KeyError, ProfileError) as error:
        raise DisburseError(str(error).strip("'\"")) from None
    if bank_profile.batch_payment is None:
        raise DisburseError(f"bank profile {profile_name} describes no batch-payment file")
    try:
        profile = payment_profile(bank_profile)
    except ProfileError as error:
        raise DisburseError(str(error)) from None
    instructions = batch_instructions(session, batch.id)
    assert len(instructions) == batch.instruction_count and int(instructions["amount_fen"].sum()) == batch.total_fen
    try:
        written = write_batch_files(instructions, profile, Path(out), batch.batch_reference)
    except BankFileError as error:
        raise DisburseError(
            f"batch {batch.batch_reference} cannot be written for {profile_name}:\n  " + "\n  ".join(error.problems)
        ) from None
    # The files' control totals are the batch's: nothing lost or doubled in the split.
    assert sum(file.total_fen for file in written) == batch.total_fen
    assert sum(file.row_count for file in written) == batch.instruction_count
    files = tuple(ExportedFile(str(file.path), file.row_count, file.total_fen, file.sha256) for file in written)
    if again:
        recorded = session.execute(
            select(BatchFileRow.file_number, BatchFileRow.sha256, BatchFileRow.row_count, BatchFileRow.total_fen)
            .where(BatchFileRow.batch_id == batch.id)
            .order_by(BatchFileRow.file_number)
        ).all()
        warnings: tuple[str, ...] = ()
        if [(row.row_count, row.total_fen) for row in recorded] != [(f.row_count, f.total_fen) for f in files]:
            raise DisburseError(
                f"batch {batch.batch_reference}: the files written now differ in count or total "
                "from those exported before; nothing was posted"
            )
        if [row.sha256 for row in recorded] != [f.sha256 for f in files]:
            warnings = (
                "the files hold the same payments as before, but their bytes differ from the recorded "
                "hashes (a spreadsheet writer stamps the time); upload only one of them",
            )
        return BatchOutcome(
            batch.batch_reference,
            batch.status,
            False,
            f"batch {batch.batch_reference} was already exported; the same {len(files)} file(s) were "
            "written again and nothing was posted",
            files,
            warnings,
        )

    bulk_insert(
        session,
        "payment_batch_files",
        ("batch_id", "file_number", "file_name", "row_count", "total_fen", "sha256"),
        [
            (batch.id, number, Path(file.file_name).name, file.row_count, file.total_fen, file.sha256)
            for number, file in enumerate(files, start=1)
        ],
    )
    entity_code = session.scalar(select(EntityRow.code).where(EntityRow.id == batch.entity_id))
    assert entity_code is not None
    lines = _batch_payable_lines(session, batch.id, instructions)
    assert int(lines["amount_fen"].sum()) == batch.total_fen
    entries = entries_against_payables(
        entity_code,
        today,
        f"批量代发 {batch.batch_reference} 付出，转入在途资金",
        "payout_export",
        batch.batch_reference,
        lines,
        PAYMENTS_IN_TRANSIT,
        lines_sign=1,
    )
    result = post_entries(session, entries, idempotency_key=f"payout-export:{batch.batch_reference}", user=user)
    session.execute(
        update(PaymentInstructionRow)
        .where(PaymentInstructionRow.batch_id == batch.id, PaymentInstructionRow.status == "pending")
        .values(status="exported")
    )
    batch.status, batch.bank_profile, batch.exported_by = "exported", profile_name, user
    batch.exported_at, batch.export_post_request_id = utc_now(), result.post_request_id
    return BatchOutcome(
        batch.batch_reference,
        "exported",
        True,
        f"batch {batch.batch_reference} exported for {profile.bank}: {len(files)} file(s), "
        f"{batch.instruction_count:,} payment(s), {format_yuan(batch.total_fen)} yuan posted Dr payables / "
        f"Cr {PAYMENTS_IN_TRANSIT} on {today.isoformat()} ({result.entry_count} entries)",
        files,
    )


# ------------------------------------------------------------------------------------ fix-account
def fix_account(
    session: Session,
    payee: str,
    account_no: str,
    user: str,
    *,
    account_name: str | None = None,
    bank_name: str | None = None,
    reason: str = "",
) -> FixOutcome:
    """Give a payee (a household id, or a person's resident ID) a new account for payouts,
    logged with who, when and why; releases the payee's entries on the fix-the-card list. The
    same fix given again changes nothing."""
    user = require_user(user)
    payee = payee.strip()
    account_no = account_no.strip()
    if not ACCOUNT_DIGITS.match(account_no):
        raise DisburseError(f"account {account_no!r} must be 8 to 30 digits")
    reason = (reason or "").strip() or "card fixed at the counter"
    if len(reason) > REASON_TEXT_LENGTH_MAX:
        raise DisburseError(f"the reason is {len(reason)} characters; at most {REASON_TEXT_LENGTH_MAX}")
    lock_payouts(session)
    known = session.execute(
        select(PayableRow.payee_type, PayableRow.household_id, PayableRow.account_no)
        .where(PayableRow.payee_id == payee)
        .order_by(PayableRow.id.desc())
        .limit(1)
    ).first()
    if known is None:
        raise DisburseError(f"{payee!r} has no payables: give the household id or the resident ID a payment was for")
    open_entries = session.execute(
        select(CardFixRow.id, CardFixRow.account_no)
        .where(CardFixRow.payee_id == payee, CardFixRow.status == "open")
        .order_by(CardFixRow.id)
    ).all()
    newest = session.execute(
        select(AccountFixRow.new_account_no, AccountFixRow.new_account_name)
        .where(AccountFixRow.payee_id == payee)
        .order_by(AccountFixRow.id.desc())
        .limit(1)
    ).first()
    if (
        not open_entries
        and newest is not None
        and newest.new_account_no == account_no
        and (account_name is None or newest.new_account_name == account_name)
    ):
        return FixOutcome(payee, False, 0, f"{payee} already has account {account_no}; nothing changed")
    old_account = (
        open_entries[-1].account_no if open_entries else (newest.new_account_no if newest else known.account_no)
    )
    now = utc_now()
    fix_id = session.execute(
        insert(AccountFixRow)
        .values(
            payee_type=known.payee_type,
            payee_id=payee,
            household_id=known.household_id,
            old_account_no=old_account,
            new_account_no=account_no,
            new_account_name=account_name,
            new_bank_name=bank_name,
            source="clerk",
            reason=reason,
            fixed_by=user,
            fixed_at=now,
        )
        .returning(AccountFixRow.id)
    ).scalar_one()
    if open_entries:
        session.execute(
            update(CardFixRow)
            .where(CardFixRow.id.in_([row.id for row in open_entries]))
            .values(status="fixed", account_fix_id=fix_id, resolved_by=user, resolved_at=now)
        )
    return FixOutcome(
        payee,
        True,
        len(open_entries),
        f"{payee}: account {old_account or '(none)'} → {account_no} by {user}; "
        f"{len(open_entries)} failed payment(s) can be paid again in the next batch",
    )


def fix_list(session: Session, entity_code: str | None = None) -> pd.DataFrame:
    """The fix-the-card list: open entries (payee, failed account, reason, date, reference)."""
    statement = (
        select(
            EntityRow.code.label("entity"),
            CardFixRow.payee_type,
            CardFixRow.payee_id,
            CardFixRow.household_id,
            CardFixRow.account_no,
            CardFixRow.account_name,
            CardFixRow.reason,
            CardFixRow.failed_on,
            PaymentInstructionRow.payment_reference,
            PaymentInstructionRow.amount_fen,
        )
        .join(EntityRow, EntityRow.id == CardFixRow.entity_id)
        .join(PaymentInstructionRow, PaymentInstructionRow.id == CardFixRow.instruction_id)
        .where(CardFixRow.status == "open")
        .order_by(CardFixRow.failed_on, CardFixRow.id)
    )
    if entity_code is not None:
        statement = statement.where(EntityRow.code == entity_code)
    return _frame(session, statement)
