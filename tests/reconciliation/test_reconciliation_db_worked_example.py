"""Reconciliation through the database, on SQLite and PostgreSQL: import, match, decide, post the
bank-only lines, and the 银行存款余额调节表, against the figures worked out by hand in
``reconciliation_db_builders`` (its module doc lists the books and the statement)."""

from __future__ import annotations

import sys
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))

from reconciliation_db_builders import (  # noqa: E402
    ACCOUNT_NUMBER,
    BANK_BALANCE_FEN,
    BOOK_BALANCE_FEN,
    LEDGER_ACCOUNT,
    LINES,
    PERIOD,
    RULES,
    account_balances,
    build_books,
    line_ids,
    posting_ids,
    write_statement,
)

from disburse.foundation.db import transaction  # noqa: E402
from disburse.foundation.errors import (
    DisburseError,  # noqa: E402
    ImportRefused,  # noqa: E402
)
from disburse.ledger.service import add_bank_account, close_period  # noqa: E402
from disburse.reconciliation.match_ids import match_id_of  # noqa: E402
from disburse.reconciliation.report import write_report  # noqa: E402
from disburse.reconciliation.runs import confirm_match, reject_match, run_reconciliation  # noqa: E402
from disburse.reconciliation.statements import import_statement  # noqa: E402
from disburse.reconciliation.unmatched import post_unmatched  # noqa: E402

SAMPLES = Path("/work/shared/data/bank_samples")


@pytest.fixture
def books(engine, tmp_path: Path):  # type: ignore[no-untyped-def]
    build_books(engine, tmp_path)
    return engine


def imported(engine, tmp_path: Path, lines=LINES, name: str = "statement.csv"):  # type: ignore[no-untyped-def]
    path = write_statement(tmp_path / name, lines)
    with transaction(engine) as session:
        return import_statement(session, path, ACCOUNT_NUMBER, "dora")


def reconciled(engine, user: str = "dora"):  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        return run_reconciliation(session, LEDGER_ACCOUNT, PERIOD, user)


def ids(engine) -> tuple[dict[str, int], list[int], list[int]]:  # type: ignore[no-untyped-def]
    """Statement line ids by transaction number, the instruction ids of the two paid payments,
    and the ids of the hand-written postings on 102.01 (E1, E2)."""
    with transaction(engine) as session:
        lines = line_ids(session)
        paid = [
            int(value)
            for value in session.scalars(
                text("SELECT id FROM payment_instructions WHERE status = 'success' ORDER BY id")
            )
        ]
        postings = posting_ids(session, LEDGER_ACCOUNT)
    return lines, paid, postings[:2]


def stored(engine) -> list[tuple]:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        return [
            tuple(row)
            for row in session.execute(
                text("SELECT id, match_id, rule, score, status, decided_by FROM matches ORDER BY match_id")
            )
        ]


# ---------------------------------------------------------------------------------------- import


def test_import_detects_the_layout_and_the_same_file_again_adds_nothing(books, tmp_path: Path) -> None:
    first = imported(books, tmp_path)
    assert (first.profile, first.detected, first.line_count, first.added_count) == ("canonical", True, 6, 6)
    assert "bank profile 标准格式 (canonical) (detected from the header)" in first.message
    again = imported(books, tmp_path)
    assert (again.changed, again.added_count) == (False, 0)
    assert "nothing changed" in again.message
    with transaction(books) as session:
        assert session.scalar(text("SELECT count(*) FROM statement_lines")) == 6
        assert session.scalar(text("SELECT count(*) FROM statement_imports")) == 1
        # The dedupe key is the bank's transaction number.
        assert (
            session.scalar(text("SELECT dedupe_key FROM statement_lines WHERE txn_id = 'T20261120001'"))
            == "T|T20261120001"
        )


def test_an_overlapping_statement_adds_only_the_new_lines(books, tmp_path: Path) -> None:
    first = imported(books, tmp_path, LINES[:3], "first.csv")
    assert first.added_count == 3
    overlapping = imported(books, tmp_path, LINES[1:], "overlapping.csv")
    assert (overlapping.line_count, overlapping.added_count, overlapping.known_count) == (5, 3, 2)
    with transaction(books) as session:
        amounts = [
            int(value) for value in session.scalars(text("SELECT amount_fen FROM statement_lines ORDER BY booked_on"))
        ]
    assert amounts == [line[6] for line in LINES]


