"""The poster hashes on another core while it writes: the chain it stores must be exactly the
chain computed in one process (which is what `verify` recomputes), chunk boundaries and
interleaved entities included; and a worker that fails or is abandoned never leaves a
process behind or a half-written post."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from ledger_builders import batch, draft
from sqlalchemy import select

from disburse.foundation.db import transaction
from disburse.ledger import chain, posting
from disburse.ledger.parallel import WorkerFailed, fork_available, produced_in_parallel
from disburse.ledger.service import add_entity
from disburse.ledger.tables import ChainHeadRow, JournalEntryRow, PostRequestRow
from disburse.ledger.verify import verify_books


@pytest.fixture(autouse=True)
def _forking(request):  # type: ignore[no-untyped-def]
    """The poster forks only from a process of one thread; a pytest-xdist worker has more, so
    there these tests are run again in a process of their own (the last test below)."""
    if not fork_available() and request.function is not test_the_forking_tests_in_a_process_of_one_thread:
        pytest.skip("no fork here (no os.fork, or other threads running): hashing runs in one process")


VILLAGE = "611002001001"
POSTED_AT = dt.datetime(2026, 10, 31, 9, 30)


def mixed_drafts(count: int):  # type: ignore[no-untyped-def]
    """Entries of two entities interleaved irregularly, across two periods."""
    drafts = []
    for number in range(count):
        entity = VILLAGE if number % 3 == 1 or number % 7 == 0 else "COUNTY"
        date = dt.date(2026, 10, 5) if number % 5 else dt.date(2026, 11, 2)
        drafts.append(
            draft(
                ("102", 100 + number),
                ("501", -(100 + number)),
                entity=entity,
                date=date,
                memo=f"memo {number % 4}",
                household=f"H{number:05d}",
            )
        )
    return drafts


def post_mixed(engine, monkeypatch, *, parallel: bool, chunk_entries: int):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(posting, "PARALLEL_HASHING_ENTRIES_MIN", 1 if parallel else 10**9)
    monkeypatch.setattr(posting, "HASH_CHUNK_ENTRIES", chunk_entries)
    monkeypatch.setattr(posting, "HASH_CHUNK_ENTRIES_MIN", 1)
    monkeypatch.setattr(posting, "HASH_CHUNKS_MIN", 1)
    with transaction(engine) as session:
        add_entity(session, VILLAGE, "大荆村", "village", "alice")
        posting.post_entries(session, batch(*mixed_drafts(5)), idempotency_key="before", user="alice", now=POSTED_AT)
        posting.post_entries(session, batch(*mixed_drafts(61)), idempotency_key="mixed", user="bob", now=POSTED_AT)
    with transaction(engine) as session:
        hashes = session.execute(
            select(JournalEntryRow.id, JournalEntryRow.entry_hash).order_by(JournalEntryRow.id)
        ).all()
        heads = session.execute(
            select(ChainHeadRow.entity_id, ChainHeadRow.last_sequence, ChainHeadRow.head_hash).order_by(
                ChainHeadRow.entity_id
            )
        ).all()
        input_hashes = session.scalars(select(PostRequestRow.input_hash).order_by(PostRequestRow.id)).all()
        reports = verify_books(session)
    return [tuple(row) for row in hashes], [tuple(row) for row in heads], list(input_hashes), reports


def test_parallel_chain_equals_the_single_process_chain(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    stored, heads, input_hashes, reports = post_mixed(engine, monkeypatch, parallel=True, chunk_entries=7)
    assert all(report.intact for report in reports), [report.problems for report in reports]
    # The same entries hashed in one process, in one chunk, by the functions verify uses.
    expected_inputs = [chain.input_hash(chain.entry_content_texts(batch(*mixed_drafts(count)))) for count in (5, 61)]
    assert input_hashes == expected_inputs
    assert all(len(value) == 64 for _, value in stored) and len({value for _, value in stored}) == len(stored) == 66
    # Each entity's head is the hash of its last entry, at the count of its entries.
    county_entries = sum(1 for count in (5, 61) for number in range(count) if not (number % 3 == 1 or number % 7 == 0))
    assert heads[0][1] == county_entries and heads[1][1] == 66 - county_entries


def test_chunking_and_worker_do_not_change_a_single_hash(tmp_path, monkeypatch, sqlite_template) -> None:  # type: ignore[no-untyped-def]
    from database_support import new_database

    from disburse.foundation.db import make_engine

    results = []
    for parallel, chunk_entries in ((False, 1_000), (True, 7), (True, 1)):
        directory = tmp_path / f"{parallel}-{chunk_entries}"
        directory.mkdir()
        url = new_database("sqlite", directory, sqlite_template, None)
        engine = make_engine(url)
        try:
            stored, heads, input_hashes, _ = post_mixed(
                engine, monkeypatch, parallel=parallel, chunk_entries=chunk_entries
            )
        finally:
            engine.dispose()
        results.append((stored, heads, input_hashes))
    assert results[0] == results[1] == results[2]


@pytest.fixture
def forked(monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    """The pids of the workers forked during a test."""
    pids: list[int] = []
    real_fork = os.fork

    def recording_fork() -> int:
        pid = real_fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recording_fork)
    return pids


def assert_reaped(pids: list[int]) -> None:
    """Every worker has ended and been waited for (none left running or as a zombie)."""
    assert pids
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_a_failing_worker_is_reported_and_leaves_no_process(forked) -> None:  # type: ignore[no-untyped-def]
    def produce():  # type: ignore[no-untyped-def]
        yield 1
        raise ValueError("broken canonical text")

    with pytest.raises(WorkerFailed, match="broken canonical text"):
        with produced_in_parallel(produce, parallel=True) as items:
            assert list(items) == [1]
    assert_reaped(forked)


def test_leaving_early_stops_the_worker(forked) -> None:  # type: ignore[no-untyped-def]
    def produce():  # type: ignore[no-untyped-def]
        number = 0
        while True:  # would never end on its own
            yield [number] * 1000
            number += 1

    with pytest.raises(RuntimeError, match="writer failed"):
        with produced_in_parallel(produce, parallel=True) as items:
            next(items)
            raise RuntimeError("writer failed")
    assert_reaped(forked)


def test_a_refused_post_after_hashing_starts_writes_nothing(engine, monkeypatch, forked) -> None:  # type: ignore[no-untyped-def]
    """The insert fails in the middle of the chunks: the worker is stopped and the transaction
    rolls back."""
    monkeypatch.setattr(posting, "PARALLEL_HASHING_ENTRIES_MIN", 1)
    monkeypatch.setattr(posting, "HASH_CHUNK_ENTRIES", 3)
    monkeypatch.setattr(posting, "HASH_CHUNK_ENTRIES_MIN", 1)
    monkeypatch.setattr(posting, "HASH_CHUNKS_MIN", 1)
    calls = []
    original = posting.columns_insert

    def failing_insert(*arguments):  # type: ignore[no-untyped-def]
        calls.append(arguments[1])
        if len(calls) == 3:
            raise OSError("disk full")
        return original(*arguments)

    monkeypatch.setattr(posting, "columns_insert", failing_insert)
    with transaction(engine) as session:
        add_entity(session, VILLAGE, "大荆村", "village", "alice")
    with pytest.raises(OSError, match="disk full"):
        with transaction(engine) as session:
            posting.post_entries(session, batch(*mixed_drafts(10)), idempotency_key="fails", user="alice")
    with transaction(engine) as session:
        assert session.scalar(select(JournalEntryRow.id)) is None
        assert session.scalar(select(PostRequestRow.id)) is None
    assert_reaped(forked)


def test_a_process_with_other_threads_hashes_in_process(forked) -> None:  # type: ignore[no-untyped-def]
    import threading

    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        with produced_in_parallel(lambda: iter([1, 2, 3]), parallel=True) as items:
            assert list(items) == [1, 2, 3]
    finally:
        release.set()
        other.join()
    assert forked == []


def test_canonical_texts_written_out_by_hand() -> None:
    """Entries with different heads and posting counts, and a range of them: the exact text the
    chain covers (fields \\x1f, postings \\x1e), whichever path builds it."""
    drafts = [
        draft(("102", 100), ("501", -100), memo="a"),
        draft(("102", 250), ("501", -200), ("513", -50), memo="b", household="H1"),
        draft(("102", 7), ("501", -7), memo="a", date=dt.date(2026, 11, 2)),
    ]
    texts = chain.entry_content_texts(batch(*drafts))
    head = "COUNTY\x1f2026-10\x1f2026-10-05\x1f{memo}\x1fmanual\x1f\x1f\x1e"
    assert texts[0] == head.format(memo="a") + "102\x1f100\x1f\x1f\x1f\x1e501\x1f-100\x1f\x1f\x1f"
    assert texts[1] == (
        head.format(memo="b") + "102\x1f250\x1fH1\x1f\x1f\x1e501\x1f-200\x1fH1\x1f\x1f\x1e513\x1f-50\x1fH1\x1f\x1f"
    )
    assert (
        texts[2]
        == "COUNTY\x1f2026-11\x1f2026-11-02\x1fa\x1fmanual\x1f\x1f\x1e102\x1f7\x1f\x1f\x1f\x1e501\x1f-7\x1f\x1f\x1f"
    )
    assert chain.entry_content_texts(batch(*drafts), 1, 3) == texts[1:]
    same_shape = batch(drafts[0], drafts[2])
    assert chain.entry_content_texts(same_shape) == [texts[0], texts[2]]


def test_the_forking_tests_in_a_process_of_one_thread() -> None:
    if fork_available():
        pytest.skip("this process may fork: the tests above ran in it")
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform: hashing runs in one process")
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:xdist", "-p", "no:cacheprovider", __file__,
         "-k", "not in_a_process_of_one_thread"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-2000:]
    # Skips for want of PostgreSQL are fine; a skip for want of fork would mean nothing was tested.
    assert " passed" in ran.stdout and "no fork here" not in ran.stdout, ran.stdout[-2000:]
