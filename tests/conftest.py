"""Fixtures shared by every test folder; the helpers live in database_support.py (a module name
of its own: two conftest modules would collide on the name "conftest")."""

import gc
import os
import sys

# Bytecode is written even where PYTHONDONTWRITEBYTECODE is set (this machine sets it): without
# it every worker rewrites and compiles each of the ~140 test modules on every run (7 s of CPU a
# worker, 3.3 s with the cache), and every command a test starts as a process compiles the
# package's modules from source. The caches go to __pycache__, which git ignores.
sys.dont_write_bytecode = False

import pytest  # noqa: E402
from database_support import (  # noqa: F401, E402  (pytest finds fixtures by name in this module)
    PG_URL,
    backend,
    database_url,
    drop_shared_pg_databases,
    empty_database_url,
    engine,
    pg_template,
    sqlite_template,
)

from disburse.cli.app import GC_YOUNG_THRESHOLD  # noqa: E402
from disburse.foundation.i18n import set_language  # noqa: E402

# The tests' process collects garbage as every command's process does (disburse.cli.app.main):
# the in-process tests read and build the same frames of row tuples the commands do.
gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])

# In-process command tests want a defect's traceback, not the user's one-line message.
os.environ.setdefault("DISBURSE_DEBUG", "1")
# The tests assert on message ids (the English text in the code) unless they say otherwise: a
# test of the Chinese a user sees sets the language itself (disburse.foundation.i18n.language,
# or DISBURSE_LANG=zh for a command's process). The web application is Chinese whatever this says.
os.environ.setdefault("DISBURSE_LANG", "en")

# The few tests that take minutes start first: with `-n auto --dist worksteal` (the README's test
# command) one worker runs the long one while the others take the rest of its queue, instead of
# the suite waiting at its end for a scenario that started last.
LONGEST_FIRST = (
    "tests/scenario/",
    "tests/web/test_web_browser.py::test_the_month_in_a_browser",
    "tests/dev/demo/test_demo_cycle.py",
    "tests/cli/test_cli_checkpoints.py",
    "tests/payouts/test_export_crash_safety.py",
    # Each about 30-55 s of real processes (2026-12-03): started late, one of them is CI's tail.
    "tests/reports/test_printed_books.py",
    "tests/allocations/test_budget_indicators.py::test_worked_example",
    "tests/payouts/test_resends.py::test_issue14_item5",
    "tests/allocations/test_review_chain.py",
    "tests/payouts/test_payee_beneficiary_head.py",
)


@pytest.fixture(autouse=True)
def _language_per_test():  # type: ignore[no-untyped-def]
    """Each test starts from DISBURSE_LANG: a command run in a test's process with ``--lang zh``
    sets the language of the whole context (disburse.foundation.i18n.set_language), and the next
    test on the same worker would otherwise read Chinese where it expects message ids."""
    yield
    set_language(None)


def _start_rank(nodeid: str) -> int:
    ranks = [rank for rank, prefix in enumerate(LONGEST_FIRST) if nodeid.startswith(prefix)]
    return ranks[0] if ranks else len(LONGEST_FIRST)


def pytest_collection_modifyitems(items: list) -> None:
    items.sort(key=lambda item: _start_rank(item.nodeid))  # stable: the rest keep their order


def pytest_xdist_auto_num_workers(config) -> int | None:  # type: ignore[no-untyped-def]
    """`-n auto`: one worker more than the cores. Much of the suite waits on a command's process or
    on PostgreSQL, so a worker per core leaves a core idle about a quarter of the time."""
    if config.option.numprocesses != "auto":
        return None
    return (os.cpu_count() or 1) + 1


def pytest_sessionfinish(session) -> None:  # type: ignore[no-untyped-def]
    """The run's end (the xdist controller's, after every worker): drop the PostgreSQL databases
    that built_once's builds shared between workers."""
    if PG_URL and not os.environ.get("PYTEST_XDIST_WORKER"):
        drop_shared_pg_databases(session.config._tmp_path_factory.getbasetemp())
