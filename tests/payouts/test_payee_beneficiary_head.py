"""Issue #14 item 7: payee, beneficiary and head apart.

A household in 东村 (H001: head 张大山) has two pupils: 张小明 (小学, 1,250.00) with his own 社保卡
and 张小红 (初中, 1,500.00) without one; 西村's H002 (head 李四) has 李小华 (普通高中, 2,500.00)
without one. Education aid is person-level: 张小明 is paid into his own card (本人社保卡), the
other two into their household's card (户卡), and every line names the beneficiary (享受人), the
card holder (收款人, the bank file's 户名) and the head (户主). A second rule with ``payee:
collective`` pays 600.00 per household into each village's own account (集体账户).

Every command runs through the ``disburse`` command's Typer app (in-process), in Chinese.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_runner import run
from hypothesis import given, settings
from hypothesis import strategies as st

from disburse.allocations.frames import person_accounts
from disburse.foundation.identifiers import luhn_check_digit, resident_id_check_character
from disburse.importers.register import parse_register
from disburse.payouts.netting import net_payables

EAST, WEST = "610102001001", "610102001002"


def _id(birth: str, sequence: str) -> str:
    first = "610102" + birth + sequence
    return first + resident_id_check_character(first)


def _card(payload: str) -> str:
    return payload + luhn_check_digit(payload)


HEAD_CARD_1, HEAD_CARD_2 = _card("622848000000000001"), _card("622848000000000002")
PUPIL_CARD = _card("623000000000000011")  # 张小明's 社保卡, at 中国建设银行
XIAOMING, XIAOHONG, XIAOHUA = _id("20140301", "031"), _id("20120501", "042"), _id("20090101", "061")
HEADERS = ["县", "乡镇", "行政村", "村代码", "户编号", "姓名", "证件号码", "与户主关系", "在校生状况", "是否寄宿"]
HEADERS += ["户类型", "贫困状态", "识别日期", "开户银行", "银行账号"]
PERSON_CARD_HEADERS = ["社保卡号", "社保卡开户银行"]


def _rows() -> list[list[str]]:
    common = ["一般贫困户", "未脱贫", "2016-01-01"]
    east, west = ["示例县", "城关镇", "东村", EAST], ["示例县", "城关镇", "西村", WEST]
    return [
        [*east, "H001", "张大山", _id("19800101", "011"), "户主", "", "", *common, "中国农业银行", HEAD_CARD_1],
        [*east, "H001", "张小明", XIAOMING, "之子", "小学", "是", *common, "", ""],
        [*east, "H001", "张小红", XIAOHONG, "之女", "初中", "是", *common, "", ""],
        [*west, "H002", "李四", _id("19750101", "051"), "户主", "", "", *common, "中国农业银行", HEAD_CARD_2],
        [*west, "H002", "李小华", XIAOHUA, "之子", "普通高中", "否", *common, "", ""],
    ]


def write_register(path: Path, person_cards: bool = True) -> Path:
    rows = _rows()
    headers = HEADERS + (PERSON_CARD_HEADERS if person_cards else [])
    if person_cards:
        own = {XIAOMING: [PUPIL_CARD, "中国建设银行"]}
        rows = [row + own.get(row[6], ["", ""]) for row in rows]
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


EDUCATION = """kind: subsidy
name: 2026学年教育资助
programme: education_aid
paying_entity: COUNTY
fund_source: 教育扶贫资助资金
expense_account_code: "514"
population:
  - {field: person.school_stage, op: in, value: [小学, 初中, 普通高中]}
basis:
  type: attribute_table
  counted_per: person
  paid_to: person
  amount_per: once
  entries:
    - {label: 寄宿小学, amount_yuan: "1250", when: [{field: person.school_stage, op: eq, value: 小学}]}
    - {label: 寄宿初中, amount_yuan: "1500", when: [{field: person.school_stage, op: eq, value: 初中}]}
    - {label: 普通高中, amount_yuan: "2500", when: [{field: person.school_stage, op: eq, value: 普通高中}]}
"""
CARE = """kind: subsidy
name: 2026年10月集中供养补助
programme: village_care
paying_entity: COUNTY
fund_source: 特困供养资金
expense_account_code: "514"
payee: collective
basis:
  type: attribute_table
  counted_per: household
  paid_to: household
  amount_per: once
  entries:
    - {label: 供养, amount_yuan: "600", when: []}
