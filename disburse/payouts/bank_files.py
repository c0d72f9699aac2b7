"""Batch-payment files (批量代发): payment instructions written in one bank's upload layout.

A pure writer: it takes a frame of payment instructions and a bank profile, and renders one
file, or several numbered ones when the batch is larger than the bank accepts in one upload,
each with its own control total and count, as bytes (``render_batch_files``): the same
instructions and profile always give the same bytes. It never touches the database; the caller
records the files' hashes and puts them in place (``payouts.publication``).
``row_problems`` says which instructions a layout cannot carry, so a batch can be checked
against its bank's file when it is prepared.

``instructions`` has the columns ``payment_reference`` (``PAY-202610-000123``), ``account_no``
(digits, as text), ``account_name``, ``bank_name``, ``amount_fen`` (int64, > 0) and ``memo``
(text; the payment reference is put in front of it unless it is already there).

Amounts are written as yuan with two decimals, from integer fen: text in CSV, exact Decimal
numbers in xlsx (or text where the bank wants text). No float ever holds an amount.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from disburse.foundation.i18n import join_list, tr
from disburse.foundation.money import AMOUNT_FEN_MAX, FEN_PER_YUAN, yuan_decimal
from disburse.payouts.bank_layout import BANK_FILE_ROWS_MAX, BATCH_FILES_MAX, BatchPaymentLayout, PaymentProfile

INSTRUCTION_COLUMNS = ("payment_reference", "account_no", "account_name", "bank_name", "amount_fen", "memo")
# A spreadsheet evaluates a cell that starts with one of these as a formula; a payee's name
# copied from a register must never run as one when the bank file is opened.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Problems listed per kind before the rest are only counted: the message must stay readable.
PROBLEMS_PER_KIND_MAX = 20
# A bank account number is 8 to 30 digits in every layout we know (passbooks 8-17, cards 16-19,
# corporate accounts up to 30).
ACCOUNT_DIGITS_MIN, ACCOUNT_DIGITS_MAX = 8, 30

__all__ = [
    "BANK_FILE_ROWS_MAX",
    "BATCH_FILES_MAX",
    "BankFileError",
    "BatchFile",
    "RowProblem",
    "render_batch_files",
    "row_problems",
    "write_batch_files",
]


@dataclass(frozen=True, slots=True)
class BatchFile:
    """One rendered file: where it goes, how many payments, their total in fen, the SHA-256
    and size of its bytes, and the bytes."""

    path: Path
    row_count: int
    total_fen: int
    sha256: str
    size_bytes: int
    data: bytes = field(repr=False, default=b"")


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Instructions a layout cannot carry for one reason: ``column`` is the instruction's field,
    ``message`` the reason as a bank-file refusal states it, ``rows`` a mask over the rows."""

    column: str
    message: str
    rows: np.ndarray


class BankFileError(ValueError):
    """The instructions cannot be written in this bank's layout; ``problems`` lists every reason.

    The instructions come from our own database, so this is a programmer's or configuration
    error, raised once with everything wrong rather than at the first bad row.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(tr("cannot write the batch-payment file:") + "\n" + "\n".join(problems))


def _listed(what: str, references: Sequence[object]) -> str:
    shown = join_list(str(reference) for reference in references[:PROBLEMS_PER_KIND_MAX])
    extra = len(references) - PROBLEMS_PER_KIND_MAX
    more = tr(" and {count:,} more", count=extra) if extra > 0 else ""
    return tr("{what}: {shown}{more}", what=what, shown=shown, more=more)


def _text_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    values = frame[name].to_numpy(dtype=object, na_value=None)
    return np.array(["" if value is None else str(value).strip() for value in values], dtype=object)


def neutralised(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _memo_text(reference: str, memo: str, chars_max: int | None) -> str:
    """The memo the bank carries: our payment reference first, then the instruction's memo,
    within the bank's ``chars_max``. The reference is what reconciliation looks for, so it is
    always kept; a merged payment's list of programmes (joined with 、) keeps as many whole
    names as fit and says how many there are (``…等3项``); anything else is cut."""
    assert chars_max is None or chars_max >= len(reference), (reference, chars_max)
    text = memo if reference in memo else (f"{reference} {memo}" if memo else reference)
    if chars_max is None or len(text) <= chars_max:
        return text
    if not text.startswith(reference):
        text = f"{reference} {memo}"
        memo_part = memo
    else:
        memo_part = text[len(reference) :].lstrip()
    names = memo_part.split("、")
    for kept in range(len(names) - 1, 0, -1):
        shortened = f"{reference} {'、'.join(names[:kept])}等{len(names)}项"
        if len(shortened) <= chars_max:
            return shortened
    # A cut that ends on a separator drops it: the memo then reads as whole words.
    return text[:chars_max].rstrip("、 ")


@dataclass(frozen=True, slots=True)
class _Cells:
    """The instructions' cells as the bank file shows them, one array per source."""

    texts: dict[str, np.ndarray]
    amounts_fen: np.ndarray


