"""Card fixes (改卡): a payee's account changed for payouts, by a maker and a checker.

``fix-account`` (the maker, at the counter) proposes a fix: the new number passes the
register import's identifier checks (digits only, 8 to 30 of them; a Luhn failure or a number
that is not 16-19 digits is a warning, recorded with the fix and shown to the checker), a new
number names its bank, and a number the register lists for another household is refused
unless the maker states the card is shared (``--shared-with H``, recorded). ``approve-fix``
(the checker, another user) makes it take effect: the payee's entries on the fix-the-card list
are released, and the next batch pays into the fixed account with its name and bank (a
name-only fix, same number, reaches the re-issued payment). ``reject-fix`` ends a proposal.
Every fix keeps the old and the new number, name and bank, who made it and who checked it.

Prepare also makes fixes itself, when the register in force lists a new card for a payee on
the fix-the-card list (``release_by_register``); the register import is that change's control.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from disburse.foundation.actors import require_user
from disburse.foundation.errors import DisburseError
from disburse.foundation.frames import query_objects
from disburse.foundation.i18n import join_clauses, join_list, tr
from disburse.foundation.identifiers import card_number_problem
from disburse.foundation.masking import mask_identifier, mask_payee
from disburse.ledger.tables import EntityRow
from disburse.payouts.bank_files import ACCOUNT_DIGITS_MAX, ACCOUNT_DIGITS_MIN
from disburse.payouts.cards import CardHolders, CardLookup, register_card_holders
from disburse.payouts.common import IDS_PER_QUERY, lock_payouts, next_numbers
from disburse.payouts.model import FixOutcome, fix_reference
from disburse.payouts.netting import apply_account_fixes
from disburse.payouts.tables import (
    ACCOUNT_NAME_LENGTH_MAX,
    AccountFixRow,
    CardFixRow,
    PayableRow,
    PaymentInstructionRow,
    ReturnLineRow,
    utc_now,
)

_ASCII_DIGITS = re.compile(r"^[0-9]+$")
REASON_TEXT_LENGTH_MAX = 500
BANK_NAME_LENGTH_MAX = 100
HOUSEHOLD_ID_LENGTH_MAX = 32
FIX_LOG_ROWS_MAX = 10_000
FIX_COLUMNS = ("payee_type", "payee_id", "old_account_no", "new_account_no", "new_account_name", "new_bank_name")


@dataclass(frozen=True, slots=True)
class Account:
    """Where a payment goes: number, 户名 and bank (None where not known)."""

    number: str | None
    name: str | None
    bank: str | None


def masked(number: str | None) -> str:
    return mask_identifier(number) or tr("(none)")


# ------------------------------------------------------------------------------------ checks
def checked_account_number(value: str) -> tuple[str, tuple[str, ...]]:
    """The account number stripped, and the warnings the register import gives for it; refused
    when it is not 8 to 30 ASCII digits (what a bank file can carry)."""
    number = (value or "").strip()
    if not _ASCII_DIGITS.match(number):
        raise DisburseError(
            tr(
                "account {account} has characters other than the digits 0-9; a bank account number has 8 to 30 digits",
                account=masked(number),
            )
        )
    if not ACCOUNT_DIGITS_MIN <= len(number) <= ACCOUNT_DIGITS_MAX:
        raise DisburseError(
            tr(
                "account {account} has {digits} digits; a bank account number has 8 to 30 digits",
                account=masked(number),
                digits=len(number),
            )
        )
    problem = card_number_problem(number)
    # Kept with the fix and shown to its checker: written in the maker's language.
    return number, ((tr("account {account}: {problem}", account=masked(number), problem=problem),) if problem else ())


def _checked_text(value: str | None, what: str, length_max: int) -> str | None:
    if value is None:
        return None
    stripped = value.strip()
    if not stripped:
        raise DisburseError(tr("{option} is blank; leave the option out to keep the one on record", option=what))
    if len(stripped) > length_max:
        raise DisburseError(
            tr(
                "{option} has {length} characters; at most {length_max}",
                option=what,
                length=len(stripped),
                length_max=length_max,
            )
        )
    return stripped


def _other_households(
    session: Session, number: str, payee_id: str, own_household: str | None, on: dt.date, holders: CardHolders
) -> set[str]:
    """Households other than the payee's that hold ``number``: in the register in force, or by
    an approved fix of another payee."""
    found = set(holders(session, number, on))
    found.update(
        session.scalars(
            select(AccountFixRow.household_id).where(
                AccountFixRow.new_account_no == number,
                AccountFixRow.status == "approved",
                AccountFixRow.payee_id != payee_id,
            )
        )
    )
    return {household for household in found if household and household != own_household}


def check_not_anothers_card(
    session: Session,
    number: str,
    payee_id: str,
    own_household: str | None,
    shared_with: str | None,
    on: dt.date,
    holders: CardHolders,
) -> None:
    """Refuse pointing a payee at another household's card, unless the maker stated the card is
    shared with exactly that household; refuse a stated sharing nothing on record shows."""
    others = _other_households(session, number, payee_id, own_household, on, holders)
    if others and shared_with is None:
        raise DisburseError(
            tr(
                "account {account} is registered to household(s) {households}, not to {payee}; a fix that points a "
                "household at another household's card is refused: check the card at the counter, and if the two "
                "households really share it, give --shared-with HOUSEHOLD",
                account=masked(number),
                households=join_list(sorted(others)),
                payee=own_household or mask_payee(payee_id),
            )
        )
    if others - {shared_with}:
        raise DisburseError(
            tr(
                "account {account} is registered to household(s) {households} besides {shared}; --shared-with names "
                "one household, so the fix is refused",
                account=masked(number),
                households=join_list(sorted(others - {shared_with})),
                shared=shared_with,
            )
        )
    if shared_with is not None and not others:
        raise DisburseError(
            tr(
                "--shared-with {shared}: neither the register in force on {day} nor an approved fix lists account "
                "{account} for {shared}; leave --shared-with out",
                shared=shared_with,
                day=on.isoformat(),
                account=masked(number),
            )
        )


# ------------------------------------------------------------------------------------ reading
def approved_fixes(session: Session, payee_ids: list[str] | None = None) -> pd.DataFrame:
    """The approved fixes (of these payees, or all) in the order they took effect: by the
    time they were approved (a register fix: when it was made), then by id. The fix log holds
    one row per repaired card: a few payees are looked up by the payee index, many by reading
    the log once."""
    table = AccountFixRow.__table__
    effective_at = func.coalesce(table.c.checked_at, table.c.fixed_at)
    approved = (
        select(table.c.id, *(table.c[name] for name in FIX_COLUMNS))
        .where(table.c.status == "approved")
        .order_by(effective_at, table.c.id)
    )
    if payee_ids is not None and len(payee_ids) <= IDS_PER_QUERY:
        return query_objects(
            session, approved.where(table.c.payee_id.in_(bindparam("ids", expanding=True))), {"ids": list(payee_ids)}
        )
    frame = query_objects(session, approved)
    return frame if payee_ids is None else frame[frame["payee_id"].isin(set(payee_ids))].reset_index(drop=True)


def _newest_payable(session: Session, payee: str):  # type: ignore[no-untyped-def]
    known = session.execute(
        select(
            PayableRow.payee_type,
            PayableRow.household_id,
            PayableRow.account_no,
            PayableRow.account_name,
            PayableRow.bank_name,
        )
        .where(PayableRow.payee_id == payee)
        .order_by(PayableRow.id.desc())
        .limit(1)
    ).first()
    if known is None:
        raise DisburseError(
            tr(
                "{payee} has no payables: give the household id or the resident ID a payment was for",
                payee=mask_payee(payee),
            )
        )
    return known


def _open_entries(session: Session, payee: str) -> list:
    """The payee's open entries on the fix-the-card list, oldest first, with the failed account."""
    return list(
        session.execute(
            select(CardFixRow.id, CardFixRow.account_no, CardFixRow.account_name, PaymentInstructionRow.bank_name)
            .join(PaymentInstructionRow, PaymentInstructionRow.id == CardFixRow.instruction_id)
            .where(CardFixRow.payee_id == payee, CardFixRow.status == "open")
            .order_by(CardFixRow.id)
        ).all()
    )


