"""Thresholds of the anomaly checks (audit/config.yaml, or a file given with ``--config``): one
section per check. Amounts are yuan text (``"1000.00"``), turned into fen here once."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import join_clauses, tr
from disburse.foundation.money import fen_from_text
from disburse.foundation.validation import problem_lines, validation_problems
from disburse.foundation.yaml_text import load_yaml

CONFIG_PATH = Path(__file__).with_name("config.yaml")
PROGRAMME_PAIRS_MAX = 100
CONFIG_TEXT_CHARS_MAX = 100_000


def _fen(value: object) -> int:
    if isinstance(value, float):
        raise ValueError(tr('write amounts as quoted yuan text, e.g. "1000.00"'))
    fen = fen_from_text(str(value))
    if fen < 0:
        raise ValueError(tr("{value} must not be negative", value=value))
    return fen


def _percent(value: object) -> tuple[int, int]:
    """``"5%"`` or ``"0.5%"`` as a fraction (numerator, denominator)."""
    text = str(value).strip()
    if not text.endswith("%"):
        raise ValueError(tr('{value!r} must be a percentage such as "5%"', value=value))
    fen = fen_from_text(text[:-1])  # hundredths of a percent
    if not 0 <= fen <= 10_000:
        raise ValueError(tr("{value!r} must be between 0% and 100%", value=value))
    return fen, 10_000


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MoneyIdle(_Section):
    days: int = Field(365, ge=1)
    fund_accounts: tuple[str, ...] = ("241",)


class EqualSplit(_Section):
    lines_min: int = Field(10, ge=2)
    same_amount_percent: int = Field(90, ge=1, le=100)
    tolerance_yuan: str = "1.00"
    pool_fund_words: tuple[str, ...] = ("光伏", "分红", "收益")

    @property
    def tolerance_fen(self) -> int:
        return _fen(self.tolerance_yuan)


class CopiedList(_Section):
    rows_min: int = Field(5, ge=2)


class TooMany(_Section):
    extra_people_min: int = Field(1, ge=1)


class Incompatible(_Section):
    pairs: tuple[tuple[str, str], ...] = (("forest_ranger", "public_welfare_job"),)

    @field_validator("pairs")
    @classmethod
    def _few(cls, pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        if len(pairs) > PROGRAMME_PAIRS_MAX:
            raise ValueError(tr("at most {count_max} pairs", count_max=PROGRAMME_PAIRS_MAX))
        return pairs


class DividendFloor(_Section):
    floor_percent: str = "5%"
    floors: dict[str, str] = Field(default_factory=dict)
    shortfall_days: int = Field(90, ge=1)

    @field_validator("floor_percent")
    @classmethod
    def _valid(cls, value: str) -> str:
        _percent(value)
        return value

    def floor_of(self, cooperative_id: str) -> tuple[int, int]:
        """The contract floor of a cooperative as a fraction of principal a year."""
        return _percent(self.floors.get(cooperative_id, self.floor_percent))


class SettlementMismatch(_Section):
    tolerance_yuan: str = "0.00"

    @property
    def tolerance_fen(self) -> int:
        return _fen(self.tolerance_yuan)


class WagesClawedBack(_Section):
    days: int = Field(30, ge=1)
    tolerance_percent: int = Field(10, ge=0, le=100)
    wage_programmes: tuple[str, ...] = ("forest_ranger", "public_welfare_job")


class JustUnder(_Section):
    margin_percent: int = Field(10, ge=1, le=50)
    window_days: int = Field(7, ge=1)
    count_min: int = Field(2, ge=2)
    thresholds_yuan: tuple[str, ...] = ()

    @property
    def thresholds_fen(self) -> tuple[int, ...]:
        return tuple(_fen(value) for value in self.thresholds_yuan)


class PayeeNotBeneficiary(_Section):
    large_payment_yuan: str = "10000.00"
    card_change_days: int = Field(30, ge=1)

    @property
    def large_payment_fen(self) -> int:
        return _fen(self.large_payment_yuan)


class PaidTwice(_Section):
    amount_min_yuan: str = "0.01"

    @property
    def amount_min_fen(self) -> int:
        return _fen(self.amount_min_yuan)


class NoOutput(_Section):
    kwh_max: int = Field(0, ge=0)


class AfterDeath(_Section):
    death_in_period: bool = False


class AfterExit(_Section):
    exit_in_period: bool = False


class TwoHouseholds(_Section):
    grace_days: int = Field(0, ge=0, le=366)


class NameMismatch(_Section):
    ignore_spaces: bool = True


class SharedAccount(_Section):
    households_min: int = Field(2, ge=2)


class AboveNorm(_Section):
    multiple: int = Field(5, ge=2)
    floor_yuan: str = "1000.00"

    @property
    def floor_fen(self) -> int:
        return _fen(self.floor_yuan)


class PvHouseholdShare(_Section):
    max_percent: int = Field(70, ge=0, le=100)


class AuditConfig(_Section):
    """Every check's section; a section left out keeps its defaults."""

    money_idle: MoneyIdle = MoneyIdle()
    equal_split: EqualSplit = EqualSplit()
    copied_list: CopiedList = CopiedList()
    too_many_in_household: TooMany = TooMany()
    incompatible_programmes: Incompatible = Incompatible()
    paid_twice: PaidTwice = PaidTwice()
    dividend_below_floor: DividendFloor = DividendFloor()
    settlement_mismatch: SettlementMismatch = SettlementMismatch()
    station_no_output: NoOutput = NoOutput()
    wages_clawed_back: WagesClawedBack = WagesClawedBack()
    just_under_threshold: JustUnder = JustUnder()
    payee_not_beneficiary: PayeeNotBeneficiary = PayeeNotBeneficiary()
    paid_after_death: AfterDeath = AfterDeath()
    paid_after_exit: AfterExit = AfterExit()
    person_in_two_households: TwoHouseholds = TwoHouseholds()
    shared_bank_account: SharedAccount = SharedAccount()
    account_name_mismatch: NameMismatch = NameMismatch()
    above_norm: AboveNorm = AboveNorm()
    pv_household_share: PvHouseholdShare = PvHouseholdShare()


