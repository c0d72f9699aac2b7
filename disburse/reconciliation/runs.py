"""Reconciliation runs: read one account's period, match it, store the matches (``disburse
reconcile``), and record a person's decisions on candidates (``reconcile confirm|reject``).

Storing is idempotent: a run keeps the stored matches it finds again, adds the new ones and
removes the undecided ones it no longer finds; confirmed and rejected matches are never
removed. Earlier confirmations are handed to the matcher as ``PriorMatch`` (they come back with
the same match id) and rejected ids are never proposed again. Everything happens inside the
caller's transaction; nothing here commits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from disburse.foundation.actors import require_user
from disburse.foundation.bulk import bulk_insert
from disburse.foundation.errors import DisburseError
from disburse.foundation.frames import object_array
from disburse.foundation.i18n import join_list, tr
from disburse.foundation.locks import RECONCILE_LOCK_CLASS, advisory_lock
from disburse.reconciliation.adjusted_balance import adjusted_balance
from disburse.reconciliation.frames import ReconciliationInputs, read_columns, reconciliation_inputs
from disburse.reconciliation.matching import reconcile
from disburse.reconciliation.model import RULES, AdjustedBalance, MatchSettings, ReconciliationResult
from disburse.reconciliation.statements import BankAccountRef, bank_account_by_reference
from disburse.reconciliation.tables import (
    MATCH_STORED_STATUSES,
    MatchRow,
    ReconciliationRunRow,
    utc_now,
)

# PostgreSQL: one run per bank account at a time (two runs of one period would both insert the
# same new matches). SQLite already serialises writers with BEGIN IMMEDIATE.
UNDECIDED_STATUSES = ("matched", "candidate")
IDS_PER_STATEMENT = 10_000
INLINE_MATCH_COLUMNS = (
    "match_id",
    "bank_account_id",
    "period",
    "run_id",
    "rule",
    "score",
    "status",
    "amount_fen",
    "book_amount_fen",
    "difference_fen",
    "statement_line_id",
    "posting_id",
    "instruction_id",
    "payment_reference",
)
PERIOD_PATTERN = re.compile(r"\d{4}-\d{2}")
RUN_PAGE_CACHE_KIB = 256 * 1024  # SQLite page cache of a run (see _page_cache)


@dataclass(frozen=True, slots=True)
class RunCounts:
    """How a run's items ended up (matches by status, and what is left over on each side)."""

    statement_lines: int
    book_items: int
    instructions: int
    matched: int
    candidates: int
    confirmed: int
    bank_only: int
    book_only: int
    mismatches: int
    duplicates: int


@dataclass(frozen=True, slots=True, eq=False)
class RunOutcome:
    """One reconciliation of one account's period: the inputs, the result, the counts, the
    调节表 (None with ``balance_problem`` when the statement gives no closing balance), and
    what storing changed (None for a run that was not stored)."""

    inputs: ReconciliationInputs
    result: ReconciliationResult
    counts: RunCounts
    balance: AdjustedBalance | None
    balance_problem: str | None
    run_id: int | None
    added: int
    removed: int
    message: str


def run_counts(inputs: ReconciliationInputs, result: ReconciliationResult) -> RunCounts:
    statuses = result.matches["status"].value_counts()
    return RunCounts(
        statement_lines=len(inputs.statement),
        book_items=len(inputs.book),
        instructions=len(inputs.instructions),
        matched=int(statuses.get("matched", 0)),
        candidates=int(statuses.get("candidate", 0)),
        confirmed=int(statuses.get("confirmed", 0)),
        bank_only=len(result.bank_only),
        book_only=len(result.book_only),
        mismatches=len(result.amount_mismatches),
        duplicates=len(result.duplicates),
    )


def compute(
    session: Session, account: BankAccountRef, period: str, settings: MatchSettings | None = None
) -> tuple[ReconciliationInputs, ReconciliationResult, AdjustedBalance | None, str | None]:
    """Read and match one account's period, and build its 调节表 when the statement has a
    closing balance; stores nothing."""
    inputs = reconciliation_inputs(session, account, period, settings)
    result = reconcile(inputs.statement, inputs.book, inputs.instructions, inputs.settings)
    if inputs.bank_balance.balance_fen is None:
        return inputs, result, None, inputs.bank_balance.problem
    balance = adjusted_balance(inputs.book_balance_fen, inputs.bank_balance.balance_fen, result, as_of=inputs.dates.end)
    return inputs, result, balance, None


