"""Bank statement import — 交易明细 (FORMATS.md section 5 and the banks' own layouts).

``parse_bank_statement(path)`` reads a statement in the layout of one bank profile (given, or
detected from the header), types every cell, puts the lines in date order and checks the
running balance line by line. The result's frame has one row per statement line:

``line_number`` (1-based order in the file), ``booked_on`` (datetime64[s]), ``booked_time``
(``HH:MM:SS`` or None), ``txn_id`` (None when missing or all zeros), ``summary``,
``counterparty_account``, ``counterparty_name``, ``amount_fen`` (int64, + money into our
account, − money out), ``balance_fen`` (nullable Int64, None when masked), ``memo``,
``source_row`` (the row number in the file as a spreadsheet shows it).

Nothing here raises for a user's file: every problem is an ``ImportProblem`` in ``problems``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from disburse.foundation.errors import PROBLEMS_PER_CHECK_MAX, ImportProblem, has_errors, problems_at
from disburse.foundation.i18n import join_list, tr
from disburse.foundation.money import format_yuan
from disburse.importers.bank_profiles import (
    STATEMENT_FIELDS,
    BankProfile,
    StatementLayout,
    detect_profile,
    load_profiles,
)
from disburse.importers.common import object_column
from disburse.importers.fields import (
    FREE_IDENTIFIER,
    FieldSource,
    parse_amounts_fen,
    parse_dates,
    parse_enum,
    parse_identifiers,
    parse_text,
)
from disburse.importers.reading import RawTable, read_table

STATEMENT_TITLE = "交易明细"
STATEMENT_COLUMNS = (
    "line_number",
    "booked_on",
    "booked_time",
    "txn_id",
    "summary",
    "counterparty_account",
    "counterparty_name",
    "amount_fen",
    "balance_fen",
    "memo",
    "source_row",
)
_ALL_ZEROS = re.compile(r"^0+$")
_DATE_AND_TIME = re.compile(r"^(\S+?)(?:\s+|T)(\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?)$")
_TIME_TEXT = re.compile(r"^(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?:\.\d+)?$|^(\d{2})(\d{2})(\d{2})$")
_STARTS_WITH_DIGIT = re.compile(r"^\s*\d")


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    """An imported statement: the typed lines in date order, the profile used, every problem,
    the encoding (or workbook kind and sheet), whether the file listed newest lines first, and
    its path."""

    frame: pd.DataFrame
    profile: str | None
    problems: tuple[ImportProblem, ...]
    encoding: str | None
    path: str
    newest_first: bool = False

    @property
    def refused(self) -> bool:
        """True when at least one problem is an error: the statement must not be used."""
        return has_errors(self.problems)


def detect_statement_profile(
    path: str | os.PathLike[str], profiles: Mapping[str, BankProfile]
) -> tuple[str | None, list[ImportProblem]]:
    """The profile whose statement layout fits the file's header best (see ``detect_profile``)."""
    return detect_profile(path, profiles, "statement", tr("bank statement"))


# ----------------------------------------------------------------------------------------------
# Cells.


def _blank_none_values(raw: pd.DataFrame, layout: StatementLayout) -> pd.DataFrame:
    """Cells that mean "none" in this bank's layout (``-``, ``----------``) become blank."""
    none_values = set(layout.none_values)
    pattern = re.compile(layout.none_pattern) if layout.none_pattern else None
    cleaned = raw.copy()
    for column in cleaned.columns:
        values = cleaned[column].to_numpy(dtype=object)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        blank = np.zeros(len(uniques) + 1, dtype=bool)
        for index, value in enumerate(uniques):
            if isinstance(value, str) and (value in none_values or (pattern is not None and pattern.match(value))):
                blank[index] = True
        if blank.any():
            values = values.copy()
            values[blank[codes]] = None
            cleaned[column] = pd.Series(values, dtype=object, index=cleaned.index)
    return cleaned


