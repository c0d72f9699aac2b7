"""Payables: what each payee is owed once an allocation run is posted (the run credited 211 or
212 per payee; these rows say who is to be paid, to which card, and track the payment). When a
posted run is reversed, its payables are withdrawn, as long as none has gone to a payment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from disburse.foundation.bulk import bulk_insert, plain_values
from disburse.foundation.dates import iso
from disburse.foundation.errors import DisburseError
from disburse.foundation.frames import stripped_texts
from disburse.foundation.i18n import join_clauses, join_list, tr
from disburse.foundation.money import format_yuan
from disburse.ledger.tables import AccountRow, EntityRow
from disburse.payouts.model import CARD_KINDS, PARTY_COLUMNS, PAYABLE_COLUMNS, PAYABLES_PER_RECORD_MAX, PAYEE_TYPES
from disburse.payouts.tables import utc_now

INSERT_COLUMNS = (
    "entity_id",
    "run_id",
    "source_line",
    "household_id",
    "payee_type",
    "payee_id",
    "programme",
    "fund_source",
    "account_code",
    "amount_fen",
    "account_no",
    "account_name",
    "bank_name",
    "period",
    "status",
    "created_at",
    *PARTY_COLUMNS,
)


def _check_frame_shape(frame: pd.DataFrame) -> None:
    """Refuse a frame without the payable columns, too large, or with amounts that are not integer fen."""
    missing = [name for name in PAYABLE_COLUMNS if name not in frame.columns]
    if missing:
        raise DisburseError(tr("payables lack the columns {columns}", columns=join_list(missing)))
    if len(frame) > PAYABLES_PER_RECORD_MAX:
        raise DisburseError(
            tr(
                "{count:,} payables at once; the limit PAYABLES_PER_RECORD_MAX is {count_max:,}",
                count=len(frame),
                count_max=PAYABLES_PER_RECORD_MAX,
            )
        )
    if not pd.api.types.is_integer_dtype(frame["amount_fen"].dtype):
        raise DisburseError(
            tr("payables' amount_fen must be integer fen, not {dtype}", dtype=frame["amount_fen"].dtype)
        )


def _parties(frame: pd.DataFrame) -> list[list]:
    """The party columns of ``frame`` as stored (None where a frame lacks one); a card kind
    outside ``CARD_KINDS`` is refused."""
    columns = [
        stripped_texts(frame[name]).tolist() if name in frame.columns else [None] * len(frame) for name in PARTY_COLUMNS
    ]
    unknown = set(columns[-1]) - {None, *CARD_KINDS}
    if unknown:
        raise DisburseError(
            tr(
                "card_kind must be one of {allowed}, not {given}",
                allowed=join_list(list(CARD_KINDS)),
                given=join_list(sorted(unknown)),
            )
        )
    return columns


def record_payables(session: Session, frame: pd.DataFrame) -> int:
    """Store one payable per row of ``frame`` (columns in ``payouts.model.PAYABLE_COLUMNS``,
    ``bank_name`` optional) with one bulk insert inside the caller's transaction; rows of 0 fen
    owe nothing and are skipped. Returns the number stored. A run's line is stored once (the
    database refuses a second copy of ``run_id, source_line``)."""
    if len(frame) == 0:  # a run posted before, or one that owes nobody anything
        return 0
    _check_frame_shape(frame)
    frame = frame[frame["amount_fen"].to_numpy() != 0]
    if len(frame) == 0:
        return 0
    entity_codes = sorted(set(stripped_texts(frame["entity_code"]).tolist()) - {None})  # type: ignore[arg-type]
    entity_ids = dict(
        session.execute(select(EntityRow.code, EntityRow.id).where(EntityRow.code.in_(entity_codes))).all()
    )
    unknown = [code for code in entity_codes if code not in entity_ids]
    if unknown or len(entity_codes) == 0:
        raise DisburseError(
            tr(
                "payables name entities that do not exist: {entities}",
                entities=join_list(map(str, unknown)) or tr("(none given)"),
            )
        )
    payee_types = set(frame["payee_type"].unique().tolist())
    if not payee_types <= set(PAYEE_TYPES):
        raise DisburseError(
            tr(
                "payee_type must be one of {allowed}, not {given}",
                allowed=join_list(PAYEE_TYPES),
                given=sorted(payee_types - set(PAYEE_TYPES)),
            )
        )
    account_codes = set(frame["account_code"].unique().tolist())
    known_accounts = set(session.scalars(select(AccountRow.code).where(AccountRow.code.in_(sorted(account_codes)))))
    if account_codes - known_accounts:
        raise DisburseError(
            tr("payables name accounts not in the chart: {accounts}", accounts=sorted(account_codes - known_accounts))
        )

    count = len(frame)
    entity_column = [entity_ids[code] for code in stripped_texts(frame["entity_code"]).tolist()]
    run_ids = [
        None if value is None or pd.isna(value) else int(value)
        for value in frame["run_id"].to_numpy(dtype=object, na_value=None).tolist()
    ]
    bank_names = stripped_texts(frame["bank_name"]).tolist() if "bank_name" in frame.columns else [None] * count
    parties = _parties(frame)
    now = iso(utc_now())
    rows = list(
        zip(
            entity_column,
            run_ids,
            frame["source_line"].astype(np.int64).tolist(),
            stripped_texts(frame["household_id"]).tolist(),
            plain_values(frame["payee_type"]),
            stripped_texts(frame["payee_id"]).tolist(),
            stripped_texts(frame["programme"]).tolist(),
            stripped_texts(frame["fund_source"]).tolist(),
            plain_values(frame["account_code"]),
            frame["amount_fen"].astype(np.int64).tolist(),
            stripped_texts(frame["account_no"]).tolist(),
            stripped_texts(frame["account_name"]).tolist(),
            bank_names,
            stripped_texts(frame["period"]).tolist(),
            ["open"] * count,
            [now] * count,
            *parties,
        )
    )
    first_id = int(session.execute(text("SELECT coalesce(max(id), 0) FROM payables")).scalar_one()) + 1
    stored = bulk_insert(session, "payables", INSERT_COLUMNS, rows)
    if "bank_name" not in frame.columns:
        fill_bank_names(session, first_id)
    return stored


def fill_bank_names(session: Session, first_id: int) -> None:
    """Give payables from ``first_id`` on without a bank the bank of the same card in the
    household's current register version (bank files such as CCB's name the payee's bank and
    tell same-bank from interbank payments). One set-based statement, by the household index."""
    session.execute(
        text(
            "UPDATE payables SET bank_name = (SELECT max(v.bank_name) FROM household_versions v "
            "WHERE v.household_id = payables.household_id AND v.account_no = payables.account_no "
            "AND v.valid_to_import IS NULL) "
            "WHERE id >= :first AND bank_name IS NULL AND household_id IS NOT NULL AND account_no IS NOT NULL"
        ),
        {"first": first_id},
    )
    # A person's own card (社保卡): its bank as the person's current version names it.
    session.execute(
        text(
            "UPDATE payables SET bank_name = (SELECT max(v.person_bank_name) FROM person_versions v "
            "WHERE v.id_number = payables.payee_id AND v.person_account_no = payables.account_no "
            "AND v.valid_to_import IS NULL) "
            "WHERE id >= :first AND bank_name IS NULL AND payee_type = 'person' AND account_no IS NOT NULL"
        ),
        {"first": first_id},
    )
    # A village collective's account is the entity's own (bank_accounts), not a register card.
    session.execute(
        text(
            "UPDATE payables SET bank_name = (SELECT max(b.bank_name) FROM bank_accounts b "
            "WHERE b.account_number = payables.account_no) "
            "WHERE id >= :first AND bank_name IS NULL AND payee_type = 'collective' AND account_no IS NOT NULL"
        ),
        {"first": first_id},
    )


WITHDRAW_REFUSALS_SHOWN_MAX = 5


@dataclass(frozen=True, slots=True)
class WithdrawnPayables:
    """What withdrawing a run's payables removed: how many, their total, and for each one that
    had been in a cancelled or failed payment, that history (payable id, payee, amount, and the
    payment references with their status), for the run's record."""

    count: int
    total_fen: int
    history: tuple[tuple[int, str, int, tuple[tuple[str, str], ...]], ...]

    def as_record(self) -> dict:
        return {
            "payables_withdrawn": self.count,
            "withdrawn_fen": self.total_fen,
            "payment_history": [
                [pid, payee, amount, [list(ref) for ref in refs]] for pid, payee, amount, refs in self.history
            ],
        }


