"""The annual PV revenue notice (光伏扶贫电站收益年度公示) of each village: for one year, each
station the village holds a claim in or is declared for, its on-grid output (kWh), its income
(标杆电价 and 国家补贴), each deduction (运维费, 土地租金 …), what was left to distribute and how it
was split (村集体, 公益岗位工资, 农户 …), and of that what this village and its households got,
as the national PV poverty-alleviation rules ask (at least once a year, 国开办发〔2017〕61号).

The figures are gathered from the PV runs posted for a period of the year (reversed runs are
left out: their entries were reversed). A run stores every line, so a station's year is the sum
of its runs' lines by component; its income is the settlement rows the runs allocated. Both tie
to the ledger: the income to the credits of those rows' receivable entries (Cr 501), the lines to
the debits of the runs' own entries. A figure that does not tie is refused, not printed.

Unlike a run's notice, an annual notice is not a gate: it records nothing and pays nothing; it
is computed again from the books each time it is asked for.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import yaml
from sqlalchemy import text
from sqlalchemy.orm import Session

from disburse.allocations.names import COMPONENT_NAMES
from disburse.allocations.pv import (
    COLLECTIVE_COMPONENT,
    HOUSEHOLD_COMPONENT,
    RESIDUAL_COMPONENT,
    UNCLAIMED_COMPONENT,
    WAGE_COMPONENT,
    WAGE_UNUSED_COMPONENT,
)
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import TranslatedNames, join_clauses, tr
from disburse.foundation.masking import mask_identifier
from disburse.foundation.money import format_yuan
from disburse.foundation.settings import hotline
from disburse.payouts.notices import checked_notice_days, mask_name

DEDUCTION_SUFFIX = "_deduction"
# The parts of the distributable amount in the order a notice lists them.
PART_COMPONENTS = (
    COLLECTIVE_COMPONENT,
    WAGE_COMPONENT,
    WAGE_UNUSED_COMPONENT,
    HOUSEHOLD_COMPONENT,
    RESIDUAL_COMPONENT,
    UNCLAIMED_COMPONENT,
)
# A notice is read by households: component names in Chinese in every language.
COMPONENT_NAMES_PRINTED = TranslatedNames(COMPONENT_NAMES, fixed_language="zh")
RUNS_MAX = 10_000  # PV runs of one year
VILLAGES_MAX = 5_000


@dataclass(frozen=True, slots=True)
class StationYear:
    """One station's year: output, income, deductions, parts, and the ledger's figures."""

    station_id: str
    station_name: str
    capacity_w: int | None
    run_ids: tuple[int, ...]
    kwh: int  # on-grid kWh of the 标杆电价 rows (a 国家补贴 row repeats its period's kWh)
    base_income_fen: int
    subsidy_income_fen: int
    deductions: tuple[tuple[str, int], ...]  # (Chinese name, fen), in the rule's order
    parts_fen: dict[str, int]
    ledger_income_fen: int
    ledger_lines_fen: int

    @property
    def income_fen(self) -> int:
        return self.base_income_fen + self.subsidy_income_fen

    @property
    def deductions_fen(self) -> int:
        return sum(amount for _, amount in self.deductions)

    @property
    def distributable_fen(self) -> int:
        return self.income_fen - self.deductions_fen

    @property
    def lines_fen(self) -> int:
        return self.deductions_fen + sum(self.parts_fen.values())


@dataclass(frozen=True, slots=True)
class VillageShare:
    """What one village got of one station's year."""

    collective_fen: int
    wages_fen: int
    wage_people: int
    households_fen: int
    household_count: int


@dataclass(frozen=True, slots=True)
class AnnualPvNotice:
    year: int
    village_code: str
    village_name: str
    first_day: dt.date
    last_day: dt.date
    hotline: str
    stations: tuple[tuple[StationYear, VillageShare], ...]
    households: tuple[tuple[str, str, str, int], ...]  # (户编号, 户主 masked, ID masked, fen)

    @property
    def village_total_fen(self) -> int:
        return sum(share.collective_fen + share.wages_fen + share.households_fen for _, share in self.stations)