def account_now(session: Session, payee: str, known, open_entries: list) -> Account:  # type: ignore[no-untyped-def]
    """The account a payment to ``payee`` goes to now: the one that failed, when a payment
    failed; else the newest payable's, as the approved fixes redirect it."""
    if open_entries:
        failed = open_entries[-1]
        return Account(failed.account_no, failed.account_name, failed.bank_name)
    payable = pd.DataFrame(
        [[known.payee_type, payee, known.account_no, known.account_name, known.bank_name]],
        columns=["payee_type", "payee_id", "account_no", "account_name", "bank_name"],
        dtype=object,
    )
    redirected = apply_account_fixes(payable, approved_fixes(session, [payee])).iloc[0]
    return Account(
        *(None if pd.isna(value) else str(value) for value in redirected[["account_no", "account_name", "bank_name"]])
    )


def fix_by_reference(session: Session, reference: str) -> AccountFixRow:
    fix = session.scalar(select(AccountFixRow).where(AccountFixRow.fix_reference == reference.strip()))
    if fix is None:
        raise DisburseError(
            tr("fix {reference!r} does not exist; `disburse payout fixes` lists the card fixes", reference=reference)
        )
    return fix


def _described(old: Account, new: Account) -> str:
    """``old → new`` of the number (masked), the name and the bank, naming only what changed."""
    parts = [
        tr("account {old} → {new}", old=masked(old.number), new=masked(new.number))
        if old.number != new.number
        else tr("account {account}", account=masked(new.number))
    ]
    if new.name is not None and new.name != old.name:
        parts.append(tr("户名 {old} → {new}", old=old.name or tr("(none)"), new=new.name))
    if new.bank is not None and new.bank != old.bank:
        parts.append(tr("开户行 {old} → {new}", old=old.bank or tr("(none)"), new=new.bank))
    return tr(", ").join(parts)