def test_lines_without_a_transaction_number_are_known_by_date_time_amount_balance_and_counterparty(
    books, tmp_path: Path
) -> None:
    anonymous = [
        (day, time, "000000", summary, account, name, amount, balance, memo)
        for day, time, _, summary, account, name, amount, balance, memo in LINES
    ]
    assert imported(books, tmp_path, anonymous[:4], "a.csv").added_count == 4
    assert imported(books, tmp_path, anonymous[2:], "b.csv").added_count == 2
    with transaction(books) as session:
        key = session.scalar(text("SELECT dedupe_key FROM statement_lines WHERE booked_on = '2026-11-02'"))
    assert key == "K|2026-11-02|09:00:00|1000000|1000000|2605000000000001"


def test_a_balance_break_is_refused_naming_the_line(books, tmp_path: Path) -> None:
    broken = list(LINES)
    day, time, txn, summary, account, name, amount, balance, memo = broken[2]
    broken[2] = (day, time, txn, summary, account, name, amount, balance + 100, memo)
    with pytest.raises(ImportRefused) as refused:
        imported(books, tmp_path, broken)
    errors = [problem for problem in refused.value.problems if problem.severity == "error"]
    # The header is row 1, so the third line is row 4: 9,985.00 − 623.45 = 9,361.55, not 9,362.55.
    assert errors[0].row == 4
    assert "line 4: balance 9,362.55 does not follow 9,985.00 - 623.45 = 9,361.55" in errors[0].reason
    with transaction(books) as session:
        assert session.scalar(text("SELECT count(*) FROM statement_lines")) == 0