def _amounts(instructions: pd.DataFrame) -> np.ndarray:
    missing = [name for name in INSTRUCTION_COLUMNS if name not in instructions.columns]
    if missing:
        raise BankFileError([tr("instructions lack the columns {columns}", columns=join_list(missing))])
    amount_column = instructions["amount_fen"]
    if not pd.api.types.is_integer_dtype(amount_column.dtype) or isinstance(amount_column.dtype, pd.BooleanDtype):
        raise BankFileError([tr("amount_fen must be integer fen (int64), not {dtype}", dtype=amount_column.dtype)])
    if amount_column.isna().any():
        raise BankFileError([tr("amount_fen has missing values")])
    return amount_column.to_numpy(dtype=np.int64)


def _ascii_digit_accounts(accounts: np.ndarray) -> np.ndarray:
    """Which account numbers are 8-30 ASCII digits, in C loops over the characters' codes (a
    regular expression per row costs a fifth of a second on 300,000 payees)."""
    if len(accounts) == 0:
        return np.zeros(0, dtype=bool)
    array = accounts.astype(str)
    lengths = np.strings.str_len(array)
    width = array.dtype.itemsize // 4
    if width == 0:
        return np.zeros(len(accounts), dtype=bool)
    codes = array.view(np.uint32).reshape(len(accounts), width)
    padding = np.arange(width)[None, :] >= lengths[:, None]
    digits = ((codes >= 48) & (codes <= 57)) | padding
    return digits.all(axis=1) & (lengths >= ACCOUNT_DIGITS_MIN) & (lengths <= ACCOUNT_DIGITS_MAX)


def _row_problems(texts: dict[str, np.ndarray], amounts: np.ndarray, layout: BatchPaymentLayout) -> list[RowProblem]:
    sources = {column.source for column in layout.columns}
    good_account = _ascii_digit_accounts(texts["account_no"])
    found = [
        RowProblem(
            "amount_fen",
            tr("amount_fen must be positive and at most AMOUNT_FEN_MAX"),
            (amounts <= 0) | (amounts > AMOUNT_FEN_MAX),
        ),
        RowProblem("account_no", tr("account_no must be 8-30 digits"), ~good_account),
    ]
    if "account_name" in sources:
        found.append(RowProblem("account_name", tr("account_name is blank"), texts["account_name"] == ""))
    if sources & {"bank_name", "interbank_flag"}:
        found.append(
            RowProblem("bank_name", tr("bank_name is blank (this bank's layout needs it)"), texts["bank_name"] == "")
        )
    if layout.file_type == "csv":
        for name in sorted(sources & {"account_no", "account_name", "bank_name"}):
            # ASCII digits are in every encoding: only the other account numbers are tried.
            candidates = ~good_account if name == "account_no" else np.ones(len(amounts), dtype=bool)
            unencodable = np.zeros(len(amounts), dtype=bool)
            unencodable[candidates] = _unencodable(texts[name][candidates], layout.encoding)
            message = tr("{column} has characters {encoding} cannot write", column=name, encoding=layout.encoding)
            found.append(RowProblem(name, message, unencodable))
    return [problem for problem in found if problem.rows.any()]


def row_problems(instructions: pd.DataFrame, layout: BatchPaymentLayout) -> list[RowProblem]:
    """What keeps each instruction out of a file in ``layout``: an amount out of range, an
    account number that is not 8-30 digits, a blank 户名 or bank name where the layout has a
    column for it (CCB's 行名 and 跨行标识), text the bank's encoding cannot hold. Only the
    problems found are returned, each with the rows it concerns. ``instructions`` needs
    ``account_no, account_name, bank_name, amount_fen`` (references and memos may be absent:
    a batch being prepared has none yet)."""
    texts = {name: _text_column(instructions, name) for name in ("account_no", "account_name", "bank_name")}
    return _row_problems(texts, instructions["amount_fen"].to_numpy(dtype=np.int64), layout)


def _same_bank(banks: np.ndarray, names: list[str]) -> np.ndarray:
    """Which payees bank where we do (the layout's ``same_bank_names``), per distinct bank."""
    codes, uniques = pd.factorize(banks)
    same = np.array([any(name in str(bank) for name in names) for bank in uniques], dtype=bool)
    return same[codes] if len(uniques) else np.zeros(len(banks), dtype=bool)


