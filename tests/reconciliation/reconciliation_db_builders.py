"""The worked example of the database tests, in one place.

COUNTY's account at 中国建设银行 6217000099990001 (ledger 102.01), November 2026, in fen:

Books on 102.01
    E1  11-02  Dr 102.01 / Cr 112 (PV-001)      +1,000,000   收国网电费结算 (a hand-written voucher)
    E2  11-03  Dr 513 / Cr 102.01                   −1,500   网银年费 (a hand-written voucher)
    batch BATCH-202611-0001 exported 11-05 (Dr 211 / Cr 102.90): PAY-202611-000001 H001 30,000,
        PAY-202611-000002 H002 20,000, PAY-202611-000003 H003 12,345; the return of 11-06 pays
        the first two (Dr 102.90 / Cr 102.01 −50,000) and fails the third (Dr 102.90 / Cr 211).
    Book balance at 11-30: 1,000,000 − 1,500 − 50,000 = 948,500.

Statement (canonical layout), balance after each line:
    L1  11-02  电费结算 from 国网安康供电公司          +1,000,000   1,000,000
    L2  11-03  手续费                                    −1,500     998,500
    L3  11-05  批量代发 (the batch's control total)       −62,345     936,155
    L4  11-07  代发退回 to card 3, PAY-202611-000003      +12,345     948,500
    L5  11-20  手续费 (not in the books)                    −500     948,000
    L6  11-21  结息 (not in the books)                      +321     948,321
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "payouts"))

from payout_builders import ONE_APPROVER, card, owe, write_return  # noqa: E402

from disburse.foundation.db import transaction  # noqa: E402
from disburse.ledger.model import EntryBatch, EntryDraft, PostingDraft  # noqa: E402
from disburse.ledger.posting import post_entries  # noqa: E402
from disburse.ledger.service import add_bank_account  # noqa: E402
from disburse.payouts.cards import no_cards  # noqa: E402
from disburse.payouts.service import approve_batch, export_batch, prepare_batch  # noqa: E402
from disburse.payouts.settlement import apply_return_file  # noqa: E402

ACCOUNT_NUMBER = "6217000099990001"
LEDGER_ACCOUNT = "102.01"
PERIOD = "2026-11"
BATCH = "BATCH-202611-0001"
GRID_ACCOUNT = "2605000000000001"
GRID_NAME = "国网安康供电公司"
CANONICAL_HEADER = [
    "交易日期",
    "交易时间",
    "流水号",
    "摘要",
    "对方账号",
    "对方户名",
    "支出金额",
    "收入金额",
    "余额",
    "附言",
]
BOOK_BALANCE_FEN = 948_500
BANK_BALANCE_FEN = 948_321

# (date, time, txn id, summary, counterparty account, counterparty name, amount fen, balance fen, memo)
LINES = [
    ("2026-11-02", "09:00:00", "T20261102001", "电费结算", GRID_ACCOUNT, GRID_NAME, 1_000_000, 1_000_000, "10月电费"),
    ("2026-11-03", "10:00:00", "T20261103001", "手续费", "", "", -1_500, 998_500, "网银年费"),
    ("2026-11-05", "11:00:00", "T20261105001", "批量代发", "", "", -62_345, 936_155, "代发光伏收益"),
    (
        "2026-11-07",
        "12:00:00",
        "T20261107001",
        "代发退回",
        card(3),
        "户主H003",
        12_345,
        948_500,
        "PAY-202611-000003 户名不符",
    ),
    ("2026-11-20", "08:00:00", "T20261120001", "手续费", "", "", -500, 948_000, "跨行汇款手续费"),
    ("2026-11-21", "08:00:00", "T20261121001", "结息", "", "", 321, 948_321, "第四季度结息"),
]

RULES = """
rules:
  - name: 银行手续费
    when: {summary_contains: [手续费], direction: out}
    account: "513"
  - name: 存款利息
    when: {summary_contains: [利息, 结息], direction: in}
    account: "504"
  - name: 国网电费结算
    when: {counterparty_name_contains: [国网安康供电公司], direction: in}
    account: "112"
    fund_source: PV-001