# ------------------------------------------------------------------------------------ maker
@dataclass(frozen=True, slots=True)
class _Proposal:
    """A fix as the maker gave it, checked."""

    payee: str
    new: Account
    reason: str
    shared_with: str | None
    warnings: tuple[str, ...]


def _checked_proposal(
    payee: str,
    account_no: str,
    account_name: str | None,
    bank_name: str | None,
    reason: str,
    shared_with: str | None,
) -> _Proposal:
    number, warnings = checked_account_number(account_no)
    # Stored as the fix's reason and shown as it is: written in the maker's language.
    reason = (reason or "").strip() or tr("card fixed at the counter")
    if len(reason) > REASON_TEXT_LENGTH_MAX:
        raise DisburseError(
            tr(
                "the reason is {length} characters; at most {length_max}",
                length=len(reason),
                length_max=REASON_TEXT_LENGTH_MAX,
            )
        )
    return _Proposal(
        payee.strip(),
        Account(
            number,
            _checked_text(account_name, "--name", ACCOUNT_NAME_LENGTH_MAX),
            _checked_text(bank_name, "--bank-name", BANK_NAME_LENGTH_MAX),
        ),
        reason,
        _checked_text(shared_with, "--shared-with", HOUSEHOLD_ID_LENGTH_MAX),
        warnings,
    )


def _pending_fix(session: Session, payee: str) -> AccountFixRow | None:
    return session.scalar(
        select(AccountFixRow).where(AccountFixRow.payee_id == payee, AccountFixRow.status == "proposed").limit(1)
    )


def _unchanged_outcome(session: Session, proposal: _Proposal, old: Account, open_entries: list) -> FixOutcome | None:
    """The outcome when the same fix is already pending or already in force; None otherwise."""
    pending = _pending_fix(session, proposal.payee)
    new = proposal.new
    if pending is not None:
        same = (pending.new_account_no, pending.new_account_name, pending.new_bank_name, pending.shared_with_household)
        if same == (new.number, new.name, new.bank, proposal.shared_with):
            return FixOutcome(
                proposal.payee,
                False,
                0,
                tr(
                    "{fix} already proposes this fix for {payee}, waiting for a checker (payout approve-fix); "
                    "nothing changed",
                    fix=pending.fix_reference,
                    payee=mask_payee(proposal.payee),
                ),
                pending.fix_reference,
                "proposed",
            )
        raise DisburseError(
            tr(
                "{fix} for {payee} is waiting for a checker; approve or reject it (payout approve-fix / reject-fix) "
                "before proposing another fix",
                fix=pending.fix_reference,
                payee=mask_payee(proposal.payee),
            )
        )
    in_force = new.number == old.number and new.name in (None, old.name) and new.bank in (None, old.bank)
    if in_force and not open_entries:
        return FixOutcome(
            proposal.payee,
            False,
            0,
            tr(
                "{payee} already has account {account}; nothing changed",
                payee=mask_payee(proposal.payee),
                account=masked(new.number),
            ),
        )
    return None


