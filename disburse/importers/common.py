"""What every per-file importer shares: the caller's context, the check context, the result.

A file type is a ``TableSpec`` plus a list of checks with one signature,
``(frame, context) -> (frame, problems)``: the first check types the raw cells, the rest add
problems (and derived columns). ``run_checks`` applies them in order.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from disburse.foundation.errors import ImportProblem, Severity, has_errors, problems_at
from disburse.foundation.i18n import tr
from disburse.foundation.money import format_yuan
from disburse.importers.fields import FieldSource
from disburse.importers.reading import RawTable, TableSpec


@dataclass(frozen=True, slots=True)
class ImportContext:
    """What the caller knows that a file is checked against.

    ``today`` bounds dates (None means the real today). Each ``known_*`` set, when given, makes a
    reference to anything outside it an error; None means "don't check" (the registers are not
    loaded yet, or the caller checks later).
    """

    today: dt.date | None = None
    known_household_ids: frozenset[str] | None = None
    known_village_codes: frozenset[str] | None = None
    known_asset_ids: frozenset[str] | None = None
    known_station_ids: frozenset[str] | None = None

    def today_or_now(self) -> dt.date:
        """``today``, or the real date when the caller gave none."""
        return self.today or dt.date.today()


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What a check needs beyond the frame: the file, the headers as written, the caller's context."""

    file: str
    spec: TableSpec
    headers: Mapping[str, str]
    options: ImportContext = field(default_factory=ImportContext)

    def header(self, alias: str) -> str:
        """The header as written in the file, or the spec's Chinese name when the column is absent."""
        return self.headers.get(alias) or self.spec.column(alias).name_zh

    def source(self, frame: pd.DataFrame, alias: str) -> FieldSource:
        """A FieldSource for one column of ``frame`` (which carries ``source_row``)."""
        return FieldSource(self.file, self.header(alias), frame["source_row"].to_numpy())

    def problems(
        self,
        frame: pd.DataFrame,
        mask: np.ndarray | pd.Series,
        alias: str | None,
        values: object,
        reason: str,
        severity: Severity = "error",
    ) -> list[ImportProblem]:
        """One problem per row where ``mask`` is True; ``values`` is aligned with ``frame``."""
        mask_array = np.asarray(mask, dtype=bool)
        if not mask_array.any():
            return []
        indices = np.flatnonzero(mask_array)
        values_array = np.asarray(values, dtype=object)
        if values_array.ndim == 0:
            values_array = np.full(len(frame), values_array.item(), dtype=object)
        rows = frame["source_row"].to_numpy()[indices]
        column = self.header(alias) if alias else None
        return problems_at(self.file, column, rows, values_array[indices], reason, severity)

    def problems_each(
        self,
        frame: pd.DataFrame,
        indices: Sequence[int] | np.ndarray,
        alias: str | None,
        values: Sequence[object],
        reasons: Sequence[str],
        severity: Severity = "error",
    ) -> list[ImportProblem]:
        """One problem per positional index, each with its own value and reason (capped like
        ``problems_at``, with one more problem counting the rest)."""
        from disburse.foundation.errors import PROBLEMS_PER_CHECK_MAX

        rows = frame["source_row"].to_numpy()
        column = self.header(alias) if alias else None
        problems: list[ImportProblem] = []
        for index, value, reason in zip(indices, values, reasons):
            if len(problems) >= PROBLEMS_PER_CHECK_MAX:
                problems += problems_at(
                    self.file,
                    column,
                    [None],
                    [""],
                    tr(
                        "{count:,} more rows with problems like: {reason}",
                        count=len(indices) - PROBLEMS_PER_CHECK_MAX,
                        reason=reason,
                    ),
                    severity,
                )
                break
            problems += problems_at(self.file, column, [int(rows[index])], [value], reason, severity)
        return problems


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """An imported file: the typed frame (columns as in docs/contracts.md), every problem found,
    the encoding (or workbook kind and sheet) it was read with, and its path."""

    frame: pd.DataFrame
    problems: tuple[ImportProblem, ...]
    encoding: str | None
    path: str

    @property
    def refused(self) -> bool:
        """True when at least one problem is an error: the file must not be used."""
        return has_errors(self.problems)


