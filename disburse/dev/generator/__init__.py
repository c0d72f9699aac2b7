"""Synthetic county generator: registers, share register, PV settlements and subsidy sheets
of a realistic made-up county, deterministic by seed (see ``generate_county``)."""

from disburse.dev.generator.county import generate_county
from disburse.dev.generator.model import (
    HOUSEHOLDS_MAX,
    HOUSEHOLDS_MIN,
    MESSY_HOUSEHOLDS_MAX,
    SNAPSHOT_DATES,
    GeneratedCounty,
)

__all__ = [
    "generate_county",
    "GeneratedCounty",
    "HOUSEHOLDS_MAX",
    "HOUSEHOLDS_MIN",
    "MESSY_HOUSEHOLDS_MAX",
    "SNAPSHOT_DATES",
]
