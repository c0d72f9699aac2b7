"""Imports every module that declares tables, so Base.metadata knows the whole schema.

Alembic's env and the test fixtures import this one module; a package that adds tables adds
its import here.
"""

import disburse.accounts.tables  # noqa: F401
import disburse.allocations.tables  # noqa: F401
import disburse.audit.tables  # noqa: F401
import disburse.ledger.tables  # noqa: F401
import disburse.payouts.tables  # noqa: F401
import disburse.reconciliation.tables  # noqa: F401
import disburse.registry.tables  # noqa: F401