def _insert_proposal(session: Session, proposal: _Proposal, known, old: Account, user: str, today: dt.date) -> str:  # type: ignore[no-untyped-def]
    """The proposed fix with its old and new values; returns its reference."""
    month = today.strftime("%Y%m")
    reference = fix_reference(month, next_numbers(session, "fix", month, 1))
    session.execute(
        insert(AccountFixRow).values(
            fix_reference=reference,
            payee_type=known.payee_type,
            payee_id=proposal.payee,
            household_id=known.household_id,
            old_account_no=old.number,
            old_account_name=old.name,
            old_bank_name=old.bank,
            new_account_no=proposal.new.number,
            new_account_name=proposal.new.name,
            new_bank_name=proposal.new.bank,
            source="clerk",
            status="proposed",
            reason=proposal.reason,
            warnings=join_clauses(proposal.warnings)[:REASON_TEXT_LENGTH_MAX] or None,
            shared_with_household=proposal.shared_with,
            fixed_by=user,
            fixed_at=utc_now(),
        )
    )
    return reference


def fix_account(
    session: Session,
    payee: str,
    account_no: str,
    user: str,
    *,
    account_name: str | None = None,
    bank_name: str | None = None,
    reason: str = "",
    shared_with: str | None = None,
    today: dt.date | None = None,
    card_holders: CardHolders = register_card_holders,
) -> FixOutcome:
    """Propose a new account (or a corrected 户名 or bank on the same number) for a payee (a
    household id, or a person's resident ID), made by ``user``. It takes effect only when
    another user approves it (``approve_fix``). The same proposal given again changes nothing."""
    user = require_user(user)
    today = today or dt.date.today()
    proposal = _checked_proposal(payee, account_no, account_name, bank_name, reason, shared_with)
    lock_payouts(session)
    known = _newest_payable(session, proposal.payee)
    open_entries = _open_entries(session, proposal.payee)
    old = account_now(session, proposal.payee, known, open_entries)
    unchanged = _unchanged_outcome(session, proposal, old, open_entries)
    if unchanged is not None:
        return unchanged
    if proposal.new.number != old.number and proposal.new.bank is None:
        raise DisburseError(
            tr(
                "a fix to a new account needs the account's bank (--bank-name): bank files such as CCB's name it "
                "(行名) and tell same-bank from interbank payments (跨行标识); {payee} was not changed",
                payee=mask_payee(proposal.payee),
            )
        )
    check_not_anothers_card(
        session,
        proposal.new.number or "",
        proposal.payee,
        known.household_id,
        proposal.shared_with,
        today,
        card_holders,
    )
    reference = _insert_proposal(session, proposal, known, old, user, today)
    shared = (
        tr("; shared with household {household}, as stated", household=proposal.shared_with)
        if proposal.shared_with
        else ""
    )
    return FixOutcome(
        proposal.payee,
        True,
        0,
        tr(
            "{fix}: {payee} {change}{shared}, proposed by {user}; it takes effect when someone other than {user} "
            "approves it (payout approve-fix {fix})",
            fix=reference,
            payee=mask_payee(proposal.payee),
            change=_described(old, proposal.new),
            shared=shared,
            user=user,
        ),
        reference,
        "proposed",
        proposal.warnings,
    )


# ------------------------------------------------------------------------------------ checker
def _release_entries(session: Session, payee: str, fix_id: int, user: str, now: dt.datetime) -> int:
    """End the payee's open entries on the fix-the-card list: its failed payments can be paid
    again into the fixed account."""
    return session.execute(
        update(CardFixRow)
        .where(CardFixRow.payee_id == payee, CardFixRow.status == "open")
        .values(status="fixed", account_fix_id=fix_id, resolved_by=user, resolved_at=now)
    ).rowcount