def _payment_history(session: Session, run_id: int) -> list:  # type: ignore[type-arg]
    """Each payable of the run that is not open or was ever in an instruction, with the
    instruction and batch it was in (newest first)."""
    return session.execute(
        text(
            "SELECT p.id, p.status, p.payee_id, p.household_id, p.amount_fen, i.payment_reference, i.status, "
            "i.failure_reason, b.batch_reference, l.active "
            "FROM payables p "
            "LEFT JOIN instruction_payables l ON l.payable_id = p.id "
            "LEFT JOIN payment_instructions i ON i.id = l.instruction_id "
            "LEFT JOIN payment_batches b ON b.id = i.batch_id "
            "WHERE p.run_id = :run AND (p.status <> 'open' OR l.payable_id IS NOT NULL) "
            "ORDER BY p.id, l.active DESC, i.id DESC"
        ),
        {"run": run_id},
    ).all()


def _blocking_groups(rows) -> dict[tuple[str, str, str], list[int]]:  # type: ignore[no-untyped-def]
    """Payables that are paid or in a batch, by (state, batch, instruction status) → amounts."""
    groups: dict[tuple[str, str, str], list[int]] = {}
    seen: set[int] = set()
    for payable_id, status, _, _, amount, _, instruction_status, _, batch, _ in rows:
        if status not in ("paid", "claimed") or int(payable_id) in seen:
            continue
        seen.add(int(payable_id))
        groups.setdefault((status, batch or "", instruction_status or ""), []).append(int(amount))
    return groups


