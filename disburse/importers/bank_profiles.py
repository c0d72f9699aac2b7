"""Bank profiles: per-bank layouts of statements, batch-payment files and return files, as YAML.

A profile is one YAML file named after the profile (``ccb.yaml`` is the profile ``ccb``). It
describes up to three layouts of one bank's files:

``statement``
    the account statement (交易明细) we import and reconcile against;
``batch_payment``
    the 批量代发 file we write and upload to the bank;
``return``
    the 代发回盘 file the bank sends back with each payment's result.

The built-in profiles live in ``importers/profiles/``; a caller may add a directory of its own,
whose profiles replace built-ins of the same name (a county whose bank changed its export does
not have to wait for a release). Every file is validated by pydantic models that forbid unknown
keys; ``ProfileError`` lists every problem of every file with its path inside the file
(``ccb.yaml: statement.columns.debit: ...``).

This module describes the layouts of files we read; ``importers.bank_statement`` and
``importers.returns`` read them. The batch-payment layout describes a file we write, so
``payouts.bank_layout`` validates it (the profile keeps it as a plain mapping) and
``payouts.bank_files`` writes it.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from disburse.foundation.errors import ImportProblem
from disburse.foundation.i18n import join_list, tr, tr_noop
from disburse.foundation.validation import problem_lines, validation_problems
from disburse.foundation.yaml_text import load_yaml
from disburse.importers.limits import HEADER_SEARCH_ROWS
from disburse.importers.reading import ColumnSpec, TableSpec, decode_text, normalise_header

BUILT_IN_DIRECTORY = Path(__file__).with_name("profiles")

# A profile file is a page of configuration; anything this large is not one.
PROFILE_TEXT_CHARS_MAX = 100_000

_PROFILE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

StatementField = Literal[
    "date",
    "time",
    "txn_id",
    "summary",
    "counterparty_account",
    "counterparty_name",
    "amount",
    "debit",
    "credit",
    "direction",
    "balance",
    "memo",
]
ReturnField = Literal["account_no", "account_name", "amount", "status", "reason", "memo"]
FailureReason = Literal["card_closed", "name_mismatch", "limit_reached", "frozen", "no_account", "other"]
# The English alias of each field is its name; the Chinese names in messages are the profile's.
STATEMENT_FIELDS: tuple[str, ...] = StatementField.__args__  # type: ignore[attr-defined]
RETURN_FIELDS: tuple[str, ...] = ReturnField.__args__  # type: ignore[attr-defined]


class ProfileError(Exception):
    """One or more profile files are invalid; ``problems`` is a list of (file, path, message)."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        places = problem_lines((path, message) for _, path, message in problems)
        lines = [f"{file}: {line}" for (file, _, _), line in zip(problems, places, strict=True)]
        super().__init__(tr("invalid bank profile:\n{problems}", problems="\n".join(lines)))


def _names(value: object) -> object:
    """A header given as one string is a list of one name."""
    return [value] if isinstance(value, str) else value


HeaderNames = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=100)]], BeforeValidator(_names), Field(min_length=1)
]


