"""``payout prepare``: an entity's open payables become one batch of payment instructions with
fixed payment references.

The steps, in order:

1. the request: user, day, configuration, and the bank profile the batch is prepared for
   (``--bank``, else the configured one, else none: then its file is checked at export);
2. payees the register now gives a new card are released from the fix-the-card list;
3. the open payables (of one programme or period, if asked), redirected by approved fixes;
4. payees whose last payment failed and whose card is not fixed are held (unless forced); before
   that, stopped payables are kept out and the eligibility recheck (``payouts.recheck``) holds on
   211.90, or refuses, the payables whose recipient the register now shows dead, gone or with
   another card;
5. netting: one payment per programme and period per payee account (or merged, by setting);
6. payments the chosen bank's file cannot carry (no 户名, no 行名, a name its encoding cannot
   hold …) are kept out, each with the reason;
7. the batch, its instructions (their references fixed now, never at export) and the claims.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from disburse.foundation.actors import require_user
from disburse.foundation.bulk import ANALYZE_ROWS_MIN, columns_insert, plain_values, refresh_statistics
from disburse.foundation.dates import period_problem
from disburse.foundation.errors import DisburseError
from disburse.foundation.frames import query_objects
from disburse.foundation.i18n import join_clauses, tr, tr_noop
from disburse.foundation.money import format_yuan
from disburse.importers.bank_profiles import profile_label
from disburse.ledger.service import entity_by_code
from disburse.payouts.bank_files import row_problems
from disburse.payouts.bank_layout import PaymentProfile
from disburse.payouts.cards import CardLookup, register_cards
from disburse.payouts.common import lock_payouts, next_numbers, none_for_missing
from disburse.payouts.config import PayoutConfig, load_payout_config
from disburse.payouts.fixes import approved_fixes, release_by_register
from disburse.payouts.funds import freeze_batch
from disburse.payouts.model import (
    PAYABLES_PER_BATCH_MAX,
    PAYEES_PER_BATCH_MAX,
    KeptPayee,
    PrepareOutcome,
    batch_reference,
    payment_references,
)
from disburse.payouts.netting import apply_account_fixes, net_payables
from disburse.payouts.notices import notice_problems
from disburse.payouts.purposes import double_benefit_problems
from disburse.payouts.recheck import recheck_payables
from disburse.payouts.sends import send_numbers
from disburse.payouts.stops import stopped_payables
from disburse.payouts.tables import (
    ACCOUNT_NAME_LENGTH_MAX,
    AccountFixRow,
    CardFixRow,
    PayableRow,
    PaymentBatchRow,
    utc_now,
)

NO_PROFILE_WARNING = tr_noop(
    "no bank profile was chosen (--bank, or bank_profile in payouts/config.yaml), so what the bank file needs "
    "is checked only at export, after approval"
)
HELD_REASON = tr_noop(
    "the last payment to this card failed; fix the card (payout fix-account, then approve-fix) or --force"
)


@dataclass(frozen=True, slots=True)
class PrepareRequest:
    """What one prepare is asked to do, checked before the lock is taken."""

    entity_code: str
    user: str
    today: dt.date
    programme: str | None
    period: str | None
    force: bool
    config: PayoutConfig
    profile: PaymentProfile | None

    @property
    def month(self) -> str:
        return self.today.strftime("%Y%m")

    @property
    def merge_programmes(self) -> bool:
        return self.config.merges_programmes(self.entity_code)


def payment_profile_named(name: str, profiles_directory: str | None = None) -> PaymentProfile:
    """The bank profile ``name`` with a valid batch-payment layout, or a refusal naming why."""
    from disburse.importers.bank_profiles import ProfileError, profile_by_name
    from disburse.payouts.bank_layout import payment_profile

    try:
        return payment_profile(profile_by_name(name, extra_directory=profiles_directory))
    except KeyError as error:
        raise DisburseError(str(error).strip("'\"")) from None
    except ProfileError as error:
        raise DisburseError(str(error)) from None


@dataclass(frozen=True, slots=True)
class _Netted:
    instructions: pd.DataFrame
    links: pd.DataFrame
    kept: list[KeptPayee]


def _kept_rows(frame: pd.DataFrame) -> list[KeptPayee]:
    """KeptPayee of each row of netting's ``kept`` (``payouts.netting.KEPT_COLUMNS``)."""
    return [
        KeptPayee(
            row.payee_type,
            row.payee_id,
            row.household_id,
            row.account_no,
            int(row.amount_fen),
            int(row.payable_count),
            row.reason,
            row.programme,
            row.period,
        )
        for row in frame.itertuples(index=False)
    ]


