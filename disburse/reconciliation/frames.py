"""Reading one bank account's period out of the database as the frames ``reconcile`` takes.

- statement: the account's stored lines dated in the period ± the date window;
- book: the postings on the account's 102.xx sub-account in the same dates. A bank return's
  posting (one Cr 102.xx for all the payments a return file confirms) is replaced by one item
  per successful payment instruction of that file (book id = −instruction id, so it never
  collides with a posting id), with its payment reference, batch and payee account, because
  the bank shows a batch either as one debit or as one line per payee, and the matcher can join
  either to the payments;
- instructions: the payment instructions of the entity's exported batches settled in those
  dates, for the batch strategies (one line for a batch; control total with refunds).

Lines and items dated before the window are added while they are still outstanding: not in a
match a run stored as matched or confirmed, nor posted by post-unmatched, unless that match
also holds something inside the window. Items before the account's first statement line (less
the window) are taken to be in the statement's opening balance and are never read; so are the
window's items when the books' balance before that line equals the statement's opening balance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from disburse.foundation.dates import period_problem
from disburse.foundation.errors import DisburseError
from disburse.foundation.frames import query_frame
from disburse.foundation.i18n import tr
from disburse.reconciliation.model import (
    BOOK_COLUMNS,
    INSTRUCTION_COLUMNS,
    STATEMENT_COLUMNS,
    MatchSettings,
    PriorMatch,
)
from disburse.reconciliation.statements import BankAccountRef

SETTLED_STATUSES = ("matched", "confirmed")
# What the engine's instruction statuses mean to the matcher (cancelled ones never reach it).
INSTRUCTION_STATUS_FOR_MATCHING = {
    "success": "success",
    "failed": "failure",
    "exported": "pending",
    "pending": "pending",
}
PAYOUT_RETURN_SOURCE_KIND = "payout_return"
INSTRUCTION_SELECT = (
    "i.payment_reference, b.batch_reference, i.account_no, i.account_name, i.amount_fen, i.status, i.settled_on"
)
IDS_PER_QUERY = 10_000  # values per IN (...), well under the drivers' parameter limits


@dataclass(frozen=True, slots=True)
class PeriodDates:
    """A period's first and last day, and the dates read around it (the window)."""

    period: str
    start: dt.date
    end: dt.date
    low: dt.date
    high: dt.date


@dataclass(frozen=True, slots=True)
class BankBalance:
    """The statement's balance at the period end: the last line at or before it (None and a
    reason when the statement has no line then, or the bank masked that line's balance)."""

    balance_fen: int | None
    line_id: int | None
    booked_on: dt.date | None
    problem: str | None


@dataclass(frozen=True, slots=True, eq=False)
class ReconciliationInputs:
    """Everything one run needs: the account, the dates, the three frames, the settings (with
    the confirmed and rejected matches of earlier runs) and the two closing balances."""

    account: BankAccountRef
    dates: PeriodDates
    statement: pd.DataFrame
    book: pd.DataFrame
    instructions: pd.DataFrame
    settings: MatchSettings
    book_balance_fen: int
    bank_balance: BankBalance
    decided_by: dict[str, tuple[str | None, dt.datetime | None]]


def period_dates(period: str, window_days: int) -> PeriodDates:
    """The dates of ``period`` (YYYY-MM) and the window of ``window_days`` around it."""
    problem = period_problem(period)
    if problem:
        raise DisburseError(problem)
    start = dt.date(int(period[:4]), int(period[5:]), 1)
    end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    window = dt.timedelta(days=window_days)
    return PeriodDates(period, start, end, start - window, end + window)


def read_columns(session: Session, sql: str, parameters: dict[str, object]) -> dict[str, np.ndarray]:
    """The columns of a text query as object arrays, by the query's column names: the driver's
    plain tuples transposed once, with no type inference. ``pd.DataFrame.from_records`` over a
    million rows infers a type per column (under pandas 3 a string type whose missing values
    are NaN, which then has to be turned back into None) and costs a second more per frame."""
    result = session.execute(text(sql), parameters)
    names = list(result.keys())
    rows = result.cursor.fetchall() if result.cursor is not None else []
    result.close()
    table = np.empty((len(rows), len(names)), dtype=object)
    if rows:
        table[:] = rows
    return {name: table[:, index] for index, name in enumerate(names)}