def _timestamp(value: object) -> dt.datetime | None:
    """A decision time as read back (SQLite's text query gives ISO text, PostgreSQL a datetime)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return pd.Timestamp(value).to_pydatetime()


def _insert_inline(session: Session, account_id: int, period: str, run_id: int, columns: dict[str, np.ndarray]) -> None:
    """Insert matches that hold their links in their own row and no decision. ``columns``:
    match_id, rule, score, status, amount_fen, book_amount_fen, statement_line_id, book_id (a
    posting id, or −instruction id) and payment_reference (None for none), in insert order."""
    count = len(columns["match_id"])
    if not count:
        return
    if session.get_bind().dialect.name != "sqlite":
        _insert_inline_copy(session, account_id, period, run_id, columns)
        return
    _insert_inline_sqlite(session, account_id, period, run_id, columns)


def _insert_inline_copy(
    session: Session, account_id: int, period: str, run_id: int, columns: dict[str, np.ndarray]
) -> None:
    """The inline matches on PostgreSQL: COPY, every column spelled out (COPY's cost does not grow
    with the number of bound values, so nothing is folded into the statement as on SQLite)."""
    books = columns["book_id"]
    amounts = columns["amount_fen"]
    book_amounts = columns["book_amount_fen"]
    bulk_insert(
        session,
        "matches",
        INLINE_MATCH_COLUMNS,
        list(
            zip(
                columns["match_id"].tolist(),
                itertools.repeat(account_id),
                itertools.repeat(period),
                itertools.repeat(run_id),
                columns["rule"].tolist(),
                columns["score"].tolist(),
                columns["status"].tolist(),
                amounts.tolist(),
                book_amounts.tolist(),
                (amounts - book_amounts).tolist(),
                columns["statement_line_id"].tolist(),
                [book if book > 0 else None for book in books.tolist()],
                [-book if book < 0 else None for book in books.tolist()],
                columns["payment_reference"].tolist(),
            )
        ),
    )


def _insert_inline_sqlite(
    session: Session, account_id: int, period: str, run_id: int, columns: dict[str, np.ndarray]
) -> None:
    """The inline matches on SQLite, one prepared statement per group of rows that share a shape."""
    count = len(columns["match_id"])
    books = columns["book_id"]
    # SQLite: what a group of rows shares (the run's account, period and id; the rule, score
    # and status; which book column is filled and whether there is a payment reference) is
    # written into the statement, and the difference computed there. The driver then binds 5
    # or 6 values a row instead of 14, and every value it binds costs about 0.2 s a million
    # rows. The values written are ints, a checked period and the engine's own rule and status
    # names, never user text.
    assert PERIOD_PATTERN.fullmatch(period), period
    rule_codes, rules = pd.factorize(columns["rule"])
    status_codes, statuses = pd.factorize(columns["status"])
    assert set(rules) <= set(RULES) and set(statuses) <= set(MATCH_STORED_STATUSES), (rules, statuses)
    has_reference = np.not_equal(columns["payment_reference"], None)
    shapes = (rule_codes, status_codes, columns["score"], books < 0, has_reference)
    # lexsort is stable: each group keeps the rows' order (statement line order, for the
    # foreign keys).
    order = np.lexsort(shapes[::-1])
    changes = np.zeros(max(count - 1, 0), dtype=bool)
    for key in shapes:
        changes |= key[order][1:] != key[order][:-1]
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        for group in np.split(order, np.flatnonzero(changes) + 1):
            first = group[0]
            posting = bool(books[first] > 0)
            reference = bool(has_reference[first])
            sql = (
                f"INSERT INTO matches ({', '.join(INLINE_MATCH_COLUMNS)}) VALUES (?1, {int(account_id)}, '{period}', "
                f"{int(run_id)}, '{rules[rule_codes[first]]}', {int(columns['score'][first])}, "
                f"'{statuses[status_codes[first]]}', ?2, ?3, ?2 - ?3, ?4, {'?5' if posting else 'NULL'}, "
                f"{'NULL' if posting else '?5'}, {'?6' if reference else 'NULL'})"
            )
            values = [
                columns["match_id"][group].tolist(),
                columns["amount_fen"][group].tolist(),
                columns["book_amount_fen"][group].tolist(),
                columns["statement_line_id"][group].tolist(),
                np.abs(books[group]).tolist(),
            ]
            if reference:
                values.append(columns["payment_reference"][group].tolist())
            cursor.executemany(sql, zip(*values))
    finally:
        cursor.close()


def _insert_linked(
    session: Session,
    account_id: int,
    period: str,
    run_id: int,
    values: list[dict],
    links: list[tuple[tuple, tuple, tuple]],
) -> None:
    """Insert matches one by one with their row ids back (few: matches of several lines or items,
    and confirmations re-applied with who decided them), and the links of those that do not
    hold them in their own row."""
    row_ids = (
        session.execute(
            insert(MatchRow).returning(MatchRow.id, sort_by_parameter_order=True),
            [
                {
                    **value,
                    "bank_account_id": account_id,
                    "period": period,
                    "run_id": run_id,
                    "difference_fen": value["amount_fen"] - value["book_amount_fen"],
                }
                for value in values
            ],
        )
        .scalars()
        .all()
    )
    line_links, posting_links, instruction_links, reference_links = [], [], [], []
    for row_id, value, (lines, books, references) in zip(row_ids, values, links):
        if value["statement_line_id"] is not None:
            continue
        line_links.extend((row_id, int(line)) for line in lines)
        # A book id is a posting id, or −instruction id for a payment of a bank return's total.
        posting_links.extend((row_id, int(book)) for book in books if book > 0)
        instruction_links.extend((row_id, -int(book)) for book in books if book < 0)
        reference_links.extend((row_id, str(reference)) for reference in sorted(set(references)))
    bulk_insert(session, "match_statement_lines", ("match_row_id", "statement_line_id"), line_links)
    bulk_insert(session, "match_postings", ("match_row_id", "posting_id"), posting_links)
    bulk_insert(session, "match_instructions", ("match_row_id", "instruction_id"), instruction_links)
    bulk_insert(session, "match_payment_references", ("match_row_id", "payment_reference"), reference_links)


@dataclass(frozen=True, slots=True, eq=False)
class _ResultColumns:
    """The result's matches as the arrays storing needs (``stored_as``: the status a row gets)."""

    match_ids: np.ndarray
    rules: np.ndarray
    statuses: np.ndarray
    stored_as: np.ndarray
    scores: np.ndarray

    @classmethod
    def of(cls, matches: pd.DataFrame) -> _ResultColumns:
        rules = matches["rule"].to_numpy(dtype=object)
        statuses = matches["status"].to_numpy(dtype=object)
        # A line posted by post-unmatched and its posting are a match the books made, not a
        # person's confirmation of a candidate.
        stored_as = np.where(rules == "post_unmatched", "matched", statuses).astype(object)
        return cls(
            matches["match_id"].to_numpy(dtype=object),
            rules,
            statuses,
            stored_as,
            matches["score"].to_numpy(dtype=np.int64),
        )