def _footer_mask(raw: pd.DataFrame, layout: StatementLayout) -> np.ndarray:
    """Rows whose date cell is not a date and that carry a footer marker (本页合计, 借方发生总额)."""
    dates = raw["date"].to_numpy(dtype=object)
    candidates = [
        index
        for index, value in enumerate(dates)
        if value is None or (isinstance(value, str) and not _STARTS_WITH_DIGIT.match(value))
    ]
    mask = np.zeros(len(raw), dtype=bool)
    if not candidates or not layout.footer_markers:
        return mask
    rows = raw.iloc[candidates].to_numpy(dtype=object)
    for position, cells in zip(candidates, rows):
        texts = [cell for cell in cells if isinstance(cell, str)]
        if any(marker in text for text in texts for marker in layout.footer_markers):
            mask[position] = True
    return mask


def _time_of(value: object, formats: Sequence[str]) -> tuple[str | None, str | None]:
    """One cell as ``HH:MM:SS``, or the reason it is not a time of day."""
    if isinstance(value, dt.datetime):
        return value.strftime("%H:%M:%S"), None
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S"), None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 0 <= int(value) <= 235959:
        value = f"{int(value):06d}"  # a HHMMSS typed into a number cell lost its leading zero
    if isinstance(value, float) and 0 <= value < 1:
        seconds = round(value * 86_400)  # an Excel time cell read as a fraction of a day
        return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}", None
    if not isinstance(value, str):
        return None, tr("is not a time of day")
    text = value.strip()
    for pattern in formats:
        try:
            return dt.datetime.strptime(text, pattern).strftime("%H:%M:%S"), None
        except ValueError:
            continue
    whole = _DATE_AND_TIME.match(text)
    if whole:
        text = whole.group(2)
    match = _TIME_TEXT.match(text)
    if not match:
        return None, tr("is not a time of day (write 14:05:09 or 140509)")
    parts = match.groups()
    hour, minute, second = (parts[0], parts[1], parts[2] or "0") if parts[0] is not None else parts[3:6]
    if int(hour) > 23 or int(minute) > 59 or int(second) > 59:
        return None, tr("is not a time of day")
    return f"{int(hour):02d}:{int(minute):02d}:{int(second):02d}", None


def _split_date_time(value: object, layout: StatementLayout) -> tuple[object, str | None]:
    """A date cell as (the date part for ``parse_dates``, the time written with it or None).

    Corporate exports put date and time in one cell (``2024-01-05 10:23:45``); a real date cell
    at midnight carries no time.
    """
    if isinstance(value, dt.datetime):
        has_time = (value.hour, value.minute, value.second) != (0, 0, 0)
        return value.date(), value.strftime("%H:%M:%S") if has_time else None
    if not isinstance(value, str):
        return value, None
    text = value.strip()
    for pattern in layout.date_formats:
        try:
            parsed = dt.datetime.strptime(text, pattern)
        except ValueError:
            continue
        has_time = any(code in pattern for code in ("%H", "%M", "%S"))
        return parsed.date(), parsed.strftime("%H:%M:%S") if has_time else None
    match = _DATE_AND_TIME.match(text)
    if match:
        time_text, reason = _time_of(match.group(2), ())
        if reason is None:
            return match.group(1), time_text
    return text, None


def _dates_and_times(
    frame: pd.DataFrame, source: FieldSource, header: str, layout: StatementLayout
) -> tuple[np.ndarray, np.ndarray, list[ImportProblem]]:
    objects = frame["date"].to_numpy(dtype=object)
    codes, uniques = pd.factorize(objects, use_na_sentinel=True)
    date_parts = np.empty(len(uniques) + 1, dtype=object)
    time_parts = np.empty(len(uniques) + 1, dtype=object)
    for index, value in enumerate(uniques):
        date_parts[index], time_parts[index] = _split_date_time(value, layout)
    dates, problems = parse_dates(date_parts[codes], source, required=True, what=header)
    return dates, time_parts[codes], problems


def _times(
    values: np.ndarray, source: FieldSource, header: str, formats: Sequence[str]
) -> tuple[np.ndarray, list[ImportProblem]]:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    texts = np.empty(len(uniques) + 1, dtype=object)
    problems: list[ImportProblem] = []
    for index, value in enumerate(uniques):
        texts[index], reason = _time_of(value, formats)
        if reason is not None:
            problems += source.problems(codes == index, values, tr("{column} {reason}", column=header, reason=reason))
    return texts[codes], problems


