"""Payout configuration (``payouts/config.yaml``, or the file named by DISBURSE_PAYOUTS_CONFIG):
the batch total above which a second approver is needed, whether programmes are merged into one
bank transfer, and the bank profile whose file a batch is prepared for. The last two may be set
for all entities and overridden per entity."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import join_clauses, tr
from disburse.foundation.money import fen_from_text
from disburse.foundation.validation import problem_lines, validation_problems
from disburse.foundation.yaml_text import load_yaml

DEFAULT_CONFIG_PATH = Path(__file__).with_name("config.yaml")
CONFIG_ENVIRONMENT_VARIABLE = "DISBURSE_PAYOUTS_CONFIG"
ENTITY_SETTINGS_MAX = 10_000  # one per paying entity of a province, far beyond any county


class _EntityFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    merge_programmes: bool | None = None
    bank_profile: str | None = Field(default=None, min_length=1, max_length=40)


class _ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    second_approval_above_yuan: str
    merge_programmes: bool = False
    bank_profile: str | None = Field(default=None, min_length=1, max_length=40)
    entities: dict[str, _EntityFile] = Field(default_factory=dict, max_length=ENTITY_SETTINGS_MAX)


@dataclass(frozen=True, slots=True)
class EntityPayoutSettings:
    """One entity's overrides; None leaves the global setting."""

    merge_programmes: bool | None = None
    bank_profile: str | None = None


@dataclass(frozen=True, slots=True)
class PayoutConfig:
    """Settings of the payout workflow; money in fen.

    ``merge_programmes`` False (the default) makes one payment per programme and period per
    payee account, as one-card practice itemises each benefit on the passbook; True makes one
    payment per payee account over every programme and period due. ``bank_profile`` is the
    profile whose file a batch is prepared for when ``payout prepare`` names none."""

    second_approval_above_fen: int
    merge_programmes: bool = False
    bank_profile: str | None = None
    entities: dict[str, EntityPayoutSettings] = field(default_factory=dict)

    def approvals_required(self, total_fen: int) -> int:
        """One approver, or two when the batch total is above the threshold."""
        return 2 if total_fen > self.second_approval_above_fen else 1

    def merges_programmes(self, entity_code: str) -> bool:
        own = self.entities.get(entity_code)
        return self.merge_programmes if own is None or own.merge_programmes is None else own.merge_programmes

    def bank_profile_for(self, entity_code: str) -> str | None:
        own = self.entities.get(entity_code)
        return self.bank_profile if own is None or own.bank_profile is None else own.bank_profile


def load_payout_config(path: str | os.PathLike[str] | None = None) -> PayoutConfig:
    """Read the configuration; a broken file is refused with its path and the problem."""
    chosen = Path(path or os.environ.get(CONFIG_ENVIRONMENT_VARIABLE) or DEFAULT_CONFIG_PATH)
    try:
        document = load_yaml(chosen.read_text(encoding="utf-8"))
        parsed = _ConfigFile.model_validate(document)
        threshold_fen = fen_from_text(str(parsed.second_approval_above_yuan))
    except ValidationError as error:
        problems = join_clauses(problem_lines(validation_problems(error)))
        raise DisburseError(
            tr("payout configuration {path} cannot be used: {error}", path=chosen, error=problems)
        ) from None
    except (OSError, yaml.YAMLError, ValueError) as error:
        raise DisburseError(
            tr("payout configuration {path} cannot be used: {error}", path=chosen, error=error)
        ) from None
    if threshold_fen < 0:
        raise DisburseError(
            tr("payout configuration {path}: second_approval_above_yuan must not be negative", path=chosen)
        )
    entities = {
        code.strip(): EntityPayoutSettings(settings.merge_programmes, settings.bank_profile)
        for code, settings in parsed.entities.items()
    }
    return PayoutConfig(threshold_fen, parsed.merge_programmes, parsed.bank_profile, entities)
