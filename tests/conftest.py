"""Fixtures shared by every test folder; the helpers live in database_support.py (a module name
of its own: two conftest modules would collide on the name "conftest")."""

import os  # noqa: E402

from database_support import (  # noqa: F401  (pytest finds fixtures by name in this module)
    backend,
    database_url,
    empty_database_url,
    engine,
    pg_template,
    sqlite_template,
)

# In-process command tests want a defect's traceback, not the user's one-line message.
os.environ.setdefault("DISBURSE_DEBUG", "1")
# The tests assert on message ids (the English text in the code) unless they say otherwise: a
# test of the Chinese a user sees sets the language itself (disburse.foundation.i18n.language,
# or DISBURSE_LANG=zh for a command's process). The web application is Chinese whatever this says.
os.environ.setdefault("DISBURSE_LANG", "en")
