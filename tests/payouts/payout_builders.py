"""Helpers for payout tests: books with a bank account, payables owed by a posted entry (as a
posted run leaves them), and return files in the canonical layout (FORMATS.md section 4)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from disburse.ledger.model import EntryBatch, EntryDraft, PostingDraft
from disburse.ledger.posting import post_entries
from disburse.ledger.service import add_bank_account
from disburse.ledger.tables import JournalEntryRow, PostingRow
from disburse.payouts.config import PayoutConfig
from disburse.payouts.payables import record_payables

OCTOBER_31 = dt.date(2026, 10, 31)
NOVEMBER_5 = dt.date(2026, 11, 5)
NOVEMBER_20 = dt.date(2026, 11, 20)
COUNTY_BANK_ACCOUNT = "6217000099990001"
ONE_APPROVER = PayoutConfig(second_approval_above_fen=100_000_000)
LOW_THRESHOLD = PayoutConfig(second_approval_above_fen=10_000)


def card(number: int) -> str:
    """A 16-digit card number."""
    return f"62170000{number:08d}"


def with_bank_account(session: Session, entity: str = "COUNTY") -> str:
    """Register the entity's bank account; returns its 102 sub-account."""
    add_bank_account(session, entity, "中国建设银行", COUNTY_BANK_ACCOUNT, "setup", "县财政专户")
    return session.scalar(
        text("SELECT ledger_account_code FROM bank_accounts WHERE account_number = :n"), {"n": COUNTY_BANK_ACCOUNT}
    )


def owe(
    session: Session,
    rows: list[dict],
    *,
    entity: str = "COUNTY",
    period: str = "2026-10",
    programme: str = "光伏收益分配",
    key: str = "owe-1",
) -> int:
    """Post Dr 322.01 / Cr 211 per row (as a run does) and record the rows as payables.
    Each row: household_id, amount_fen, account_no, and optionally account_name, payee_type,
    payee_id, account_code, programme."""
    frame = pd.DataFrame(
        [
            {
                "entity_code": entity,
                "run_id": None,
                "source_line": index + 1,
                "household_id": row["household_id"],
                "payee_type": row.get("payee_type", "household"),
                "payee_id": row.get("payee_id", row["household_id"]),
                "programme": row.get("programme", programme),
                "fund_source": "PV-2026",
                "account_code": row.get("account_code", "211"),
                "amount_fen": row["amount_fen"],
                "account_no": row["account_no"],
                "account_name": row.get("account_name", f"户主{row['household_id']}"),
                "period": period,
            }
            for index, row in enumerate(rows)
        ]
    )
    frame["amount_fen"] = frame["amount_fen"].astype("int64")
    if any("bank_name" in row for row in rows):
        frame["bank_name"] = [row.get("bank_name") for row in rows]
    date = dt.date(int(period[:4]), int(period[5:]), 28)
    drafts = [
        EntryDraft(
            entity,
            period,
            date,
            f"{programme} 分配",
            (
                PostingDraft("322.01", int(row.amount_fen)),
                PostingDraft(row.account_code, -int(row.amount_fen), row.household_id, "PV-2026"),
            ),
            source_kind="test",
        )
        for row in frame.itertuples()
    ]
    post_entries(session, EntryBatch.from_drafts(drafts), idempotency_key=key, user="setup")
    return record_payables(session, frame)


def write_return(path: Path, lines: list[tuple[str, str, int, str, str, str]]) -> Path:
    """A canonical return file: (账号, 户名, amount in fen, 成功|失败, 失败原因, 摘要) per line."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["账号", "户名", "金额", "处理结果", "失败原因", "摘要"])
        for account, name, amount_fen, status, reason, memo in lines:
            writer.writerow([account, name, f"{amount_fen // 100}.{amount_fen % 100:02d}", status, reason, memo])
    return path


def balances(session: Session, entity: str = "COUNTY") -> dict[str, int]:
    """Balance per account (debit positive) over every posted entry of the entity."""
    rows = session.execute(
        text(
            "SELECT p.account_code, sum(p.amount_fen) FROM postings p JOIN journal_entries e ON e.id = p.entry_id "
            "JOIN entities n ON n.id = e.entity_id WHERE n.code = :entity GROUP BY p.account_code"
        ),
        {"entity": entity},
    ).all()
    return {code: int(total) for code, total in rows}


def postings_total(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(PostingRow.amount_fen), 0))))


def entry_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(JournalEntryRow)))


def instructions(session: Session, batch: str) -> list:
    return session.execute(
        text(
            "SELECT i.payment_reference, i.payee_id, i.household_id, i.account_no, i.account_name, i.amount_fen, "
            "i.status, i.failure_reason FROM payment_instructions i JOIN payment_batches b ON b.id = i.batch_id "
            "WHERE b.batch_reference = :batch ORDER BY i.id"
        ),
        {"batch": batch},
    ).all()


def prepare_in_own_process(database_url: str, user: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    """Run one `payout prepare` with its own engine (a separate process's view of the books)."""
    from disburse.foundation.db import make_engine, transaction
    from disburse.payouts.cards import no_cards
    from disburse.payouts.service import prepare_batch

    engine = make_engine(database_url)
    try:
        barrier.wait(timeout=60)
        with transaction(engine) as session:
            outcome = prepare_batch(
                session, "COUNTY", user, config=ONE_APPROVER, today=NOVEMBER_5, card_lookup=no_cards
            )
        results.put((user, outcome.batch_reference, outcome.instruction_count, outcome.payable_count))
    except BaseException as error:  # reported to the parent, which fails the test
        results.put((user, "error", repr(error), 0))
    finally:
        engine.dispose()
