"""Manual vouchers (记账凭证) and chart-of-accounts lines, read from the files finance staff keep.

Voucher file: one row per line of a voucher, 凭证号 grouping rows into one entry; 日期, 摘要,
科目编码, 借方金额 / 贷方金额 (exactly one of them on a row), 户编号 and 资金来源 optional.
Accounts file: 科目编码, 科目名称, 科目类型. Both refuse the whole file on any error, listing
every problem with file, row, column, value and reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from disburse.foundation.dates import period_of
from disburse.foundation.errors import ImportProblem, ImportRefused
from disburse.foundation.files import file_sha256
from disburse.importers.common import CheckContext, ImportContext, ParsedFile, run_checks, typed_columns
from disburse.importers.fields import FREE_IDENTIFIER, parse_amounts_fen, parse_dates, parse_identifiers, parse_text
from disburse.importers.reading import ColumnSpec, TableSpec, read_table
from disburse.ledger.chart import Account
from disburse.ledger.model import EntryDraft, PostingDraft
from disburse.ledger.service import account_type_of

VOUCHER_SPEC = TableSpec(
    "记账凭证",
    (
        ColumnSpec("凭证号", "voucher", ("凭证编号",)),
        ColumnSpec("日期", "date", ("凭证日期",)),
        ColumnSpec("摘要", "memo"),
        ColumnSpec("科目编码", "account", ("科目代码",)),
        ColumnSpec("借方金额", "debit", ("借方",), required=False),
        ColumnSpec("贷方金额", "credit", ("贷方",), required=False),
        ColumnSpec("户编号", "household", required=False),
        ColumnSpec("资金来源", "fund", required=False),
    ),
)
VOUCHER_COLUMNS = ("voucher", "date", "memo", "account", "debit_fen", "credit_fen", "household", "fund", "source_row")

ACCOUNTS_SPEC = TableSpec(
    "会计科目",
    (
        ColumnSpec("科目编码", "code", ("科目代码",)),
        ColumnSpec("科目名称", "name"),
        ColumnSpec("科目类型", "type", ("科目类别",)),
    ),
)


def voucher_fields(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """Type the cells; a row carries a debit or a credit, never both and never neither."""
    typed, problems, put = typed_columns(frame)
    for name, values in (
        ("voucher", parse_identifiers(frame["voucher"], context.source(frame, "voucher"), FREE_IDENTIFIER)),
        ("date", parse_dates(frame["date"], context.source(frame, "date"), required=True, what=context.header("date"))),
        ("memo", parse_text(frame["memo"], context.source(frame, "memo"), required=True, what=context.header("memo"))),
        ("account", parse_identifiers(frame["account"], context.source(frame, "account"), FREE_IDENTIFIER)),
        (
            "debit_fen",
            parse_amounts_fen(
                frame["debit"], context.source(frame, "debit"), required=False, what=context.header("debit")
            ),
        ),
        (
            "credit_fen",
            parse_amounts_fen(
                frame["credit"], context.source(frame, "credit"), required=False, what=context.header("credit")
            ),
        ),
        (
            "household",
            parse_identifiers(frame["household"], context.source(frame, "household"), FREE_IDENTIFIER, required=False),
        ),
        ("fund", parse_text(frame["fund"], context.source(frame, "fund"), required=False, what=context.header("fund"))),
    ):
        put(name, values)
    debit = typed["debit_fen"].to_numpy(dtype=np.int64)
    credit = typed["credit_fen"].to_numpy(dtype=np.int64)
    both = (debit != 0) & (credit != 0)
    neither = (debit == 0) & (credit == 0)
    problems += context.problems(
        typed, both, "credit", typed["credit_fen"].to_numpy(), "a line has a debit or a credit, not both"
    )
    problems += context.problems(
        typed, neither, "debit", typed["debit_fen"].to_numpy(), "a line needs a debit or a credit amount"
    )
    negative = (debit < 0) | (credit < 0)
    problems += context.problems(typed, negative, "debit", debit, "amounts are positive; put a credit in 贷方金额")
    return typed, problems


def voucher_dates_agree(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """All lines of one voucher carry the same date."""
    dates = frame["date"]
    distinct = (
        frame.assign(date_text=dates.astype(str)).groupby("voucher", sort=False)["date_text"].transform("nunique")
    )
    mask = (distinct > 1).to_numpy()
    return frame, context.problems(
        frame, mask, "date", dates.astype(str).to_numpy(), "lines of one voucher have different dates"
    )


def parse_voucher_file(path: str | os.PathLike[str]) -> ParsedFile:
    raw = read_table(path, VOUCHER_SPEC)
    return run_checks(raw, VOUCHER_SPEC, (voucher_fields, voucher_dates_agree), VOUCHER_COLUMNS, ImportContext())


def parse_vouchers(path: str | os.PathLike[str], entity_code: str) -> tuple[list[EntryDraft], str]:
    """The entries of a voucher file and the file's SHA-256; refuses the file on any problem.
    Each entry's label names the voucher and its rows, so a balance error points into the file."""
    parsed = parse_voucher_file(path)
    if parsed.refused:
        raise ImportRefused(list(parsed.problems))
    frame = parsed.frame
    name = Path(path).name
    drafts: list[EntryDraft] = []
    for voucher, lines in frame.groupby("voucher", sort=False):
        rows = lines["source_row"].tolist()
        date = pd.Timestamp(lines["date"].iloc[0]).date()
        postings = tuple(
            PostingDraft(
                account_code=str(account),
                amount_fen=int(debit) - int(credit),
                household_id=household if isinstance(household, str) and household else None,
                fund_source=fund if isinstance(fund, str) and fund else None,
            )
            for account, debit, credit, household, fund in zip(
                lines["account"], lines["debit_fen"], lines["credit_fen"], lines["household"], lines["fund"]
            )
        )
        drafts.append(
            EntryDraft(
                entity_code=entity_code,
                period=period_of(date),
                entry_date=date,
                memo=str(lines["memo"].iloc[0]),
                postings=postings,
                source_kind="manual",
                source_reference=f"{name} 凭证号 {voucher}",
                label=f"{name} 凭证号 {voucher}, rows {rows[0]}-{rows[-1]}"
                if len(rows) > 1
                else f"{name} 凭证号 {voucher}, row {rows[0]}",
            )
        )
    return drafts, file_sha256(path)


