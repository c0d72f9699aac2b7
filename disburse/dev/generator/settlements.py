"""Grid settlements of the PV stations (pv_settlements.csv, FORMATS.md section 3).

Each station gets a 标杆电价 row for every month of the snapshots' year up to the month of the
last snapshot, and a 国家补贴 row for each quarter of the previous year, which arrives in batches
a year or more late. Money is computed in integer fen: kWh times a price in hundredths of a fen.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

from disburse.dev.generator.assets import Station, yuan_text
from disburse.dev.generator.model import Column, Table
from disburse.dev.generator.population import Geography

# Shaanxi coal benchmark price 0.3545 yuan/kWh and the national PV poverty-alleviation subsidy
# of 0.42 yuan/kWh, both in hundredths of a fen per kWh so that the product is exact.
BASE_PRICE_HUNDREDTH_FEN_PER_KWH = 3545
SUBSIDY_PRICE_HUNDREDTH_FEN_PER_KWH = 4200
# Equivalent full-load hours per month in 商洛 (about 1,240 a year, most in late spring and summer).
FULL_LOAD_HOURS_BY_MONTH = (75, 85, 105, 120, 135, 130, 128, 125, 100, 90, 75, 70)
# The grid company pays the base price 15 to 35 days after the end of the month.
BASE_PAYMENT_DELAY_DAYS = (15, 35)

SETTLEMENT_COLUMNS = (
    ("电站编号", "station_id", "identifier"),
    ("所属期", "service_period", "text"),
    ("上网电量", "kwh", "integer"),
    ("收入类型", "revenue_type", "text"),
    ("结算金额", "amount", "amount"),
    ("到账日期", "received_on", "date"),
)


def amount_fen(kwh: int, price_hundredth_fen_per_kwh: int) -> int:
    """kWh times a price, rounded half up to the fen, in integers only."""
    return (kwh * price_hundredth_fen_per_kwh + 50) // 100


def _month_kwh(rng: np.random.Generator, capacity_kw: int, month: int) -> int:
    """On-grid kWh of one month: capacity times the month's hours, give or take the weather."""
    weather = rng.uniform(0.88, 1.08)
    return int(capacity_kw * FULL_LOAD_HOURS_BY_MONTH[month - 1] * weather)


def _month_after(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1)


def settlements_generate(
    rng: np.random.Generator, geography: Geography, stations: tuple[Station, ...], last_snapshot: dt.date
) -> Table:
    """All settlement rows; a 到账日期 after the last snapshot is left blank (not yet received)."""
    year = last_snapshot.year
    # The national subsidy comes in county-wide batches: Q1 and Q2 of last year together in the
    # summer, Q3 in the autumn, Q4 not yet.
    first_batch = dt.date(year, 8, 1) + dt.timedelta(days=int(rng.integers(0, 25)))
    second_batch = dt.date(year, 10, 8) + dt.timedelta(days=int(rng.integers(0, 20)))
    subsidy_received = {1: first_batch, 2: first_batch, 3: second_batch, 4: None}
    rows: list[tuple[str, str, int, str, int, str]] = []
    for station in stations:
        previous_year = [_month_kwh(rng, station.capacity_kw, month) for month in range(1, 13)]
        for month in range(1, last_snapshot.month + 1):
            kwh = _month_kwh(rng, station.capacity_kw, month)
            received = _month_after(year, month) + dt.timedelta(days=int(rng.integers(*BASE_PAYMENT_DELAY_DAYS)))
            received_text = received.isoformat() if received <= last_snapshot else ""
            rows.append(
                (
                    station.asset_id,
                    f"{year}-{month:02d}",
                    kwh,
                    "标杆电价",
                    amount_fen(kwh, BASE_PRICE_HUNDREDTH_FEN_PER_KWH),
                    received_text,
                )
            )
        for quarter in range(1, 5):
            kwh = sum(previous_year[3 * (quarter - 1) : 3 * quarter])
            received_day = subsidy_received[quarter]
            received_text = "" if received_day is None or received_day > last_snapshot else received_day.isoformat()
            rows.append(
                (
                    station.asset_id,
                    f"{year - 1}Q{quarter}",
                    kwh,
                    "国家补贴",
                    amount_fen(kwh, SUBSIDY_PRICE_HUNDREDTH_FEN_PER_KWH),
                    received_text,
                )
            )
    values = {
        "电站编号": np.array([row[0] for row in rows]),
        "所属期": np.array([row[1] for row in rows]),
        "上网电量": np.array([str(row[2]) for row in rows]),
        "收入类型": np.array([row[3] for row in rows]),
        "结算金额": np.array([yuan_text(row[4]) for row in rows]),
        "到账日期": np.array([row[5] for row in rows]),
    }
    return Table(
        title=f"{geography.county_name}光伏扶贫电站电费结算单",
        columns=tuple(Column(header, alias, kind, values[header]) for header, alias, kind in SETTLEMENT_COLUMNS),
    )


def period_arrivals(settlements: Path, period: str, received_on: dt.date, out: Path) -> Path | None:
    """The rows of ``period`` that a settlements file has without a 到账日期, now received on
    ``received_on``, written to ``out`` (None when there are none). Importing them books each
    receipt: the import takes them as the arrival of rows it holds, not as new settlements."""
    with settlements.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    header, body = rows[0], rows[1:]
    period_column, received_column = header.index("所属期"), header.index("到账日期")
    waiting = [row for row in body if row[period_column] == period and not row[received_column].strip()]
    if not waiting:
        return None
    for row in waiting:
        row[received_column] = received_on.isoformat()
    with out.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows([header, *waiting])
    return out