def test_an_unknown_layout_is_refused_listing_its_headers(books, tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("日期,金额,备注\n2026-11-02,1.00,x\n", encoding="utf-8")
    with pytest.raises(ImportRefused) as refused:
        with transaction(books) as session:
            import_statement(session, path, LEDGER_ACCOUNT, "dora")
    assert "日期, 金额, 备注" in str(refused.value)


def test_an_unknown_bank_account_is_refused_listing_the_registered_ones(books, tmp_path: Path) -> None:
    path = write_statement(tmp_path / "s.csv", LINES)
    with pytest.raises(DisburseError, match=r"registered: 6217000099990001 \(102.01\)"):
        with transaction(books) as session:
            import_statement(session, path, "102.77", "dora")


@pytest.mark.parametrize(
    ("sample", "profile", "lines", "warnings"),
    [
        ("abc_debit.csv", "abc_debit", 5, 3),
        ("boc_debit.csv", "boc_debit", 17, 0),
        ("cmb_debit.csv", "cmb_debit", 5, 3),
        ("icbc_debit_v2.csv", "icbc_debit", 11, 1),
    ],
)
def test_every_bank_sample_imports(engine, sample: str, profile: str, lines: int, warnings: int) -> None:
    with transaction(engine) as session:
        add_bank_account(session, "COUNTY", "样例银行", "6200000000000099", "setup")
        outcome = import_statement(session, SAMPLES / sample, "6200000000000099", "dora")
    # Personal-card samples: the anonymised balances do not chain (abc, cmb) or are masked
    # (icbc), which their profiles turn into warnings.
    assert (outcome.profile, outcome.detected, outcome.line_count, outcome.added_count) == (profile, True, lines, lines)
    assert len(outcome.warnings) == warnings
    with transaction(engine) as session:
        again = import_statement(session, SAMPLES / sample, "6200000000000099", "dora")
        assert session.scalar(text("SELECT count(*) FROM statement_lines")) == lines
    assert again.added_count == 0


# ------------------------------------------------------------------------------------- matching


def test_reconcile_finds_the_hand_computed_matches_and_the_adjusted_balances_agree(books, tmp_path: Path) -> None:
    imported(books, tmp_path)
    lines, paid, (receipt, fee) = ids(books)
    outcome = reconciled(books)
    counts = outcome.counts
    assert (counts.statement_lines, counts.book_items) == (6, 4)  # the return's total is its two payments
    assert (counts.matched, counts.candidates, counts.confirmed, counts.bank_only, counts.book_only) == (1, 2, 0, 2, 0)
    matches = {row.match_id: row for row in outcome.result.matches.itertuples(index=False)}
    batch = match_id_of([lines["T20261105001"], lines["T20261107001"]], [-paid[0], -paid[1]])
    receipt_candidate = match_id_of([lines["T20261102001"]], [receipt])
    fee_candidate = match_id_of([lines["T20261103001"]], [fee])
    assert set(matches) == {batch, receipt_candidate, fee_candidate}
    # The bank debited the control total 623.45 and refunded the failed 123.45; the books hold
    # the two payments that succeeded: 300.00 + 200.00 = 623.45 − 123.45.
    assert (matches[batch].rule, matches[batch].status, matches[batch].score) == ("batch_control_total", "matched", 95)
    assert (matches[batch].amount_fen, matches[batch].book_amount_fen) == (-50_000, -50_000)
    for candidate in (receipt_candidate, fee_candidate):
        assert (matches[candidate].rule, matches[candidate].status, matches[candidate].score) == (
            "amount_date",
            "candidate",
            60,
        )
    assert sorted(outcome.result.bank_only["line_id"]) == [lines["T20261120001"], lines["T20261121001"]]
    assert outcome.result.bank_only["category"].tolist() == ["fee", "interest"]

    balance = outcome.balance
    assert (balance.book_balance_fen, balance.bank_balance_fen) == (BOOK_BALANCE_FEN, BANK_BALANCE_FEN)
    # The two candidates (the receipt 10,000.00 and the fee 15.00) are 待确认: each side already
    # holds its half, so neither is added to the other side (issue 11 item 8). Book 948,500 +
    # 321 − 500 = 948,321; bank 948,321 + 0 − 0 = 948,321.
    assert (balance.adjusted_book_balance_fen, balance.adjusted_bank_balance_fen) == (948_321, 948_321)
    assert balance.agrees
    assert balance.pending_match_count == 2
    assert (balance.pending_statement_fen, balance.pending_book_fen) == (1_000_000 - 1_500, 1_000_000 - 1_500)
    with transaction(books) as session:
        # A match of one line and one item holds its links in its own row; the batch's are in
        # the link tables.
        links = [
            session.scalar(text(f"SELECT (SELECT count(*) FROM {table}) + (SELECT count({column}) FROM matches)"))
            for table, column in (
                ("match_statement_lines", "statement_line_id"),
                ("match_postings", "posting_id"),
                ("match_instructions", "instruction_id"),
                ("match_payment_references", "payment_reference"),
            )
        ]
        in_rows = session.execute(
            text(
                "SELECT count(statement_line_id), count(posting_id), count(instruction_id), "
                "count(payment_reference) FROM matches"
            )
        ).one()
        run = session.execute(
            text(
                "SELECT matched_count, candidate_count, bank_only_count, book_balance_fen, "
                "bank_balance_fen, difference_fen FROM reconciliation_runs"
            )
        ).one()
    assert links == [4, 2, 2, 3]
    assert tuple(in_rows) == (2, 2, 0, 0)  # the two candidates
    assert tuple(run) == (1, 2, 2, BOOK_BALANCE_FEN, BANK_BALANCE_FEN, 0)


def test_reconciling_twice_gives_the_same_matches(books, tmp_path: Path) -> None:
    imported(books, tmp_path)
    first = reconciled(books)
    rows = stored(books)
    second = reconciled(books)
    assert (second.added, second.removed) == (0, 0)
    assert stored(books) == rows
    assert second.result.matches["match_id"].tolist() == first.result.matches["match_id"].tolist()


def test_a_confirmed_candidate_survives_a_rerun(books, tmp_path: Path) -> None:
    imported(books, tmp_path)
    lines, _, (receipt, _) = ids(books)
    reconciled(books)
    candidate = match_id_of([lines["T20261102001"]], [receipt])
    with transaction(books) as session:
        outcome = confirm_match(session, candidate, "erin")
    assert outcome.changed
    again = reconciled(books)
    assert (again.counts.confirmed, again.counts.candidates) == (1, 1)
    assert {row[1]: (row[4], row[5]) for row in stored(books)}[candidate] == ("confirmed", "erin")
    # The receipt is settled, the fee candidate pending: book 948,500 + 321 − 500 = 948,321; bank
    # 948,321.
    assert (again.balance.adjusted_book_balance_fen, again.balance.adjusted_bank_balance_fen) == (948_321, 948_321)
    assert again.balance.pending_match_count == 1
    with transaction(books) as session:
        assert not confirm_match(session, candidate, "erin").changed


def test_a_rejected_candidate_is_never_proposed_again(books, tmp_path: Path) -> None:
    imported(books, tmp_path)
    lines, _, (_, fee) = ids(books)
    reconciled(books)
    candidate = match_id_of([lines["T20261103001"]], [fee])
    with transaction(books) as session:
        reject_match(session, candidate, "erin")
    again = reconciled(books)
    assert candidate not in again.result.matches["match_id"].tolist()
    assert lines["T20261103001"] in again.result.bank_only["line_id"].tolist()
    assert again.result.book_only["book_id"].tolist() == [fee]
    assert {row[1]: row[4] for row in stored(books)}[candidate] == "rejected"
    with pytest.raises(DisburseError, match="was rejected by erin"):
        with transaction(books) as session:
            confirm_match(session, candidate, "erin")


def test_post_unmatched_posts_the_fee_and_the_interest_once(books, tmp_path: Path) -> None:
    imported(books, tmp_path)
    reconciled(books)
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    with transaction(books) as session:
        before = account_balances(session)
        outcome = post_unmatched(session, LEDGER_ACCOUNT, PERIOD, rules, "erin")
    assert outcome.posted == (("银行手续费", 1, -500), ("存款利息", 1, 321))
    assert len(outcome.entry_ids) == 2 and outcome.left_over.empty
    with transaction(books) as session:
        after = account_balances(session)
        entries = session.execute(
            text("SELECT entry_date, memo FROM journal_entries WHERE source_kind = 'bank_unmatched' ORDER BY id")
        ).all()
    assert sum(after.values()) == 0
    assert after["513"] - before["513"] == 500 and after["513"] == 2_000
    assert after["504"] - before.get("504", 0) == -321
    assert after[LEDGER_ACCOUNT] == BANK_BALANCE_FEN
    assert [str(row.entry_date)[:10] for row in entries] == ["2026-11-20", "2026-11-21"]
    run = outcome.run
    assert run is not None and run.counts.bank_only == 0
    assert sorted(run.result.matches.loc[run.result.matches["rule"] == "post_unmatched", "amount_fen"]) == [-500, 321]
    # Book 948,321 = bank 948,321: nothing outstanding, the two candidates pending.
    assert run.balance.agrees and run.balance.adjusted_book_balance_fen == 948_321

    with transaction(books) as session:
        second = post_unmatched(session, LEDGER_ACCOUNT, PERIOD, rules, "erin")
        assert session.scalar(text("SELECT count(*) FROM journal_entries WHERE source_kind = 'bank_unmatched'")) == 2
    assert not second.changed and second.entry_ids == ()
    assert "nothing to post" in second.message


def test_post_unmatched_refuses_an_unknown_account_and_a_closed_period(books, tmp_path: Path) -> None:
    imported(books, tmp_path)
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - name: x\n    when: {summary_contains: [手续费]}\n    account: '599'\n", encoding="utf-8"
    )
    with pytest.raises(DisburseError, match="account '599' is not in the chart"):
        with transaction(books) as session:
            post_unmatched(session, LEDGER_ACCOUNT, PERIOD, rules, "erin")
    rules.write_text(
        "rules:\n  - name: x\n    when: {summary_contains: [手续费]}\n    account: '513'\n    colour: red\n",
        encoding="utf-8",
    )
    with pytest.raises(DisburseError, match=r"rules.0.colour: unknown key \(not allowed here\)"):
        with transaction(books) as session:
            post_unmatched(session, LEDGER_ACCOUNT, PERIOD, rules, "erin")
    rules.write_text(RULES, encoding="utf-8")
    with transaction(books) as session:
        # Periods close in order: the books hold October's payouts before November's.
        close_period(session, "COUNTY", "2026-10", "erin")
        close_period(session, "COUNTY", PERIOD, "erin")
    with pytest.raises(DisburseError, match="period 2026-11 of COUNTY is closed"):
        with transaction(books) as session:
            post_unmatched(session, LEDGER_ACCOUNT, PERIOD, rules, "erin")