def _days(values: pd.Series | np.ndarray) -> np.ndarray:
    """Dates as SQLite (ISO text) and PostgreSQL (date objects) return them, as datetime64[s]."""
    values = np.asarray(values, dtype=object)
    try:
        # numpy parses ISO text and converts date objects in C, several times faster than
        # pandas' parser, to the same values; anything else (a zone, say) goes to pandas.
        return values.astype("datetime64[s]")
    except (TypeError, ValueError):
        return pd.to_datetime(pd.Series(values, dtype=object)).to_numpy().astype("datetime64[s]")


def _texts(values: np.ndarray) -> pd.Series:
    """Text as the drivers return it (str or None), kept as objects: None stays None."""
    return pd.Series(values, dtype=object)


def _integers(values: np.ndarray) -> np.ndarray:
    return values.astype(np.int64)


def _nullable_integers(values: np.ndarray) -> pd.arrays.IntegerArray:
    missing = np.equal(values, None)
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)


def _settled_links(session: Session, account: BankAccountRef) -> pd.DataFrame:
    """``group, side, item_id``: what stored settled matches and post-unmatched entries join
    (book items by their book id: a posting id, or −instruction id). A match is a group by its
    row id; a post-unmatched pair is group −(line id)."""
    parameters = {"account": account.id}
    statuses = ", ".join(f"'{status}'" for status in SETTLED_STATUSES)
    lines = query_frame(
        session,
        (
            "SELECT m.id AS grp, l.statement_line_id AS item_id FROM matches m JOIN match_statement_lines l "
            f"ON l.match_row_id = m.id WHERE m.bank_account_id = :account AND m.status IN ({statuses})"
        ),
        parameters,
    )
    postings = query_frame(
        session,
        (
            "SELECT m.id AS grp, p.posting_id AS item_id FROM matches m JOIN match_postings p "
            f"ON p.match_row_id = m.id WHERE m.bank_account_id = :account AND m.status IN ({statuses})"
        ),
        parameters,
    )
    instructions = query_frame(
        session,
        (
            "SELECT m.id AS grp, -i.instruction_id AS item_id FROM matches m JOIN match_instructions i "
            f"ON i.match_row_id = m.id WHERE m.bank_account_id = :account AND m.status IN ({statuses})"
        ),
        parameters,
    )
    # Matches of one line and one item hold both in their own row (reconciliation.tables.MatchRow).
    inline = query_frame(
        session,
        (
            "SELECT id AS grp, statement_line_id, coalesce(posting_id, -instruction_id) AS book_id FROM matches "
            f"WHERE bank_account_id = :account AND status IN ({statuses}) AND statement_line_id IS NOT NULL"
        ),
        parameters,
    )
    posted = query_frame(
        session,
        (
            "SELECT u.statement_line_id, u.posting_id FROM unmatched_postings u JOIN statement_lines s "
            "ON s.id = u.statement_line_id WHERE s.bank_account_id = :account"
        ),
        parameters,
    )
    parts = [
        lines.assign(side="statement"),
        postings.assign(side="book"),
        instructions.assign(side="book"),
        pd.DataFrame({"grp": inline["grp"], "item_id": inline["statement_line_id"], "side": "statement"}),
        pd.DataFrame({"grp": inline["grp"], "item_id": inline["book_id"], "side": "book"}),
        pd.DataFrame(
            {
                "grp": -posted["statement_line_id"].astype(np.int64),
                "item_id": posted["statement_line_id"],
                "side": "statement",
            }
        ),
        pd.DataFrame(
            {"grp": -posted["statement_line_id"].astype(np.int64), "item_id": posted["posting_id"], "side": "book"}
        ),
    ]
    frame = pd.concat(parts, ignore_index=True)
    frame["grp"] = frame["grp"].astype(np.int64)
    frame["item_id"] = frame["item_id"].astype(np.int64)
    return frame


