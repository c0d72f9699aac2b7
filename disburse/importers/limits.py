"""Limits on what an import accepts, each named, each with the reason for its size.

A file over a limit is refused with an ``ImportProblem`` naming the file and the limit, never
half-read: a truncated register would silently drop households.
"""

from __future__ import annotations

from disburse.foundation.i18n import tr

# A province registers a few million people (Guizhou once had over 6 million registered poor
# people, most provinces 1-3 million); 5,000,000 rows covers one province's export in one file
# while keeping a parse inside the memory of an ordinary office server.
IMPORT_ROWS_MAX = 5_000_000

# 5,000,000 register rows of about 250 bytes each in UTF-8 is about 1.25 GB; 2 GiB leaves room
# for long names and extra columns and still refuses a file that is not a register at all.
IMPORT_FILE_BYTES_MAX = 2 * 1024**3

# No field we read (names, addresses, memos, bank descriptions) comes near 1,000 characters;
# Excel itself caps a cell at 32,767. A longer cell is a broken quote swallowing the file.
CELL_CHARS_MAX = 1_000

# Bank statement exports put a title, the account number and the period above the header
# (ICBC: 6 lines); registers exported with a report title put 1-3 lines. 30 rows is generous
# and keeps a file with no header at all from being scanned to the end.
HEADER_SEARCH_ROWS = 30


class ImportLimitExceeded(Exception):
    """Raised only by callers that want an exception: importers report limits as problems.

    The message names the file and the limit.
    """


def limit_message(limit_name: str, limit_value: int, actual: str) -> str:
    """The reason text for a file over a limit, naming the limit and its value."""
    return tr("{actual}; the limit {name} is {value:,}", actual=actual, name=limit_name, value=limit_value)