def approve_fix(
    session: Session,
    reference: str,
    user: str,
    *,
    today: dt.date | None = None,
    card_holders: CardHolders = register_card_holders,
) -> FixOutcome:
    """Approve a proposed fix, by someone other than its maker: it takes effect (the payee's
    failed payments are released and paid into the fixed account by the next batch). The card
    is checked again against the register in force today."""
    user = require_user(user)
    today = today or dt.date.today()
    lock_payouts(session)
    fix = fix_by_reference(session, reference)
    if fix.status == "approved":
        return FixOutcome(
            fix.payee_id,
            False,
            0,
            tr("{fix} is already approved by {user}; nothing changed", fix=fix.fix_reference, user=fix.checked_by),
            fix.fix_reference,
            "approved",
        )
    if fix.status == "rejected":
        raise DisburseError(
            tr("{fix} was rejected by {user}; it cannot be approved", fix=fix.fix_reference, user=fix.checked_by)
        )
    if user == fix.fixed_by:
        raise DisburseError(
            tr(
                "{user} made {fix} and cannot approve it: a card fix is approved by someone other than its maker "
                "(separation of duties)",
                user=user,
                fix=fix.fix_reference,
            )
        )
    check_not_anothers_card(
        session, fix.new_account_no, fix.payee_id, fix.household_id, fix.shared_with_household, today, card_holders
    )
    now = utc_now()
    fix.status, fix.checked_by, fix.checked_at = "approved", user, now
    session.flush()
    released = _release_entries(session, fix.payee_id, fix.id, user, now)
    warnings = tuple(part for part in (fix.warnings or "").split("; ") if part)
    old = Account(fix.old_account_no, fix.old_account_name, fix.old_bank_name)
    new = Account(fix.new_account_no, fix.new_account_name, fix.new_bank_name)
    return FixOutcome(
        fix.payee_id,
        True,
        released,
        tr(
            "{fix} approved by {user} (made by {maker}): {payee} {change}; {count} failed payment(s) can be paid "
            "again in the next batch",
            fix=fix.fix_reference,
            user=user,
            maker=fix.fixed_by,
            payee=mask_payee(fix.payee_id),
            change=_described(old, new),
            count=released,
        ),
        fix.fix_reference,
        "approved",
        warnings,
    )


def reject_fix(session: Session, reference: str, user: str, reason: str) -> FixOutcome:
    """End a proposed fix without effect, with the reason (its maker may withdraw it so)."""
    user = require_user(user)
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_TEXT_LENGTH_MAX:
        raise DisburseError(
            tr(
                "rejecting a fix needs a reason (--reason) of 1 to {length_max} characters",
                length_max=REASON_TEXT_LENGTH_MAX,
            )
        )
    lock_payouts(session)
    fix = fix_by_reference(session, reference)
    if fix.status == "rejected":
        return FixOutcome(
            fix.payee_id,
            False,
            0,
            tr("{fix} is already rejected; nothing changed", fix=fix.fix_reference),
            fix.fix_reference,
            "rejected",
        )
    if fix.status == "approved":
        raise DisburseError(
            tr(
                "{fix} was approved by {user} and is in force; a new fix (payout fix-account) replaces it",
                fix=fix.fix_reference,
                user=fix.checked_by,
            )
        )
    fix.status, fix.checked_by, fix.checked_at, fix.check_note = "rejected", user, utc_now(), reason
    return FixOutcome(
        fix.payee_id,
        True,
        0,
        tr(
            "{fix} rejected by {user}: {reason}; {payee}'s account is unchanged",
            fix=fix.fix_reference,
            user=user,
            reason=reason,
            payee=mask_payee(fix.payee_id),
        ),
        fix.fix_reference,
        "rejected",
    )


# ------------------------------------------------------------------------------------ lists
def fix_log(session: Session, payee: str | None = None, status: str | None = None) -> pd.DataFrame:
    """The card fixes, newest first (at most FIX_LOG_ROWS_MAX): reference, payee, old and new
    number, name and bank, source, status, maker, checker, reason, warnings, shared card."""
    table = AccountFixRow.__table__
    statement = select(
        table.c.fix_reference,
        table.c.payee_id,
        table.c.household_id,
        table.c.old_account_no,
        table.c.new_account_no,
        table.c.old_account_name,
        table.c.new_account_name,
        table.c.old_bank_name,
        table.c.new_bank_name,
        table.c.source,
        table.c.status,
        table.c.fixed_by,
        table.c.fixed_at,
        table.c.checked_by,
        table.c.checked_at,
        table.c.reason,
        table.c.check_note,
        table.c.warnings,
        table.c.shared_with_household,
    ).order_by(table.c.id.desc())
    if payee is not None:
        statement = statement.where(table.c.payee_id == payee.strip())
    if status is not None:
        statement = statement.where(table.c.status == status)
    return query_objects(session, statement.limit(FIX_LOG_ROWS_MAX))


