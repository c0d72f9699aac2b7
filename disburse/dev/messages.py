"""The message catalog's tools: extract every ``tr``/``trn``/``tr_noop`` id from the code and the
templates, keep the Chinese catalog in step with them, compile it, and check it.

    python -m disburse.dev.messages update [--also OTHER.po ...]   # add new ids, drop gone ones
    python -m disburse.dev.messages compile                        # disburse.po -> disburse.mo
    python -m disburse.dev.messages check                          # what CI runs
    python -m disburse.dev.messages untranslated [cli/] > todo.json  # {id: ""} for every id to do
    python -m disburse.dev.messages bypasses [payouts/]            # literals shown without tr()
    python -m disburse.dev.messages fill done.json                 # set translations from {id: text}

``update`` keeps every translation already made (and takes missing ones from ``--also`` catalogs,
which is how two branches' catalogs are joined); a new id gets an empty translation, which
``check`` refuses. The catalog is written sorted by id, without line numbers, so two changes to the
code rarely touch the same lines of it.
"""

from __future__ import annotations

import ast
import datetime as dt
import gettext
import io
import json
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from disburse.foundation.i18n import CATALOG_LOCALES, DOMAIN, LOCALE_DIRECTORY

PACKAGE_DIRECTORY = LOCALE_DIRECTORY.parent
KEYWORDS = {"tr": None, "trn": (1, 2), "tr_noop": None, "tr_stored": None}
METHOD_MAP = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
HEADER_COMMENT = "# disburse: Simplified Chinese for every user-facing message (python -m disburse.dev.messages)."
CATALOG_DATE = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)[^{}]*\}")


def catalog_path(code: str = "zh", suffix: str = ".po") -> Path:
    return LOCALE_DIRECTORY / CATALOG_LOCALES[code] / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


def extracted() -> dict[str | tuple[str, str], set[str]]:
    """Every message id in the package (a plural as its (singular, plural) pair) and the files
    that use it."""
    from babel.messages.extract import extract_from_dir

    found: dict[str | tuple[str, str], set[str]] = {}
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.do"}}
    for filename, _line, message, _comments, _context in extract_from_dir(
        PACKAGE_DIRECTORY, METHOD_MAP, options_map=options, keywords=KEYWORDS
    ):
        if "/migrations/" in filename.replace("\\", "/"):
            continue
        key = message if isinstance(message, str) else (message[0], message[1])
        found.setdefault(key, set()).add(filename)
    return found


def _read(path: Path):  # type: ignore[no-untyped-def]
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        return read_po(handle, locale=CATALOG_LOCALES["zh"], domain=DOMAIN)


def _translation(catalogs: Sequence[object], key: str | tuple[str, str]) -> object:
    """The first non-empty translation of ``key`` among ``catalogs``."""
    msgid = key if isinstance(key, str) else key[0]
    for catalog in catalogs:
        message = catalog.get(msgid)  # type: ignore[attr-defined]
        if message is not None and message.string and not message.fuzzy:
            string = message.string
            if isinstance(string, (tuple, list)) and not all(string):
                continue
            return string
    return "" if isinstance(key, str) else ("",)


