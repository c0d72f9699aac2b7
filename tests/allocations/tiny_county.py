"""A county small enough to compute by hand, written as the files a user hands in: a register of
three households, one PV station and one cooperative, their share register and settlements.

- H1 6110021012010001 (village 611002101201, 未脱贫): 户主 and two pupils;
- H2 6110021012010002 (village 611002101201, 未脱贫): 户主, who works a public-welfare job;
- H3 6110021012020001 (village 611002101202, 已脱贫 since 2018-12-01): 户主.

Station PV-611002-009 (100 kW, owner COUNTY): from 2026-02-01 H1 holds 2 kW, H2 1 kW and the
village 611002101201 1 kW; nobody holds a claim in January. Cooperative COOP-009: H1 and H2 hold
5 shares and 5,000.00 of principal each for 2026.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from disburse.foundation.db import make_engine, transaction
from disburse.foundation.identifiers import luhn_check_digit, resident_id_check_character
from disburse.ledger.service import add_bank_account
from disburse.registry import service as registry_service

TODAY = dt.date(2026, 11, 20)
AS_OF = dt.date(2026, 1, 31)
STATION = "PV-611002-009"
COOPERATIVE = "COOP-009"
H1, H2, H3 = "6110021012010001", "6110021012010002", "6110021012020001"
VILLAGE_1, VILLAGE_2 = "611002101201", "611002101202"
BANK_ACCOUNT = "6228480012345678901"

REGISTER_HEADER = (
    "县,乡镇,行政村,村代码,户编号,人编号,姓名,证件号码,与户主关系,性别,在校生状况,是否寄宿,健康状况,户类型,"
    "贫困状态,识别日期,脱贫日期,死亡日期,开户银行,银行账号,个人银行账号,联系电话"
)


def resident_id(birth: str, sequence: int) -> str:
    first = f"611002{birth}{sequence:03d}"
    return first + resident_id_check_character(first)


def card(number: int) -> str:
    payload = f"621799{number:012d}"
    return payload + luhn_check_digit(payload)


# (household, village, village name, name, id, relation, sex, school stage, poverty status, exited)
PEOPLE = (
    (H1, VILLAGE_1, "罗口村", "王一", resident_id("19800101", 11), "户主", "男", "", "未脱贫", ""),
    (H1, VILLAGE_1, "罗口村", "王二", resident_id("20150601", 21), "之子", "男", "小学", "未脱贫", ""),
    (H1, VILLAGE_1, "罗口村", "王三", resident_id("20160701", 22), "之女", "女", "小学", "未脱贫", ""),
    (H2, VILLAGE_1, "罗口村", "李一", resident_id("19750301", 31), "户主", "男", "", "未脱贫", ""),
    (H3, VILLAGE_2, "东村", "张一", resident_id("19700501", 41), "户主", "男", "", "已脱贫", "2018-12-01"),
)
WORKER_ID = PEOPLE[3][4]
PUPILS = (PEOPLE[1][4], PEOPLE[2][4])


def write_register(path: Path) -> Path:
    rows = [REGISTER_HEADER]
    for number, (household, village, name_v, name, id_number, relation, sex, stage, status, exited) in enumerate(
        PEOPLE, start=1
    ):
        head = relation == "户主"
        rows.append(
            ",".join(
                [
                    "商州区",
                    "板桥镇",
                    name_v,
                    village,
                    household,
                    f"P{number:04d}",
                    name,
                    id_number,
                    relation,
                    sex,
                    stage,
                    "否" if stage else "",
                    "健康",
                    "一般贫困户",
                    status,
                    "2016-05-01",
                    exited,
                    "",
                    "中国农业银行" if head else "",
                    card(number) if head else "",
                    "",
                    "",
                ]
            )
        )
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


ASSETS = f"""stations:
  - asset_id: {STATION}
    name: 罗口村光伏扶贫电站
    capacity_kw: "100"
    owner: COUNTY
    village_codes: ["{VILLAGE_1}", "{VILLAGE_2}"]
    commissioned_on: 2025-12-31
