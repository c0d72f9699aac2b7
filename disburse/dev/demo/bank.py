"""A simulated bank for the demo: it answers an exported batch with a return file (some payees
fail, as real ones do: a name mismatch, a closed account) and writes the month's statement of
the county's account in the canonical layout (FORMATS.md section 5), with balances that chain.

Nothing here is used outside the demo and its tests.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from disburse.foundation.money import format_yuan
from disburse.importers.bank_profiles import BankProfile

FAILURE_REASONS = ("户名不符", "账户已销户", "账户冻结", "账号不存在")
GRID_COMPANY = "国网陕西省电力有限公司商洛供电公司"
GRID_ACCOUNT = "2605000000000001"


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One line of the simulated statement (amount signed: + into our account)."""

    booked_on: dt.date
    summary: str
    counterparty_account: str
    counterparty_name: str
    amount_fen: int
    memo: str


def _yuan(amount_fen: int) -> str:
    return format_yuan(abs(amount_fen), thousands=False)


def write_return_file(
    instructions: pd.DataFrame, profile: BankProfile, path: Path, failure_share_percent: int, seed: int
) -> pd.DataFrame:
    """The bank's answer to a batch: one line per instruction, in ``profile``'s return layout.
    Returns the instructions with ``status`` and ``reason`` as the bank decided them."""
    layout = profile.bank_return
    assert layout is not None, f"profile {profile} has no return layout"
    rng = np.random.default_rng(seed)
    decided = instructions.sort_values("payment_reference").reset_index(drop=True).copy()
    failing = rng.random(len(decided)) < failure_share_percent / 100
    decided["status"] = np.where(failing, "failure", "success")
    decided["reason"] = [FAILURE_REASONS[int(rng.integers(len(FAILURE_REASONS)))] if fail else "" for fail in failing]

    def header(field: str) -> str:
        names = layout.columns[field]
        return names if isinstance(names, str) else names[0]

    fields = ("account_no", "account_name", "amount", "status", "reason", "memo")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([header(field) for field in fields])
        for row in decided.to_dict("records"):
            writer.writerow(
                [
                    row["account_no"],
                    row["account_name"],
                    _yuan(int(row["amount_fen"])),
                    layout.success_values[0] if row["status"] == "success" else layout.failure_values[0],
                    row["reason"],
                    row["payment_reference"],
                ]
            )
    return decided


def write_statement(path: Path, opening_balance_fen: int, lines: list[StatementLine], first_transaction: int) -> int:
    """The month's statement in the canonical layout; returns the closing balance."""
    balance = opening_balance_fen
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["交易日期", "交易时间", "流水号", "摘要", "对方账号", "对方户名", "支出金额", "收入金额", "余额", "附言"]
        )
        for number, line in enumerate(sorted(lines, key=lambda item: item.booked_on), start=first_transaction):
            balance += line.amount_fen
            writer.writerow(
                [
                    line.booked_on.isoformat(),
                    f"{9 + number % 8:02d}:{number % 60:02d}:00",
                    f"TX{number:010d}",
                    line.summary,
                    line.counterparty_account,
                    line.counterparty_name,
                    _yuan(line.amount_fen) if line.amount_fen < 0 else "",
                    _yuan(line.amount_fen) if line.amount_fen > 0 else "",
                    format_yuan(balance, thousands=False),
                    line.memo,
                ]
            )
    return balance


def month_statement_lines(
    *,
    on: dt.date,
    batch_reference: str,
    decided: pd.DataFrame,
    settlement_receipts: list[tuple[str, int]],
    fee_per_payee_fen: int,
    interest_fen: int,
) -> list[StatementLine]:
    """What the bank did this month: the grid company paid settlements; the batch was debited at
    its control total and the failures refunded line by line; a fee per payee; interest."""
    lines = [
        StatementLine(on, "电费结算", GRID_ACCOUNT, GRID_COMPANY, amount, f"{station} 电费结算")
        for station, amount in settlement_receipts
    ]
    control_total = int(decided["amount_fen"].sum())
    lines.append(StatementLine(on, "代发", "", "批量代发", -control_total, batch_reference))
    for row in decided[decided["status"] == "failure"].to_dict("records"):
        lines.append(
            StatementLine(
                on,
                "代发退汇",
                row["account_no"],
                row["account_name"],
                int(row["amount_fen"]),
                f"退汇 {row['payment_reference']} {row['reason']}",
            )
        )
    lines.append(
        StatementLine(on, "手续费", "", "", -fee_per_payee_fen * len(decided), f"{batch_reference} 代发手续费")
    )
    lines.append(StatementLine(on, "结息", "", "", interest_fen, "活期存款利息"))
    return lines
