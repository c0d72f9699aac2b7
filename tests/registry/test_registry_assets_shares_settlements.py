"""Assets, share registers and PV settlements: loading, refusals, and the receivables posted."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

import pytest
from registry_helpers import TODAY, county, import_snapshots, row_counts, run  # noqa: F401 (fixtures)
from sqlalchemy import select, text

from disburse.foundation.db import transaction
from disburse.foundation.errors import DisburseError, ImportRefused
from disburse.ledger.service import add_bank_account
from disburse.ledger.tables import EntityRow
from disburse.registry import queries, service


def load_county(engine, county) -> None:  # type: ignore[no-untyped-def]
    import_snapshots(engine, county)
    run(engine, service.load_assets, county.assets_path, user="tester")
    # The station owner's bank account: settlement rows with a 到账日期 book their receipt there.
    run(engine, add_bank_account, "COUNTY", "中国农业银行", "6228480012345678901", "tester")


def test_assets_load_and_reload(engine, county) -> None:
    first = run(engine, service.load_assets, county.assets_path, user="tester")
    assert first.changed and first.counts["assets_added"] == county.stations + county.cooperatives
    counts = row_counts(engine)
    again = run(engine, service.load_assets, county.assets_path, user="tester")
    assert not again.changed and row_counts(engine) == counts
    with transaction(engine) as session:
        declared = queries.assets(session)
        cooperative = next(item for item in declared if item.kind == "cooperative")
        assert session.scalar(select(EntityRow.kind).where(EntityRow.code == cooperative.credit_code)) == "cooperative"
        station = queries.asset(session, declared[-1].asset_id)
    assert station.kind == "station" and station.capacity_w % 1000 == 0 and station.owner_entity == "COUNTY"
    assert cooperative.principal_fen == cooperative.share_count_e4 * 10  # 1000 yuan a share


def test_an_unknown_key_is_refused_with_its_path(engine, county, tmp_path) -> None:
    lines = county.assets_path.read_text(encoding="utf-8").splitlines()
    second_station = [index for index, line in enumerate(lines) if line.startswith("  - asset_id:")][1]
    lines.insert(second_station + 1, "    colour: blue")
    broken = tmp_path / "assets.yaml"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ImportRefused) as refused:
        run(engine, service.load_assets, broken, user="tester")
    assert [(problem.column, problem.reason) for problem in refused.value.problems] == [
        ("stations.1.colour", "unknown key (not allowed here)")
    ]
    assert row_counts(engine)["assets"] == 0


def test_a_changed_asset_is_refused_but_adding_is_allowed(engine, county, tmp_path) -> None:
    run(engine, service.load_assets, county.assets_path, user="tester")
    original = county.assets_path.read_text(encoding="utf-8")
    changed = tmp_path / "changed.yaml"
    changed.write_text(original.replace('capacity_kw: "', 'capacity_kw: "1', 1), encoding="utf-8")
    with pytest.raises(DisburseError, match="only adding assets is allowed"):
        run(engine, service.load_assets, changed, user="tester")
    added = tmp_path / "added.yaml"
    added.write_text(
        original.replace(
            "stations:\n",
            (
                'stations:\n  - asset_id: PV-NEW-001\n    name: 新电站\n    capacity_kw: "12.5"\n    owner: COUNTY\n'
                '    village_codes: ["611002101201"]\n    commissioned_on: 2025-06-30\n'
            ),
            1,
        ),
        encoding="utf-8",
    )
    outcome = run(engine, service.load_assets, added, user="tester")
    assert outcome.counts["assets_added"] == 1
    with transaction(engine) as session:
        assert queries.asset(session, "PV-NEW-001").capacity_w == 12_500


def test_shares_import_and_holdings_as_of(engine, county) -> None:
    load_county(engine, county)
    outcome = run(engine, service.import_shares, county.shares_path, user="tester", as_of=TODAY, today=TODAY)
    assert outcome.changed and outcome.row_count == county.share_rows
    assert not run(engine, service.import_shares, county.shares_path, user="tester", today=TODAY).changed
    with open(county.shares_path, encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["项目编号"] == "COOP-001"]
    with transaction(engine) as session:
        holdings = queries.holdings_as_of(session, "COOP-001", dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert len(holdings) == len(rows)
    # Units summed by hand from the file's decimal text: every share of the cooperative is held.
    total_units = sum(Decimal(row["份额"]) for row in rows)
    assert int(holdings["units_e4"].sum()) == int(total_units * 10_000)
    assert holdings["units_e4"].dtype == "int64" and holdings["principal_fen"].dtype == "int64"


def test_a_holdings_reader_gives_each_period_what_the_file_holds_then(engine, county) -> None:
    """Many periods of one asset from one read: each period's holdings are the file's rows of the
    asset whose 起始日期 is on or before the period's end and whose 终止日期 is blank or on or
    after its start, counted from the file by hand."""
    load_county(engine, county)
    run(engine, service.import_shares, county.shares_path, user="tester", as_of=TODAY, today=TODAY)
    with open(county.shares_path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    ended = [row for row in rows if row["终止日期"]]
    assert ended, "the generated county has holdings that ended: the test needs some"
    asset = ended[0]["项目编号"]
    of_asset = [row for row in rows if row["项目编号"] == asset]
    named = [row[name] for row in of_asset for name in ("起始日期", "终止日期") if row[name]]
    days = sorted({dt.date.fromisoformat(text) for text in named})
    # Periods around every date the file names: the day before, the day itself, the day after.
    edges = sorted({day + dt.timedelta(days=step) for day in days for step in (-1, 0, 1)})
    periods = [(edges[0], edges[0]), (edges[0], edges[-1])] + list(zip(edges, edges[2:]))
    with transaction(engine) as session:
        reader = queries.HoldingsReader(session, asset)
        for start, end in periods:
            expected = sorted(
                (row["持有人编号"], row["起始日期"])
                for row in of_asset
                if dt.date.fromisoformat(row["起始日期"]) <= end
                and (not row["终止日期"] or dt.date.fromisoformat(row["终止日期"]) >= start)
            )
            held = reader.overlapping(start, end)
            assert sorted(zip(held["holder_id"], [day.isoformat() for day in held["start_on"]])) == expected
            assert held["units_e4"].dtype == "int64", (start, end)
        # The same frame as one period read on its own (the columns and order a caller relies on).
        start, end = periods[1]
        alone = queries.holdings_as_of(session, asset, start, end)
        assert alone.equals(reader.overlapping(start, end))
        assert list(alone.columns) == list(queries.HOLDINGS_COLUMNS)


def test_shares_with_an_unknown_household_are_refused(engine, county, tmp_path) -> None:
    load_county(engine, county)
    text_in = county.shares_path.read_text(encoding="utf-8")
    broken = tmp_path / "shares.csv"
    broken.write_text(text_in + "COOP-001,农户,6110029999999999,1.5,1500.00,2022-01-01,\n", encoding="utf-8")
    counts = row_counts(engine)
    with pytest.raises(ImportRefused) as refused:
        run(engine, service.import_shares, broken, user="tester", today=TODAY)
    assert [problem.reason for problem in refused.value.problems] == ["household is not in the household register"]
    assert row_counts(engine) == counts


def settlement_total_fen(path) -> int:  # type: ignore[no-untyped-def]
    """The file's 结算金额 summed by hand, in fen."""
    with open(path, encoding="utf-8") as handle:
        return int(sum(Decimal(row["结算金额"]) for row in csv.DictReader(handle)) * 100)


