"""PV settlement — 电费结算单 (FORMATS.md section 3): what the grid company paid for which period.

The frame has the columns of docs/contracts.md: ``station_id, service_period ("2026-10" or
"2026Q3"), kwh (int), revenue_type ("base" | "subsidy"), amount_fen, received_on, source_row``.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from disburse.foundation.errors import ImportProblem
from disburse.foundation.i18n import TranslatedNames, tr, tr_noop
from disburse.importers.common import CheckContext, ImportContext, ParsedFile, later_than, run_checks, typed_columns
from disburse.importers.fields import (
    FREE_IDENTIFIER,
    parse_amounts_fen,
    parse_dates,
    parse_enum,
    parse_identifiers,
    parse_integers,
    parse_service_periods,
)
from disburse.importers.reading import ColumnSpec, TableSpec, read_table

REVENUE_TYPES = {"标杆电价": "base", "国家补贴": "subsidy"}
# The stored codes as a person reads them (the file's own words in Chinese).
REVENUE_TYPE_IDS = {"base": tr_noop("benchmark price"), "subsidy": tr_noop("state subsidy")}
REVENUE_TYPE_NAMES = TranslatedNames(REVENUE_TYPE_IDS)

SETTLEMENTS_SPEC = TableSpec(
    "电费结算单",
    (
        ColumnSpec("电站编号", "station_id"),
        ColumnSpec("所属期", "service_period"),
        ColumnSpec("上网电量", "kwh"),
        ColumnSpec("收入类型", "revenue_type"),
        ColumnSpec("结算金额", "amount"),
        ColumnSpec("到账日期", "received_on", required=False),
    ),
)

SETTLEMENTS_COLUMNS = ("station_id", "service_period", "kwh", "revenue_type", "amount_fen", "received_on", "source_row")


def settlements_fields(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """Type every cell: kWh a non-negative whole number, the amount in fen, the period normalised."""
    typed, problems, put = typed_columns(frame)

    put("station_id", parse_identifiers(frame["station_id"], context.source(frame, "station_id"), FREE_IDENTIFIER))
    put("service_period", parse_service_periods(frame["service_period"], context.source(frame, "service_period")))
    put("kwh", parse_integers(frame["kwh"], context.source(frame, "kwh"), minimum=0, what=context.header("kwh")))
    put(
        "revenue_type",
        parse_enum(
            frame["revenue_type"],
            context.source(frame, "revenue_type"),
            REVENUE_TYPES,
            what=context.header("revenue_type"),
        ),
    )
    amounts = parse_amounts_fen(frame["amount"], context.source(frame, "amount"), what=context.header("amount"))
    put("amount_fen", amounts)
    # A settlement is money the grid owes; a correction it makes later is its own (manual) voucher,
    # not a negative receivable slipped in among the monthly rows.
    problems += context.problems(
        typed,
        amounts[0] < 0,
        "amount",
        frame["amount"].to_numpy(dtype=object),
        tr(
            "{column} is negative; a settlement amount is what the grid pays (a correction is a manual voucher)",
            column=context.header("amount"),
        ),
    )
    put(
        "received_on",
        parse_dates(frame["received_on"], context.source(frame, "received_on"), what=context.header("received_on")),
    )
    return typed, problems


def period_first_month(period: str) -> tuple[int, int]:
    """(year, month) of the first month of ``2026-10`` or ``2026Q3`` (July)."""
    if "Q" in period:
        year, quarter = period.split("Q")
        return int(year), (int(quarter) - 1) * 3 + 1
    year, month = period.split("-")
    return int(year), int(month)


def check_settlement_references(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """Unknown stations; service periods that start after today's month; money received in the future."""
    options = context.options
    today = options.today_or_now()
    problems: list[ImportProblem] = []
    if options.known_station_ids is not None:
        stations = frame["station_id"]
        mask = (stations.notna() & ~stations.isin(options.known_station_ids)).to_numpy()
        problems += context.problems(
            frame, mask, "station_id", stations.to_numpy(dtype=object), tr("station is not a known 电站编号")
        )
    periods = frame["service_period"].to_numpy(dtype=object)
    distinct = {period for period in periods if period is not None}
    future = {period for period in distinct if period_first_month(period) > (today.year, today.month)}
    if future:
        mask = np.array([period in future for period in periods], dtype=bool)
        problems += context.problems(
            frame,
            mask,
            "service_period",
            periods,
            tr("service period is in the future (today is {today})", today=today.isoformat()),
        )
    received = frame["received_on"].to_numpy(dtype="datetime64[s]")
    problems += context.problems(
        frame,
        later_than(received, today),
        "received_on",
        received,
        tr("received date is in the future (today is {today})", today=today.isoformat()),
    )
    return frame, problems


SETTLEMENTS_CHECKS = (settlements_fields, check_settlement_references)


def parse_settlements(path: str | os.PathLike[str], context: ImportContext | None = None) -> ParsedFile:
    """Read and check a PV settlement file (.csv, .xlsx or .xls); ``context`` supplies today and
    the known stations (None: not checked)."""
    raw = read_table(path, SETTLEMENTS_SPEC)
    return run_checks(raw, SETTLEMENTS_SPEC, SETTLEMENTS_CHECKS, SETTLEMENTS_COLUMNS, context or ImportContext())