class LayoutModel(BaseModel):
    """A layout's keys are all known: an unknown one is a typo, refused with its path."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_header_uniqueness(columns: Mapping[str, list[str]], other_headers: list[str]) -> None:
    """No header text may name two fields (after normalisation): the reader could not tell them apart."""
    seen: dict[str, str] = {}
    for field_name, names in columns.items():
        for name in (field_name, *names):
            key = normalise_header(name)
            owner = seen.setdefault(key, field_name)
            if owner != field_name:
                raise ValueError(
                    tr("header {name} names both {owner} and {field}", name=repr(name), owner=owner, field=field_name)
                )
    for name in other_headers:
        if normalise_header(name) in seen:
            raise ValueError(
                tr(
                    "other_headers: {name} is already the header of {field}",
                    name=repr(name),
                    field=seen[normalise_header(name)],
                )
            )


class StatementLayout(LayoutModel):
    """How one bank writes an account statement (交易明细).

    ``columns`` maps each field (its English name is also accepted as a header) to the headers
    that bank writes; ``direction`` says how money in and out is shown: ``signed`` (one signed
    ``amount``), ``split`` (``credit`` = money in, ``debit`` = money out) or ``flag`` (an
    unsigned ``amount`` and a ``direction`` column whose ``debit_flags`` mean money out of our
    account and ``credit_flags`` money in). ``required`` lists the fields whose header must be
    present (default: date, the amount columns of the style and balance); in the ``split`` style
    at least one of debit and credit must be present in any case. ``other_headers`` are headers
    the layout has that are not read; they only help to recognise the layout.
    ``balance_check`` is ``refuse`` (a break in the running balance means lines are missing) or
    ``warn``. ``masked_balance_pattern`` is a regular expression for balance cells the bank
    masks (``xx,yyyy.zz``): they are read as unknown. Cells equal to one of ``none_values`` or
    matching ``none_pattern`` mean "none" in every column. A row whose date is not a date and
    that contains one of ``footer_markers`` is a total line, not data. ``date_formats`` and
    ``time_formats`` (``strptime`` patterns) are tried before the usual shapes.
    ``encodings`` and ``file_types`` document what the bank sends; the reader detects both
    from the bytes.
    """

    direction: Literal["signed", "split", "flag"]
    columns: dict[StatementField, HeaderNames]
    required: list[StatementField] | None = None
    other_headers: list[str] = Field(default_factory=list)
    balance_check: Literal["refuse", "warn"] = "refuse"
    masked_balance_pattern: str | None = None
    none_values: list[str] = Field(default_factory=lambda: ["-", "--"])
    none_pattern: str | None = r"^-+$"
    footer_markers: list[str] = Field(default_factory=lambda: ["合计", "总计", "小计"])
    debit_flags: list[str] = Field(default_factory=lambda: ["借", "借方", "D", "支出", "出"])
    credit_flags: list[str] = Field(default_factory=lambda: ["贷", "贷方", "C", "收入", "入"])
    date_formats: list[str] = Field(default_factory=list)
    time_formats: list[str] = Field(default_factory=list)
    encodings: list[str] = Field(default_factory=lambda: ["utf-8"])
    file_types: list[Literal["csv", "xls", "xlsx"]] = Field(default_factory=lambda: ["csv"])

    @model_validator(mode="after")
    def _consistent(self) -> StatementLayout:
        needed = {"signed": ("amount",), "split": ("debit", "credit"), "flag": ("amount", "direction")}[self.direction]
        missing = [name for name in ("date", *needed) if name not in self.columns]
        if missing:
            raise ValueError(
                tr(
                    "columns: direction {direction} needs columns {columns}",
                    direction=self.direction,
                    columns=join_list(missing),
                )
            )
        unused = {
            "signed": ("debit", "credit", "direction"),
            "split": ("amount", "direction"),
            "flag": ("debit", "credit"),
        }[self.direction]
        extra = [name for name in unused if name in self.columns]
        if extra:
            raise ValueError(
                tr(
                    "columns: direction {direction} does not use {columns}",
                    direction=self.direction,
                    columns=join_list(extra),
                )
            )
        for name in self.required or ():
            if name not in self.columns:
                raise ValueError(tr("required: {field} is not one of the columns", field=name))
        if self.balance_check == "refuse" and "balance" not in self.columns:
            raise ValueError(tr("balance_check refuse needs a balance column"))
        for pattern in (self.masked_balance_pattern, self.none_pattern):
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as error:
                    raise ValueError(
                        tr("{pattern} is not a regular expression: {error}", pattern=repr(pattern), error=error)
                    ) from None
        if set(self.debit_flags) & set(self.credit_flags):
            raise ValueError(tr("a flag cannot mean both debit and credit"))
        for name in self.encodings:
            check_codec(name)
        _check_header_uniqueness(self.columns, self.other_headers)
        return self

    def required_fields(self) -> tuple[str, ...]:
        """The fields whose header must be present for a file to have this layout."""
        if self.required is not None:
            return tuple(self.required)
        needed = {"signed": ("amount",), "split": ("debit", "credit"), "flag": ("amount", "direction")}[self.direction]
        balance = ("balance",) if "balance" in self.columns else ()
        return ("date", *needed, *balance)

    def table_spec(self, title: str) -> TableSpec:
        """The reading layer's spec of this layout, columns named by field."""
        required = set(self.required_fields())
        return TableSpec(
            title,
            tuple(
                ColumnSpec(names[0], field_name, tuple(names[1:]), field_name in required)
                for field_name, names in self.columns.items()
            ),
        )