def _store(
    session: Session, inputs: ReconciliationInputs, result: ReconciliationResult, run_id: int
) -> tuple[int, int]:
    """Bring the stored matches of the account's period in line with ``result``; returns (added,
    removed)."""
    account, period = inputs.account, inputs.dates.period
    existing = read_columns(
        session,
        "SELECT id, match_id, status, rule, score FROM matches WHERE bank_account_id = :account AND period = :period",
        {"account": account.id, "period": period},
    )
    stored_row_ids = existing["id"].astype(np.int64)
    matches = result.matches
    columns = _ResultColumns.of(matches)
    # Where each stored match is in this result (−1: not found again): one hash index over the
    # ids, not pandas' isin or merge over a million strings.
    found_at = pd.Index(columns.match_ids).get_indexer(existing["match_id"])
    undecided = np.isin(existing["status"], UNDECIDED_STATUSES)
    gone_ids = stored_row_ids[undecided & (found_at < 0)].tolist()
    _delete_matches(session, gone_ids)
    _update_found_again(session, existing, stored_row_ids, found_at, undecided, columns)
    new = np.ones(len(matches), dtype=bool)
    new[found_at[found_at >= 0]] = False
    # In the result's order (by first statement line): the rows' foreign keys then look up
    # statement lines and postings in the order they lie on disk.
    new = np.flatnonzero(new)
    if len(new):
        _insert_new(session, inputs, matches, columns, new, run_id)
    return len(new), len(gone_ids)