def update(also: Iterable[Path] = ()) -> tuple[int, int]:
    """Rewrite the Chinese catalog from the code's ids; returns (ids, untranslated)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    path = catalog_path()
    sources = [_read(path)] if path.exists() else []
    sources += [_read(Path(other)) for other in also]
    catalog = Catalog(
        locale=CATALOG_LOCALES["zh"],
        domain=DOMAIN,
        header_comment=HEADER_COMMENT,
        project="disburse",
        version="1",
        copyright_holder="disburse",
        language_team="disburse",
        last_translator="disburse",
        # Fixed dates: a header that changed on every update would make two branches' catalogs
        # conflict where nothing differs.
        creation_date=CATALOG_DATE,
        revision_date=CATALOG_DATE,
        fuzzy=False,
        charset="utf-8",
    )
    untranslated = 0
    for key, files in sorted(extracted().items(), key=lambda item: str(item[0])):
        string = _translation(sources, key)
        untranslated += not string or (isinstance(string, tuple) and not all(string))
        catalog.add(key, string, locations=[(name, None) for name in sorted(files)])
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, sort_output=True, include_lineno=False, width=0, omit_header=False)
    path.write_bytes(buffer.getvalue())
    return len(catalog), untranslated


def compile_catalog() -> Path:
    """disburse.po → disburse.mo (translated messages only)."""
    from babel.messages.mofile import write_mo

    target = catalog_path(suffix=".mo")
    buffer = io.BytesIO()
    write_mo(buffer, _read(catalog_path()), use_fuzzy=False)
    target.write_bytes(buffer.getvalue())
    return target


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def problems() -> list[str]:
    """Everything wrong with the catalog: an id without a translation, a translation whose
    ``{placeholders}`` differ from its id's, an id no code uses any more, a stale .mo."""
    path = catalog_path()
    if not path.exists():
        return [f"{path}: no catalog; run python -m disburse.dev.messages update"]
    catalog, found, found_problems = _read(path), extracted(), []
    ids = {key if isinstance(key, str) else key[0]: key for key in found}
    for msgid, key in sorted(ids.items()):
        message = catalog.get(msgid)
        strings = [] if message is None else ([message.string] if isinstance(key, str) else list(message.string))
        if message is None or message.fuzzy or not strings or not all(strings):
            found_problems.append(f"untranslated: {msgid!r} ({', '.join(sorted(found[key]))})")
            continue
        originals = [key] if isinstance(key, str) else list(key)
        wanted = set().union(*(_placeholders(text) for text in originals))
        for string in strings:
            # Chinese has one plural form: it may use the singular's or the plural's figures.
            differs = _placeholders(string) != wanted if isinstance(key, str) else not _placeholders(string) <= wanted
            if differs:
                found_problems.append(f"placeholders differ: {msgid!r} -> {string!r}")
    for message in catalog:
        if message.id and (message.id if isinstance(message.id, str) else message.id[0]) not in ids:
            found_problems.append(f"no code uses {message.id!r} any more; run update")
    found_problems += _stale_mo(catalog)
    return found_problems


def _stale_mo(catalog: object) -> list[str]:
    path = catalog_path(suffix=".mo")
    if not path.exists():
        return [f"{path}: not compiled; run python -m disburse.dev.messages compile"]
    with path.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    for message in catalog:  # type: ignore[attr-defined]
        if not message.id or not message.string:
            continue
        if isinstance(message.id, str):
            if compiled.get(message.id) != message.string:
                return [f"{path} is older than {catalog_path().name}; run python -m disburse.dev.messages compile"]
        elif compiled.get((message.id[0], 0)) != message.string[0]:
            return [f"{path} is older than {catalog_path().name}; run python -m disburse.dev.messages compile"]
    return []


def untranslated(prefix: str = "") -> dict[str, str]:
    """{id: ""} for every id without a translation (a plural by its singular) used in a file
    under ``prefix`` (a path inside the package, e.g. ``cli/`` or ``payouts/``)."""
    todo = {}
    for message in _read(catalog_path()):
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        used_there = any(location.startswith(prefix) for location, _line in message.locations)
        if message.id and used_there and not all(strings):
            todo[message.id if isinstance(message.id, str) else message.id[0]] = ""
    return todo


def fill(translations: dict[str, str]) -> int:
    """Set the translation of each id in ``translations`` (unknown ids are refused); returns how
    many were set. The catalog is then rewritten as ``update`` writes it."""
    from babel.messages.pofile import write_po

    path = catalog_path()
    catalog = _read(path)
    unknown = [key for key in translations if catalog.get(key) is None]
    if unknown:
        raise SystemExit(f"not in the catalog (run update first): {unknown[:5]}")
    for key, text in translations.items():
        message = catalog.get(key)
        message.string = text if isinstance(message.id, str) else (text,)
        message.flags.discard("fuzzy")
    buffer = io.BytesIO()
    write_po(buffer, catalog, sort_output=True, include_lineno=False, width=0, omit_header=False)
    path.write_bytes(buffer.getvalue())
    return len(translations)