def _checked_cells(instructions: pd.DataFrame, layout: BatchPaymentLayout) -> _Cells:
    amounts = _amounts(instructions)
    texts = {name: _text_column(instructions, name) for name in INSTRUCTION_COLUMNS if name != "amount_fen"}
    references = texts["payment_reference"]
    problems = [_listed(problem.message, references[problem.rows]) for problem in _row_problems(texts, amounts, layout)]
    blank_reference = references == ""
    if blank_reference.any():
        problems.append(tr("{count:,} instructions have no payment_reference", count=int(blank_reference.sum())))
    duplicated = pd.Series(references).duplicated(keep=False).to_numpy() & ~blank_reference
    if duplicated.any():
        problems.append(_listed(tr("payment_reference appears more than once"), sorted(set(references[duplicated]))))
    if layout.memo_chars_max is not None:
        too_long = np.array([len(reference) > layout.memo_chars_max for reference in references], dtype=bool)
        if too_long.any():
            problems.append(
                _listed(
                    tr(
                        "payment_reference is longer than the bank's memo ({chars_max} characters)",
                        chars_max=layout.memo_chars_max,
                    ),
                    references[too_long],
                )
            )
    if problems:
        raise BankFileError(problems)
    texts["memo"] = np.array(
        [_memo_text(reference, memo, layout.memo_chars_max) for reference, memo in zip(references, texts["memo"])],
        dtype=object,
    )
    same_bank = _same_bank(texts["bank_name"], layout.same_bank_names)
    texts["interbank_flag"] = np.where(same_bank, layout.same_bank_value, layout.other_bank_value).astype(object)
    return _Cells(texts, amounts)


def _unencodable(values: np.ndarray, encoding: str) -> np.ndarray:
    """Which values the bank's encoding (GBK) cannot hold, e.g. a rare character in a name:
    each distinct value is tried once."""
    codes, uniques = pd.factorize(values)
    bad_codes = []
    for code, value in enumerate(uniques):
        try:
            str(value).encode(encoding)
        except UnicodeEncodeError:
            bad_codes.append(code)
    return np.isin(codes, bad_codes) if bad_codes else np.zeros(len(values), dtype=bool)


def _amount_texts(amounts_fen: np.ndarray) -> list[str]:
    """Yuan with two decimals and no separators, from integer fen only."""
    return [f"{fen // FEN_PER_YUAN}.{fen % FEN_PER_YUAN:02d}" for fen in amounts_fen.tolist()]


def _file_paths(out: Path, file_count: int) -> list[Path]:
    if file_count == 1:
        return [out]
    return [out.with_name(f"{out.stem}-{number:03d}{out.suffix}") for number in range(1, file_count + 1)]


def _control_value(
    value: str, total_fen: int, row_count: int, batch_reference: str, file_number: int, as_number: bool
) -> object:
    if value == "total_amount":
        return yuan_decimal(total_fen) if as_number else _amount_texts(np.array([total_fen]))[0]
    if value == "row_count":
        return row_count if as_number else str(row_count)
    if value == "batch_reference":
        return batch_reference
    assert value == "file_number", value
    return file_number if as_number else str(file_number)


def _row_texts(layout: BatchPaymentLayout, cells: _Cells, start: int, stop: int) -> list[list[object]]:
    """The data rows of one file; amounts as text, sequence numbers from 1 within the file."""
    columns: list[list[object]] = []
    for column in layout.columns:
        if column.source == "sequence":
            columns.append(list(range(1, stop - start + 1)))
        elif column.source == "amount":
            columns.append(_amount_texts(cells.amounts_fen[start:stop]))  # type: ignore[arg-type]
        elif column.source == "constant":
            text = column.text if column.raw else neutralised(column.text)
            columns.append([text] * (stop - start))
        else:
            values = cells.texts[column.source][start:stop]
            raw = column.raw or column.source in ("account_no", "interbank_flag")
            columns.append(list(values) if raw else [neutralised(value) for value in values])
    return [list(row) for row in zip(*columns)]


def _csv_bytes(layout: BatchPaymentLayout, rows: list[list[object]], control: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=layout.separator, lineterminator=layout.line_ending)
    writer.writerows(control)
    writer.writerow([column.header for column in layout.columns])
    writer.writerows(rows)
    return buffer.getvalue().encode(layout.encoding)