def _payables_due(session: Session, entity_id: int, request: PrepareRequest) -> pd.DataFrame:
    """The entity's open payables, each redirected to its payee's account as approved fixes say."""
    table = PayableRow.__table__
    statement = select(
        *(
            table.c[name]
            for name in (
                "id",
                "run_id",
                "payee_type",
                "payee_id",
                "household_id",
                "account_no",
                "account_name",
                "bank_name",
                "programme",
                "period",
                "amount_fen",
                "card_kind",
                "head_name",
            )
        )
    ).where(table.c.entity_id == entity_id, table.c.status == "open")
    if request.programme is not None:
        statement = statement.where(table.c.programme == request.programme)
    if request.period is not None:
        statement = statement.where(table.c.period == request.period)
    frame = query_objects(session, statement.order_by(table.c.id))
    if len(frame) > PAYABLES_PER_BATCH_MAX:
        raise DisburseError(
            tr(
                "{entity} has {count:,} open payables; one batch takes at most {count_max:,} (PAYABLES_PER_BATCH_MAX): "
                "prepare per programme (--programme) or period (--period)",
                entity=request.entity_code,
                count=len(frame),
                count_max=PAYABLES_PER_BATCH_MAX,
            )
        )
    frame["amount_fen"] = frame["amount_fen"].astype(np.int64)
    frame["id"] = frame["id"].astype(np.int64)
    frame = none_for_missing(frame, "household_id", "account_no", "account_name", "bank_name", "card_kind", "head_name")
    if not session.scalar(select(func.count()).select_from(AccountFixRow).where(AccountFixRow.status == "approved")):
        return frame  # no card was ever fixed: nothing to redirect (and nothing to copy)
    payee_ids = sorted(set(frame["payee_id"].tolist()))
    return apply_account_fixes(frame, approved_fixes(session, payee_ids))


def _open_card_fixes(session: Session, entity_id: int) -> pd.DataFrame:
    return query_objects(
        session,
        select(CardFixRow.id, CardFixRow.payee_type, CardFixRow.payee_id, CardFixRow.account_no).where(
            CardFixRow.entity_id == entity_id, CardFixRow.status == "open"
        ),
    )


def _held(payables: pd.DataFrame, open_fixes: pd.DataFrame) -> np.ndarray:
    """Payables addressed to a card whose last payment failed and is not fixed yet."""
    if len(open_fixes) == 0:
        return np.zeros(len(payables), dtype=bool)
    keys = ["payee_type", "payee_id", "account_no"]
    held_keys = open_fixes[keys].drop_duplicates().assign(_held=True)
    marked = payables[keys].merge(held_keys, on=keys, how="left")
    return marked["_held"].fillna(False).astype(bool).to_numpy()


def _hold_failed_cards(
    session: Session, entity_id: int, payables: pd.DataFrame, force: bool
) -> tuple[pd.DataFrame, list[KeptPayee], list[int]]:
    """Leave out payables to a failed card; with ``force``, keep them in and return the
    fix-list entries they override (marked forced once the batch is made)."""
    open_fixes = _open_card_fixes(session, entity_id)
    held = _held(payables, open_fixes)
    if not held.any():
        return payables, [], []
    keys = ["payee_type", "payee_id", "account_no"]
    if force:
        forced = open_fixes.merge(payables[held][keys].drop_duplicates(), on=keys)
        return payables, [], forced["id"].astype(int).tolist()
    kept = [
        KeptPayee(
            key[0],
            key[1],
            group["household_id"].iloc[0],
            key[2],
            int(group["amount_fen"].sum()),
            len(group),
            tr(HELD_REASON),
        )
        for key, group in payables[held].groupby(keys, sort=True)
    ]
    return payables[~held], kept, []


