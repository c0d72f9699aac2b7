"""One month of books built from a generated county, the way the audit checks are tried on it.

``build_month`` imports a county written by ``generate county`` (seeded with
``--seed-anomalies`` or not), runs the example rules for October 2026, pays everything through
the bank (a return file with a few failures, the month's statement), and, for a seeded county,
carries out what its manifest (``anomalies.json``) asks of the books: extra register snapshots
before the runs and after the payment, extra settlement files, rule variants, hand-made payable
lists, card fixes, payments that fail, extra batches and a village account's statement. Every
step calls the engine's own service functions, never a table behind its back, so what the
checks then see is what the engine wrote.

The dates are fixed (see ``MonthDates``), so two builds of one county give the same books.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import yaml

from disburse.allocations.rules import EXAMPLES_DIRECTORY
from disburse.dev.demo.cycle import collective_village_of
from disburse.dev.generator.settlements import period_arrivals
from disburse.foundation.db import make_engine, transaction
from disburse.foundation.frames import query_frame
from disburse.foundation.i18n import tr
from disburse.foundation.money import format_yuan
from disburse.ledger.model import EntryBatch, EntryDraft, PostingDraft

CLERK = "县财政局-张会计"
APPROVER = "县财政局-李科长"
DIRECTOR = "县财政局-王局长"
CENTRE = "政策兑现中心-赵出纳"
COUNTY_BANK = "中国农业银行商州支行"
COUNTY_ACCOUNT = "6228480012345678901"
FIX_BANK = "中国农业银行商州支行"  # the bank of a card a fix moves a payee to, unless the plan names one
OPENING_BALANCE_FEN = 2_000_000_000  # 20,000,000.00 yuan: enough for every payment of the month
EXPORT_PROFILE = "generic"
FAILURE_SHARE_PERCENT = 2
FAILURE_REASONS = ("户名不符", "账户已销户", "账户冻结", "账号不存在")
MANIFEST_NAME = "anomalies.json"
PERIOD = "2026-10"


@dataclass(frozen=True, slots=True)
class MonthDates:
    """The month's calendar: runs posted on the period's last day, the bank paid on
    ``paid_on`` and answered on ``returned_on``; the checks run on ``checks_on``."""

    period_end: dt.date = dt.date(2026, 10, 31)
    paid_on: dt.date = dt.date(2026, 11, 20)
    returned_on: dt.date = dt.date(2026, 11, 25)
    statement_on: dt.date = dt.date(2026, 11, 30)
    checks_on: dt.date = dt.date(2026, 12, 1)


DATES = MonthDates()


@dataclass
class MonthBooks:
    """What ``build_month`` did: the database, its working files and a line per step."""

    database_url: str
    work_dir: Path
    checks_on: dt.date
    steps: list[str] = field(default_factory=list)
    batches: list[str] = field(default_factory=list)


def _read_manifest(county_dir: Path) -> dict:
    path = county_dir / MANIFEST_NAME
    if not path.exists():
        return {"books": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def _example_rule(name: str) -> dict:
    return yaml.safe_load((EXAMPLES_DIRECTORY / name).read_text(encoding="utf-8"))


def _write_rule(rule: dict, out: Path) -> Path:
    out.write_text(yaml.safe_dump(rule, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def station_rule(station: dict, out: Path, *, households_percent: int = 70) -> Path:
    """The example PV rule pointed at one station; ``households_percent`` moves the household
    part (the collective part takes the difference, the wage part stays at 10%). The station's
    capacity comes from the register, as the example leaves it."""
    rule = _example_rule("pv_revenue.yaml")
    rule["name"] = rule["name"].replace("PV-611002-001", station["asset_id"])
    rule["station_id"] = station["asset_id"]
    rule["fund_source"] = rule["fund_source"].replace("PV-611002-001", station["asset_id"])
    rule["parts"]["collective"]["percent"] = f"{90 - households_percent}%"
    rule["parts"]["households"]["percent"] = f"{households_percent}%"
    return _write_rule(rule, out)


def dividend_rule(
    cooperative: dict,
    collective_village: str,
    out: Path,
    *,
    pool_yuan: str,
    floor_percent: str = "5%",
    period: tuple[str, str] = ("2026-01-01", "2026-12-31"),
    name: str | None = None,
) -> Path:
    """The example dividend rule pointed at one cooperative and one of its villages."""
    rule = _example_rule("coop_dividend.yaml")
    rule["name"] = name or f"{cooperative['asset_id']} 2026年度拨改股分红"
    rule["cooperative_id"] = cooperative["asset_id"]
    rule["fund_source"] = rule["fund_source"].replace("COOP-001", cooperative["asset_id"])
    rule["collective_id"] = collective_village
    rule["pool_yuan"] = pool_yuan
    rule["floor_rate"] = floor_percent
    rule["period"] = {"start": dt.date.fromisoformat(period[0]), "end": dt.date.fromisoformat(period[1])}
    return _write_rule(rule, out)


def split_roster_by_station(roster: Path, register: Path, stations: list[dict], out_dir: Path) -> dict[str, Path]:
    """The county's public-welfare job roster cut into one file per station, each person under
    the station that serves their village, so no station pays a wage another one pays."""
    village_of: dict[str, str] = {}
    with register.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            village_of[row["证件号码"]] = row["村代码"]
    station_of_village = {code: station["asset_id"] for station in stations for code in station["village_codes"]}
    with roster.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    parts: dict[str, list[list[str]]] = {station["asset_id"]: [] for station in stations}
    for row in rows:
        station = station_of_village.get(village_of.get(row[0], ""))
        if station is not None:
            parts[station].append(row)
    paths = {}
    for station_id, station_rows in parts.items():
        path = out_dir / f"public_welfare_jobs_{station_id}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(station_rows)
        paths[station_id] = path
    return paths


def write_return(
    instructions: pd.DataFrame, path: Path, failures: dict[str, str], profile_name: str = EXPORT_PROFILE
) -> pd.DataFrame:
    """The bank's answer to a batch in the profile's return layout: the instructions whose
    reference is in ``failures`` fail with its reason, all others succeed. Returns the
    instructions with ``status`` and ``reason``."""
    from disburse.importers.bank_profiles import profile_by_name

    layout = profile_by_name(profile_name).bank_return
    assert layout is not None
    decided = instructions.sort_values("payment_reference").reset_index(drop=True).copy()
    decided["reason"] = [failures.get(reference, "") for reference in decided["payment_reference"]]
    decided["status"] = np.where(decided["reason"] != "", "failure", "success")

    def header(name: str) -> str:
        names = layout.columns[name]
        return names if isinstance(names, str) else names[0]

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([header(name) for name in ("account_no", "account_name", "amount", "status", "reason", "memo")])
        for row in decided.to_dict("records"):
            writer.writerow(
                [
                    row["account_no"],
                    row["account_name"],
                    format_yuan(int(row["amount_fen"]), thousands=False),
                    layout.success_values[0] if row["status"] == "success" else layout.failure_values[0],
                    row["reason"],
                    row["payment_reference"],
                ]
            )
    return decided


def chosen_failures(instructions: pd.DataFrame, seed: int, failing: set[str], protected: set[str]) -> dict[str, str]:
    """About FAILURE_SHARE_PERCENT of the payments fail at random (seeded), never a protected
    payee's; the payees in ``failing`` always fail."""
    rng = np.random.default_rng([seed, 18])
    ordered = instructions.sort_values("payment_reference")
    draws = rng.random(len(ordered))
    reasons = rng.integers(0, len(FAILURE_REASONS), len(ordered))
    failures = {}
    for row, draw, reason in zip(ordered.to_dict("records"), draws, reasons):
        payee = str(row["payee_id"])
        if payee in failing:
            failures[row["payment_reference"]] = "账户冻结"
        elif draw < FAILURE_SHARE_PERCENT / 100 and payee not in protected and row["household_id"] not in protected:
            failures[row["payment_reference"]] = FAILURE_REASONS[int(reason)]
    return failures


