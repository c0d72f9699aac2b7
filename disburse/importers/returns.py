"""Bank return file — 代发回盘 (FORMATS.md section 4): the bank's line-by-line result of a batch.

The frame: ``account_no, account_name, amount_fen, status ("success" | "failure"), reason,
memo, source_row, reason_code``; ``reason_code`` is a failure's reason as one of
``importers.failure_reasons.FAILURE_REASONS`` (None for a success), the bank's text kept in
``reason``. The canonical layout is the ``generic`` profile's; each bank profile
(``importers.bank_profiles``) may describe its own return layout (other headers, other status
words such as 交易成功/处理失败), read through the same reading layer into the same frame.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from disburse.foundation.errors import ImportProblem
from disburse.foundation.i18n import join_list, tr
from disburse.importers.bank_profiles import BankProfile, ReturnLayout, detect_profile, load_profiles
from disburse.importers.common import (
    Check,
    CheckContext,
    ImportContext,
    ParsedFile,
    empty_frame,
    run_checks,
    typed_columns,
    yuan_texts,
)
from disburse.importers.failure_reasons import failure_reason_codes
from disburse.importers.fields import ACCOUNT_NUMBER, parse_amounts_fen, parse_enum, parse_identifiers, parse_text
from disburse.importers.reading import ColumnSpec, TableSpec, read_table

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

RETURN_COLUMNS = ("account_no", "account_name", "amount_fen", "status", "reason", "memo", "source_row", "reason_code")


def return_fields_for(
    statuses: Mapping[str, str], required: frozenset[str]
) -> Callable[[pd.DataFrame, CheckContext], tuple[pd.DataFrame, list[ImportProblem]]]:
    """The typing check of a return layout with these status words and required fields."""

    def return_fields(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
        """Type every cell; the account number is digits only and never a number cell."""
        typed, problems, put = typed_columns(frame)

        put("account_no", parse_identifiers(frame["account_no"], context.source(frame, "account_no"), ACCOUNT_NUMBER))
        put(
            "account_name",
            parse_text(
                frame["account_name"],
                context.source(frame, "account_name"),
                required="account_name" in required,
                what=context.header("account_name"),
            ),
        )
        put(
            "amount_fen",
            parse_amounts_fen(frame["amount"], context.source(frame, "amount"), what=context.header("amount")),
        )
        # Rows whose amount did not parse already have a problem; the positivity check skips them.
        typed["_amount_invalid"] = typed["source_row"].isin(
            {problem.row for problem in problems if problem.column == context.header("amount")}
        )
        put(
            "status",
            parse_enum(frame["status"], context.source(frame, "status"), statuses, what=context.header("status")),
        )
        put("reason", parse_text(frame["reason"], context.source(frame, "reason"), required=False))
        put(
            "memo",
            parse_text(
                frame["memo"], context.source(frame, "memo"), required="memo" in required, what=context.header("memo")
            ),
        )
        return typed, problems

    return return_fields


return_fields = return_fields_for(STATUSES, frozenset({"account_no", "account_name", "amount", "status", "memo"}))


def check_return_lines(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """A failure without a reason is a warning; a payment of zero or less is an error."""
    failure_without_reason = ((frame["status"] == "failure") & frame["reason"].isna()).to_numpy()
    problems = context.problems(
        frame,
        failure_without_reason,
        "reason",
        frame["reason"].to_numpy(dtype=object),
        tr("failed payment has no failure reason"),
        "warning",
    )
    amounts = frame["amount_fen"].to_numpy()
    not_positive = (amounts <= 0) & ~frame["_amount_invalid"].to_numpy(dtype=bool)
    problems += context.problems(
        frame, not_positive, "amount", yuan_texts(amounts, not_positive), tr("a payment amount must be positive")
    )
    return frame, problems


def failure_codes_for(
    profile_texts: Mapping[str, Sequence[str]],
) -> Callable[[pd.DataFrame, CheckContext], tuple[pd.DataFrame, list[ImportProblem]]]:
    """The step that gives each failure its reason code, the profile's own texts tried first."""

    def failure_codes(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
        failed = (frame["status"] == "failure").to_numpy()
        codes = failure_reason_codes(frame["reason"], profile_texts)
        frame = frame.copy()
        frame["reason_code"] = pd.Series(np.where(failed, codes, None), index=frame.index, dtype=object)
        return frame, []

    return failure_codes


RETURN_CHECKS = (return_fields, check_return_lines, failure_codes_for({}))
# The profile whose return layout is FORMATS.md section 4.
CANONICAL_RETURN_PROFILE = "generic"


def return_checks(layout: ReturnLayout) -> tuple[Check, ...]:
    """The checks of one bank's return layout."""
    return (
        return_fields_for(layout.statuses(), frozenset(layout.required)),
        check_return_lines,
        failure_codes_for(layout.failure_reasons),
    )


def parse_bank_return(
    path: str | os.PathLike[str], profile_name: str | None = None, profiles: Mapping[str, BankProfile] | None = None
) -> ParsedFile:
    """Read and check a bank return file (.csv, .xlsx or .xls).

    With ``profile_name``, the file has that profile's return layout; without, the layout is
    recognised from the header among the profiles' return layouts (``profiles``, default the
    built-in ones), and a file that fits none is reported against the canonical layout
    (FORMATS.md section 4).
    """
    name = os.fspath(path)
    known = load_profiles() if profiles is None else profiles
    if profile_name is None:
        profile_name, _ = detect_profile(name, known, "bank_return", "bank return")
        if profile_name is None:
            # The reading layer's own message names the canonical columns that are missing.
            raw = read_table(name, RETURN_SPEC)
            return run_checks(raw, RETURN_SPEC, RETURN_CHECKS, RETURN_COLUMNS, ImportContext())
    profile = known.get(profile_name)
    if profile is None or profile.bank_return is None:
        with_returns = join_list(sorted(key for key, value in known.items() if value.bank_return is not None))
        reason = tr(
            "no bank profile {profile!r} with a return layout; known: {known}", profile=profile_name, known=with_returns
        )
        return ParsedFile(
            empty_frame(RETURN_COLUMNS), (ImportProblem(name, None, None, profile_name, reason, "error"),), None, name
        )
    spec = profile.bank_return.table_spec(f"代发回盘 ({profile_name})")
    raw = read_table(name, spec)
    return run_checks(raw, spec, return_checks(profile.bank_return), RETURN_COLUMNS, ImportContext())
