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

from disburse.foundation.errors import ImportProblem, ImportRefused
from disburse.foundation.files import file_sha256
from disburse.foundation.i18n import tr
from disburse.importers.common import CheckContext, ImportContext, ParsedFile, run_checks, typed_columns
from disburse.importers.fields import FREE_IDENTIFIER, parse_amounts_fen, parse_dates, parse_identifiers, parse_text
from disburse.importers.reading import ColumnSpec, TableSpec, read_table
from disburse.ledger.chart import Account
from disburse.ledger.model import EntryBatch
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
        typed, both, "credit", typed["credit_fen"].to_numpy(), tr("a line has a debit or a credit, not both")
    )
    problems += context.problems(
        typed, neither, "debit", typed["debit_fen"].to_numpy(), tr("a line needs a debit or a credit amount")
    )
    negative = (debit < 0) | (credit < 0)
    problems += context.problems(typed, negative, "debit", debit, tr("amounts are positive; put a credit in 贷方金额"))
    return typed, problems


def voucher_dates_agree(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """All lines of one voucher carry the same date."""
    dates = frame["date"]
    distinct = (
        frame.assign(date_text=dates.astype(str)).groupby("voucher", sort=False)["date_text"].transform("nunique")
    )
    mask = (distinct > 1).to_numpy()
    return frame, context.problems(
        frame, mask, "date", dates.astype(str).to_numpy(), tr("lines of one voucher have different dates")
    )


def parse_voucher_file(path: str | os.PathLike[str]) -> ParsedFile:
    raw = read_table(path, VOUCHER_SPEC)
    return run_checks(raw, VOUCHER_SPEC, (voucher_fields, voucher_dates_agree), VOUCHER_COLUMNS, ImportContext())


def parse_vouchers(path: str | os.PathLike[str], entity_code: str) -> tuple[EntryBatch, str]:
    """The entries of a voucher file as one columnar batch, and the file's SHA-256; refuses the
    file on any problem. Each entry's label names the voucher and its rows, so a balance error
    points into the file. Built column by column: a file of 100,000 vouchers is one pass of
    array operations, not 100,000 groups."""
    parsed = parse_voucher_file(path)
    if parsed.refused:
        raise ImportRefused(list(parsed.problems))
    if len(parsed.frame) == 0:
        raise ImportRefused(
            [ImportProblem(os.fspath(path), None, None, "", tr("the file has a header and no vouchers"))]
        )
    return _voucher_batch(parsed.frame, Path(path).name, entity_code), file_sha256(path)


def _voucher_batch(frame: pd.DataFrame, name: str, entity_code: str) -> EntryBatch:
    """Rows grouped into entries by 凭证号 in the order vouchers first appear, each voucher's
    rows in file order; the entry's date and memo are its first row's."""
    codes, vouchers = pd.factorize(frame["voucher"], sort=False)
    order = np.argsort(codes, kind="stable")
    entry_index = codes[order].astype(np.int64)
    count = len(vouchers)
    starts = np.searchsorted(entry_index, np.arange(count))
    ends = np.append(starts[1:], len(entry_index))
    days = frame["date"].to_numpy(dtype="datetime64[D]")[order][starts]
    rows = frame["source_row"].to_numpy(dtype=np.int64)[order]
    first_rows, last_rows = rows[starts].tolist(), rows[ends - 1].tolist()
    references = [f"{name} 凭证号 {voucher}" for voucher in vouchers.tolist()]
    labels = [
        f"{reference}, rows {first}-{last}" if last != first else f"{reference}, row {first}"
        for reference, first, last in zip(references, first_rows, last_rows)
    ]
    amounts = frame["debit_fen"].to_numpy(dtype=np.int64) - frame["credit_fen"].to_numpy(dtype=np.int64)
    return EntryBatch(
        entity_code=[entity_code] * count,
        period=np.datetime_as_string(days, unit="M").tolist(),
        entry_date=days.astype(object).tolist(),
        memo=frame["memo"].to_numpy(dtype=object)[order][starts].astype(str).tolist(),
        source_kind=["manual"] * count,
        source_reference=references,
        reverses_entry_id=[None] * count,
        label=labels,
        posting_entry_index=entry_index,
        account_code=frame["account"].to_numpy(dtype=object)[order].astype(str).tolist(),
        amount_fen=amounts[order],
        household_id=_present_texts(frame["household"].to_numpy(dtype=object)[order]),
        fund_source=_present_texts(frame["fund"].to_numpy(dtype=object)[order]),
        payment_reference=[None] * len(order),
    )


def _present_texts(values: np.ndarray) -> list[str | None]:
    """Non-empty text as it is, anything else (blank, None) as None."""
    return [value if value.__class__ is str and value else None for value in values.tolist()]


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
                    tr("an account code is digits with dots between levels (211.01), written as text"),
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
                    tr("科目类型 is one of 资产, 负债, 所有者权益, 成本, 收入, 费用 (or asset … expense)"),
                    "error",
                )
            )
            continue
        if not title or not str(title).strip():
            problems.append(
                ImportProblem(
                    name, int(row), raw.columns_found.get("name", "科目名称"), "", tr("科目名称 is required"), "error"
                )
            )
            continue
        accounts.append(Account(code_text, str(title).strip(), account_type))
    if not accounts and not problems:
        problems.append(
            ImportProblem(name, None, None, "", tr("the file has a 会计科目 header and no accounts"), "error")
        )
    if any(problem.severity == "error" for problem in problems):
        raise ImportRefused(problems)
    return accounts