def _delete_matches(session: Session, row_ids: list[int]) -> None:
    """Undecided matches a run no longer finds, with their links."""
    for start in range(0, len(row_ids), IDS_PER_STATEMENT):
        chunk = row_ids[start : start + IDS_PER_STATEMENT]
        for table in ("match_statement_lines", "match_postings", "match_instructions", "match_payment_references"):
            session.execute(
                text(f"DELETE FROM {table} WHERE match_row_id IN :ids").bindparams(bindparam("ids", expanding=True)),
                {"ids": chunk},
            )
        session.execute(
            text("DELETE FROM matches WHERE id IN :ids").bindparams(bindparam("ids", expanding=True)), {"ids": chunk}
        )


def _update_found_again(
    session: Session,
    existing: dict[str, np.ndarray],
    stored_row_ids: np.ndarray,
    found_at: np.ndarray,
    undecided: np.ndarray,
    columns: _ResultColumns,
) -> None:
    """A match found again keeps its row; its rule, score or status change only when the inputs
    did (a candidate a later confirmation elsewhere turned into a confirmed one)."""
    again = np.flatnonzero(undecided & (found_at >= 0))
    at = found_at[again]
    changed = again[
        (existing["rule"][again] != columns.rules[at])
        | (existing["score"][again].astype(np.int64) != columns.scores[at])
        | (existing["status"][again] != columns.stored_as[at])
    ]
    if not len(changed):
        return
    at = found_at[changed]
    session.execute(
        text("UPDATE matches SET rule = :rule, score = :score, status = :status WHERE id = :id"),
        [
            {"id": row_id, "rule": rule, "score": score, "status": status}
            for row_id, rule, score, status in zip(
                stored_row_ids[changed].tolist(),
                columns.rules[at].tolist(),
                columns.scores[at].tolist(),
                columns.stored_as[at].tolist(),
            )
        ],
    )


def _insert_new(
    session: Session,
    inputs: ReconciliationInputs,
    matches: pd.DataFrame,
    result_columns: _ResultColumns,
    new: np.ndarray,
    run_id: int,
) -> None:
    """Insert the matches at positions ``new``: those of one line, one item and no decision
    with their links in the row, in bulk; the others one by one with their link rows."""
    account, period = inputs.account, inputs.dates.period
    match_ids = result_columns.match_ids
    lines = matches["statement_line_ids"].to_numpy(dtype=object)[new]
    books = matches["book_ids"].to_numpy(dtype=object)[new]
    references = matches["instruction_references"].to_numpy(dtype=object)[new]
    columns = {
        "match_id": match_ids[new],
        "rule": result_columns.rules[new],
        "score": result_columns.scores[new],
        "status": result_columns.stored_as[new],
        "amount_fen": matches["amount_fen"].to_numpy(dtype=np.int64)[new],
        "book_amount_fen": matches["book_amount_fen"].to_numpy(dtype=np.int64)[new],
    }
    # Who decided: only a confirmation re-applied from an earlier run carries it.
    decided = (result_columns.statuses[new] == "confirmed") & (result_columns.rules[new] != "post_unmatched")
    # One line, one book item and at most one payment reference: the links go in the row.
    one = (
        (np.fromiter(map(len, lines), dtype=np.int64, count=len(new)) == 1)
        & (np.fromiter(map(len, books), dtype=np.int64, count=len(new)) == 1)
        & (np.fromiter(map(len, references), dtype=np.int64, count=len(new)) <= 1)
    )

    inline = np.flatnonzero(one & ~decided)
    _insert_inline(
        session,
        account.id,
        period,
        run_id,
        {
            **{name: values[inline] for name, values in columns.items()},
            "statement_line_id": np.fromiter(
                map(itemgetter(0), lines[inline].tolist()), dtype=np.int64, count=len(inline)
            ),
            "book_id": np.fromiter(map(itemgetter(0), books[inline].tolist()), dtype=np.int64, count=len(inline)),
            "payment_reference": object_array(
                [reference[0] if reference else None for reference in references[inline].tolist()]
            ),
        },
    )
    others = np.flatnonzero(~(one & ~decided)).tolist()
    if not others:
        return
    values, links = [], []
    for index in others:
        by, when = inputs.decided_by.get(match_ids[new[index]], (None, None)) if decided[index] else (None, None)
        book = int(books[index][0]) if one[index] else 0
        values.append(
            {
                "match_id": str(columns["match_id"][index]),
                "rule": str(columns["rule"][index]),
                "score": int(columns["score"][index]),
                "status": str(columns["status"][index]),
                "amount_fen": int(columns["amount_fen"][index]),
                "book_amount_fen": int(columns["book_amount_fen"][index]),
                "decided_by": by,
                "decided_at": _timestamp(when),
                "statement_line_id": int(lines[index][0]) if one[index] else None,
                "posting_id": book if book > 0 else None,
                "instruction_id": -book if book < 0 else None,
                "payment_reference": references[index][0] if one[index] and references[index] else None,
            }
        )
        links.append((lines[index], books[index], references[index]))
    _insert_linked(session, account.id, period, run_id, values, links)