class ReturnLayout(LayoutModel):
    """How one bank writes a return file (代发回盘): headers per field, which of them must be
    present, and the status words meaning success and failure."""

    columns: dict[ReturnField, HeaderNames]
    required: list[ReturnField] = Field(
        default_factory=lambda: ["account_no", "account_name", "amount", "status", "memo"]
    )
    success_values: list[str] = Field(default_factory=lambda: ["成功"], min_length=1)
    failure_values: list[str] = Field(default_factory=lambda: ["失败"], min_length=1)
    other_headers: list[str] = Field(default_factory=list)
    encodings: list[str] = Field(default_factory=lambda: ["utf-8"])
    file_types: list[Literal["csv", "xls", "xlsx"]] = Field(default_factory=lambda: ["csv"])
    # The bank's own codes or texts per failure reason (importers.failure_reasons), matched as
    # substrings of its reason column before the common wordings.
    failure_reasons: dict[FailureReason, list[Annotated[str, Field(min_length=1, max_length=100)]]] = Field(
        default_factory=dict
    )

    @model_validator(mode="after")
    def _consistent(self) -> ReturnLayout:
        # Every field gets a header, even one the bank never writes (then it is not required):
        # the checks name each column by its header.
        missing = [name for name in RETURN_FIELDS if name not in self.columns]
        if missing:
            raise ValueError(tr("columns: headers are needed for {fields}", fields=join_list(missing)))
        for name in ("account_no", "amount", "status"):
            if name not in self.required:
                raise ValueError(tr("required: {field} is always required", field=name))
        for name in self.required:
            if name not in self.columns:
                raise ValueError(tr("required: {field} is not one of the columns", field=name))
        if set(self.success_values) & set(self.failure_values):
            raise ValueError(tr("a status word cannot mean both success and failure"))
        for name in self.encodings:
            check_codec(name)
        _check_header_uniqueness(self.columns, self.other_headers)
        return self

    def statuses(self) -> dict[str, str]:
        """Status word as written -> ``"success"`` or ``"failure"``."""
        return {
            **{word: "success" for word in self.success_values},
            **{word: "failure" for word in self.failure_values},
        }

    def table_spec(self, title: str) -> TableSpec:
        """The reading layer's spec of this layout, columns named by field."""
        return TableSpec(
            title,
            tuple(
                ColumnSpec(names[0], field_name, tuple(names[1:]), field_name in self.required)
                for field_name, names in self.columns.items()
            ),
        )


class BankProfile(LayoutModel):
    """One bank's layouts. ``name`` is the file's stem; ``bank`` the bank's name as users know it."""

    name: str
    bank: str = Field(min_length=1, max_length=100)
    description: str = ""
    statement: StatementLayout | None = None
    # Validated by payouts.bank_layout: a file we write, not one we read.
    batch_payment: dict[str, Any] | None = None
    bank_return: ReturnLayout | None = Field(default=None, alias="return")
    source: str = ""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _has_a_layout(self) -> BankProfile:
        if self.statement is None and self.batch_payment is None and self.bank_return is None:
            raise ValueError(tr("a profile needs at least one of statement, batch_payment, return"))
        return self


