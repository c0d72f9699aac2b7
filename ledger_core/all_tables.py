"""Imports every module that declares tables, so Base.metadata knows the whole schema.

Alembic's env and the test fixtures import this one module; a package that adds tables adds
its import here.
"""

import ledger_core.tables  # noqa: F401
