"""Imports every module that declares tables, so Base.metadata knows the whole schema.

Alembic's env and the test fixtures import this one module; a package that adds tables adds
its import here.
"""

import ledger_core.tables  # noqa: F401
import registry.tables  # noqa: F401
import allocations.tables  # noqa: F401
import payouts.tables  # noqa: F401
import reconciliation.tables  # noqa: F401
import audit.tables  # noqa: F401
