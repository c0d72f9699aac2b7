"""The registry commands end to end: the real app run through CliRunner, on real generated files;
output text and exit codes."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import typer
from registry_helpers import county, county_events, row_counts  # noqa: F401 (fixtures)
from sqlalchemy import text
from typer.testing import CliRunner

from disburse.cli import app as cli


@pytest.fixture
def invoke(database_url):  # type: ignore[no-untyped-def]
    app = cli.app
    runner = CliRunner()

    def call(*arguments: str) -> "typer.testing.Result":
        return runner.invoke(app, ["--db", database_url, *arguments], env={"DISBURSE_USER": "clerk"})

    return call


def test_import_registry_show_and_changes(invoke, county, county_events, engine, tmp_path) -> None:
    for path, on in zip(county.register_paths, county.snapshot_dates):
        result = invoke("import", "registry", str(path), "--as-of", on.isoformat())
        assert result.exit_code == 0, result.output
        assert f"as the register snapshot as of {on.isoformat()}" in result.output
    again = invoke("import", "registry", str(county.register_paths[0]), "--as-of", county.snapshot_dates[0].isoformat())
    assert again.exit_code == 0 and "imported before" in again.output and "nothing changed" in again.output

    # Another export (CRLF line endings, so other bytes) of an older date.
    older_file = tmp_path / "register_2026-09-15.csv"
    older_file.write_bytes(county.register_paths[1].read_bytes().replace(b"\n", b"\r\n"))
    older = invoke("import", "registry", str(older_file), "--as-of", "2026-09-15")
    assert older.exit_code == 1 and "older than the newest" in older.output and "--backfill" in older.output

    card = next(event for event in county_events["events"] if event["kind"] == "card_change")
    shown = invoke("registry", "show", card["household_id"], "--as-of", card["snapshot"])
    assert shown.exit_code == 0, shown.output

    # Card numbers are shown masked: first six, a star for each hidden digit, last four.
    def masked(number: str) -> str:
        return number[:6] + "*" * (len(number) - 10) + number[-4:]

    assert masked(card["new_account_no"]) in shown.output and masked(card["old_account_no"]) in shown.output
    assert card["new_account_no"] not in shown.output
    assert "card_change" in shown.output

    changes = invoke("registry", "changes", "--since", county.snapshot_dates[0].isoformat())
    assert changes.exit_code == 0
    for kind in ("exit", "relapse", "split", "move", "card_change", "new_household", "death"):
        assert kind in changes.output
    unknown = invoke("registry", "show", "0000000000000000")
    assert unknown.exit_code == 1 and "not in any imported register snapshot" in unknown.output


def test_a_refused_register_writes_the_errors_report(invoke, county, tmp_path, engine) -> None:
    lines = county.register_paths[0].read_text(encoding="utf-8").splitlines()
    cells = lines[3].split(",")
    cells[7] = "6.11002E+17"  # what a spreadsheet makes of a resident ID
    lines[3] = ",".join(cells)
    broken = tmp_path / "register.csv"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = tmp_path / "out.xlsx"
    counts = row_counts(engine)
    result = invoke("import", "registry", str(broken), "--as-of", "2026-08-31", "--errors", str(report))
    assert result.exit_code == 1
    assert "refused, nothing was written" in result.output and str(report) in result.output
    problems = pd.read_excel(report, dtype=str)
    assert list(problems.columns) == ["文件", "行", "列", "值", "原因", "级别"]
    errors = problems[problems["级别"] == "error"]
    assert list(errors["行"]) == ["4"] and list(errors["值"]) == ["6.11002E+17"]
    assert row_counts(engine) == counts


def test_dry_run_and_assets_shares_settlements(invoke, county, engine) -> None:
    dry = invoke("import", "registry", str(county.register_paths[0]), "--as-of", "2026-08-31", "--dry-run")
    assert dry.exit_code == 0 and "dry run" in dry.output and "nothing was written" in dry.output
    assert row_counts(engine)["register_imports"] == 0
    assert invoke("import", "registry", str(county.register_paths[-1]), "--as-of", "2026-10-31").exit_code == 0

    loaded = invoke("assets", "load", str(county.assets_path))
    assert loaded.exit_code == 0, loaded.output
    assert f"{county.stations + county.cooperatives} asset(s) declared" in loaded.output
    assert "nothing changed" in invoke("assets", "load", str(county.assets_path)).output
    listed = invoke("assets", "list")
    assert "COOP-001" in listed.output

    shares = invoke("import", "shares", str(county.shares_path), "--as-of", "2026-10-31")
    assert shares.exit_code == 0, shares.output
    assert f"{county.share_rows:,} holdings" in shares.output

    # The station owner's bank account: settlement rows with a 到账日期 book their receipt there.
    bank = invoke(
        "entities", "add-bank-account", "COUNTY", "--bank", "中国农业银行", "--account-number", "6228480012345678901"
    )
    assert bank.exit_code == 0, bank.output
    posted = invoke("import", "pv-settlement", str(county.settlements_path))
    assert posted.exit_code == 0, posted.output
    assert f"{county.settlement_rows} receivable(s) posted" in posted.output
    repeated = invoke("import", "pv-settlement", str(county.settlements_path))
    assert repeated.exit_code == 0 and "nothing changed" in repeated.output


def test_missing_user_is_a_usage_error(county, database_url) -> None:
    result = CliRunner().invoke(
        cli.app, ["--db", database_url, "import", "registry", str(county.register_paths[0])], env={"DISBURSE_USER": ""}
    )
    assert result.exit_code == 2


def test_generate_county(tmp_path) -> None:
    out = tmp_path / "county"
    result = CliRunner().invoke(cli.app, ["generate", "county", "--households", "60", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "register_2026-08-31.csv" in result.output and (out / "assets.yaml").exists()
    refused = CliRunner().invoke(cli.app, ["generate", "county", "--households", "5", "--seed", "3", "--out", str(out)])
    assert refused.exit_code == 1 and "households must be between" in refused.output


def test_issue11_item13_a_corrected_register_replaces_the_same_date(invoke, county, engine, tmp_path) -> None:
    first, date = county.register_paths[0], county.snapshot_dates[0].isoformat()
    assert invoke("import", "registry", str(first), "--as-of", date).exit_code == 0
    lines = first.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    name = header.index("姓名")
    cells = lines[1].split(",")
    wrong, cells[name] = cells[name], cells[name] + "改"
    lines[1] = ",".join(cells)
    corrected = tmp_path / "corrected.csv"
    corrected.write_text("\n".join(lines) + "\n", encoding="utf-8")
    clash = invoke("import", "registry", str(corrected), "--as-of", date)
    assert clash.exit_code == 1 and "--replace" in clash.output
    replaced = invoke("import", "registry", str(corrected), "--as-of", date, "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert "replacing import 1" in replaced.output
    household = cells[header.index("户编号")]
    shown = invoke("registry", "show", household, "--as-of", date)
    assert wrong + "改" in shown.output
    with engine.connect() as connection:
        assert connection.execute(
            text("SELECT replaces_import_id FROM register_imports ORDER BY id")
        ).scalars().all() == [None, 1]
    # Only the newest date can be replaced, and only a date that was imported.
    nothing = invoke("import", "registry", str(county.register_paths[1]), "--as-of", "2026-01-01", "--replace")
    assert nothing.exit_code == 1 and "no register snapshot as of 2026-01-01 to replace" in nothing.output


def test_issue11_item13_account_warnings_are_shown_once(invoke, county) -> None:
    first = invoke("import", "registry", str(county.register_paths[0]), "--as-of", county.snapshot_dates[0].isoformat())
    second = invoke(
        "import", "registry", str(county.register_paths[1]), "--as-of", county.snapshot_dates[1].isoformat()
    )
    assert first.exit_code == 0 and second.exit_code == 0

    def luhn_warnings(output: str) -> int:
        found = re.search(r"(\d+) x warning: bank card Luhn check digit does not match", output)
        return int(found.group(1)) if found else 0

    assert "warnings already shown" in second.output
    assert luhn_warnings(first.output) > 0
    # The second snapshot repeats the same cards: only cards new in it are warned about again.
    assert luhn_warnings(second.output) < luhn_warnings(first.output)