_XLSX_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_XLSX_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XLSX_PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XLSX_FIXED_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{_XLSX_PACKAGE_RELATIONSHIPS}">'
        f'<Relationship Id="rId1" Type="{_XLSX_RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{_XLSX_PACKAGE_RELATIONSHIPS}">'
        f'<Relationship Id="rId1" Type="{_XLSX_RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_XLSX_RELATIONSHIPS}/styles" Target="styles.xml"/>'
        "</Relationships>"
    ),
    # Style 1 is the money format 0.00; style 0 the default.
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<styleSheet xmlns="{_XLSX_MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="0.00"/></numFmts>'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
    ),
}
# Characters XML 1.0 cannot carry at all; a bank file never needs them.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _xml_text(value: str) -> str:
    return _XML_INVALID.sub("", value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml_texts(values: list[str]) -> list[str]:
    """``_xml_text`` of each value: one pass over all of them joined (a C loop per character
    class instead of four calls per cell), unless a value holds the joining newline itself."""
    joined = "\n".join(values)
    if not values or joined.count("\n") != len(values) - 1:
        return [_xml_text(value) for value in values]
    return _xml_text(joined).split("\n")


def _string_cell(reference: str, value: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t xml:space="preserve">{_xml_text(value)}</t></is></c>'


def _string_cells(letters: str, numbers: range, values: list[str]) -> list[str]:
    """A column of inline-string cells from row ``numbers[0]`` on."""
    return [
        f'<c r="{letters}{row}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
        for row, text in zip(numbers, _xml_texts(values))
    ]


def _control_row_cells(control: list[list[object]]) -> list[str]:
    """The rows above the header: text, counts and Decimal amounts in the money format."""
    rows: list[str] = []
    for row_number, control_row in enumerate(control, start=1):
        parts = []
        for column_index, value in enumerate(control_row):
            reference = f"{_column_letters(column_index)}{row_number}"
            if isinstance(value, str):
                parts.append(_string_cell(reference, value))
            elif isinstance(value, int):
                parts.append(f'<c r="{reference}"><v>{value}</v></c>')
            else:  # a Decimal amount, written with its exact digits in the money format
                parts.append(f'<c r="{reference}" s="1"><v>{format(value, "f")}</v></c>')
        rows.append(f'<row r="{row_number}">{"".join(parts)}</row>')
    return rows


def _xlsx_column(layout: BatchPaymentLayout, column_index: int, cells: _Cells, start: int, numbers: range) -> list[str]:
    """One data column's cells, as SpreadsheetML text."""
    column = layout.columns[column_index]
    letters = _column_letters(column_index)
    stop = start + len(numbers)
    if column.source == "sequence":
        return [f'<c r="{letters}{row}"><v>{sequence}</v></c>' for sequence, row in enumerate(numbers, start=1)]
    if column.source == "amount" and layout.amount_as_text:
        return _string_cells(letters, numbers, list(_amount_texts(cells.amounts_fen[start:stop])))
    if column.source == "amount":
        return [
            f'<c r="{letters}{row}" s="1"><v>{format(yuan_decimal(fen), "f")}</v></c>'
            for row, fen in zip(numbers, cells.amounts_fen[start:stop].tolist())
        ]
    if column.source == "constant":
        text = column.text if column.raw else neutralised(column.text)
        return _string_cells(letters, numbers, [text] * len(numbers))
    values = cells.texts[column.source][start:stop]
    raw = column.raw or column.source in ("account_no", "interbank_flag")
    return _string_cells(letters, numbers, list(values) if raw else [neutralised(value) for value in values])


def _xlsx_bytes(layout: BatchPaymentLayout, cells: _Cells, start: int, stop: int, control: list[list[object]]) -> bytes:
    """One xlsx file: the SpreadsheetML parts directly, one sheet of inline strings and
    numbers. A general writer such as XlsxWriter spends about 3.7 µs per cell; this writes the
    cells column by column as text, so 300,000 payees take a second or two. Numbers are written
    from int or Decimal digits (never a float), and the zip's timestamps are fixed, so the same
    batch always gives the same bytes."""
    import zipfile

    rows = _control_row_cells(control)
    header_row = len(rows) + 1
    rows.append(
        f'<row r="{header_row}">'
        + "".join(
            _string_cell(f"{_column_letters(index)}{header_row}", column.header)
            for index, column in enumerate(layout.columns)
        )
        + "</row>"
    )
    numbers = range(header_row + 1, header_row + 1 + stop - start)
    columns = [_xlsx_column(layout, index, cells, start, numbers) for index in range(len(layout.columns))]
    rows.extend(f'<row r="{row}">{"".join(row_cells)}</row>' for row, row_cells in zip(numbers, zip(*columns)))
    widths = "".join(
        f'<col min="{index + 1}" max="{index + 1}" width="24" customWidth="1"/>'
        for index, column in enumerate(layout.columns)
        if column.source in ("account_no", "payment_reference", "memo", "account_name")
    )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{_XLSX_MAIN}">'
        + (f"<cols>{widths}</cols>" if widths else "")
        + "<sheetData>"
        + "".join(rows)
        + "</sheetData></worksheet>"
    )
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{_XLSX_MAIN}" xmlns:r="{_XLSX_RELATIONSHIPS}"><sheets>'
        f'<sheet name="{_xml_text(layout.sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    parts = {**_XLSX_FIXED_PARTS, "xl/workbook.xml": workbook, "xl/worksheets/sheet1.xml": sheet}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"), compresslevel=1)
    return buffer.getvalue()


def _file_totals(cells: _Cells, layout: BatchPaymentLayout) -> tuple[int, list[int]]:
    """Rows per file and each file's total; refuses a split past BATCH_FILES_MAX or a total a
    spreadsheet cannot hold."""
    count = len(cells.amounts_fen)
    if count == 0:
        raise BankFileError([tr("the batch has no payment instructions")])
    rows_per_file = min(layout.rows_per_file_max, BANK_FILE_ROWS_MAX)
    file_count = -(-count // rows_per_file)
    if file_count > BATCH_FILES_MAX:
        raise BankFileError(
            [
                tr(
                    "{count:,} payments at {rows_per_file:,} per file need {file_count:,} files; "
                    "the limit BATCH_FILES_MAX is {files_max}",
                    count=count,
                    rows_per_file=rows_per_file,
                    file_count=file_count,
                    files_max=BATCH_FILES_MAX,
                )
            ]
        )
    totals_fen = [
        int(cells.amounts_fen[start : start + rows_per_file].sum()) for start in range(0, count, rows_per_file)
    ]
    if max(totals_fen) > AMOUNT_FEN_MAX:
        # A spreadsheet keeps 15 significant digits; a larger control total would be changed.
        raise BankFileError(
            [
                tr(
                    "a file's total {total:,} fen is over AMOUNT_FEN_MAX ({amount_max:,} fen)",
                    total=max(totals_fen),
                    amount_max=AMOUNT_FEN_MAX,
                )
            ]
        )
    return rows_per_file, totals_fen


def render_batch_files(
    instructions: pd.DataFrame, profile: PaymentProfile, out: Path, batch_reference: str
) -> list[BatchFile]:
    """``instructions`` in ``profile``'s batch-payment layout, as the bytes of each file that
    would go to ``out``; nothing is written.

    A batch of more than the layout's ``rows_per_file_max`` payments is split, in the order
    given, into ``{out stem}-001{suffix}``, ``-002`` … each with its own sequence numbers,
    control total and count. Raises ``BankFileError`` listing every instruction that cannot be
    written (a non-integer or non-positive amount, a duplicate reference, a name the bank's
    encoding cannot hold …). The same instructions and profile give the same bytes."""
    layout = profile.batch_payment
    cells = _checked_cells(instructions, layout)
    rows_per_file, totals_fen = _file_totals(cells, layout)
    count = len(cells.amounts_fen)
    rendered: list[BatchFile] = []
    for number, path in enumerate(_file_paths(Path(out), len(totals_fen)), start=1):
        start, stop = (number - 1) * rows_per_file, min(number * rows_per_file, count)
        total_fen = totals_fen[number - 1]
        as_number = layout.file_type == "xlsx"
        control = [
            [
                cell.text
                if cell.text is not None
                else _control_value(cell.value or "", total_fen, stop - start, batch_reference, number, as_number)
                for cell in row
            ]
            for row in layout.control_rows
        ]
        if layout.file_type == "csv":
            data = _csv_bytes(layout, _row_texts(layout, cells, start, stop), control)
        else:
            data = _xlsx_bytes(layout, cells, start, stop, control)
        rendered.append(BatchFile(path, stop - start, total_fen, hashlib.sha256(data).hexdigest(), len(data), data))
    # Conservation across the split: every payment in exactly one file, every fen counted once.
    assert sum(file.row_count for file in rendered) == count
    assert sum(file.total_fen for file in rendered) == int(cells.amounts_fen.sum())
    return rendered


def write_batch_files(
    instructions: pd.DataFrame, profile: PaymentProfile, out: Path, batch_reference: str
) -> list[BatchFile]:
    """``render_batch_files`` and write each file straight to its path: for tools and tests.
    A batch's export goes through ``payouts.export``, which records the files before putting
    them in place."""
    rendered = render_batch_files(instructions, profile, out, batch_reference)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    for file in rendered:
        file.path.write_bytes(file.data)
    return rendered
