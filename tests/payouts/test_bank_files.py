"""Batch-payment files: each bank's layout checked cell by cell against what a person expects,
the split into numbered files with their own control totals, and amounts that survive the trip."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from disburse.foundation.money import fen_from_value
from disburse.importers.fields import FieldSource, parse_amounts_fen
from disburse.importers.reading import ColumnSpec, TableSpec, read_table
from disburse.payouts.bank_files import BankFileError, write_batch_files
from disburse.payouts.bank_layout import load_payment_profiles

PROFILES = load_payment_profiles()


def instructions(amounts_fen: list[int] | None = None, **columns: list[object]) -> pd.DataFrame:
    """Two payees by default: 张三 at CCB 1,200.50 and 李四 at ABC 100.00."""
    amounts = [120_050, 10_000] if amounts_fen is None else amounts_fen
    count = len(amounts)
    frame = pd.DataFrame(
        {
            "payment_reference": [f"PAY-202610-{index + 1:06d}" for index in range(count)],
            "account_no": (["6217001234567893", "6228480012345678903"] * count)[:count],
            "account_name": (["张三", "李四"] * count)[:count],
            "bank_name": (["中国建设银行商州支行", "中国农业银行"] * count)[:count],
            "amount_fen": np.array(amounts, dtype=np.int64),
            "memo": ["光伏收益"] * count,
        }
    )
    for name, values in columns.items():
        frame[name] = values
    return frame


def lines(path: Path, encoding: str) -> list[str]:
    return path.read_bytes().decode(encoding).split("\r\n")


def test_generic_csv(tmp_path: Path) -> None:
    [written] = write_batch_files(instructions(), PROFILES["generic"], tmp_path / "b.csv", "B-1")
    data = written.path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert lines(written.path, "utf-8-sig") == [
        "序号,收款账号,收款户名,金额,摘要",
        "1,6217001234567893,张三,1200.50,PAY-202610-000001 光伏收益",
        "2,6228480012345678903,李四,100.00,PAY-202610-000002 光伏收益",
        "",
    ]
    assert (written.row_count, written.total_fen) == (2, 130_050)
    assert written.sha256 == hashlib.sha256(data).hexdigest()


def test_ccb_nine_columns_in_gbk(tmp_path: Path) -> None:
    [written] = write_batch_files(instructions(), PROFILES["ccb"], tmp_path / "ccb.csv", "B-1")
    data = written.path.read_bytes()
    assert "张三".encode("gbk") in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert lines(written.path, "gbk") == [
        "序号,账户,户名,金额,跨行标识,行名,联行行号,摘要,备注",
        # 跨行标识 0: a CCB card; 1: another bank's.
        "1,6217001234567893,张三,1200.50,0,中国建设银行商州支行,,PAY-202610-000001 光伏收益,PAY-202610-000001",
        "2,6228480012345678903,李四,100.00,1,中国农业银行,,PAY-202610-000002 光伏收益,PAY-202610-000002",
        "",
    ]


def test_icbc_three_columns(tmp_path: Path) -> None:
    [written] = write_batch_files(instructions(), PROFILES["icbc"], tmp_path / "icbc.csv", "B-1")
    assert lines(written.path, "gbk") == [
        "账号,户名,金额",
        "6217001234567893,张三,1200.50",
        "6228480012345678903,李四,100.00",
        "",
    ]
    assert not PROFILES["icbc"].batch_payment.carries_reference()


def test_rural_credit_xlsx_header_holds_total_and_count(tmp_path: Path) -> None:
    [written] = write_batch_files(
        instructions([120_050, 10_000, 1]), PROFILES["rural_credit"], tmp_path / "rcc.xlsx", "B-1"
    )
    sheet = openpyxl.load_workbook(written.path).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    # 1,200.50 + 100.00 + 0.01 = 1,300.51 in 3 payments.
    assert rows[0] == ["总金额", 1300.51, "总笔数", 3, None]
    assert rows[1] == ["序号", "账号", "户名", "金额", "摘要"]
    assert rows[2] == [1, "6217001234567893", "张三", 1200.5, "PAY-202610-000001 光伏收益"]
    assert rows[4] == [3, "6217001234567893", "张三", 0.01, "PAY-202610-000003 光伏收益"]
    assert sheet.cell(3, 4).number_format == "0.00"
    assert (written.row_count, written.total_fen) == (3, 130_051)


def test_split_7001_rows_at_3000_per_file(tmp_path: Path) -> None:
    amounts = [index % 997 + 1 for index in range(7_001)]
    written = write_batch_files(instructions(amounts), PROFILES["rural_credit"], tmp_path / "batch.xlsx", "B-2")
    assert [file.path.name for file in written] == ["batch-001.xlsx", "batch-002.xlsx", "batch-003.xlsx"]
    assert [file.row_count for file in written] == [3000, 3000, 1001]
    assert [file.total_fen for file in written] == [sum(amounts[:3000]), sum(amounts[3000:6000]), sum(amounts[6000:])]
    assert sum(file.total_fen for file in written) == sum(amounts)
    assert not (tmp_path / "batch.xlsx").exists()
    # The last file's own header: 1,001 payments, their own total; sequence restarts at 1.
    sheet = openpyxl.load_workbook(written[2].path, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][3] == 1001
    assert fen_from_value(rows[0][1]) == sum(amounts[6000:])
    assert rows[2][0] == 1 and rows[-1][0] == 1001
    assert rows[2][4] == "PAY-202610-006001 光伏收益"


def test_split_csv_when_a_profile_caps_rows(tmp_path: Path) -> None:
    layout = PROFILES["generic"].batch_payment.model_copy(update={"rows_per_file_max": 2})
    profile = PROFILES["generic"].model_copy(update={"batch_payment": layout})
    written = write_batch_files(instructions([1, 2, 3]), profile, tmp_path / "g.csv", "B-3")
    assert [(file.path.name, file.row_count, file.total_fen) for file in written] == [
        ("g-001.csv", 2, 3),
        ("g-002.csv", 1, 3),
    ]
    assert lines(written[1].path, "utf-8-sig")[1] == "1,6217001234567893,张三,0.03,PAY-202610-000003 光伏收益"


def test_formula_cells_are_neutralised_but_the_reference_is_kept(tmp_path: Path) -> None:
    frame = instructions(account_name=['=HYPERLINK("x")', "@李四"], memo=["", "PAY-202610-000002 已含编号"])
    [written] = write_batch_files(frame, PROFILES["generic"], tmp_path / "b.csv", "B-1")
    assert lines(written.path, "utf-8-sig")[1:3] == [
        '1,6217001234567893,"\'=HYPERLINK(""x"")",1200.50,PAY-202610-000001',
        "2,6228480012345678903,'@李四,100.00,PAY-202610-000002 已含编号",
    ]


def test_bad_instructions_are_all_reported_before_writing(tmp_path: Path) -> None:
    frame = instructions([120_050, 0, 5], account_name=["张三", "李四", "𠮷"])
    frame.loc[2, "payment_reference"] = "PAY-202610-000001"
    frame.loc[1, "account_no"] = "6.22848E+18"
    with pytest.raises(BankFileError) as raised:
        write_batch_files(frame, PROFILES["ccb"], tmp_path / "b.csv", "B-1")
    text = str(raised.value)
    assert "amount_fen must be positive and at most AMOUNT_FEN_MAX: PAY-202610-000002" in text
    assert "payment_reference appears more than once: PAY-202610-000001" in text
    assert "account_no must be 8-30 digits: PAY-202610-000002" in text
    assert "account_name has characters gbk cannot write: PAY-202610-000001" in text
    assert not (tmp_path / "b.csv").exists()


def test_a_file_total_over_the_money_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BankFileError, match="over AMOUNT_FEN_MAX"):
        write_batch_files(instructions([6 * 10**14, 6 * 10**14]), PROFILES["generic"], tmp_path / "b.csv", "B-1")


def test_float_amounts_are_refused(tmp_path: Path) -> None:
    frame = instructions()
    frame["amount_fen"] = frame["amount_fen"].astype(float)
    with pytest.raises(BankFileError, match="integer fen"):
        write_batch_files(frame, PROFILES["generic"], tmp_path / "b.csv", "B-1")


def _read_back_csv(path: Path) -> list[int]:
    """Read the generic file as a return file would be read: the reading layer and the amount parser."""
    spec = TableSpec("批量代发", (ColumnSpec("收款账号", "account_no"), ColumnSpec("金额", "amount")))
    raw = read_table(path, spec)
    amounts, problems = parse_amounts_fen(raw.frame["amount"], FieldSource(str(path), "金额", raw.source_rows))
    assert problems == []
    return amounts.tolist()


# Up to 40 amounts of up to 250 billion yuan: the total stays within AMOUNT_FEN_MAX (10^15 fen).
amount_lists = st.lists(st.integers(min_value=1, max_value=25 * 10**12), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None)
@given(amounts=amount_lists)
def test_amounts_survive_csv_and_xlsx(amounts: list[int], tmp_path_factory: pytest.TempPathFactory) -> None:
    directory = tmp_path_factory.mktemp("roundtrip")
    [csv_file] = write_batch_files(instructions(amounts), PROFILES["generic"], directory / "b.csv", "B")
    assert _read_back_csv(csv_file.path) == amounts
    [xlsx_file] = write_batch_files(
        instructions(amounts),
        PROFILES["rural_credit"].model_copy(
            update={
                "batch_payment": PROFILES["rural_credit"].batch_payment.model_copy(update={"rows_per_file_max": 100})
            }
        ),
        directory / "b.xlsx",
        "B",
    )
    rows = list(openpyxl.load_workbook(xlsx_file.path, read_only=True).active.iter_rows(values_only=True))
    assert [fen_from_value(row[3]) for row in rows[2:]] == amounts
    assert fen_from_value(rows[0][1]) == sum(amounts) == xlsx_file.total_fen


def test_xlsx_amounts_are_written_as_exact_decimals(tmp_path: Path) -> None:
    # Decimal keeps its exponent: 10 fen is written 0.10, never a binary float's 0.1000000000000000055….
    [written] = write_batch_files(
        instructions([10, 20, 99_999_999_999_999]), PROFILES["rural_credit"], tmp_path / "d.xlsx", "B"
    )
    import zipfile

    sheet_xml = zipfile.ZipFile(written.path).read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<v>0.10</v>" in sheet_xml and "<v>0.20</v>" in sheet_xml
    assert "<v>999999999999.99</v>" in sheet_xml
    # The control total: 10 + 20 + 99,999,999,999,999 fen = 1,000,000,000,000.29 yuan.
    assert "<v>1000000000000.29</v>" in sheet_xml


def test_the_same_batch_gives_the_same_xlsx_bytes_and_text_is_escaped(tmp_path: Path) -> None:
    profile = load_payment_profiles()["rural_credit"]
    batch = instructions([123_456, 5], account_name=["张三", "=李四&<x>"])
    first = write_batch_files(batch, profile, tmp_path / "a.xlsx", "BATCH-202611-0001")
    second = write_batch_files(batch, profile, tmp_path / "b.xlsx", "BATCH-202611-0001")
    assert [f.sha256 for f in first] == [f.sha256 for f in second]
    rows = list(openpyxl.load_workbook(first[0].path).active.iter_rows(values_only=True))
    # Row 1 holds the control total and count; the name starting with "=" is neutralised and
    # the XML-special characters survive the round trip.
    assert rows[0][:4] == ("总金额", 1234.61, "总笔数", 2)
    assert rows[3][2] == "'=李四&<x>" and rows[3][3] == 0.05


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("ab&<>\n\x01\x0b张'= ")), max_size=6), max_size=8))
def test_column_escaping_equals_escaping_each_cell(values: list[str]) -> None:
    """The whole-column pass gives each cell exactly what escaping it alone gives, newlines inside
    a value and characters XML forbids included."""
    from disburse.payouts.bank_files import _xml_text, _xml_texts

    assert _xml_texts(values) == [_xml_text(value) for value in values]


# What an export recorded must be what exporting again writes, release after release: the bytes
# of each built-in layout for the two payees above, pinned (for xlsx, the sheet's XML, since
# the zip's deflate output belongs to the zlib build).
GOLDEN_SHA256 = {
    "abc": "a7725fecd92d2b40466c2f99a3ec07bed8ae5e905628dfdaac6a104053dd3460",
    "ccb": "2919ffffabe3055400df5829486729d55c5a7981e67c786268b8d199536c4f33",
    "generic": "b7d2853eda9de03894b90d886f14ef798d11bab77ecca632d794abca6ddbd5e2",
    "icbc": "c79736152e67f938bbe1e23e5749bac59db62c88e5a05d53101e459fe6f39f40",
    "rural_credit": "d4675f0af42cdc924826d6b859ed3b396bcaa07cb40d683696cc6516fbcc2ccb",
}


def test_issue16_item1_bank_file_bytes_do_not_drift(tmp_path: Path) -> None:
    import io
    import zipfile

    from disburse.payouts.bank_files import render_batch_files

    found = {}
    for name, profile in sorted(PROFILES.items()):
        suffix = ".xlsx" if profile.batch_payment.file_type == "xlsx" else ".csv"
        [rendered] = render_batch_files(instructions(), profile, tmp_path / f"b{suffix}", "BATCH-202610-0001")
        data = rendered.data
        if suffix == ".xlsx":
            data = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
        found[name] = hashlib.sha256(data).hexdigest()
    assert found == GOLDEN_SHA256
