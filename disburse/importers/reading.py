"""The one reading layer every importer uses: find the header, name the columns, keep row numbers.

``read_table(path, spec)`` reads a ``.csv``, ``.xlsx`` or ``.xls`` file whose header may sit
below a preamble, whose columns may come in any order under any accepted name, whose cells
may be padded with spaces and tabs, and which may end in a total row. It returns a
``RawTable``: one object column per column of the spec that the file has (named by its English
alias), the row number of every data row as the user's spreadsheet shows it, and the problems
found. It never raises for a user's mistake; a file it cannot read comes back with an empty
frame and an error problem.

Cells from ``.xlsx``/``.xls`` keep their Python type (int, float, datetime, bool) so that field
parsers can tell a number cell from a text cell; CSV cells are always ``str``. Blank cells are
None everywhere.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from disburse.foundation.errors import ImportProblem
from disburse.foundation.i18n import join_list, tr
from disburse.importers.limits import (
    CELL_CHARS_MAX,
    HEADER_SEARCH_ROWS,
    IMPORT_FILE_BYTES_MAX,
    IMPORT_ROWS_MAX,
    limit_message,
)

# A row whose first non-empty cell starts with one of these is a total line a bank or a
# report generator appends; it is not data.
FOOTER_PREFIXES = ("合计", "总计", "人民币合计", "小计")
SEPARATORS = (",", "\t")

_WHITESPACE = re.compile(r"\s+")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column an importer looks for.

    ``name_zh`` is the header the source system writes, ``alias_en`` the English alias that is
    accepted in its place (case-insensitive) and names the column inside the engine, and
    ``other_names`` the headers other exports use for the same column.
    """

    name_zh: str
    alias_en: str
    other_names: tuple[str, ...] = ()
    required: bool = True

    def accepted_names(self) -> tuple[str, ...]:
        """Every header text that names this column, as written in the spec."""
        return (self.name_zh, self.alias_en, *self.other_names)


@dataclass(frozen=True, slots=True)
class TableSpec:
    """The columns of one kind of file; ``title`` names the kind in messages (e.g. 建档立卡人员信息)."""

    title: str
    columns: tuple[ColumnSpec, ...]

    def __post_init__(self) -> None:
        aliases = [column.alias_en for column in self.columns]
        assert len(set(aliases)) == len(aliases), f"duplicate alias in {self.title}"
        seen: dict[str, str] = {}
        for column in self.columns:
            for name in column.accepted_names():
                key = normalise_header(name)
                assert seen.setdefault(key, column.alias_en) == column.alias_en, (
                    f"{self.title}: header {name!r} would name two columns"
                )

    def column(self, alias_en: str) -> ColumnSpec:
        """The column with this English alias."""
        for column in self.columns:
            if column.alias_en == alias_en:
                return column
        raise KeyError(alias_en)


@dataclass(frozen=True, slots=True)
class RawTable:
    """A file's data rows, before any field is parsed.

    ``frame`` has object columns named by alias (only the spec columns the file has);
    ``source_rows[i]`` is the 1-based row number of ``frame.iloc[i]`` in the file;
    ``columns_found`` maps alias to the header text as written in the file; ``header_row`` is
    the header's 1-based row number (None when no header was found).
    """

    path: str
    frame: pd.DataFrame
    source_rows: np.ndarray
    columns_found: Mapping[str, str]
    encoding: str | None
    header_row: int | None
    problems: tuple[ImportProblem, ...] = field(default_factory=tuple)

    @property
    def readable(self) -> bool:
        """False when the file could not be read at all (no header, bad encoding, over a limit)."""
        return self.header_row is not None


