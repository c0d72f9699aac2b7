"""`disburse demo`: a whole monthly cycle on generated example data, in a fresh SQLite file.

It generates a county of a few thousand households and imports it; runs a month of PV revenue,
a cooperative dividend and two subsidies; approves as a second user and posts; prepares and
exports a bank batch; simulates the bank's return file (some failures) and statement;
reconciles; and runs the anomaly checks. Each step calls the same service functions the
commands call, so the demo shows the real engine, not a simulation of it.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from disburse.allocations.rules import EXAMPLES_DIRECTORY
from disburse.foundation.dates import period_of
from disburse.foundation.db import make_engine, transaction
from disburse.foundation.i18n import join_clauses, join_list, tr
from disburse.foundation.money import format_yuan
from disburse.importers.bank_profiles import profile_label
from disburse.ledger.model import EntryBatch, EntryDraft, PostingDraft
from disburse.schema import migrate as schema

FINANCE_USER = "县财政局-张会计"
APPROVER_USER = "县财政局-李科长"
DIRECTOR_USER = "县财政局-王局长"
TOWNSHIP_USER = "板桥镇财政所-周所长"
# The demo's two-level review chain (issue 14 item 3), on education aid: the township's finance
# office first, then the county's final review; each level is a different account.
REVIEW_CHAIN = """
review:
  levels:
    - {level: 乡镇}
    - {level: 财政终审}
"""
REVIEWERS = {"乡镇": TOWNSHIP_USER, "财政终审": APPROVER_USER}
CENTRE_USER = "政策兑现中心-赵出纳"
AUDITOR_USER = "县审计局-孙审计"
HOUSEHOLDS = 3_000
SEED = 2026
BANK_NAME = "中国农业银行商州支行"
BANK_ACCOUNT = "6228480012345678901"
BANK_LEDGER_ACCOUNT = "102.01"
OPENING_BALANCE_FEN = 500_000_000  # 5,000,000.00 yuan of county special funds at the month's start
EXAMPLES = EXAMPLES_DIRECTORY
EXPORT_PROFILE = "generic"
HOTLINE = "0914-12317"  # 监督电话 printed on the demo's 明白卡 (an example number)
# The demo's runs are publicly posted (公示) for this many days; the notices start that many
# days before the demo's day, so the batch is prepared the day after the last one.
NOTICE_DAYS = 7
# The budget indicators (资金指标) the subsidies draw on: education aid and forest rangers' wages.
FUNDS_FILE = Path(__file__).with_name("funds.csv")


@dataclass
class DemoSummary:
    """What the demo did: its steps with figures, and where its files are."""

    directory: Path
    database_url: str
    steps: list[tuple[str, str]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0


def rule_for_station(template: Path, station: dict, out: Path) -> Path:
    """An example PV rule pointed at a generated station (its capacity comes from the register)."""
    out.write_text(template.read_text(encoding="utf-8").replace("PV-611002-001", station["asset_id"]), encoding="utf-8")
    return out


def with_notice(rule: Path, out: Path) -> Path:
    """The rule with ``notice: {days: NOTICE_DAYS}``: its runs are posted before they are paid."""
    text = rule.read_text(encoding="utf-8")
    out.write_text(text.rstrip("\n") + f"\nnotice: {{days: {NOTICE_DAYS}}}\n", encoding="utf-8")
    return out


def rule_for_cooperative(template: Path, cooperative: dict, out: Path, pool_yuan: str | None = None) -> Path:
    """An example dividend rule pointed at a generated cooperative; exited households' shares go
    back to their own village's collective, as the example says."""
    text = template.read_text(encoding="utf-8").replace("COOP-001", cooperative["asset_id"])
    if pool_yuan is not None:
        assert 'pool_yuan: "120000"' in text, "the example dividend rule no longer declares its pool"
        text = text.replace('pool_yuan: "120000"', f'pool_yuan: "{pool_yuan}"')
    out.write_text(text, encoding="utf-8")
    return out


def rule_with_review(template: Path, out: Path) -> Path:
    """An example rule with the demo's two-level review chain."""
    out.write_text(template.read_text(encoding="utf-8") + REVIEW_CHAIN, encoding="utf-8")
    return out