def _lock(session: Session, account: BankAccountRef) -> None:
    advisory_lock(session, RECONCILE_LOCK_CLASS, account.id)


def counts_text(counts: RunCounts) -> str:
    return tr(
        "{matched:,} matched, {candidates:,} candidate(s), {confirmed:,} confirmed, "
        "{bank_only:,} bank-only, {book_only:,} book-only, {mismatches:,} amount mismatch(es), "
        "{duplicates:,} duplicate(s)",
        matched=counts.matched,
        candidates=counts.candidates,
        confirmed=counts.confirmed,
        bank_only=counts.bank_only,
        book_only=counts.book_only,
        mismatches=counts.mismatches,
        duplicates=counts.duplicates,
    )


@contextlib.contextmanager
def _page_cache(session: Session) -> Iterator[None]:
    """SQLite: a page cache of ``RUN_PAGE_CACHE_KIB`` for the run, the connection's own size
    again afterwards. Storing a million matches inserts into the match id index at random
    places and looks up a statement line and a posting for every row's foreign keys; with
    SQLite's default 2 MB cache those pages are read again and again (3.5 s of a first run).
    Only for the run: a larger cache makes the commit of a sequential bulk post a little
    slower. PRAGMA cache_size takes effect inside a transaction."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    driver_connection = session.connection().connection.driver_connection
    previous = int(driver_connection.execute("PRAGMA cache_size").fetchone()[0])
    driver_connection.execute(f"PRAGMA cache_size = -{RUN_PAGE_CACHE_KIB}")
    try:
        yield
    finally:
        driver_connection.execute(f"PRAGMA cache_size = {previous}")


def run_reconciliation(
    session: Session, account: str | BankAccountRef, period: str, user: str, settings: MatchSettings | None = None
) -> RunOutcome:
    """``disburse reconcile --account ACCT --period P``: match the period and store the run
    and its matches. Running it again with nothing new gives the same matches and changes
    nothing but a new run row."""
    require_user(user)
    with _page_cache(session):
        return _run(session, account, period, user, settings)


def _run(
    session: Session, account: str | BankAccountRef, period: str, user: str, settings: MatchSettings | None
) -> RunOutcome:
    reference = account if isinstance(account, BankAccountRef) else bank_account_by_reference(session, account)
    _lock(session, reference)
    inputs, result, balance, problem = compute(session, reference, period, settings)
    counts = run_counts(inputs, result)
    run_id = session.execute(
        insert(ReconciliationRunRow)
        .values(
            bank_account_id=reference.id,
            period=period,
            run_by=user,
            run_at=utc_now(),
            statement_line_count=counts.statement_lines,
            book_item_count=counts.book_items,
            instruction_count=counts.instructions,
            matched_count=counts.matched,
            candidate_count=counts.candidates,
            confirmed_count=counts.confirmed,
            bank_only_count=counts.bank_only,
            book_only_count=counts.book_only,
            mismatch_count=counts.mismatches,
            duplicate_count=counts.duplicates,
            book_balance_fen=inputs.book_balance_fen,
            bank_balance_fen=inputs.bank_balance.balance_fen,
            adjusted_book_balance_fen=balance.adjusted_book_balance_fen if balance else None,
            adjusted_bank_balance_fen=balance.adjusted_bank_balance_fen if balance else None,
            difference_fen=balance.difference_fen if balance else None,
        )
        .returning(ReconciliationRunRow.id)
    ).scalar_one()
    added, removed = _store(session, inputs, result, run_id)
    message = tr(
        "{account} {period}: {lines:,} statement line(s), {items:,} book item(s); {counts}; "
        "{added:,} match(es) new, {removed:,} dropped",
        account=reference.describe(),
        period=period,
        lines=counts.statement_lines,
        items=counts.book_items,
        counts=counts_text(counts),
        added=added,
        removed=removed,
    )
    return RunOutcome(inputs, result, counts, balance, problem, run_id, added, removed, message)


@dataclass(frozen=True, slots=True)
class DecisionOutcome:
    """What confirm or reject did to one match id (in every period that holds it)."""

    match_id: str
    status: str
    changed: bool
    message: str


def decide(session: Session, match_id: str, user: str, decision: str) -> DecisionOutcome:
    """Confirm or reject a candidate (``decision`` is ``confirmed`` or ``rejected``). A
    rejected match is never proposed again; a confirmed one survives every later run. An
    automatic match may be rejected too (a person found it wrong), but never confirmed again."""
    assert decision in ("confirmed", "rejected"), decision
    require_user(user)
    match_id = (match_id or "").strip()
    rows = session.execute(
        select(MatchRow.id, MatchRow.status, MatchRow.rule, MatchRow.period, MatchRow.decided_by)
        .where(MatchRow.match_id == match_id)
        .order_by(MatchRow.id)
    ).all()
    if not rows:
        raise DisburseError(
            tr("no match {match!r}; `disburse reconcile report` lists the matches and candidates", match=match_id)
        )
    statuses = {row.status for row in rows}
    periods = join_list(sorted({row.period for row in rows}))
    if decision in statuses:
        who = next(row.decided_by for row in rows if row.status == decision)
        message = (
            tr("{match} is already confirmed (by {who}); nothing changed", match=match_id, who=who)
            if decision == "confirmed"
            else tr("{match} is already rejected (by {who}); nothing changed", match=match_id, who=who)
        )
        return DecisionOutcome(match_id, decision, False, message)
    opposite = "rejected" if decision == "confirmed" else "confirmed"
    if opposite in statuses:
        who = next(row.decided_by for row in rows if row.status == opposite)
        raise DisburseError(
            tr("{match} was rejected by {who}; a decision is not changed silently", match=match_id, who=who)
            if opposite == "rejected"
            else tr("{match} was confirmed by {who}; a decision is not changed silently", match=match_id, who=who)
        )
    allowed = ("candidate",) if decision == "confirmed" else ("candidate", "matched")
    if decision == "confirmed" and statuses == {"matched"}:
        return DecisionOutcome(
            match_id,
            "matched",
            False,
            tr(
                "{match} is an automatic match (rule {rule}), not a candidate; nothing to confirm",
                match=match_id,
                rule=rows[0].rule,
            ),
        )
    session.execute(
        update(MatchRow)
        .where(MatchRow.match_id == match_id, MatchRow.status.in_(allowed))
        .values(status=decision, decided_by=user, decided_at=utc_now())
    )
    message = (
        tr("{match} ({rule}, {periods}) confirmed", match=match_id, rule=rows[0].rule, periods=periods)
        if decision == "confirmed"
        else tr(
            "{match} ({rule}, {periods}) rejected; it will not be proposed again",
            match=match_id,
            rule=rows[0].rule,
            periods=periods,
        )
    )
    return DecisionOutcome(match_id, decision, True, message)


def confirm_match(session: Session, match_id: str, user: str) -> DecisionOutcome:
    return decide(session, match_id, user, "confirmed")


def reject_match(session: Session, match_id: str, user: str) -> DecisionOutcome:
    return decide(session, match_id, user, "rejected")


def stored_matches(session: Session, account: BankAccountRef, period: str) -> pd.DataFrame:
    """The stored matches of one account's period with their decisions."""
    result = session.execute(
        select(
            MatchRow.match_id,
            MatchRow.rule,
            MatchRow.score,
            MatchRow.status,
            MatchRow.amount_fen,
            MatchRow.book_amount_fen,
            MatchRow.difference_fen,
            MatchRow.decided_by,
            MatchRow.decided_at,
        )
        .where(MatchRow.bank_account_id == account.id, MatchRow.period == period)
        .order_by(MatchRow.id)
    )
    return pd.DataFrame(result.all(), columns=list(result.keys()))


__all__ = [
    "RunOutcome",
    "RunCounts",
    "DecisionOutcome",
    "compute",
    "run_reconciliation",
    "confirm_match",
    "reject_match",
    "stored_matches",
    "counts_text",
]
