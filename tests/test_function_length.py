"""A guard: every function in ``disburse/`` stays short enough for a reader to hold.

The rule (STYLE, issue #12 item 6) is about 70 lines a function; this test fails at more than
80 (FUNCTION_LINES_MAX), leaving a little room so that a small fix does not have to restructure
a function at 71 lines. A function's length is counted from its ``def`` line (decorators not
included) to its last line, docstring and comments included, as a reader sees it. Migrations
(``disburse/schema/migrations/``) are left out: each ``upgrade`` is one long list of DDL
statements that must read in order, and a migration is never edited once released.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FUNCTION_LINES_MAX = 80
PACKAGE_DIRECTORY = Path(__file__).resolve().parent.parent / "disburse"
EXCLUDED_DIRECTORY = PACKAGE_DIRECTORY / "schema" / "migrations"


def long_functions(root: Path, lines_max: int, excluded: Path | None = None) -> list[str]:
    """``file:line name (N lines)`` for every function and method under ``root`` longer than
    ``lines_max`` lines, nested ones included, skipping files under ``excluded``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if excluded is not None and path.is_relative_to(excluded):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                line_count = node.end_lineno - node.lineno + 1
                if line_count > lines_max:
                    where = path.relative_to(root.parent).as_posix()
                    found.append(f"{where}:{node.lineno} {node.name} ({line_count} lines)")
    return found


def test_no_function_in_disburse_is_longer_than_80_lines():
    too_long = long_functions(PACKAGE_DIRECTORY, FUNCTION_LINES_MAX, EXCLUDED_DIRECTORY)
    assert not too_long, (
        f"{len(too_long)} function(s) longer than {FUNCTION_LINES_MAX} lines; cut each into named steps "
        "(about 70 lines at most):\n  " + "\n  ".join(too_long)
    )


def _statements(count: int, indent: str = "    ") -> str:
    return "".join(f"{indent}x{number} = {number}\n" for number in range(count))


def test_the_guard_finds_a_long_function_and_skips_the_excluded_directory(tmp_path):
    # One function of 82 lines (def, 80 statements, return) on lines 1-82; one of exactly 80
    # (def, 78, return) on lines 85-164; a class on line 167 whose 82-line method starts on
    # line 168; and a long function under the excluded directory.
    package = tmp_path / "package"
    (package / "migrations").mkdir(parents=True)
    (package / "long.py").write_text(
        "def too_long():\n" + _statements(80) + "    return 0\n\n\n"
        "def just_fits():\n" + _statements(78) + "    return 0\n\n\n"
        "class Holder:\n    def method(self):\n" + _statements(80, "        ") + "        return 0\n",
        encoding="utf-8",
    )
    (package / "migrations" / "0001.py").write_text(
        "def upgrade():\n" + _statements(100) + "    return 0\n", encoding="utf-8"
    )

    found = long_functions(package, 80, package / "migrations")

    assert found == ["package/long.py:1 too_long (82 lines)", "package/long.py:168 method (82 lines)"]


@pytest.mark.parametrize(("lines_max", "expected"), [(81, ["package/one.py:1 eighty_two (82 lines)"]), (82, [])])
def test_the_guard_counts_the_def_line_and_the_last_line(tmp_path, lines_max, expected):
    # def, 80 statements and a return: 82 lines, too long at a limit of 81, fits at 82.
    package = tmp_path / "package"
    package.mkdir()
    (package / "one.py").write_text("def eighty_two():\n" + _statements(80) + "    return 0\n", encoding="utf-8")

    assert long_functions(package, lines_max) == expected