def _outstanding_or_in_window(
    statement: pd.DataFrame, book: pd.DataFrame, links: pd.DataFrame, low: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep what is dated in the window, and older items still outstanding or joined by a
    settled match that reaches into the window."""
    cutoff = pd.Timestamp(low)
    if statement.empty and book.empty:
        return statement, book
    dates = pd.concat(
        [
            pd.DataFrame({"side": "statement", "item_id": statement["line_id"], "day": statement["booked_on"]}),
            pd.DataFrame({"side": "book", "item_id": book["book_id"], "day": book["entry_date"]}),
        ],
        ignore_index=True,
    )
    dated = links.merge(dates, on=["side", "item_id"], how="left")
    reaching = set(dated.loc[dated["day"] >= cutoff, "grp"].tolist())
    settled = dated[~dated["grp"].isin(reaching)]
    closed_lines = set(settled.loc[settled["side"] == "statement", "item_id"].tolist())
    closed_books = set(settled.loc[settled["side"] == "book", "item_id"].tolist())
    # An item in one match that reaches the window and another that does not stays: the
    # reaching match decides.
    open_lines = set(dated.loc[dated["grp"].isin(reaching) & (dated["side"] == "statement"), "item_id"].tolist())
    open_books = set(dated.loc[dated["grp"].isin(reaching) & (dated["side"] == "book"), "item_id"].tolist())
    keep_lines = (statement["booked_on"] >= cutoff) | ~statement["line_id"].isin(closed_lines - open_lines)
    keep_books = (book["entry_date"] >= cutoff) | ~book["book_id"].isin(closed_books - open_books)
    return statement[keep_lines].reset_index(drop=True), book[keep_books].reset_index(drop=True)


def statement_frame(session: Session, account: BankAccountRef, high: dt.date) -> pd.DataFrame:
    """Every stored line of the account dated on or before ``high``, in ``STATEMENT_COLUMNS``."""
    columns = read_columns(
        session,
        (
            "SELECT id AS line_id, booked_on, txn_id, summary, memo, counterparty_account, counterparty_name, "
            "amount_fen, balance_fen FROM statement_lines WHERE bank_account_id = :account AND booked_on <= :high"
        ),
        {"account": account.id, "high": high},
    )
    return pd.DataFrame(
        {
            "line_id": _integers(columns["line_id"]),
            "booked_on": _days(columns["booked_on"]),
            **{
                name: _texts(columns[name])
                for name in ("txn_id", "summary", "memo", "counterparty_account", "counterparty_name")
            },
            "amount_fen": _integers(columns["amount_fen"]),
            "balance_fen": _nullable_integers(columns["balance_fen"]),
        },
        columns=list(STATEMENT_COLUMNS),
    )


def book_frame(session: Session, account: BankAccountRef, origin: dt.date, high: dt.date) -> pd.DataFrame:
    """Postings on the account's 102.xx dated ``origin``..``high``, each bank return's total
    replaced by its successful payments (book id −instruction id; see the module doc), in
    ``BOOK_COLUMNS``."""
    parameters = {
        "code": account.ledger_account_code,
        "entity": account.entity_id,
        "origin": origin,
        "high": high,
        "kind": PAYOUT_RETURN_SOURCE_KIND,
    }
    # Postings first (CROSS JOIN keeps SQLite from reordering; PostgreSQL plans it as any
    # join): one pass over postings in id order, each entry found by its primary key, instead
    # of every entry of the entity and then its postings through the (entry, line) index,
    # 1.6 s against 2.0 s for a million items.
    columns = read_columns(
        session,
        (
            "SELECT p.id AS book_id, p.entry_id, e.entry_date, p.amount_fen, p.payment_reference, e.memo, "
            "e.source_kind = :kind AS is_return FROM postings p CROSS JOIN journal_entries e WHERE e.id = p.entry_id "
            "AND p.account_code = :code AND e.entity_id = :entity AND e.entry_date BETWEEN :origin AND :high"
        ),
        parameters,
    )
    is_return = columns["is_return"].astype(bool)
    amounts = _integers(columns["amount_fen"])
    if not (is_return & (amounts < 0)).any():
        return _book(
            _integers(columns["book_id"]),
            _days(columns["entry_date"]),
            amounts,
            columns["payment_reference"],
            columns["memo"],
        )
    direct = pd.DataFrame(
        {
            "book_id": _integers(columns["book_id"]),
            "entry_id": _integers(columns["entry_id"]),
            "entry_date": _days(columns["entry_date"]),
            "amount_fen": amounts,
            "payment_reference": _texts(columns["payment_reference"]),
            "memo": _texts(columns["memo"]),
            "is_return": is_return,
        }
    )
    returns = direct[direct["is_return"] & (direct["amount_fen"] < 0)]
    # The return file whose post wrote the entry says which instructions it paid.
    payments = _return_payments(session, parameters)
    frame = _returns_taken_apart(direct, returns, payments)
    return _book(
        frame["book_id"].to_numpy(dtype=np.int64),
        frame["entry_date"].to_numpy().astype("datetime64[s]"),
        frame["amount_fen"].to_numpy(dtype=np.int64),
        frame["payment_reference"].to_numpy(dtype=object),
        frame["memo"].to_numpy(dtype=object),
    )


def _return_payments(session: Session, parameters: dict[str, object]) -> pd.DataFrame:
    """The successful payments of the entity's return files posted ``origin``..``high``, each a book
    item of its own (book id −instruction id, amount negative: money out of the account)."""
    paid = read_columns(
        session,
        (
            # Entries first (CROSS JOIN fixes SQLite's order): it otherwise scanned every
            # instruction and, for each, the entity's entries — 18 s for 135,000 payees.
            "SELECT -i.id AS book_id, e.id AS entry_id, e.entry_date, i.amount_fen, i.payment_reference, e.memo "
            "FROM journal_entries e CROSS JOIN return_files r CROSS JOIN payment_instructions i "
            "WHERE r.post_request_id = e.post_request_id AND i.return_file_id = r.id AND i.entity_id = e.entity_id "
            "AND e.entity_id = :entity AND e.source_kind = :kind AND e.entry_date BETWEEN :origin AND :high "
            "AND i.status = 'success'"
        ),
        parameters,
    )
    return pd.DataFrame(
        {
            "book_id": _integers(paid["book_id"]),
            "entry_id": _integers(paid["entry_id"]),
            "entry_date": _days(paid["entry_date"]),
            "amount_fen": -_integers(paid["amount_fen"]),
            "payment_reference": _texts(paid["payment_reference"]),
            "memo": _texts(paid["memo"]),
        }
    )


def _returns_taken_apart(direct: pd.DataFrame, returns: pd.DataFrame, payments: pd.DataFrame) -> pd.DataFrame:
    """The book items with each return total that its payments add up to replaced by them."""
    returns_entries = set(returns["entry_id"].tolist())
    payments = payments[payments["entry_id"].isin(returns_entries)]
    # Take a return's total apart only when its payments add up to it exactly (and it is the
    # entry's only posting on this account); otherwise the total stays as it is.
    per_entry = payments.groupby("entry_id")["amount_fen"].sum()
    credits = returns.groupby("entry_id")["amount_fen"].agg(["sum", "count"])
    fits = set(
        credits.index[(credits["count"] == 1) & (credits["sum"] == per_entry.reindex(credits.index).fillna(0))].tolist()
    )
    payments = payments[payments["entry_id"].isin(fits)]
    direct = direct[~(direct["entry_id"].isin(fits) & direct["is_return"])]
    frame = pd.concat([direct.drop(columns=["is_return"]), payments], ignore_index=True)
    return frame


def _book(
    book_ids: np.ndarray, days: np.ndarray, amounts: np.ndarray, references: np.ndarray, memos: np.ndarray
) -> pd.DataFrame:
    """Book items in ``BOOK_COLUMNS``; batch and payee are filled in later (``_with_payees``)."""
    nothing = np.full(len(book_ids), None, dtype=object)
    return pd.DataFrame(
        {
            "book_id": book_ids,
            "entry_date": days,
            "amount_fen": amounts,
            "payment_reference": _texts(references),
            "batch_reference": _texts(nothing),
            "counterparty_account": _texts(nothing),
            "counterparty_name": _texts(nothing),
            "memo": _texts(memos),
        },
        columns=list(BOOK_COLUMNS),
    )


def instructions_frame(
    session: Session, account: BankAccountRef, low: dt.date, high: dt.date, references: Iterable[str]
) -> pd.DataFrame:
    """The instructions of the entity's exported batches that have a payment settled in
    ``low``..``high`` or a payment among ``references``; in ``INSTRUCTION_COLUMNS``."""
    frame = _instructions(
        read_columns(
            session,
            (
                f"SELECT {INSTRUCTION_SELECT} FROM payment_instructions i JOIN payment_batches b ON b.id = i.batch_id "
                "WHERE i.entity_id = :entity AND b.status IN ('exported', 'closed') AND i.status <> 'cancelled' "
                "AND b.id IN (SELECT batch_id FROM payment_instructions WHERE entity_id = :entity "
                "AND settled_on BETWEEN :low AND :high)"
            ),
            {"entity": account.entity_id, "low": low, "high": high},
        )
    )
    missing = list(set(references) - set(frame["payment_reference"].tolist()))
    if missing:
        # Payments booked before the window and still outstanding: their whole batches too.
        batch_ids = _batches_paying(session, missing)
        if batch_ids:
            extra = _instructions(
                read_columns(
                    session,
                    (
                        f"SELECT {INSTRUCTION_SELECT} FROM payment_instructions i JOIN payment_batches b ON b.id = "
                        "i.batch_id WHERE i.status <> 'cancelled' AND i.batch_id IN "
                        f"({', '.join(str(value) for value in sorted(batch_ids))})"
                    ),
                    {},
                )
            )
            frame = (
                pd.concat([frame, extra], ignore_index=True).drop_duplicates("payment_reference").reset_index(drop=True)
            )
    return frame


def _instructions(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """Instruction rows as read (``INSTRUCTION_SELECT``) in ``INSTRUCTION_COLUMNS``."""
    # The two references (never missing) as pandas' text type, as a frame built from the rows
    # would infer; the other texts as objects with None.
    references = "str" if len(columns["payment_reference"]) else object
    return pd.DataFrame(
        {
            "payment_reference": pd.Series(columns["payment_reference"], dtype=references),
            "batch_reference": pd.Series(columns["batch_reference"], dtype=references),
            "account_no": _texts(columns["account_no"]),
            "account_name": _texts(columns["account_name"]),
            "amount_fen": _integers(columns["amount_fen"]),
            "status": _texts(
                np.array(
                    [INSTRUCTION_STATUS_FOR_MATCHING.get(value) for value in columns["status"].tolist()], dtype=object
                )
            ),
            "settled_on": _days(columns["settled_on"]),
        },
        columns=list(INSTRUCTION_COLUMNS),
    )


def _batches_paying(session: Session, references: list[str]) -> set[int]:
    """The batches of the payments with these references. Through the driver: SQLAlchemy's
    expanding IN renders 10,000 parameters a query, 0.9 s for 600,000 references."""
    connection = session.connection()
    batch_ids: set[int] = set()
    if connection.dialect.name == "postgresql":
        for start in range(0, len(references), IDS_PER_QUERY * 10):
            batch_ids.update(
                int(value)
                for value in session.scalars(
                    text(
                        "SELECT DISTINCT batch_id FROM payment_instructions WHERE payment_reference = ANY(:references)"
                    ),
                    {"references": references[start : start + IDS_PER_QUERY * 10]},
                )
            )
        return batch_ids
    cursor = connection.connection.driver_connection.cursor()
    try:
        for start in range(0, len(references), IDS_PER_QUERY):
            chunk = references[start : start + IDS_PER_QUERY]
            cursor.execute(
                "SELECT DISTINCT batch_id FROM payment_instructions WHERE payment_reference IN "
                f"({', '.join('?' * len(chunk))})",
                chunk,
            )
            batch_ids.update(int(row[0]) for row in cursor.fetchall())
    finally:
        cursor.close()
    return batch_ids


def _with_payees(book: pd.DataFrame, instructions: pd.DataFrame) -> pd.DataFrame:
    """Book items of a payment carry its batch and the payee's account and name."""
    if book.empty or instructions.empty:
        return book
    by_reference = instructions.set_index("payment_reference")
    present = book["payment_reference"].isin(by_reference.index)
    if not present.any():
        return book
    book = book.copy()
    references = book.loc[present, "payment_reference"]
    book.loc[present, "batch_reference"] = by_reference.loc[references, "batch_reference"].to_numpy(dtype=object)
    book.loc[present, "counterparty_account"] = by_reference.loc[references, "account_no"].to_numpy(dtype=object)
    book.loc[present, "counterparty_name"] = by_reference.loc[references, "account_name"].to_numpy(dtype=object)
    return book


def book_balance(session: Session, account: BankAccountRef, end: dt.date) -> int:
    """The 102.xx sub-account's balance (debit positive) at the end of ``end``, from the ledger."""
    # Postings first, as in book_frame.
    value = session.execute(
        text(
            "SELECT coalesce(sum(p.amount_fen), 0) FROM postings p CROSS JOIN journal_entries e WHERE e.id = "
            "p.entry_id AND p.account_code = :code AND e.entity_id = :entity AND e.entry_date <= :end"
        ),
        {"code": account.ledger_account_code, "entity": account.entity_id, "end": end},
    ).scalar_one()
    return int(value)


def bank_balance(session: Session, account: BankAccountRef, end: dt.date) -> BankBalance:
    """The balance of the account's last statement line at or before ``end``: the latest date,
    then the latest import, then the last line of that file in date order."""
    row = session.execute(
        text(
            "SELECT id, booked_on, balance_fen FROM statement_lines WHERE bank_account_id = :account AND booked_on <= "
            ":end ORDER BY booked_on DESC, import_id DESC, line_number DESC LIMIT 1"
        ),
        {"account": account.id, "end": end},
    ).first()
    if row is None:
        return BankBalance(
            None,
            None,
            None,
            tr(
                "the statements of {account} have no line on or before {end}; import the statement covering the "
                "period end",
                account=account.account_number,
                end=end,
            ),
        )
    booked_on = pd.Timestamp(row.booked_on).date()
    if row.balance_fen is None:
        return BankBalance(
            None,
            int(row.id),
            booked_on,
            tr(
                "the bank gives no balance (masked or blank) on its last line on or before {end} "
                "(statement line {line} of {booked_on})",
                end=end,
                line=row.id,
                booked_on=booked_on,
            ),
        )
    return BankBalance(int(row.balance_fen), int(row.id), booked_on, None)


def _decisions(session: Session, account: BankAccountRef) -> tuple[tuple[PriorMatch, ...], frozenset[str], dict]:
    """Confirmed matches (as PriorMatch, with who and when), post-unmatched pairs and rejected ids."""
    confirmed = query_frame(
        session,
        (
            "SELECT id, match_id, rule, decided_by, decided_at, statement_line_id, coalesce(posting_id, "
            "-instruction_id) AS book_id, payment_reference FROM matches WHERE bank_account_id = :account AND status = "
            "'confirmed' ORDER BY id"
        ),
        {"account": account.id},
    )
    rejected = frozenset(
        session.scalars(
            text("SELECT DISTINCT match_id FROM matches WHERE bank_account_id = :account AND status = 'rejected'"),
            {"account": account.id},
        ).all()
    )
    priors: list[PriorMatch] = []
    decided: dict[str, tuple[str | None, dt.datetime | None]] = {}
    if len(confirmed):
        first = confirmed.drop_duplicates("match_id")
        ids = first["id"].astype(np.int64).tolist()
        links: dict[str, dict[int, list]] = {"line": {}, "posting": {}, "reference": {}}
        # A match of one line and one item holds both (and its payment reference) in its own
        # row; the others hold them in the link tables (reconciliation.tables.MatchRow).
        for row_id, line_id, book_id, reference in zip(
            confirmed["id"].tolist(),
            confirmed["statement_line_id"].tolist(),
            confirmed["book_id"].tolist(),
            confirmed["payment_reference"].tolist(),
        ):
            if line_id is not None and line_id == line_id:
                links["line"].setdefault(int(row_id), []).append(line_id)
                links["posting"].setdefault(int(row_id), []).append(book_id)
                if reference is not None and reference == reference:
                    links["reference"].setdefault(int(row_id), []).append(reference)
        for kind, sql in (
            ("line", "SELECT match_row_id, statement_line_id FROM match_statement_lines"),
            ("posting", "SELECT match_row_id, posting_id FROM match_postings"),
            ("posting", "SELECT match_row_id, -instruction_id FROM match_instructions"),
            ("reference", "SELECT match_row_id, payment_reference FROM match_payment_references"),
        ):
            rows = session.execute(
                text(
                    f"{sql} WHERE match_row_id IN (SELECT id FROM matches WHERE bank_account_id = :account "
                    "AND status = 'confirmed')"
                ),
                {"account": account.id},
            ).all()
            for match_row_id, value in rows:
                links[kind].setdefault(int(match_row_id), []).append(value)
        for row_id, match_id, rule, decided_by, decided_at in zip(
            ids, first["match_id"], first["rule"], first["decided_by"], first["decided_at"]
        ):
            priors.append(
                PriorMatch(
                    tuple(sorted(int(value) for value in links["line"].get(row_id, []))),
                    tuple(sorted(int(value) for value in links["posting"].get(row_id, []))),
                    str(rule),
                    tuple(sorted(str(value) for value in links["reference"].get(row_id, []))),
                )
            )
            decided[str(match_id)] = (decided_by, decided_at)
    posted = query_frame(
        session,
        (
            "SELECT u.statement_line_id, u.posting_id FROM unmatched_postings u JOIN statement_lines s "
            "ON s.id = u.statement_line_id WHERE s.bank_account_id = :account ORDER BY u.statement_line_id"
        ),
        {"account": account.id},
    )
    for line_id, posting_id in zip(posted["statement_line_id"].tolist(), posted["posting_id"].tolist()):
        priors.append(PriorMatch((int(line_id),), (int(posting_id),), "post_unmatched"))
    return tuple(priors), rejected, decided


def _book_origin(session: Session, account: BankAccountRef, window_days: int) -> dt.date:
    """The first day whose book items the account's reconciliations read: the first statement
    line's day less the date window (a payment booked a few days before the bank shows it), or
    that day itself when the first statement's opening balance already holds every book item
    of the window (the books' balance the day before equals it): those are not in transit."""
    first = session.execute(
        text(
            "SELECT booked_on, amount_fen, balance_fen FROM statement_lines WHERE bank_account_id = :account "
            "ORDER BY booked_on, id LIMIT 1"
        ),
        {"account": account.id},
    ).first()
    if first is None:
        raise DisburseError(
            tr(
                "no statement lines for {account}; import its statement first "
                "(`disburse import bank-statement FILE --account ...`)",
                account=account.describe(),
            )
        )
    first_day = pd.Timestamp(first.booked_on).date()
    if first.balance_fen is None:
        return first_day - dt.timedelta(days=window_days)
    books_before_fen = session.execute(
        text(
            "SELECT coalesce(sum(p.amount_fen), 0) FROM postings p JOIN journal_entries e ON e.id = p.entry_id "
            "WHERE p.account_code = :code AND e.entity_id = :entity AND e.entry_date < :day"
        ),
        {"code": account.ledger_account_code, "entity": account.entity_id, "day": first_day},
    ).scalar_one()
    opening_fen = int(first.balance_fen) - int(first.amount_fen)
    if int(books_before_fen) == opening_fen:
        return first_day
    return first_day - dt.timedelta(days=window_days)


def reconciliation_inputs(
    session: Session, account: BankAccountRef, period: str, settings: MatchSettings | None = None
) -> ReconciliationInputs:
    """Read the frames, decisions and balances of one account's period."""
    base = settings or MatchSettings()
    dates = period_dates(period, base.date_window_days)
    origin = _book_origin(session, account, base.date_window_days)
    statement = statement_frame(session, account, dates.high)
    book = book_frame(session, account, origin, dates.high)
    cutoff = pd.Timestamp(dates.low)
    if (statement["booked_on"] < cutoff).any() or (book["entry_date"] < cutoff).any():
        # Only older items need the stored matches to tell settled from outstanding.
        statement, book = _outstanding_or_in_window(statement, book, _settled_links(session, account), dates.low)
    references = set(book["payment_reference"].dropna().tolist())
    instructions = instructions_frame(
        session, account, dates.low - dt.timedelta(days=base.refund_window_days), dates.high, references
    )
    book = _with_payees(book, instructions)
    priors, rejected, decided = _decisions(session, account)
    applicable: tuple[PriorMatch, ...] = ()
    if priors:
        line_ids = set(statement["line_id"].tolist())
        book_ids = set(book["book_id"].tolist())
        # Only decisions whose lines and items are all in this run's frames; the others belong
        # to other dates and would only be listed as not applied.
        applicable = tuple(
            prior for prior in priors if set(prior.statement_line_ids) <= line_ids and set(prior.book_ids) <= book_ids
        )
    settings = MatchSettings(
        date_window_days=base.date_window_days,
        refund_window_days=base.refund_window_days,
        amount_tolerance_fen=base.amount_tolerance_fen,
        amount_tolerance_bps=base.amount_tolerance_bps,
        name_similarity_min_percent=base.name_similarity_min_percent,
        many_to_one_lines_max=base.many_to_one_lines_max,
        many_to_one_candidates_max=base.many_to_one_candidates_max,
        confirmed=applicable,
        rejected_match_ids=rejected | base.rejected_match_ids,
    )
    return ReconciliationInputs(
        account,
        dates,
        statement,
        book,
        instructions,
        settings,
        book_balance(session, account, dates.end),
        bank_balance(session, account, dates.end),
        decided,
    )
