"""Service functions of the ledger core: one per command, each working inside the caller's
transaction (the CLI opens it, calls one of these, and commits once)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from disburse.foundation.actors import require_user
from disburse.foundation.dates import next_period, period_of, period_problem
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import join_list, tr
from disburse.foundation.identifiers import credit_code_problem, village_code_problem
from disburse.ledger.chart import ACCOUNT_TYPE_NAMES_ZH, ACCOUNT_TYPES, BANK_DEPOSITS, Account
from disburse.ledger.model import (
    EntryBatch,
    EntryDraft,
    PostedEntry,
    PostingDraft,
    entries_check_balanced,
)
from disburse.ledger.posting import PostResult, last_closed_periods, post_entries, refuse
from disburse.ledger.reading import batch_of_posted, load_entries
from disburse.ledger.tables import (
    GENESIS_HASH,
    AccountRow,
    BankAccountRow,
    ChainHeadRow,
    EntityRow,
    JournalEntryRow,
    PeriodRow,
)

ENTITY_KINDS = ("county", "village", "cooperative")
ACCOUNT_CODE_LENGTH_MAX = 32


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a state-changing command did: whether it changed anything, a message, warnings."""

    changed: bool
    message: str
    warnings: tuple[str, ...] = ()


def entity_by_code(session: Session, code: str) -> EntityRow:
    entity = session.scalar(select(EntityRow).where(EntityRow.code == code))
    if entity is None:
        raise DisburseError(
            tr("entity {code!r} does not exist; `disburse entities list` shows the known ones", code=code)
        )
    return entity


ENTITY_NAME_LENGTH_MAX = 200


def add_entity(session: Session, code: str, name: str, kind: str, user: str) -> Outcome:
    """Create an entity (a set of books). Adding the same entity again changes nothing."""
    code = code.strip()
    if kind not in ENTITY_KINDS:
        raise DisburseError(tr("kind {kind!r} is not one of {kinds}", kind=kind, kinds=join_list(ENTITY_KINDS)))
    warnings: list[str] = []
    if kind == "village":
        problem = village_code_problem(code)
        if problem:
            raise DisburseError(tr("village code {code!r}: {problem}", code=code, problem=problem))
    elif kind == "cooperative":
        problem = credit_code_problem(code)
        if problem and len(code) != 18:
            raise DisburseError(tr("unified social credit code {code!r}: {problem}", code=code, problem=problem))
        if problem:
            # Some early codes were issued with a wrong check character: warn, don't reject.
            warnings.append(tr("unified social credit code {code}: {problem}", code=code, problem=problem))
    if not name.strip():
        raise DisburseError(tr("an entity needs a name (--name)"))
    existing = session.scalar(select(EntityRow).where(EntityRow.code == code))
    if existing is not None:
        if (existing.name, existing.kind) != (name, kind):
            raise DisburseError(
                tr("entity {code} already exists as {kind} {name!r}", code=code, kind=existing.kind, name=existing.name)
            )
        return Outcome(False, tr("entity {code} already exists; nothing changed", code=code), tuple(warnings))
    session.execute(insert(EntityRow).values(code=code, name=name, kind=kind, created_by=user))
    return Outcome(True, tr("entity {code} ({kind}) {name} added", code=code, kind=kind, name=name), tuple(warnings))


def rename_entity(session: Session, code: str, name: str, user: str) -> Outcome:
    """Give an entity its proper name (``init`` seeds the county special account with a
    placeholder one). The code, which the books and their hash chain use, never changes."""
    require_user(user)
    name = name.strip()
    if not name or len(name) > ENTITY_NAME_LENGTH_MAX:
        raise DisburseError(tr("an entity's name is 1 to {limit} characters", limit=ENTITY_NAME_LENGTH_MAX))
    entity = entity_by_code(session, code)
    if entity.name == name:
        return Outcome(False, tr("entity {code} is already named {name}; nothing changed", code=code, name=name))
    old, entity.name = entity.name, name
    return Outcome(
        True, tr("entity {code} renamed from {old} to {name} by {user}", code=code, old=old, name=name, user=user)
    )


def list_entities(session: Session) -> list[EntityRow]:
    return list(session.scalars(select(EntityRow).order_by(EntityRow.kind, EntityRow.code)))


