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
  with a household's lines they are what ``explain`` prints for ``runs explain RUN HOUSEHOLD``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Mapping

import pandas as pd

from disburse.allocations.split import percent_text
from disburse.foundation.masking import mask_identifier
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
)
# Integer columns a line may carry; kept as nullable Int64 (never float) when some lines lack
# them, or as Python ints (object) when a denominator outgrows int64.
INTEGER_COLUMNS = (
    "share_numerator",
    "share_denominator",
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
    )
    result_check_conserved(result)
    return result


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


def _share_text(numerator: object, denominator: object) -> str:
    if numerator is None or denominator is None or pd.isna(numerator) or pd.isna(denominator):
        return ""
    fraction = Fraction(int(numerator), int(denominator)) if int(denominator) else Fraction(0)
    return f"{int(numerator):,}/{int(denominator):,} (= {percent_text(fraction, places_max=4)})"


def explain(result: AllocationResult, household_id: str) -> list[str]:
    """Every step from the pool to one household's amount, in words and numbers.

    Pool-level steps are shown when they lie on the household's path (their component is one of
    the household's line components, or they apply to every path); then each of the household's
    lines with its basis, exact share and amount; then any exclusion of the household.
    """
    household_lines = result.lines[result.lines["household_id"] == household_id]
    components = set(household_lines["component"])
    text = [f"{result.rule_name} ({result.rule_kind}): pool {format_yuan(result.pool_fen)} yuan"]
    for step in result.steps:
        if step.component is None or step.component in components:
            text.append(f"  {step.text}: {format_yuan(step.amount_fen)} yuan")
    for row in household_lines.itertuples(index=False):
        share = _share_text(row.share_numerator, row.share_denominator)
        parts = [f"  {household_id} {row.component}: {format_yuan(int(row.amount_fen))} yuan"]
        if row.basis:
            parts.append(f"on {row.basis}")
        if share:
            parts.append(f"share {share}")
        if row.note:
            parts.append(f"({row.note})")
        if row.account_no:
            parts.append(f"to account {mask_identifier(row.account_no)} {row.account_name or ''}".rstrip())
        text.append(", ".join(parts))
    excluded = result.exclusions[result.exclusions["household_id"] == household_id]
    for row in excluded.itertuples(index=False):
        who = f" person {mask_identifier(row.id_number)}" if row.id_number else ""
        text.append(f"  {household_id}{who} excluded: {row.reason}")
    if household_lines.empty and excluded.empty:
        text.append(f"  {household_id}: no line and no exclusion in this allocation")
    return text
