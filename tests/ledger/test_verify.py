"""verify names the first entry that a change behind the engine's back has broken."""

from __future__ import annotations

from ledger_builders import batch, draft
from sqlalchemy import text

from disburse.foundation.db import transaction
from disburse.ledger.posting import post_entries
from disburse.ledger.service import close_period
from disburse.ledger.verify import verify_books
from disburse.schema.guards import ALL_GUARDS, drop_statements


def bypass_triggers(engine, *statements: str) -> None:  # type: ignore[no-untyped-def]
    """What an attacker with write access does: switch the guards off and write directly."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            for table in ("journal_entries", "postings", "periods_closed"):
                for operation in ("update", "delete"):
                    connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{operation}"))
            for guard in ALL_GUARDS:
                for statement in drop_statements(guard, "sqlite"):
                    connection.execute(text(statement))
        else:
            for table in ("postings", "journal_entries", "periods", *(guard.table for guard in ALL_GUARDS)):
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        for statement in statements:
            connection.execute(text(statement))


def five_entries(engine) -> list[int]:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        result = post_entries(
            session,
            batch(*(draft(("102", 100 * (n + 1)), ("501", -100 * (n + 1)), memo=f"e{n}") for n in range(5))),
            idempotency_key="five",
            user="alice",
        )
    return list(result.entry_ids)


def verify(engine, expected=None):  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        return {report.entity_code: report for report in verify_books(session, expected)}


def test_intact_books_verify_and_print_heads(engine) -> None:  # type: ignore[no-untyped-def]
    five_entries(engine)
    county = verify(engine)["COUNTY"]
    assert county.intact and county.entry_count == 5 and county.posting_count == 10
    assert len(county.head_hash) == 64


def test_changed_amount_is_found_at_its_entry(engine) -> None:  # type: ignore[no-untyped-def]
    ids = five_entries(engine)
    bypass_triggers(
        engine,
        f"UPDATE postings SET amount_fen = 301 WHERE entry_id = {ids[2]} AND line_number = 1",
        f"UPDATE postings SET amount_fen = -301 WHERE entry_id = {ids[2]} AND line_number = 2",
    )
    county = verify(engine)["COUNTY"]
    assert not county.intact
    assert f"entry id {ids[2]}" in county.problems[0] and "changed" in county.problems[0]


def test_changed_memo_is_found(engine) -> None:  # type: ignore[no-untyped-def]
    ids = five_entries(engine)
    bypass_triggers(engine, f"UPDATE journal_entries SET memo = 'nothing to see' WHERE id = {ids[1]}")
    assert f"entry id {ids[1]}" in verify(engine)["COUNTY"].problems[0]


def test_deleted_entry_breaks_the_next_one(engine) -> None:  # type: ignore[no-untyped-def]
    ids = five_entries(engine)
    bypass_triggers(
        engine, f"DELETE FROM postings WHERE entry_id = {ids[1]}", f"DELETE FROM journal_entries WHERE id = {ids[1]}"
    )
    problems = verify(engine)["COUNTY"].problems
    assert f"entry id {ids[2]}" in problems[0]


def test_deleted_last_entry_is_found_by_the_head(engine) -> None:  # type: ignore[no-untyped-def]
    ids = five_entries(engine)
    bypass_triggers(
        engine, f"DELETE FROM postings WHERE entry_id = {ids[-1]}", f"DELETE FROM journal_entries WHERE id = {ids[-1]}"
    )
    problems = verify(engine)["COUNTY"].problems
    assert "removed or added at the end" in problems[0]


def test_inserted_posting_is_found(engine) -> None:  # type: ignore[no-untyped-def]
    ids = five_entries(engine)
    bypass_triggers(
        engine,
        f"INSERT INTO postings (entry_id, line_number, account_code, amount_fen) VALUES ({ids[0]}, 3, '102', 5000)",
    )
    problems = verify(engine)["COUNTY"].problems
    assert f"entry id {ids[0]}" in problems[0]
    assert any("postings sum to 50.00, not 0" in problem for problem in problems)


def test_rewritten_chain_fails_against_a_head_noted_earlier(engine) -> None:  # type: ignore[no-untyped-def]
    """Someone who recomputes every hash after a change passes the plain check, but not --expect."""
    from disburse.ledger import chain
    from disburse.ledger.reading import load_chain

    ids = five_entries(engine)
    noted = verify(engine)["COUNTY"].head_hash
    bypass_triggers(
        engine,
        f"UPDATE postings SET amount_fen = 101 WHERE entry_id = {ids[0]} AND line_number = 1",
        f"UPDATE postings SET amount_fen = -101 WHERE entry_id = {ids[0]} AND line_number = 2",
    )
    with transaction(engine) as session:
        columns = load_chain(session, 1)
        hashes = chain.chain_hashes(
            "0" * 64,
            chain.entry_content_texts(columns.batch),
            columns.voucher_numbers,
            1,
            columns.created_by,
            columns.created_at,
        )
    bypass_triggers(
        engine,
        *(f"UPDATE journal_entries SET entry_hash = '{h}' WHERE id = {i}" for i, h in zip(ids, hashes)),
        f"UPDATE chain_heads SET head_hash = '{hashes[-1]}' WHERE entity_id = 1",
    )
    assert verify(engine)["COUNTY"].intact  # the forger recomputed everything
    forged = verify(engine, {"COUNTY": [noted]})["COUNTY"]
    assert "not in the chain" in forged.problems[0]


def test_period_close_head_is_checked(engine) -> None:  # type: ignore[no-untyped-def]
    five_entries(engine)
    with transaction(engine) as session:
        close_period(session, "COUNTY", "2026-10", "carol")
    head = verify(engine)["COUNTY"].head_hash
    assert verify(engine, {"COUNTY": [head]})["COUNTY"].intact
    bypass_triggers(engine, "UPDATE periods SET head_hash = '" + "1" * 64 + "'")
    assert "was closed" in verify(engine)["COUNTY"].problems[0]


def test_unknown_entity_in_expect_is_a_problem(engine) -> None:  # type: ignore[no-untyped-def]
    assert "no such entity" in verify(engine, {"NOPE": ["0" * 64]})["NOPE"].problems[0]