def normalise_header(value: object) -> str:
    """The comparison key of a header cell.

    Full-width and half-width forms are equated (NFKC turns （ into ( and Ａ into A), every
    space, tab and ideographic space is removed (``日 志 号`` is ``日志号``), and case is folded
    so that English aliases match in any case.
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).replace("\ufeff", "")
    return _WHITESPACE.sub("", text).casefold()


# ----------------------------------------------------------------------------------------------
# Header location, shared by every format.


@dataclass(frozen=True, slots=True)
class _HeaderMatch:
    row_index: int  # 0-based record index in the file
    positions: dict[str, int]  # alias -> 0-based cell position
    written: dict[str, str]  # alias -> header text as written
    problems: tuple[ImportProblem, ...]


def _match_row(cells: Sequence[object], spec: TableSpec) -> tuple[dict[str, list[int]], int]:
    """Which cell positions match which spec column, and how many spec columns matched."""
    wanted: dict[str, str] = {}
    for column in spec.columns:
        for name in column.accepted_names():
            wanted[normalise_header(name)] = column.alias_en
    matches: dict[str, list[int]] = {}
    for position, cell in enumerate(cells):
        alias = wanted.get(normalise_header(cell))
        if alias is not None:
            matches.setdefault(alias, []).append(position)
    return matches, len(matches)


def _locate_header(
    rows: Sequence[Sequence[object]], spec: TableSpec, file: str
) -> tuple[_HeaderMatch | None, ImportProblem | None, int]:
    """Find the first row that names every required column.

    Returns the match, or None and a problem listing the headers of the most header-like row.
    The third value ranks how header-like the best row is (used to choose the CSV separator).
    """
    required = [column.alias_en for column in spec.columns if column.required]
    best_index, best_score = -1, (-1, -1)
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        matches, matched = _match_row(cells, spec)
        non_empty = sum(1 for cell in cells if normalise_header(cell))
        if (matched, non_empty) > best_score:
            best_index, best_score = index, (matched, non_empty)
        if all(alias in matches for alias in required):
            problems = []
            for alias, positions in matches.items():
                if len(positions) > 1:
                    written = join_list(str(cells[position]).strip() for position in positions)
                    problems.append(
                        ImportProblem(
                            file,
                            index + 1,
                            str(cells[positions[0]]).strip(),
                            written,
                            tr(
                                "column {column} ({alias}) appears {count} times: {written}; which one holds the "
                                "values cannot be told, so the file is refused (delete or rename the extra column)",
                                column=spec.column(alias).name_zh,
                                alias=alias,
                                count=len(positions),
                                written=written,
                            ),
                        )
                    )
            positions = {alias: found[0] for alias, found in matches.items()}
            written = {alias: str(cells[position]).strip() for alias, position in positions.items()}
            return _HeaderMatch(index, positions, written, tuple(problems)), None, matched
    seen_cells = [str(cell).strip() for cell in rows[best_index]] if best_index >= 0 else []
    seen = join_list(cell for cell in seen_cells if cell) or tr("(nothing)")
    if best_index >= 0:
        matches, _ = _match_row(rows[best_index], spec)
    else:
        matches = {}
    missing = join_list(f"{spec.column(alias).name_zh} ({alias})" for alias in required if alias not in matches)
    reason = tr(
        "no header row of a {title} file in the first {rows} rows: missing {missing}; "
        "the most header-like row (row {best}) has: {seen}",
        title=spec.title,
        rows=HEADER_SEARCH_ROWS,
        missing=missing,
        best=best_index + 1 if best_index >= 0 else "-",
        seen=seen,
    )
    problem = ImportProblem(file, None, None, "", reason, "error")
    return None, problem, best_score[0]


def _empty_table(path: str, spec: TableSpec, problems: Iterable[ImportProblem], encoding: str | None) -> RawTable:
    return RawTable(
        path=path,
        frame=pd.DataFrame({}, dtype=object),
        source_rows=np.zeros(0, dtype=np.int64),
        columns_found={},
        encoding=encoding,
        header_row=None,
        problems=tuple(problems),
    )


def _file_problem(path: str, reason: str) -> ImportProblem:
    return ImportProblem(path, None, None, "", reason, "error")


# ----------------------------------------------------------------------------------------------
# Entry point.


def read_table(path: str | os.PathLike[str], spec: TableSpec) -> RawTable:
    """Read a ``.csv``, ``.xlsx`` or ``.xls`` file into a ``RawTable`` following ``spec``.

    The format is decided by the file's first bytes (a renamed ``.xls`` is still read), and
    otherwise by its extension. Never raises for a user's mistake.
    """
    name = os.fspath(path)
    try:
        size_bytes = os.path.getsize(name)
        with open(name, "rb") as handle:
            magic = handle.read(8)
    except OSError as error:
        return _empty_table(
            name, spec, [_file_problem(name, tr("cannot open the file: {reason}", reason=error.strerror))], None
        )
    if size_bytes > IMPORT_FILE_BYTES_MAX:
        reason = limit_message(
            "IMPORT_FILE_BYTES_MAX", IMPORT_FILE_BYTES_MAX, tr("file has {size:,} bytes", size=size_bytes)
        )
        return _empty_table(name, spec, [_file_problem(name, reason)], None)
    suffix = os.path.splitext(name)[1].lower()
    if magic.startswith(_ZIP_MAGIC) or (suffix == ".xlsx" and not magic):
        return _read_xlsx(name, spec)
    if magic.startswith(_OLE_MAGIC):
        return _read_xls(name, spec)
    if suffix in (".xlsx", ".xls"):
        reason = tr("the file is named {suffix} but is not an Excel workbook", suffix=suffix)
        # A "spreadsheet" saved as text by some exports: read it as delimited text.
        table = _read_csv(name, spec)
        if not table.readable:
            return _empty_table(name, spec, [_file_problem(name, reason), *table.problems], None)
        return table
    return _read_csv(name, spec)


# ----------------------------------------------------------------------------------------------
# Delimited text.


def decode_text(data: bytes) -> tuple[str | None, str | None, str | None]:
    """Decode a text file's bytes strictly: UTF-16 with a BOM, UTF-8 (BOM or not), else GB18030.

    Returns (text, encoding, None) or (None, None, reason). A strict decode of the wrong
    encoding fails instead of producing mojibake; UTF-8 is tried first because GB18030 accepts
    almost every byte sequence while UTF-8's structure rarely fits GBK text by accident.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16", None
        except UnicodeDecodeError as error:
            return None, None, tr("not valid UTF-16 text: bad bytes at byte offset {offset}", offset=error.start)
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        return data.decode(encoding), encoding, None
    except UnicodeDecodeError as utf8_error:
        if encoding == "utf-8-sig":
            return (
                None,
                None,
                tr(
                    "starts with a UTF-8 BOM but is not UTF-8: bad byte at byte offset {offset}",
                    offset=utf8_error.start,
                ),
            )
        try:
            return data.decode("gb18030"), "gb18030", None
        except UnicodeDecodeError as gb_error:
            return (
                None,
                None,
                tr(
                    "the file is neither UTF-8 (first bad byte at byte offset {utf8_offset}) nor GBK/GB18030 "
                    "(first bad byte at byte offset {gb_offset}); save it again as UTF-8 or GBK text",
                    utf8_offset=utf8_error.start,
                    gb_offset=gb_error.start,
                ),
            )