def add_bank_account(
    session: Session,
    entity_code: str,
    bank_name: str,
    account_number: str,
    user: str,
    account_name: str | None = None,
    ledger_account_code: str | None = None,
) -> Outcome:
    """Register an entity's bank account with its own 102 sub-account (created when not given)."""
    entity = entity_by_code(session, entity_code)
    account_number = account_number.strip()
    if not account_number.isdigit() or not 6 <= len(account_number) <= 40:
        raise DisburseError(tr("bank account number {number!r} must be 6 to 40 digits", number=account_number))
    existing = session.scalar(select(BankAccountRow).where(BankAccountRow.account_number == account_number))
    if existing is not None:
        if existing.entity_id != entity.id:
            raise DisburseError(tr("bank account {number} already belongs to another entity", number=account_number))
        return Outcome(
            False,
            tr(
                "bank account {number} is already registered as {account}",
                number=account_number,
                account=existing.ledger_account_code,
            ),
        )
    if ledger_account_code is None:
        codes = session.scalars(select(AccountRow.code).where(AccountRow.parent_code == BANK_DEPOSITS)).all()
        # 102.90 and up are the engine's own sub-accounts (payments in transit).
        used = {int(code.split(".")[1]) for code in codes if code.split(".")[1].isdigit()}
        number = next(n for n in range(1, 90) if n not in used)
        ledger_account_code = f"{BANK_DEPOSITS}.{number:02d}"
        session.execute(
            insert(AccountRow).values(
                code=ledger_account_code,
                name=f"银行存款—{bank_name}{account_number[-4:]}",
                account_type="asset",
                parent_code=BANK_DEPOSITS,
                description=f"{entity.code} {bank_name} {account_number}",
            )
        )
    else:
        account = session.get(AccountRow, ledger_account_code)
        if account is None or not ledger_account_code.startswith(BANK_DEPOSITS + "."):
            raise DisburseError(
                tr("ledger account {code!r} must be an existing sub-account of 102 银行存款", code=ledger_account_code)
            )
    session.execute(
        insert(BankAccountRow).values(
            entity_id=entity.id,
            bank_name=bank_name,
            account_number=account_number,
            account_name=account_name,
            ledger_account_code=ledger_account_code,
            created_by=user,
        )
    )
    return Outcome(
        True,
        tr(
            "bank account {bank} {number} of {entity} added as {account}",
            bank=bank_name,
            number=account_number,
            entity=entity.code,
            account=ledger_account_code,
        ),
    )


def list_bank_accounts(session: Session) -> list[BankAccountRow]:
    return list(
        session.scalars(select(BankAccountRow).order_by(BankAccountRow.entity_id, BankAccountRow.ledger_account_code))
    )


def list_accounts(session: Session) -> list[AccountRow]:
    return list(session.scalars(select(AccountRow).order_by(AccountRow.code)))


def account_type_of(text: str) -> str | None:
    """科目类型 as users write it (资产, 负债 … or the English type)."""
    value = text.strip()
    if value.lower() in ACCOUNT_TYPES:
        return value.lower()
    return ACCOUNT_TYPE_NAMES_ZH.get(value)


def add_accounts(session: Session, accounts: list[Account]) -> Outcome:
    """Add chart lines; a line identical to an existing one is skipped, a conflicting one refused."""
    existing = {row.code: row for row in session.scalars(select(AccountRow))}
    problems: list[str] = []
    to_add: list[Account] = []
    for account in sorted(accounts, key=lambda a: (a.code.count("."), a.code)):
        row = existing.get(account.code)
        if row is not None:
            if (row.name, row.account_type) != (account.name, account.account_type):
                problems.append(
                    tr(
                        "account {code} exists as {name} ({type})",
                        code=account.code,
                        name=row.name,
                        type=row.account_type,
                    )
                )
            continue
        parent = account.parent_code
        known_parents = set(existing) | {a.code for a in to_add}
        if parent is not None and parent not in known_parents:
            problems.append(tr("account {code}: parent {parent} does not exist", code=account.code, parent=parent))
            continue
        if parent is not None:
            parent_type = (
                existing[parent].account_type
                if parent in existing
                else next(a.account_type for a in to_add if a.code == parent)
            )
            if parent_type != account.account_type:
                problems.append(
                    tr(
                        "account {code} is {type} but its parent {parent} is {parent_type}",
                        code=account.code,
                        type=account.account_type,
                        parent=parent,
                        parent_type=parent_type,
                    )
                )
                continue
        to_add.append(account)
    if problems:
        raise DisburseError(tr("the accounts file was refused; nothing was added:") + "\n  " + "\n  ".join(problems))
    if to_add:
        session.execute(
            insert(AccountRow),
            [
                {"code": a.code, "name": a.name, "account_type": a.account_type, "parent_code": a.parent_code}
                for a in to_add
            ],
        )
    return Outcome(
        bool(to_add),
        tr(
            "{added} account(s) added, {present} already present",
            added=len(to_add),
            present=len(accounts) - len(to_add),
        ),
    )


def journal_entries(session: Session, entity_code: str, period: str) -> list[PostedEntry]:
    problem = period_problem(period)
    if problem:
        raise DisburseError(problem)
    entity = entity_by_code(session, entity_code)
    return load_entries(
        session,
        [JournalEntryRow.entity_id == entity.id, JournalEntryRow.period == period],
        order_by=(JournalEntryRow.voucher_number,),
    )


