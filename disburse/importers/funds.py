"""Budget indicators — 资金指标 (README, files: 资金指标文件): one row per 指标文号 as the finance
bureau issued it.

The frame has the columns ``document_number, fund_name, level, nature, budget_line, year,
issued_fen, programmes (a tuple of programme names), source_row``.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from disburse.foundation.errors import ImportProblem
from disburse.foundation.i18n import tr
from disburse.importers.common import (
    CheckContext,
    ImportContext,
    ParsedFile,
    run_checks,
    typed_columns,
    yuan_texts,
)
from disburse.importers.fields import parse_amounts_fen, parse_enum, parse_integers, parse_text
from disburse.importers.reading import ColumnSpec, TableSpec, read_table

# 资金级次 as written (中央 or 中央级 …) → as stored.
LEVELS = {
    "中央": "中央",
    "中央级": "中央",
    "省": "省",
    "省级": "省",
    "市": "市",
    "市级": "市",
    "县": "县",
    "县级": "县",
}
DOCUMENT_NUMBER_LENGTH_MAX = 64
PROGRAMMES_PER_INDICATOR_MAX = 20
YEAR_MIN, YEAR_MAX = 2000, 2100
# 功能科目: a budget line of the government functional classification, 3 to 7 digits (213, 21305, 2130599).
_BUDGET_LINE = re.compile(r"^\d{3,7}$")
# 可用于项目: programmes separated by 、 , ; (half- or full-width).
_PROGRAMME_SEPARATORS = re.compile(r"[、,，;；]")

FUNDS_SPEC = TableSpec(
    "资金指标",
    (
        ColumnSpec("指标文号", "document_number"),
        ColumnSpec("资金名称", "fund_name"),
        ColumnSpec("资金级次", "level"),
        ColumnSpec("资金性质", "nature"),
        ColumnSpec("功能科目", "budget_line", ("支出功能分类科目",)),
        ColumnSpec("年度", "year", ("预算年度",)),
        ColumnSpec("金额", "amount", ("指标金额", "下达金额")),
        ColumnSpec("可用于项目", "programmes", ("适用项目",)),
    ),
)

FUNDS_COLUMNS = (
    "document_number",
    "fund_name",
    "level",
    "nature",
    "budget_line",
    "year",
    "issued_fen",
    "programmes",
    "source_row",
)


def split_programmes(text: object) -> tuple[str, ...]:
    """The programmes of one 可用于项目 cell, in order, each once, blanks dropped."""
    if not isinstance(text, str):
        return ()
    parts = (part.strip() for part in _PROGRAMME_SEPARATORS.split(text))
    return tuple(dict.fromkeys(part for part in parts if part))


def funds_fields(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """Type every cell."""
    typed, problems, put = typed_columns(frame)
    for alias in ("document_number", "fund_name", "nature", "budget_line", "programmes"):
        values, found = parse_text(frame[alias], context.source(frame, alias), what=context.header(alias))
        stripped = np.asarray([value.strip() if isinstance(value, str) else value for value in values], dtype=object)
        put(alias, (stripped, found))
    put("level", parse_enum(frame["level"], context.source(frame, "level"), LEVELS, what=context.header("level")))
    put(
        "year",
        parse_integers(frame["year"], context.source(frame, "year"), minimum=YEAR_MIN, what=context.header("year")),
    )
    put(
        "issued_fen",
        parse_amounts_fen(frame["amount"], context.source(frame, "amount"), what=context.header("amount")),
    )
    texts = typed["programmes"].tolist()
    lists = np.empty(len(texts), dtype=object)  # filled one by one: numpy would make tuples a 2-D array
    for index, text in enumerate(texts):
        lists[index] = split_programmes(text)
    typed["programmes"] = pd.Series(lists, dtype=object)
    # A blank cell is reported as missing above; one of separators only names nothing either.
    nothing = np.asarray([isinstance(text, str) and not split_programmes(text) for text in texts], dtype=bool)
    problems += context.problems(
        typed, nothing, "programmes", texts, tr("name at least one programme the indicator may pay")
    )
    return typed, problems


def check_values(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """An amount above zero, a year not past 2100, a budget line of digits, not too many
    programmes, a document number that fits and appears once in the file."""
    problems: list[ImportProblem] = []
    amounts = frame["issued_fen"].to_numpy(dtype=np.int64)
    not_positive = amounts <= 0
    problems += context.problems(
        frame, not_positive, "amount", yuan_texts(amounts, not_positive), tr("an indicator's amount must be above 0")
    )
    years = frame["year"].to_numpy(dtype=np.int64)
    problems += context.problems(
        frame, years > YEAR_MAX, "year", years.astype(object), tr("year is after {year}", year=YEAR_MAX)
    )
    lines = frame["budget_line"].to_numpy(dtype=object)
    bad_line = np.asarray([isinstance(line, str) and not _BUDGET_LINE.match(line) for line in lines], dtype=bool)
    problems += context.problems(
        frame, bad_line, "budget_line", lines, tr("a budget line (功能科目) is 3 to 7 digits, such as 2130599")
    )
    programmes = frame["programmes"].tolist()
    many = np.asarray([len(names) > PROGRAMMES_PER_INDICATOR_MAX for names in programmes], dtype=bool)
    problems += context.problems(
        frame,
        many,
        "programmes",
        [len(names) for names in programmes],
        tr("at most {count} programmes per indicator", count=PROGRAMMES_PER_INDICATOR_MAX),
    )
    numbers = frame["document_number"]
    long = numbers.map(lambda value: isinstance(value, str) and len(value) > DOCUMENT_NUMBER_LENGTH_MAX).to_numpy()
    problems += context.problems(
        frame,
        long,
        "document_number",
        numbers.to_numpy(dtype=object),
        tr("a document number (指标文号) has at most {count} characters", count=DOCUMENT_NUMBER_LENGTH_MAX),
    )
    repeated = (numbers.notna() & numbers.duplicated(keep="first")).to_numpy()
    problems += context.problems(
        frame,
        repeated,
        "document_number",
        numbers.to_numpy(dtype=object),
        tr("this 指标文号 appears on an earlier row of the file"),
    )
    return frame, problems


FUNDS_CHECKS = (funds_fields, check_values)


def parse_funds(path: str | os.PathLike[str], context: ImportContext | None = None) -> ParsedFile:
    """Read and check a budget indicator file (.csv, .xlsx or .xls)."""
    raw = read_table(path, FUNDS_SPEC)
    return run_checks(raw, FUNDS_SPEC, FUNDS_CHECKS, FUNDS_COLUMNS, context or ImportContext())
