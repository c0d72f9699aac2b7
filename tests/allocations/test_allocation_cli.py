"""`disburse allocate` and `disburse runs …` through the real command, on generated files."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from cli_runner import run
from runs_setup import EXAMPLES, county, dividend_rule, import_county, pv_rule


@pytest.fixture(scope="module")
def county_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return county(tmp_path_factory.mktemp("county"))


def test_allocate_approve_post_explain_diff(database_url: str, county_directory: Path, tmp_path: Path) -> None:
    import_county(database_url, county_directory)
    rule = pv_rule(tmp_path, county_directory)
    out = tmp_path / "pv.xlsx"
    dry = run(database_url, "allocate", str(rule), "--period", "2026-10", "--dry-run", user="alice")
    assert dry.exit_code == 0 and "nothing stored" in dry.stdout
    first = run(database_url, "allocate", str(rule), "--period", "2026-10", "--out", str(out), user="alice")
    assert first.exit_code == 0, first.output
    run_id = re.search(r"run (\d+) calculated", first.stdout).group(1)
    assert "already exists" in run(database_url, "allocate", str(rule), "--period", "2026-10", user="alice").stdout
    assert openpyxl.load_workbook(out).sheetnames == ["明细", "村汇总", "未纳入"]

    refused = run(database_url, "runs", "approve", run_id, user="alice")
    assert refused.exit_code == 1 and "a different person must approve" in refused.stderr
    assert run(database_url, "runs", "post", run_id, user="bob").exit_code == 1  # not approved yet
    assert run(database_url, "runs", "approve", run_id, user="bob").exit_code == 0
    posted = run(database_url, "runs", "post", run_id, user="bob")
    assert posted.exit_code == 0 and f"run {run_id} posted" in posted.stdout
    assert "nothing changed" in run(database_url, "runs", "post", run_id, user="bob").stdout
    listing = run(database_url, "runs", "list").stdout
    assert "posted" in listing and "alice" in listing and "bob" in listing
    shown = run(database_url, "runs", "show", run_id)
    assert shown.exit_code == 0 and "household income share" in shown.stdout

    sheet = openpyxl.load_workbook(out)["明细"]
    household = next(
        row[0] for row in sheet.iter_rows(min_row=3, values_only=True) if "农户收益分配" in (row[8] or "")
    )
    explained = run(database_url, "runs", "explain", run_id, household)
    assert explained.exit_code == 0 and household in explained.stdout and "claimed kW" in explained.stdout

    low = dividend_rule(tmp_path, county_directory, "120000")
    high = dividend_rule(tmp_path, county_directory, "150000")
    a = re.search(
        r"run (\d+) calculated", run(database_url, "allocate", str(low), "--period", "2026-12", user="alice").stdout
    ).group(1)
    cancelled = run(database_url, "runs", "cancel", a, user="alice")
    assert cancelled.exit_code == 0 and "cancelled" in cancelled.stdout
    a = re.search(
        r"run (\d+) calculated", run(database_url, "allocate", str(low), "--period", "2026-12", user="alice").stdout
    ).group(1)
    run(database_url, "runs", "approve", a, user="bob")
    run(database_url, "runs", "post", a, user="bob")
    b = re.search(
        r"run (\d+) calculated", run(database_url, "allocate", str(high), "--period", "2026-12", user="alice").stdout
    ).group(1)
    difference = run(database_url, "runs", "diff", a, b)
    # The pool grew by 30,000.00 yuan; the difference per household adds up to exactly that.
    assert difference.exit_code == 0 and "net difference 30,000.00 yuan" in difference.stdout
    run(database_url, "runs", "approve", b, user="carol")
    adjusted = run(database_url, "runs", "post", b, user="carol")
    assert adjusted.exit_code == 0 and f"the difference from run {a}" in adjusted.stdout


def test_a_rule_with_an_unknown_key_is_refused(database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((EXAMPLES / "education_aid.yaml").read_text(encoding="utf-8") + "colour: red\n", encoding="utf-8")
    result = run(database_url, "allocate", str(bad), "--period", "2026-10", user="alice")
    assert result.exit_code == 1 and "colour" in result.stderr and "refused" in result.stderr
