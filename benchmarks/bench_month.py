"""Benchmark: a whole month of a generated county, every command as its own process, as a user runs it.

Generates a county (``disburse generate county``), then runs the month's commands one process
each, in the order the README gives: init, the county's bank account, the opening balance (a
voucher file through ``journal post`` and ``journal approve`` by a second user), the three register
snapshots, assets, shares, the grid settlements (and the month's own settlement arriving on its
last day), every example rule that applies to the county allocated, approved and posted (each
station's PV revenue with its part of the wage roster, each cooperative's dividend, education
aid, 低保, forest rangers' wages, the medical top-up), the payout batch prepared, approved and
exported, the bank's return file and statement generated and read back, reconciliation, the trial
balance, the anomaly checks and verify.

For each stage it prints the wall seconds, the peak resident memory of that command's process
(``os.wait4``; a forked hashing worker is counted in its parent's figure) and rows per second
where a stage has rows; then the total. Stages of several commands (the registers, the runs of
one kind) print one row each command.

    .venv/bin/python benchmarks/bench_month.py --households 10000 [--db URL] [--dir DIR] [--keep]

``--db`` names an empty database (default: a SQLite file in the directory). ``--dir`` keeps the
county and the books there; without it a temporary directory is removed at the end unless
``--keep``. Figures go to standard output; nothing is asserted about time.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from disburse.allocations.rules import EXAMPLES_DIRECTORY  # noqa: E402
from disburse.dev.audit_month import split_roster_by_station  # noqa: E402
from disburse.dev.demo.cycle import rule_for_cooperative, rule_for_station  # noqa: E402
from disburse.dev.generator.settlements import period_arrivals  # noqa: E402

CLERK = "县财政局-张会计"
APPROVER = "县财政局-李科长"
DIRECTOR = "县财政局-王局长"
CENTRE = "政策兑现中心-赵出纳"
AUDITOR = "县审计局-孙审计"
SEED = 2026
PERIOD = "2026-10"
PAID_ON, RETURNED_ON, CHECKS_ON = "2026-11-20", "2026-11-25", "2026-12-01"
STATEMENT_PERIOD = "2026-11"
BANK_NAME = "中国农业银行商州支行"
BANK_ACCOUNT = "6228480012345678901"
# The opening balance: more than the month pays (about 2,000 yuan a household in the generated
# counties), so the bank account never goes below zero.
OPENING_YUAN_PER_HOUSEHOLD = 2_500
EXPORT_PROFILE = "generic"
FAILURES_PER_THOUSAND = 5
COMMAND_TIMEOUT_SECONDS = 3_600  # a command still running after an hour is killed and the month stops


def command_prefix() -> list[str]:
    """The `disburse` entry point next to this interpreter, else the module."""
    script = Path(sys.executable).parent / "disburse"
    return [str(script)] if script.exists() else [sys.executable, "-m", "disburse.cli.app"]


@dataclass
class Stage:
    name: str
    seconds: float
    cpu_seconds: float
    peak_bytes: int
    rows: int | None
    unit: str


@dataclass
class Month:
    """The month's commands against one database, with the figures of each."""

    directory: Path
    url: str
    stages: list[Stage] = field(default_factory=list)

    def run(
        self,
        name: str,
        arguments: list[str],
        user: str | None = None,
        rows: int | Callable[[], int] | None = None,
        unit: str = "rows",
    ) -> str:
        """Run one command as its own process, record its figures and return its stdout; ``rows``
        may be a function, asked after the command (a count of what it wrote)."""
        environment = dict(os.environ)
        if user is not None:
            environment["DISBURSE_USER"] = user
        full = [*command_prefix(), "--db", self.url, *arguments]
        with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
            started = time.perf_counter()
            process = subprocess.Popen(full, stdout=stdout, stderr=stderr, env=environment)
            timer = threading.Timer(COMMAND_TIMEOUT_SECONDS, process.kill)
            timer.start()
            try:
                _, status, usage = os.wait4(process.pid, 0)
            finally:
                timer.cancel()
            seconds = time.perf_counter() - started
            stdout.seek(0)
            stderr.seek(0)
            output = stdout.read()
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"{name}: `{' '.join(arguments)}` failed:\n{output}\n{stderr.read()}")
        counted = rows() if callable(rows) else rows
        cpu_seconds = usage.ru_utime + usage.ru_stime
        stage = Stage(name, seconds, cpu_seconds, usage.ru_maxrss * 1024, counted, unit)
        self.stages.append(stage)
        print(format_stage(stage), flush=True)
        return output

    def value(self, sql: str, **parameters: object) -> object:
        """One value of the books, read between commands (not timed)."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url)
        try:
            with engine.connect() as connection:
                return connection.execute(text(sql), parameters).scalar_one()
        finally:
            engine.dispose()

    def scalar(self, sql: str, **parameters: object) -> int:
        """A count from the books (0 for none)."""
        return int(self.value(sql, **parameters) or 0)


def format_stage(stage: Stage) -> str:
    rate = f"{stage.rows / stage.seconds:>12,.0f} {stage.unit}/s" if stage.rows else ""
    rows = f"{stage.rows:>10,}" if stage.rows is not None else f"{'':>10}"
    return (
        f"{stage.name:<40} {stage.seconds:>8.2f} {stage.cpu_seconds:>7.2f} {stage.peak_bytes / 2**20:>8,.0f} "
        f"{rows} {rate}"
    )


def data_rows(path: Path) -> int:
    """Rows of a CSV below its header."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)


