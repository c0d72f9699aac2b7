"""Problems as data: the summary text and the problem report files."""

from __future__ import annotations

import csv

import openpyxl

from disburse.foundation.errors import ImportProblem, ImportRefused, has_errors, problems_summary
from disburse.foundation.workbook import write_problems

PROBLEMS = [
    ImportProblem("r.csv", 3, "证件号码", "123", "resident ID has 3 characters, not 18", "error"),
    ImportProblem("r.csv", 5, "银行账号", "=1+1", "Luhn check digit does not match", "warning"),
    ImportProblem("r.csv", 7, "证件号码", "456", "resident ID has 3 characters, not 18", "error"),
]


def test_summary_counts_then_lists_problems() -> None:
    text = problems_summary(PROBLEMS, limit=2)
    lines = text.splitlines()
    assert lines[0] == "2 error(s), 1 warning(s)"
    assert "  2 x error: resident ID has 3 characters, not 18" in lines
    assert "r.csv:3 [证件号码] '123': resident ID has 3 characters, not 18" in lines
    assert lines[-1] == "... and 1 more"


def test_refused_carries_problems_and_has_errors() -> None:
    refused = ImportRefused(PROBLEMS)
    assert refused.problems == tuple(PROBLEMS)
    assert has_errors(PROBLEMS)
    assert not has_errors(PROBLEMS[1:2])


def test_csv_report_has_chinese_headers_bom_and_neutralised_formulas(tmp_path) -> None:
    path = tmp_path / "problems.csv"
    write_problems(PROBLEMS, path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["文件", "行", "列", "值", "原因", "级别"]
    assert rows[2] == ["r.csv", "5", "银行账号", "'=1+1", "Luhn check digit does not match", "warning"]


def test_xlsx_report_neutralises_formulas(tmp_path) -> None:
    path = tmp_path / "problems.xlsx"
    write_problems([ImportProblem("f.csv", None, None, "@SUM(A1)", "-bad", "error")], path)
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("文件", "行", "列", "值", "原因", "级别")
    assert rows[1][3] == "'@SUM(A1)"
    assert rows[1][4] == "'-bad"
    assert rows[1][1] in (None, "")
