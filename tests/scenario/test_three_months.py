"""Issue #11: three months of a generated county, run as its users run it: every step is the
installed `disburse` command in a process of its own (on SQLite; on PostgreSQL the same command
through the same Typer app in this process unless DISBURSE_TEST_PG_PROCESSES=1), typed by a
county clerk (县财政局-张会计, maker), the clerk's approver (县财政局-李科长; 县财政局-王局长 signs
batches above the second-approver threshold), the redemption centre (政策兑现中心-赵出纳) and an
auditor (审计-钱审计).

October, November and December 2026: the books opened with a voucher, the register snapshots,
assets, shares and grid settlements imported; PV, 低保 and dividend runs calculated, approved by
another person and posted; each month a batch prepared, approved, exported, answered by the
bank (one card fails in October), the bank's statement imported and reconciled, and every report
written. Between the months: a register snapshot with a death and an exit, a card fix proposed by
the centre and approved by the county, the failed payment re-issued onto the new card, a late
national PV subsidy (a 2025 quarter) arriving, a run reversed and corrected, and October closed.

What a person checks is computed here from the input files or with plain SQL over the postings,
never from the command's own figures: the 科目余额表 ties to the postings, fund traces tie for
every fund, the 调节表 agrees each month without counting anything twice, 112 holds exactly the
settlements whose money has not arrived, the closed October is unchanged row for row, each
明白卡 agrees with that household's postings, and `disburse verify` passes at the end.

Size: DISBURSE_SCENARIO_HOUSEHOLDS (default 80) households; run a larger county by hand, e.g.
``DISBURSE_SCENARIO=1 DISBURSE_SCENARIO_HOUSEHOLDS=3000 pytest -m slow tests/scenario`` (1: both engines;
``sqlite`` or ``postgresql``: that one).
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from cli_runner import PG_PROCESSES
from cli_runner import run as run_in_process
from sqlalchemy import text

from disburse.allocations.rules import EXAMPLES_DIRECTORY
from disburse.foundation.db import make_engine

# About 125 commands per engine: as processes, minutes (2026-12-03, idle: 323 s of PostgreSQL
# processes against 29 s in-process; the difference is each process's start-up). It runs when
# DISBURSE_SCENARIO names the engines: 1 (both), postgresql or sqlite. `.ci/run` runs it on
# PostgreSQL, the production engine, in-process (each command's own process is tests/cli, on
# SQLite); by hand, `DISBURSE_SCENARIO=1 pytest tests/scenario`, and with
# DISBURSE_TEST_PG_PROCESSES=1 every PostgreSQL command a process too.
SCENARIO_ENGINES = {"1": ("sqlite", "postgresql"), "sqlite": ("sqlite",), "postgresql": ("postgresql",)}.get(
    os.environ.get("DISBURSE_SCENARIO", ""), ()
)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SCENARIO_ENGINES, reason="set DISBURSE_SCENARIO=1 to run the three-month scenario"),
]

HOUSEHOLDS = int(os.environ.get("DISBURSE_SCENARIO_HOUSEHOLDS", "80"))
SEED = 11
WORKTREE = Path(__file__).resolve().parents[2]
CONSOLE_SCRIPT = Path(sys.executable).with_name("disburse")

CLERK = "县财政局-张会计"
APPROVER = "县财政局-李科长"
DIRECTOR = "县财政局-王局长"
CENTRE = "政策兑现中心-赵出纳"
AUDITOR = "审计-钱审计"

BANK = "中国农业银行商州支行"
ACCOUNT = "6228480012345678901"
LEDGER = "102.01"
OPENING_YUAN = "20000000.00"
PROFILE = "abc"
HEADER = ["电站编号", "所属期", "上网电量", "收入类型", "结算金额", "到账日期"]
NEW_CARD = "6228480000000000018"  # a Luhn-valid 农业银行 card for the fix (checked below)


def fen(value: str) -> int:
    """A yuan amount as written in a file (``1,234.56`` or ``-0.01``) in fen."""
    return int(Decimal(value.replace(",", "").strip() or "0") * 100)


def luhn_valid(number: str) -> bool:
    total = 0
    for index, digit in enumerate(reversed(number)):
        value = int(digit) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass
class County:
    """The county's files, its database and the record of every command typed."""

    url: str
    root: Path
    typed: list[str] = field(default_factory=list)
    seconds: list[tuple[float, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.engine = make_engine(self.url)
        self.county = self.root / "county"
        self.work = self.root / "work"
        self.work.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ commands
    def run(self, user: str | None, *arguments: str, expect: int = 0) -> str:
        """One command in a process of its own, as ``user``; its output. On PostgreSQL the same
        command runs through the same Typer app in this process (as every PostgreSQL command test
        does, cli_runner.PG_PROCESSES): each command's own process is checked on SQLite (tests/cli)
        and 125 PostgreSQL processes took CI past its 20 minutes; DISBURSE_TEST_PG_PROCESSES=1
        makes them processes again."""
        environment = {key: value for key, value in os.environ.items() if key != "DISBURSE_USER"}
        environment.update({"PYTHONPATH": str(WORKTREE), "COLUMNS": "250"})
        user_option = ["--user", user] if user else []
        command = [str(CONSOLE_SCRIPT), "--db", self.url, *arguments, *user_option]
        started = time.perf_counter()
        if self.url.startswith("postgresql") and not PG_PROCESSES:
            completed = run_in_process(self.url, *arguments, *user_option, user=None)
            returncode, output = completed.exit_code, completed.output
        else:
            ran = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=600)
            returncode, output = ran.returncode, ran.stdout + ran.stderr
        self.seconds.append((time.perf_counter() - started, " ".join(arguments[:2])))
        self.typed.append(" ".join(["disburse", *arguments, *user_option]))
        assert "Traceback" not in output, f"{self.typed[-1]}\n{output}"
        # expect -1: refused (exit 1) or accepted, whichever the command does; checked by the caller
        assert expect == -1 or returncode == expect, f"{self.typed[-1]} exited {returncode}\n{output}"
        return output

    def sql(self, query: str, **parameters: object) -> list[tuple]:
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query), parameters)]

    def scalar(self, query: str, **parameters: object) -> int:
        return int(self.sql(query, **parameters)[0][0] or 0)

    def allocate(self, rule: Path, period: str, inputs: Path | None = None) -> int:
        """allocate by the clerk, approve and post by the approver; the run's id."""
        options = ["--inputs", str(inputs)] if inputs else []
        calculated = self.run(CLERK, "allocate", str(rule), "--period", period, *options)
        run_id = re.search(r"run (\d+) calculated", calculated)
        assert run_id, calculated
        self.run(APPROVER, "runs", "approve", run_id.group(1))
        self.run(APPROVER, "runs", "post", run_id.group(1))
        return int(run_id.group(1))

    def import_settlements(self, rows: list[list[str]], name: str) -> None:
        if not rows:
            return
        path = self.work / name
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([HEADER, *rows])
        self.run(CLERK, "import", "pv-settlement", str(path))


