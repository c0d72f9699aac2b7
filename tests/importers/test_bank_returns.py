"""Return files in the banks' own layouts: the same frame as the canonical one."""

from __future__ import annotations

from pathlib import Path

from importer_helpers import write_csv, write_xls, write_xlsx

from disburse.importers.returns import RETURN_COLUMNS, parse_bank_return


def test_ccb_return_detected_gbk(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "ccb.csv",
        [
            ["序号", "账户", "户名", "金额", "处理状态", "失败原因", "摘要", "备注"],
            [
                "1",
                "6217001234567893",
                "张三",
                "1,200.00",
                "成功",
                "",
                "PAY-202610-000001 光伏收益",
                "PAY-202610-000001",
            ],
            ["2", "6228480012345678903", "李四", "30.5", "处理失败", "账户已销户", "PAY-202610-000002", ""],
            ["3", "6228480012345678911", "王五", "8.00", "交易成功", "", "PAY-202610-000003", ""],
        ],
        encoding="gbk",
    )
    parsed = parse_bank_return(path)
    assert parsed.problems == ()
    frame = parsed.frame
    assert tuple(frame.columns) == RETURN_COLUMNS
    assert frame["account_no"].tolist() == ["6217001234567893", "6228480012345678903", "6228480012345678911"]
    assert frame["amount_fen"].tolist() == [120_000, 3_050, 800]
    assert frame["status"].tolist() == ["success", "failure", "success"]
    assert frame["reason"].tolist() == [None, "账户已销户", None]
    assert frame["memo"].tolist() == ["PAY-202610-000001 光伏收益", "PAY-202610-000002", "PAY-202610-000003"]


def test_icbc_return_without_memo_xls(tmp_path: Path) -> None:
    path = write_xls(
        tmp_path / "icbc.xls",
        [
            ["账号", "户名", "金额", "交易结果", "失败原因"],
            ["6212260200012345678", "赵六", 99.99, "交易成功", None],
            ["6212260200087654321", "钱七", 100, "交易失败", "户名不符"],
        ],
    )
    parsed = parse_bank_return(path, "icbc")
    assert parsed.problems == ()
    assert parsed.frame["amount_fen"].tolist() == [9_999, 10_000]
    assert parsed.frame["status"].tolist() == ["success", "failure"]
    assert parsed.frame["memo"].tolist() == [None, None]


def test_rural_credit_return_xlsx_unknown_status_word(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "rcc.xlsx",
        [
            ["序号", "账号", "户名", "金额", "状态", "失败原因", "摘要"],
            [1, "6230001234567890", "孙八", "12.00", "成功", None, "PAY-1"],
            [2, "6230001234567891", "周九", "13.00", "处理中", None, "PAY-2"],
        ],
    )
    parsed = parse_bank_return(path)
    assert [(problem.row, problem.column, problem.severity) for problem in parsed.problems] == [(3, "状态", "error")]
    assert "not one of: 成功, 失败" in parsed.problems[0].reason


def test_generic_is_the_canonical_layout_and_unknown_layout_falls_back(tmp_path: Path) -> None:
    canonical = write_csv(
        tmp_path / "r.csv",
        [
            ["账号", "户名", "金额", "处理结果", "失败原因", "摘要"],
            ["6228480012345678903", "张三", "10.00", "失败", "账户冻结", "PAY-9"],
        ],
    )
    assert parse_bank_return(canonical, "generic").frame.equals(parse_bank_return(canonical).frame)
    unknown = write_csv(tmp_path / "u.csv", [["卡号", "姓名", "钱"], ["1", "2", "3"]])
    parsed = parse_bank_return(unknown)
    assert parsed.refused
    assert "代发回盘" in parsed.problems[0].reason and "missing 账号 (account_no)" in parsed.problems[0].reason
    assert (
        parse_bank_return(canonical, "abc_debit")
        .problems[0]
        .reason.startswith("no bank profile 'abc_debit' with a return")
    )