def collective_village_of(shares_path: Path, cooperative_id: str) -> str:
    """A village collective that holds shares of the cooperative (it takes back exited shares)."""
    return next(
        line.split(",")[2]
        for line in Path(shares_path).read_text(encoding="utf-8").splitlines()[1:]
        if line.startswith(cooperative_id + ",") and ",村集体," in line
    )


def _book_balance_before(session, account_code: str, day: dt.date) -> int:  # type: ignore[no-untyped-def]
    """The books' balance of ``account_code`` (COUNTY) from the postings dated before ``day``."""
    from sqlalchemy import text

    return int(
        session.execute(
            text(
                "SELECT coalesce(sum(p.amount_fen), 0) FROM postings p JOIN journal_entries e ON e.id = p.entry_id "
                "WHERE p.account_code = :account AND e.entry_date < :day"
            ),
            {"account": account_code, "day": day.isoformat()},
        ).scalar_one()
    )


def _settlement_rules(stations: list[tuple[str, int]], out: Path) -> Path:
    """post-unmatched rules: fees, interest, and each station's grid receipts clearing 112."""
    from disburse.dev.demo.bank import GRID_ACCOUNT

    rules = [
        {
            "name": "银行手续费",
            "when": {"summary_contains": ["手续费"], "direction": "out"},
            "account": "513",
            "memo": "银行手续费",
        },
        {
            "name": "存款利息",
            "when": {"summary_contains": ["结息", "利息"], "direction": "in"},
            "account": "504",
            "memo": "银行存款利息",
        },
    ] + [
        {
            "name": f"电费结算 {station}",
            "when": {"counterparty_accounts": [GRID_ACCOUNT], "memo_contains": [station], "direction": "in"},
            "account": "112",
            "fund_source": station,
            "memo": f"{station} 电费结算到账",
        }
        for station, _ in stations
    ]
    out.write_text(yaml.safe_dump({"rules": rules}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def run_demo(
    directory: Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
    households: int = HOUSEHOLDS,
    today: dt.date | None = None,
) -> DemoSummary:
    """Run the cycle in ``directory`` (default: a new temporary directory)."""
    started = time.perf_counter()
    directory = Path(directory or tempfile.mkdtemp(prefix="disburse-demo-"))
    directory.mkdir(parents=True, exist_ok=True)
    cycle = _Cycle(directory, today or dt.date.today(), progress)
    try:
        cycle.generate(households)
        cycle.open_books()
        cycle.import_files()
        cycle.allocate()
        cycle.notice()
        cycle.pay()
        cycle.bank_return()
        cycle.reconcile()
        cycle.audit_and_report()
    finally:
        cycle.engine.dispose()
    cycle.summary.seconds = time.perf_counter() - started
    return cycle.summary


class _Cycle:
    """The demo's month, one method per stage; each stage calls the service functions the
    commands call, each in its own transaction, as the commands would."""

    def __init__(self, directory: Path, today: dt.date, progress: Callable[[str], None]) -> None:
        self.directory, self.today, self.progress = directory, today, progress
        self.month = period_of(today)
        url = f"sqlite:///{directory / 'disburse.db'}"
        self.summary = DemoSummary(directory, url)
        self.step = self.summary.steps.append
        self.engine = make_engine(url)
        self.rules_directory = directory / "rules"
        self.run_ids: list[int] = []

    def generate(self, households: int) -> None:
        from disburse.dev.generator import generate_county

        self.progress(tr("generating a county"))
        county = self.county = generate_county(self.directory / "input", households, SEED)
        self.assets = yaml.safe_load(county.assets_path.read_text(encoding="utf-8"))
        self.step(
            (
                tr("county"),
                tr(
                    "{households:,} households, {people:,} people, {villages} villages, {stations} PV stations, "
                    "{cooperatives} cooperatives (files in {directory})",
                    households=county.households,
                    people=county.people,
                    villages=county.villages,
                    stations=county.stations,
                    cooperatives=county.cooperatives,
                    directory=county.out_dir,
                ),
            )
        )

    def open_books(self) -> None:
        from disburse.ledger.posting import post_entries
        from disburse.ledger.service import add_bank_account

        self.progress(tr("creating the books"))
        schema.migrate(self.engine)
        month_start = self.today.replace(day=1)
        october_start = dt.date(2026, 10, 1) if month_start > dt.date(2026, 10, 1) else month_start
        opening = EntryDraft(
            "COUNTY",
            period_of(october_start),
            october_start,
            "期初余额：县级扶贫资金专户",
            (PostingDraft("102.01", OPENING_BALANCE_FEN), PostingDraft("241", -OPENING_BALANCE_FEN)),
        )
        with transaction(self.engine) as session:
            schema.seed(session)
            add_bank_account(
                session, "COUNTY", BANK_NAME, BANK_ACCOUNT, FINANCE_USER, account_name="商州区扶贫资金专户"
            )
            post_entries(session, EntryBatch.from_drafts([opening]), idempotency_key="demo:opening", user=FINANCE_USER)
        self.step(
            (
                tr("books"),
                tr(
                    "chart seeded; bank account {bank} {account} as 102.01; opening {opening}",
                    bank=BANK_NAME,
                    account=BANK_ACCOUNT,
                    opening=format_yuan(OPENING_BALANCE_FEN),
                ),
            )
        )

    def import_files(self) -> None:
        from disburse.allocations.funds import import_indicators
        from disburse.dev.generator.settlements import period_arrivals
        from disburse.registry import service as registry_service

        self.progress(tr("importing registers, assets, shares, settlements"))
        county, today = self.county, self.today
        # The October base-price settlement arrives at the month's end (the generated file
        # leaves it unpaid): money is shared out once received, October's wages with it.
        october_end = dt.date(2026, 10, 31)
        arrivals = period_arrivals(
            county.settlements_path, "2026-10", october_end, self.directory / "input" / "arrivals_2026-10.csv"
        )
        with transaction(self.engine) as session:
            for path, as_of in zip(county.register_paths, county.snapshot_dates):
                registry_service.import_register(session, path, user=FINANCE_USER, as_of=as_of, today=today)
            registry_service.load_assets(session, county.assets_path, user=FINANCE_USER)
            registry_service.import_shares(
                session, county.shares_path, user=FINANCE_USER, as_of=county.snapshot_dates[0], today=today
            )
            settled = registry_service.import_settlements(
                session, county.settlements_path, user=FINANCE_USER, today=today
            )
            if arrivals is not None and today > october_end:
                registry_service.import_settlements(session, arrivals, user=FINANCE_USER, today=today)
            funds = import_indicators(session, FUNDS_FILE, FINANCE_USER)
        self.step(
            (
                tr("registers"),
                tr(
                    "{snapshots} snapshots, assets, shares; {settlements}",
                    snapshots=len(county.register_paths),
                    settlements=settled.message,
                ),
            )
        )
        self.step((tr("budget indicators"), funds.message))

    def _runs(self) -> list[tuple[Path, str, Path | None]]:
        """The month's rules: the first station's PV revenue, the first cooperative's dividend,
        education aid and forest rangers' wages."""
        self.rules_directory.mkdir(exist_ok=True)
        station, cooperative = self.assets["stations"][0], self.assets["cooperatives"][0]
        runs = [
            (
                rule_for_station(EXAMPLES / "pv_revenue.yaml", station, self.rules_directory / "pv.yaml"),
                "2026-10",
                self.county.public_welfare_jobs_path,
            ),
            (
                rule_for_cooperative(
                    EXAMPLES / "coop_dividend.yaml", cooperative, self.rules_directory / "dividend.yaml"
                ),
                "2026-10",
                None,
            ),
            (
                rule_with_review(EXAMPLES / "education_aid.yaml", self.rules_directory / "education.yaml"),
                "2026-10",
                None,
            ),
            (EXAMPLES / "forest_ranger.yaml", "2026-10", self.county.forest_rangers_path),
        ]
        noticed = self.rules_directory / "noticed"
        noticed.mkdir(exist_ok=True)
        return [(with_notice(rule, noticed / rule.name), period, inputs) for rule, period, inputs in runs]

    def allocate(self) -> None:
        from disburse.allocations.export import write_run_export
        from disburse.allocations.runs import calculate_run, post_run
        from disburse.payouts.payables import record_payables

        self.progress(tr("allocating"))
        for number, (rule, period, inputs) in enumerate(self._runs()):
            with transaction(self.engine) as session:
                outcome = calculate_run(session, rule, period, FINANCE_USER, inputs_path=inputs)
            self._approve(outcome.run_id)
            with transaction(self.engine) as session:
                posted = post_run(session, outcome.run_id, APPROVER_USER, today=self.today)
                record_payables(session, posted.payables)
            self.run_ids.append(outcome.run_id)
            self.step(
                (
                    tr("run {run}", run=outcome.run_id),
                    tr(
                        "{rule}: pool {pool}, {lines:,} lines, {entries} entries",
                        rule=outcome.rule_name,
                        pool=format_yuan(outcome.result.pool_fen),
                        lines=len(outcome.lines),
                        entries=posted.entry_count,
                    )
                    + (tr("; drawn on {fund}", fund=outcome.fund) if outcome.fund else ""),
                )
            )
            if number == 0:
                path = self.directory / "reports" / f"run-{outcome.run_id}-pv.xlsx"
                self.summary.files.extend(write_run_export(path, outcome))

    def notice(self) -> None:
        """公示: each run's roster per village from NOTICE_DAYS days before the demo's day; a batch
        tried on the notice's last day is refused, the next day (the demo's day) it is not."""
        from disburse.foundation.errors import DisburseError
        from disburse.payouts.notices import create_notices, notice_problems
        from disburse.payouts.service import prepare_batch
        from disburse.reports.notice_print import write_notices

        self.progress(tr("publicly posting the runs (公示)"))
        first = self.today - dt.timedelta(days=NOTICE_DAYS)
        last = first + dt.timedelta(days=NOTICE_DAYS - 1)
        with transaction(self.engine) as session:
            outcomes = [create_notices(session, run, FINANCE_USER, first_day=first) for run in self.run_ids]
        # Every run's notices are recorded; the PV run's rosters are written (the others'
        # print the same way, `disburse notice create RUN`).
        written = write_notices(outcomes[0].rosters, self.directory / "notices", prepared_by=FINANCE_USER)
        self.summary.files.extend(written[:2])
        try:
            with transaction(self.engine) as session:
                prepare_batch(session, "COUNTY", CENTRE_USER, today=last)
            raise AssertionError("a batch was prepared on the notice's last day")
        except DisburseError:
            with transaction(self.engine) as session:
                refused = notice_problems(session, self.run_ids, last)[0]
        self.step(
            (
                tr("notice (公示)"),
                tr(
                    "{runs} run(s) publicly posted in {count} village roster(s) from {first} to {last}; a batch tried "
                    "on {last} was refused ({refused}); with the clock moved to {day} the batch below is prepared",
                    runs=len(outcomes),
                    count=sum(len(outcome.rosters) for outcome in outcomes),
                    first=first,
                    last=last,
                    refused=refused,
                    day=self.today,
                ),
            )
        )

    def _approve(self, run_id: int) -> None:
        """A second person approves; a run with a review chain climbs it, one account per level,
        each level in its own transaction as `runs approve --level` would."""
        from disburse.allocations.run_review import approve_at_level, review_lines, review_state
        from disburse.allocations.runs import run_row

        with transaction(self.engine) as session:
            state = review_state(session, run_row(session, run_id))
        levels = [level.level for level in state.progress.required] if state is not None else [None]
        for level in levels:
            with transaction(self.engine) as session:
                approve_at_level(session, run_id, REVIEWERS[level] if level else APPROVER_USER, level)
        if state is not None:
            with transaction(self.engine) as session:
                log = review_lines(review_state(session, run_row(session, run_id)))  # type: ignore[arg-type]
            self.step((tr("run {run}", run=run_id), join_clauses([line.strip() for line in log])))

    def pay(self) -> None:
        from disburse.payouts.service import (
            approve_batch,
            batch_by_reference,
            batch_instructions,
            export_batch,
            prepare_batch,
        )

        self.progress(tr("paying"))
        with transaction(self.engine) as session:
            prepared = prepare_batch(session, "COUNTY", CENTRE_USER, today=self.today)
        reference = self.reference = prepared.batch_reference
        assert reference is not None, prepared.message
        with transaction(self.engine) as session:
            approve_batch(session, reference, APPROVER_USER)
            if prepared.approvals_required > 1:
                approve_batch(session, reference, DIRECTOR_USER)
        with transaction(self.engine) as session:
            out = self.directory / "bank" / f"{reference}.csv"
            exported = export_batch(session, reference, EXPORT_PROFILE, out, CENTRE_USER, today=self.today)
            self.instructions = batch_instructions(session, batch_by_reference(session, reference).id)
        self.summary.files.extend(Path(file.file_name) for file in exported.files)
        self.step(
            (
                tr("batch"),
                tr(
                    "{batch}: {payees:,} payees, {total} yuan, exported as {layout}",
                    batch=reference,
                    payees=prepared.instruction_count,
                    total=format_yuan(prepared.total_fen),
                    layout=profile_label(EXPORT_PROFILE),
                ),
            )
        )

    def bank_return(self) -> None:
        from disburse.dev.demo import bank
        from disburse.importers.bank_profiles import profile_by_name
        from disburse.payouts.settlement import apply_return_file

        self.progress(tr("simulating the bank"))
        path = self.directory / "bank" / f"{self.reference}-回盘.csv"
        self.decided = bank.write_return_file(self.instructions, profile_by_name(EXPORT_PROFILE), path, 3, SEED)
        with transaction(self.engine) as session:
            returned = apply_return_file(session, path, EXPORT_PROFILE, CENTRE_USER, on=self.today)
        self.summary.files.append(path)
        self.step((tr("bank return"), returned.message))

    def _statement(self) -> tuple[Path, list[tuple[str, int]], int]:
        """The bank's statement of the month: the batch, its failures returned, the grid's
        payments of settlements the books still hold as receivable, fees and interest."""
        from disburse.dev.demo import bank
        from disburse.registry import queries as registry

        with transaction(self.engine) as session:
            pending = registry.settlements(session)
            # The bank's balance when the statement month opens: the opening balance plus the
            # grid receipts the settlement import booked (rows with a 到账日期) before the month.
            bank_opening = _book_balance_before(session, BANK_LEDGER_ACCOUNT, self.today.replace(day=1))
        receipts = [
            (row["station_id"], int(row["amount_fen"]))
            for row in pending.to_dict("records")
            if row["received_on"] is None and row["revenue_type"] == "base"
        ]
        path = self.directory / "bank" / f"对账单-{self.month}.csv"
        lines = bank.month_statement_lines(
            on=self.today,
            batch_reference=self.reference,
            decided=self.decided,
            settlement_receipts=receipts,
            fee_per_payee_fen=50,
            interest_fen=123_456,
        )
        closing_fen = bank.write_statement(path, bank_opening, lines, first_transaction=1)
        self.summary.files.append(path)
        return path, receipts, closing_fen

    def reconcile(self) -> None:
        from disburse.reconciliation.report import write_report
        from disburse.reconciliation.runs import run_reconciliation
        from disburse.reconciliation.statements import import_statement
        from disburse.reconciliation.unmatched import post_unmatched

        statement_path, receipts, bank_closing = self._statement()
        self.progress(tr("reconciling"))
        month = self.month
        rules_path = _settlement_rules(receipts, self.rules_directory / "post-unmatched.yaml")
        with transaction(self.engine) as session:
            imported = import_statement(session, statement_path, BANK_ACCOUNT, CENTRE_USER)
        with transaction(self.engine) as session:
            run_reconciliation(session, BANK_ACCOUNT, month, FINANCE_USER)
        with transaction(self.engine) as session:
            posted_unmatched = post_unmatched(session, BANK_ACCOUNT, month, rules_path, FINANCE_USER)
        with transaction(self.engine) as session:
            reconciled = run_reconciliation(session, BANK_ACCOUNT, month, FINANCE_USER)
            report = self.report = write_report(
                session, BANK_ACCOUNT, month, self.directory / "reports" / f"对账-{month}.xlsx"
            )
        self.summary.files.extend(report.files)
        balance = report.balance
        self.step(
            (
                tr("statement"),
                tr(
                    "{imported}; closing balance {closing}",
                    imported=getattr(imported, "message", "") or tr("imported"),
                    closing=format_yuan(bank_closing),
                ),
            )
        )
        self.step(
            (
                tr("reconciliation"),
                join_clauses([getattr(posted_unmatched, "message", ""), getattr(reconciled, "message", "")]),
            )
        )
        agreed = (
            tr("adjusted balances agree")
            if balance.agrees
            else tr("adjusted balances differ by {difference}", difference=format_yuan(balance.difference_fen))
        )
        self.step(("调节表", agreed))

    def audit_and_report(self) -> None:
        from disburse.audit.anomalies import run_checks, write_findings
        from disburse.ledger.verify import verify_books
        from disburse.reports.funds import funds_report, write_funds_report
        from disburse.reports.household import household_statement
        from disburse.reports.printing import pdf_problem
        from disburse.reports.trial_balance import trial_balance, write_trial_balance

        self.progress(tr("auditing and reporting"))
        today, files = self.today, self.summary.files
        # A machine without a Chinese font (or WeasyPrint's libraries) gets the books as xlsx.
        unprintable = pdf_problem()
        suffixes = (".xlsx",) if unprintable else (".xlsx", ".pdf")
        with transaction(self.engine) as session:
            anomalies = run_checks(session, today=today)
            files.extend(write_findings(anomalies, self.directory / "reports" / "异常检查.xlsx"))
            counts = join_list(f"{name} {len(found)}" for name, found in anomalies.findings.items() if found)
            tb = trial_balance(session, "COUNTY", "2026-10")
            for suffix in suffixes:
                path = self.directory / "reports" / f"科目余额表-COUNTY-2026-10{suffix}"
                files.append(write_trial_balance(tb, path, prepared_by=FINANCE_USER, printed_on=today).path)
            household = str(self.instructions.sort_values("payment_reference")["household_id"].dropna().iloc[0])
            card = household_statement(session, household, today=today)
            files.extend(self._month_books(session, household, suffixes))
            reports = verify_books(session)
            funds = funds_report(session)
            files.extend(write_funds_report(funds, self.directory / "reports" / "资金指标执行表.xlsx"))
        self.step((tr("anomalies"), counts or tr("none found")))
        self.step(("资金指标执行表", tr("ties to the ledger") if funds.all_tie else tr("does NOT tie to the ledger")))
        balanced = tr("balanced: True") if tb.balanced else tr("balanced: False")
        self.step((tr("trial balance"), tr("COUNTY 2026-10 {balanced}", balanced=balanced)))
        if unprintable:
            self.step((tr("books"), tr("written as xlsx only: {reason}", reason=unprintable)))
        ties = tr("ties to the ledger") if card.ties_to_ledger else tr("does NOT tie to the ledger")
        self.step(("明白卡", tr("{household}: {ties}", household=household, ties=ties)))
        intact = all(report.intact for report in reports)
        self.step((tr("verify"), tr("every chain and balance intact") if intact else tr("BROKEN")))

    def _month_books(self, session, household: str, suffixes: tuple[str, ...]) -> list[Path]:  # type: ignore[no-untyped-def]
        """The month's books, each as PDF and xlsx, with the 明白卡 of the first household paid."""
        from disburse.reports.month_books import MonthBooks, write_month_books

        books = MonthBooks(
            "COUNTY",
            self.month,
            BANK_ACCOUNT,
            self.report.account.ledger_account_code,
            household,
            CENTRE_USER,
            HOTLINE,
            self.today,
            household_balance_pdf=False,  # its 按户 book as xlsx only: the PDF would double the time
        )
        return [written.path for written in write_month_books(session, books, self.directory / "reports", suffixes)]
