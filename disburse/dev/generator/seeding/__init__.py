"""``seed_county``: plant the anomalies national audits found, and the near-misses that must not
be flagged, into a county ``generate_county`` wrote.

The generated files stay as they are; everything planted goes under ``seeded/`` (a register
snapshot before the runs and one after the payment, rosters, shares, settlement files, rules,
hand-made payable lists, a village account's statement), and ``anomalies.json`` says what was
planted (kind, the checks that must find it, its subjects) and what the month's builder
(``disburse.dev.audit_month.build_month``) must do with each file. The same county, plan and
seed always give the same files: the seeding draws from a random stream of its own.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import yaml

from disburse.dev.audit_month import MANIFEST_NAME
from disburse.dev.generator.seeding.county import documented_real, read_county, write_csv
from disburse.dev.generator.seeding.plants import (
    AFTER_PAYMENT,
    EXAMPLES,
    POST_PAYMENT_SNAPSHOT,
    PRE_RUN_SNAPSHOT,
    SEEDED,
    Seeder,
)
from disburse.dev.generator.seeding.snapshots import snapshot_rows

DEFAULT_PLAN = Path(__file__).with_name("anomalies.yaml")
SEEDING_STREAM = 18  # the seeding's own stream of the county's seed (issue 18)
ANOMALY_KINDS = (
    # The plants that need scarce households (a pupil, a ranger in a station's village) first.
    "paid_after_exit", "paid_twice", "incompatible_programmes", "paid_after_death", "person_in_two_households",
    "money_idle_payable", "money_idle_settlement", "money_idle_fund", "equal_split", "copied_list",
    "too_many_in_household", "dividend_below_floor", "settlement_mismatch", "station_no_output", "pv_household_share",
    "wages_clawed_back", "just_under_threshold", "payee_not_beneficiary", "account_name_mismatch", "above_norm",
)  # fmt: skip
NEAR_MISS_KINDS = (
    "card_shared_in_household", "death_after_payment", "prorated_exit", "dated_move", "second_settlement_other_period",
    "amount_just_above_threshold", "small_transfer_from_wage_card", "refund_of_failed_wage", "large_pv_claimant",
)  # fmt: skip
VILLAGE_BANK = "商州农村商业银行"


def load_plan(path: Path | None) -> tuple[list[str], list[str]]:
    """The anomaly and near-miss kinds a plan file turns on (``true``), refused when it names
    one that does not exist."""
    source = Path(path or DEFAULT_PLAN)
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ValueError(f"{source} is not YAML: {error}") from None
    if not isinstance(document, dict) or set(document) - {"anomalies", "near_misses"}:
        raise ValueError(f"{source}: a plan has the sections anomalies and near_misses only")
    chosen = []
    for section, known in (("anomalies", ANOMALY_KINDS), ("near_misses", NEAR_MISS_KINDS)):
        entries = document.get(section) or {}
        unknown = sorted(set(entries) - set(known))
        if unknown:
            raise ValueError(f"{source}: {section} has no kind {', '.join(unknown)}; the kinds are {', '.join(known)}")
        if any(not isinstance(value, bool) for value in entries.values()):
            raise ValueError(f"{source}: every {section} entry is true or false")
        chosen.append([kind for kind in known if entries.get(kind)])
    return chosen[0], chosen[1]


def seed_county(directory: Path, seed: int, plan_path: Path | None = None) -> Path:
    """Plant what the plan turns on into the county in ``directory``; returns the manifest."""
    anomalies, near_misses = load_plan(plan_path)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, SEEDING_STREAM])))
    county = read_county(Path(directory), rng)
    seeder = Seeder(county, seed)
    # Near-misses first: they need the ordinary households (a pupil on the head's card, a
    # cooperative holder) before the anomalies take households of their own.
    for kind in near_misses:
        getattr(seeder, kind)()
    for kind in anomalies:
        getattr(seeder, kind)()
    return _finish(seeder, plan_path)


def _finish(seeder: Seeder, plan_path: Path | None) -> Path:
    county, books = seeder.county, seeder.books
    if seeder.pre_run:
        header, rows = snapshot_rows(county, seeder.pre_run)
        write_csv(seeder.path(f"{SEEDED}/register_{PRE_RUN_SNAPSHOT}.csv"), header, rows)
        books["registers_before_runs"] = [f"{SEEDED}/register_{PRE_RUN_SNAPSHOT}.csv"]
    if seeder.post_payment:
        header, rows = snapshot_rows(county, seeder.pre_run + seeder.post_payment)
        write_csv(seeder.path(f"{AFTER_PAYMENT}/register_{POST_PAYMENT_SNAPSHOT}.csv"), header, rows)
        books["registers_after_payment"] = [f"{AFTER_PAYMENT}/register_{POST_PAYMENT_SNAPSHOT}.csv"]
    if seeder.rangers_changed:
        write_csv(seeder.path(f"{SEEDED}/forest_rangers_2026-10.csv"), county.rangers_header, county.rangers)
        books["forest_rangers"] = f"{SEEDED}/forest_rangers_2026-10.csv"
    if seeder.jobs_changed:
        write_csv(seeder.path(f"{SEEDED}/public_welfare_jobs_2026-10.csv"), county.jobs_header, county.jobs)
        books["public_welfare_jobs"] = f"{SEEDED}/public_welfare_jobs_2026-10.csv"
    if seeder.shares_changed:
        write_csv(seeder.path(f"{SEEDED}/shares.csv"), county.shares_header, county.shares)
        books["shares"] = f"{SEEDED}/shares.csv"
    if seeder.repairs:
        relative = f"{SEEDED}/house_repair_2026-10.csv"
        write_csv(seeder.path(relative), ["户编号", "改造类型"], sorted(seeder.repairs))
        rule = seeder.write_rule("house_repair.yaml", (EXAMPLES / "house_repair.yaml").read_text(encoding="utf-8"))
        books["rules"].insert(0, {"file": rule, "period": "2026-10", "inputs": relative})
    if seeder.village_lines:
        books["statements"].append(_village_statement(seeder))
    books["protect"] = sorted(set(books["protect"]))
    manifest = {
        "seed": seeder.seed,
        "plan": str(plan_path or DEFAULT_PLAN.name),
        "checks_on": "2026-12-01",
        "anomalies": seeder.anomalies,
        "near_misses": seeder.near_misses,
        # Findings the generated county raises by itself and that are real.
        "real": documented_real(county.directory),
        "books": books,
    }
    path = county.directory / MANIFEST_NAME
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def _village_statement(seeder: Seeder) -> dict:
    """The statement of a village collective's account: the transfers the plants put there,
    between an opening balance and a month's interest, with a running balance."""
    from disburse.dev.demo.bank import StatementLine, write_statement

    county = seeder.county
    village = county.households["village_code"].sort_values().iloc[0]
    name = county.people.loc[county.people["village_code"] == village, "行政村"].iloc[0] + "股份经济合作社"
    account = "2703" + "".join(str(digit) for digit in county.rng.integers(0, 10, 14))
    lines = [
        StatementLine(on, summary, counterparty, holder, amount, f"{holder}转入")
        for on, summary, counterparty, amount, holder in seeder.village_lines
    ] + [StatementLine(dt.date(2026, 11, 30), "结息", "", "", 321, "活期存款利息")]
    relative = f"{SEEDED}/village_statement_2026-11.csv"
    write_statement(seeder.path(relative), 1_000_000, lines, first_transaction=900_001)
    return {"entity": village, "entity_name": name, "bank": VILLAGE_BANK, "account": account, "file": relative}


__all__ = ["ANOMALY_KINDS", "DEFAULT_PLAN", "NEAR_MISS_KINDS", "documented_real", "load_plan", "seed_county"]