def opening_vouchers(out: Path, households: int) -> Path:
    """The month's opening balance as a voucher file: Dr 102.01 bank / Cr 241 special funds."""
    amount = f"{OPENING_YUAN_PER_HOUSEHOLD * households}.00"
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["凭证号", "日期", "摘要", "科目编码", "借方金额", "贷方金额"])
        writer.writerow(["1", "2026-10-01", "期初余额：县级扶贫资金专户", "102.01", amount, ""])
        writer.writerow(["1", "2026-10-01", "期初余额：县级扶贫资金专户", "241", "", amount])
    return out


def open_books(month: Month, households: int) -> None:
    month.run("init", ["init"])
    month.run(
        "entities add-bank-account",
        ["entities", "add-bank-account", "COUNTY", "--bank", BANK_NAME, "--account-number", BANK_ACCOUNT,
         "--account-name", "商州区扶贫资金专户"],
        user=CLERK,
    )  # fmt: skip
    vouchers = opening_vouchers(month.directory / "opening.csv", households)
    month.run("journal post (opening)", ["journal", "post", str(vouchers), "--entity", "COUNTY"], user=CLERK)
    # Read from the books, not from the output: the commands speak the user's language.
    submission = str(month.scalar("SELECT max(id) FROM voucher_submissions"))
    month.run("journal approve (opening)", ["journal", "approve", submission], user=APPROVER)


def import_county(month: Month, county: Path) -> None:
    for register in sorted(county.glob("register_*.csv")):
        as_of = register.stem.split("_")[1]
        month.run(
            f"import registry {as_of}",
            ["import", "registry", str(register), "--as-of", as_of],
            user=CLERK,
            rows=data_rows(register),
            unit="persons",
        )
    month.run("assets load", ["assets", "load", str(county / "assets.yaml")], user=CLERK)
    shares = county / "shares.csv"
    month.run(
        "import shares",
        ["import", "shares", str(shares), "--as-of", "2026-08-31"],
        user=CLERK,
        rows=data_rows(shares),
        unit="holdings",
    )
    settlements = county / "pv_settlements.csv"
    month.run(
        "import pv-settlement",
        ["import", "pv-settlement", str(settlements)],
        user=CLERK,
        rows=data_rows(settlements),
    )
    # Money is shared out once received: the month's own settlement arrives on its last day.
    arrivals = period_arrivals(settlements, PERIOD, dt.date(2026, 10, 31), month.directory / "arrivals.csv")
    if arrivals is not None:
        month.run(
            "import pv-settlement (arrivals)",
            ["import", "pv-settlement", str(arrivals)],
            user=CLERK,
            rows=data_rows(arrivals),
        )


