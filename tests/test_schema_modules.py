"""Issue #11 item 1: a process that loads one stage's tables must be able to resolve every
foreign key they declare, whatever else it imported. Each module is loaded alone, in a fresh
process, and its tables (with those they refer to) are created."""

from __future__ import annotations

import subprocess
import sys

import pytest

TABLE_MODULES = (
    "disburse.ledger.tables",
    "disburse.registry.tables",
    "disburse.allocations.tables",
    "disburse.payouts.tables",
    "disburse.reconciliation.tables",
    "disburse.audit.tables",
)
CREATE = """
import {module}
from sqlalchemy import create_engine
from disburse.foundation.orm import Base
Base.metadata.create_all(create_engine("sqlite://"))
"""


@pytest.mark.parametrize("module", TABLE_MODULES)
def test_issue11_item1_each_tables_module_resolves_its_foreign_keys_alone(module: str) -> None:
    completed = subprocess.run([sys.executable, "-c", CREATE.format(module=module)], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
