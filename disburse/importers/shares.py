"""Share register — 收益份额登记 (FORMATS.md section 2): who holds how many units of which asset.

The frame has the columns of docs/contracts.md: ``asset_id, holder_type ("household" |
"collective"), holder_id, units_e4, principal_fen (0 when blank), start_on, end_on, source_row``.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from disburse.foundation.errors import ImportProblem
from disburse.foundation.i18n import join_list, tr
from disburse.importers.common import (
    CheckContext,
    ImportContext,
    ParsedFile,
    object_column,
    run_checks,
    typed_columns,
    yuan_texts,
)
from disburse.importers.fields import (
    FREE_IDENTIFIER,
    VILLAGE_CODE,
    parse_amounts_fen,
    parse_dates,
    parse_enum,
    parse_identifiers,
    parse_units_e4,
)
from disburse.importers.reading import ColumnSpec, TableSpec, read_table

HOLDER_TYPES = {"农户": "household", "村集体": "collective"}

SHARES_SPEC = TableSpec(
    "收益份额登记",
    (
        ColumnSpec("项目编号", "asset_id"),
        ColumnSpec("持有人类型", "holder_type"),
        ColumnSpec("持有人编号", "holder_id"),
        ColumnSpec("份额", "units"),
        ColumnSpec("本金", "principal", required=False),
        ColumnSpec("起始日期", "start_on"),
        ColumnSpec("终止日期", "end_on", required=False),
    ),
)

SHARES_COLUMNS = (
    "asset_id",
    "holder_type",
    "holder_id",
    "units_e4",
    "principal_fen",
    "start_on",
    "end_on",
    "source_row",
)


def shares_fields(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """Type every cell; a collective's holder id must be a 12-digit village code."""
    typed, problems, put = typed_columns(frame)

    put("asset_id", parse_identifiers(frame["asset_id"], context.source(frame, "asset_id"), FREE_IDENTIFIER))
    put(
        "holder_type",
        parse_enum(
            frame["holder_type"], context.source(frame, "holder_type"), HOLDER_TYPES, what=context.header("holder_type")
        ),
    )
    # The holder id's kind depends on the holder type: a village code for a collective.
    collective = (typed["holder_type"] == "collective").to_numpy()
    holder_ids = np.empty(len(frame), dtype=object)
    for mask, kind in ((collective, VILLAGE_CODE), (~collective, FREE_IDENTIFIER)):
        if mask.any():
            source = context.source(frame, "holder_id")
            subset_source = type(source)(source.file, source.column, source.rows[mask])
            values, found = parse_identifiers(frame["holder_id"].to_numpy(dtype=object)[mask], subset_source, kind)
            holder_ids[mask] = values
            problems.extend(found)
    typed["holder_id"] = object_column(holder_ids)
    put("units_e4", parse_units_e4(frame["units"], context.source(frame, "units")))
    put(
        "principal_fen",
        parse_amounts_fen(
            frame["principal"],
            context.source(frame, "principal"),
            required=False,
            blank_fen=0,
            what=context.header("principal"),
        ),
    )
    put(
        "start_on",
        parse_dates(
            frame["start_on"], context.source(frame, "start_on"), required=True, what=context.header("start_on")
        ),
    )
    put("end_on", parse_dates(frame["end_on"], context.source(frame, "end_on"), what=context.header("end_on")))
    return typed, problems


