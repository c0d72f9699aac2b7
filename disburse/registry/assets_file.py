"""The assets configuration file (``assets.yaml``, the generator's schema), read and validated.

``parse_assets(path)`` returns the declared assets as ``registry.model.Asset`` records and the
file's problems as ``ImportProblem`` data, each naming its path in the file
(``stations.2.capacity_kw``). Unknown keys are errors (``extra="forbid"``) so a misspelt key is
never silently ignored. A credit code with a wrong check character is a warning only (some
early codes were issued that way).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from disburse.foundation.errors import ImportProblem
from disburse.foundation.i18n import tr
from disburse.foundation.identifiers import credit_code_problem, village_code_problem
from disburse.foundation.money import MoneyError, fen_from_decimal
from disburse.foundation.validation import validation_problems
from disburse.foundation.yaml_text import load_yaml
from disburse.registry.model import Asset

# An assets file declares a county's stations and cooperatives: a few dozen entries. A megabyte
# is far beyond any real one and refuses a wrong file (a register) before YAML parses it.
ASSETS_FILE_BYTES_MAX = 1024 * 1024
# Capacities are stored in whole watts and shares in ten-thousandths.
WATTS_PER_KW = 1000
UNITS_E4_PER_UNIT = 10_000
ASSET_ID_LENGTH_MAX = 64


def _decimal(value: object, what: str, places: int) -> Decimal:
    """A non-negative decimal from a YAML string or integer with at most ``places`` decimals."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(
            tr('{what} must be a number written as text (e.g. "310"), not {type}', what=what, type=type(value).__name__)
        )
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(tr("{what} {value!r} is not a number", what=what, value=value)) from None
    if not number.is_finite() or number < 0:
        raise ValueError(tr("{what} {value!r} must be a non-negative number", what=what, value=value))
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(
            tr("{what} {value!r} has more than {places} decimal places", what=what, value=value, places=places)
        )
    return number


