"""A programme's review chain (审核链): the ordered levels a run climbs before it is approved.

A rule names its chain in a ``review:`` key, next to ``notice:``::

    review:
      levels:
        - {level: 村}
        - {level: 乡镇}
        - {level: 县主管部门, above_yuan: "100000"}
        - {level: 财政终审, above_yuan: "500000"}

Each level acts in the order written. A level with ``above_yuan`` is required only for a run
whose payable total (``allocation_runs.payable_fen``: what the run pays households and people,
the figure the review queue shows) is more than that amount; a level without one is always
required, and at least one level must be, so that every run is reviewed by someone. The chain
is read from the rule text the run stored, so editing the YAML file later changes nothing for a
run already made. A rule without ``review:`` keeps the single approval by a second person.

This module is pure: the setting, and which level a run waits for given the actions so far.
Storing and checking the actions is ``allocations.run_review``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError, model_validator

from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import join_list, tr
from disburse.foundation.money import MoneyError, fen_from_text
from disburse.foundation.validation import problem_message

LEVELS_MAX = 8
LEVEL_NAME_LENGTH_MAX = 32


def _threshold_fen(value: object) -> int:
    """``above_yuan`` as int fen: quoted yuan text or a whole number, never a YAML float."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(tr('write above_yuan as quoted yuan, e.g. "100000", not {value}', value=repr(value)))
    try:
        fen = fen_from_text(str(value))
    except MoneyError as error:
        raise ValueError(str(error)) from None
    if fen < 0:
        raise ValueError(tr("amount {value} must not be negative", value=repr(value)))
    return fen


ThresholdFen = Annotated[int, PlainValidator(_threshold_fen)]


class ReviewLevel(BaseModel):
    """One level: its name (who reviews, e.g. 乡镇) and the amount above which it is required."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: str = Field(min_length=1, max_length=LEVEL_NAME_LENGTH_MAX)
    # None: required for every run.
    above_yuan: ThresholdFen | None = None

    def required_for(self, payable_fen: int) -> bool:
        return self.above_yuan is None or payable_fen > self.above_yuan


class ReviewChain(BaseModel):
    """``review:`` of a rule: the levels in the order they act."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    levels: list[ReviewLevel] = Field(min_length=1, max_length=LEVELS_MAX)

    @model_validator(mode="after")
    def _check(self) -> "ReviewChain":
        names = [level.level.strip() for level in self.levels]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(tr("review levels must differ; named twice: {names}", names=join_list(repeated)))
        if all(level.above_yuan is not None for level in self.levels):
            raise ValueError(
                tr("at least one review level has no above_yuan, so that every run is reviewed by someone")
            )
        return self

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(level.level for level in self.levels)

    def required(self, payable_fen: int) -> tuple[ReviewLevel, ...]:
        """The levels a run of this payable total must pass, in order."""
        return tuple(level for level in self.levels if level.required_for(payable_fen))


@dataclass(frozen=True, slots=True)
class ChainProgress:
    """Where a run stands in its chain: the levels it needs, those approved, the one it waits for
    (None once every required level approved, or once a level returned it)."""

    required: tuple[ReviewLevel, ...]
    approved: tuple[str, ...]
    pending: ReviewLevel | None
    returned: bool

    @property
    def complete(self) -> bool:
        return not self.returned and self.pending is None


def chain_progress(chain: ReviewChain, payable_fen: int, actions: list[tuple[str, str]]) -> ChainProgress:
    """``actions`` are the run's ``(level, action)`` pairs in the order they were taken
    (action ``approved`` or ``returned``); the pending level is the first required one not yet
    approved."""
    required = chain.required(payable_fen)
    approved = tuple(level for level, action in actions if action == "approved")
    returned = any(action == "returned" for _, action in actions)
    pending = next((level for level in required if level.level not in approved), None)
    return ChainProgress(required, approved, None if returned else pending, returned)


def review_chain_of(rule_text: str) -> ReviewChain | None:
    """The ``review:`` key of a stored rule text, or None when the rule has no chain."""
    try:
        document = yaml.safe_load(rule_text) if rule_text else None
    except yaml.YAMLError:
        document = None
    value = document.get("review") if isinstance(document, dict) else None
    if value is None:
        return None
    try:
        return ReviewChain.model_validate(value)
    except ValidationError as error:  # the rule was validated when the run was made
        raise DisburseError(
            tr("the rule's review key is not valid: {problem}", problem=problem_message(error.errors()[0]))
        ) from None