def month_rules(month: Month, county: Path) -> list[tuple[str, Path, Path | None]]:
    """Every example rule that applies to the county: (label, rule, inputs). house_repair needs
    approved applications the generator does not write, so it does not apply."""
    rules = month.directory / "rules"
    rules.mkdir(exist_ok=True)
    assets = yaml.safe_load((county / "assets.yaml").read_text(encoding="utf-8"))
    registers = sorted(county.glob("register_*.csv"))
    rosters = split_roster_by_station(
        county / f"public_welfare_jobs_{PERIOD}.csv", registers[-1], assets["stations"], rules
    )
    chosen: list[tuple[str, Path, Path | None]] = []
    for station in assets["stations"]:
        rule = rule_for_station(
            EXAMPLES_DIRECTORY / "pv_revenue.yaml", station, rules / f"pv-{station['asset_id']}.yaml"
        )
        chosen.append((f"pv {station['asset_id']}", rule, rosters[station["asset_id"]]))
    for cooperative in assets["cooperatives"]:
        rule = rule_for_cooperative(
            EXAMPLES_DIRECTORY / "coop_dividend.yaml", cooperative, rules / f"dividend-{cooperative['asset_id']}.yaml"
        )
        chosen.append((f"dividend {cooperative['asset_id']}", rule, None))
    chosen.append(("education_aid", EXAMPLES_DIRECTORY / "education_aid.yaml", None))
    chosen.append(("dibao", EXAMPLES_DIRECTORY / "dibao.yaml", None))
    chosen.append(("forest_ranger", EXAMPLES_DIRECTORY / "forest_ranger.yaml", county / f"forest_rangers_{PERIOD}.csv"))
    chosen.append(("medical_topup", EXAMPLES_DIRECTORY / "medical_topup.yaml", county / f"hospital_bills_{PERIOD}.csv"))
    return chosen


def allocate_all(month: Month, county: Path) -> None:
    households = month.scalar("SELECT count(DISTINCT household_id) FROM household_versions")
    for label, rule, inputs in month_rules(month, county):
        arguments = ["allocate", str(rule), "--period", PERIOD] + (["--inputs", str(inputs)] if inputs else [])
        month.run(f"allocate {label}", arguments, user=CLERK, rows=households, unit="households")
        # The books say which run it made (the output is in the user's language).
        run_id = str(month.scalar("SELECT max(id) FROM allocation_runs"))
        lines = month.scalar("SELECT count(*) FROM allocation_lines WHERE run_id = :run", run=int(run_id))
        month.run(f"runs approve {label}", ["runs", "approve", run_id], user=APPROVER)
        month.run(f"runs post {label}", ["runs", "post", run_id], user=APPROVER, rows=lines, unit="lines")


