"""The counter's query reads one household through indexes, never a scan of the payables or
instructions (a province holds a million households and a year of monthly runs)."""

from __future__ import annotations

from sqlalchemy import text

from disburse.foundation.db import transaction
from disburse.payouts.status import FAILED_QUERY, PAYABLES_QUERY


def _plan(session, query) -> str:  # type: ignore[no-untyped-def]
    dialect = session.get_bind().dialect.name
    parameters = {"household": "H000001", "limit": 100}
    if dialect == "sqlite":
        rows = session.execute(text(f"EXPLAIN QUERY PLAN {query.text}"), parameters).all()
        return "\n".join(str(row[-1]) for row in rows)
    # With empty tables the planner may prefer a scan; forbid it to see that an index serves.
    session.execute(text("SET LOCAL enable_seqscan = off"))
    rows = session.execute(text(f"EXPLAIN {query.text}"), parameters).all()
    return "\n".join(row[0] for row in rows)


def test_status_queries_use_the_household_indexes(engine) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        payables_plan = _plan(session, PAYABLES_QUERY)
        failed_plan = _plan(session, FAILED_QUERY)
    assert "ix_payables_household_id" in payables_plan, payables_plan
    assert "ix_payment_instructions_household_id" in failed_plan, failed_plan
    for plan in (payables_plan, failed_plan):
        assert "SCAN p " not in plan + " " and "SCAN i " not in plan + " ", plan
        assert "Seq Scan" not in plan, plan


def test_the_claim_of_a_payable_is_found_by_the_partial_index(engine) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        plan = _plan(session, PAYABLES_QUERY)
    assert "uq_instruction_payables_active_claim" in plan, plan