def load_config(path: str | Path | None = None) -> AuditConfig:
    """Read the thresholds; a broken file is refused with its path and every problem."""
    source = Path(path or CONFIG_PATH)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise DisburseError(
            tr("audit configuration {path} cannot be read: {error}", path=source, error=error.strerror)
        ) from None
    if len(text) > CONFIG_TEXT_CHARS_MAX:
        raise DisburseError(
            tr(
                "audit configuration {path} is over {length_max:,} characters",
                path=source,
                length_max=CONFIG_TEXT_CHARS_MAX,
            )
        )
    try:
        document = load_yaml(text) or {}
        config = AuditConfig.model_validate(document)
        # Amounts and percentages are checked once here, not when a check first needs them.
        _ = (config.equal_split.tolerance_fen, config.settlement_mismatch.tolerance_fen)
        _ = (config.just_under_threshold.thresholds_fen, config.payee_not_beneficiary.large_payment_fen)
        _ = (
            config.above_norm.floor_fen,
            [config.dividend_below_floor.floor_of(c) for c in config.dividend_below_floor.floors],
        )
    except yaml.YAMLError as error:
        raise DisburseError(tr("audit configuration {path} is not YAML: {error}", path=source, error=error)) from None
    except ValidationError as error:
        problems = join_clauses(problem_lines(validation_problems(error)))
        raise DisburseError(
            tr("audit configuration {path} cannot be used: {error}", path=source, error=problems)
        ) from None
    except ValueError as error:
        raise DisburseError(
            tr("audit configuration {path} cannot be used: {error}", path=source, error=error)
        ) from None
    return config
