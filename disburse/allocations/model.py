"""The records an allocation returns, and the two checks every result must pass.

An allocation is a pure function ``(rule, frames) -> AllocationResult``. The result carries:

- ``lines``: one row per payee and component (docs/contracts.md, "Allocation results"), whose
  amounts sum exactly to ``pool_fen``: deductions + parts + residuals = pool. A line with a
  negative amount is a debit on its account (the only one today is ``floor_shortfall``, the
  amount a cooperative still owes, Dr 112 应收款).
- ``exclusions``: each household or person left out, and why.
- ``summary``: the pool-level figures (pool, each deduction, distributable, parts, residual,
  shortfall, cap held back, unpaid wages …) as a read-only mapping of name → int fen.
- ``steps``: the pool-level steps in words and numbers, in the order they were taken; together
  with a household's lines (which carry their own figures: share, the amount it is a share of,
  a dividend's floor, pro-rata part and cap …) they are what ``explaining.explain`` prints for
  ``runs explain RUN HOUSEHOLD``.
- ``notes``: sentences about what the allocation took by default or left out (a capacity read
  from the register, a wage part no roster used …), shown with the run's summary.

Person-level amounts: each beneficiary (享受人) gets a line of its own, rounded once; a
household's total is the sum of its lines (``beneficiary_id`` names the person on the line,
whoever is paid).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import pandas as pd

from disburse.foundation.money import format_yuan

LINE_COLUMNS = (
    "payee_type",
    "payee_id",
    "household_id",
    "component",
    "account_code",
    "debit_account_code",
    "amount_fen",
    "basis",
    "share_numerator",
    "share_denominator",
    "note",
    "account_no",
    "account_name",
    "beneficiary_id",
)
# Integer columns a line may carry; kept as nullable Int64 (never float) when some lines lack
# them, or as Python ints (object) when a denominator outgrows int64.
INTEGER_COLUMNS = (
    "share_numerator",
    "share_denominator",
    "share_pool_fen",
    "units_e4",
    "active_days",
    "principal_fen",
    "floor_fen",
    "pro_rata_fen",
    "cap_fen",
    "owed_fen",
    "unpaid_fen",
)
EXCLUSION_COLUMNS = ("household_id", "id_number", "reason")
PAYEE_TYPES = frozenset({"household", "person", "collective", "account"})


@dataclass(frozen=True, slots=True)
class Step:
    """One pool-level step: what was done, to which amount, giving which amount.

    ``component`` names the line component the step leads to (``household_share`` …) so that
    ``explain`` can show only the steps on a household's path; ``None`` means every path.
    """

    text: str
    amount_fen: int
    component: str | None = None
    source_reference: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class AllocationResult:
    """What an allocation computed: lines, exclusions, summary and steps (see module doc)."""

    rule_kind: str
    rule_name: str
    pool_fen: int
    lines: pd.DataFrame
    exclusions: pd.DataFrame
    summary: Mapping[str, int]
    steps: tuple[Step, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = field(default_factory=tuple)

    def line_total_fen(self) -> int:
        """The exact sum of the line amounts, as a Python int."""
        return int(self.lines["amount_fen"].sum()) if len(self.lines) else 0


def result_build(
    *,
    rule_kind: str,
    rule_name: str,
    pool_fen: int,
    line_frames: list[pd.DataFrame],
    exclusion_frames: list[pd.DataFrame],
    summary: dict[str, int],
    steps: list[Step],
    notes: list[str] | tuple[str, ...] = (),
) -> AllocationResult:
    """Assemble a result from its parts, fill missing optional columns, and check it."""
    frames = [_integer_columns_nullable(frame) for frame in line_frames if len(frame)]
    present = {column for frame in frames for column in frame.columns}
    for frame in frames:
        for column in INTEGER_COLUMNS:
            if column in present and column not in frame.columns:
                frame[column] = pd.array([pd.NA] * len(frame), dtype="Int64")
    lines = pd.concat(frames, ignore_index=True) if frames else lines_empty()
    for column in ("basis", "note"):
        if column in lines.columns:
            lines[column] = lines[column].fillna("")
    for column in LINE_COLUMNS:
        if column not in lines.columns:
            lines[column] = None
    extra = [column for column in lines.columns if column not in LINE_COLUMNS]
    lines = lines[list(LINE_COLUMNS) + extra]
    lines["amount_fen"] = lines["amount_fen"].astype("int64")
    excluded = [frame for frame in exclusion_frames if len(frame)]
    exclusions = (
        pd.concat(excluded, ignore_index=True)[list(EXCLUSION_COLUMNS)]
        if excluded
        else pd.DataFrame({column: pd.Series(dtype=object) for column in EXCLUSION_COLUMNS})
    )
    result = AllocationResult(
        rule_kind=rule_kind,
        rule_name=rule_name,
        pool_fen=int(pool_fen),
        lines=lines,
        exclusions=exclusions,
        summary=MappingProxyType(dict(summary)),
        steps=tuple(steps),
        notes=tuple(dict.fromkeys(notes)),
    )
    result_check_conserved(result)
    return result


@dataclass(slots=True)
class ResultParts:
    """What the named steps of an allocation collect on the way to its result."""

    lines: list[pd.DataFrame] = field(default_factory=list)
    exclusions: list[pd.DataFrame] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def build(self, rule_kind: str, rule_name: str, pool_fen: int) -> AllocationResult:
        """The checked result (lines sum to the pool)."""
        return result_build(
            rule_kind=rule_kind,
            rule_name=rule_name,
            pool_fen=pool_fen,
            line_frames=self.lines,
            exclusion_frames=self.exclusions,
            summary=self.summary,
            steps=self.steps,
            notes=self.notes,
        )


def _integer_columns_nullable(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with integer columns as Int64 (NA for missing) unless they hold huge Python ints."""
    frame = frame.copy()
    for column in INTEGER_COLUMNS:
        if column not in frame.columns:
            continue
        values = frame[column]
        if values.dtype == object and values.notna().any():
            integers = [int(value) for value in values.dropna()]
            if max(abs(value) for value in integers) > 2**63 - 1:
                continue  # exact Python ints stay as they are
        frame[column] = (
            pd.array([None if pd.isna(value) else int(value) for value in values], dtype="Int64")
            if values.dtype == object
            else values.astype("Int64")
        )
    return frame


def lines_empty() -> pd.DataFrame:
    """An empty lines frame with the contract's columns."""
    return pd.DataFrame({column: pd.Series(dtype=object) for column in LINE_COLUMNS})


class ConservationError(AssertionError):
    """A result whose lines do not add up to its pool: a programming error, never user input."""


def result_check_conserved(result: AllocationResult) -> None:
    """Assert that the lines sum exactly to the pool and that every payee type is known.

    deductions + parts + residuals (+ a negative floor-shortfall line) = pool, to the fen.
    """
    total_fen = result.line_total_fen()
    if total_fen != result.pool_fen:
        difference = total_fen - result.pool_fen
        raise ConservationError(
            f"{result.rule_name}: lines sum to {format_yuan(total_fen)}, pool is "
            f"{format_yuan(result.pool_fen)} (difference {format_yuan(difference)})"
        )
    unknown = set(result.lines["payee_type"].unique()) - PAYEE_TYPES if len(result.lines) else set()
    if unknown:
        raise ConservationError(f"{result.rule_name}: unknown payee types {sorted(unknown)}")