cooperatives:
  - asset_id: {COOPERATIVE}
    name: 商州区罗口中药材种植专业合作社
    credit_code: "93611002MA9LCHY343"
    principal_yuan: "10000.00"
    share_count: "10"
    owner: COUNTY
    paying_entity: COUNTY
"""

SHARES = f"""项目编号,持有人类型,持有人编号,份额,本金,起始日期,终止日期
{STATION},农户,{H1},2,,2026-02-01,
{STATION},农户,{H2},1,,2026-02-01,
{STATION},村集体,{VILLAGE_1},1,,2026-02-01,
{COOPERATIVE},农户,{H1},5,5000.00,2026-01-01,
{COOPERATIVE},农户,{H2},5,5000.00,2026-01-01,
"""

# January has no holder; February and March arrived; April has not (no 到账日期).
SETTLEMENTS = f"""电站编号,所属期,上网电量,收入类型,结算金额,到账日期
{STATION},2026-01,1000,标杆电价,100.00,2026-02-20
{STATION},2026-02,1200,标杆电价,40.00,2026-03-20
{STATION},2026-03,1500,标杆电价,80.00,2026-04-20
{STATION},2026-04,1600,标杆电价,64.00,
"""

ROSTER_MARCH = f"""证件号码,姓名,出勤天数,日工资标准
{WORKER_ID},李一,2,3.00
"""


def write_files(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    write_register(directory / "register_2026-01-31.csv")
    (directory / "assets.yaml").write_text(ASSETS, encoding="utf-8")
    (directory / "shares.csv").write_text(SHARES, encoding="utf-8")
    (directory / "pv_settlements.csv").write_text(SETTLEMENTS, encoding="utf-8")
    (directory / "roster_2026-03.csv").write_text(ROSTER_MARCH, encoding="utf-8")
    return directory


def import_tiny_county(database_url: str, directory: Path, *, bank_account: bool = True, settlements: bool = True):  # type: ignore[no-untyped-def]
    """Register, assets, shares (and, by default, the bank account and the settlements)."""
    engine = make_engine(database_url)
    try:
        with transaction(engine) as session:
            registry_service.import_register(
                session, directory / "register_2026-01-31.csv", user="clerk", as_of=AS_OF, today=TODAY
            )
            registry_service.load_assets(session, directory / "assets.yaml", user="clerk")
            registry_service.import_shares(session, directory / "shares.csv", user="clerk", as_of=AS_OF, today=TODAY)
            if bank_account:
                add_bank_account(session, "COUNTY", "中国农业银行", BANK_ACCOUNT, "clerk")
            if settlements:
                registry_service.import_settlements(
                    session, directory / "pv_settlements.csv", user="clerk", today=TODAY
                )
    finally:
        engine.dispose()


def pv_rule(directory: Path, *, extra: str = "", households_part: str = "", wages: bool = False) -> Path:
    """A PV rule for the station: no deductions unless ``extra`` adds them; 100% to holders by
    claimed kW (collectives in the split), or 90% with a 10% wage part."""
    households_percent = "90%" if wages else "100%"
    wage_part = (
        '  wages: {percent: "10%", account_code: "212", debit_account_code: "514", unused_account_code: "311"}\n'
        if wages
        else ""
    )
    text = f"""kind: pv_revenue
name: tiny PV
station_id: {STATION}
paying_entity: COUNTY
fund_source: {STATION} 光伏扶贫收益
{extra}parts:
  collective: {{mode: by_claimed_kw, account_code: "113", debit_account_code: "322.01"}}
{wage_part}  households: {{percent: "{households_percent}", account_code: "211",
    debit_account_code: "322.01"{households_part}}}
"""
    path = directory / f"pv-{abs(hash(text))}.yaml"
    path.write_text(text, encoding="utf-8")
    return path