# Calls that show their first argument (or the keyword named, or the reason at that position) to a
# user as it is: a literal there bypasses the catalog.
SHOWN_FIRST_ARGUMENT = {
    "DisburseError", "BadParameter", "echo", "print", "ImportRefused", "Exit", "AllocationError", "RowRefused",
    "RuleError", "SplitError", "MoneyError", "YamlRefused", "BankFileError", "AccessRefused", "LoginRefused",
    "FormRefused", "Step",
}  # fmt: skip
SHOWN_KEYWORDS = {"help", "reason", "message", "short_help", "epilog", "basis", "note", "text"}
# Names (variables, dictionary keys) whose text reaches a run's explanation or export as it is.
SHOWN_NAMES = {"reason", "basis", "note", "text", "why", "held", "whole", "message", "shown"}
REASON_POSITION = {"problems_at": 4, "ImportProblem": 4}
# Calls whose argument at this position is a list of problem tuples, each ending in its message:
# ``ProfileError([(file, path, "...")])``, ``RuleError(source, [(path, "...")])``.
PROBLEM_LIST_POSITION = {"ProfileError": 0, "RuleError": 1}
# A ValueError's text reaches the user when pydantic refuses a configuration file (the message of
# a validator's ValueError is the problem shown) or a stage turns it into a refusal: every
# ValueError literal under these stages, and in any pydantic validator, bypasses the catalog.
VALUE_ERROR_DIRECTORIES = ("allocations/", "importers/", "reconciliation/", "audit/", "registry/")
PYDANTIC_VALIDATOR_DECORATORS = {"field_validator", "model_validator", "validator", "root_validator"}
PYDANTIC_VALIDATOR_WRAPPERS = {"BeforeValidator", "AfterValidator", "PlainValidator", "WrapValidator"}
# Developer-only ValueErrors in those stages: argument checks of internal helpers that no user
# input reaches (the CLI checks --show and the data frames are built by the code).
DEVELOPER_VALUE_ERRORS = (
    "reconciliation/matching/__init__.py",  # the matcher's frames, built by reconciliation.frames
    "reconciliation/match_ids.py",  # match ids read back from the database
    "reconciliation/pending.py",  # the CLI refuses a bad --show before calling it
)
EXEMPT_DIRECTORIES = ("schema/migrations", "dev/messages.py")
MARKUP = re.compile(r"\[/?[a-z ]*\]")
HTML_TAG = re.compile(r"<[^>]*>")
ENGLISH_WORDS = re.compile(r"[A-Za-z]{2,}[ :,]+[A-Za-z]{2,}")


def _is_text_literal(node: ast.expr) -> bool:
    """A string literal or f-string with a letter in it outside rich markup ("[bold red]"), or a
    sum with one in it (``f"{name}: refused:\\n" + "\\n".join(problems)``)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_text_literal(node.left) or _is_text_literal(node.right)
    return any(any(character.isalpha() for character in MARKUP.sub("", part)) for part in _literal_parts(node))


def _literal_parts(node: ast.expr) -> list[str]:
    """The literal text of a string or f-string (none for anything else)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [str(part.value) for part in node.values if isinstance(part, ast.Constant)]
    return []


def _is_english_literal(node: ast.expr) -> bool:
    """A literal with English words in it outside HTML tags: a named text's tell (the fixed
    Chinese of a printed book, ``f"{village} {count:,}户"``, is not one)."""
    return any(ENGLISH_WORDS.search(HTML_TAG.sub("", part)) for part in _literal_parts(node))


def _catalog_calls_inside(node: ast.JoinedStr, relative: str) -> list[str]:
    """A ``tr("...")`` inside an f-string's braces: Babel does not look there on Python 3.11, so
    its id never reaches the catalog and the user sees the English."""
    return [
        f"{relative}:{inner.lineno} tr() inside an f-string (not extracted; compute it first)"
        for value in node.values
        if isinstance(value, ast.FormattedValue)
        for inner in ast.walk(value.value)
        if isinstance(inner, ast.Call)
        and getattr(inner.func, "id", "") in KEYWORDS
        # tr(CONSTANT) is fine: the constant's own tr_noop("...") is what is extracted.
        and inner.args
        and isinstance(inner.args[0], ast.Constant)
    ]