def _hold_stopped(session: Session, payables: pd.DataFrame) -> tuple[pd.DataFrame, list[KeptPayee]]:
    """Leave out payables stopped (停发), each kept for later with its stop's reason."""
    stopped = stopped_payables(session, payables["id"].astype(np.int64).tolist()) if len(payables) else {}
    if not stopped:
        return payables, []
    out = payables["id"].isin(list(stopped)).to_numpy()
    kept = [
        KeptPayee(
            row.payee_type,
            row.payee_id,
            row.household_id,
            row.account_no,
            int(row.amount_fen),
            1,
            tr(
                "停发 (stop {stop}): {reason}; released only by a checker (`disburse payout release {stop}`)",
                stop=stopped[int(row.id)][0],
                reason=stopped[int(row.id)][1],
            ),
            row.programme,
            row.period,
        )
        for row in payables[out].itertuples(index=False)
    ]
    return payables[~out], kept


def _keep_unwritable(netted: _Netted, profile: PaymentProfile | None) -> _Netted:
    """Keep out the payments the chosen bank's file cannot carry, each with the reasons, and
    number the rest again from 0."""
    instructions = netted.instructions
    if profile is None or len(instructions) == 0:
        return netted
    problems = row_problems(instructions, profile.batch_payment)
    if not problems:
        return netted
    reasons = np.full(len(instructions), "", dtype=object)
    for problem in problems:
        reasons[problem.rows] = [
            tr("{first}; {then}", first=reason, then=problem.message) if reason else problem.message
            for reason in reasons[problem.rows]
        ]
    bad = reasons != ""
    kept = [
        KeptPayee(
            row.payee_type,
            row.payee_id,
            row.household_id,
            row.account_no,
            int(row.amount_fen),
            int(row.payable_count),
            tr(
                "the {profile} bank file ({bank}) cannot carry this payment: {reason}; correct the card "
                "(payout fix-account with --name or --bank-name, then approve-fix)",
                profile=profile.name,
                bank=profile.bank,
                reason=reason,
            ),
            row.programmes,
            row.period,
        )
        for row, reason in zip(instructions[bad].itertuples(index=False), reasons[bad])
    ]
    new_index = np.full(len(instructions), -1, dtype=np.int64)
    new_index[~bad] = np.arange(int((~bad).sum()), dtype=np.int64)
    links = netted.links
    mapped = new_index[links["instruction_index"].to_numpy(dtype=np.int64)]
    kept_links = links[mapped >= 0].assign(instruction_index=mapped[mapped >= 0])
    good = instructions[~bad].reset_index(drop=True).assign(instruction_index=np.arange(int((~bad).sum())))
    return _Netted(good, kept_links.reset_index(drop=True), netted.kept + kept)


def _insert_batch(session: Session, entity_id: int, request: PrepareRequest, netted: _Netted) -> tuple[int, str, int]:
    """The batch row: returns its id, reference and the approvals it needs."""
    total_fen = int(netted.instructions["amount_fen"].sum())
    approvals_required = request.config.approvals_required(total_fen)
    reference = batch_reference(request.month, next_numbers(session, "batch", request.month, 1))
    batch_id = session.execute(
        insert(PaymentBatchRow)
        .values(
            batch_reference=reference,
            entity_id=entity_id,
            status="prepared",
            programme_filter=request.programme,
            period_filter=request.period,
            netting="merged" if request.merge_programmes else "by_programme",
            total_fen=total_fen,
            instruction_count=len(netted.instructions),
            payable_count=len(netted.links),
            approvals_required=approvals_required,
            prepared_by=request.user,
            prepared_at=utc_now(),
            bank_profile=request.profile.name if request.profile is not None else None,
        )
        .returning(PaymentBatchRow.id)
    ).scalar_one()
    return batch_id, reference, approvals_required


