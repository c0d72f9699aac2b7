"""Issue 14 item 1: after any sequence of prepare / bank answer (each payment a success or a
failure) / cancel / 退回, every indicator keeps

    issued = available + returned + awaiting + frozen + paid      (each part ≥ 0)

and its figures agree with the payables themselves, counted independently of the movements:
drawn = the run's payables, frozen = those claimed by a batch, paid = those paid, awaiting =
those open (a subsidy run's lines are all payable); and the 资金指标执行表 ties to the ledger."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pytest
from funds_setup import NEW_FUND, write_funds, write_rule
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from tiny_county import import_tiny_county, write_files

from disburse.allocations.funds import import_indicators, indicator_named, return_funds
from disburse.allocations.runs import approve_run, calculate_run, post_run
from disburse.foundation.db import make_engine, transaction
from disburse.payouts.common import batch_instructions
from disburse.payouts.config import PayoutConfig
from disburse.payouts.payables import record_payables
from disburse.payouts.service import approve_batch, batch_by_reference, cancel_batch, export_batch, prepare_batch
from disburse.payouts.settlement import apply_return_file
from disburse.reports.funds import funds_report
from disburse.schema import migrate as schema

ONE_APPROVER = PayoutConfig(second_approval_above_fen=100_000_000)
TODAY = dt.date(2026, 12, 3)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Books with the tiny county, the indicators and run 1 (300.00 on 商财社〔2026〕3号) posted."""
    directory = tmp_path_factory.mktemp("funds-template")
    path = directory / "books.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    schema.migrate(engine)
    with transaction(engine) as session:
        schema.seed(session)
    import_tiny_county(url, write_files(directory / "county"))
    with transaction(engine) as session:
        import_indicators(session, write_funds(directory), "clerk")
        run = calculate_run(session, write_rule(directory), "2026-10", "clerk")
    with transaction(engine) as session:
        approve_run(session, run.run_id, "checker")
        record_payables(session, post_run(session, run.run_id, "checker").payables)
    engine.dispose()
    return path


def _prepared_batch(session) -> str | None:  # type: ignore[no-untyped-def]
    return session.execute(
        text("SELECT batch_reference FROM payment_batches WHERE status = 'prepared' ORDER BY id DESC")
    ).scalar()


def _answer(session, directory: Path, reference: str, successes: list[bool], number: int) -> None:  # type: ignore[no-untyped-def]
    """Approve and export the batch, then apply the bank's answer: payment i succeeds when
    successes[i % len] is true."""
    approve_batch(session, reference, "checker", config=ONE_APPROVER)
    export_batch(session, reference, "generic", directory / f"batch-{number}.csv", "cashier", today=TODAY)
    rows = batch_instructions(session, batch_by_reference(session, reference).id)
    path = directory / f"return-{number}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["账号", "户名", "金额", "处理结果", "失败原因", "摘要"])
        for index, row in enumerate(rows.itertuples(index=False)):
            good = successes[index % len(successes)]
            amount = int(row.amount_fen)
            writer.writerow(
                [
                    row.account_no,
                    row.account_name,
                    f"{amount // 100}.{amount % 100:02d}",
                    "成功" if good else "失败",
                    "" if good else "户名不符",
                    row.payment_reference,
                ]
            )
    apply_return_file(session, path, "generic", "cashier", on=TODAY)


def _step(session, directory: Path, operation: tuple, number: int) -> int:  # type: ignore[no-untyped-def, type-arg]
    """One operation; returns the fen it returned upstream (退回)."""
    kind = operation[0]
    if kind == "prepare":
        prepare_batch(session, "COUNTY", "cashier", force=True, today=TODAY, config=ONE_APPROVER)
    elif kind in ("answer", "cancel"):
        reference = _prepared_batch(session)
        if reference is not None and kind == "answer":
            _answer(session, directory, reference, operation[1], number)
        elif reference is not None:
            cancel_batch(session, reference, "checker")
    else:
        amount_fen = min(operation[1], indicator_named(session, NEW_FUND).available_fen)
        if amount_fen > 0:
            return_funds(session, NEW_FUND, f"{amount_fen // 100}.{amount_fen % 100:02d}", "结余", "checker")
            return amount_fen
    return 0


def _check(session, returned_fen: int) -> None:  # type: ignore[no-untyped-def]
    figures = indicator_named(session, NEW_FUND)
    assert figures.problems() == []
    sums = dict(
        session.execute(text("SELECT status, sum(amount_fen) FROM payables WHERE run_id = 1 GROUP BY status")).all()
    )
    assert figures.drawn_fen == 30_000 == sum(sums.values())
    assert figures.frozen_fen == sums.get("claimed", 0)
    assert figures.paid_fen == sums.get("paid", 0)
    assert figures.awaiting_fen == sums.get("open", 0)
    assert figures.returned_fen == returned_fen
    assert figures.issued_fen == (
        figures.available_fen + figures.returned_fen + figures.awaiting_fen + figures.frozen_fen + figures.paid_fen
    )
    assert funds_report(session).all_tie


OPERATIONS = st.one_of(
    st.just(("prepare",)),
    st.tuples(st.just("answer"), st.lists(st.booleans(), min_size=1, max_size=3)),
    st.just(("cancel",)),
    st.tuples(st.just("return"), st.integers(min_value=1, max_value=80_000)),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(OPERATIONS, min_size=1, max_size=7))
def test_the_identity_holds_after_any_sequence(template: Path, tmp_path_factory, operations) -> None:  # type: ignore[no-untyped-def]
    directory = tmp_path_factory.mktemp("funds-run")
    shutil.copy(template, directory / "books.db")
    engine = make_engine(f"sqlite:///{directory / 'books.db'}")
    returned_fen = 0
    try:
        for number, operation in enumerate(operations):
            with transaction(engine) as session:
                returned_fen += _step(session, directory, operation, number)
            with transaction(engine) as session:
                _check(session, returned_fen)
    finally:
        engine.dispose()