def fix_list(session: Session, entity_code: str | None = None) -> pd.DataFrame:
    """The fix-the-card list: open entries (payee, failed account, reason, date, reference,
    and the fix waiting for a checker, if one was proposed)."""
    pending = (
        select(func.min(AccountFixRow.fix_reference))
        .where(AccountFixRow.payee_id == CardFixRow.payee_id, AccountFixRow.status == "proposed")
        .scalar_subquery()
    )
    # The failure's reason code, on the return line that failed the payment (None before 0113).
    reason_code = (
        select(func.min(ReturnLineRow.reason_code))
        .where(ReturnLineRow.instruction_id == CardFixRow.instruction_id, ReturnLineRow.outcome == "failure")
        .scalar_subquery()
    )
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
            PaymentInstructionRow.send_number,
            pending.label("pending_fix"),
            reason_code.label("reason_code"),
        )
        .join(EntityRow, EntityRow.id == CardFixRow.entity_id)
        .join(PaymentInstructionRow, PaymentInstructionRow.id == CardFixRow.instruction_id)
        .where(CardFixRow.status == "open")
        .order_by(CardFixRow.failed_on, CardFixRow.id)
    )
    if entity_code is not None:
        statement = statement.where(EntityRow.code == entity_code)
    return query_objects(session, statement)


# ------------------------------------------------------------------------------------ register
def _open_entries_of(session: Session, entity_id: int) -> pd.DataFrame:
    return query_objects(
        session,
        select(
            CardFixRow.id,
            CardFixRow.payee_type,
            CardFixRow.payee_id,
            CardFixRow.household_id,
            CardFixRow.account_no,
            CardFixRow.account_name.label("failed_name"),
            PaymentInstructionRow.bank_name.label("failed_bank"),
        )
        .join(PaymentInstructionRow, PaymentInstructionRow.id == CardFixRow.instruction_id)
        .where(CardFixRow.entity_id == entity_id, CardFixRow.status == "open")
        .order_by(CardFixRow.id),
    )


def _present(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def release_by_register(session: Session, entity_id: int, user: str, on: dt.date, card_lookup: CardLookup) -> int:
    """Resolve open fix-list entries whose payee has a different card in the register in force
    on ``on``; each resolution is an approved fix from the register, with the old and new
    values. Returns how many payees were released."""
    open_fixes = _open_entries_of(session, entity_id)
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
    groups = list(changed.groupby(["payee_type", "payee_id"], sort=True))
    if not groups:
        return 0
    month = on.strftime("%Y%m")
    first_number = next_numbers(session, "fix", month, len(groups))
    now = utc_now()
    for offset, ((payee_type, payee_id), group) in enumerate(groups):
        newest = group.iloc[-1]
        fix_id = session.execute(
            insert(AccountFixRow)
            .values(
                fix_reference=fix_reference(month, first_number + offset),
                payee_type=payee_type,
                payee_id=payee_id,
                household_id=newest["household_id"],
                old_account_no=newest["account_no"],
                old_account_name=_present(newest["failed_name"]),
                old_bank_name=_present(newest["failed_bank"]),
                new_account_no=newest["account_no_register"],
                new_account_name=_present(newest["account_name"]),
                new_bank_name=_present(newest["bank_name"]),
                source="register",
                status="approved",
                # Stored as the fix's reason and shown as it is: written in the language of the prepare.
                reason=tr("the register in force on {day} lists a new card", day=on.isoformat()),
                fixed_by=user,
                fixed_at=now,
                checked_at=now,
            )
            .returning(AccountFixRow.id)
        ).scalar_one()
        session.execute(
            update(CardFixRow)
            .where(CardFixRow.id.in_(group["id"].astype(int).tolist()))
            .values(status="fixed", account_fix_id=fix_id, resolved_by=user, resolved_at=now)
        )
    return len(groups)
