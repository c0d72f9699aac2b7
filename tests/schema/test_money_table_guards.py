"""Issue 16 item 4: every money table refuses DELETE, and UPDATE except the engine's own moves.

A month of books built through the engine (a seeded county: runs, batches, returns, card fixes,
a statement, a reconciliation, a closed period) holds rows in every guarded table; plain SQL
then tries to change a money or payee column of each and to delete its rows, and each attempt
is refused with a message that names the table. That the engine's own moves still pass is
shown by the suites that make them (tests/payouts, tests/reconciliation, tests/allocations,
tests/registry, tests/ledger, tests/audit/test_seeded_county.py), which run against the guards.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pytest
from database_support import PG_URL, pg_drop_database
from seeded_books import private_copy, seeded_month
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from disburse.foundation.db import make_engine, transaction
from disburse.schema import migrate as schema
from disburse.schema.guards import ALL_GUARDS, GUARDS_BY_TABLE, trigger_names

# The tables issue 16 names (and the brief lists), each of which must be guarded.
REQUIRED_TABLES = {
    "payment_instructions",
    "payables",
    "payment_batches",
    "payment_batch_files",
    "return_files",
    "return_lines",
    "card_fixes",
    "account_fixes",
    "allocation_runs",
    "allocation_lines",
    "allocation_steps",
    "allocation_exclusions",
    "pv_settlements",
    "settlement_allocations",
    "matches",
    "match_statement_lines",
    "match_postings",
    "match_instructions",
    "match_payment_references",
    "statement_lines",
    "statement_imports",
    "holdings",
    "household_versions",
    "person_versions",
    "register_events",
    "bank_accounts",
    "periods",
    "chain_heads",
    "audit_log",
    "voucher_submissions",
    "unmatched_postings",
    "post_requests",
}

# For each table, a plain UPDATE of a column that records money or who gets it.
MONEY_UPDATES = {
    "bank_accounts": "account_number = '6228480099999999999'",
    "periods": "head_hash = '" + "0" * 64 + "'",
    "chain_heads": "head_hash = '" + "0" * 64 + "'",
    "post_requests": "posting_count = posting_count + 1",
    "voucher_submissions": "debit_total_fen = debit_total_fen + 1",
    "audit_log": "\"user\" = 'someone else'",
    "holdings": "units_e4 = coalesce(units_e4, 0) + 1",
    "assets": "principal_fen = coalesce(principal_fen, 0) + 1",
    "household_versions": "account_no = '6228480099999999999'",
    "person_versions": "person_account_no = '6228480099999999999'",
    "register_events": "household_id = 'H-FORGED'",
    "register_imports": "file_sha256 = '" + "0" * 64 + "'",
    "pv_settlements": "amount_fen = amount_fen + 1",
    "allocation_runs": "pool_fen = pool_fen + 1",
    "allocation_lines": "amount_fen = amount_fen + 1",
    "allocation_steps": "amount_fen = coalesce(amount_fen, 0) + 1",
    "allocation_exclusions": "household_id = 'H-FORGED'",
    "settlement_allocations": "run_id = run_id + 1",
    "payables": "amount_fen = amount_fen + 1",
    "instruction_payables": "payable_id = payable_id + 1",
    "payment_instructions": "account_no = '6228480099999999999'",
    "payment_batches": "total_fen = total_fen + 1",
    "payment_batch_files": "total_fen = total_fen + 1",
    "return_files": "success_count = success_count + 1",
    "return_lines": "amount_fen = coalesce(amount_fen, 0) + 1",
    "card_fixes": "account_no = '6228480099999999999'",
    "account_fixes": "new_account_no = '6228480099999999999'",
    "matches": "amount_fen = amount_fen + 1",
    "match_statement_lines": "statement_line_id = statement_line_id + 1",
    "match_postings": "posting_id = posting_id + 1",
    "match_instructions": "instruction_id = instruction_id + 1",
    "match_payment_references": "payment_reference = 'PAY-FORGED'",
    "statement_lines": "amount_fen = amount_fen + 1",
    "statement_imports": "file_sha256 = '" + "0" * 64 + "'",
    "unmatched_postings": "posted_by = 'someone else'",
    "reconciliation_runs": "book_balance_fen = book_balance_fen + 1",
    "notices": "total_fen = total_fen + 1",
    "notice_objections": "household_id = '6110021010010001'",
    "payable_stops": "reason = 'changed behind the engine'",
    "allocation_reviews": "acted_by = 'someone else'",
    "eligibility_holds": "amount_fen = amount_fen + 1",
    "budget_indicators": "issued_fen = issued_fen + 1",
    "fund_movements": "amount_fen = amount_fen + 1",
}
# Where the engine deletes some rows of a table, the DELETE names rows it never deletes.
REFUSED_DELETE_WHERE = {
    "payables": "status <> 'open'",
    "instruction_payables": "active",
    "matches": "status = 'confirmed' OR status = 'rejected'",
}
HOUSEHOLDS = 200
SEED = 1


@dataclass(frozen=True)
class Books:
    url: str
    backend: str


def _add_what_the_month_lacks(url: str) -> None:
    """The month leaves a few tables empty: reconcile its statement (matches), decide a match and
    give it links, close its first period and leave the next one open, record a command and a
    voucher submission, remember a posted statement line. The rows written directly are
    INSERTs, which the guards allow."""
    from disburse.audit.log import record_command
    from disburse.dev.audit_month import APPROVER, CENTRE, CLERK, COUNTY_ACCOUNT
    from disburse.ledger.service import close_period
    from disburse.reconciliation.runs import reject_match, run_reconciliation

    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            run_reconciliation(session, COUNTY_ACCOUNT, "2026-11", CENTRE)
        with transaction(engine) as session:
            match_id = session.scalar(text("SELECT min(match_id) FROM matches"))
            reject_match(session, match_id, APPROVER)
            first = session.scalar(text("SELECT min(period) FROM journal_entries"))
            close_period(session, "COUNTY", first, CLERK)
            record_command(
                session,
                command="payout approve",
                arguments=["payout", "approve", "PB-1"],
                user=APPROVER,
                started_at=dt.datetime(2026, 12, 1, 9),
                outcome="ok",
                exit_code=0,
                message="approved",
                input_hashes={},
            )
        with engine.begin() as connection:
            _insert_rows(connection, match_id)
    finally:
        engine.dispose()


def _insert_rows(connection, match_id: str) -> None:  # type: ignore[no-untyped-def]
    decided = connection.execute(
        text("SELECT id, statement_line_id, posting_id, instruction_id FROM matches WHERE match_id = :m"),
        {"m": match_id},
    ).first()
    line = connection.execute(text("SELECT min(id) FROM statement_lines")).scalar_one()
    posting = connection.execute(text("SELECT min(id), min(entry_id) FROM postings")).one()
    instruction = connection.execute(text("SELECT min(id) FROM payment_instructions")).scalar_one()
    for table, column, value in (
        ("match_statement_lines", "statement_line_id", line),
        ("match_postings", "posting_id", posting[0]),
        ("match_instructions", "instruction_id", instruction),
        ("match_payment_references", "payment_reference", "PAY-202611-000001"),
    ):
        parameters = {"m": decided.id, "v": value}
        linked = text(f"SELECT 1 FROM {table} WHERE match_row_id = :m AND {column} = :v")
        if connection.execute(linked, parameters).first() is None:
            connection.execute(text(f"INSERT INTO {table} (match_row_id, {column}) VALUES (:m, :v)"), parameters)
    connection.execute(
        text(
            "INSERT INTO unmatched_postings (statement_line_id, entry_id, posting_id, rule_name, rules_sha256, "
            "posted_by, posted_at) VALUES (:line, :entry, :posting, 'fees', :sha, 'clerk', :at)"
        ),
        {"line": line, "entry": posting[1], "posting": posting[0], "sha": "a" * 64, "at": dt.datetime(2026, 12, 1)},
    )
    connection.execute(
        text(
            "INSERT INTO voucher_submissions (entity_id, file_name, file_sha256, voucher_count, posting_count, "
            "debit_total_fen, vouchers_json, status, submitted_by, submitted_at) VALUES ((SELECT id FROM entities "
            "WHERE code = 'COUNTY'), 'v.xlsx', :sha, 1, 2, "
            "1000, '[]', 'submitted', 'clerk', :at)"
        ),
        {"sha": "b" * 64, "at": dt.datetime(2026, 12, 1)},
    )
    _insert_control_rows(connection)
    later = connection.execute(text("SELECT max(period) FROM journal_entries")).scalar_one()
    connection.execute(
        text(
            "INSERT INTO periods (entity_id, period, status) SELECT id, :p, 'open' FROM entities WHERE code = 'COUNTY'"
        ),
        {"p": later},
    )


def _insert_control_rows(connection) -> None:  # type: ignore[no-untyped-def]
    """A notice with an objection, a review level's approval, a stopped payable and an eligibility
    hold (INSERTs, which the guards allow)."""
    at = dt.datetime(2026, 12, 1)
    run = connection.execute(text("SELECT min(id) FROM allocation_runs")).scalar_one()
    connection.execute(
        text(
            "INSERT INTO notices (run_id, village_code, village_name, first_day, last_day, household_count, "
            "total_fen, hotline, created_by, created_at) VALUES (:run, '611002101201', '一村', :first, :last, 1, "
            "10000, '0914-0000000', 'clerk', :at)"
        ),
        {"run": run, "first": dt.date(2026, 11, 1), "last": dt.date(2026, 11, 7), "at": at},
    )
    notice = connection.execute(text("SELECT max(id) FROM notices")).scalar_one()
    connection.execute(
        text(
            "INSERT INTO notice_objections (notice_id, household_id, reason, status, raised_by, raised_at) "
            "VALUES (:notice, '6110021012010001', '人数不对', 'open', 'counter', :at)"
        ),
        {"notice": notice, "at": at},
    )
    connection.execute(
        text(
            "INSERT INTO allocation_reviews (run_id, level_position, level, action, acted_by, comment, payable_fen, "
            "acted_at) VALUES (:run, 1, '乡镇', 'approved', 'checker', '', 10000, :at)"
        ),
        {"run": run, "at": at},
    )
    payable = connection.execute(text("SELECT min(id) FROM payables")).scalar_one()
    connection.execute(
        text(
            "INSERT INTO payable_stops (payable_id, reason, status, stopped_by, stopped_at) "
            "VALUES (:payable, '户主已故，待核实', 'stopped', 'clerk', :at)"
        ),
        {"payable": payable, "at": at},
    )
    request = connection.execute(text("SELECT min(id) FROM post_requests")).scalar_one()
    connection.execute(
        text(
            "INSERT INTO eligibility_holds (payable_id, kind, effective_on, reason, amount_fen, held_on, held_by, "
            "held_at, post_request_id) VALUES (:payable, 'death', :day, '户主已故', 5000, :day, 'clerk', :at, :request)"
        ),
        {"payable": payable, "day": dt.date(2026, 11, 5), "at": at, "request": request},
    )
    # A budget indicator and a draw on it (issue 14 item 1).
    connection.execute(
        text(
            "INSERT INTO budget_indicators (document_number, fund_name, level, nature, budget_line, year, issued_fen, "
            "programmes_json, source_file, file_sha256, source_row, imported_by, imported_at) VALUES (:number, "
            ":name, '省', :nature, '2130599', 2026, 100000, '[\"dibao\"]', 'funds.csv', :sha, 2, 'clerk', :at)"
        ),
        {"number": "商财〔2026〕1号", "name": "补助资金", "nature": "一般公共预算", "sha": "0" * 64, "at": at},
    )
    indicator = connection.execute(text("SELECT max(id) FROM budget_indicators")).scalar_one()
    connection.execute(
        text(
            "INSERT INTO fund_movements (indicator_id, kind, amount_fen, run_id, created_by, created_at) "
            "VALUES (:indicator, 'draw', 10000, :run, 'checker', :at)"
        ),
        {"indicator": indicator, "run": run, "at": at},
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def books(request, tmp_path_factory, sqlite_template, pg_template):  # type: ignore[no-untyped-def]
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("DISBURSE_TEST_PG_URL is not set")
    _county, shared_url = seeded_month(request.param, SEED, HOUSEHOLDS, tmp_path_factory, sqlite_template, pg_template)
    url = private_copy(shared_url, tmp_path_factory.mktemp(f"guards-{request.param}"))
    _add_what_the_month_lacks(url)
    yield Books(url, request.param)
    if request.param == "postgresql":
        pg_drop_database(url)


@pytest.fixture(scope="module")
def books_engine(books: Books):  # type: ignore[no-untyped-def]
    engine = make_engine(books.url)
    yield engine
    engine.dispose()


def _refused(engine, statement: str, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError, match=match):
        with engine.begin() as connection:
            connection.execute(text(statement))


def _count(engine, table: str, where: str = "1 = 1") -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM {table} WHERE {where}")).scalar_one()


def test_every_table_the_issue_names_is_guarded_and_every_guard_has_a_tampering_update() -> None:
    assert REQUIRED_TABLES <= set(GUARDS_BY_TABLE), sorted(REQUIRED_TABLES - set(GUARDS_BY_TABLE))
    assert set(MONEY_UPDATES) == set(GUARDS_BY_TABLE)


@pytest.mark.parametrize("table", sorted(MONEY_UPDATES))
def test_a_plain_update_of_a_money_or_payee_column_is_refused(books_engine, table: str) -> None:  # type: ignore[no-untyped-def]
    # Periods: the open row, since a closed one is refused by 0009's trigger (tested below).
    where = "status = 'open'" if table == "periods" else "1 = 1"
    assert _count(books_engine, table, where) > 0, f"the month wrote no {table} rows to try"
    _refused(books_engine, f"UPDATE {table} SET {MONEY_UPDATES[table]} WHERE {where}", f"UPDATE on {table} refused")


@pytest.mark.parametrize("table", sorted(MONEY_UPDATES))
def test_a_plain_delete_is_refused(books_engine, table: str) -> None:  # type: ignore[no-untyped-def]
    where = REFUSED_DELETE_WHERE.get(table, "status = 'open'" if table == "periods" else "1 = 1")
    before = _count(books_engine, table, where)
    assert before > 0, f"the month wrote no {table} rows to try"
    _refused(books_engine, f"DELETE FROM {table} WHERE {where}", f"DELETE on {table} refused")
    assert _count(books_engine, table, where) == before


def test_an_allowed_status_move_that_also_changes_money_is_refused(books_engine) -> None:  # type: ignore[no-untyped-def]
    # open→claimed is a move the engine makes, but not with a new amount or a new card.
    assert _count(books_engine, "payables", "status = 'open'") > 0
    _refused(
        books_engine,
        "UPDATE payables SET status = 'claimed', amount_fen = amount_fen * 2 WHERE status = 'open'",
        "only status open→claimed",
    )
    # open→fixed is how a fix releases a failed payment, never with the failed card rewritten.
    assert _count(books_engine, "card_fixes", "status = 'open'") > 0
    _refused(
        books_engine,
        "UPDATE card_fixes SET status = 'fixed', account_no = '6228480099999999999' WHERE status = 'open'",
        "UPDATE on card_fixes refused",
    )
    # A move the engine never makes: a closed batch back to approved, a paid payable open again.
    _refused(books_engine, "UPDATE payment_batches SET status = 'approved' WHERE status = 'closed'", "payment_batches")
    _refused(books_engine, "UPDATE payables SET status = 'open' WHERE status = 'paid'", "UPDATE on payables refused")


def test_a_decided_match_keeps_its_links_and_its_decision(books_engine) -> None:  # type: ignore[no-untyped-def]
    assert _count(books_engine, "matches", "status = 'rejected'") == 1
    _refused(books_engine, "UPDATE matches SET status = 'candidate' WHERE status = 'rejected'", "UPDATE on matches")
    _refused(
        books_engine,
        "DELETE FROM match_postings WHERE match_row_id IN (SELECT id FROM matches WHERE status = 'rejected')",
        "DELETE on match_postings refused",
    )


def test_the_chain_head_only_moves_forward(books_engine) -> None:  # type: ignore[no-untyped-def]
    _refused(
        books_engine,
        "UPDATE chain_heads SET last_sequence = last_sequence - 1, head_hash = '" + "1" * 64 + "'",
        "UPDATE on chain_heads refused: only the head moves forward",
    )


def test_a_closed_period_refuses_everything(books_engine) -> None:  # type: ignore[no-untyped-def]
    assert _count(books_engine, "periods", "status = 'closed'") == 1
    for statement in (
        "UPDATE periods SET status = 'open' WHERE status = 'closed'",
        "UPDATE periods SET head_hash = '" + "0" * 64 + "' WHERE status = 'closed'",
        "DELETE FROM periods WHERE status = 'closed'",
    ):
        with pytest.raises(DBAPIError, match="closed period never changes"):
            with books_engine.begin() as connection:
                connection.execute(text(statement))
    assert _count(books_engine, "periods", "status = 'closed'") == 1


def test_postgresql_refuses_truncate_of_every_guarded_table(books_engine) -> None:  # type: ignore[no-untyped-def]
    if books_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    for guard in ALL_GUARDS:
        _refused(books_engine, f"TRUNCATE {guard.table} CASCADE", "TRUNCATE on .* refused")


def test_the_engine_closes_an_open_period_row_through_the_guard(books: Books) -> None:
    # The one periods move the engine makes: an open row closed (in a transaction rolled back,
    # so the module's books stay as they are).
    from disburse.ledger.service import close_period

    engine = make_engine(books.url)
    try:
        with engine.connect() as connection:
            transaction_ = connection.begin()
            session = Session(bind=connection)
            later = session.scalar(text("SELECT period FROM periods WHERE status = 'open'"))
            first = session.scalar(text("SELECT period FROM periods WHERE status = 'closed'"))
            for period in _periods_between(first, later):
                assert close_period(session, "COUNTY", period, "县财政局-张会计").changed
            session.flush()
            assert session.scalar(text("SELECT status FROM periods WHERE period = :p"), {"p": later}) == "closed"
            transaction_.rollback()
    finally:
        engine.dispose()


def _periods_between(first: str, last: str) -> list[str]:
    """The periods after ``first`` up to ``last``, in order (YYYY-MM)."""
    year, month = map(int, first.split("-"))
    out = []
    while f"{year:04d}-{month:02d}" < last:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        out.append(f"{year:04d}-{month:02d}")
    return out


# ---------------------------------------------------------------------------- the migration
def _triggers(engine) -> set[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        else:
            rows = connection.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
        return {row[0] for row in rows}


def test_every_guard_is_in_place_at_head_and_downgrade_removes_them(engine) -> None:  # type: ignore[no-untyped-def]
    assert schema.current_revision(engine) == schema.head_revision()
    expected = {name for guard in ALL_GUARDS for name in trigger_names(guard, engine.dialect.name)}
    assert expected <= _triggers(engine)
    schema.migrate(engine, "0010", downgrade=True)
    assert not expected & _triggers(engine)
    # The journal's and closed periods' own triggers (0001, 0009) stay.
    if engine.dialect.name == "sqlite":
        assert {"periods_closed_no_update", "postings_no_update"} <= _triggers(engine)
    else:
        assert {"periods_closed_immutable", "postings_immutable"} <= _triggers(engine)
    schema.migrate(engine)
    assert expected <= _triggers(engine)


def test_an_insert_is_never_refused_but_an_update_of_an_audit_row_is(engine) -> None:  # type: ignore[no-untyped-def]
    from disburse.audit.log import record_command

    with transaction(engine) as session:
        record_command(
            session,
            command="payout export",
            arguments=["payout", "export"],
            user="carol",
            started_at=dt.datetime(2026, 12, 1, 9),
            outcome="ok",
            exit_code=0,
            message="exported",
            input_hashes={"bank.csv": "c" * 64},
        )
    _refused(
        engine, "UPDATE audit_log SET outcome = 'refused'", "UPDATE on audit_log refused: its rows are never changed"
    )
    _refused(engine, "DELETE FROM audit_log", "DELETE on audit_log refused: its rows are never deleted")
    with engine.connect() as connection:
        row = connection.execute(text("SELECT outcome, input_hashes FROM audit_log")).one()
    assert (row.outcome, json.loads(row.input_hashes)) == ("ok", {"bank.csv": "c" * 64})