# A list joined with the English separators inside a message: Chinese joins with 、 and ；
# (``join_list`` / ``join_clauses`` pick the separator of the language).
ENGLISH_SEPARATORS = {", ": "join_list", "; ": "join_clauses"}


def _english_joins(node: ast.Call, name: str, relative: str) -> list[str]:
    """``tr("...", names=", ".join(names))`` or ``DisburseError("; ".join(problems))``."""
    if name not in KEYWORDS and name not in SHOWN_FIRST_ARGUMENT:
        return []
    values = [*node.args, *(keyword.value for keyword in node.keywords)]
    return [
        f"{relative}:{inner.lineno} {inner.func.value.value!r}.join(...) in a message (use {helper})"
        for value in values
        for inner in ast.walk(value)
        if isinstance(inner, ast.Call)
        and isinstance(inner.func, ast.Attribute)
        and inner.func.attr == "join"
        and isinstance(inner.func.value, ast.Constant)
        and (helper := ENGLISH_SEPARATORS.get(inner.func.value.value)) is not None
    ]


def _shown_names(node: ast.AST, relative: str) -> list[str]:
    """``reason = "..."`` or ``{"basis": "..."}``: a literal given a name whose text is shown."""
    pairs: list[tuple[str, ast.expr]] = []
    if isinstance(node, ast.Assign):
        pairs = [(target.id, node.value) for target in node.targets if isinstance(target, ast.Name)]
    elif isinstance(node, ast.Dict):
        pairs = [(key.value, value) for key, value in zip(node.keys, node.values, strict=True)
                 if isinstance(key, ast.Constant) and isinstance(key.value, str)]  # fmt: skip
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append":
        # ``notes.append("...")``: a note or warning a command prints.
        owner = node.func.value
        owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        if owner_name in ("notes", "warnings") and node.args:
            pairs = [("note", node.args[0])]
    if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
        # ``return None, "why not"``: a failure's reason handed back to be shown.
        pairs = [("reason", element) for element in node.value.elts[1:]]
    found = []
    for name, value in pairs:
        candidates = [value]
        if isinstance(value, ast.Call) and getattr(value.func, "attr", "") == "where":
            candidates = value.args[1:]  # np.where(mask, "text", "")
        if isinstance(value, ast.IfExp):
            candidates = [value.body, value.orelse]
        if name in SHOWN_NAMES and any(_is_english_literal(candidate) for candidate in candidates):
            found.append(f"{relative}:{node.lineno} {name} = ...")
    return found


def _problem_list_literals(node: ast.Call, name: str, relative: str) -> list[str]:
    """``ProfileError([(file, "", "...")])``: a problem tuple whose message is a literal."""
    position = PROBLEM_LIST_POSITION.get(name)
    if position is None or len(node.args) <= position or not isinstance(node.args[position], (ast.List, ast.Tuple)):
        return []
    return [
        f"{relative}:{node.lineno} {name}([(..., message)])"
        for element in node.args[position].elts
        if isinstance(element, ast.Tuple) and element.elts and _is_text_literal(element.elts[-1])
    ]


def _value_error_literals(node: ast.AST) -> list[int]:
    """The lines of ``ValueError("...")`` (or an f-string) under ``node``."""
    return [
        inner.lineno
        for inner in ast.walk(node)
        if isinstance(inner, ast.Call)
        and getattr(inner.func, "id", "") == "ValueError"
        and inner.args
        and _is_text_literal(inner.args[0])
    ]


