"""Properties of the eligibility recheck (issue 14 item 4).

* The vectorised merge (``registry.recheck._matched`` and ``_kinds``) finds, for any register and
  any recipients, exactly the change a plain per-recipient reading of the rules gives: left the
  register, else died, else card closed, else card changed (neither the run's card nor the one a
  fix pays into).
* The hold entries balance, entry by entry and household by household, and credit 211.90 with
  exactly what they take off the payable accounts.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from disburse.ledger.chart import SUSPENSE
from disburse.payouts.recheck import hold_entries
from disburse.registry.recheck import _kinds, _matched, _recipient_frame

CARDS = ["6217000000000000011", "6217000000000000029", "6217000000000000037", None]
DIED = dt.date(2026, 11, 5)

household_rows = st.lists(
    st.tuples(st.integers(0, 7), st.sampled_from(CARDS), st.booleans()),
    min_size=0,
    max_size=8,
    unique_by=lambda r: r[0],
)
recipient_rows = st.lists(
    st.tuples(
        st.integers(0, 9),  # household number (8, 9 are never listed)
        st.sampled_from(["household", "person", "account"]),
        st.sampled_from(CARDS),  # the run's card
        st.sampled_from(CARDS),  # the card paid into (a fix may differ)
        st.sampled_from(CARDS),  # a person's own card
    ),
    min_size=0,
    max_size=20,
)


def _frames(households: list, recipients: list) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    register = pd.DataFrame(
        {
            "household_id": [f"H{number}" for number, _, _ in households],
            "head_id_number": [f"P{number}" for number, _, _ in households],
            "head_name": [f"户主{number}" for number, _, _ in households],
            "account_no": pd.Series([card for _, card, _ in households], dtype=object),
        }
    )
    people = pd.DataFrame(
        {
            "id_number": [f"P{number}" for number, _, _ in households] + [f"Q{number}" for number, _, _ in households],
            "name": [f"户主{number}" for number, _, _ in households] + [f"成员{number}" for number, _, _ in households],
            "died_on": pd.Series(
                [DIED if dead else None for _, _, dead in households] + [None] * len(households), dtype=object
            ),
            "person_account_no": pd.Series([None] * len(households) + [CARDS[2]] * len(households), dtype=object),
        }
    )
    frame = pd.DataFrame(
        {
            "payee_type": [kind for _, kind, _, _, _ in recipients],
            "payee_id": [f"Q{number}" if kind == "person" else f"H{number}" for number, kind, _, _, _ in recipients],
            "household_id": [f"H{number}" for number, _, _, _, _ in recipients],
            "registered_account_no": pd.Series([run for _, _, run, _, _ in recipients], dtype=object),
            "account_no": pd.Series([paid for _, _, _, paid, _ in recipients], dtype=object),
        }
    )
    return register, people, frame


def _expected(register: pd.DataFrame, people: pd.DataFrame, recipient) -> str:  # type: ignore[no-untyped-def]
    """The rules read one recipient at a time."""
    listed = register[register["household_id"] == recipient.household_id]
    if len(listed) == 0:
        return "left_register"
    household = listed.iloc[0]
    person_id = recipient.payee_id if recipient.payee_type == "person" else household["head_id_number"]
    person = people[people["id_number"] == person_id]
    if len(person) and not pd.isna(person.iloc[0]["died_on"]):
        return "death"
    own = person.iloc[0]["person_account_no"] if len(person) else None
    card = own if recipient.payee_type == "person" and not pd.isna(own) else household["account_no"]
    if pd.isna(recipient.registered_account_no):
        return ""
    if pd.isna(card):
        return "card_closed"
    if card != recipient.registered_account_no and card != recipient.account_no:
        return "card_changed"
    return ""


@settings(max_examples=200, deadline=None)
@given(household_rows, recipient_rows)
def test_the_merge_finds_what_a_row_by_row_reading_finds(households: list, recipients: list) -> None:
    register, people, given_frame = _frames(households, recipients)
    frame = _recipient_frame(given_frame)
    kinds = _kinds(_matched(frame, register, people)) if len(frame) else np.array([], dtype=object)
    expected = [_expected(register, people, row) for row in frame.itertuples(index=False)]
    assert list(kinds) == expected
    # Only household and person payees are checked; the rows keep their places.
    assert frame["row"].tolist() == [i for i, row in enumerate(recipients) if row[1] != "account"]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 10**9), st.sampled_from(["H1", "H2", None]), st.sampled_from(["211", "212"])),
        min_size=1,
        max_size=50,
    )
)
def test_hold_entries_balance_and_move_exactly_the_held_money(held_rows: list) -> None:
    held = pd.DataFrame(
        {
            "account_code": [code for _, _, code in held_rows],
            "amount_fen": np.array([amount for amount, _, _ in held_rows], dtype=np.int64),
            "household_id": pd.Series([household for _, household, _ in held_rows], dtype=object),
            "fund_source": ["生活补助资金"] * len(held_rows),
        }
    )
    batch = hold_entries("COUNTY", dt.date(2026, 11, 20), held)
    amounts = batch.amount_fen
    assert np.bincount(batch.posting_entry_index, weights=amounts).tolist() == [0.0] * batch.entry_count
    postings = pd.DataFrame({"account": batch.account_code, "household": batch.household_id, "amount": amounts})
    assert int(postings.loc[postings["account"] == SUSPENSE, "amount"].sum()) == -int(held["amount_fen"].sum())
    per_household = postings.fillna({"household": "-"}).groupby("household")["amount"].sum()
    assert (per_household == 0).all()