def test_settlements_post_balanced_receivables(engine, county) -> None:
    load_county(engine, county)
    outcome = run(engine, service.import_settlements, county.settlements_path, user="tester", today=TODAY)
    assert outcome.counts["posted"] == county.settlement_rows
    total = settlement_total_fen(county.settlements_path)
    with engine.connect() as connection:
        sums = dict(
            connection.execute(
                text(
                    "SELECT p.account_code, sum(p.amount_fen) FROM postings p JOIN journal_entries e ON e.id = "
                    "p.entry_id WHERE e.source_kind = 'pv_settlement' GROUP BY p.account_code"
                )
            ).all()
        )
        memo = connection.execute(text("SELECT memo FROM journal_entries ORDER BY id LIMIT 1")).scalar_one()
        fund_sources = {row[0] for row in connection.execute(text("SELECT DISTINCT fund_source FROM postings"))}
    assert sums == {"112": total, "501": -total}
    assert memo.endswith("电费结算") and memo.startswith("PV-")
    assert fund_sources and all(source.startswith("PV-") for source in fund_sources)
    with transaction(engine) as session:
        frame = queries.settlements(session)
    assert int(frame["amount_fen"].sum()) == total and frame["receivable_entry_id"].is_unique
    # A received date in the past is the entry's date; a blank one is the import date.
    with engine.connect() as connection:
        dates = connection.execute(
            text(
                "SELECT s.received_on, e.entry_date FROM pv_settlements s JOIN journal_entries e "
                "ON e.id = s.receivable_entry_id"
            )
        ).all()
    for received_on, entry_date in dates:
        assert str(entry_date)[:10] == (str(received_on)[:10] if received_on else TODAY.isoformat())

    counts = row_counts(engine)
    assert not run(engine, service.import_settlements, county.settlements_path, user="tester", today=TODAY).changed
    assert row_counts(engine) == counts


def test_a_settlement_already_imported_from_another_file_is_a_warning(engine, county, tmp_path) -> None:
    load_county(engine, county)
    run(engine, service.import_settlements, county.settlements_path, user="tester", today=TODAY)
    lines = county.settlements_path.read_text(encoding="utf-8").splitlines()
    again = tmp_path / "resent.csv"
    again.write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    counts = row_counts(engine)
    outcome = run(engine, service.import_settlements, again, user="tester", today=TODAY)
    assert outcome.counts["posted"] == 0 and outcome.counts["duplicates"] == 2
    assert [problem.severity for problem in outcome.problems] == ["warning", "warning"]
    assert row_counts(engine)["postings"] == counts["postings"]


def test_a_closed_period_moves_the_receivable_to_the_import_date(engine, county) -> None:
    load_county(engine, county)
    from disburse.ledger.service import close_period

    run(engine, close_period, "COUNTY", "2026-03", "tester")
    run(engine, service.import_settlements, county.settlements_path, user="tester", today=TODAY)
    with engine.connect() as connection:
        periods = {row[0] for row in connection.execute(text("SELECT DISTINCT period FROM journal_entries"))}
    assert "2026-03" not in periods and TODAY.strftime("%Y-%m") in periods