def _blank(values: np.ndarray) -> np.ndarray:
    return np.fromiter((value is None for value in values), dtype=bool, count=len(values))


# ----------------------------------------------------------------------------------------------
# Typing, ordering, balance.


@dataclass(frozen=True, slots=True)
class _Typed:
    frame: pd.DataFrame
    invalid: np.ndarray  # rows whose date or amount did not parse: left out of the balance check
    problems: list[ImportProblem]


def _typed_lines(raw: RawTable, layout: StatementLayout, file: str) -> _Typed:
    frame = raw.frame.copy()
    for field_name in STATEMENT_FIELDS:
        if field_name not in frame.columns:
            frame[field_name] = pd.Series([None] * len(frame), dtype=object)
    rows = raw.source_rows
    headers = {name: raw.columns_found.get(name) or layout.columns[name][0] for name in layout.columns}
    problems: list[ImportProblem] = []
    frame = _blank_none_values(frame, layout)
    footer = _footer_mask(frame, layout)
    if footer.any():
        frame = frame[~footer].reset_index(drop=True)
        rows = rows[~footer]

    def source(name: str) -> FieldSource:
        return FieldSource(file, headers[name], rows)

    def problem_rows(found: list[ImportProblem]) -> np.ndarray:
        bad = {problem.row for problem in found if problem.severity == "error"}
        return np.isin(rows, list(bad)) if bad else np.zeros(len(rows), dtype=bool)

    count = len(frame)
    dates, date_times, found = _dates_and_times(frame, source("date"), headers["date"], layout)
    problems += found
    invalid = problem_rows(found)
    if "time" in frame.columns and "time" in layout.columns:
        times, found = _times(
            frame["time"].to_numpy(dtype=object), source("time"), headers["time"], layout.time_formats
        )
        problems += found
        times = np.where(_blank(times), date_times, times)
    else:
        times = date_times

    txn_ids, found = (
        parse_identifiers(frame["txn_id"], source("txn_id"), FREE_IDENTIFIER, required=False)
        if "txn_id" in layout.columns
        else (np.full(count, None, dtype=object), [])
    )
    problems += found
    txn_ids = np.array([None if value is None or _ALL_ZEROS.match(value) else value for value in txn_ids], dtype=object)

    amounts, amount_problems = _amounts(frame, layout, headers, source, raw.columns_found)
    problems += amount_problems
    invalid |= problem_rows(amount_problems)

    balances, found = _balances(frame, layout, headers, source, problem_rows, file)
    problems += found

    texts, accounts, found = _texts_and_accounts(frame, headers, source, file, rows)
    problems += found

    typed = pd.DataFrame(
        {
            "line_number": np.arange(1, count + 1, dtype=np.int64),
            "booked_on": pd.Series(dates, dtype="datetime64[s]"),
            "booked_time": object_column(times),
            "txn_id": object_column(txn_ids),
            "summary": object_column(texts["summary"]),
            "counterparty_account": object_column(accounts),
            "counterparty_name": object_column(texts["counterparty_name"]),
            "amount_fen": np.asarray(amounts, dtype=np.int64),
            "balance_fen": pd.Series(balances, dtype="Int64"),
            "memo": object_column(texts["memo"]),
            "source_row": np.asarray(rows, dtype=np.int64),
        }
    )
    return _Typed(typed, invalid, problems)