def check_amounts_and_dates(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """Principal is not negative; a holding does not end before it starts."""
    principal = frame["principal_fen"].to_numpy()
    negative = principal < 0
    problems = context.problems(
        frame, negative, "principal", yuan_texts(principal, negative), tr("principal is negative")
    )
    start = frame["start_on"].to_numpy(dtype="datetime64[s]")
    end = frame["end_on"].to_numpy(dtype="datetime64[s]")
    problems += context.problems(
        frame, ~np.isnat(start) & ~np.isnat(end) & (end < start), "end_on", end, tr("end date is before the start date")
    )
    return frame, problems


def check_known_references(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """Holders and assets that the registers do not know are errors (each set None: not checked)."""
    options = context.options
    problems: list[ImportProblem] = []
    holder_ids = frame["holder_id"]
    checks = (
        ("household", options.known_household_ids, "holder_id", "household is not in the household register"),
        ("collective", options.known_village_codes, "holder_id", "village code is not a known village"),
    )
    for holder_type, known, alias, reason in checks:
        if known is None:
            continue
        mask = ((frame["holder_type"] == holder_type) & holder_ids.notna() & ~holder_ids.isin(known)).to_numpy()
        problems += context.problems(frame, mask, alias, holder_ids.to_numpy(dtype=object), reason)
    if options.known_asset_ids is not None:
        assets = frame["asset_id"]
        mask = (assets.notna() & ~assets.isin(options.known_asset_ids)).to_numpy()
        problems += context.problems(
            frame,
            mask,
            "asset_id",
            assets.to_numpy(dtype=object),
            tr("asset is not declared in the rules (unknown 项目编号)"),
        )
    return frame, problems


def check_overlaps(frame: pd.DataFrame, context: CheckContext) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """One holder's holdings in one asset must not overlap in time (a blank end is open-ended).

    Rows are sorted by holder and start; a holding overlaps an earlier one exactly when it starts
    on or before the latest end seen so far in its group, so a running maximum finds them all.
    """
    usable = frame[["asset_id", "holder_type", "holder_id"]].notna().all(axis=1).to_numpy() & ~np.isnat(
        frame["start_on"].to_numpy(dtype="datetime64[s]")
    )
    if usable.sum() < 2:
        return frame, []
    part = frame.loc[usable, ["asset_id", "holder_type", "holder_id", "start_on", "end_on", "source_row"]].copy()
    open_end = np.datetime64("9999-12-31", "s")
    part["end_filled"] = part["end_on"].fillna(open_end)
    part = part.sort_values(["asset_id", "holder_type", "holder_id", "start_on", "source_row"], kind="stable")
    keys = ["asset_id", "holder_type", "holder_id"]
    # Built-in grouped cummax and shift (no Python call per group: a million holders is a million groups).
    group_ids = part.groupby(keys, sort=False).ngroup()
    latest_end_before = part["end_filled"].groupby(group_ids).cummax().groupby(group_ids).shift(1)
    overlapping = (part["start_on"] <= latest_end_before).to_numpy()
    if not overlapping.any():
        return frame, []
    # Only the groups with an overlap are walked to name the rows each holding overlaps.
    part = part[group_ids.isin(group_ids[overlapping]).to_numpy()]
    indices, reasons, values = [], [], []
    positions = {row: index for index, row in enumerate(frame["source_row"].to_numpy())}
    for _, group in part.groupby(keys, sort=False):
        rows = group["source_row"].to_numpy()
        starts = group["start_on"].to_numpy()
        ends = group["end_filled"].to_numpy()
        for later in range(1, len(group)):
            earlier = [rows[other] for other in range(later) if starts[later] <= ends[other]]
            if earlier:
                indices.append(positions[rows[later]])
                values.append(group["holder_id"].iat[later])
                reasons.append(
                    tr(
                        "holding overlaps row {rows} of the same holder in asset {asset} (date ranges intersect)",
                        rows=join_list(map(str, earlier)),
                        asset=group["asset_id"].iat[later],
                    )
                )
    return frame, context.problems_each(frame, indices, "holder_id", values, reasons)


SHARES_CHECKS = (shares_fields, check_amounts_and_dates, check_known_references, check_overlaps)


def parse_shares(path: str | os.PathLike[str], context: ImportContext | None = None) -> ParsedFile:
    """Read and check a share register file (.csv, .xlsx or .xls).

    ``context`` supplies the known households, villages and assets (each None: not checked).
    """
    raw = read_table(path, SHARES_SPEC)
    return run_checks(raw, SHARES_SPEC, SHARES_CHECKS, SHARES_COLUMNS, context or ImportContext())