def check_codec(name: str) -> None:
    try:
        codecs.lookup(name)
    except LookupError:
        raise ValueError(tr("unknown encoding {name}", name=repr(name))) from None


def profile_problems(file: str, error: ValidationError) -> list[tuple[str, str, str]]:
    """Pydantic's refusal of a profile file as ``(file, path, message)`` problems."""
    return [(file, path, message) for path, message in validation_problems(error)]


def profile_from_text(text: str, name: str, file: str = "<text>") -> BankProfile:
    """Validate one profile from its YAML text; raises ``ProfileError`` listing every problem."""
    if not _PROFILE_NAME.match(name):
        why = tr(
            "profile name {name} must be lower-case letters, digits and _ (the file name without .yaml)",
            name=repr(name),
        )
        raise ProfileError([(file, "", why)])
    if len(text) > PROFILE_TEXT_CHARS_MAX:
        raise ProfileError(
            [
                (
                    file,
                    "",
                    tr(
                        "longer than {length_max:,} characters; the limit PROFILE_TEXT_CHARS_MAX",
                        length_max=PROFILE_TEXT_CHARS_MAX,
                    ),
                )
            ]
        )
    try:
        document = load_yaml(text)
    except yaml.YAMLError as error:
        raise ProfileError([(file, "", tr("not valid YAML: {error}", error=error))]) from None
    if not isinstance(document, dict):
        raise ProfileError([(file, "", tr("a profile is a mapping of keys to values"))])
    if "name" in document:
        raise ProfileError([(file, "name", tr("unknown key (the profile's name is the file name)"))])
    try:
        return BankProfile.model_validate({**document, "name": name, "source": file})
    except ValidationError as error:
        raise ProfileError(profile_problems(file, error)) from None


def load_profile_file(path: str | os.PathLike[str]) -> BankProfile:
    """Read and validate one profile file; raises ``ProfileError``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProfileError([(str(path), "", tr("cannot read the profile: {error}", error=error))]) from None
    return profile_from_text(text, path.stem, str(path))


def _load_directory(directory: Path) -> tuple[dict[str, BankProfile], list[tuple[str, str, str]]]:
    profiles: dict[str, BankProfile] = {}
    problems: list[tuple[str, str, str]] = []
    if not directory.is_dir():
        return profiles, [(str(directory), "", tr("is not a directory"))]
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        if path.stem in profiles:
            problems.append(
                (str(path), "", tr("a second profile named {name} in {directory}", name=path.stem, directory=directory))
            )
            continue
        try:
            profiles[path.stem] = load_profile_file(path)
        except ProfileError as error:
            problems.extend(error.problems)
    return profiles, problems


def load_profiles(extra_directory: str | os.PathLike[str] | None = None) -> dict[str, BankProfile]:
    """Every built-in profile, plus those of ``extra_directory`` (which replace built-ins of the
    same name). Raises ``ProfileError`` listing every problem of every file at once."""
    profiles, problems = _load_directory(BUILT_IN_DIRECTORY)
    if extra_directory is not None:
        extra, extra_problems = _load_directory(Path(extra_directory))
        profiles.update(extra)
        problems.extend(extra_problems)
    if problems:
        raise ProfileError(problems)
    return dict(sorted(profiles.items()))


def profile_by_name(
    name: str,
    profiles: Mapping[str, BankProfile] | None = None,
    *,
    extra_directory: str | os.PathLike[str] | None = None,
) -> BankProfile:
    """The profile called ``name`` (from ``profiles``, or loaded); ``KeyError`` names the known ones."""
    known = load_profiles(extra_directory) if profiles is None else profiles
    try:
        return known[name]
    except KeyError:
        raise KeyError(
            tr("no bank profile named {name!r}; known: {known}", name=name, known=join_list(sorted(known)))
        ) from None


def profile_label(profile: BankProfile | str | None) -> str:
    """A profile as a person reads it: its bank's name with the code that ``--bank`` takes
    (``通用格式（generic）``); a name no built-in profile has (one from --profiles) as it is."""
    if profile is None:
        return ""
    if isinstance(profile, str):
        found = _built_in_banks().get(profile)
        return tr("{bank} ({profile})", bank=found, profile=profile) if found else profile
    return tr("{bank} ({profile})", bank=profile.bank, profile=profile.name)


@functools.cache
def _built_in_banks() -> dict[str, str]:
    """The built-in profiles' bank names by profile name (read once: they ship with the code)."""
    try:
        return {name: profile.bank for name, profile in load_profiles().items()}
    except ProfileError:
        return {}