def deduction_name(component: str) -> str:
    """``om_deduction`` → 运维费; a deduction the catalog does not name keeps the rule's name."""
    if component in COMPONENT_NAMES:
        return COMPONENT_NAMES_PRINTED[component]
    return component.removesuffix(DEDUCTION_SUFFIX)


def _year_runs(session: Session, year: int) -> list[tuple[int, str, str, str]]:
    """(id, station, rule text, inputs) of the PV runs posted for a period of ``year``."""
    rows = session.execute(
        text(
            "SELECT id, rule_subject, rule_text, inputs_description FROM allocation_runs "
            "WHERE rule_kind = 'pv_revenue' AND status = 'posted' AND period LIKE :year ORDER BY id"
        ),
        {"year": f"{year:04d}-%"},
    ).all()
    if len(rows) > RUNS_MAX:
        raise DisburseError(
            tr(
                "{count:,} PV runs in {year}; a notice covers at most {limit:,}",
                count=len(rows),
                year=year,
                limit=RUNS_MAX,
            )
        )
    return [(int(row[0]), str(row[1]), str(row[2]), str(row[3])) for row in rows]


def _in_list(name: str, values: list) -> tuple[str, dict[str, object]]:  # type: ignore[type-arg]
    """``(:name0, :name1 …)`` and its parameters (an empty list matches nothing)."""
    if not values:
        return "(NULL)", {}
    return "(" + ", ".join(f":{name}{i}" for i in range(len(values))) + ")", {
        f"{name}{i}": value for i, value in enumerate(values)
    }


def _deduction_order(rule_text: str) -> list[str]:
    """The deductions' components in the rule's order, from the text the run stored."""
    try:
        document = yaml.safe_load(rule_text) if rule_text else None
    except yaml.YAMLError:  # the stored text was a valid rule when the run was made
        return []
    deductions = document.get("deductions") if isinstance(document, dict) else None
    return [
        f"{item['name']}{DEDUCTION_SUFFIX}" for item in deductions or [] if isinstance(item, dict) and "name" in item
    ]


def _settlement_figures(session: Session, settlement_ids: list[int]) -> tuple[int, int, int, int]:
    """kWh of the base rows, base and subsidy income, and the credits of their receivable entries."""
    where, parameters = _in_list("s", settlement_ids)
    kwh, base, subsidy = session.execute(
        text(
            "SELECT coalesce(sum(CASE WHEN revenue_type = 'base' THEN kwh ELSE 0 END), 0), "
            "coalesce(sum(CASE WHEN revenue_type = 'base' THEN amount_fen ELSE 0 END), 0), "
            "coalesce(sum(CASE WHEN revenue_type = 'subsidy' THEN amount_fen ELSE 0 END), 0) "
            f"FROM pv_settlements WHERE id IN {where}"
        ),
        parameters,
    ).one()
    ledger = session.execute(
        text(
            "SELECT coalesce(sum(-p.amount_fen), 0) FROM postings p JOIN pv_settlements s "
            f"ON s.receivable_entry_id = p.entry_id WHERE p.amount_fen < 0 AND s.id IN {where}"
        ),
        parameters,
    ).scalar_one()
    return int(kwh), int(base), int(subsidy), int(ledger)


def _ledger_lines_fen(session: Session, run_ids: list[int]) -> int:
    """The debits of the runs' own entries: one per group of lines, for the group's total."""
    where, parameters = _in_list("r", [f"run {run_id}" for run_id in run_ids])
    return int(
        session.execute(
            text(
                "SELECT coalesce(sum(p.amount_fen), 0) FROM postings p JOIN journal_entries e ON e.id = p.entry_id "
                f"WHERE e.source_kind = 'allocation_run' AND p.amount_fen > 0 AND e.source_reference IN {where}"
            ),
            parameters,
        ).scalar_one()
    )


