"""Bank return file — 代发回盘 (FORMATS.md section 4): the bank's line-by-line result of a batch.

The frame: ``account_no, account_name, amount_fen, status ("success" | "failure"), reason,
memo, source_row``. Banks' own return layouts differ; this reads the canonical one, and a
bank's layout is a different ``TableSpec`` over the same reading layer.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from importers.common import CheckContext, ImportContext, ParsedFile, object_column, run_checks, yuan_texts
from importers.errors import ImportProblem
from importers.fields import ACCOUNT_NUMBER, parse_amounts_fen, parse_enum, parse_identifiers, parse_text
from importers.reading import ColumnSpec, TableSpec, read_table

STATUSES = {"成功": "success", "失败": "failure"}

RETURN_SPEC = TableSpec(
    "代发回盘",
    (
        ColumnSpec("账号", "account_no"),
        ColumnSpec("户名", "account_name"),
        ColumnSpec("金额", "amount"),
        ColumnSpec("处理结果", "status"),
        ColumnSpec("失败原因", "reason", required=False),
        ColumnSpec("摘要", "memo"),
    ),
)

RETURN_COLUMNS = ("account_no", "account_name", "amount_fen", "status", "reason", "memo", "source_row")


def return_fields(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """Type every cell; the account number is digits only and never a number cell."""
    problems: list[ImportProblem] = []
    typed = pd.DataFrame({"source_row": frame["source_row"].to_numpy()})

    def put(name: str, result: tuple[np.ndarray, list[ImportProblem]]) -> None:
        values, found = result
        typed[name] = object_column(values) if values.dtype == object else values
        problems.extend(found)

    put("account_no", parse_identifiers(frame["account_no"], context.source(frame, "account_no"), ACCOUNT_NUMBER))
    put("account_name", parse_text(frame["account_name"], context.source(frame, "account_name"),
                                   what=context.header("account_name")))
    put("amount_fen", parse_amounts_fen(frame["amount"], context.source(frame, "amount"), what=context.header("amount")))
    # Rows whose amount did not parse already have a problem; the positivity check skips them.
    typed["_amount_invalid"] = typed["source_row"].isin({problem.row for problem in problems
                                                         if problem.column == context.header("amount")})
    put("status", parse_enum(frame["status"], context.source(frame, "status"), STATUSES, what=context.header("status")))
    put("reason", parse_text(frame["reason"], context.source(frame, "reason"), required=False))
    put("memo", parse_text(frame["memo"], context.source(frame, "memo"), what=context.header("memo")))
    return typed, problems


def check_return_lines(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """A failure without a reason is a warning; a payment of zero or less is an error."""
    failure_without_reason = ((frame["status"] == "failure") & frame["reason"].isna()).to_numpy()
    problems = context.problems(frame, failure_without_reason, "reason", frame["reason"].to_numpy(dtype=object),
                                "failed payment has no failure reason", "warning")
    amounts = frame["amount_fen"].to_numpy()
    not_positive = (amounts <= 0) & ~frame["_amount_invalid"].to_numpy(dtype=bool)
    problems += context.problems(frame, not_positive, "amount", yuan_texts(amounts, not_positive),
                                 "a payment amount must be positive")
    return frame, problems


RETURN_CHECKS = (return_fields, check_return_lines)


def parse_bank_return(path: str | os.PathLike[str]) -> ParsedFile:
    """Read and check a bank return file in the canonical layout (.csv, .xlsx or .xls)."""
    raw = read_table(path, RETURN_SPEC)
    return run_checks(raw, RETURN_SPEC, RETURN_CHECKS, RETURN_COLUMNS, ImportContext())
