"""Bank statement import: the four real-layout samples, the canonical layout and corporate
layouts in every file kind, each checked against values worked out by hand from the files."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from importer_helpers import write_csv, write_xls, write_xlsx

from disburse.importers.bank_profiles import BUILT_IN_DIRECTORY, load_profiles
from disburse.importers.bank_statement import STATEMENT_COLUMNS, parse_bank_statement

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "bank_samples"
if not SAMPLES.is_dir():  # the repository may be checked out elsewhere
    SAMPLES = Path("/work/shared/data/bank_samples")

CANONICAL_HEADER = [
    "交易日期",
    "交易时间",
    "流水号",
    "摘要",
    "对方账号",
    "对方户名",
    "支出金额",
    "收入金额",
    "余额",
    "附言",
]


def day(text: str) -> np.datetime64:
    return np.datetime64(text, "s")


def errors(parsed) -> list:
    return [problem for problem in parsed.problems if problem.severity == "error"]


def warnings(parsed) -> list:
    return [problem for problem in parsed.problems if problem.severity == "warning"]


# ----------------------------------------------------------------------------------------------
# The four samples in /work/shared/data/bank_samples.


def test_abc_sample() -> None:
    parsed = parse_bank_statement(SAMPLES / "abc_debit.csv")
    assert parsed.profile == "abc_debit"
    assert tuple(parsed.frame.columns) == STATEMENT_COLUMNS
    assert errors(parsed) == []
    frame = parsed.frame
    first = frame.iloc[0]
    # 20240101,123456,转存,+10000.00,11000.00,哈哈,369396693,超级网银,转账
    assert first["booked_on"] == day("2024-01-01")
    assert first["booked_time"] == "12:34:56"
    assert first["amount_fen"] == 1_000_000
    assert first["balance_fen"] == 1_100_000
    assert first["txn_id"] == "369396693"
    assert first["summary"] == "转存"
    assert first["counterparty_name"] == "哈哈"
    assert first["memo"] == "转账"
    # 20240103,,正常还款,-12345.89,1943.12,...: a short row without time, channel or memo.
    assert frame.iloc[2]["amount_fen"] == -1_234_589
    assert frame.iloc[2]["booked_time"] is None
    assert frame.iloc[2]["memo"] is None
    # 结息 +0.01 and 利息税 +0.00 carry 0000000000 and -- : no transaction id, no counterparty.
    interest = frame[frame["summary"] == "结息"].iloc[0]
    assert interest["txn_id"] is None
    assert interest["counterparty_name"] is None
    assert interest["amount_fen"] == 1
    assert frame[frame["summary"] == "利息税"].iloc[0]["amount_fen"] == 0
    # The anonymised balances do not chain: 11,000.00 - 10.00 is not 11,000.00 (row 3), and so on.
    assert [problem.row for problem in warnings(parsed)] == [3, 4, 5]
    assert warnings(parsed)[0].reason == (
        "line 3: balance 11,000.00 does not follow 11,000.00 - 10.00 = 10,990.00; lines are missing?"
    )


def test_boc_sample_newest_first_chains_in_date_order() -> None:
    parsed = parse_bank_statement(SAMPLES / "boc_debit.csv")
    assert parsed.profile == "boc_debit"
    assert parsed.newest_first
    # Once reversed, every balance follows from the one before: no problem at all.
    assert parsed.problems == ()
    frame = parsed.frame
    assert len(frame) == 17
    first, last = frame.iloc[0], frame.iloc[-1]
    assert (first["booked_on"], first["booked_time"], first["amount_fen"], first["balance_fen"]) == (
        day("2025-08-01"),
        "08:57:00",
        100_000,
        381_358,
    )
    assert first["counterparty_name"] == "张三"
    assert first["counterparty_account"] == "6222******0258"
    assert first["memo"] == "转账"
    assert first["source_row"] == 19 and first["line_number"] == 17
    assert (last["booked_time"], last["amount_fen"], last["balance_fen"]) == ("17:57:17", -7_189, 324_028)
    # Dashes mean none: 附言 ---------- and 网点名称 ------------------- .
    assert last["memo"] is None
    # Opening balance 3,813.58 - 1,000.00 = 2,813.58; closing 3,240.28; the lines sum to 426.70.
    assert int(frame["amount_fen"].sum()) == 42_670
    # Quoted thousands: "-2,600.00" on 2025-08-12.
    assert frame[frame["booked_on"] == day("2025-08-12")]["amount_fen"].tolist() == [-260_000]
    # Lines of one day stay in the bank's time order after the reversal.
    assert frame[frame["booked_on"] == day("2025-08-22")]["booked_time"].tolist() == [
        "12:22:50",
        "12:23:04",
        "12:24:20",
        "17:57:17",
    ]


def test_cmb_sample_put_in_date_order() -> None:
    parsed = parse_bank_statement(SAMPLES / "cmb_debit.csv")
    assert parsed.profile == "cmb_debit"
    assert not parsed.newest_first
    frame = parsed.frame
    assert frame["booked_on"].tolist() == [
        pd.Timestamp(text) for text in ("2024-01-01", "2024-01-01", "2024-01-20", "2024-01-23", "2024-01-27")
    ]
    assert frame["amount_fen"].tolist() == [123_400, -100_000, -100_000, -1_014, -300]
    assert frame["source_row"].tolist() == [2, 3, 5, 6, 4]
    assert frame.iloc[0]["summary"] == "代发住房公积金"
    assert frame.iloc[0]["memo"] == "01月01日约定提取"
    assert frame.iloc[0]["balance_fen"] == 127_166
    # 271.66 - 1,000.00 = -728.34, not 123.45 (row 5); 123.45 - 10.14 = 113.31, not 1,218.24
    # (row 6); 1,218.24 - 3.00 = 1,215.24, not 81.22 (row 4): warnings, the profile says so.
    assert errors(parsed) == []
    assert sorted(problem.row for problem in warnings(parsed)) == [4, 5, 6]


def test_cmb_sample_as_gbk_with_crlf(tmp_path: Path) -> None:
    text = (SAMPLES / "cmb_debit.csv").read_text(encoding="utf-8")
    path = tmp_path / "cmb.csv"
    path.write_bytes(text.replace("\r\n", "\n").replace("\n", "\r\n").encode("gbk"))
    parsed = parse_bank_statement(path)
    assert parsed.profile == "cmb_debit"
    assert parsed.encoding == "gb18030"
    assert parsed.frame["amount_fen"].tolist() == [123_400, -100_000, -100_000, -1_014, -300]
    assert parsed.frame.iloc[2]["memo"] == "银联 ATM 取款，中国银行"
    assert errors(parsed) == []


def test_icbc_sample_preamble_padding_masked_balance_footer() -> None:
    parsed = parse_bank_statement(SAMPLES / "icbc_debit_v2.csv")
    assert parsed.profile == "icbc_debit"
    assert parsed.newest_first
    assert errors(parsed) == []
    # One warning for the eleven masked balances (xx,yyyy.zz); the 人民币合计 row is no line.
    assert len(warnings(parsed)) == 1 and "11 balances are masked" in warnings(parsed)[0].reason
    frame = parsed.frame
    assert len(frame) == 11
    assert frame["balance_fen"].isna().all()
    first, last = frame.iloc[0], frame.iloc[-1]
    assert (first["booked_on"], first["summary"], first["amount_fen"], first["source_row"]) == (
        day("2023-02-08"),
        "退款",
        104,
        18,
    )
    assert (last["booked_on"], last["summary"], last["amount_fen"], last["source_row"]) == (
        day("2023-05-02"),
        "消费",
        -1_340,
        8,
    )
    assert frame[frame["summary"] == "工资"].iloc[0]["counterparty_name"] == "ABC公司"
    # In: 1,234.56 + 1,234.56 + 341.58 + 30.00 + 1.04 = 2,841.74;
    # out: 13.40 + 1,234.56 × 3 + 500.00 + 24.00 = 4,241.08; net -1,399.34.
    assert int(frame["amount_fen"].sum()) == -139_934
    assert int(frame.loc[frame["amount_fen"] > 0, "amount_fen"].sum()) == 284_174


# ----------------------------------------------------------------------------------------------
# The canonical layout.


def canonical_rows() -> list[list[object]]:
    """Opening balance 1,000.00: +500.00 → 1,500.00; -200.00 → 1,300.00; fee -1.50 → 1,298.50."""
    return [
        [
            "2026-10-01",
            "09:00:00",
            "T0001",
            "电费结算",
            "1234567890123",
            "国网商洛供电公司",
            "",
            "500.00",
            "1,500.00",
            "",
        ],
        [
            "2026-10-02",
            "10:30:00",
            "T0002",
            "代发",
            "6228480012345678903",
            "张三",
            "200.00",
            "",
            "1,300.00",
            "PAY-202610-000001",
        ],
        ["2026-10-02", "", "000000", "手续费", "", "", "1.50", "", "1,298.50", ""],
    ]


def test_canonical_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "s.csv", [CANONICAL_HEADER, *canonical_rows()])
    parsed = parse_bank_statement(path)
    assert parsed.profile == "canonical"
    assert parsed.problems == ()
    frame = parsed.frame
    assert frame["amount_fen"].tolist() == [50_000, -20_000, -150]
    assert frame["balance_fen"].tolist() == [150_000, 130_000, 129_850]
    assert frame["txn_id"].tolist() == ["T0001", "T0002", None]
    assert frame["memo"].tolist() == [None, "PAY-202610-000001", None]
    assert frame["counterparty_account"].tolist() == ["1234567890123", "6228480012345678903", None]
    assert frame["booked_time"].tolist() == ["09:00:00", "10:30:00", None]
    assert str(frame["booked_on"].dtype) == "datetime64[s]"
    assert str(frame["balance_fen"].dtype) == "Int64"
    assert frame["amount_fen"].dtype == np.int64


def test_canonical_english_aliases_and_one_amount_column(tmp_path: Path) -> None:
    # FORMATS.md: 支出金额 and 收入金额 are "one of these two"; English aliases replace headers.
    path = write_csv(
        tmp_path / "s.csv",
        [
            ["DATE", "txn_id", "Debit", "balance"],
            ["2026-10-01", "A1", "10.00", "90.00"],
            ["2026-10-01", "A2", "5.00", "85.00"],
        ],
    )
    parsed = parse_bank_statement(path)
    assert parsed.profile == "canonical"
    assert parsed.problems == ()
    assert parsed.frame["amount_fen"].tolist() == [-1_000, -500]


def test_canonical_padded_cells_and_total_footer(tmp_path: Path) -> None:
    rows = [[f" {cell}\t " if cell else cell for cell in row] for row in canonical_rows()]
    path = write_csv(
        tmp_path / "s.csv",
        [
            ["账户明细"],
            [" 账号: 1234567890"],
            CANONICAL_HEADER,
            *rows,
            ["合计", "", "", "", "", "", "201.50", "500.00", "", ""],
            ["本页小计", "", "", "", "", "", "201.50", "500.00", "", ""],
        ],
    )
    parsed = parse_bank_statement(path)
    assert parsed.problems == ()
    assert parsed.frame["amount_fen"].tolist() == [50_000, -20_000, -150]
    assert parsed.frame["counterparty_name"].tolist() == ["国网商洛供电公司", "张三", None]
    assert parsed.frame["source_row"].tolist() == [4, 5, 6]


def test_newest_first_file_is_put_in_date_order(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "s.csv", [CANONICAL_HEADER, *reversed(canonical_rows())])
    parsed = parse_bank_statement(path)
    assert parsed.newest_first
    assert parsed.problems == ()
    # Reversed, then sorted stably: the two lines of 2026-10-02 keep the bank's (oldest first) order.
    assert parsed.frame["txn_id"].tolist() == ["T0001", "T0002", None]
    assert parsed.frame["line_number"].tolist() == [3, 2, 1]
    assert parsed.frame["source_row"].tolist() == [4, 3, 2]


def test_balance_break_refuses_in_canonical_layout(tmp_path: Path) -> None:
    rows = canonical_rows()
    rows.insert(2, ["2026-10-02", "11:00:00", "T0003", "代发", "", "", "150.00", "", "1,150.00", ""])
    rows[3][8] = "1,200.00"  # the fee line now claims 1,200.00 after 1,150.00 - 1.50
    path = write_csv(tmp_path / "s.csv", [CANONICAL_HEADER, *rows])
    parsed = parse_bank_statement(path)
    assert parsed.refused
    assert [(problem.row, problem.column, problem.severity) for problem in parsed.problems] == [(5, "余额", "error")]
    assert parsed.problems[0].reason == (
        "line 5: balance 1,200.00 does not follow 1,150.00 - 1.50 = 1,148.50; lines are missing?"
    )


def test_balance_break_only_warns_in_a_warn_profile(tmp_path: Path) -> None:
    # A user profile directory: the canonical layout, but a break only warns.
    directory = tmp_path / "profiles"
    directory.mkdir()
    text = (BUILT_IN_DIRECTORY / "canonical.yaml").read_text(encoding="utf-8")
    (directory / "lenient.yaml").write_text(
        text.replace("balance_check: refuse", "balance_check: warn"), encoding="utf-8"
    )
    rows = canonical_rows()
    rows[2][8] = "1,000.00"
    path = write_csv(tmp_path / "s.csv", [CANONICAL_HEADER, *rows])
    profiles = load_profiles(directory)
    parsed = parse_bank_statement(path, "lenient", profiles)
    assert not parsed.refused
    assert [(problem.row, problem.severity) for problem in parsed.problems] == [(4, "warning")]
    assert "1,000.00 does not follow 1,300.00 - 1.50 = 1,298.50" in parsed.problems[0].reason
    assert parse_bank_statement(path, "canonical", profiles).refused


def test_unknown_layout_is_refused_listing_headers(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "s.csv", [["日期", "金额数", "备注说明"], ["2026-10-01", "1.00", "x"]])
    parsed = parse_bank_statement(path)
    assert parsed.refused
    assert parsed.profile is None
    assert len(parsed.frame) == 0
    assert "unknown bank statement layout" in parsed.problems[0].reason
    assert "日期, 金额数, 备注说明" in parsed.problems[0].reason


def test_named_profile_that_does_not_fit(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "s.csv", [CANONICAL_HEADER, *canonical_rows()])
    parsed = parse_bank_statement(path, "abc")
    assert parsed.refused
    assert "missing" in parsed.problems[0].reason
    assert parse_bank_statement(path, "nosuchbank").problems[0].reason.startswith("no bank profile 'nosuchbank'")


# ----------------------------------------------------------------------------------------------
# Corporate layouts: .xls, .xlsx, the flag style.


def test_ccb_corporate_xls_with_preamble(tmp_path: Path) -> None:
    header = [
        "交易时间",
        "借方发生额（支取）",
        "贷方发生额（收入）",
        "余额",
        "币种",
        "对方户名",
        "对方账号",
        "对方开户机构",
        "记账日期",
        "摘要",
        "交易流水号",
        "备注",
    ]
    path = write_xls(
        tmp_path / "ccb.xls",
        [
            ["中国建设银行单位客户账户明细"],
            ["账号:", "61050162000000001234", "户名:", "商州区乡村振兴局"],
            header,
            [
                "2026-10-08 09:15:02",
                None,
                250000.0,
                1250000.0,
                "人民币",
                "国网陕西省电力公司商洛供电公司",
                "61001620000052501234",
                "商洛分行",
                "20261008",
                "电费结算",
                "3610100000001",
                None,
            ],
            [
                "2026-10-09 14:00:00",
                1234.5,
                None,
                1248765.5,
                "人民币",
                "张三",
                "6217001234567893",
                "建行商州支行",
                "20261009",
                "代发",
                "3610100000002",
                "PAY-202610-000001 光伏收益",
            ],
            [
                "2026-10-09 14:00:00",
                0.35,
                None,
                1248765.15,
                "人民币",
                None,
                None,
                None,
                "20261009",
                "手续费",
                "3610100000003",
                None,
            ],
            ["合计", 1234.85, 250000.0, None, None, None, None, None, None, None, None, None],
        ],
    )
    parsed = parse_bank_statement(path)
    assert parsed.profile == "ccb"
    assert parsed.encoding == "xls:Sheet1"
    assert parsed.problems == ()
    frame = parsed.frame
    assert frame["amount_fen"].tolist() == [25_000_000, -123_450, -35]
    assert frame["balance_fen"].tolist() == [125_000_000, 124_876_550, 124_876_515]
    assert frame["booked_time"].tolist() == ["09:15:02", "14:00:00", "14:00:00"]
    assert frame["booked_on"].tolist() == [
        pd.Timestamp("2026-10-08"),
        pd.Timestamp("2026-10-09"),
        pd.Timestamp("2026-10-09"),
    ]
    assert frame["memo"].tolist() == [None, "PAY-202610-000001 光伏收益", None]
    assert frame["source_row"].tolist() == [4, 5, 6]


def test_rural_credit_xlsx_with_excel_dates(tmp_path: Path) -> None:
    header = [
        "交易日期",
        "交易时间",
        "交易流水号",
        "借方金额",
        "贷方金额",
        "余额",
        "对方账号",
        "对方户名",
        "摘要",
        "备注",
        "交易机构",
    ]
    path = write_xlsx(
        tmp_path / "rcc.xlsx",
        [
            ["商州农商银行对公账户交易明细"],
            header,
            [
                dt.datetime(2026, 10, 1),
                "08:30:00",
                "NX0001",
                None,
                300000,
                300000,
                "2701000000001",
                "县财政局",
                "拨款",
                None,
                "营业部",
            ],
            [
                dt.datetime(2026, 10, 3),
                dt.time(16, 5, 9),
                "NX0002",
                1200.1,
                None,
                298799.9,
                "6230001234567890",
                "李四",
                "代发",
                "PAY-202610-000002",
                "营业部",
            ],
        ],
    )
    parsed = parse_bank_statement(path)
    assert parsed.profile == "rural_credit"
    assert parsed.problems == ()
    assert parsed.frame["amount_fen"].tolist() == [30_000_000, -120_010]
    assert parsed.frame["balance_fen"].tolist() == [30_000_000, 29_879_990]
    assert parsed.frame["booked_time"].tolist() == ["08:30:00", "16:05:09"]


def test_flag_style_debit_means_money_out(tmp_path: Path) -> None:
    header = [
        "交易日期",
        "交易时间",
        "借贷标志",
        "交易金额",
        "账户余额",
        "对方账号",
        "对方户名",
        "摘要",
        "交易用途",
        "交易流水号",
        "对方开户行",
        "币种",
    ]
    path = write_csv(
        tmp_path / "abc.csv",
        [
            header,
            ["2026/10/05", "101500", "贷", "5,000.00", "15,000.00", "", "县财政局", "拨款", "", "AB01", "", "人民币"],
            [
                "2026/10/06",
                "090000",
                "借",
                "2,000.00",
                "13,000.00",
                "",
                "王五",
                "代发",
                "PAY-202610-000003",
                "AB02",
                "",
                "人民币",
            ],
            ["2026/10/06", "090001", "出", "1.00", "12,999.00", "", "", "手续费", "", "AB03", "", "人民币"],
        ],
        encoding="gbk",
    )
    parsed = parse_bank_statement(path)
    assert parsed.profile == "abc"
    assert parsed.frame["amount_fen"].tolist()[:2] == [500_000, -200_000]
    assert parsed.frame["booked_time"].tolist()[:2] == ["10:15:00", "09:00:00"]
    # ABC writes only 借 and 贷: 出 is not a direction in this profile.
    assert [(problem.row, problem.column) for problem in errors(parsed)] == [(4, "借贷标志")]
    assert "not one of: 借, 贷" in errors(parsed)[0].reason


def test_split_line_with_both_amounts_or_none_is_an_error(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "s.csv",
        [
            CANONICAL_HEADER,
            ["2026-10-01", "", "A1", "", "", "", "1.00", "2.00", "101.00", ""],
            ["2026-10-01", "", "A2", "", "", "", "", "", "101.00", ""],
            ["2026-10-01", "", "A3", "", "", "", "-3.00", "", "104.00", ""],
        ],
    )
    parsed = parse_bank_statement(path)
    reasons = {problem.row: problem.reason for problem in errors(parsed)}
    assert set(reasons) == {2, 3, 4}
    assert "both 支出金额 and 收入金额" in reasons[2]
    assert "no amount" in reasons[3]
    assert "negative" in reasons[4]


@pytest.mark.parametrize("name", ["abc_debit.csv", "boc_debit.csv", "cmb_debit.csv", "icbc_debit_v2.csv"])
def test_every_sample_imports_by_its_named_profile_too(name: str, tmp_path: Path) -> None:
    # A copy under another name and suffix: detection and the named profile agree.
    copy = shutil.copy(SAMPLES / name, tmp_path / "statement.txt")
    detected = parse_bank_statement(copy)
    named = parse_bank_statement(copy, detected.profile)
    assert not detected.refused
    pd.testing.assert_frame_equal(detected.frame, named.frame)
