"""Payout configuration (``payouts/config.yaml``, or the file named by DISBURSE_PAYOUTS_CONFIG):
the batch total above which a second approver is needed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from disburse.foundation.errors import DisburseError
from disburse.foundation.money import fen_from_text

DEFAULT_CONFIG_PATH = Path(__file__).with_name("config.yaml")
CONFIG_ENVIRONMENT_VARIABLE = "DISBURSE_PAYOUTS_CONFIG"


class _ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    second_approval_above_yuan: str


@dataclass(frozen=True, slots=True)
class PayoutConfig:
    """Settings of the payout workflow; money in fen."""

    second_approval_above_fen: int

    def approvals_required(self, total_fen: int) -> int:
        """One approver, or two when the batch total is above the threshold."""
        return 2 if total_fen > self.second_approval_above_fen else 1


def load_payout_config(path: str | os.PathLike[str] | None = None) -> PayoutConfig:
    """Read the configuration; a broken file is refused with its path and the problem."""
    chosen = Path(path or os.environ.get(CONFIG_ENVIRONMENT_VARIABLE) or DEFAULT_CONFIG_PATH)
    try:
        document = yaml.safe_load(chosen.read_text(encoding="utf-8"))
        parsed = _ConfigFile.model_validate(document)
        threshold_fen = fen_from_text(str(parsed.second_approval_above_yuan))
    except (OSError, yaml.YAMLError, ValidationError, ValueError) as error:
        raise DisburseError(f"payout configuration {chosen} cannot be used: {error}") from None
    if threshold_fen < 0:
        raise DisburseError(f"payout configuration {chosen}: second_approval_above_yuan must not be negative")
    return PayoutConfig(threshold_fen)
