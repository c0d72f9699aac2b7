"""`disburse reconcile` as a user runs it: the installed console script in a process of its own,
which has imported nothing before the command (issue 11 item 1).

The crash of item 1 came from such a process: a match of several lines or items is inserted
through the ORM with its link rows, and the process had never imported the payout tables the
links refer to (``NoReferencedTableError`` for ``matches.instruction_id``). In-process tests
never saw it, because the test process had imported every table long before.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "payouts"))

from payout_builders import ONE_APPROVER, card, owe, write_return  # noqa: E402
from reconciliation_db_builders import ACCOUNT_NUMBER, CANONICAL_HEADER, LEDGER_ACCOUNT, yuan_text  # noqa: E402

from disburse.foundation.db import transaction  # noqa: E402
from disburse.ledger.service import add_bank_account  # noqa: E402
from disburse.payouts.cards import no_cards  # noqa: E402
from disburse.payouts.service import approve_batch, export_batch, prepare_batch  # noqa: E402
from disburse.payouts.settlement import apply_return_file  # noqa: E402

PAYEES = 60
PAID_ON = dt.date(2026, 11, 6)
# The console script pip installed beside this interpreter: the command a user types.
DISBURSE = Path(sys.executable).with_name("disburse")


def _paid_batch(engine, tmp_path: Path) -> int:  # type: ignore[no-untyped-def]
    """A batch of PAYEES payments, all paid by the bank's return; returns their total."""
    with transaction(engine) as session:
        add_bank_account(session, "COUNTY", "中国建设银行", ACCOUNT_NUMBER, "setup", "县财政专户")
        owe(
            session,
            [
                {"household_id": f"H{number:03d}", "amount_fen": 10_000 + number, "account_no": card(number)}
                for number in range(1, PAYEES + 1)
            ],
        )
    with transaction(engine) as session:
        batch = prepare_batch(
            session, "COUNTY", "alice", config=ONE_APPROVER, today=dt.date(2026, 11, 5), card_lookup=no_cards
        ).batch_reference
    with transaction(engine) as session:
        approve_batch(session, batch, "bob", ONE_APPROVER)
    with transaction(engine) as session:
        export_batch(session, batch, "generic", tmp_path / "batch.csv", "carol", today=dt.date(2026, 11, 5))
        references = session.execute(
            text("SELECT account_no, payment_reference, amount_fen FROM payment_instructions ORDER BY id")
        ).all()
    returned = write_return(
        tmp_path / "return.csv",
        [
            (account, f"户主H{index:03d}", amount, "成功", "", reference)
            for index, (account, reference, amount) in enumerate(references, 1)
        ],
    )
    with transaction(engine) as session:
        apply_return_file(session, returned, "generic", "carol", on=PAID_ON)
    return sum(amount for _, _, amount in references)


def _statement(path: Path, total_fen: int) -> Path:
    """The bank shows the whole batch as one debit line on the day it paid."""
    path.write_text(
        ",".join(CANONICAL_HEADER)
        + "\n"
        + ",".join(
            [
                PAID_ON.isoformat(),
                "10:00:00",
                "T1",
                "批量代发",
                "",
                "",
                yuan_text(total_fen),
                "",
                yuan_text(-total_fen),
                "代发",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return path


def _disburse(database_url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DISBURSE_USER": "dora", "COLUMNS": "200"}
    return subprocess.run(
        [str(DISBURSE), "--db", database_url, *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )


def test_issue11_item1_reconcile_in_a_fresh_process_stores_a_batch_match(
    engine, database_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    total_fen = _paid_batch(engine, tmp_path)
    statement = _statement(tmp_path / "statement.csv", total_fen)
    imported = _disburse(database_url, "import", "bank-statement", str(statement), "--account", LEDGER_ACCOUNT)
    assert imported.returncode == 0, imported.stdout + imported.stderr

    reconciled = _disburse(database_url, "reconcile", "--account", LEDGER_ACCOUNT, "--period", "2026-11")
    output = reconciled.stdout + reconciled.stderr
    assert reconciled.returncode == 0, output
    assert "Traceback" not in output and "Error" not in output
    assert "1 matched, 0 candidate(s)" in output
    with transaction(engine) as session:
        rule, links = session.execute(
            text(
                "SELECT m.rule, (SELECT count(*) FROM match_instructions i WHERE i.match_row_id = m.id) FROM matches m"
            )
        ).one()
    # One debit line against the sixty payments: a match of one line and many items, with its links.
    assert (rule, links) == ("batch_successful", PAYEES)
