"""Issue 11 through the real command: the shipped example rules run unmodified on `generate county`
output (item 6), and `runs reverse` / `runs explain` as their own processes (items 5, and 19.7)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_runner import run, run_script
from runs_setup import EXAMPLES, county, import_county
from tiny_county import COOPERATIVE, H1, import_tiny_county, pv_rule, write_files


@pytest.fixture(scope="module")
def county_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return county(tmp_path_factory.mktemp("county"))


def test_issue11_item6_examples_run_unmodified_on_a_generated_county(database_url: str, county_directory: Path) -> None:
    import_county(database_url, county_directory)
    inputs = {
        "pv_revenue.yaml": county_directory / "public_welfare_jobs_2026-10.csv",
        "forest_ranger.yaml": county_directory / "forest_rangers_2026-10.csv",
        "medical_topup.yaml": county_directory / "hospital_bills_2026-10.csv",
    }
    for name in ("pv_revenue.yaml", "coop_dividend.yaml", "dibao.yaml", "education_aid.yaml", *inputs):
        arguments = ["allocate", str(EXAMPLES / name), "--period", "2026-10", "--dry-run"]
        if name in inputs:
            arguments += ["--inputs", str(inputs[name])]
        ran = run(database_url, *arguments)
        assert ran.exit_code == 0, (name, ran.output)
        assert "nothing stored" in ran.stdout
    pv = run(database_url, "allocate", str(EXAMPLES / "pv_revenue.yaml"), "--period", "2026-10", "--dry-run")
    # The October settlement has not arrived in the generated county, so no roster is needed and
    # the capacity is the register's; both are said.
    assert pv.exit_code == 0 and "taken from the register" in pv.stdout and "have no 到账日期" in pv.stdout
    dividend = run(database_url, "allocate", str(EXAMPLES / "coop_dividend.yaml"), "--period", "2026-10", "--dry-run")
    # The example names no collective: exited households' shares go back to their own village's.
    assert dividend.exit_code == 0 and "collective of each household's own village" in dividend.stdout
    # The generator writes no house-repair applications: the rule says what it needs.
    repair = run(database_url, "allocate", str(EXAMPLES / "house_repair.yaml"), "--period", "2026-10", "--dry-run")
    assert repair.exit_code == 1 and "give it with --inputs" in repair.stderr


def test_issue11_item5_runs_reverse_and_explain_in_their_own_processes(database_url: str, tmp_path: Path) -> None:
    directory = write_files(tmp_path / "county")
    import_tiny_county(database_url, directory)
    rule = pv_rule(tmp_path)
    calculated = run(database_url, "allocate", str(rule), "--period", "2026-03", user="alice")
    run_id = re.search(r"run (\d+) calculated", calculated.stdout).group(1)
    assert run(database_url, "runs", "approve", run_id, user="bob").exit_code == 0
    assert run(database_url, "runs", "post", run_id, user="bob").exit_code == 0

    reversed_run = run_script(database_url, "runs", "reverse", run_id, "--reason", "wrong rule", user="alice")
    assert reversed_run.exit_code == 0, reversed_run.output
    assert f"run {run_id} reversed" in reversed_run.stdout and "settlement rows 2, 3 are free" in reversed_run.stdout
    assert "4 unpaid payable(s) totalling 90.00 yuan withdrawn" in reversed_run.stdout
    again = run_script(database_url, "runs", "reverse", run_id, user="alice")
    assert again.exit_code == 0 and "already reversed" in again.stdout
    shown = run_script(database_url, "runs", "show", run_id)
    assert "reversed by alice" in shown.stdout and "(wrong rule)" in shown.stdout

    dividend = tmp_path / "dividend.yaml"
    dividend.write_text(
        (EXAMPLES / "coop_dividend.yaml")
        .read_text(encoding="utf-8")
        .replace("COOP-001", COOPERATIVE)
        .replace('pool_yuan: "120000"', 'pool_yuan: "1200"'),
        encoding="utf-8",
    )
    calculated = run(database_url, "allocate", str(dividend), "--period", "2026-12", user="alice")
    assert calculated.exit_code == 0, calculated.output
    dividend_id = re.search(r"run (\d+) calculated", calculated.stdout).group(1)
    explained = run_script(database_url, "runs", "explain", dividend_id, H1)
    assert explained.exit_code == 0, explained.output
    # 5,000.00 at 5% floor = 250.00; 700.00 above the floors, half each = 350.00; cap 10% = 500.00.
    for expected in ("floor: 250.00", "= 350 yuan exactly", "250.00 + 350.00 = 600.00", "100.00 held back by the cap"):
        assert expected in explained.stdout, expected
