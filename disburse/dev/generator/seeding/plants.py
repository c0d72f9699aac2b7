"""The anomalies and near-misses a seeded county carries, one method each.

A plant writes the input files it needs under ``seeded/`` (a register snapshot, a settlement
file, a rule, a hand-made payable list, a village account's statement …), tells the month's
builder (``disburse.dev.audit_month``) what to do with them (``books``), and records what it
planted: its kind, the checks that must find it, and its subjects (``household:…``,
``person:…``, ``station:…``, ``programme:…`` …) by which the findings are matched to it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from disburse.dev.audit_month import DATES, dividend_rule, station_rule
from disburse.dev.generator.seeding.county import DIBAO_TYPES, County, write_csv
from disburse.foundation.money import format_yuan

SEEDED = "seeded"
AFTER_PAYMENT = "seeded/after_payment"
PRE_RUN_SNAPSHOT = dt.date(2026, 11, 5)
POST_PAYMENT_SNAPSHOT = dt.date(2026, 11, 30)
DIBAO_RATE_FEN = {"特困供养贫困户": 52_000, "低保贫困户": 33_000}
LIST_COLUMNS = ("entity_code", "source_line", "household_id", "payee_type", "payee_id", "programme", "fund_source",
                "account_code", "amount_fen", "account_no", "account_name", "period")  # fmt: skip
EXAMPLES = Path(__file__).resolve().parents[3] / "allocations" / "examples"
SURNAMES = ("张", "王", "李", "赵", "刘", "陈")


def _yuan(amount_fen: int) -> str:
    return format_yuan(amount_fen, thousands=False)


class Seeder:
    """Plants into a read county; ``manifest()`` is what was planted and how to build it."""

    def __init__(self, county: County, seed: int) -> None:
        self.county = county
        self.seed = seed
        self.anomalies: list[dict] = []
        self.near_misses: list[dict] = []
        self.books: dict = {
            "protect": [],
            "fail_payees": [],
            "rules": [],
            "manual_payables": [],
            "account_fixes": [],
            "settlements_before_runs": [],
            "settlements_after_run": {},
            "late_settlement_runs": [],
            "rule_replacements": {},
            "statements": [],
            "journal": [],
            "also_pay_periods": [],
        }
        self.pre_run: list[tuple] = []
        self.post_payment: list[tuple] = []
        self.rangers_changed = False
        self.jobs_changed = False
        self.shares_changed = False
        self.village_lines: list[tuple[dt.date, str, str, int, str]] = []
        self.repairs: list[list[str]] = []  # October's house-repair list: household, 重建 or 修缮
        stations = sorted(county.assets["stations"], key=lambda station: station["asset_id"])
        self.stations = {"late": stations[0], "idle": stations[1], "empty": stations[2 % len(stations)]}

    # ------------------------------------------------------------------------------ records
    def anomaly(self, kind: str, checks: list[str], subjects: list[str], what: str) -> None:
        self.anomalies.append(
            {
                "id": f"A{len(self.anomalies) + 1:02d}",
                "kind": kind,
                "checks": checks,
                "subjects": subjects,
                "what": what,
            }
        )

    def near_miss(self, kind: str, subjects: list[str], what: str) -> None:
        self.near_misses.append(
            {"id": f"N{len(self.near_misses) + 1:02d}", "kind": kind, "subjects": subjects, "what": what}
        )

    def protect(self, *payees: str) -> None:
        self.books["protect"].extend(payees)

    def path(self, name: str) -> Path:
        return self.county.directory / name

    def write_rule(self, name: str, text: str) -> str:
        relative = f"{SEEDED}/rules/{name}"
        target = self.path(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return relative

    def write_list(self, name: str, rows: list[dict], **listing: object) -> str:
        relative = f"{SEEDED}/lists/{name}"
        write_csv(
            self.path(relative),
            list(LIST_COLUMNS),
            [[str(row.get(column, "")) for column in LIST_COLUMNS] for row in rows],
        )
        self.books["manual_payables"].append({"file": relative, **listing})
        return relative

    def list_row(
        self,
        number: int,
        *,
        programme: str,
        fund: str,
        household: str,
        amount_fen: int,
        person: str | None = None,
        account: tuple[str, str] | None = None,
        period: str = "2026-10",
    ) -> dict:
        """One payable of a hand-made list: to the household's card (or ``account``) by default."""
        head = self.county.households.loc[household]
        account_no, name = account or (head["account_no"], head["head_name"])
        return {
            "entity_code": "COUNTY",
            "source_line": number,
            "household_id": household,
            "payee_type": "person" if person else "household",
            "payee_id": person or household,
            "programme": programme,
            "fund_source": fund,
            "account_code": "211",
            "amount_fen": amount_fen,
            "account_no": account_no,
            "account_name": name,
            "period": period,
        }

    # ------------------------------------------------------------------------------ rangers
    def ranger(self, what: str, *, served: bool = False, not_dibao: bool = False, days: int | None = None) -> str:
        """A forest ranger on the roster no other plant uses; added to the roster when none is left."""
        county = self.county
        served_villages = set(county.station_of_village())
        for row in county.rangers:
            person = county.people.loc[row[0]] if row[0] in county.people.index else None
            if person is None or row[0] in county.used_people or person["household_id"] in county.used_households:
                continue
            household = county.households.loc[person["household_id"]]
            if (served and household["village_code"] not in served_villages) or (
                not_dibao and household["household_type"] in DIBAO_TYPES
            ):
                continue
            county.used_people.add(row[0])
            county.used_households.add(person["household_id"])
            return row[0]
        mask = county.people["adult"] & ~county.people["on_roster"]
        if served:
            mask &= county.people["village_code"].isin(served_villages)
        if not_dibao:
            mask &= ~county.people["household_type"].isin(DIBAO_TYPES)
        person = county.pick_people(mask, 1, what)[0]
        rate = ("30.00", "35.00", "40.00")[int(county.rng.integers(0, 3))]
        county.rangers.append(
            [person, county.people.at[person, "name"], str(days or int(county.rng.integers(18, 31))), rate]
        )
        self.rangers_changed = True
        return person

    def ranger_row(self, person: str) -> list[str]:
        return next(row for row in self.county.rangers if row[0] == person)

    # ------------------------------------------------------------------------------ A: money idle
    def money_idle_payable(self) -> None:
        county = self.county
        mask = county.households["household_type"].isin(DIBAO_TYPES) & county.households.index.isin(
            county.first_snapshot_households
        )
        household = county.pick_households(mask & county.households["has_card"], 1, "an idle payable")[0]
        name = "2025年9月低保金（补录）"
        text = (EXAMPLES / "dibao.yaml").read_text(encoding="utf-8").replace("name: 2026年10月低保金", f"name: {name}")
        text = text.replace(
            "population:\n", f'population:\n  - {{field: household.household_id, op: in, value: ["{household}"]}}\n'
        )
        self.books["rules"].append({"file": self.write_rule("dibao-2025-09.yaml", text), "period": "2025-09"})
        self.protect(household)
        self.anomaly("money_idle.payable", ["money_idle"], [f"household:{household}", f"programme:{name}"],
                     f"{name}: a 2025-09 payable for {household}, posted and never paid")  # fmt: skip

    def money_idle_settlement(self) -> None:
        station = self.stations["idle"]
        relative = f"{SEEDED}/pv_settlements_idle.csv"
        write_csv(self.path(relative), ["电站编号", "所属期", "上网电量", "收入类型", "结算金额", "到账日期"],
                  [[station["asset_id"], "2025-06", "40000", "标杆电价", "14180.00", "2025-07-25"]])  # fmt: skip
        self.books["settlements_after_run"].setdefault(station["asset_id"], []).append(relative)
        self.anomaly(
            "money_idle.settlement",
            ["money_idle"],
            [f"station:{station['asset_id']}"],
            f"{station['asset_id']} 2025-06 base settlement received 2025-07-25, "
            "imported after the station's run, never allocated",
        )

    def money_idle_fund(self) -> None:
        fund = "2025年中央财政衔接推进乡村振兴补助资金"
        self.books["journal"].append(
            {
                "date": "2025-10-15",
                "memo": f"收到{fund}",
                "postings": [["102.01", 30_000_000, fund], ["241", -30_000_000, fund]],
            }
        )
        self.anomaly(
            "money_idle.fund",
            ["money_idle"],
            [f"fund:{fund}"],
            f"300,000.00 yuan of {fund} credited to 241 on 2025-10-15 and never paid out",
        )

    # ------------------------------------------------------------------------------ A: lists
    def equal_split(self) -> None:
        county = self.county
        households = county.pick_households(county.households["has_card"], 12, "an equal split")
        name = "2026年村集体光伏收益分红"
        text = yaml.safe_dump(
            {
                "kind": "subsidy",
                "name": name,
                "programme": "village_pv_bonus",
                "paying_entity": "COUNTY",
                "fund_source": "村集体光伏收益",
                "expense_account_code": "514",
                "population": [{"field": "household.household_id", "op": "in", "value": households}],
                "basis": {
                    "type": "attribute_table",
                    "counted_per": "household",
                    "paid_to": "household",
                    "amount_per": "once",
                    "entries": [{"label": "每户", "amount_yuan": "200", "when": []}],
                },
            },
            allow_unicode=True,
            sort_keys=False,
        )
        self.books["rules"].append({"file": self.write_rule("equal-split.yaml", text), "period": "2026-10"})
        self.protect(*households)
        self.anomaly(
            "equal_split",
            ["equal_split"],
            [f"programme:{name}"],
            f"{name}: the village's PV revenue, 200 yuan to each of 12 households",
        )

    def copied_list(self) -> None:
        rangers = [self.ranger("a copied list") for _ in range(6)]
        name = "2026年10月护林防火补贴"
        rows = []
        for number, person in enumerate(rangers, start=1):
            household = self.county.people.at[person, "household_id"]
            rows.append(self.list_row(number, programme=name, fund="森林防火经费", household=household, person=person,
                                      amount_fen=self.county.ranger_wage_fen(self.ranger_row(person)),
                                      account=self.county.paid_account(person)))  # fmt: skip
        self.write_list("copied.csv", rows)
        self.protect(*rangers)
        self.anomaly(
            "copied_list",
            ["copied_list"],
            [f"programme:{name}"],
            f"{name}: six rows copied from the forest-ranger roster (people, cards, amounts)",
        )

    def too_many_in_household(self) -> None:
        county = self.county
        household = county.pick_households(
            county.households["has_card"] & (county.households["living"] >= 2), 1, "too many in a household"
        )[0]
        members = [member for member in county.households.at[household, "member_ids"] if member in county.people.index]
        fakes = [
            county.new_resident_id(dt.date(1960 + int(county.rng.integers(0, 40)), 3, 1 + index)) for index in range(5)
        ]
        name = "2026年10月临时救助"
        rows = [
            self.list_row(
                number, programme=name, fund="临时救助资金", household=household, person=person, amount_fen=30_000
            )
            for number, person in enumerate(members + fakes, start=1)
        ]
        self.write_list("relief.csv", rows)
        self.protect(household, *members, *fakes)
        self.anomaly(
            "too_many_in_household",
            ["too_many_in_household"],
            [f"household:{household}"],
            f"{name}: {len(rows)} people paid in {household}, which has {len(members)} living member(s)",
        )

    def incompatible_programmes(self) -> None:
        person = self.ranger("incompatible programmes", served=True)
        self.county.jobs.append([person, self.county.people.at[person, "name"], "10", "20.00"])
        self.jobs_changed = True
        self.protect(person)
        self.anomaly(
            "incompatible_programmes",
            ["incompatible_programmes"],
            [f"person:{person}"],
            "a forest ranger also on the public-welfare job roster of the station serving the village",
        )

    def paid_twice(self) -> None:
        county = self.county
        mask = (
            county.households["household_type"].isin(DIBAO_TYPES)
            & county.households["has_card"]
            & (county.households["living"] >= 1)
        )
        listed = county.pick_households(mask, 1, "paid twice")[0]
        rerun = county.pick_households(
            county.households["has_pupil"] & county.households["has_card"], 1, "paid twice by a run"
        )[0]
        household = county.households.loc[listed]
        amount = DIBAO_RATE_FEN[household["household_type"]] * int(household["living"])
        self.write_list(
            "dibao-again.csv",
            [self.list_row(1, programme="2026年10月低保金", fund="城乡低保资金", household=listed, amount_fen=amount)],
        )
        # A second run of the same programme and period would be taken as its correction (it
        # supersedes the first); a one-off grant run again in the next month is not.
        self.repairs.append([rerun, "修缮"])
        relative = f"{SEEDED}/house_repair_2026-11.csv"
        write_csv(self.path(relative), ["户编号", "改造类型"], [[rerun, "修缮"]])
        name = "2026年第二批危房改造补助"
        text = (
            (EXAMPLES / "house_repair.yaml")
            .read_text(encoding="utf-8")
            .replace("name: 2026年第一批危房改造补助", f"name: {name}")
        )
        self.books["rules"].append(
            {"file": self.write_rule("house_repair-2026-11.yaml", text), "period": "2026-11", "inputs": relative}
        )
        self.protect(listed, rerun)
        self.anomaly(
            "paid_twice.list",
            ["paid_twice"],
            [f"household:{listed}"],
            f"October 低保 for {listed} again on a hand-made list",
        )
        self.anomaly(
            "paid_twice.run",
            ["paid_twice"],
            [f"household:{rerun}"],
            f"the 2026 education aid of {rerun}'s pupils again in November ({name})",
        )

    # ------------------------------------------------------------------------------ A: dividends, PV
    def dividend_below_floor(self) -> None:
        from disburse.dev.demo.cycle import collective_village_of

        cooperatives = sorted(self.county.assets["cooperatives"], key=lambda coop: coop["asset_id"])
        low, short = cooperatives[-1], cooperatives[0]
        directory = self.path(f"{SEEDED}/rules")
        directory.mkdir(parents=True, exist_ok=True)
        village = collective_village_of(self.path("shares.csv"), low["asset_id"])
        dividend_rule(
            low, village, directory / f"dividend-{low['asset_id']}.yaml", pool_yuan="200000", floor_percent="3%"
        )
        self.books["rule_replacements"][f"cooperative:{low['asset_id']}"] = (
            f"{SEEDED}/rules/dividend-{low['asset_id']}.yaml"
        )
        self.anomaly("dividend_below_floor.rule", ["dividend_below_floor"], [f"cooperative:{low['asset_id']}"],
                     f"{low['asset_id']} 2026 dividend rule guarantees 3% where the contract says 5%")  # fmt: skip
        name = f"{short['asset_id']} 2025年度拨改股分红"
        village = collective_village_of(self.path("shares.csv"), short["asset_id"])
        dividend_rule(
            short,
            village,
            directory / "dividend-2025.yaml",
            pool_yuan="10000",
            period=("2025-01-01", "2025-12-31"),
            name=name,
        )
        self.books["rules"].append({"file": f"{SEEDED}/rules/dividend-2025.yaml", "period": "2025-12"})
        self.books["also_pay_periods"].append("2025-12")
        self.anomaly("dividend_below_floor.shortfall", ["dividend_below_floor"], [f"programme:{name}"],
                     f"{name}: a pool of 10,000 yuan leaves a floor shortfall the cooperative never paid")  # fmt: skip

    def settlement_mismatch(self) -> None:
        county = self.county
        station = self.stations["idle"]
        served = (
            county.households["village_code"].isin(station["village_codes"])
            & county.households["pv_holder"]
            & county.households["has_card"]
        )
        households = county.pick_households(served, 3, "a settlement mismatch")
        name = f"{station['asset_id']} 光伏收益补发"
        fund = f"{station['asset_id']} 光伏扶贫收益"
        self.write_list(
            "pv-extra.csv",
            [
                self.list_row(n, programme=name, fund=fund, household=h, amount_fen=50_000)
                for n, h in enumerate(households, start=1)
            ],
        )
        self.protect(*households)
        self.anomaly(
            "settlement_mismatch",
            ["settlement_mismatch"],
            [f"station:{station['asset_id']}"],
            f"{name}: 1,500 yuan more paid from the station's revenue than its settlements less deductions",
        )

    def station_no_output(self) -> None:
        station = self.stations["empty"]
        relative = f"{SEEDED}/pv_settlements_zero.csv"
        write_csv(self.path(relative), ["电站编号", "所属期", "上网电量", "收入类型", "结算金额", "到账日期"],
                  [[station["asset_id"], "2025-12", "0", "标杆电价", "4321.00", "2026-01-20"]])  # fmt: skip
        self.books["settlements_before_runs"].append(relative)
        self.anomaly("station_no_output", ["station_no_output"], [f"station:{station['asset_id']}"],
                     f"{station['asset_id']} 2025-12: 4,321.00 yuan settled on 0 kWh and distributed")  # fmt: skip

    def pv_household_share(self) -> None:
        station = self.stations["empty"]
        directory = self.path(f"{SEEDED}/rules")
        directory.mkdir(parents=True, exist_ok=True)
        station_rule(station, directory / f"pv-{station['asset_id']}.yaml", households_percent=80)
        self.books["rule_replacements"][f"station:{station['asset_id']}"] = (
            f"{SEEDED}/rules/pv-{station['asset_id']}.yaml"
        )
        self.anomaly("pv_household_share", ["pv_household_share"], [f"station:{station['asset_id']}"],
                     f"{station['asset_id']}'s rule gives households 80% of the distributable revenue")  # fmt: skip

    # ------------------------------------------------------------------------------ A: the bank
    def wages_clawed_back(self) -> None:
        for share_percent, days_after, kind in ((100, 4, "equal"), (97, 6, "near")):
            person = self.ranger("a wage clawed back")
            wage = self.county.ranger_wage_fen(self.ranger_row(person))
            account, name = self.county.paid_account(person)
            amount = wage * share_percent // 100
            self.village_lines.append((DATES.paid_on + dt.timedelta(days=days_after), "转账", account, amount, name))
            self.protect(person)
            self.anomaly(
                f"wages_clawed_back.{kind}",
                ["wages_clawed_back"],
                [f"person:{person}"],
                f"{_yuan(amount)} of a {_yuan(wage)} yuan ranger wage moved to the village account "
                f"{days_after} days after the pay day",
            )

    def just_under_threshold(self) -> None:
        county = self.county
        for number, (day, per_household) in enumerate(((21, 1_640_000), (22, 1_653_300)), start=1):
            households = county.pick_households(county.households["has_card"], 6, "batches just under a threshold")
            name = f"2026年产业发展奖补（第{'一二'[number - 1]}批）"
            rows = [
                self.list_row(n, programme=name, fund="产业发展资金", household=h, amount_fen=per_household)
                for n, h in enumerate(households, start=1)
            ]
            self.write_list(f"industry-{number}.csv", rows, when="own_batch", paid_on=f"2026-11-{day}")
            self.protect(*households)
            self.anomaly(
                "just_under_threshold.batches",
                ["just_under_threshold"],
                [f"programme:{name}"],
                f"{name}: a batch of {_yuan(6 * per_household)} yuan, "
                "just under the 100,000.00 second-approval threshold",
            )
        household = county.pick_households(county.households["has_card"], 1, "payments just under a threshold")[0]
        for number, (day, amount) in enumerate(((24, 9_500_000), (26, 9_650_000)), start=1):
            name = f"2026年产业发展奖补（追加{'一二'[number - 1]}）"
            self.write_list(
                f"industry-extra-{number}.csv",
                [self.list_row(1, programme=name, fund="产业发展资金", household=household, amount_fen=amount)],
                when="own_batch",
                paid_on=f"2026-11-{day}",
            )
        self.protect(household)
        self.anomaly(
            "just_under_threshold.payee",
            ["just_under_threshold"],
            [f"household:{household}"],
            f"{household} paid 95,000.00 and 96,500.00 yuan two days apart, each just under 100,000.00",
        )

    def payee_not_beneficiary(self) -> None:
        county = self.county
        holders = county.households["pv_holder"] & county.households["has_card"]
        foreign, shared, changed = county.pick_households(holders, 3, "payees not the beneficiary")
        owner = county.pick_people(
            county.people["own_card"].ne("") & county.people["adult"] & ~county.people["on_roster"], 1, "a card's owner"
        )[0]
        owner_name = county.people.at[owner, "name"]
        self.books["account_fixes"].append(
            {
                "payee": foreign,
                "account_no": county.people.at[owner, "own_card"],
                "account_name": owner_name,
                "reason": "户主说存折丢了，先用亲戚的卡",
                "shared_with": county.people.at[owner, "household_id"],
            }
        )
        self.anomaly(
            "payee_not_beneficiary.other_card",
            ["payee_not_beneficiary", "account_name_mismatch"],
            [f"household:{foreign}"],
            f"{foreign} paid, after a card fix, to the own card of {owner_name} of another household",
        )
        other = county.pick_households(holders, 1, "a shared card's household")[0]
        other_head = county.households.loc[other]
        self.books["account_fixes"].append(
            {
                "payee": shared,
                "account_no": other_head["account_no"],
                "account_name": other_head["head_name"],
                "reason": "换卡",
                "shared_with": other,
            }
        )
        self.anomaly(
            "payee_not_beneficiary.fixed_then_shared",
            ["payee_not_beneficiary", "shared_bank_account", "account_name_mismatch"],
            [f"household:{shared}"],
            f"{shared}'s card fixed to the card of household {other}, which is paid to it too",
        )
        self.repairs.append([changed, "重建"])
        self.books["account_fixes"].append(
            {
                "payee": changed,
                "account_no": county.new_card(),
                "account_name": county.households.at[changed, "head_name"],
                "reason": "新办一卡通",
            }
        )
        self.protect(foreign, shared, changed, other)
        self.anomaly("payee_not_beneficiary.changed_before_large", ["payee_not_beneficiary"], [f"household:{changed}"],
                     f"{changed}'s card changed by a fix just before its house-repair grant was paid")  # fmt: skip

    def account_name_mismatch(self) -> None:
        county = self.county
        household = county.pick_households(county.households["has_card"], 1, "an account name mismatch")[0]
        stranger = SURNAMES[int(county.rng.integers(0, len(SURNAMES)))] + "某某"
        self.write_list(
            "living.csv",
            [
                self.list_row(
                    1,
                    programme="2026年10月临时生活补助",
                    fund="临时救助资金",
                    household=household,
                    amount_fen=80_000,
                    account=(county.new_card(), stranger),
                )
            ],
        )
        self.protect(household)
        self.anomaly(
            "account_name_mismatch",
            ["account_name_mismatch"],
            [f"household:{household}"],
            f"{household}'s grant paid to an account in the name {stranger}",
        )

    # ------------------------------------------------------------------------------ A: people
    def paid_after_death(self) -> None:
        for kind, died_on in (
            ("period_after_death", dt.date(2026, 9, 12)),
            ("died_before_payment", dt.date(2026, 11, 10)),
        ):
            person = self.ranger("a payment to the dead", not_dibao=True)
            self.post_payment.append(("death", person, died_on))
            self.protect(person)
            self.anomaly(
                f"paid_after_death.{kind}",
                ["paid_after_death"],
                [f"person:{person}"],
                f"a ranger paid for October whose death on {died_on} the register reported on {POST_PAYMENT_SNAPSHOT}",
            )

    def paid_after_exit(self) -> None:
        county = self.county
        mask = (
            county.households["has_pupil"]
            & ~county.households["coop_holder"]
            & county.households["status"].isin(["未脱贫"])
        )
        household = county.pick_households(mask, 1, "a payment after exit")[0]
        self.post_payment.append(("exit", household, dt.date(2026, 6, 15)))
        self.protect(household)
        self.anomaly(
            "paid_after_exit",
            ["paid_after_exit"],
            [f"household:{household}"],
            f"{household} exited on 2026-06-15 (reported on {POST_PAYMENT_SNAPSHOT}) "
            "and its pupil was paid education aid for October",
        )

    def person_in_two_households(self) -> None:
        county = self.county
        person = county.pick_people(
            county.people["own_card"].ne("") & county.people["adult"] & ~county.people["on_roster"],
            1,
            "a person paid through another household",
        )[0]
        other = county.pick_households(county.households["has_card"], 1, "the other household")[0]
        self.write_list(
            "care.csv",
            [
                self.list_row(
                    1,
                    programme="2026年10月残疾人护理补贴",
                    fund="残疾人两项补贴资金",
                    household=other,
                    person=person,
                    amount_fen=10_000,
                    account=county.paid_account(person),
                )
            ],
        )
        self.protect(person, other)
        self.anomaly(
            "person_in_two_households",
            ["person_in_two_households"],
            [f"person:{person}"],
            f"{person} of {county.people.at[person, 'household_id']} paid through household {other}",
        )

    def above_norm(self) -> None:
        person = self.ranger("an amount far above the norm")
        row = self.ranger_row(person)
        row[2], row[3] = "31", "300.00"
        self.rangers_changed = True
        self.protect(person)
        self.anomaly(
            "above_norm",
            ["above_norm"],
            [f"person:{person}"],
            "a ranger paid 31 days at 300.00 yuan a day (9,300.00 yuan)",
        )

    # ------------------------------------------------------------------------------ near-misses
    def card_shared_in_household(self) -> None:
        county = self.county
        pupils = county.people["pupil"] & county.people["own_card"].eq("")
        households = county.households
        mask = (
            households["pv_holder"]
            & households["has_card"]
            & households.index.isin(county.people.loc[pupils, "household_id"])
        )
        household = county.pick_households(mask, 1, "a card shared inside one household")[0]
        self.protect(household, *households.at[household, "member_ids"])
        self.near_miss(
            "card_shared_in_household",
            [f"household:{household}", f"account:{households.at[household, 'account_no']}"],
            f"{household}: a pupil's education aid and the household's PV revenue both paid to the head's card",
        )

    def death_after_payment(self) -> None:
        person = self.ranger("a death after the payment", not_dibao=True)
        self.post_payment.append(("death", person, dt.date(2026, 11, 25)))
        self.protect(person)
        self.near_miss(
            "death_after_payment", [f"person:{person}"], "a ranger paid on 2026-11-20 who died on 2026-11-25"
        )

    def prorated_exit(self) -> None:
        county = self.county
        mask = (
            county.households["coop_holder"]
            & county.households["status"].isin(["未脱贫"])
            & ~county.households["has_pupil"]
        )
        mask &= ~county.households["has_bill"]
        household = county.pick_households(mask, 1, "a prorated exit")[0]
        self.pre_run.append(("exit", household, dt.date(2026, 7, 10)))
        self.protect(household)
        self.near_miss(
            "prorated_exit",
            [f"household:{household}"],
            f"{household} exited on 2026-07-10 (reported before the runs); its 2026 dividend is prorated",
        )

    def dated_move(self) -> None:
        county = self.county
        person = county.pick_people(
            county.people["pupil"] & county.people["own_card"].eq("") & county.people["relation"].ne("户主"),
            1,
            "a dated move",
        )[0]
        target = county.pick_households(county.households["has_card"], 1, "a move's target")[0]
        self.pre_run.append(("move", person, target))
        self.protect(person, target, county.people.at[person, "household_id"])
        self.near_miss(
            "dated_move",
            [f"person:{person}"],
            f"pupil {person} moved to {target} in the snapshot of {PRE_RUN_SNAPSHOT}, "
            "after October's education aid was computed on the old household",
        )

    def second_settlement_other_period(self) -> None:
        station = self.stations["late"]
        relative = f"{SEEDED}/pv_settlements_late.csv"
        write_csv(self.path(relative), ["电站编号", "所属期", "上网电量", "收入类型", "结算金额", "到账日期"],
                  [[station["asset_id"], "2024Q4", "90000", "国家补贴", "37800.00", "2026-11-02"]])  # fmt: skip
        roster = write_csv(self.path(f"{SEEDED}/empty_roster.csv"), ["证件号码", "姓名", "出勤天数", "日工资标准"], [])
        self.books["late_settlement_runs"].append(
            {"file": relative, "station": station["asset_id"], "inputs": str(roster.relative_to(self.county.directory))}
        )
        self.near_miss(
            "second_settlement_other_period",
            [f"station:{station['asset_id']}"],
            f"{station['asset_id']}: a late 2024Q4 national subsidy allocated by a second run in October",
        )

    def amount_just_above_threshold(self) -> None:
        households = self.county.pick_households(
            self.county.households["has_card"], 5, "a batch just above a threshold"
        )
        name = "2026年产业发展奖补（第三批）"
        rows = [
            self.list_row(n, programme=name, fund="产业发展资金", household=h, amount_fen=2_000_000 + (n == 1))
            for n, h in enumerate(households, start=1)
        ]
        self.write_list("industry-3.csv", rows, when="own_batch", paid_on="2026-11-23")
        self.protect(*households)
        self.near_miss(
            "amount_just_above_threshold",
            [f"programme:{name}"],
            f"{name}: one batch of 100,000.01 yuan, approved by two",
        )

    def small_transfer_from_wage_card(self) -> None:
        person = self.ranger("a small transfer")
        account, name = self.county.paid_account(person)
        self.village_lines.append((DATES.paid_on + dt.timedelta(days=5), "转账", account, 2_000, name))
        self.protect(person)
        self.near_miss(
            "small_transfer_from_wage_card",
            [f"person:{person}"],
            "a ranger transferring 20.00 yuan to the village account",
        )

    def refund_of_failed_wage(self) -> None:
        person = self.ranger("a failed wage")
        self.books["fail_payees"].append(person)
        self.near_miss(
            "refund_of_failed_wage",
            [f"person:{person}"],
            "a ranger's wage failed and the bank refunded it to the county account",
        )

    def large_pv_claimant(self) -> None:
        county = self.county
        household = county.pick_households(
            county.households["pv_holder"] & county.households["has_card"], 1, "a large PV claimant"
        )[0]
        for row in county.shares:
            if (
                row[2] == household
                and row[0].startswith("PV")
                and row[3] == "3"
                and (row[6] == "" or row[6] >= "2026-01-01")
            ):
                row[3] = "30"
                break
        self.shares_changed = True
        self.protect(household)
        self.near_miss(
            "large_pv_claimant",
            [f"household:{household}"],
            f"{household} claims 30 kW of a station where households claim 3",
        )
