"""The 明白卡 of a household the newest register snapshot no longer lists: its books stay, so
its card prints, showing the household as the last snapshot that listed it (found by the
three-month scenario: `report household` refused a household that had exited)."""

from __future__ import annotations

import csv
from pathlib import Path

from cli_runner import run

from disburse.dev.generator import generate_county


def test_a_household_that_left_the_register_still_has_its_card(database_url: str, tmp_path: Path) -> None:
    county = generate_county(tmp_path / "county", 50, 5)
    first = county.register_paths[0]
    with first.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index("户编号")
    leaving = rows[1][column]
    kept = [rows[0], *[row for row in rows[1:] if row[column] != leaving]]
    later = tmp_path / "register_2026-09-30.csv"
    with later.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(kept)
    as_of = county.snapshot_dates[0].isoformat()
    assert run(database_url, "import", "registry", str(first), "--as-of", as_of).exit_code == 0
    exited = run(database_url, "import", "registry", str(later), "--as-of", "2026-09-30", "--confirm-exits", "1")
    assert exited.exit_code == 0, exited.output
    card = run(database_url, "report", "household", leaving)
    assert card.exit_code == 0, card.output
    assert leaving in card.output and "not in the register" not in card.output
    nobody = run(database_url, "report", "household", "6110029999990001")
    assert nobody.exit_code == 1 and "not in the register" in nobody.output