def _station_year(session: Session, station_id: str, runs: list[tuple[int, str, str, str]]) -> StationYear:
    run_ids = [run[0] for run in runs]
    settlement_ids = sorted({int(row[0]) for run in runs for row in json.loads(run[3]).get("settlements", [])})
    kwh, base, subsidy, ledger_income = _settlement_figures(session, settlement_ids)
    where, parameters = _in_list("r", run_ids)
    totals = {
        str(component): int(amount)
        for component, amount in session.execute(
            text(f"SELECT component, sum(amount_fen) FROM allocation_lines WHERE run_id IN {where} GROUP BY component"),
            parameters,
        )
    }
    order = list(dict.fromkeys(name for run in runs for name in _deduction_order(run[2])))
    order += sorted(name for name in totals if name.endswith(DEDUCTION_SUFFIX) and name not in order)
    deductions = tuple((deduction_name(name), totals.get(name, 0)) for name in order)
    parts = {name: totals[name] for name in PART_COMPONENTS if totals.get(name)}
    asset = session.execute(
        text("SELECT name, capacity_w FROM assets WHERE asset_id = :station"), {"station": station_id}
    ).one_or_none()
    return StationYear(
        station_id,
        str(asset[0]) if asset else station_id,
        None if asset is None or asset[1] is None else int(asset[1]),
        tuple(run_ids),
        kwh,
        base,
        subsidy,
        deductions,
        parts,
        ledger_income,
        _ledger_lines_fen(session, run_ids),
    )


def tie_problems(station: StationYear) -> list[str]:
    """Why a station's year does not add up or does not agree with the ledger (empty: it ties)."""
    problems = []
    if station.lines_fen != station.income_fen:
        problems.append(
            tr(
                "{station}: the runs' lines sum to {lines} yuan but the settlements they allocated to {income} yuan",
                station=station.station_id,
                lines=format_yuan(station.lines_fen),
                income=format_yuan(station.income_fen),
            )
        )
    if station.ledger_income_fen != station.income_fen:
        problems.append(
            tr(
                "{station}: income {income} yuan, but the ledger's receivable entries of those settlements credit "
                "{ledger} yuan",
                station=station.station_id,
                income=format_yuan(station.income_fen),
                ledger=format_yuan(station.ledger_income_fen),
            )
        )
    if station.ledger_lines_fen != station.lines_fen:
        problems.append(
            tr(
                "{station}: deductions and parts {lines} yuan, but the runs' entries in the ledger post {ledger} yuan",
                station=station.station_id,
                lines=format_yuan(station.lines_fen),
                ledger=format_yuan(station.ledger_lines_fen),
            )
        )
    return problems


def _village_rows(session: Session, run_ids: list[int]) -> dict[tuple[str, str], VillageShare]:
    """Per (station, village): what the village, its public-welfare workers and its households got."""
    where, parameters = _in_list("r", run_ids)
    rows = session.execute(
        text(
            "SELECT r.rule_subject, l.village_code, l.component, sum(l.amount_fen), count(DISTINCT l.payee_id) "
            f"FROM allocation_lines l JOIN allocation_runs r ON r.id = l.run_id WHERE l.run_id IN {where} "
            "AND l.village_code IS NOT NULL AND l.component IN (:collective, :wages, :households) "
            "GROUP BY r.rule_subject, l.village_code, l.component"
        ),
        {**parameters, "collective": COLLECTIVE_COMPONENT, "wages": WAGE_COMPONENT, "households": HOUSEHOLD_COMPONENT},
    ).all()
    figures: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
    for station, village, component, amount, payees in rows:
        figures.setdefault((str(station), str(village)), {})[str(component)] = (int(amount), int(payees))
    return {
        key: VillageShare(
            values.get(COLLECTIVE_COMPONENT, (0, 0))[0],
            values.get(WAGE_COMPONENT, (0, 0))[0],
            values.get(WAGE_COMPONENT, (0, 0))[1],
            values.get(HOUSEHOLD_COMPONENT, (0, 0))[0],
            values.get(HOUSEHOLD_COMPONENT, (0, 0))[1],
        )
        for key, values in figures.items()
    }