# ---------------------------------------------------------------------------------------- report


def _sheet_rows(path: Path, name: str) -> list[tuple]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(row) for row in workbook[name].iter_rows(min_row=3, values_only=True)]
    finally:
        workbook.close()


def test_the_report_shows_an_agreeing_table(books, tmp_path: Path) -> None:
    imported(books, tmp_path)
    reconciled(books)
    with transaction(books) as session:
        report = write_report(session, LEDGER_ACCOUNT, PERIOD, tmp_path / "report.xlsx")
    assert report.agrees
    rows = _sheet_rows(tmp_path / "report.xlsx", "调节表")
    figures = [(row[0], float(row[1]), row[2], float(row[3])) for row in rows[:4]]
    assert figures == [
        ("企业银行存款日记账余额", 9_485.00, "银行对账单余额", 9_483.21),
        ("加：银行已收、企业未收", 3.21, "加：企业已收、银行未收", 0.00),
        ("减：银行已付、企业未付", 5.00, "减：企业已付、银行未付", 0.00),
        ("调节后的存款余额", 9_483.21, "调节后的存款余额", 9_483.21),
    ]
    # The two candidates, in neither side's columns: 10,000.00 − 15.00 on each side.
    assert (rows[4][0], float(rows[4][1]), rows[4][2], float(rows[4][3])) == (
        "待确认匹配 2 笔：对账单金额(未计入上列)",
        9_985.00,
        "待确认匹配 2 笔：账簿金额(未计入上列)",
        9_985.00,
    )
    assert rows[5][2] == "两方调节后余额相符"
    assert len(_sheet_rows(tmp_path / "report.xlsx", "匹配")) == 3
    assert len(_sheet_rows(tmp_path / "report.xlsx", "银行有企业无")) == 2