Check = Callable[[pd.DataFrame, CheckContext], tuple[pd.DataFrame, list[ImportProblem]]]


def empty_frame(columns: Sequence[str]) -> pd.DataFrame:
    """A frame with the contract's columns and no rows, for a file that could not be read."""
    return pd.DataFrame({name: pd.Series([], dtype=object) for name in columns})


def run_checks(
    raw: RawTable,
    spec: TableSpec,
    checks: Sequence[Check],
    columns: Sequence[str],
    options: ImportContext,
    *,
    rows_required: bool = True,
) -> ParsedFile:
    """Apply ``checks`` in order to the raw frame and collect every problem; keep ``columns``.
    A file with a header and no rows is refused unless ``rows_required`` is False (a roster of
    nobody, which a run then reports as such)."""
    path = os.fspath(raw.path)
    if not raw.readable:
        return ParsedFile(empty_frame(columns), tuple(raw.problems), raw.encoding, path)
    frame = raw.frame.copy()
    for column in spec.columns:
        if column.alias_en not in frame.columns:
            frame[column.alias_en] = pd.Series([None] * len(frame), dtype=object)
    frame["source_row"] = raw.source_rows
    context = CheckContext(path, spec, raw.columns_found, options)
    problems: list[ImportProblem] = list(raw.problems)
    for check in checks:
        frame, found = check(frame, context)
        problems.extend(found)
    if rows_required and len(frame) == 0 and not has_errors(problems):
        # A header and nothing under it is never a file someone meant to import: a register or
        # share register without rows would read as "everyone left".
        problems.append(
            ImportProblem(path, None, None, "", tr("the file has a {title} header and no data rows", title=spec.title))
        )
    problems.sort(key=lambda problem: (problem.row is None, problem.row or 0))
    missing = [name for name in columns if name not in frame.columns]
    assert not missing, f"checks did not produce {missing}"
    result = frame[list(columns)].reset_index(drop=True)
    for name in columns:
        if result[name].dtype == object or isinstance(result[name].dtype, pd.StringDtype):
            result[name] = object_column(result[name])
    return ParsedFile(result, tuple(problems), raw.encoding, path)


def typed_columns(
    frame: pd.DataFrame,
) -> tuple[pd.DataFrame, list[ImportProblem], Callable[[str, tuple[np.ndarray, list[ImportProblem]]], None]]:
    """The typed frame a fields check builds (keyed by ``source_row``), its problem list, and
    ``put(name, (values, problems))`` that adds one parsed column and collects its problems."""
    typed = pd.DataFrame({"source_row": frame["source_row"].to_numpy()})
    problems: list[ImportProblem] = []

    def put(name: str, result: tuple[np.ndarray, list[ImportProblem]]) -> None:
        values, found = result
        typed[name] = object_column(values) if values.dtype == object else values
        problems.extend(found)

    return typed, problems, put


def object_column(values: object) -> pd.Series:
    """An object column with None for missing values (pandas 3 would otherwise infer its ``str``
    dtype, whose missing value is NaN, and ``value != None`` would be true for it)."""
    if isinstance(values, pd.Series):
        array = values.to_numpy(dtype=object, na_value=None)
    else:
        array = np.asarray(values, dtype=object)
    return pd.Series(array, dtype=object)


def yuan_texts(amounts_fen: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Amounts formatted as yuan (``1,234.50``) where ``mask`` is True, for problem reports;
    formatting goes through ledger_core.money, never through float division."""
    texts = np.full(len(amounts_fen), None, dtype=object)
    for index in np.flatnonzero(mask):
        texts[index] = format_yuan(int(amounts_fen[index]))
    return texts


def later_than(dates: np.ndarray, bound: dt.date) -> np.ndarray:
    """Mask of datetime64 values after ``bound`` (NaT is never later)."""
    return ~np.isnat(dates) & (dates > np.datetime64(bound, "s"))
