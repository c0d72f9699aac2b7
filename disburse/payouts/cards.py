"""Where a payee's card is today, according to the register: how prepare notices that a failed
card was replaced by a register update.

The lookup is pluggable (``CardLookup``): prepare takes any function of this shape, so payouts
can be tested, or run, without the registry. The default reads the registry's tables for the
few payees on the fix-the-card list only (never the whole register).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session, aliased

CARD_COLUMNS = ("payee_type", "payee_id", "account_no", "account_name", "bank_name")
IDS_PER_QUERY = 10_000

# (session, payees with payee_type and payee_id, the day) -> current cards (CARD_COLUMNS).
CardLookup = Callable[[Session, pd.DataFrame, dt.date], pd.DataFrame]


def no_cards(session: Session, payees: pd.DataFrame, on: dt.date) -> pd.DataFrame:
    """A lookup that knows no cards: only ``fix-account`` or ``--force`` release a payee."""
    return pd.DataFrame({name: pd.Series([], dtype=object) for name in CARD_COLUMNS})


def register_cards(session: Session, payees: pd.DataFrame, on: dt.date) -> pd.DataFrame:
    """The card each payee has in the register in force on ``on``: a household's account from
    its version in force, a person's own account from theirs. Payees the register does not
    list, or lists without a card, are left out."""
    try:
        from disburse.registry.queries import snapshot_in_force
        from disburse.registry.tables import HouseholdVersionRow, PersonVersionRow, RegisterImportRow
    except ImportError:  # a deployment without the registry: nothing is known
        return no_cards(session, payees, on)
    snapshot = snapshot_in_force(session, on)
    if snapshot is None or len(payees) == 0:
        return no_cards(session, payees, on)
    valid_from = aliased(RegisterImportRow)
    valid_to = aliased(RegisterImportRow)
    parts = []
    for payee_type, table, key, account, name in (
        ("household", HouseholdVersionRow.__table__, "household_id", "account_no", "head_name"),
        ("person", PersonVersionRow.__table__, "id_number", "person_account_no", "name"),
    ):
        wanted = sorted(set(payees.loc[payees["payee_type"] == payee_type, "payee_id"].tolist()))
        bank = table.c.bank_name if "bank_name" in table.c else None
        for start in range(0, len(wanted), IDS_PER_QUERY):
            statement = (
                select(
                    table.c[key].label("payee_id"),
                    table.c[account].label("account_no"),
                    table.c[name].label("account_name"),
                    (bank if bank is not None else table.c[key]).label("bank_name"),
                    valid_from.as_of,
                    table.c.id,
                )
                .join(valid_from, valid_from.id == table.c.valid_from_import)
                .outerjoin(valid_to, valid_to.id == table.c.valid_to_import)
                .where(
                    table.c[key].in_(bindparam("ids", expanding=True)),
                    valid_from.as_of <= snapshot.as_of,
                    or_(table.c.valid_to_import.is_(None), valid_to.as_of > snapshot.as_of),
                )
            )
            rows = session.execute(statement, {"ids": wanted[start : start + IDS_PER_QUERY]}).all()
            frame = pd.DataFrame(rows, columns=["payee_id", "account_no", "account_name", "bank_name", "as_of", "id"])
            if bank is None:
                frame["bank_name"] = None
            # Two versions in force after a backfill: the later snapshot's wins (as the registry reads it).
            frame = frame.sort_values(["as_of", "id"], kind="stable").drop_duplicates("payee_id", keep="last")
            parts.append(frame.assign(payee_type=payee_type))
    if not parts:
        return no_cards(session, payees, on)
    cards = pd.concat(parts, ignore_index=True)
    cards = cards[cards["account_no"].notna()]
    return cards[list(CARD_COLUMNS)].astype(object).reset_index(drop=True)


# (session, account number, the day) -> the households the register in force lists it for.
CardHolders = Callable[[Session, str, dt.date], set[str]]


def no_holders(session: Session, account_no: str, on: dt.date) -> set[str]:
    """A lookup that knows no register: only fixes of other payees show a card is taken."""
    return set()


def register_card_holders(session: Session, account_no: str, on: dt.date) -> set[str]:
    """The households whose version in force on ``on`` lists ``account_no``: as the household's
    card (户主's 银行账号) or as a member's own card (个人银行账号)."""
    try:
        from disburse.registry.queries import snapshot_in_force
        from disburse.registry.tables import HouseholdVersionRow, PersonVersionRow, RegisterImportRow
    except ImportError:  # a deployment without the registry: nothing is known
        return set()
    snapshot = snapshot_in_force(session, on)
    if snapshot is None:
        return set()
    valid_from = aliased(RegisterImportRow)
    valid_to = aliased(RegisterImportRow)
    holders: set[str] = set()
    for table, account in (
        (HouseholdVersionRow.__table__, "account_no"),
        (PersonVersionRow.__table__, "person_account_no"),
    ):
        statement = (
            select(table.c.household_id)
            .join(valid_from, valid_from.id == table.c.valid_from_import)
            .outerjoin(valid_to, valid_to.id == table.c.valid_to_import)
            .where(
                table.c[account] == account_no,
                valid_from.as_of <= snapshot.as_of,
                or_(table.c.valid_to_import.is_(None), valid_to.as_of > snapshot.as_of),
            )
        )
        holders.update(value for value in session.scalars(statement) if value)
    return holders
