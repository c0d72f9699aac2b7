"""`runs explain`: every step from the pool to one holder's amount, in words and numbers.

The text is built from what an allocation returned (or a run stored): the pool-level steps on
the holder's path, then each of the holder's lines with its own figures — a PV share's kW ×
active days over the whole and the exact amount before rounding; a dividend's floor, pro-rata
part, their sum and the cap; a wage's amount owed and what the pool could not pay; a subsidy's
basis (table entry × period, or a bill's own share above the cap). For a PV run of several
settlement rows, each row's steps are shown with the lines that came from it.
"""

from __future__ import annotations

from fractions import Fraction

import pandas as pd

from disburse.allocations.model import AllocationResult, Step
from disburse.allocations.names import component_name, rule_kind_name, source_name
from disburse.allocations.split import decimal_text, percent_text
from disburse.foundation.i18n import tr
from disburse.foundation.masking import mask_identifier
from disburse.foundation.money import format_yuan

PV_HOLDER_COMPONENTS = frozenset({"household_share", "collective_share"})


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value)) and value is not pd.NA


def _figure(row: dict, name: str) -> int | None:
    value = row.get(name)
    if not _present(value):
        return None
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def _exact_yuan(numerator: int, denominator: int) -> str:
    """An exact amount of fen as yuan text, to six decimal places of a yuan (… when cut)."""
    exact = Fraction(numerator, denominator) / 100
    text = decimal_text(exact, places_max=6)
    whole, _, decimals = text.partition(".")
    shown = f"{int(whole):,}" + (f".{decimals}" if decimals else "")
    return shown if Fraction(text) == exact else f"{shown}…"


def _share_lines(row: dict) -> list[str]:
    numerator, denominator = _figure(row, "share_numerator"), _figure(row, "share_denominator")
    if numerator is None or not denominator:
        return []
    share = tr(
        "{numerator:,}/{denominator:,} (= {percent})",
        numerator=numerator,
        denominator=denominator,
        percent=percent_text(Fraction(numerator, denominator)),
    )
    pool = _figure(row, "share_pool_fen")
    if pool is None:
        return [tr("    share {share}", share=share)]
    amount = _figure(row, "pro_rata_fen")
    amount = int(row["amount_fen"]) if amount is None else amount
    return [
        tr(
            "    share {share} of {pool} = {exact} yuan exactly; {amount} after the largest-remainder rounding "
            "(a tie goes to the lower holder id)",
            share=share,
            pool=format_yuan(pool),
            exact=_exact_yuan(pool * numerator, denominator),
            amount=format_yuan(amount),
        )
    ]


def _dividend_lines(row: dict) -> list[str]:
    floor = _figure(row, "floor_fen")
    if floor is None:
        return []
    principal, days = _figure(row, "principal_fen"), _figure(row, "active_days")
    pro_rata = _figure(row, "pro_rata_fen") or 0
    stretch = (
        tr("from each exited household's exit date")
        if row["component"] == "exit_reverted"
        else tr("over {days} active day(s)", days=days or 0)
    )
    text = [
        tr(
            "    floor: {floor} on principal {principal} {stretch} (the floor rate a year, prorated, rounded half-up)",
            floor=format_yuan(floor),
            principal=format_yuan(principal or 0),
            stretch=stretch,
        )
    ]
    text += _share_lines(row)
    total = floor + pro_rata
    text.append(
        tr(
            "    floor + pro rata = {floor} + {pro_rata} = {total}",
            floor=format_yuan(floor),
            pro_rata=format_yuan(pro_rata),
            total=format_yuan(total),
        )
    )
    cap = _figure(row, "cap_fen")
    if cap is not None:
        paid = int(row["amount_fen"])
        held = total - paid
        text.append(
            tr(
                "    cap {cap} (the ceiling rate a year on principal, prorated): paid {paid}",
                cap=format_yuan(cap),
                paid=format_yuan(paid),
            )
            + (tr(", {held} held back by the cap", held=format_yuan(held)) if held else tr(", within the cap"))
        )
    return text