def build_month(
    county_dir: Path,
    database_url: str,
    *,
    work_dir: Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> MonthBooks:
    """Build October 2026's books of the county in ``county_dir`` into the (empty) database
    ``database_url``; working files (rules, rosters, bank files) go to ``work_dir`` (default
    ``county_dir/books``). A manifest ``anomalies.json`` in the county makes it a seeded month."""
    from disburse.schema import migrate as schema

    county_dir = Path(county_dir)
    work = Path(work_dir or county_dir / "books")
    work.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(county_dir)
    plan = manifest.get("books", {})
    books = MonthBooks(database_url, work, DATES.checks_on)
    engine = make_engine(database_url)
    try:
        schema.migrate(engine)
        with transaction(engine) as session:
            schema.seed(session)
        month = _Month(engine, county_dir, work, plan, int(manifest.get("seed", 0)), books, progress)
        month.run()
    finally:
        engine.dispose()
    return books


class _Month:
    """The steps of one month, in order; each step one transaction, as a user's commands."""

    def __init__(
        self,
        engine,  # type: ignore[no-untyped-def]
        county_dir: Path,
        work: Path,
        plan: dict,
        seed: int,
        books: MonthBooks,
        progress: Callable[[str], None],
    ) -> None:
        self.engine = engine
        self.county = county_dir
        self.work = work
        self.plan = plan
        self.seed = seed
        self.books = books
        self.progress = progress
        self.assets = yaml.safe_load((county_dir / "assets.yaml").read_text(encoding="utf-8"))
        self.registers = sorted(county_dir.glob("register_*.csv"))

    def step(self, text: str) -> None:
        self.books.steps.append(text)
        self.progress(text)

    def path(self, name: str) -> Path:
        return self.county / name

    def run(self) -> None:
        self.open_books()
        self.import_registers()
        self.allocate()
        self.after_runs()
        self.pay_main_batch()
        self.extra_batches()
        self.statements()
        self.after_payment()

    # ------------------------------------------------------------------------------ books
    def open_books(self) -> None:
        from disburse.ledger.posting import post_entries
        from disburse.ledger.service import add_bank_account

        with transaction(self.engine) as session:
            add_bank_account(session, "COUNTY", COUNTY_BANK, COUNTY_ACCOUNT, CLERK, account_name="商州区扶贫资金专户")
            post_entries(
                session,
                EntryBatch.from_drafts(
                    [
                        EntryDraft(
                            "COUNTY",
                            "2026-10",
                            dt.date(2026, 10, 1),
                            "期初余额：县级扶贫资金专户",
                            (PostingDraft("102.01", OPENING_BALANCE_FEN), PostingDraft("241", -OPENING_BALANCE_FEN)),
                        )
                    ]
                ),
                idempotency_key="month:opening",
                user=CLERK,
            )
            for number, entry in enumerate(self.plan.get("journal", [])):
                post_entries(
                    session,
                    EntryBatch.from_drafts(
                        [
                            EntryDraft(
                                "COUNTY",
                                entry["date"][:7],
                                dt.date.fromisoformat(entry["date"]),
                                entry["memo"],
                                tuple(
                                    PostingDraft(code, int(amount), fund_source=fund)
                                    for code, amount, fund in entry["postings"]
                                ),
                            )
                        ]
                    ),
                    idempotency_key=f"month:journal:{number}",
                    user=CLERK,
                )
        self.step(tr("books opened: county account, opening balance"))

    def import_registers(self) -> None:
        from disburse.registry import service as registry

        today = DATES.paid_on
        with transaction(self.engine) as session:
            for path in self.registers:
                as_of = dt.date.fromisoformat(path.stem.split("_")[1])
                registry.import_register(session, path, user=CLERK, as_of=as_of, today=today)
            for name in self.plan.get("registers_before_runs", []):
                as_of = dt.date.fromisoformat(Path(name).stem.split("_")[1])
                registry.import_register(session, self.path(name), user=CLERK, as_of=as_of, today=today)
            registry.load_assets(session, self.county / "assets.yaml", user=CLERK)
            registry.import_shares(
                session,
                self.path(self.plan.get("shares", "shares.csv")),
                user=CLERK,
                as_of=dt.date(2026, 8, 31),
                today=today,
            )
            registry.import_settlements(session, self.county / "pv_settlements.csv", user=CLERK, today=today)
            # Money is shared out once received: the month's own settlement arrives on its last
            # day, so the October runs pay the October wage roster (公益岗位) from it.
            arrivals = period_arrivals(
                self.county / "pv_settlements.csv", PERIOD, DATES.period_end, self.work / "arrivals.csv"
            )
            if arrivals is not None:
                registry.import_settlements(session, arrivals, user=CLERK, today=today)
            for name in self.plan.get("settlements_before_runs", []):
                registry.import_settlements(session, self.path(name), user=CLERK, today=today)
        self.step(
            tr("registers, assets, shares and settlements imported ({count} snapshots)", count=len(self.registers))
        )

    # ------------------------------------------------------------------------------ runs
    def run_rule(self, rule: Path, period: str, inputs: Path | None = None) -> int:
        from disburse.allocations.runs import approve_run, calculate_run, post_run
        from disburse.payouts.payables import record_payables

        with transaction(self.engine) as session:
            outcome = calculate_run(session, rule, period, CLERK, inputs_path=inputs)
        with transaction(self.engine) as session:
            approve_run(session, outcome.run_id, APPROVER)
            posted = post_run(session, outcome.run_id, APPROVER, today=DATES.paid_on)
            record_payables(session, posted.payables)
        self.step(
            tr(
                "run {run} {rule} {period}: {lines:,} lines",
                run=outcome.run_id,
                rule=outcome.rule_name,
                period=period,
                lines=len(outcome.lines),
            )
        )
        return int(outcome.run_id)

    def allocate(self) -> None:
        rules_dir = self.work / "rules"
        rules_dir.mkdir(exist_ok=True)
        replaced = self.plan.get("rule_replacements", {})
        stations = self.assets["stations"]
        rosters = split_roster_by_station(
            self.path(self.plan.get("public_welfare_jobs", "public_welfare_jobs_2026-10.csv")),
            self.registers[-1],
            stations,
            rules_dir,
        )
        for station in stations:
            name = replaced.get(f"station:{station['asset_id']}")
            rule = self.path(name) if name else station_rule(station, rules_dir / f"pv-{station['asset_id']}.yaml")
            self.run_rule(rule, PERIOD, rosters[station["asset_id"]])
            for file_name in self.plan.get("settlements_after_run", {}).get(station["asset_id"], []):
                self.import_settlements(file_name)
        for cooperative in self.assets["cooperatives"]:
            name = replaced.get(f"cooperative:{cooperative['asset_id']}")
            village = collective_village_of(self.county / "shares.csv", cooperative["asset_id"])
            pool = "120000" if cooperative["asset_id"].endswith("1") else "200000"
            rule = (
                self.path(name)
                if name
                else dividend_rule(
                    cooperative, village, rules_dir / f"dividend-{cooperative['asset_id']}.yaml", pool_yuan=pool
                )
            )
            self.run_rule(rule, PERIOD)
        self.run_rule(EXAMPLES_DIRECTORY / "education_aid.yaml", PERIOD)
        self.run_rule(EXAMPLES_DIRECTORY / "dibao.yaml", PERIOD)
        self.run_rule(
            EXAMPLES_DIRECTORY / "forest_ranger.yaml",
            PERIOD,
            self.path(self.plan.get("forest_rangers", "forest_rangers_2026-10.csv")),
        )
        self.run_rule(EXAMPLES_DIRECTORY / "medical_topup.yaml", PERIOD, self.path("hospital_bills_2026-10.csv"))
        for extra in self.plan.get("rules", []):
            inputs = self.path(extra["inputs"]) if extra.get("inputs") else None
            self.run_rule(self.path(extra["file"]), extra["period"], inputs)

    def import_settlements(self, name: str) -> None:
        from disburse.registry import service as registry

        with transaction(self.engine) as session:
            registry.import_settlements(session, self.path(name), user=CLERK, today=DATES.paid_on)
        self.step(tr("settlements {file} imported", file=name))

    def after_runs(self) -> None:
        """Late settlements with a second run, hand-made payable lists, card fixes."""
        for late in self.plan.get("late_settlement_runs", []):
            self.import_settlements(late["file"])
            station = next(s for s in self.assets["stations"] if s["asset_id"] == late["station"])
            rule = station_rule(station, self.work / "rules" / f"pv-late-{late['station']}.yaml")
            self.run_rule(rule, PERIOD, self.path(late["inputs"]) if late.get("inputs") else None)
        for listed in self.plan.get("manual_payables", []):
            if listed.get("when", "before_batch") == "before_batch":
                self.record_list(listed)
        from disburse.payouts.fixes import approve_fix
        from disburse.payouts.service import fix_account

        for fix in self.plan.get("account_fixes", []):
            # The centre proposes each fix (a card shared with another household stated as
            # such, as the counter would), and the county's approver approves it: four eyes.
            with transaction(self.engine) as session:
                proposed = fix_account(
                    session,
                    fix["payee"],
                    fix["account_no"],
                    CENTRE,
                    account_name=fix.get("account_name"),
                    bank_name=fix.get("bank_name") or FIX_BANK,
                    reason=fix.get("reason", ""),
                    shared_with=fix.get("shared_with"),
                    today=DATES.paid_on,
                )
            if proposed.fix_reference is not None and proposed.status == "proposed":
                with transaction(self.engine) as session:
                    approve_fix(session, proposed.fix_reference, APPROVER, today=DATES.paid_on)
            self.step(tr("card fixed for {payee}", payee=fix["payee"]))

    def record_list(self, listed: dict) -> None:
        """A hand-made list of payables (a 补发 or 临时救助 list) and the voucher that owes it:
        Dr the expense account / Cr 211 for the list's total."""
        from disburse.ledger.posting import post_entries
        from disburse.payouts.payables import record_payables

        frame = pd.read_csv(self.path(listed["file"]), dtype=str, keep_default_na=False)
        frame = frame.replace("", None)
        frame["amount_fen"] = frame["amount_fen"].astype(np.int64)
        frame["source_line"] = frame["source_line"].astype(np.int64)
        frame["run_id"] = None
        total = int(frame["amount_fen"].sum())
        entry_on = dt.date.fromisoformat(listed.get("posted_on", DATES.period_end.isoformat()))
        with transaction(self.engine) as session:
            post_entries(
                session,
                EntryBatch.from_drafts(
                    [
                        EntryDraft(
                            "COUNTY",
                            entry_on.strftime("%Y-%m"),
                            entry_on,
                            f"{frame['programme'].iloc[0]} 应付",
                            (
                                PostingDraft(listed.get("expense_account", "514"), total),
                                PostingDraft("211", -total),
                            ),
                        )
                    ]
                ),
                idempotency_key=f"month:list:{listed['file']}",
                user=CLERK,
            )
            record_payables(session, frame)
        self.step(
            tr(
                "list {file}: {count} payables, {total} yuan",
                file=listed["file"],
                count=len(frame),
                total=format_yuan(total),
            )
        )

    # ------------------------------------------------------------------------------ paying
    def pay(self, on: dt.date, *, programme: str | None = None, period: str | None = None) -> tuple[str, pd.DataFrame]:
        from disburse.payouts.service import (
            approve_batch,
            batch_by_reference,
            batch_instructions,
            export_batch,
            prepare_batch,
        )

        with transaction(self.engine) as session:
            prepared = prepare_batch(session, "COUNTY", CENTRE, programme=programme, period=period, today=on)
        reference = prepared.batch_reference
        assert reference is not None, prepared.message
        with transaction(self.engine) as session:
            approve_batch(session, reference, APPROVER)
            if prepared.approvals_required > 1:
                approve_batch(session, reference, DIRECTOR)
        with transaction(self.engine) as session:
            export_batch(session, reference, EXPORT_PROFILE, self.work / "bank" / f"{reference}.csv", CENTRE, today=on)
            instructions = batch_instructions(session, batch_by_reference(session, reference).id)
            payees = query_frame(
                session,
                "SELECT i.id, i.payee_id FROM payment_instructions i JOIN payment_batches b ON b.id = i.batch_id "
                "WHERE b.batch_reference = :reference",
                reference=reference,
            )
        instructions = instructions.merge(payees, on="id", how="left")
        self.books.batches.append(reference)
        self.step(
            tr(
                "batch {batch}: {count:,} payments, {total} yuan",
                batch=reference,
                count=len(instructions),
                total=format_yuan(prepared.total_fen),
            )
        )
        return reference, instructions

    def answer(self, reference: str, instructions: pd.DataFrame, on: dt.date) -> pd.DataFrame:
        from disburse.payouts.settlement import apply_return_file

        failures = chosen_failures(
            instructions, self.seed, set(self.plan.get("fail_payees", [])), set(self.plan.get("protect", []))
        )
        path = self.work / "bank" / f"{reference}-回盘.csv"
        decided = write_return(instructions, path, failures)
        with transaction(self.engine) as session:
            outcome = apply_return_file(session, path, EXPORT_PROFILE, CENTRE, on=on)
        self.step(tr("return {batch}: {outcome}", batch=reference, outcome=outcome.message))
        return decided

    def pay_main_batch(self) -> None:
        reference, instructions = self.pay(DATES.paid_on, period=PERIOD)
        self.main = (reference, self.answer(reference, instructions, DATES.returned_on))
        for period in self.plan.get("also_pay_periods", []):
            reference, instructions = self.pay(DATES.paid_on, period=period)
            self.answer(reference, instructions, DATES.returned_on)

    def extra_batches(self) -> None:
        """Lists recorded after the main batch, each paid in a batch of its own on its day."""
        for listed in self.plan.get("manual_payables", []):
            if listed.get("when") != "own_batch":
                continue
            self.record_list(listed)
            on = dt.date.fromisoformat(listed["paid_on"])
            programme = pd.read_csv(self.path(listed["file"]), dtype=str)["programme"].iloc[0]
            reference, instructions = self.pay(on, programme=programme)
            self.answer(reference, instructions, on)

    # ------------------------------------------------------------------------------ bank
    def statements(self) -> None:
        from disburse.dev.demo import bank
        from disburse.ledger.service import add_bank_account, add_entity
        from disburse.reconciliation.statements import import_statement

        reference, decided = self.main
        lines = bank.month_statement_lines(
            on=DATES.paid_on,
            batch_reference=reference,
            decided=decided,
            settlement_receipts=[],
            fee_per_payee_fen=50,
            interest_fen=123_456,
        )
        path = self.work / "bank" / "对账单-2026-11.csv"
        bank.write_statement(path, OPENING_BALANCE_FEN, lines, first_transaction=1)
        with transaction(self.engine) as session:
            import_statement(session, path, COUNTY_ACCOUNT, CENTRE)
        for statement in self.plan.get("statements", []):
            with transaction(self.engine) as session:
                known = query_frame(session, "SELECT name FROM entities WHERE code = :code", code=statement["entity"])
                if known.empty:  # villages of the assets file exist already
                    add_entity(session, statement["entity"], statement["entity_name"], "village", CLERK)
                add_bank_account(
                    session, statement["entity"], statement["bank"], statement["account"], CLERK,
                    account_name=known["name"].iloc[0] if len(known) else statement["entity_name"],
                )  # fmt: skip
                import_statement(session, self.path(statement["file"]), statement["account"], CENTRE)
            self.step(tr("statement of {entity} imported", entity=statement["entity_name"]))

    def after_payment(self) -> None:
        from disburse.registry import service as registry

        for name in self.plan.get("registers_after_payment", []):
            as_of = dt.date.fromisoformat(Path(name).stem.split("_")[1])
            with transaction(self.engine) as session:
                registry.import_register(session, self.path(name), user=CLERK, as_of=as_of, today=DATES.checks_on)
            self.step(tr("register {file} imported after the payment", file=name))


__all__ = ["DATES", "MonthBooks", "MonthDates", "build_month"]