def _prefix_rows(text: str, separator: str) -> tuple[list[list[str]], list[int]]:
    """The first HEADER_SEARCH_ROWS records, and after each the number of physical lines read."""
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    rows: list[list[str]] = []
    lines_read: list[int] = []
    try:
        for row in itertools.islice(reader, HEADER_SEARCH_ROWS):
            rows.append(row)
            lines_read.append(reader.line_num)
    except csv.Error:
        pass  # a broken quote in the preamble: the header search works on what was read
    return rows, lines_read


def _offset_after_lines(text: str, line_count: int) -> int:
    """Character offset just after the first ``line_count`` newline-terminated lines."""
    offset = 0
    for _ in range(line_count):
        found = text.find("\n", offset)
        if found < 0:
            return len(text)
        offset = found + 1
    return offset


def _read_csv(path: str, spec: TableSpec) -> RawTable:
    with open(path, "rb") as handle:
        data = handle.read()
    text, encoding, reason = decode_text(data)
    if text is None:
        return _empty_table(path, spec, [_file_problem(path, reason or tr("cannot decode"))], None)

    # The separator is whichever one yields a header row: counting tabs would pick the tab for
    # ICBC's exports, whose comma-separated cells are padded with tabs.
    separator, match, problem, lines_read = _separator_and_header(text, spec, path)
    if match is None:
        assert problem is not None
        return _empty_table(path, spec, [problem], encoding)

    # pandas gets UTF-8 bytes: handed a str buffer it re-encodes chunk by chunk and, for Chinese
    # text, piles the overflow up quadratically (8 s for a million rows).
    offset = _offset_after_lines(text, lines_read[match.row_index])
    if encoding in ("utf-8", "utf-8-sig"):
        byte_offset = len(text[:offset].encode("utf-8")) + (3 if encoding == "utf-8-sig" else 0)
        data_bytes = data[byte_offset:]
    else:
        data_bytes = text[offset:].encode("utf-8")
    del text, data
    read_width = max(match.positions.values()) + 1
    raw, error = _read_delimited(data_bytes, separator, read_width)
    if raw is None:
        return _empty_table(
            path,
            spec,
            [_file_problem(path, tr("cannot read the file as delimited text: {error}", error=error))],
            encoding,
        )
    del data_bytes
    if len(raw) > IMPORT_ROWS_MAX:
        reason = limit_message(
            "IMPORT_ROWS_MAX", IMPORT_ROWS_MAX, tr("file has more than {limit:,} data rows", limit=IMPORT_ROWS_MAX)
        )
        return _empty_table(path, spec, [_file_problem(path, reason)], encoding)

    header_row = match.row_index + 1
    row_numbers = np.arange(header_row + 1, header_row + 1 + len(raw), dtype=np.int64)
    frame, kept_rows, problems = _spec_columns(raw, row_numbers, match, spec, path)
    return RawTable(path, frame, kept_rows, dict(match.written), encoding, header_row, tuple(problems))