def period_is_closed(session: Session, entity_id: int, period: str) -> bool:
    """True when nothing may be posted into ``period``: it is closed, or lies before the entity's
    last closed period."""
    last = session.scalar(
        select(func.max(PeriodRow.period)).where(PeriodRow.entity_id == entity_id, PeriodRow.status == "closed")
    )
    return last is not None and period <= last


def reverse_entry(session: Session, entry_id: int, user: str, on_date: dt.date | None = None) -> PostResult:
    """Post the reversing entry of ``entry_id``: the same postings with opposite signs, naming
    the entry it reverses. It goes into the original period while that is open, else into the
    period of ``on_date`` (default today). An entry can be reversed once."""
    found = load_entries(session, [JournalEntryRow.id == entry_id])
    if not found:
        raise DisburseError(tr("journal entry {entry} does not exist", entry=entry_id))
    original = found[0]
    already = session.scalar(select(JournalEntryRow.id).where(JournalEntryRow.reverses_entry_id == entry_id))
    if already is not None:
        raise DisburseError(
            tr(
                "entry {entry} ({period} {voucher}) was already reversed by entry {reversal}; "
                "an entry can be reversed once",
                entry=entry_id,
                period=original.period,
                voucher=original.voucher,
                reversal=already,
            )
        )
    today = on_date or dt.date.today()
    last_closed = last_closed_periods(session, [original.entity_code]).get(original.entity_code)
    if last_closed is None or original.period > last_closed:
        entry_date = today if period_of(today) == original.period else original.entry_date
    else:
        entry_date = today
    period = period_of(entry_date)
    memo = f"冲销 {original.period} {original.voucher}: {original.memo}"[:500]
    draft = EntryDraft(
        entity_code=original.entity_code,
        period=period,
        entry_date=entry_date,
        memo=memo,
        postings=tuple(
            PostingDraft(p.account_code, -p.amount_fen, p.household_id, p.fund_source, p.payment_reference)
            for p in original.postings
        ),
        source_kind="reversal",
        source_reference=f"entry {entry_id}",
        reverses_entry_id=entry_id,
        label=f"reversal of {original.voucher}",
    )
    return post_entries(session, EntryBatch.from_drafts([draft]), idempotency_key=f"reverse:{entry_id}", user=user)


def _require_close_in_order(session: Session, entity: EntityRow, period: str) -> None:
    """Periods close one after another, as 结账 does in every Chinese ledger: after the last
    closed period comes the next one; the first close is the first period with entries (or any
    period before it). Closing out of order would leave an open period behind a closed one,
    whose postings would change the closed period's balances carried forward."""
    last = last_closed_periods(session, [entity.code]).get(entity.code)
    if last is not None:
        if period < last:
            raise DisburseError(
                tr(
                    "{entity} {period} comes before {last}, which is already closed; closed periods never change",
                    entity=entity.code,
                    period=period,
                    last=last,
                )
            )
        if period != next_period(last):
            raise DisburseError(
                tr(
                    "{entity}: close {next} first; periods close in order and the last closed period is {last}",
                    entity=entity.code,
                    next=next_period(last),
                    last=last,
                )
            )
        return
    first = session.scalar(select(func.min(JournalEntryRow.period)).where(JournalEntryRow.entity_id == entity.id))
    if first is not None and first < period:
        raise DisburseError(
            tr(
                "{entity}: close {first} first; it is the first period with entries, and periods close in order",
                entity=entity.code,
                first=first,
            )
        )


def close_period(session: Session, entity_code: str, period: str, user: str) -> Outcome:
    """Close a period: every entry in it must balance; the chain head at this point is recorded."""
    problem = period_problem(period)
    if problem:
        raise DisburseError(problem)
    entity = entity_by_code(session, entity_code)
    row = session.get(PeriodRow, (entity.id, period))
    if row is not None and row.status == "closed":
        return Outcome(
            False,
            tr(
                "{entity} {period} is already closed (head {head})",
                entity=entity_code,
                period=period,
                head=row.head_hash,
            ),
        )
    _require_close_in_order(session, entity, period)
    entries = load_entries(session, [JournalEntryRow.entity_id == entity.id, JournalEntryRow.period == period])
    _, errors = entries_check_balanced(batch_of_posted(entries))
    if errors:
        raise refuse(errors)
    head = session.execute(
        select(ChainHeadRow.last_sequence, ChainHeadRow.head_hash).where(ChainHeadRow.entity_id == entity.id)
    ).first()
    sequence, head_hash = (head.last_sequence, head.head_hash) if head else (0, GENESIS_HASH)
    values = dict(
        status="closed",
        closed_by=user,
        closed_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
        head_sequence=sequence,
        head_hash=head_hash,
    )
    if row is None:
        session.execute(insert(PeriodRow).values(entity_id=entity.id, period=period, **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)
    return Outcome(
        True,
        tr(
            "{entity} {period} closed with {count} entries; chain head {head}",
            entity=entity_code,
            period=period,
            count=len(entries),
            head=head_hash,
        ),
    )
