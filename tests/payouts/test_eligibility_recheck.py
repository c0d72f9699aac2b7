"""Eligibility checked again (issue 14 item 4), worked by hand through the `disburse` commands
(in-process), on both engines.

The register of 2026-10-31 has four 一般贫困户 households: H1 (王一 and two pupils: 3 people), H2
(李一: 1), H3 (张一: 1) and H4 (赵四: 1). A subsidy of 50.00 a person a month for 2026-10 has a
line per person: H1 lines 3, 5, 6 (150.00), H2 line 2, H3 line 1, H4 line 4 (50.00 each), 300.00
in all. Then the snapshot of 2026-11-15: 王一 died on 2026-11-05, H2 is no longer listed (left
the register), H3's card changed from …0055 to …0071.

On 2026-11-20 approval lists the three changes (five lines). Prepare pays H4 only: 1 payment of
50.00; it holds H1's 3 × 50.00 + H2's 50.00 + H3's 50.00 = 250.00 on 211.90 (Dr 211 / Cr 211.90
per line), so 211.90 has a credit balance of 250.00 and 211 keeps H4's 50.00. Under
``recheck: {changes: refuse}`` prepare refuses instead, naming payables 1, 2, 3, 5 and 6.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parents[1] / "allocations"))
from cli_runner import run  # noqa: E402
from tiny_county import BANK_ACCOUNT, H1, H2, H3, card, resident_id, write_register  # noqa: E402

from disburse.foundation.db import make_engine  # noqa: E402

H4 = "6110021012010003"
RULE = """kind: subsidy
name: 2026年10月生活补助
programme: living_aid
paying_entity: COUNTY
fund_source: 生活补助资金
expense_account_code: "514"
{recheck}population:
  - {{field: household.household_type, op: eq, value: 一般贫困户}}
basis:
  type: attribute_table
  counted_per: person
  paid_to: household
  amount_per: month
  entries:
    - {{label: 生活补助, amount_yuan: "50", when: [{{field: household.household_type, op: eq, value: 一般贫困户}}]}}