def _households(session: Session, run_ids: list[int], village: str) -> tuple[tuple[str, str, str, int], ...]:
    """The village's households' PV income of the year, masked as on every notice."""
    where, parameters = _in_list("r", run_ids)
    rows = session.execute(
        text(
            "SELECT l.household_id, max(v.head_name), max(v.head_id_number), sum(l.amount_fen) "
            "FROM allocation_lines l LEFT JOIN household_versions v ON v.household_id = l.household_id "
            "AND v.id = (SELECT max(id) FROM household_versions w WHERE w.household_id = l.household_id) "
            f"WHERE l.run_id IN {where} AND l.village_code = :village AND l.component = :households "
            "GROUP BY l.household_id ORDER BY l.household_id"
        ),
        {**parameters, "village": village, "households": HOUSEHOLD_COMPONENT},
    ).all()
    return tuple(
        (str(household), mask_name(name), mask_identifier(id_number) or "", int(amount))
        for household, name, id_number, amount in rows
    )


def _station_villages(session: Session, station_ids: list[str]) -> dict[str, set[str]]:
    where, parameters = _in_list("a", station_ids)
    return {
        str(asset): set(json.loads(codes or "[]"))
        for asset, codes in session.execute(
            text(f"SELECT asset_id, village_codes FROM assets WHERE asset_id IN {where}"), parameters
        )
    }


def _village_names(session: Session, codes: list[str]) -> dict[str, str]:
    where, parameters = _in_list("c", codes)
    names = {
        str(code): str(name)
        for code, name in session.execute(text(f"SELECT code, name FROM entities WHERE code IN {where}"), parameters)
    }
    return {code: names.get(code, code) for code in codes}


def annual_pv_notices(
    session: Session, year: int, *, village: str | None = None, first_day: dt.date | None = None, days: int = 7
) -> tuple[AnnualPvNotice, ...]:
    """The annual PV notices of ``year``, one per village (or only ``village``), from the PV runs
    posted for the year's periods. Refused when no PV run was posted that year, when the village
    has no PV figures, or when a station's figures do not tie to the ledger."""
    first = first_day or dt.date.today()
    last = first + dt.timedelta(days=checked_notice_days(days) - 1)
    runs = _year_runs(session, year)
    if not runs:
        raise DisburseError(tr("no PV run was posted for a period of {year}: there is nothing to publish", year=year))
    by_station: dict[str, list[tuple[int, str, str, str]]] = {}
    for run in runs:
        by_station.setdefault(run[1], []).append(run)
    stations = {station: _station_year(session, station, rows) for station, rows in sorted(by_station.items())}
    problems = [problem for station in stations.values() for problem in tie_problems(station)]
    if problems:
        raise DisburseError(
            tr(
                "the PV figures of {year} do not tie to the ledger: {problems}",
                year=year,
                problems=join_clauses(problems),
            )
        )
    shares = _village_rows(session, [run[0] for run in runs])
    declared = _station_villages(session, list(stations))
    villages: dict[str, list[str]] = {}
    for station in stations:
        for code in sorted(declared.get(station, set()) | {key[1] for key in shares if key[0] == station}):
            villages.setdefault(code, []).append(station)
    if village is not None:
        if village not in villages:
            raise DisburseError(tr("village {village} has no PV figures in {year}", village=village, year=year))
        villages = {village: villages[village]}
    if len(villages) > VILLAGES_MAX:
        raise DisburseError(
            tr("{count:,} villages; notices are written for at most {limit:,}", count=len(villages), limit=VILLAGES_MAX)
        )
    names, phone, empty = _village_names(session, sorted(villages)), hotline(), VillageShare(0, 0, 0, 0, 0)
    return tuple(
        AnnualPvNotice(
            year,
            code,
            names[code],
            first,
            last,
            phone,
            tuple((stations[station], shares.get((station, code), empty)) for station in station_ids),
            _households(session, [run for station in station_ids for run in stations[station].run_ids], code),
        )
        for code, station_ids in sorted(villages.items())
    )