def _separator_and_header(
    text: str, spec: TableSpec, path: str
) -> tuple[str, _HeaderMatch | None, ImportProblem | None, list[int]]:
    """The separator whose reading finds a header (best score, then widest header row), its header
    match or the problem of the best failed search, and the physical lines read per record."""
    candidates = []
    for separator in SEPARATORS:
        rows, lines_read = _prefix_rows(text, separator)
        match, problem, score = _locate_header(rows, spec, path)
        width = len(rows[match.row_index]) if match else 0
        candidates.append((match is not None, score, width, separator, match, problem, lines_read))
    candidates.sort(key=lambda candidate: candidate[:3], reverse=True)
    _, _, _, separator, match, problem, lines_read = candidates[0]
    return separator, match, problem, lines_read


def _read_delimited(data_bytes: bytes, separator: str, read_width: int) -> tuple[pd.DataFrame | None, Exception | None]:
    """The data rows as a frame of ``read_width`` object columns, or None and the parser's error."""
    raw = None
    for use_columns in (True, False):
        # usecols lets rows be longer than the header (ICBC ends every row with a comma) but
        # fails when no row reaches the last wanted column; then read without it.
        try:
            raw = pd.read_csv(
                io.BytesIO(data_bytes),
                encoding="utf-8",
                sep=separator,
                header=None,
                names=range(read_width),
                usecols=range(read_width) if use_columns else None,
                # object, not str: pandas 3's str dtype makes both reading and stripping about
                # twice as slow, and every cell is a Python str either way.
                dtype=object,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                nrows=IMPORT_ROWS_MAX + 1,
                engine="c",
            )
            break
        except pd.errors.EmptyDataError:
            raw = pd.DataFrame({position: pd.Series([], dtype=object) for position in range(read_width)})
            break
        except (pd.errors.ParserError, ValueError) as error:
            if not use_columns:
                return None, error
    assert raw is not None
    return raw, None