"""


def ok(database_url: str, *arguments: str, user: str = "alice") -> str:
    ran = run(database_url, *arguments, user=user)
    assert ran.exit_code == 0, (arguments, ran.output)
    assert "Traceback" not in ran.output
    return ran.stdout


def post_rule(database_url: str, rule: Path) -> str:
    """Calculate, approve and post a rule for 2026-10; returns the run id."""
    calculated = ok(database_url, "allocate", str(rule), "--period", "2026-10")
    run_id = re.search(r"分配表 (\d+) 已计算", calculated).group(1)
    ok(database_url, "runs", "approve", run_id, user="bob")
    ok(database_url, "runs", "post", run_id, user="carol")
    return run_id


@pytest.fixture
def books(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DISBURSE_LANG", "zh")
    register = write_register(tmp_path / "register_2026-10-31.csv")
    ok(database_url, "import", "registry", str(register), "--as-of", "2026-10-31")
    ok(
        database_url,
        "entities",
        "add-bank-account",
        "COUNTY",
        "--bank",
        "中国农业银行",
        "--account-number",
        "6228480012345678901",
    )
    return database_url


def _bank_rows(path: Path) -> list[list[str]]:
    lines = path.read_bytes().decode("gbk").splitlines()
    return [line.split(",") for line in lines[2:]]


def test_a_pupil_with_a_social_security_card_is_paid_into_it_the_other_into_the_household_card(
    books: str, tmp_path: Path
) -> None:
    post_rule(books, _write(tmp_path / "edu.yaml", EDUCATION))
    prepared = ok(books, "payout", "prepare", "--entity", "COUNTY", "--bank", "abc")
    # Three payments, 1,250.00 + 1,500.00 + 2,500.00 = 5,250.00: 张小明's own card is never netted
    # with his household's card, and 张小红's line (her household's card) stays her own line too.
    assert "付款 3 笔，合计 5,250.00 元，来自 3 笔应付款" in prepared
    batch = re.search(r"(BATCH-\d{6}-\d{4})", prepared).group(1)
    ok(books, "payout", "approve", batch, user="bob")
    ok(books, "payout", "export", batch, "--out", str(tmp_path / "abc.csv"), user="carol")
    rows = {row[2]: row for row in _bank_rows(tmp_path / "abc.csv")}
    # 户名 is the card holder: the pupil for his own card, the head for the household card; the
    # 社保卡's bank comes from the register's 社保卡开户银行 (ABC's file names the payee's bank).
    assert rows["张小明"][1] == PUPIL_CARD and rows["张小明"][3] == "1250.00" and rows["张小明"][5] == "中国建设银行"
    assert rows["张大山"][1] == HEAD_CARD_1 and rows["张大山"][3] == "1500.00"
    assert rows["李四"][1] == HEAD_CARD_2 and rows["李四"][3] == "2500.00"

    status = ok(books, "payout", "status", "--household", "H001")
    assert "户主 张大山" in status
    lines = [line for line in status.splitlines() if "2026学年教育资助" in line]
    pupil = next(line for line in lines if "1,250.00" in line)
    sister = next(line for line in lines if "1,500.00" in line)
    # 享受人, 收款人, 卡别 in that order on each line.
    assert re.search(r"张小明\s*│\s*张小明\s*│\s*本人社保卡", pupil), pupil
    assert re.search(r"张小红\s*│\s*张大山\s*│\s*户卡", sister), sister

    ok(books, "report", "household", "H001", "--out", str(tmp_path / "card.csv"))
    with (tmp_path / "card.csv").open(encoding="utf-8-sig") as file:
        benefits = [row for row in csv.DictReader(file) if row["项目"] == "2026学年教育资助"]
    assert sorted((row["对象"], row["收款人"], row["卡别"]) for row in benefits) == [
        ("张小明", "张小明", "本人社保卡"),
        ("张小红", "张大山", "户卡"),
    ]
    # The printed card says whose card next to the masked number.
    ok(books, "report", "household", "H001", "--out", str(tmp_path / "card.html"))
    printed = (tmp_path / "card.html").read_text(encoding="utf-8")
    assert "623000*********0114（本人社保卡）" in printed and "622848*********0018（户卡）" in printed


def test_a_collective_payee_is_the_village_account_and_the_lines_keep_beneficiary_and_head(
    books: str, tmp_path: Path
) -> None:
    rule = _write(tmp_path / "care.yaml", CARE)
    refused = run(books, "allocate", str(rule), "--period", "2026-10")
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "村 610102001001、610102001002 尚未登记银行账户" in refused.stderr
    for village, number, name in (
        (EAST, "6221000000000001", "东村村民委员会"),
        (WEST, "6221000000000002", "西村村民委员会"),
    ):
        ok(
            books,
            "entities",
            "add-bank-account",
            village,
            "--bank",
            "农村信用社",
            "--account-number",
            number,
            "--account-name",
            name,
        )
    post_rule(books, rule)
    prepared = ok(books, "payout", "prepare", "--entity", "COUNTY", "--bank", "generic")
    # One payment per village account: 600.00 for H001 into 东村's, 600.00 for H002 into 西村's.
    assert "付款 2 笔，合计 1,200.00 元，来自 2 笔应付款" in prepared
    batch = re.search(r"(BATCH-\d{6}-\d{4})", prepared).group(1)
    ok(books, "payout", "approve", batch, user="bob")
    ok(books, "payout", "export", batch, "--out", str(tmp_path / "generic.csv"), user="carol")
    rows = (tmp_path / "generic.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    assert sorted(row.split(",")[1:4] for row in rows) == [
        ["6221000000000001", "东村村民委员会", "600.00"],
        ["6221000000000002", "西村村民委员会", "600.00"],
    ]
    status = ok(books, "payout", "status", "--household", "H002")
    line = next(line for line in status.splitlines() if "600.00" in line)
    # The beneficiary is the household (named by its head), the payee the village's account.
    assert "户主 李四" in status and re.search(r"李四\s*│\s*西村村民委员会\s*│\s*集体账户", line), line


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_register_without_person_card_columns_imports_as_before(tmp_path: Path) -> None:
    with_cards = parse_register(write_register(tmp_path / "a.csv"), today=pd.Timestamp("2026-11-15").date())
    without = parse_register(
        write_register(tmp_path / "b.csv", person_cards=False), today=pd.Timestamp("2026-11-15").date()
    )
    assert not with_cards.refused and not without.refused
    assert without.frame["person_account_no"].isna().all() and without.frame["person_bank_name"].isna().all()
    # 社保卡号 is read as 个人银行账号: only 张小明's row has a card.
    owned = with_cards.frame.set_index("id_number")["person_account_no"].dropna().to_dict()
    assert owned == {XIAOMING: PUPIL_CARD}
    same = [name for name in with_cards.frame.columns if name not in ("person_account_no", "person_bank_name")]
    pd.testing.assert_frame_equal(with_cards.frame[same], without.frame[same])


def test_netting_keeps_a_pupils_own_card_apart_from_the_household_card() -> None:
    # H001's household benefit (300.00) and 张小红's aid (1,500.00) both go into the household
    # card but are owed to different payees; 张小明's 1,250.00 + 250.00 go into his own card.
    payables = pd.DataFrame(
        {
            "id": np.arange(1, 5, dtype=np.int64),
            "payee_type": ["household", "person", "person", "person"],
            "payee_id": ["H001", XIAOHONG, XIAOMING, XIAOMING],
            "household_id": ["H001"] * 4,
            "account_no": [HEAD_CARD_1, HEAD_CARD_1, PUPIL_CARD, PUPIL_CARD],
            "account_name": ["张大山", "张大山", "张小明", "张小明"],
            "bank_name": ["中国农业银行"] * 4,
            "programme": ["dibao", "education_aid", "education_aid", "education_aid"],
            "period": ["2026-10"] * 4,
            "amount_fen": np.array([30_000, 150_000, 125_000, 25_000], dtype=np.int64),
            "card_kind": ["household_card", "household_card", "person_card", "person_card"],
            "head_name": ["张大山"] * 4,
        }
    )
    netted = net_payables(payables, merge_programmes=True)
    paid = {
        (row.payee_id, row.account_no): (int(row.amount_fen), row.card_kind) for row in netted.instructions.itertuples()
    }
    assert paid == {
        ("H001", HEAD_CARD_1): (30_000, "household_card"),
        (XIAOHONG, HEAD_CARD_1): (150_000, "household_card"),
        (XIAOMING, PUPIL_CARD): (150_000, "person_card"),  # 1,250.00 + 250.00
    }
    assert set(netted.instructions["head_name"]) == {"张大山"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.sampled_from(["", " ", "\t"])), min_size=1, max_size=12))
def test_card_kind_says_whose_card_is_paid(people: list[tuple[bool, str]]) -> None:
    """For any people, own card or blank: card_kind is person_card exactly where the person's own
    number is paid, under the person's name; otherwise the head's card under the head's name."""
    rows = pd.DataFrame(
        {
            "household_id": ["H001"] * len(people),
            "name": [f"成员{index}" for index in range(len(people))],
            "person_account_no": [
                _card(f"62300000000000{index:04d}") if own else blank for index, (own, blank) in enumerate(people)
            ],
        }
    )
    households = pd.DataFrame({"household_id": ["H001"], "account_no": [HEAD_CARD_1], "head_name": ["张大山"]})
    accounts = person_accounts(rows, households)
    own = np.array([has for has, _ in people])
    assert (accounts["card_kind"].to_numpy() == np.where(own, "person_card", "household_card")).all()
    assert (accounts["account_no"].to_numpy()[own] == rows["person_account_no"].to_numpy()[own]).all()
    assert (accounts["account_name"].to_numpy()[own] == rows["name"].to_numpy()[own]).all()
    assert (accounts["account_no"].to_numpy()[~own] == HEAD_CARD_1).all()
    assert (accounts["account_name"].to_numpy()[~own] == "张大山").all()