def _claim_lines(row: dict) -> list[str]:
    """A PV holder's claim: kW × active days, the weight of its share."""
    units, days = _figure(row, "units_e4"), _figure(row, "active_days")
    if units is None or row["component"] not in PV_HOLDER_COMPONENTS or _figure(row, "floor_fen") is not None:
        return []
    if days is None:
        return [
            tr(
                "    claimed {units} kW over several holdings (kW × active days summed)",
                units=decimal_text(Fraction(units, 10_000)),
            )
        ]
    return [
        tr(
            "    claimed {units} kW × {days} active day(s) = {product:,} kW·day (×10⁴)",
            units=decimal_text(Fraction(units, 10_000)),
            days=days,
            product=units * days,
        )
    ]


def _wage_lines(row: dict) -> list[str]:
    owed = _figure(row, "owed_fen")
    if owed is None:
        return []
    unpaid = _figure(row, "unpaid_fen") or 0
    return [
        tr(
            "    owed {owed}, paid {paid}, unpaid {unpaid}",
            owed=format_yuan(owed),
            paid=format_yuan(int(row["amount_fen"])),
            unpaid=format_yuan(unpaid),
        )
    ]


def _line_text(holder_id: str, row: dict) -> list[str]:
    head = tr(
        "  {holder} {component}: {amount} yuan",
        holder=holder_id,
        component=component_name(row["component"]),
        amount=format_yuan(int(row["amount_fen"])),
    )
    beneficiary = row.get("beneficiary_id")
    if _present(beneficiary) and beneficiary:
        head += tr(" for {beneficiary}", beneficiary=mask_identifier(str(beneficiary)))
    if _present(row.get("account_no")) and row.get("account_no"):
        head += tr(
            ", to account {account} {name}",
            account=mask_identifier(str(row["account_no"])),
            name=row.get("account_name") or "",
        ).rstrip()
    text = [head]
    if row.get("basis"):
        text.append(tr("    on {basis}", basis=row["basis"]))
    details = _dividend_lines(row) or (_claim_lines(row) + _share_lines(row))
    text += details + _wage_lines(row)
    if _present(row.get("note")) and row.get("note"):
        text.append(f"    ({row['note']})")
    return text


def _steps_on_path(steps: tuple[Step, ...], source: str | None, components: set[str]) -> list[str]:
    return [
        tr("  {step}: {amount} yuan", step=step.text, amount=format_yuan(step.amount_fen))
        for step in steps
        if step.source_reference == source and (step.component is None or step.component in components)
    ]


def explain(result: AllocationResult, holder_id: str) -> list[str]:
    """Every step from the pool to one holder's amount (a household id, or a village code for a
    collective), in words and numbers; then the holder's exclusions. Lines name the beneficiary
    of person-level benefits and the account paid (both masked)."""
    lines = result.lines
    mine = lines[(lines["household_id"] == holder_id) | (lines["payee_id"] == holder_id)]
    text = [
        tr(
            "{rule} ({kind}): pool {pool} yuan",
            rule=result.rule_name,
            kind=rule_kind_name(result.rule_kind),
            pool=format_yuan(result.pool_fen),
        )
    ]
    sources = mine["source_reference"] if "source_reference" in mine.columns else pd.Series([None] * len(mine))
    sources = sources.astype(object).where(sources.notna(), None)
    shown: list[str | None] = list(dict.fromkeys(sources.tolist())) or [None]
    for source in shown:
        rows = [row for row, row_source in zip(mine.to_dict("records"), sources.tolist()) if row_source == source]
        if source is not None:
            text.append(tr(" {source}:", source=source_name(source)))
        components = {row["component"] for row in rows}
        text += _steps_on_path(result.steps, source, components)
        for row in rows:
            text += _line_text(holder_id, row)
    excluded = result.exclusions[result.exclusions["household_id"] == holder_id]
    for row in excluded.itertuples(index=False):
        who = tr(" person {person}", person=mask_identifier(row.id_number)) if row.id_number else ""
        text.append(tr("  {holder}{who} excluded: {reason}", holder=holder_id, who=who, reason=row.reason))
    if mine.empty and excluded.empty:
        text.append(tr("  {holder}: no line and no exclusion in this allocation", holder=holder_id))
    return text


__all__ = ["explain"]