# ---------------------------------------------------------------------- inputs
def settlement_rows(county: County) -> list[list[str]]:
    with (county.county / "pv_settlements.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))[1:]


def arrived(rows: list[list[str]], period: str, revenue_type: str, on: str) -> list[list[str]]:
    """The rows of ``period`` and type that have no 到账日期 yet, now received ``on``."""
    return [[*row[:5], on] for row in rows if row[1] == period and row[3] == revenue_type and not row[5].strip()]


def station_rule(county: County, station: str, name: str | None = None) -> Path:
    """The example PV rule pointed at another station (the example names PV-611002-001)."""
    path = county.work / f"pv-{station}.yaml"
    text_ = (EXAMPLES_DIRECTORY / "pv_revenue.yaml").read_text(encoding="utf-8")
    path.write_text(text_.replace("PV-611002-001", station), encoding="utf-8")
    return path


def dibao_rule(county: County, month: str, special_yuan: str = "520") -> Path:
    """The example 低保 rule for another month (and, for the wrong run, a wrong 特困 amount)."""
    path = county.work / f"dibao-{month}-{special_yuan}.yaml"
    text_ = (EXAMPLES_DIRECTORY / "dibao.yaml").read_text(encoding="utf-8")
    text_ = text_.replace("2026年10月低保金", f"2026年{month[5:]}月低保金")
    assert 'amount_yuan: "520"' in text_, "the example 低保 rule no longer pays 520 to 特困供养"
    path.write_text(text_.replace('amount_yuan: "520"', f'amount_yuan: "{special_yuan}"'), encoding="utf-8")
    return path


def write_register(source: Path, out: Path, died: str, exited_household: str, died_on: str) -> None:
    """A new snapshot: person ``died`` (人编号) has a 死亡日期, household ``exited_household`` is gone."""
    rows = read_rows(source)
    header = list(rows[0])
    kept = []
    for row in rows:
        if row["户编号"] == exited_household:
            continue
        if row["人编号"] == died:
            row["死亡日期"] = died_on
        kept.append(row)
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(kept)


# ---------------------------------------------------------------------- the months
def open_books(county: County) -> None:
    """The county's files, its account, the opening voucher, the register's history; the
    periods before October (history imported with the settlements) closed, as at go-live."""
    county.run(
        None, "generate", "county", "--households", str(HOUSEHOLDS), "--seed", str(SEED), "--out", str(county.county)
    )
    county.run(None, "init")
    county.run(
        CLERK,
        "entities",
        "add-bank-account",
        "COUNTY",
        "--bank",
        BANK,
        "--account-number",
        ACCOUNT,
        "--account-name",
        "商州区扶贫资金专户",
    )
    vouchers = county.work / "opening.csv"
    vouchers.write_text(
        "凭证号,日期,摘要,科目编码,借方金额,贷方金额\n"
        f"1,2026-10-01,期初余额：县级扶贫资金专户,{LEDGER},{OPENING_YUAN},\n"
        f"1,2026-10-01,期初余额：县级扶贫资金专户,241,,{OPENING_YUAN}\n",
        encoding="utf-8",
    )
    submitted = county.run(CLERK, "journal", "post", str(vouchers), "--entity", "COUNTY")
    county.run(APPROVER, "journal", "approve", re.search(r"journal approve (\d+)", submitted).group(1))
    for register in sorted(county.county.glob("register_*.csv")):
        county.run(CLERK, "import", "registry", str(register), "--as-of", register.stem.split("_")[1])
    county.run(CLERK, "assets", "load", str(county.county / "assets.yaml"))
    county.run(CLERK, "import", "shares", str(county.county / "shares.csv"), "--as-of", "2026-08-31")
    county.run(CLERK, "import", "pv-settlement", str(county.county / "pv_settlements.csv"))
    periods = [
        row[0] for row in county.sql("SELECT DISTINCT period FROM journal_entries WHERE period < '2026-10' ORDER BY 1")
    ]
    for period in periods:
        county.run(APPROVER, "periods", "close", "COUNTY", period)


def pay(county: County, paid_on: str, returned_on: str, fail: int) -> str:
    """prepare (centre), approve (county, twice when large), export and the bank's answer."""
    prepared = county.run(CENTRE, "payout", "prepare", "--entity", "COUNTY", "--bank", PROFILE)
    batch = re.search(r"batch (BATCH-\d{6}-\d{4})", prepared).group(1)
    approved = county.run(APPROVER, "payout", "approve", batch)
    if "second approver" in approved:
        county.run(DIRECTOR, "payout", "approve", batch)
    county.run(CENTRE, "payout", "export", batch, "--out", str(county.work / f"{batch}.csv"), "--date", paid_on)
    answer = county.work / f"{batch}-回盘.csv"
    county.run(
        None,
        "generate",
        "bank-return",
        batch,
        "--bank",
        PROFILE,
        "--fail",
        str(fail),
        "--seed",
        "3",
        "--out",
        str(answer),
    )
    county.run(CENTRE, "payout", "returns", str(answer), "--bank", PROFILE, "--date", returned_on)
    return batch


def reconcile(county: County, period: str) -> Path:
    """The month's statement imported and reconciled: candidates confirmed, bank-only lines
    posted by the example rules; returns the statement file."""
    statement = county.work / f"对账单-{period}.csv"
    county.run(None, "generate", "bank-statement", "--account", ACCOUNT, "--period", period, "--out", str(statement))
    county.run(CENTRE, "import", "bank-statement", str(statement), "--account", ACCOUNT)
    listed = county.run(CLERK, "reconcile", "--account", ACCOUNT, "--period", period, "--show", "200")
    for match in sorted(set(re.findall(r"\bM[0-9a-f]{16}\b", listed)))[:1]:  # one: the others stay candidates
        county.run(CLERK, "reconcile", "confirm", match)
    rules = WORKTREE / "disburse" / "reconciliation" / "rules" / "county_example.yaml"
    county.run(CLERK, "reconcile", "post-unmatched", "--account", ACCOUNT, "--period", period, "--rules", str(rules))
    county.run(CLERK, "reconcile", "--account", ACCOUNT, "--period", period)
    return statement


def statement_closing_fen(statement: Path) -> int:
    """The bank's closing balance: the 账户余额 of the statement file's last line."""
    lines = statement.read_bytes().decode("gbk").splitlines()
    header_at = next(index for index, line in enumerate(lines) if "交易日期" in line)
    rows = list(csv.DictReader(lines[header_at:]))
    balance = next(name for name in rows[0] if "余额" in name)
    return fen(rows[-1][balance])


# ---------------------------------------------------------------------- checks
def postings_sum(county: County, account: str, up_to: str, since: str = "0000-00", sign: str = "") -> int:
    """Plain SQL: COUNTY's postings on ``account`` and its sub-accounts in periods since..up_to."""
    condition = {"": "", "+": " AND p.amount_fen > 0", "-": " AND p.amount_fen < 0"}[sign]
    return county.scalar(
        "SELECT coalesce(sum(p.amount_fen), 0) FROM postings p JOIN journal_entries e ON e.id = p.entry_id "
        "JOIN entities n ON n.id = e.entity_id WHERE n.code = 'COUNTY' AND e.period >= :since AND e.period <= :up_to "
        f"AND (p.account_code = :account OR p.account_code LIKE :children){condition}",
        since=since,
        up_to=up_to,
        account=account,
        children=account + ".%",
    )


def check_trial_balance(county: County, period: str) -> None:
    """The 科目余额表 balances, and every account's figures are the sums of its postings."""
    out = county.work / f"科目余额表-{period}.csv"
    county.run(AUDITOR, "report", "trial-balance", "--entity", "COUNTY", "--period", period, "--out", str(out))
    rows = {row["科目编码"]: row for row in read_rows(out)}
    total = rows.pop("合计")
    for side in ("期初", "本期", "期末"):
        assert fen(total[f"{side}借方"]) == fen(total[f"{side}贷方"]), (period, side, total)
    before = f"{int(period[:4])}-{int(period[5:]) - 1:02d}" if period[5:] != "01" else "0000-00"
    for code, row in rows.items():
        assert fen(row["期末借方"]) - fen(row["期末贷方"]) == postings_sum(county, code, period), (period, code)
        assert fen(row["期初借方"]) - fen(row["期初贷方"]) == postings_sum(county, code, before), (period, code)
        assert fen(row["本期借方"]) == postings_sum(county, code, period, period, "+"), (period, code)
        assert fen(row["本期贷方"]) == -postings_sum(county, code, period, period, "-"), (period, code)
    top_level = [row for code, row in rows.items() if "." not in code]
    assert sum(fen(row["期末借方"]) for row in top_level) == fen(total["期末借方"])
    # Every account that has postings is on the table.
    used = {code.split(".")[0] for (code,) in county.sql("SELECT DISTINCT account_code FROM postings")}
    assert used <= set(rows), used - set(rows)


def check_reconciliation(county: County, period: str, statement: Path, output: str) -> None:
    """The 调节表 ties: adjusted book = adjusted bank = the bank's closing balance = the books'
    balance of 102.01 (the generated statement is the books' own money and post-unmatched
    brought the books up to the bank): nothing outstanding, and nothing counted twice."""
    agreed = re.search(r"调节表 agrees: adjusted book ([\d,.-]+) = adjusted bank ([\d,.-]+)", output)
    assert agreed, output
    book_fen = postings_sum(county, LEDGER, period)
    bank_fen = statement_closing_fen(statement)
    assert book_fen == bank_fen, (period, book_fen, bank_fen)
    assert fen(agreed.group(1)) == fen(agreed.group(2)) == bank_fen, (period, output)
    county.run(
        AUDITOR,
        "report",
        "reconciliation",
        "--account",
        ACCOUNT,
        "--period",
        period,
        "--out",
        str(county.work / f"调节表-{period}.xlsx"),
    )
    county.run(
        None,  # the report command records no user
        "reconcile",
        "report",
        "--account",
        ACCOUNT,
        "--period",
        period,
        "--out",
        str(county.work / f"对账-{period}.xlsx"),
    )


def check_receivables(county: County, settlements: dict[tuple[str, str, str], tuple[int, bool]]) -> None:
    """112 holds, per station, exactly the settlements whose money has not arrived."""
    expected: dict[str, int] = {}
    for (station, _, _), (amount_fen, received) in settlements.items():
        expected[station] = expected.get(station, 0) + (0 if received else amount_fen)
    held = dict(
        county.sql(
            "SELECT p.fund_source, sum(p.amount_fen) FROM postings p WHERE p.account_code LIKE '112%' "
            "AND p.fund_source LIKE 'PV-%' GROUP BY p.fund_source"
        )
    )
    assert {station: int(held.get(station, 0)) for station in expected} == expected


def record_settlements(state: dict, rows: list[list[str]]) -> None:
    for row in rows:
        state[(row[0], row[1], row[3])] = (fen(row[4]), bool(row[5].strip()))


def closed_rows(county: County, period: str) -> list[tuple]:
    return county.sql(
        "SELECT e.id, e.period, e.entry_date, e.voucher_number, e.memo, e.source_kind, e.source_reference, "
        "e.reverses_entry_id, e.posting_count, e.entry_hash, p.id, p.line_number, p.account_code, p.amount_fen, "
        "p.household_id, p.fund_source, p.payment_reference FROM journal_entries e JOIN postings p ON p.entry_id = "
        "e.id WHERE e.period = :period ORDER BY p.id",
        period=period,
    )


def check_household_card(county: County, household: str) -> dict[str, str]:
    """The 明白卡's benefits are this household's credits to 211 (net of reversals), its 账面应付余额
    the 211 balance, its 已到账 the household's payments the bank paid."""
    out = county.work / f"明白卡-{household}.csv"
    county.run(CENTRE, "report", "household", household, "--out", str(out))
    lines = read_rows(out)
    summary = {row["项目"]: row["金额(元)"] for row in read_rows(out.with_name(out.stem + "-汇总.csv"))}
    owed = -county.scalar(
        "SELECT coalesce(sum(amount_fen), 0) FROM postings WHERE account_code LIKE '211%' AND household_id = :h",
        h=household,
    )
    due = -county.scalar(
        "SELECT coalesce(sum(p.amount_fen), 0) FROM postings p JOIN journal_entries e ON e.id = p.entry_id "
        "WHERE p.account_code LIKE '211%' AND p.household_id = :h AND e.source_kind NOT LIKE 'payout%'",
        h=household,
    )
    paid = county.scalar(
        "SELECT coalesce(sum(amount_fen), 0) FROM payment_instructions WHERE household_id = :h AND status = 'success'",
        h=household,
    )
    assert fen(summary["账面应付余额"]) == owed, (household, summary, owed)
    assert fen(summary.get("已到账", "0")) == paid, (household, summary, paid)
    assert summary["与账簿核对"] == "一致", summary
    counted = [line for line in lines if line["状态"] != "发放失败"]
    assert sum(fen(line["金额(元)"]) for line in counted) == due, (household, lines, due)
    return summary


def test_three_months_as_its_users_run_them(backend: str, database_url: str, tmp_path: Path) -> None:
    if backend not in SCENARIO_ENGINES:
        pytest.skip(f"DISBURSE_SCENARIO={os.environ.get('DISBURSE_SCENARIO')} leaves out {backend}")
    from disburse.dev.audit_month import split_roster_by_station
    from disburse.dev.demo.cycle import collective_village_of

    assert luhn_valid(NEW_CARD)
    county = County(database_url, tmp_path)
    settlements: dict[tuple[str, str, str], tuple[int, bool]] = {}
    open_books(county)
    rows = settlement_rows(county)
    record_settlements(settlements, rows)
    station = "PV-611002-001"
    pv_rule = EXAMPLES_DIRECTORY / "pv_revenue.yaml"  # the example as shipped names this station

    # ------------------------------------------------------------------ October
    arrivals = arrived(rows, "2026-09", "标杆电价", "2026-10-28")
    county.import_settlements(arrivals, "到账-2026-10.csv")
    record_settlements(settlements, arrivals)
    county.allocate(pv_rule, "2026-10")
    cooperative_rule = county.work / "dividend.yaml"
    village = collective_village_of(county.county / "shares.csv", "COOP-001")
    cooperative_rule.write_text(
        (EXAMPLES_DIRECTORY / "coop_dividend.yaml").read_text(encoding="utf-8").replace("611002001001", village),
        encoding="utf-8",
    )
    county.allocate(cooperative_rule, "2026-10")
    county.allocate(dibao_rule(county, "2026-10"), "2026-10")
    october_batch = pay(county, "2026-10-26", "2026-10-28", fail=1)
    statement = reconcile(county, "2026-10")
    check_reconciliation(
        county, "2026-10", statement, county.run(CLERK, "reconcile", "--account", ACCOUNT, "--period", "2026-10")
    )
    check_trial_balance(county, "2026-10")
    check_receivables(county, settlements)
    failed = county.sql(
        "SELECT i.household_id, i.amount_fen, i.account_no FROM payment_instructions i JOIN payment_batches b "
        "ON b.id = i.batch_id WHERE b.batch_reference = :b AND i.status = 'failed'",
        b=october_batch,
    )
    assert len(failed) == 1, failed
    failed_household, failed_fen, old_card = failed[0]

    # ------------------------------------------------------------------ November
    county.run(APPROVER, "periods", "close", "COUNTY", "2026-10")
    october_rows = closed_rows(county, "2026-10")
    october_tb = (county.work / "科目余额表-2026-10.csv").read_bytes()
    late = county.work / "late-voucher.csv"
    late.write_text(
        "凭证号,日期,摘要,科目编码,借方金额,贷方金额\n1,2026-10-15,补记手续费,513,10.00,\n"
        f"1,2026-10-15,补记手续费,{LEDGER},,10.00\n",
        encoding="utf-8",
    )
    submitted = county.run(CLERK, "journal", "post", str(late), "--entity", "COUNTY", expect=-1)
    if "journal approve" in submitted:
        county.run(APPROVER, "journal", "approve", re.search(r"journal approve (\d+)", submitted).group(1), expect=1)

    register = read_rows(county.county / "register_2026-10-31.csv")
    households = sorted({row["户编号"] for row in register})
    exited = next(h for h in reversed(households) if h != failed_household)
    died = next(
        row
        for row in register
        if row["户编号"] not in (exited, failed_household) and row["与户主关系"] != "户主" and not row["死亡日期"]
    )
    write_register(
        county.county / "register_2026-10-31.csv",
        county.work / "register_2026-11-30.csv",
        died["人编号"],
        exited,
        "2026-11-10",
    )
    county.run(
        CLERK,
        "import",
        "registry",
        str(county.work / "register_2026-11-30.csv"),
        "--as-of",
        "2026-11-30",
        "--confirm-exits",
        "1",
    )
    late_subsidy = arrived(rows, "2025Q4", "国家补贴", "2026-11-12")
    assert any(row[0] == station for row in late_subsidy), late_subsidy
    base = arrived(rows, "2026-10", "标杆电价", "2026-11-25")
    county.import_settlements(late_subsidy + base, "到账-2026-11.csv")
    record_settlements(settlements, late_subsidy + base)

    county.run(
        CENTRE,
        "payout",
        "fix-account",
        failed_household,
        NEW_CARD,
        "--bank-name",
        BANK,
        "--reason",
        "原卡已销户，农户持新卡到窗口申请",
    )
    fixes = county.run(None, "payout", "fixes")
    fix = re.search(r"FIX-\d{6}-\d{4}", fixes).group(0)
    county.run(CENTRE, "payout", "approve-fix", fix, expect=1)  # not by its maker
    county.run(APPROVER, "payout", "approve-fix", fix)

    rosters = split_roster_by_station(
        county.county / "public_welfare_jobs_2026-10.csv",
        county.work / "register_2026-11-30.csv",
        [{"asset_id": s, "village_codes": v} for s, v in station_villages(county).items()],
        county.work,
    )
    county.allocate(pv_rule, "2026-11", rosters[station])
    wrong = county.allocate(dibao_rule(county, "2026-11", special_yuan="502"), "2026-11")
    county.run(APPROVER, "runs", "reverse", str(wrong), "--reason", "特困供养标准应为520元")
    corrected = county.allocate(dibao_rule(county, "2026-11"), "2026-11")
    county.run(None, "runs", "diff", str(wrong), str(corrected))
    wrong_net = county.scalar(
        "SELECT coalesce(sum(p.amount_fen), 0) FROM postings p JOIN journal_entries e ON e.id = p.entry_id "
        "WHERE p.account_code LIKE '211%' AND (e.source_reference = :r OR e.reverses_entry_id IN "
        "(SELECT id FROM journal_entries WHERE source_kind = 'allocation_run' AND source_reference = :r))",
        r=str(wrong),
    )
    assert wrong_net == 0, "the reversed run still owes something"

    november_batch = pay(county, "2026-11-26", "2026-11-28", fail=0)
    reissued = county.sql(
        "SELECT i.account_no, i.amount_fen, i.status FROM payment_instructions i JOIN payment_batches b "
        "ON b.id = i.batch_id WHERE b.batch_reference = :b AND i.household_id = :h",
        b=november_batch,
        h=failed_household,
    )
    assert reissued and all(account == NEW_CARD for account, _, _ in reissued), reissued
    assert sum(amount for _, amount, _ in reissued) >= failed_fen
    assert {status for _, _, status in reissued} == {"success"}
    statement = reconcile(county, "2026-11")
    check_reconciliation(
        county, "2026-11", statement, county.run(CLERK, "reconcile", "--account", ACCOUNT, "--period", "2026-11")
    )
    check_trial_balance(county, "2026-11")
    check_receivables(county, settlements)

    # ------------------------------------------------------------------ December
    december = [
        [row[0], "2026-11", row[2], row[3], row[4], "2026-12-01"]
        for row in rows
        if row[1] == "2026-10" and row[3] == "标杆电价"
    ]
    county.import_settlements(december, "电费结算-2026-11.csv")
    record_settlements(settlements, december)
    county.allocate(pv_rule, "2026-12")
    county.allocate(dibao_rule(county, "2026-12"), "2026-12")
    pay(county, "2026-12-02", "2026-12-02", fail=0)
    statement = reconcile(county, "2026-12")
    check_reconciliation(
        county, "2026-12", statement, county.run(CLERK, "reconcile", "--account", ACCOUNT, "--period", "2026-12")
    )
    for period in ("2026-11", "2026-12"):
        check_trial_balance(county, period)
    check_receivables(county, settlements)

    # ------------------------------------------------------------------ the auditor's year end
    assert closed_rows(county, "2026-10") == october_rows, "the closed October changed"
    check_trial_balance(county, "2026-10")
    assert (county.work / "科目余额表-2026-10.csv").read_bytes() == october_tb
    funds = [
        fund
        for (fund,) in county.sql("SELECT DISTINCT fund_source FROM postings WHERE fund_source IS NOT NULL ORDER BY 1")
    ]
    for fund in funds:
        county.run(None, "report", "fund-trace", fund, "--out", str(county.work / f"trace-{len(fund)}.xlsx"))
    reports = county.work
    county.run(
        AUDITOR,
        "report",
        "ledger",
        "--entity",
        "COUNTY",
        "--period",
        "2026-12",
        "--account",
        "102",
        "--out",
        str(reports / "明细账-102.xlsx"),
    )
    county.run(
        AUDITOR,
        "report",
        "general-ledger",
        "--entity",
        "COUNTY",
        "--period",
        "2026-12",
        "--out",
        str(reports / "总账.xlsx"),
    )
    county.run(
        AUDITOR,
        "report",
        "auxiliary",
        "--entity",
        "COUNTY",
        "--period",
        "2026-12",
        "--account",
        "211",
        "--out",
        str(reports / "辅助核算-211.xlsx"),
    )
    county.run(
        AUDITOR,
        "report",
        "vouchers",
        "--entity",
        "COUNTY",
        "--period",
        "2026-11",
        "--out",
        str(reports / "凭证-2026-11.html"),
    )
    county.run(None, "audit", "anomalies")
    county.run(None, "audit", "log")
    county.run(None, "registry", "changes", "--since", "2026-11-01")
    county.run(None, "payout", "status", "--household", failed_household)
    paid_households = [
        h
        for (h,) in county.sql(
            "SELECT DISTINCT household_id FROM payment_instructions WHERE household_id IS NOT NULL ORDER BY 1"
        )
    ]
    for household in sorted({failed_household, died["户编号"], *paid_households[:3]} - {exited}):
        check_household_card(county, household)
    county.run(None, "verify")
    # The household that left in November was paid in October: its 明白卡 is still owed to it.
    county.run(CENTRE, "report", "household", exited)
    check_household_card(county, exited)
    print(f"{len(county.typed)} commands, {sum(s for s, _ in county.seconds):.1f} s in them")


def station_villages(county: County) -> dict[str, list[str]]:
    import yaml

    assets = yaml.safe_load((county.county / "assets.yaml").read_text(encoding="utf-8"))
    return {station["asset_id"]: station["village_codes"] for station in assets["stations"]}