def _spec_columns(
    raw: pd.DataFrame, row_numbers: np.ndarray, match: _HeaderMatch, spec: TableSpec, path: str
) -> tuple[pd.DataFrame, np.ndarray, list[ImportProblem]]:
    """The spec's columns of the data rows, stripped, blanks as None; a cell longer than
    CELL_CHARS_MAX is a problem and becomes None. Returns the frame, its rows' numbers and the
    problems (the header's first)."""
    keep = _data_row_mask_text(raw)
    columns: dict[str, np.ndarray] = {}
    problems: list[ImportProblem] = list(match.problems)
    kept_rows = row_numbers[keep]
    for alias, position in _in_spec_order(match.positions, spec):
        values = _stripped(raw[position].to_numpy(dtype=object)[keep])
        too_long = np.fromiter(map(len, values), dtype=np.int64, count=len(values)) > CELL_CHARS_MAX
        values[values == ""] = None
        if too_long.any():
            problems.extend(_too_long_problems(path, match.written[alias], kept_rows[too_long], values[too_long]))
            values[too_long] = None
        columns[alias] = values
    frame = pd.DataFrame(columns, dtype=object) if columns else pd.DataFrame(index=range(int(keep.sum())))
    return frame, kept_rows, problems


def _data_row_mask_text(raw: pd.DataFrame) -> np.ndarray:
    """True for rows that are data: not blank and not a total line.

    The first non-empty cell of each row is found column by column, stripping only the rows
    still undecided, so a million-row file costs about one pass over its first column.
    """
    row_count = len(raw)
    first_cell = np.full(row_count, "", dtype=object)
    undecided = np.ones(row_count, dtype=bool)
    for position in raw.columns:
        if not undecided.any():
            break
        indices = np.flatnonzero(undecided)
        stripped = _stripped(raw[position].to_numpy(dtype=object)[indices])
        found = stripped != ""
        first_cell[indices[found]] = stripped[found]
        undecided[indices[found]] = False
    blank = undecided
    footer = pd.Series(first_cell, dtype=object).str.startswith(FOOTER_PREFIXES).fillna(False).to_numpy(dtype=bool)
    return ~(blank | footer)


def _in_spec_order(positions: Mapping[str, int], spec: TableSpec) -> list[tuple[str, int]]:
    """(alias, position) pairs in the spec's column order, so a frame never depends on the file's order."""
    return [(column.alias_en, positions[column.alias_en]) for column in spec.columns if column.alias_en in positions]


def _stripped(cells: np.ndarray) -> np.ndarray:
    """Cells with surrounding spaces, tabs and ideographic spaces removed (an object array).

    A list comprehension over str.strip is several times faster here than pandas' .str.strip,
    whose per-element overhead dominates for short cells.
    """
    result = np.empty(len(cells), dtype=object)
    result[:] = [cell.strip() for cell in cells]
    return result


def _too_long_problems(path: str, column: str, rows: np.ndarray, values: np.ndarray) -> list[ImportProblem]:
    reason = limit_message("CELL_CHARS_MAX", CELL_CHARS_MAX, tr("cell is longer than the limit (a broken quote?)"))
    return [
        ImportProblem(path, int(row), column, str(value)[:80] + "…", reason, "error")
        for row, value in zip(rows, values)
    ]


# ----------------------------------------------------------------------------------------------
# Workbooks: cells keep their Python types.