"""


def registers(directory: Path) -> tuple[Path, Path]:
    """The snapshot of 2026-10-31 (H1-H4) and of 2026-11-15 (王一 dead, H2 gone, H3's new card)."""
    first, second = directory / "register_2026-10-31.csv", directory / "register_2026-11-15.csv"
    write_register(first)
    lines = first.read_text(encoding="utf-8").splitlines()
    head_h2 = lines[4].split(",")
    head_h4 = [*head_h2[:4], H4, "P0006", "赵四", resident_id("19850101", 51), *head_h2[8:19], card(6), *head_h2[20:]]
    lines.append(",".join(head_h4))
    first.write_text("\n".join(lines) + "\n", encoding="utf-8")
    changed = []
    for line in lines:
        cells = line.split(",")
        if cells[4] == H2:
            continue
        if cells[6] == "王一":
            cells[17] = "2026-11-05"
        if cells[4] == H3:
            cells[19] = card(7)
        changed.append(",".join(cells))
    second.write_text("\n".join(changed) + "\n", encoding="utf-8")
    return first, second


def said(ran) -> str:  # type: ignore[no-untyped-def]
    return " ".join(ran.output.split())


def calculated_run(database_url: str, tmp_path: Path, recheck: str = "") -> Path:
    """Run 1 calculated by alice on the first register (set up in-process); returns the second register's file."""
    first, second = registers(tmp_path)
    rule = tmp_path / "rule.yaml"
    rule.write_text(RULE.format(recheck=recheck), encoding="utf-8")
    for arguments in (
        ("entities", "add-bank-account", "COUNTY", "--bank", "中国农业银行", "--account-number", BANK_ACCOUNT),
        ("import", "registry", str(first), "--as-of", "2026-10-31"),
        ("allocate", str(rule), "--period", "2026-10"),
    ):
        ran = run(database_url, *arguments, user="clerk" if arguments[0] != "allocate" else "alice")
        assert ran.exit_code == 0, ran.output
    return second


def new_snapshot(database_url: str, second: Path) -> None:
    ran = run(database_url, "import", "registry", str(second), "--as-of", "2026-11-15", "--confirm-exits", "1")
    assert ran.exit_code == 0, ran.output


def balances(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT account_code, sum(amount_fen) FROM postings GROUP BY account_code")
            ).all()
    finally:
        engine.dispose()
    return {code: int(total) for code, total in rows}


def test_approval_lists_the_changes_and_prepare_holds_them_on_211_90(database_url: str, tmp_path: Path) -> None:
    new_snapshot(database_url, calculated_run(database_url, tmp_path))

    approved = run(database_url, "runs", "approve", "1", "--date", "2026-11-20", user="bob")
    assert approved.exit_code == 0, approved.output
    listed = said(approved)
    assert "run 1 approved by bob" in listed
    assert "the recipients of 5 line(s) of run 1 changed" in listed
    # 王一's ID 611002198001010117 masked; the cards …0055 → …0071 (card(5), card(7)) masked.
    assert f"line(s) 3, 5, 6: household {H1} 王一 (611002********0117) died on 2026-11-05" in listed
    assert f"line(s) 2: household {H2} left the register on 2026-11-15" in listed
    assert (
        f"line(s) 1: household {H3} 张一 (611002********0419): the card changed on 2026-11-15 from "
        "621799*********0055 to 621799*********0071" in listed
    )
    assert H4 not in listed
    assert run(database_url, "runs", "post", "1", user="bob").exit_code == 0

    prepared = run(database_url, "payout", "prepare", "--entity", "COUNTY", "--date", "2026-11-20", user="carol")
    assert prepared.exit_code == 0, prepared.output
    out = said(prepared)
    assert "1 payment(s), 50.00 yuan from 1 payable(s)" in out
    assert out.count("held on 211.90 待决定款项") == 5 and "died on 2026-11-05" in out and "left the register" in out
    # By hand: 211.90 is credited 3 × 50.00 (H1) + 50.00 (H2) + 50.00 (H3) = 250.00; 211 keeps
    # H4's 50.00 (claimed by the batch, not paid yet); 514 was debited 6 × 50.00 = 300.00.
    books = balances(database_url)
    assert books["211.90"] == -25_000 and books["211"] == -5_000 and books["514"] == 30_000

    # A second prepare holds nothing twice: the held lines are left out with their reasons.
    again = run(database_url, "payout", "prepare", "--entity", "COUNTY", "--date", "2026-11-21", user="carol")
    assert again.exit_code == 0 and "nothing new to pay" in said(again) and said(again).count("held on 211.90") == 5
    assert balances(database_url)["211.90"] == -25_000

    # The counter and the 明白卡: held for a decision, and the payables tie to the books (211 is 0).
    status = run(database_url, "payout", "status", "--household", H1)
    assert "暂挂待决定（211.90） 150.00" in said(status)
    card_file = tmp_path / "明白卡.html"
    assert run(database_url, "report", "household", H1, "--out", str(card_file)).exit_code == 0
    assert "与账簿核对一致" in card_file.read_text(encoding="utf-8")
    reversed_run = run(database_url, "runs", "reverse", "1", "--reason", "更正", user="bob")
    assert reversed_run.exit_code == 1 and "5 of its payables (250.00 yuan) are held on 211.90" in said(reversed_run)


def test_under_recheck_refuse_prepare_refuses_naming_the_lines(database_url: str, tmp_path: Path) -> None:
    second = calculated_run(database_url, tmp_path, recheck="recheck: {changes: refuse}\n")
    # Approved before the new snapshot: nothing had changed then.
    approved = run(database_url, "runs", "approve", "1", "--date", "2026-11-01", user="bob")
    assert approved.exit_code == 0 and "warning" not in approved.output, approved.output
    assert run(database_url, "runs", "post", "1", user="bob").exit_code == 0
    new_snapshot(database_url, second)

    refused = run(database_url, "payout", "prepare", "--entity", "COUNTY", "--date", "2026-11-20", user="carol")
    assert refused.exit_code == 1, refused.output
    out = said(refused)
    assert "shows 5 recipient(s) changed" in out and "recheck: refuse" in out
    for payable in (1, 2, 3, 5, 6):
        assert f"payable {payable} (2026年10月生活补助 2026-10):" in out
    assert "payable 4 " not in out
    assert "211.90" not in balances(database_url)  # nothing was written


def test_under_recheck_refuse_approval_is_refused(database_url: str, tmp_path: Path) -> None:
    new_snapshot(database_url, calculated_run(database_url, tmp_path, recheck="recheck: {changes: refuse}\n"))
    refused = run(database_url, "runs", "approve", "1", "--date", "2026-11-20", user="bob")
    assert refused.exit_code == 1 and "run 1 is not approved" in said(refused)
    assert "line(s) 3, 5, 6" in said(refused)
    shown = run(database_url, "runs", "list")
    assert "calculated" in said(shown)


@pytest.mark.parametrize("value", ["{changes: pay}", "{change: hold}"])
def test_an_unknown_recheck_setting_is_refused(database_url: str, tmp_path: Path, value: str) -> None:
    registers(tmp_path)
    rule = tmp_path / "rule.yaml"
    rule.write_text(RULE.format(recheck=f"recheck: {value}\n"), encoding="utf-8")
    refused = run(database_url, "allocate", str(rule), "--period", "2026-10")
    assert refused.exit_code == 1 and "recheck" in said(refused)