class _Station(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    asset_id: str = Field(min_length=1, max_length=ASSET_ID_LENGTH_MAX)
    name: str = Field(min_length=1, max_length=200)
    capacity_kw: Decimal
    owner: str = Field(min_length=1, max_length=32)
    village_codes: list[str] = Field(min_length=1)
    commissioned_on: dt.date

    @field_validator("capacity_kw", mode="before")
    @classmethod
    def _capacity(cls, value: object) -> Decimal:
        return _decimal(value, "capacity_kw", 3)

    @field_validator("village_codes")
    @classmethod
    def _village_codes(cls, values: list[str]) -> list[str]:
        for code in values:
            problem = village_code_problem(code)
            if problem:
                raise ValueError(tr("village code {code!r}: {problem}", code=code, problem=problem))
        if len(set(values)) != len(values):
            raise ValueError(tr("a village code is listed twice"))
        return values


class _Cooperative(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    asset_id: str = Field(min_length=1, max_length=ASSET_ID_LENGTH_MAX)
    name: str = Field(min_length=1, max_length=200)
    credit_code: str = Field(min_length=18, max_length=18)
    principal_yuan: Decimal
    share_count: Decimal
    owner: str = Field(min_length=1, max_length=32)
    paying_entity: str = Field(min_length=1, max_length=32)
    village_codes: list[str] = Field(default_factory=list)

    @field_validator("principal_yuan", mode="before")
    @classmethod
    def _principal(cls, value: object) -> Decimal:
        return _decimal(value, "principal_yuan", 2)

    @field_validator("share_count", mode="before")
    @classmethod
    def _shares(cls, value: object) -> Decimal:
        return _decimal(value, "share_count", 4)


class _AssetsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stations: list[_Station] = Field(default_factory=list)
    cooperatives: list[_Cooperative] = Field(default_factory=list)


def _problem(file: str, path: str, value: object, reason: str, severity: str = "error") -> ImportProblem:
    return ImportProblem(file, None, path or None, "" if value is None else str(value), reason, severity)  # type: ignore[arg-type]


def parse_assets(path: str | os.PathLike[str]) -> tuple[tuple[Asset, ...], tuple[ImportProblem, ...], str]:
    """Read ``assets.yaml``: the assets, every problem (errors refuse the file), and the file's
    SHA-256. Problems name their place in the file as ``column`` (``stations.0.capacity_kw``)."""
    file = os.fspath(path)
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if len(data) > ASSETS_FILE_BYTES_MAX:
        return (
            (),
            (
                _problem(
                    file,
                    "",
                    len(data),
                    tr(
                        "file is {size:,} bytes; the limit ASSETS_FILE_BYTES_MAX is {limit:,}",
                        size=len(data),
                        limit=ASSETS_FILE_BYTES_MAX,
                    ),
                ),
            ),
            digest,
        )
    try:
        document = load_yaml(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        return (), (_problem(file, "", "", tr("not a UTF-8 YAML file: {error}", error=error)),), digest
    if not isinstance(document, dict):
        return (), (_problem(file, "", "", tr("an assets file is a mapping with stations: and cooperatives:")),), digest
    try:
        parsed = _AssetsFile.model_validate(document)
    except ValidationError as error:
        return (), _validation_problems(file, error), digest

    problems: list[ImportProblem] = []
    assets = _station_assets(parsed.stations)
    _cooperative_assets(file, parsed.cooperatives, assets, problems)
    seen: dict[str, int] = {}
    for index, declared in enumerate(assets):
        if declared.asset_id in seen:
            problems.append(_problem(file, "asset_id", declared.asset_id, tr("asset id is declared twice")))
        seen[declared.asset_id] = index
    return tuple(assets), tuple(problems), digest


def _validation_problems(file: str, error: ValidationError) -> tuple[ImportProblem, ...]:
    """Pydantic's errors as problems naming their place in the file; an unknown key is named
    itself (its value would not say which key is wrong)."""
    return tuple(
        _problem(file, location, item["loc"][-1] if item["type"] == "extra_forbidden" else item.get("input"), reason)
        for item, (location, reason) in zip(error.errors(), validation_problems(error), strict=True)
    )


def _station_assets(stations: list[_Station]) -> list[Asset]:
    """The declared stations as assets, capacities in whole watts."""
    assets: list[Asset] = []
    for station in stations:
        assets.append(
            Asset(
                asset_id=station.asset_id,
                kind="station",
                name=station.name,
                owner_entity=station.owner,
                village_codes=tuple(station.village_codes),
                capacity_w=int(station.capacity_kw * WATTS_PER_KW),
                commissioned_on=station.commissioned_on,
            )
        )
    return assets


def _cooperative_assets(
    file: str, cooperatives: list[_Cooperative], assets: list[Asset], problems: list[ImportProblem]
) -> None:
    """Append the declared cooperatives to ``assets`` and their problems to ``problems``: a bad credit
    code is a warning, a principal the money rules refuse (``MoneyError``) an error that leaves the
    cooperative out."""
    for index, cooperative in enumerate(cooperatives):
        problem = credit_code_problem(cooperative.credit_code)
        if problem:
            problems.append(
                _problem(
                    file,
                    f"cooperatives.{index}.credit_code",
                    cooperative.credit_code,
                    tr("unified social credit code: {problem}", problem=problem),
                    "warning",
                )
            )
        try:
            principal_fen = fen_from_decimal(cooperative.principal_yuan)
        except MoneyError as error:
            problems.append(
                _problem(file, f"cooperatives.{index}.principal_yuan", cooperative.principal_yuan, str(error))
            )
            continue
        assets.append(
            Asset(
                asset_id=cooperative.asset_id,
                kind="cooperative",
                name=cooperative.name,
                owner_entity=cooperative.owner,
                village_codes=tuple(cooperative.village_codes),
                share_count_e4=int(cooperative.share_count * UNITS_E4_PER_UNIT),
                principal_fen=principal_fen,
                credit_code=cooperative.credit_code,
                paying_entity=cooperative.paying_entity,
            )
        )