def pay(month: Month) -> str:
    unpaid = month.scalar("SELECT count(*) FROM payables")
    month.run(
        "payout prepare",
        ["payout", "prepare", "--entity", "COUNTY", "--period", PERIOD, "--bank", EXPORT_PROFILE],
        user=CENTRE,
        rows=unpaid,
        unit="payables",
    )
    batch = str(month.value("SELECT batch_reference FROM payment_batches ORDER BY id DESC LIMIT 1"))
    payees = month.scalar(
        "SELECT count(*) FROM payment_instructions i JOIN payment_batches b ON b.id = i.batch_id "
        "WHERE b.batch_reference = :batch",
        batch=batch,
    )
    month.run("payout approve", ["payout", "approve", batch], user=APPROVER)
    if month.scalar("SELECT approvals_required FROM payment_batches WHERE batch_reference = :batch", batch=batch) > 1:
        month.run("payout approve (second)", ["payout", "approve", batch], user=DIRECTOR)
    bank = month.directory / "bank"
    bank.mkdir(exist_ok=True)
    month.run(
        "payout export",
        ["payout", "export", batch, "--bank", EXPORT_PROFILE, "--out", str(bank / f"{batch}.csv"), "--date", PAID_ON],
        user=CENTRE,
        rows=payees,
        unit="payees",
    )
    returned = bank / f"{batch}-回盘.csv"
    failures = max(1, payees * FAILURES_PER_THOUSAND // 1000)
    month.run(
        "generate bank-return",
        ["generate", "bank-return", batch, "--bank", EXPORT_PROFILE, "--fail", str(failures), "--seed", "1",
         "--out", str(returned)],
        rows=payees,
        unit="lines",
    )  # fmt: skip
    month.run(
        "payout returns",
        ["payout", "returns", str(returned), "--bank", EXPORT_PROFILE, "--date", RETURNED_ON],
        user=CENTRE,
        rows=payees,
        unit="lines",
    )
    return batch


def bank_and_books(month: Month) -> None:
    statement = month.directory / "bank" / f"对账单-{STATEMENT_PERIOD}.csv"
    month.run(
        "generate bank-statement",
        [
            "generate",
            "bank-statement",
            "--account",
            BANK_ACCOUNT,
            "--period",
            STATEMENT_PERIOD,
            "--out",
            str(statement),
        ],
    )
    month.run(
        "import bank-statement",
        ["import", "bank-statement", str(statement), "--account", BANK_ACCOUNT],
        user=CENTRE,
        rows=lambda: month.scalar("SELECT count(*) FROM statement_lines"),
        unit="lines",
    )
    lines = month.scalar("SELECT count(*) FROM statement_lines")
    month.run(
        "reconcile",
        ["reconcile", "--account", BANK_ACCOUNT, "--period", STATEMENT_PERIOD, "--show", "0"],
        user=CLERK,
        rows=lines,
        unit="lines",
    )
    reports = month.directory / "reports"
    reports.mkdir(exist_ok=True)
    postings = month.scalar("SELECT count(*) FROM postings")
    month.run(
        "report trial-balance",
        [
            "report",
            "trial-balance",
            "--entity",
            "COUNTY",
            "--period",
            PERIOD,
            "--out",
            str(reports / "科目余额表.xlsx"),
        ],
        user=CLERK,
        rows=postings,
        unit="postings",
    )
    month.run(
        "audit anomalies",
        ["audit", "anomalies", "--today", CHECKS_ON, "--out", str(reports / "异常检查.xlsx")],
        user=AUDITOR,
        rows=postings,
        unit="postings",
    )
    month.run("verify", ["verify"], user=AUDITOR, rows=postings, unit="postings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--db", default=None, help="an empty database URL (default: SQLite in the directory)")
    parser.add_argument("--dir", type=Path, default=None, help="work in this (empty) directory and keep it")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    options = parser.parse_args()
    directory = options.dir or Path(tempfile.mkdtemp(prefix="bench-month-"))
    directory.mkdir(parents=True, exist_ok=True)
    url = options.db or f"sqlite:///{directory / 'books.db'}"
    month = Month(directory, url)
    county = directory / "county"
    print(
        f"a month of {options.households:,} households in {url} (files in {directory}); load {os.getloadavg()[0]:.2f}"
    )
    print(f"{'stage':<40} {'seconds':>8} {'cpu s':>7} {'peak MiB':>8} {'rows':>10} {'rate':>12}")
    started = time.perf_counter()
    try:
        month.run(
            "generate county",
            ["generate", "county", "--households", str(options.households), "--seed", str(SEED), "--out", str(county)],
            rows=options.households,
            unit="households",
        )
        open_books(month, options.households)
        import_county(month, county)
        allocate_all(month, county)
        pay(month)
        bank_and_books(month)
    finally:
        total = time.perf_counter() - started
        peak = max((stage.peak_bytes for stage in month.stages), default=0)
        cpu = sum(stage.cpu_seconds for stage in month.stages)
        label = f"total ({len(month.stages)} commands)"
        print(f"{label:<40} {total:>8.2f} {cpu:>7.2f} {peak / 2**20:>8,.0f}")
        print(f"load average at the end {os.getloadavg()[0]:.2f} (the machine may be shared)")
        if options.dir is None and not options.keep:
            shutil.rmtree(directory)


if __name__ == "__main__":
    main()