# ----------------------------------------------------------------------------------------------
# Recognising a layout from a file's header.

# When several profiles fit a header equally well, the canonical layouts (whose English aliases
# every profile shares) are the ones meant.
CANONICAL_PROFILES = ("canonical", "generic")
# What detect_profile's callers pass as ``what`` (translated where the message is built).
DETECTED_FILE_KINDS = (tr_noop("bank statement"), tr_noop("bank return"))
LayoutKind = Literal["statement", "bank_return"]
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True, slots=True)
class LayoutFit:
    """How well one profile's layout fits one row of a file.

    ``matched`` counts the layout's headers found (read columns and other headers),
    ``by_own_name`` the fields matched by the bank's own header rather than the English alias,
    ``unknown`` the row's non-empty cells the layout does not know, ``missing`` the required
    fields not found.
    """

    profile: str
    row: int
    matched: int
    by_own_name: int
    unknown: int
    missing: tuple[str, ...] = ()

    def complete(self) -> bool:
        """True when every required header is present."""
        return not self.missing

    def rank(self) -> tuple[int, int, int]:
        """Larger is better: more headers matched, more by the bank's own names, fewer unknown."""
        return (self.matched, self.by_own_name, -self.unknown)


def layout_fit(profile: str, layout: StatementLayout | ReturnLayout, cells: Sequence[object], row: int) -> LayoutFit:
    """How well ``layout`` fits the header row ``cells`` (the file's row number ``row``)."""
    own: dict[str, str] = {}
    alias: dict[str, str] = {}
    for field_name, names in layout.columns.items():
        for name in names:
            own[normalise_header(name)] = field_name
        alias[normalise_header(field_name)] = field_name
    others = {normalise_header(name) for name in layout.other_headers}
    by_own: set[str] = set()
    found: set[str] = set()
    other_found: set[str] = set()
    unknown = 0
    for cell in cells:
        key = normalise_header(cell)
        if not key:
            continue
        if key in own:
            found.add(own[key])
            by_own.add(own[key])
        elif key in alias:
            found.add(alias[key])
        elif key in others:
            other_found.add(key)
        else:
            unknown += 1
    required = layout.required_fields() if isinstance(layout, StatementLayout) else tuple(layout.required)
    missing = tuple(name for name in required if name not in found)
    if isinstance(layout, StatementLayout) and layout.direction == "split" and not {"debit", "credit"} & found:
        missing += ("debit or credit",)
    return LayoutFit(profile, row, len(found) + len(other_found), len(by_own), unknown, missing)


