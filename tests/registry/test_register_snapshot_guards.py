"""Issue #16 item 3: a register snapshot cannot silently empty the county. A file with no data
rows is refused; a snapshot that lacks more than 5% of the households in scope, or every
household of a township or village, is refused with the counts unless --confirm-exits states the
number; --scope imports one township's file without touching the rest."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from registry_helpers import TODAY, county, row_counts, run  # noqa: F401 (fixtures)

from disburse.foundation.errors import DisburseError, ImportRefused
from disburse.registry import service
from disburse.registry.queries import register_as_of

FIRST = dt.date(2026, 8, 31)
NEXT = dt.date(2026, 9, 30)


def rows_of(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def load(engine, path: Path, on: dt.date, **options):  # type: ignore[no-untyped-def]
    return run(engine, service.import_register, path, user="tester", as_of=on, today=TODAY, **options)


def households(engine, on: dt.date) -> set[str]:  # type: ignore[no-untyped-def]
    from disburse.foundation.db import transaction

    with transaction(engine) as session:
        frame, _ = register_as_of(session, on)
    return set(frame["household_id"])


def test_issue16_item3_a_header_only_register_is_refused(engine, county, tmp_path: Path) -> None:
    header, _ = rows_of(county.register_paths[0])
    before = row_counts(engine)
    with pytest.raises(ImportRefused, match="no data rows"):
        load(engine, write(tmp_path / "empty.csv", header, []), FIRST)
    assert row_counts(engine) == before


def test_issue16_item3_one_townships_file_is_refused_then_imported_with_its_scope(
    engine, county, tmp_path: Path
) -> None:
    header, rows = rows_of(county.register_paths[0])
    load(engine, county.register_paths[0], FIRST)
    everyone = households(engine, FIRST)
    town = rows[0]["乡镇"]
    own = [row for row in rows if row["乡镇"] == town]
    own_households = {row["户编号"] for row in own}
    township_file = write(tmp_path / "township.csv", header, own)
    before = row_counts(engine)
    with pytest.raises(DisburseError) as refused:
        load(engine, township_file, NEXT)
    removed = len(everyone) - len(own_households)
    assert f"would remove {removed:,} of the {len(everyone):,} households" in str(refused.value)
    assert "--scope 乡镇:NAME" in str(refused.value) and "nothing was written" in str(refused.value)
    assert row_counts(engine) == before
    # The same file with its scope: its own households compared, the rest of the county untouched.
    outcome = load(engine, township_file, NEXT, scope=service.RegisterScope("town", town))
    assert outcome.counts["household_versions_closed"] == 0 and outcome.counts["events"] == 0
    assert households(engine, NEXT) == everyone
    # A row from another township in a scoped file is refused, naming the row.
    other = next(row for row in rows if row["乡镇"] != town)
    mixed = write(tmp_path / "mixed.csv", header, [*own, other])
    with pytest.raises(ImportRefused, match=f"outside the scope 乡镇 {town}"):
        load(engine, mixed, dt.date(2026, 10, 15), scope=service.RegisterScope("town", town))


def test_issue16_item3_a_stated_number_of_exits_is_accepted(engine, county, tmp_path: Path) -> None:
    header, rows = rows_of(county.register_paths[0])
    load(engine, county.register_paths[0], FIRST)
    ids = sorted({row["户编号"] for row in rows})
    leaving = set(ids[: len(ids) // 10])  # 10%: over the 5% share
    kept = [row for row in rows if row["户编号"] not in leaving]
    smaller = write(tmp_path / "smaller.csv", header, kept)
    with pytest.raises(DisburseError, match=f"--confirm-exits {len(leaving)}"):
        load(engine, smaller, NEXT)
    with pytest.raises(DisburseError, match=f"removes {len(leaving):,} household"):
        load(engine, smaller, NEXT, confirm_exits=len(leaving) + 1)
    load(engine, smaller, NEXT, confirm_exits=len(leaving))
    assert households(engine, NEXT) == set(ids) - leaving


def test_issue16_item3_scope_parsing() -> None:
    assert service.RegisterScope.parse("乡镇:城关镇") == service.RegisterScope("town", "城关镇")
    assert service.RegisterScope.parse("行政村: 罗口村") == service.RegisterScope("village", "罗口村")
    with pytest.raises(DisburseError, match="--scope takes"):
        service.RegisterScope.parse("county:x")