def _blocking_text(state: str, batch: str, instruction_status: str, amounts: list[int]) -> str:
    what = tr("{count:,} ({amount} yuan)", count=len(amounts), amount=format_yuan(sum(amounts)))
    if state == "paid":
        return tr("{what} paid in batch {batch}", what=what, batch=batch)
    if instruction_status == "pending":
        return tr(
            "{what} in batch {batch}, not sent to the bank yet (cancel it with `disburse payout cancel {batch}` first)",
            what=what,
            batch=batch,
        )
    return tr("{what} in batch {batch}, sent to the bank and waiting for its return file", what=what, batch=batch)


def _history(rows) -> tuple[tuple[int, str, int, tuple[tuple[str, str], ...]], ...]:  # type: ignore[no-untyped-def]
    """Open payables that were in cancelled or failed payments, with those payments."""
    history: dict[int, tuple[str, int, list[tuple[str, str]]]] = {}
    for payable_id, status, payee, _, amount, reference, instruction_status, failure, _, _ in rows:
        if status != "open" or reference is None:
            continue
        entry = history.setdefault(int(payable_id), (str(payee), int(amount), []))
        entry[2].append((str(reference), f"{instruction_status}{': ' + failure if failure else ''}"))
    return tuple((pid, payee, amount, tuple(refs)) for pid, (payee, amount, refs) in sorted(history.items()))


def withdraw_run_payables(session: Session, run_id: int) -> WithdrawnPayables:
    """Withdraw what a posted run made payable, for ``runs reverse``: every payable of the run is
    removed, unless one of them is paid or in a batch; then the whole withdrawal is refused,
    naming the batches (the caller's transaction then writes nothing). A payable that was in a
    cancelled or failed payment is withdrawn too, with its links to those payments; that history
    is returned for the run's record (the instructions themselves stay)."""
    from disburse.payouts.recheck import refuse_reversing_held  # it reads the allocations' rules

    refuse_reversing_held(session, run_id)
    rows = _payment_history(session, run_id)
    groups = _blocking_groups(rows)
    if groups:
        count = sum(len(amounts) for amounts in groups.values())
        shown = [_blocking_text(*key, amounts) for key, amounts in sorted(groups.items())]
        more = len(shown) - WITHDRAW_REFUSALS_SHOWN_MAX
        raise DisburseError(
            tr(
                "run {run} cannot be reversed: {count:,} of its payables are paid or in a batch: {batches}{more}. "
                "A payment that has gone out is not undone by reversing its run.",
                run=run_id,
                count=count,
                batches=join_clauses(shown[:WITHDRAW_REFUSALS_SHOWN_MAX]),
                more=tr("; and {count} more batch(es)", count=more) if more > 0 else "",
            )
        )
    count, total = session.execute(
        text("SELECT count(*), coalesce(sum(amount_fen), 0) FROM payables WHERE run_id = :run"), {"run": run_id}
    ).one()
    history = _history(rows)
    if history:
        session.execute(
            text(
                "DELETE FROM instruction_payables WHERE NOT active AND payable_id IN "
                "(SELECT id FROM payables WHERE run_id = :run)"
            ),
            {"run": run_id},
        )
    if count:
        session.execute(text("DELETE FROM payables WHERE run_id = :run AND status = 'open'"), {"run": run_id})
    return WithdrawnPayables(int(count), int(total), history)