def _amounts(
    frame: pd.DataFrame,
    layout: StatementLayout,
    headers: Mapping[str, str],
    source: Callable[[str], FieldSource],
    columns_found: Mapping[str, str],
) -> tuple[np.ndarray, list[ImportProblem]]:
    """Signed amounts in fen, in whichever of the three ways the layout writes them: one signed
    column, an unsigned column with a direction flag, or separate debit and credit columns."""
    amount_problems: list[ImportProblem] = []
    if layout.direction == "signed":
        amounts, found = parse_amounts_fen(frame["amount"], source("amount"), what=headers["amount"])
        amount_problems += found
    elif layout.direction == "flag":
        magnitude, found = parse_amounts_fen(frame["amount"], source("amount"), what=headers["amount"])
        amount_problems += found
        flags = {**{flag: -1 for flag in layout.debit_flags}, **{flag: 1 for flag in layout.credit_flags}}
        signs, found = parse_enum(frame["direction"], source("direction"), flags, what=headers["direction"], blank=0)
        amount_problems += found
        negative = magnitude < 0
        amount_problems += source("amount").problems(
            negative,
            frame["amount"].to_numpy(dtype=object),
            tr(
                "{amount} is negative; with a {direction} column the amount is unsigned",
                amount=headers["amount"],
                direction=headers["direction"],
            ),
        )
        amounts = magnitude * signs.astype(np.int64)
    else:
        amounts, found = _split_amounts(frame, layout, headers, source, columns_found)
        amount_problems += found
    return amounts, amount_problems


def _balances(
    frame: pd.DataFrame,
    layout: StatementLayout,
    headers: Mapping[str, str],
    source: Callable[[str], FieldSource],
    problem_rows: Callable[[list[ImportProblem]], np.ndarray],
    file: str,
) -> tuple[pd.api.extensions.ExtensionArray, list[ImportProblem]]:
    """The running balance of each line in fen, missing (NA) where the layout has no balance, the
    bank masked it or it did not parse; masked balances are one warning, not a problem per line."""
    count = len(frame)
    balances = pd.array([pd.NA] * count, dtype="Int64")
    problems: list[ImportProblem] = []
    if "balance" in layout.columns:
        balance_cells = frame["balance"].to_numpy(dtype=object)
        masked = np.zeros(count, dtype=bool)
        if layout.masked_balance_pattern:
            pattern = re.compile(layout.masked_balance_pattern)
            masked = np.fromiter(
                (isinstance(value, str) and bool(pattern.search(value)) for value in balance_cells),
                dtype=bool,
                count=count,
            )
        if masked.any():
            balance_cells = np.where(masked, None, balance_cells)
            problems.append(
                ImportProblem(
                    file,
                    None,
                    headers["balance"],
                    "",
                    tr(
                        "{count:,} balances are masked by the bank; the running balance is not checked for those lines",
                        count=int(masked.sum()),
                    ),
                    "warning",
                )
            )
        values, found = parse_amounts_fen(balance_cells, source("balance"), required=False, what=headers["balance"])
        problems += found
        if "balance" in layout.required_fields():
            # A masked balance is the bank's choice, not a blank cell to report.
            problems += source("balance").problems(
                _blank(balance_cells) & ~masked,
                balance_cells,
                tr("{column} is required and is blank", column=headers["balance"]),
            )
        missing = _blank(balance_cells) | problem_rows(found)
        balances = pd.array(np.where(missing, None, values).tolist(), dtype="Int64")
    return balances, problems


def _texts_and_accounts(
    frame: pd.DataFrame,
    headers: Mapping[str, str],
    source: Callable[[str], FieldSource],
    file: str,
    rows: np.ndarray,
) -> tuple[dict[str, np.ndarray], np.ndarray, list[ImportProblem]]:
    """The free-text columns and the counterparty account; a column the layout lacks is named by
    its field name in any problem."""
    problems: list[ImportProblem] = []
    texts = {}
    for name in ("summary", "counterparty_name", "memo"):
        values, found = parse_text(
            frame[name], source(name) if name in headers else FieldSource(file, name, rows), required=False
        )
        texts[name] = values
        problems += found
    accounts, found = parse_identifiers(
        frame["counterparty_account"],
        source("counterparty_account")
        if "counterparty_account" in headers
        else FieldSource(file, "counterparty_account", rows),
        FREE_IDENTIFIER,
        required=False,
    )
    problems += found
    return texts, accounts, problems