def _insert_instructions(
    session: Session, batch_id: int, entity_id: int, request: PrepareRequest, netted: _Netted
) -> np.ndarray:
    """One instruction per payment, numbered from max(id) under the lock so the links can be
    bulk-inserted with them, each with its payment reference fixed now and its send number (0,
    or how many sends of its money failed before). Returns the ids."""
    instructions = netted.instructions
    count = len(instructions)
    first_payment = next_numbers(session, "payment", request.month, count)
    first_id = int(session.execute(text("SELECT coalesce(max(id), 0) + 1 FROM payment_instructions")).scalar_one())
    ids = np.arange(first_id, first_id + count, dtype=np.int64)
    # plain_values: None for a missing value (pandas keeps text columns as str with NaN for
    # missing, which COPY would write as the text 'nan').
    names = plain_values(instructions["account_name"])
    if any(isinstance(name, str) and len(name) > ACCOUNT_NAME_LENGTH_MAX for name in names):
        names = [None if value is None else str(value)[:ACCOUNT_NAME_LENGTH_MAX] for value in names]
    columns = {
        "id": ids.tolist(),
        "payment_reference": payment_references(request.month, first_payment, count),
        "batch_id": [batch_id] * count,
        "entity_id": [entity_id] * count,
        **{name: plain_values(instructions[name]) for name in ("payee_type", "payee_id", "household_id", "account_no")},
        "account_name": names,
        **{
            name: plain_values(instructions[name])
            for name in ("bank_name", "programmes", "period", "card_kind", "head_name")
        },
        "amount_fen": instructions["amount_fen"].astype(np.int64).tolist(),
        "status": ["pending"] * count,
        "send_number": send_numbers(session, entity_id, netted.links, count).tolist(),
    }
    columns_insert(session, "payment_instructions", tuple(columns), list(columns.values()))
    return ids


def _claim(session: Session, ids: np.ndarray, links: pd.DataFrame) -> None:
    """Link each payable to its instruction and mark it claimed; the partial unique index
    refuses a payable with two active claims whatever happens."""
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
        {"first": int(ids[0]), "last": int(ids[-1])},
    ).rowcount
    # Every payable read as open is claimed now; anything else means another writer got in.
    assert claimed == len(links), (claimed, len(links))


def _request(
    entity_code: str,
    user: str,
    programme: str | None,
    period: str | None,
    force: bool,
    today: dt.date | None,
    config: PayoutConfig | None,
    bank_profile: str | None,
    profiles_directory: str | None,
) -> PrepareRequest:
    user = require_user(user)
    if period is not None and period_problem(period):
        raise DisburseError(period_problem(period) or "")
    config = config or load_payout_config()
    chosen = bank_profile or config.bank_profile_for(entity_code)
    profile = payment_profile_named(chosen, profiles_directory) if chosen else None
    return PrepareRequest(entity_code, user, today or dt.date.today(), programme, period, force, config, profile)


def _refuse_uncontrolled(session: Session, payables: pd.DataFrame, netted: _Netted, request: PrepareRequest) -> None:
    """Refuse the batch when a run it would pay has not run its notice (公示) or has an open
    objection, or when a payee would be paid twice for one purpose and period."""
    paid = payables[payables["id"].isin(netted.links["payable_id"].astype(np.int64))]
    run_ids = sorted({int(run) for run in paid["run_id"].dropna().tolist()})
    problems = notice_problems(session, run_ids, request.today)
    if problems:
        raise DisburseError(
            tr(
                "no batch for {entity} on {day}: {problems}. Other programmes can be prepared on their own "
                "(--programme)",
                entity=request.entity_code,
                day=request.today,
                problems=join_clauses(problems),
            )
        )
    problems = double_benefit_problems(session, paid)
    if problems:
        raise DisburseError(
            tr("no batch for {entity}: {problems}", entity=request.entity_code, problems=join_clauses(problems))
        )