def parse_accounts(path: str | os.PathLike[str]) -> list[Account]:
    """Chart lines from a file; refuses the file on any problem (unknown type, blank name…)."""
    raw = read_table(path, ACCOUNTS_SPEC)
    problems = list(raw.problems)
    if not raw.readable:
        raise ImportRefused(problems)
    name = os.fspath(path)
    accounts: list[Account] = []
    for row, code, title, kind in zip(raw.source_rows, raw.frame["code"], raw.frame["name"], raw.frame["type"]):
        code_text = "" if code is None else str(code).strip()
        if isinstance(code, float) or not code_text or not all(part.isdigit() for part in code_text.split(".")):
            problems.append(
                ImportProblem(
                    name,
                    int(row),
                    raw.columns_found.get("code", "科目编码"),
                    code_text,
                    "an account code is digits with dots between levels (211.01), written as text",
                    "error",
                )
            )
            continue
        account_type = account_type_of(str(kind or ""))
        if account_type is None:
            problems.append(
                ImportProblem(
                    name,
                    int(row),
                    raw.columns_found.get("type", "科目类型"),
                    str(kind or ""),
                    "科目类型 is one of 资产, 负债, 所有者权益, 成本, 收入, 费用 (or asset … expense)",
                    "error",
                )
            )
            continue
        if not title or not str(title).strip():
            problems.append(
                ImportProblem(
                    name, int(row), raw.columns_found.get("name", "科目名称"), "", "科目名称 is required", "error"
                )
            )
            continue
        accounts.append(Account(code_text, str(title).strip(), account_type))
    if any(problem.severity == "error" for problem in problems):
        raise ImportRefused(problems)
    return accounts