"""


def yuan_text(amount_fen: int) -> str:
    return f"{amount_fen // 100}.{amount_fen % 100:02d}"


def write_statement(path: Path, lines: list[tuple]) -> Path:
    """A canonical statement (FORMATS.md section 5) with the given lines."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CANONICAL_HEADER)
        for day, time, txn, summary, account, name, amount, balance, memo in lines:
            writer.writerow(
                [
                    day,
                    time,
                    txn,
                    summary,
                    account,
                    name,
                    yuan_text(-amount) if amount < 0 else "",
                    yuan_text(amount) if amount > 0 else "",
                    yuan_text(balance),
                    memo,
                ]
            )
    return path


def post(session: Session, key: str, drafts: list[EntryDraft]) -> None:
    post_entries(session, EntryBatch.from_drafts(drafts), idempotency_key=key, user="setup")


def build_books(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The books of the worked example (see the module doc)."""
    with transaction(engine) as session:
        add_bank_account(session, "COUNTY", "中国建设银行", ACCOUNT_NUMBER, "setup", "县财政专户")
        post(
            session,
            "worked-example",
            [
                EntryDraft(
                    "COUNTY",
                    PERIOD,
                    dt.date(2026, 11, 2),
                    "收国网电费结算",
                    (PostingDraft(LEDGER_ACCOUNT, 1_000_000), PostingDraft("112", -1_000_000, fund_source="PV-001")),
                ),
                EntryDraft(
                    "COUNTY",
                    PERIOD,
                    dt.date(2026, 11, 3),
                    "支付网银年费",
                    (PostingDraft("513", 1_500), PostingDraft(LEDGER_ACCOUNT, -1_500)),
                ),
            ],
        )
        owe(
            session,
            [
                {"household_id": "H001", "amount_fen": 30_000, "account_no": card(1)},
                {"household_id": "H002", "amount_fen": 20_000, "account_no": card(2)},
                {"household_id": "H003", "amount_fen": 12_345, "account_no": card(3)},
            ],
        )
    with transaction(engine) as session:
        batch = prepare_batch(
            session, "COUNTY", "alice", config=ONE_APPROVER, today=dt.date(2026, 11, 5), card_lookup=no_cards
        ).batch_reference
    assert batch == BATCH
    with transaction(engine) as session:
        approve_batch(session, batch, "bob", ONE_APPROVER)
    with transaction(engine) as session:
        export_batch(session, batch, "generic", tmp_path / "batch.csv", "carol", today=dt.date(2026, 11, 5))
    returned = write_return(
        tmp_path / "return.csv",
        [
            (card(1), "户主H001", 30_000, "成功", "", "PAY-202611-000001"),
            (card(2), "户主H002", 20_000, "成功", "", "PAY-202611-000002"),
            (card(3), "户主H003", 12_345, "失败", "户名不符", "PAY-202611-000003"),
        ],
    )
    with transaction(engine) as session:
        apply_return_file(session, returned, "generic", "carol", on=dt.date(2026, 11, 6))


def account_balances(session: Session) -> dict[str, int]:
    rows = session.execute(text("SELECT account_code, sum(amount_fen) FROM postings GROUP BY account_code")).all()
    return {code: int(total) for code, total in rows}


def posting_ids(session: Session, account_code: str) -> list[int]:
    return [
        int(value)
        for value in session.scalars(
            text("SELECT id FROM postings WHERE account_code = :code ORDER BY id"), {"code": account_code}
        )
    ]


def line_ids(session: Session) -> dict[str, int]:
    """Statement line ids by transaction number."""
    return {txn: int(line_id) for txn, line_id in session.execute(text("SELECT txn_id, id FROM statement_lines"))}