def _netted(session: Session, entity_id: int, request: PrepareRequest) -> _Netted:
    """Steps 3 to 6: the payables due, held cards, netting, what the bank file cannot carry;
    then the controls: notice before payment, no double benefit."""
    payables, stopped_kept = _hold_stopped(session, _payables_due(session, entity_id, request))
    # Eligibility checked again: the register as of the day (died, left, card changed).
    payables, recheck_kept = recheck_payables(
        session, entity_id, request.entity_code, payables, request.today, request.user
    )
    payables, held_kept, forced_ids = _hold_failed_cards(session, entity_id, payables, request.force)
    held_kept = stopped_kept + recheck_kept + held_kept
    netting = net_payables(payables, merge_programmes=request.merge_programmes)
    netted = _keep_unwritable(
        _Netted(netting.instructions, netting.links, held_kept + _kept_rows(netting.kept)),  # type: ignore[arg-type]
        request.profile,
    )
    if len(netted.instructions) > PAYEES_PER_BATCH_MAX:
        raise DisburseError(
            tr(
                "{count:,} payments are due; one batch pays at most {count_max:,} (PAYEES_PER_BATCH_MAX): prepare "
                "per programme (--programme) or period (--period)",
                count=len(netted.instructions),
                count_max=PAYEES_PER_BATCH_MAX,
            )
        )
    if len(netted.instructions):
        _refuse_uncontrolled(session, payables, netted, request)
    if forced_ids and len(netted.instructions):
        session.execute(
            update(CardFixRow)
            .where(CardFixRow.id.in_(forced_ids))
            .values(status="forced", resolved_by=request.user, resolved_at=utc_now())
        )
    return netted


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
    bank_profile: str | None = None,
    profiles_directory: str | None = None,
) -> PrepareOutcome:
    """Gather the entity's open payables (optionally of one programme and period), net them
    into payments (one per programme and period per payee account, unless the configuration
    merges programmes) and make one batch of instructions with new, stable payment references,
    prepared for ``bank_profile`` (or the configured profile) when one is named.

    A payee on the fix-the-card list is left out until its card is fixed (an approved
    ``fix-account``, or a register that now lists another card) unless ``force``; a payment
    netting to 0 or less, one without an account, and one the chosen bank's file cannot carry
    stay for later. All are reported in ``kept``."""
    request = _request(entity_code, user, programme, period, force, today, config, bank_profile, profiles_directory)
    entity = entity_by_code(session, entity_code)
    lock_payouts(session)
    released = release_by_register(session, entity.id, request.user, request.today, card_lookup)
    netted = _netted(session, entity.id, request)
    kept = tuple(netted.kept)
    profile_name = request.profile.name if request.profile is not None else None
    warnings = () if profile_name else (tr(NO_PROFILE_WARNING),)
    if len(netted.instructions) == 0:
        message = tr("nothing new to pay for {entity}", entity=entity_code) + (
            tr(" ({count} payment(s) kept for later)", count=len(kept)) if kept else ""
        )
        return PrepareOutcome(None, 0, 0, 0, 0, kept, released, message, profile_name, warnings)
    batch_id, reference, approvals_required = _insert_batch(session, entity.id, request, netted)
    _claim(session, _insert_instructions(session, batch_id, entity.id, request, netted), netted.links)
    freeze_batch(session, batch_id, request.user)
    count, total_fen = len(netted.instructions), int(netted.instructions["amount_fen"].sum())
    approvals = tr("one approver") if approvals_required == 1 else tr("two approvers (total above the threshold)")
    bank = tr(" for the {profile} bank file", profile=profile_label(profile_name)) if profile_name else ""
    message = tr(
        "batch {batch}{bank}: {count:,} payment(s) totalling {total} yuan from {payables:,} payable(s) of {entity}; "
        "needs {approvals} other than {user}",
        batch=reference,
        bank=bank,
        count=count,
        total=format_yuan(total_fen),
        payables=len(netted.links),
        entity=entity_code,
        approvals=approvals,
        user=request.user,
    )
    return PrepareOutcome(
        reference,
        total_fen,
        count,
        len(netted.links),
        approvals_required,
        kept,
        released,
        message,
        profile_name,
        warnings,
    )