def test_the_report_shows_the_difference_and_the_line_that_causes_it(books, tmp_path: Path) -> None:
    # The bank paid H001 300.01 where the books say 300.00; each payee on its own line.
    per_payee = [
        LINES[0],
        LINES[1],
        (
            "2026-11-06",
            "11:00:00",
            "T20261106001",
            "代发",
            "6217000000000001",
            "户主H001",
            -30_001,
            968_499,
            "PAY-202611-000001",
        ),
        (
            "2026-11-06",
            "11:00:01",
            "T20261106002",
            "代发",
            "6217000000000002",
            "户主H002",
            -20_000,
            948_499,
            "PAY-202611-000002",
        ),
        ("2026-11-20", "08:00:00", "T20261120001", "手续费", "", "", -500, 947_999, "跨行汇款手续费"),
        ("2026-11-21", "08:00:00", "T20261121001", "结息", "", "", 321, 948_320, "第四季度结息"),
    ]
    imported(books, tmp_path, per_payee)
    outcome = reconciled(books)
    mismatches = outcome.result.amount_mismatches
    assert mismatches[["reference", "statement_amount_fen", "book_amount_fen", "difference_fen"]].values.tolist() == [
        ["PAY-202611-000001", -30_001, -30_000, -1]
    ]
    with transaction(books) as session:
        report = write_report(session, LEDGER_ACCOUNT, PERIOD, tmp_path / "report.xlsx")
    balance = report.balance
    # Book 948,500 + 321 − 500 = 948,321; bank 948,320 (the candidates pending on both sides).
    assert (balance.adjusted_book_balance_fen, balance.adjusted_bank_balance_fen) == (948_321, 948_320)
    assert (balance.difference_fen, balance.explained_fen, balance.unexplained_fen) == (1, 1, 0)
    assert balance.pending_difference_fen == 0
    causes = _sheet_rows(tmp_path / "report.xlsx", "差异原因")
    assert [(row[0], float(row[5])) for row in causes] == [("amount_mismatch", -0.01)]


def test_the_report_is_refused_without_a_statement_balance_at_the_period_end(books, tmp_path: Path) -> None:
    imported(books, tmp_path)
    with pytest.raises(DisburseError, match="no line on or before 2026-10-31"):
        with transaction(books) as session:
            write_report(session, LEDGER_ACCOUNT, "2026-10", tmp_path / "october.xlsx")


def test_the_next_period_carries_only_what_is_still_outstanding(books, tmp_path: Path) -> None:
    imported(books, tmp_path)
    lines, _, (receipt, fee) = ids(books)
    reconciled(books)
    with transaction(books) as session:
        confirm_match(session, match_id_of([lines["T20261102001"]], [receipt]), "erin")
        confirm_match(session, match_id_of([lines["T20261103001"]], [fee]), "erin")
    reconciled(books)
    with transaction(books) as session:
        december = run_reconciliation(session, LEDGER_ACCOUNT, "2026-12", "dora")
    # Everything November settled stays in November; the fee and the interest the books never
    # took are still outstanding at 12-31.
    assert sorted(december.inputs.statement["line_id"]) == [lines["T20261120001"], lines["T20261121001"]]
    assert december.inputs.book.empty
    assert (december.counts.bank_only, december.counts.matched) == (2, 0)
    balance = december.balance
    # Book 948,500 + 321 − 500 = 948,321 = the bank's 948,321.
    assert (balance.book_balance_fen, balance.bank_balance_fen) == (BOOK_BALANCE_FEN, BANK_BALANCE_FEN)
    assert (balance.adjusted_book_balance_fen, balance.adjusted_bank_balance_fen) == (948_321, 948_321)