def _split_amounts(
    frame: pd.DataFrame,
    layout: StatementLayout,
    headers: Mapping[str, str],
    source,  # type: ignore[no-untyped-def]
    columns_found: Mapping[str, str],
) -> tuple[np.ndarray, list[ImportProblem]]:
    """credit − debit, where each line has exactly one of the two, neither negative."""
    problems: list[ImportProblem] = []
    present = [name for name in ("debit", "credit") if name in columns_found]
    parsed: dict[str, np.ndarray] = {}
    blank: dict[str, np.ndarray] = {}
    count = len(frame)
    for name in ("debit", "credit"):
        cells = frame[name].to_numpy(dtype=object)
        blank[name] = _blank(cells)
        if name not in present:
            parsed[name] = np.zeros(count, dtype=np.int64)
            continue
        parsed[name], found = parse_amounts_fen(cells, source(name), required=False, what=headers[name])
        problems += found
        problems += source(name).problems(
            parsed[name] < 0,
            cells,
            tr("{column} is negative; this column holds amounts without a sign", column=headers[name]),
        )
    if not present:
        return np.zeros(count, dtype=np.int64), [
            ImportProblem(
                source("date").file,
                None,
                None,
                "",
                tr(
                    "neither {debit} (debit) nor {credit} (credit) is in the file",
                    debit=layout.columns["debit"][0],
                    credit=layout.columns["credit"][0],
                ),
                "error",
            )
        ]
    both_blank = blank["debit"] & blank["credit"]
    both_set = (parsed["debit"] != 0) & (parsed["credit"] != 0)
    shown = tr(" and ").join(headers[name] for name in present)
    problems += source(present[0]).problems(
        both_blank, np.full(count, "", dtype=object), tr("the line has no amount: {columns} blank", columns=shown)
    )
    texts = (
        np.array(
            [f"{format_yuan(int(d))} / {format_yuan(int(c))}" for d, c in zip(parsed["debit"], parsed["credit"])],
            dtype=object,
        )
        if both_set.any()
        else np.full(count, "", dtype=object)
    )
    problems += source(present[0]).problems(
        both_set,
        texts,
        tr(
            "the line has both {debit} and {credit}; one line moves money one way",
            debit=headers["debit"],
            credit=headers["credit"],
        ),
    )
    return parsed["credit"] - parsed["debit"], problems


def _date_order(frame: pd.DataFrame) -> tuple[np.ndarray, bool]:
    """Positions that put the lines in date order, and whether the file listed newest first.

    A file whose first date is later than its last is reversed before a stable sort by date,
    so lines of one day keep the bank's order (oldest first) and the balance still chains.
    """
    dates = frame["booked_on"].to_numpy()
    valid = np.flatnonzero(~np.isnat(dates))
    newest_first = len(valid) >= 2 and dates[valid[0]] > dates[valid[-1]]
    order = np.arange(len(frame))[::-1] if newest_first else np.arange(len(frame))
    keys = dates[order].astype("datetime64[s]").astype(np.int64)
    keys = np.where(np.isnat(dates[order]), np.iinfo(np.int64).max, keys)
    return order[np.argsort(keys, kind="stable")], bool(newest_first)


def _signed_text(amount_fen: int) -> str:
    return f"+ {format_yuan(amount_fen)}" if amount_fen >= 0 else f"- {format_yuan(-amount_fen)}"


def check_running_balance(
    frame: pd.DataFrame, invalid: np.ndarray, file: str, column: str, severity: str
) -> list[ImportProblem]:
    """Each line's balance must be the previous line's balance plus its amount.

    ``frame`` is in date order; lines with an unknown (masked, blank) balance or an invalid
    amount or date are skipped, and the check restarts after them. A break is reported on the
    later line, showing the arithmetic.
    """
    balances = frame["balance_fen"].to_numpy(dtype=object, na_value=None)
    amounts = frame["amount_fen"].to_numpy()
    rows = frame["source_row"].to_numpy()
    usable = np.array([value is not None for value in balances], dtype=bool) & ~invalid
    previous = np.flatnonzero(usable[:-1] & usable[1:])
    problems: list[ImportProblem] = []
    breaks = 0
    for index in previous:
        before, amount, after = int(balances[index]), int(amounts[index + 1]), int(balances[index + 1])
        if before + amount == after:
            continue
        breaks += 1
        if breaks > PROBLEMS_PER_CHECK_MAX:
            continue
        row = int(rows[index + 1])
        reason = tr(
            "line {row}: balance {after} does not follow {before} {amount} = {expected}; lines are missing?",
            row=row,
            after=format_yuan(after),
            before=format_yuan(before),
            amount=_signed_text(amount),
            expected=format_yuan(before + amount),
        )
        problems.append(ImportProblem(file, row, column, format_yuan(after), reason, severity))  # type: ignore[arg-type]
    if breaks > PROBLEMS_PER_CHECK_MAX:
        problems += problems_at(
            file,
            column,
            [None],
            [""],
            tr("{count:,} more balance breaks", count=breaks - PROBLEMS_PER_CHECK_MAX),
            severity,
        )  # type: ignore[arg-type]
    return problems