def _table_from_rows(
    path: str, spec: TableSpec, sheets: Sequence[tuple[str, Iterable[Sequence[object]]]], encoding: str
) -> RawTable:
    """Shared by .xlsx and .xls: find the header in the first sheet that has one, then collect cells."""
    first_problem: ImportProblem | None = None
    for sheet_name, row_iterator in sheets:
        iterator = iter(row_iterator)
        prefix = [list(row) for row in itertools.islice(iterator, HEADER_SEARCH_ROWS)]
        match, problem, _ = _locate_header(prefix, spec, path)
        if match is None:
            first_problem = first_problem or problem
            continue
        positions = _in_spec_order(match.positions, spec)
        columns: dict[str, list[object]] = {alias: [] for alias, _ in positions}
        source_rows: list[int] = []
        problems: list[ImportProblem] = list(match.problems)
        header_row = match.row_index + 1
        rest = itertools.chain(prefix[match.row_index + 1 :], iterator)
        for offset, cells in enumerate(rest):
            row_number = header_row + 1 + offset
            first = next((cell for cell in cells if _cell_text_or_value(cell) is not None), None)
            if first is None:
                continue
            if isinstance(first, str) and first.strip().startswith(FOOTER_PREFIXES):
                continue
            if len(source_rows) >= IMPORT_ROWS_MAX:
                reason = limit_message(
                    "IMPORT_ROWS_MAX",
                    IMPORT_ROWS_MAX,
                    tr("file has more than {limit:,} data rows", limit=IMPORT_ROWS_MAX),
                )
                return _empty_table(path, spec, [_file_problem(path, reason)], encoding)
            source_rows.append(row_number)
            for alias, position in positions:
                value = _cell_text_or_value(cells[position]) if position < len(cells) else None
                if isinstance(value, str) and len(value) > CELL_CHARS_MAX:
                    problems.extend(
                        _too_long_problems(
                            path, match.written[alias], np.array([row_number]), np.array([value], dtype=object)
                        )
                    )
                    value = None
                columns[alias].append(value)
        frame = pd.DataFrame(
            {alias: pd.Series(values, dtype=object) for alias, values in columns.items()}, dtype=object
        )
        if not columns:
            frame = pd.DataFrame(index=range(len(source_rows)))
        return RawTable(
            path,
            frame,
            np.asarray(source_rows, dtype=np.int64),
            dict(match.written),
            f"{encoding}:{sheet_name}",
            header_row,
            tuple(problems),
        )
    assert first_problem is not None or not sheets
    return _empty_table(path, spec, [first_problem or _file_problem(path, tr("the workbook has no sheets"))], encoding)


def _cell_text_or_value(value: object) -> object:
    """A cell's value with text stripped; blank text becomes None, other types are kept."""
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return value


def _read_xlsx(path: str, spec: TableSpec) -> RawTable:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged workbook
        return _empty_table(
            path, spec, [_file_problem(path, tr("cannot open the workbook: {error}", error=error))], None
        )
    try:
        sheets = [(sheet.title, sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets]
        return _table_from_rows(path, spec, sheets, "xlsx")
    finally:
        workbook.close()


def _xls_rows(book: object, sheet: object) -> Iterable[list[object]]:
    import xlrd

    for row_index in range(sheet.nrows):  # type: ignore[attr-defined]
        cells: list[object] = []
        for cell in sheet.row(row_index):  # type: ignore[attr-defined]
            kind, value = cell.ctype, cell.value
            if kind == xlrd.XL_CELL_DATE:
                try:
                    value = xlrd.xldate_as_datetime(value, book.datemode)  # type: ignore[attr-defined]
                except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                    pass  # an impossible date serial stays a number and is reported by the field parser
            elif kind == xlrd.XL_CELL_NUMBER and float(value).is_integer() and abs(value) < 2**53:
                # Like openpyxl, give an integral number cell as int so both workbook kinds agree.
                value = int(value)
            elif kind == xlrd.XL_CELL_BOOLEAN:
                value = bool(value)
            elif kind == xlrd.XL_CELL_ERROR:
                value = xlrd.error_text_from_code.get(value, "#ERROR")
            elif kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                value = None
            cells.append(value)
        yield cells


def _read_xls(path: str, spec: TableSpec) -> RawTable:
    import xlrd

    try:
        book = xlrd.open_workbook(path)
    except Exception as error:  # xlrd raises many types for a damaged workbook
        return _empty_table(
            path, spec, [_file_problem(path, tr("cannot open the workbook: {error}", error=error))], None
        )
    sheets = [(sheet.name, _xls_rows(book, sheet)) for sheet in book.sheets()]
    return _table_from_rows(path, spec, sheets, "xls")
