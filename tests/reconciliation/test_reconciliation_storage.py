"""How matches are stored, on SQLite and PostgreSQL: a match of one statement line and one book
item holds its links in its own row, any other match in the link tables; a confirmation
re-applied in another period is stored there with who decided it; and migration 0007 keeps
every link when it goes up or down on a database that holds matches."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))

from reconciliation_db_builders import (  # noqa: E402
    ACCOUNT_NUMBER,
    LEDGER_ACCOUNT,
    LINES,
    PERIOD,
    build_books,
    line_ids,
    post,
    write_statement,
)

from disburse.foundation.db import transaction  # noqa: E402
from disburse.ledger.model import EntryDraft, PostingDraft  # noqa: E402
from disburse.reconciliation.match_ids import match_id_of  # noqa: E402
from disburse.reconciliation.runs import confirm_match, run_reconciliation  # noqa: E402
from disburse.reconciliation.statements import import_statement  # noqa: E402
from disburse.schema import migrate as schema  # noqa: E402

LINK_COLUMNS = (
    ("match_statement_lines", "statement_line_id"),
    ("match_postings", "posting_id"),
    ("match_instructions", "instruction_id"),
    ("match_payment_references", "payment_reference"),
)


def reconciled_worked_example(engine, tmp_path: Path, lines=LINES):  # type: ignore[no-untyped-def]
    build_books(engine, tmp_path)
    with transaction(engine) as session:
        import_statement(session, write_statement(tmp_path / "statement.csv", lines), ACCOUNT_NUMBER, "dora")
    with transaction(engine) as session:
        return run_reconciliation(session, LEDGER_ACCOUNT, PERIOD, "dora")


def links(engine) -> dict[str, set[tuple[str, object]]]:  # type: ignore[no-untyped-def]
    """Every link of every stored match (by match id), wherever it is stored."""
    found: dict[str, set[tuple[str, object]]] = {}
    with transaction(engine) as session:
        columns = {
            row[1]
            for row in session.execute(
                text(
                    "SELECT 0, column_name FROM information_schema.columns WHERE table_name = 'matches'"
                    if engine.dialect.name == "postgresql"
                    else "PRAGMA table_info(matches)"
                )
            )
        }
        for table, column in LINK_COLUMNS:
            for match_id, value in session.execute(
                text(f"SELECT m.match_id, l.{column} FROM {table} l JOIN matches m ON m.id = l.match_row_id")
            ):
                found.setdefault(match_id, set()).add((column, value))
            if column in columns:
                for match_id, value in session.execute(
                    text(f"SELECT match_id, {column} FROM matches WHERE {column} IS NOT NULL")
                ):
                    found.setdefault(match_id, set()).add((column, value))
    return found


def test_a_match_of_one_line_and_one_item_holds_its_links_in_its_row(engine, tmp_path: Path) -> None:
    outcome = reconciled_worked_example(engine, tmp_path)
    matches = outcome.result.matches
    with transaction(engine) as session:
        rows = {
            row.match_id: row
            for row in session.execute(
                text(
                    "SELECT m.match_id, m.statement_line_id, m.posting_id, m.instruction_id, m.payment_reference, "
                    "(SELECT count(*) FROM match_statement_lines l WHERE l.match_row_id = m.id) AS linked_lines "
                    "FROM matches m"
                )
            )
        }
    assert set(rows) == set(matches["match_id"])
    for match in matches.itertuples(index=False):
        row = rows[match.match_id]
        if len(match.statement_line_ids) == 1 and len(match.book_ids) == 1:
            # The two candidates: line and posting in the row, nothing in the link tables.
            assert (
                row.statement_line_id,
                row.posting_id,
                row.instruction_id,
                row.payment_reference,
                row.linked_lines,
            ) == (match.statement_line_ids[0], match.book_ids[0], None, None, 0)
        else:
            # The batch: two lines, two payments, three references, all in the link tables.
            assert (row.statement_line_id, row.posting_id, row.instruction_id, row.payment_reference) == (None,) * 4
            assert row.linked_lines == len(match.statement_line_ids) == 2
    stored = links(engine)
    for match in matches.itertuples(index=False):
        expected = {("statement_line_id", value) for value in match.statement_line_ids}
        expected |= {("posting_id", value) for value in match.book_ids if value > 0}
        expected |= {("instruction_id", -value) for value in match.book_ids if value < 0}
        expected |= {("payment_reference", value) for value in match.instruction_references}
        assert stored[match.match_id] == expected


def test_a_confirmation_applied_again_in_the_next_period_is_stored_there_with_who_decided(
    engine, tmp_path: Path
) -> None:
    # A receipt on 11-30, on the statement the same day without a counterparty: a candidate in
    # November, and inside December's date window too.
    late = ("2026-11-30", "09:00:00", "T20261130001", "转账", "", "", 2_000, LINES[-1][7] + 2_000, "")
    build_books(engine, tmp_path)
    with transaction(engine) as session:
        post(
            session,
            "late-receipt",
            [
                EntryDraft(
                    "COUNTY",
                    PERIOD,
                    dt.date(2026, 11, 30),
                    "收款 (a hand-written voucher)",
                    (PostingDraft(LEDGER_ACCOUNT, 2_000), PostingDraft("112", -2_000)),
                )
            ],
        )
        import_statement(session, write_statement(tmp_path / "statement.csv", [*LINES, late]), ACCOUNT_NUMBER, "dora")
    with transaction(engine) as session:
        november = run_reconciliation(session, LEDGER_ACCOUNT, PERIOD, "dora")
        line = line_ids(session)["T20261130001"]
        posting = int(
            session.scalar(text("SELECT max(id) FROM postings WHERE account_code = :code"), {"code": LEDGER_ACCOUNT})
        )
    candidate = match_id_of([line], [posting])
    assert candidate in november.result.matches["match_id"].tolist()
    with transaction(engine) as session:
        assert confirm_match(session, candidate, "erin").changed
    with transaction(engine) as session:
        december = run_reconciliation(session, LEDGER_ACCOUNT, "2026-12", "dora")
    assert (
        candidate in december.result.matches.loc[december.result.matches["status"] == "confirmed", "match_id"].tolist()
    )
    with transaction(engine) as session:
        rows = session.execute(
            text(
                "SELECT period, status, decided_by, decided_at, statement_line_id, posting_id FROM matches "
                "WHERE match_id = :match_id ORDER BY period"
            ),
            {"match_id": candidate},
        ).all()
    assert [(row.period, row.status, row.decided_by, row.statement_line_id, row.posting_id) for row in rows] == [
        ("2026-11", "confirmed", "erin", line, posting),
        ("2026-12", "confirmed", "erin", line, posting),
    ]
    assert rows[1].decided_at is not None and str(rows[1].decided_at)[:19] == str(rows[0].decided_at)[:19]
    with transaction(engine) as session:
        again = run_reconciliation(session, LEDGER_ACCOUNT, "2026-12", "dora")
    assert (again.added, again.removed) == (0, 0)


def test_migration_0007_keeps_every_link_down_and_up(engine, tmp_path: Path) -> None:
    reconciled_worked_example(engine, tmp_path)
    before = links(engine)
    assert sum(len(values) for values in before.values()) == 4 + 2 + 2 + 3
    schema.migrate(engine, "0006", downgrade=True)
    assert schema.current_revision(engine) == "0006"
    assert links(engine) == before  # all in the link tables now
    with transaction(engine) as session:
        assert session.scalar(text("SELECT count(*) FROM match_postings")) == 2
    schema.migrate(engine)
    assert schema.current_revision(engine) == schema.head_revision()
    assert links(engine) == before  # still in the link tables, which every reader reads too
    with transaction(engine) as session:
        again = run_reconciliation(session, LEDGER_ACCOUNT, PERIOD, "dora")
    assert (again.added, again.removed) == (0, 0)
    assert links(engine) == before