def _validator_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    """The module's pydantic validators: decorated methods and functions wrapped in
    ``BeforeValidator(f)`` and its kin."""
    wrapped = {
        argument.id
        for call in ast.walk(tree)
        if isinstance(call, ast.Call) and getattr(call.func, "id", "") in PYDANTIC_VALIDATOR_WRAPPERS
        for argument in call.args
        if isinstance(argument, ast.Name)
    }
    functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
    return [
        function
        for function in functions
        if function.name in wrapped
        or any(
            getattr(decorator.func if isinstance(decorator, ast.Call) else decorator, "id", "")
            in PYDANTIC_VALIDATOR_DECORATORS
            for decorator in function.decorator_list
        )
    ]


def _value_errors(tree: ast.Module, relative: str) -> list[str]:
    """ValueError literals a user sees: anywhere in a stage that shows them, else in validators."""
    if relative.startswith(DEVELOPER_VALUE_ERRORS):
        return []
    if relative.startswith(VALUE_ERROR_DIRECTORIES):
        lines = set(_value_error_literals(tree))
    else:
        lines = {line for function in _validator_functions(tree) for line in _value_error_literals(function)}
    return [f"{relative}:{line} ValueError(...)" for line in sorted(lines)]


# A function named for what it hands back to be shown (``period_problem`` -> "period ... is not
# of the form YYYY-MM"): a literal it returns is a user-facing text.
SHOWN_RETURN_SUFFIXES = ("_problem", "_problems", "_reason", "_message", "_note", "_text")


def _shown_returns(tree: ast.Module, relative: str) -> list[str]:
    """``return "..."`` in a function whose name says its result is shown."""
    return [
        f"{relative}:{node.lineno} return ... in {function.name}()"
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef) and function.name.endswith(SHOWN_RETURN_SUFFIXES)
        for node in ast.walk(function)
        if isinstance(node, ast.Return) and node.value is not None and _is_english_literal(node.value)
    ]


def bypasses(prefix: str = "") -> list[str]:
    """Every place under ``prefix`` (a path inside the package) where a user-facing text is
    written as a literal instead of through ``tr``."""
    found = []
    for path in sorted(PACKAGE_DIRECTORY.rglob("*.py")):
        relative = path.relative_to(PACKAGE_DIRECTORY).as_posix()
        if relative.startswith(EXEMPT_DIRECTORIES) or not relative.startswith(prefix):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += _value_errors(tree, relative) + _shown_returns(tree, relative)
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                found += _catalog_calls_inside(node, relative)
            found += _shown_names(node, relative)
            if not isinstance(node, ast.Call):
                continue
            function = node.func
            name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
            if name in SHOWN_FIRST_ARGUMENT and node.args and _is_text_literal(node.args[0]):
                found.append(f"{relative}:{node.lineno} {name}(...)")
            found += _problem_list_literals(node, name, relative)
            found += _english_joins(node, name, relative)
            position = REASON_POSITION.get(name)
            if position is not None and len(node.args) > position and _is_text_literal(node.args[position]):
                found.append(f"{relative}:{node.lineno} {name}(..., reason)")
            for keyword in node.keywords:
                if keyword.arg in SHOWN_KEYWORDS and _is_text_literal(keyword.value):
                    found.append(f"{relative}:{node.lineno} {keyword.arg}=...")
    return found


def main(arguments: Sequence[str]) -> int:
    command, rest = (arguments[0], list(arguments[1:])) if arguments else ("check", [])
    if command == "update":
        also = [Path(value) for flag, value in zip(rest[::2], rest[1::2]) if flag == "--also"]
        total, missing = update(also)
        print(f"{catalog_path()}: {total} messages, {missing} untranslated")
        return 0
    if command == "untranslated":
        print(json.dumps(untranslated(rest[0] if rest else ""), ensure_ascii=False, indent=1))
        return 0
    if command == "fill":
        print(f"{fill(json.loads(Path(rest[0]).read_text(encoding='utf-8')))} translations set")
        return 0
    if command == "compile":
        print(f"wrote {compile_catalog()}")
        return 0
    if command == "bypasses":
        found = bypasses(rest[0] if rest else "")
        print("\n".join(found) + f"\n{len(found)} text(s) not through the catalog")
        return 1 if found else 0
    if command == "check":
        found = problems()
        for line in found:
            print(line)
        print(f"message catalog: {len(found)} problem(s)")
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