# ----------------------------------------------------------------------------------------------
# Entry point.


def _empty(path: str, profile: str | None, problems: Sequence[ImportProblem], encoding: str | None) -> ParsedStatement:
    frame = pd.DataFrame(
        {
            "line_number": pd.Series([], dtype=np.int64),
            "booked_on": pd.Series([], dtype="datetime64[s]"),
            **{
                name: pd.Series([], dtype=object)
                for name in ("booked_time", "txn_id", "summary", "counterparty_account", "counterparty_name")
            },
            "amount_fen": pd.Series([], dtype=np.int64),
            "balance_fen": pd.Series([], dtype="Int64"),
            "memo": pd.Series([], dtype=object),
            "source_row": pd.Series([], dtype=np.int64),
        }
    )
    return ParsedStatement(frame, profile, tuple(problems), encoding, path)


def parse_bank_statement(
    path: str | os.PathLike[str], profile_name: str | None = None, profiles: Mapping[str, BankProfile] | None = None
) -> ParsedStatement:
    """Read a bank statement (.csv, .xlsx or .xls) in the layout of ``profile_name``, or of the
    profile detected from its header when none is given.

    ``profiles`` defaults to the built-in ones (``load_profiles()``). Returns the lines in date
    order with every problem found; an unknown layout, a missing line (a break in the running
    balance, for a profile that refuses) or a bad cell is an error, never an exception.
    """
    name = os.fspath(path)
    known = load_profiles() if profiles is None else profiles
    if profile_name is None:
        profile_name, problems = detect_statement_profile(name, known)
        if profile_name is None:
            return _empty(name, None, problems, None)
    if profile_name not in known or known[profile_name].statement is None:
        with_statements = join_list(sorted(key for key, value in known.items() if value.statement is not None))
        reason = tr(
            "no bank profile {profile!r} with a statement layout; known: {known}",
            profile=profile_name,
            known=with_statements,
        )
        return _empty(name, profile_name, [ImportProblem(name, None, None, profile_name, reason, "error")], None)
    layout = known[profile_name].statement
    assert layout is not None
    spec = layout.table_spec(f"{STATEMENT_TITLE} ({profile_name})")
    raw = read_table(name, spec)
    if not raw.readable:
        return _empty(name, profile_name, raw.problems, raw.encoding)
    typed = _typed_lines(raw, layout, name)
    order, newest_first = _date_order(typed.frame)
    frame = typed.frame.iloc[order].reset_index(drop=True)
    invalid = typed.invalid[order]
    problems = [*raw.problems, *typed.problems]
    balance_header = raw.columns_found.get("balance") or (layout.columns.get("balance") or ["余额"])[0]
    severity = "error" if layout.balance_check == "refuse" else "warning"
    problems += check_running_balance(frame, invalid, name, balance_header, severity)
    if len(frame) == 0 and not has_errors(problems):
        problems.append(
            ImportProblem(name, None, None, "", tr("the file has a {title} header and no lines", title=STATEMENT_TITLE))
        )
    problems.sort(key=lambda problem: (problem.row is None, problem.row or 0))
    return ParsedStatement(
        frame[list(STATEMENT_COLUMNS)], profile_name, tuple(problems), raw.encoding, name, newest_first
    )
