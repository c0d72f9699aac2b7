"""The quick start's first command: the whole monthly cycle, through the real console script."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import openpyxl

CONSOLE_SCRIPT = Path(sys.executable).parent / "disburse"


def test_demo_runs_the_whole_cycle(tmp_path: Path) -> None:
    # How long it takes is measured in benchmarks/, not asserted here.
    completed = subprocess.run(
        [str(CONSOLE_SCRIPT), "demo", "--dir", str(tmp_path / "demo")], capture_output=True, text=True, timeout=180
    )
    assert completed.returncode == 0, completed.stderr
    output = completed.stdout
    for expected in (
        "adjusted balances agree",
        "every chain and balance intact",
        "balanced: True",
        "ties to the ledger",
        "village roster(s) from",
        "runs until",
    ):
        assert expected in output, expected
    reports = tmp_path / "demo" / "reports"
    # The trial balance it wrote balances: debit and credit totals of the 合计 row agree.
    sheet = openpyxl.load_workbook(reports / "科目余额表-COUNTY-2026-10.xlsx").active
    total = next(row for row in sheet.iter_rows(values_only=True) if row[0] == "合计")
    assert total[2] == total[3] and total[4] == total[5] and total[6] == total[7]
    assert sorted((tmp_path / "demo" / "bank").glob("BATCH-*")), "the demo wrote no bank file"
    assert any(path.name.startswith("明白卡-") for path in reports.iterdir())
    # 公示: the PV run's rosters were written, and the batch tried on the notice's last day refused.
    assert sorted((tmp_path / "demo" / "notices").glob("公示-1-*.xlsx")), "the demo wrote no notice roster"
    # The summary table wraps its cells at the terminal's width: read it without the box and breaks.
    said = re.sub(r"[\s│]+", " ", output)
    assert "a batch tried on" in said and "was refused (run 1" in said, said
    # Its subsidies drew on the bundled budget indicators, and their table ties to the ledger.
    assert (reports / "资金指标执行表.xlsx").exists()
    funds_line = next(line for line in output.splitlines() if "资金指标执行表" in line)
    assert "ties to the ledger" in funds_line or "与账簿一致" in funds_line, funds_line