def file_header_rows(path: str) -> tuple[list[list[list[object]]], str | None]:
    """The first HEADER_SEARCH_ROWS rows of a file, once per way of reading it (each CSV
    separator, each sheet), or the reason it cannot be read. Only for recognising a layout:
    the full read is the reading layer's, once the layout is known."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return [], tr("cannot open the file: {error}", error=error.strerror)
    if data.startswith(_ZIP_MAGIC):
        import openpyxl

        try:
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many types for a damaged workbook
            return [], tr("cannot open the workbook: {error}", error=error)
        try:
            return [
                [list(row) for row in itertools.islice(sheet.iter_rows(values_only=True), HEADER_SEARCH_ROWS)]
                for sheet in workbook.worksheets
            ], None
        finally:
            workbook.close()
    if data.startswith(_OLE_MAGIC):
        import xlrd

        try:
            book = xlrd.open_workbook(file_contents=data, on_demand=True)
        except Exception as error:  # xlrd raises many types for a damaged workbook
            return [], tr("cannot open the workbook: {error}", error=error)
        sheets = [book.sheet_by_index(index) for index in range(book.nsheets)]
        return [
            [sheet.row_values(row) for row in range(min(sheet.nrows, HEADER_SEARCH_ROWS))] for sheet in sheets
        ], None
    text, _, reason = decode_text(data)
    if text is None:
        return [], reason
    row_sets = []
    for separator in (",", "\t"):
        rows: list[list[object]] = []
        try:
            rows.extend(itertools.islice(csv.reader(io.StringIO(text), delimiter=separator), HEADER_SEARCH_ROWS))
        except csv.Error:
            pass  # a broken quote in the preamble: work with the rows read so far
        row_sets.append(rows)
    return row_sets, None


def detect_profile(
    path: str | os.PathLike[str], profiles: Mapping[str, BankProfile], kind: LayoutKind, what: str
) -> tuple[str | None, list[ImportProblem]]:
    """The name of the profile whose ``kind`` layout fits the file's header best.

    A profile fits when one row among the first HEADER_SEARCH_ROWS names all its required
    columns; among those, the one matching the most headers wins (ties: more matched by the
    bank's own names, fewer unknown headers, then a canonical layout). Returns None and an
    error listing the headers found when nothing fits or two banks fit equally. ``what`` names
    the kind of file in messages.
    """
    name = os.fspath(path)
    row_sets, reason = file_header_rows(name)
    if reason is not None:
        return None, [ImportProblem(name, None, None, "", reason, "error")]
    best: dict[str, LayoutFit] = {}
    closest: LayoutFit | None = None
    header_like: tuple[int, list[object]] = (1, [])
    header_like_cells = 0
    for rows in row_sets:
        for row_index, cells in enumerate(rows):
            non_empty = sum(1 for cell in cells if normalise_header(cell))
            if non_empty > header_like_cells:
                header_like, header_like_cells = (row_index + 1, list(cells)), non_empty
            for profile_name, profile in profiles.items():
                layout = getattr(profile, kind)
                if layout is None:
                    continue
                fit = layout_fit(profile_name, layout, cells, row_index + 1)
                if fit.complete():
                    if profile_name not in best or fit.rank() > best[profile_name].rank():
                        best[profile_name] = fit
                elif fit.matched and (
                    closest is None or (-len(fit.missing), fit.rank()) > (-len(closest.missing), closest.rank())
                ):
                    closest = fit
    if best:
        ranked = sorted(best.values(), key=lambda fit: fit.rank(), reverse=True)
        top = [fit.profile for fit in ranked if fit.rank() == ranked[0].rank()]
        if len(top) == 1:
            return top[0], []
        canonical = [profile for profile in top if profile in CANONICAL_PROFILES]
        if canonical:
            return canonical[0], []
        reason = tr(
            "the header fits several bank profiles equally well: {profiles}; name the bank's profile",
            profiles=join_list(top),
        )
        return None, [ImportProblem(name, ranked[0].row, None, "", reason, "error")]
    found = join_list(str(cell).strip() for cell in header_like[1] if normalise_header(cell)) or tr("(nothing)")
    hint = (
        tr("; closest: {profile} (missing {fields})", profile=closest.profile, fields=join_list(closest.missing))
        if closest is not None
        else ""
    )
    reason = tr(
        "unknown {what} layout: no bank profile's headers are all present in the first {rows} rows; "
        "the most header-like row (row {row}) has: {found}{hint}",
        what=tr(what),
        rows=HEADER_SEARCH_ROWS,
        row=header_like[0],
        found=found,
        hint=hint,
    )
    return None, [ImportProblem(name, None, None, "", reason, "error")]
