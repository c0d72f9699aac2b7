"""The bank's side of a test or training database: return files and account statements, written
in a bank profile's own layouts (``disburse generate bank-return`` / ``generate bank-statement``).

Nothing here changes the books: it reads them (through the stage functions and plain queries)
and writes the files a bank would send back, so that a person can practise the rest of the
month (``payout returns``, ``import bank-statement``, ``reconcile``) on generated data. The
layouts and the rules behind every line are described for users in docs/bank-files.md.

- ``write_bank_return``: the bank's answer to an exported batch, one line per payment still
  waiting for its result, N of them failing with the reasons banks give (户名不符, 账户已销户,
  账户冻结, 账号不存在), in the profile's ``return`` layout.
- ``write_bank_statement``: one bank account's statement for one period, in the profile's
  ``statement`` layout, consistent with the books: every movement the books record on the
  account's 102.xx (batch payments as one debit, as one debit with refunds, or per payee;
  receipts; vouchers), grid settlements received that the books have not booked as cash,
  the bank's own fees and interest, and what the books paid near the previous period's end
  that the bank shows only now.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import join_list, tr, tr_noop
from disburse.foundation.masking import mask_identifier
from disburse.foundation.money import format_yuan
from disburse.importers.bank_profiles import BankProfile, ProfileError, StatementLayout, load_profiles
from disburse.payouts.bank_layout import payment_profile
from disburse.payouts.service import batch_by_reference, batch_instructions
from disburse.reconciliation.frames import period_dates
from disburse.reconciliation.model import MatchSettings
from disburse.reconciliation.runs import compute
from disburse.reconciliation.statements import BankAccountRef, bank_account_by_reference

FAILURE_REASONS = ("户名不符", "账户已销户", "账户冻结", "账号不存在")
GRID_COMPANY = "国网陕西省电力有限公司商洛供电公司"
GRID_ACCOUNT = "2605000000000001"
CANONICAL_STATEMENT_PROFILE = "canonical"
BANK_MEMO = "代发"  # what a bank writes as the memo of a payment whose file carried none
BatchLines = Literal["total", "control", "payee"]
BATCH_LINE_STYLES: tuple[str, ...] = ("total", "control", "payee")
# The bank's charges and interest (bank-only lines): 0.50 yuan per payment of a batch, and
# 0.35 % a year on the daily balances (活期, 积数 ÷ 360), credited on the 21st.
FEE_PER_PAYMENT_FEN = 50
INTEREST_RATE_BPS = 35
INTEREST_DAY = 21
DAYS_PER_INTEREST_YEAR = 360
# A refund of a failed payment reaches the account this many days after the batch debit.
REFUND_DELAY_DAYS = 1
FILE_SUFFIXES = (".csv", ".xlsx")
# What the refusals call a profile's layout and the file written with it (translated when shown).
LAYOUT_NAMES = {"bank_return": tr_noop("return"), "statement": tr_noop("statement")}
FILE_KINDS = {"bank_return": tr_noop("return file"), "statement": tr_noop("statement")}
# ``--late`` holds back a movement of the period's last days only: one dated earlier would reach
# the bank further from its book date than the matcher's default date window (3 days).
LATE_DAYS_MAX = 3
# Far above one account's month: a runaway query, not a statement.
STATEMENT_LINES_MAX = 2_000_000


@dataclass(frozen=True, slots=True)
class BankFileOutcome:
    """A file written: where, in which profile's layout, how many lines, and a message."""

    path: Path
    profile: str
    line_count: int
    message: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One line of a generated statement (amount signed: + into the account)."""

    booked_on: dt.date
    summary: str
    counterparty_account: str
    counterparty_name: str
    amount_fen: int
    memo: str
    key: str  # what the line stands for, stable across runs (its transaction number is a hash of it)


# Profiles and files ---------------------------------------------------------------------------


def _profiles(profiles_directory: str | os.PathLike[str] | None) -> dict[str, BankProfile]:
    try:
        return load_profiles(profiles_directory)
    except ProfileError as error:
        raise DisburseError(str(error)) from None


def _profile_with(profiles: dict[str, BankProfile], name: str, layout: str) -> BankProfile:
    """The profile ``name``, refused unless it has the ``layout`` (``bank_return``, ``statement``)."""
    profile = profiles.get(name)
    with_layout = sorted(key for key, value in profiles.items() if getattr(value, layout) is not None)
    what = tr(LAYOUT_NAMES[layout])
    if profile is None:
        raise DisburseError(
            tr(
                "no bank profile {name!r}; profiles with a {what} layout: {profiles}",
                name=name,
                what=what,
                profiles=join_list(with_layout),
            )
        )
    if getattr(profile, layout) is None:
        raise DisburseError(
            tr(
                "bank profile {name!r} ({bank}) describes no {what} file; profiles with a {what} layout: {profiles}",
                name=name,
                bank=profile.bank,
                what=what,
                profiles=join_list(with_layout),
            )
        )
    return profile


def _checked_out(out: Path, file_types: list[str], profile: str, what: str) -> Path:
    """``out`` when it is a .csv or .xlsx the bank sends (an .xlsx stands in for a bank that
    sends only .xls, which is read the same way and which this module cannot write)."""
    out = Path(out)
    suffix = out.suffix.lower()
    what = tr(FILE_KINDS[what])
    if suffix not in FILE_SUFFIXES:
        raise DisburseError(
            tr(
                "{out}: write the {what} as .csv or .xlsx, not {suffix}",
                out=out,
                what=what,
                suffix=suffix or tr("a file without a suffix"),
            )
        )
    writable = [kind for kind in ("csv", "xlsx") if kind in file_types] or ["xlsx"]
    if suffix[1:] not in writable:
        raise DisburseError(
            tr(
                "{out}: the bank of profile {profile} sends its {what} as {types}, not {suffix}; "
                "choose --out FILE.{writable}",
                out=out,
                profile=profile,
                what=what,
                types=join_list(file_types),
                suffix=suffix[1:],
                writable=writable[0],
            )
        )
    return out


def _write_rows(out: Path, rows: list[list[str]], encoding: str) -> None:
    """Text cells as CSV in the bank's encoding (UTF-8 with a BOM, as banks' UTF-8 exports
    have), or as an .xlsx sheet of text cells (account numbers never become numbers)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        with out.open("w", encoding=codec, newline="", errors="strict") as handle:
            csv.writer(handle).writerows(rows)
        return
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for cells in sheet.iter_rows():
        for cell in cells:
            cell.number_format = "@"
    workbook.save(out)


def _yuan(amount_fen: int) -> str:
    return format_yuan(int(amount_fen), thousands=False)


# Return files ---------------------------------------------------------------------------------


def _unsettled_instructions(session: Session, batch_reference: str):  # type: ignore[no-untyped-def]
    batch = batch_by_reference(session, batch_reference)
    if batch.status not in ("exported", "closed"):
        raise DisburseError(
            tr(
                "batch {batch} is {status}, not exported: the bank answers only a file it received "
                "(`disburse payout export` first)",
                batch=batch.batch_reference,
                status=batch.status,
            )
        )
    instructions = batch_instructions(session, batch.id)
    statuses = dict(
        session.execute(
            text("SELECT id, status FROM payment_instructions WHERE batch_id = :batch"), {"batch": batch.id}
        ).all()
    )
    waiting = instructions[instructions["id"].map(statuses).to_numpy() == "exported"].reset_index(drop=True)
    if waiting.empty:
        raise DisburseError(
            tr(
                "every payment of batch {batch} already has its result; there is nothing to return",
                batch=batch.batch_reference,
            )
        )
    return batch, waiting


def _return_memos(batch, waiting, profiles: dict[str, BankProfile], memo_required: bool) -> list[str]:  # type: ignore[no-untyped-def]
    """What the bank echoes in the return: our reference and memo when the batch file carried
    them (the layout it was exported in has a memo or reference column), else nothing (or the
    bank's own word, 代发, where the return layout requires a memo)."""
    if not _carries_reference(profiles, batch.bank_profile):
        return [BANK_MEMO if memo_required else ""] * len(waiting)
    return [
        memo if reference in memo else f"{reference} {memo}".strip()
        for reference, memo in zip(waiting["payment_reference"].tolist(), waiting["memo"].fillna("").tolist())
    ]


def write_bank_return(
    session: Session,
    batch_reference: str,
    profile_name: str,
    out: Path,
    *,
    failures: int = 0,
    seed: int = 1,
    profiles_directory: str | os.PathLike[str] | None = None,
) -> BankFileOutcome:
    """The bank's return file (代发回盘) for an exported batch, in ``profile_name``'s return
    layout: one line per payment still waiting for its result, ``failures`` of them (chosen by
    ``seed``) failed with a bank's reason. Writes ``out`` (.csv or .xlsx); changes nothing in
    the books."""
    profiles = _profiles(profiles_directory)
    profile = _profile_with(profiles, profile_name, "bank_return")
    layout = profile.bank_return
    assert layout is not None
    out = _checked_out(out, layout.file_types, profile_name, "bank_return")
    batch, waiting = _unsettled_instructions(session, batch_reference)
    if not 0 <= failures <= len(waiting):
        raise DisburseError(
            tr(
                "--fail {failures}: batch {batch} has {count:,} payment(s) waiting for a result",
                failures=failures,
                batch=batch.batch_reference,
                count=len(waiting),
            )
        )
    random = np.random.default_rng(seed)
    failing = np.zeros(len(waiting), dtype=bool)
    failing[random.choice(len(waiting), size=failures, replace=False)] = True
    reasons = [FAILURE_REASONS[int(index)] for index in random.integers(len(FAILURE_REASONS), size=len(waiting))]
    memos = _return_memos(batch, waiting, profiles, "memo" in layout.required)
    values = {
        "account_no": waiting["account_no"].tolist(),
        "account_name": waiting["account_name"].fillna("").tolist(),
        "amount": [_yuan(amount) for amount in waiting["amount_fen"].tolist()],
        "status": [layout.failure_values[0] if fail else layout.success_values[0] for fail in failing.tolist()],
        "reason": [reason if fail else "" for reason, fail in zip(reasons, failing.tolist())],
        "memo": memos,
    }
    fields = list(layout.columns)
    others = list(layout.other_headers)
    sequence = [name for name in others if name in ("序号", "笔号", "序列号")]
    headers = [
        *sequence,
        *(layout.columns[name][0] for name in fields),
        *(name for name in others if name not in sequence),
    ]
    rows = [headers]
    for index in range(len(waiting)):
        rows.append(
            [
                *(str(index + 1) for _ in sequence),
                *(values[name][index] for name in fields),
                *("" for name in others if name not in sequence),
            ]
        )
    _write_rows(out, rows, layout.encodings[0])
    failed = [
        f"{reference} {mask_identifier(account)} {reason}"
        for reference, account, reason, fail in zip(
            waiting["payment_reference"].tolist(), waiting["account_no"].tolist(), reasons, failing.tolist()
        )
        if fail
    ]
    message = tr(
        "wrote {out}: the {bank} return ({profile}) for batch {batch}, {lines} line(s), {paid} paid and "
        "{failed} failed; apply it with `disburse payout returns {out} --bank {profile}`",
        out=out,
        bank=profile.bank,
        profile=profile_name,
        batch=batch.batch_reference,
        lines=f"{len(waiting):,}",
        paid=f"{len(waiting) - failures:,}",
        failed=f"{failures:,}",
    )
    return BankFileOutcome(out, profile_name, len(waiting), message, tuple(failed))


# Statements: what the bank did --------------------------------------------------------------


def _statement_profile(profiles: dict[str, BankProfile], account: BankAccountRef, name: str | None) -> BankProfile:
    """The profile named, else the corporate-account profile of the account's bank (the bank's
    name is part of the registered bank name, e.g. 中国农业银行 in 中国农业银行商州支行), else
    the canonical layout."""
    if name is not None:
        return _profile_with(profiles, name, "statement")
    fitting = [
        profile
        for key, profile in profiles.items()
        if profile.statement is not None and profile.bank in account.bank_name and not key.endswith("_debit")
    ]
    if len(fitting) == 1:
        return fitting[0]
    return profiles[CANONICAL_STATEMENT_PROFILE]


def _month_before(period: str) -> str:
    year, month = int(period[:4]), int(period[5:])
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def _opening_balance(session: Session, account: BankAccountRef, start: dt.date) -> tuple[int, str]:
    """The bank's balance when the period starts: the last imported statement line before it,
    else the books' balance of the 102.xx then (the two agree when nothing is outstanding)."""
    line = session.execute(
        text(
            "SELECT balance_fen, booked_on FROM statement_lines WHERE bank_account_id = :account AND booked_on < "
            ":start AND balance_fen IS NOT NULL ORDER BY booked_on DESC, id DESC LIMIT 1"
        ),
        {"account": account.id, "start": start},
    ).first()
    if line is not None:
        return int(line.balance_fen), tr(
            "the balance of the imported statement line of {day}", day=str(line.booked_on)[:10]
        )
    book = session.execute(
        text(
            "SELECT coalesce(sum(p.amount_fen), 0) FROM postings p JOIN journal_entries e ON e.id = p.entry_id "
            "WHERE p.account_code = :code AND e.entity_id = :entity AND e.entry_date < :start"
        ),
        {"code": account.ledger_account_code, "entity": account.entity_id, "start": start},
    ).scalar_one()
    return int(book), tr(
        "the books' balance of {account} (no statement imported before)", account=account.ledger_account_code
    )


def _postings(session: Session, account: BankAccountRef, start: dt.date, end: dt.date) -> list:
    """The postings on the account's 102.xx dated in the period, except those post-unmatched
    wrote (the books catching up with lines the bank already showed)."""
    return session.execute(
        text(
            "SELECT p.id, e.entry_date, p.amount_fen, p.fund_source, e.memo, e.source_kind, e.post_request_id "
            "FROM postings p JOIN journal_entries e ON e.id = p.entry_id WHERE p.account_code = :code "
            "AND e.entity_id = :entity AND e.entry_date BETWEEN :start AND :end AND e.source_kind <> 'bank_unmatched' "
            "ORDER BY e.entry_date, p.id"
        ),
        {"code": account.ledger_account_code, "entity": account.entity_id, "start": start, "end": end},
    ).all()


def _day(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _batch_lines(
    session: Session, posting, style: str, end: dt.date, profiles: dict[str, BankProfile]
) -> list[StatementLine]:  # type: ignore[no-untyped-def]
    """What the bank shows for one applied return file: the debit (style ``total``: the paid
    payments; ``control``: every payment of the file, each failure refunded the next day;
    ``payee``: one line per paid payment) and its fee."""
    rows = session.execute(
        text(
            "SELECT i.payment_reference, i.account_no, i.account_name, i.amount_fen, i.status, i.failure_reason, "
            "i.programmes, b.batch_reference, b.bank_profile, r.id AS return_id FROM return_files r "
            "JOIN payment_instructions i ON i.return_file_id = r.id JOIN payment_batches b ON b.id = i.batch_id "
            "WHERE r.post_request_id = :request AND i.status IN ('success', 'failed') ORDER BY i.id"
        ),
        {"request": posting.post_request_id},
    ).all()
    day = _day(posting.entry_date)
    if not rows:
        return [StatementLine(day, "批量代发", "", "", int(posting.amount_fen), "代发", f"posting:{posting.id}")]
    batch, file_key = rows[0].batch_reference, f"return:{rows[0].return_id}"
    carries = _carries_reference(profiles, rows[0].bank_profile)
    paid = [row for row in rows if row.status == "success"]
    failed = [row for row in rows if row.status == "failed"]
    lines: list[StatementLine] = []
    if style == "payee":
        for row in paid:
            memo = f"{row.payment_reference} {row.programmes}" if carries else row.programmes
            lines.append(
                StatementLine(
                    day,
                    "代发",
                    row.account_no,
                    row.account_name or "",
                    -int(row.amount_fen),
                    memo[:200],
                    f"{file_key}:{row.payment_reference}",
                )
            )
    else:
        total = sum(int(row.amount_fen) for row in (rows if style == "control" else paid))
        count = len(rows) if style == "control" else len(paid)
        lines.append(StatementLine(day, "批量代发", "", "", -total, f"{batch} 代发 {count}笔", f"{file_key}:debit"))
    if style == "control":
        refunded_on = min(day + dt.timedelta(days=REFUND_DELAY_DAYS), end)
        for row in failed:
            memo = (
                f"退汇 {row.payment_reference} {row.failure_reason or ''}"
                if carries
                else f"退汇 {row.failure_reason or ''}"
            )
            lines.append(
                StatementLine(
                    refunded_on,
                    "代发退汇",
                    row.account_no,
                    row.account_name or "",
                    int(row.amount_fen),
                    memo.strip(),
                    f"{file_key}:refund:{row.payment_reference}",
                )
            )
    fee = FEE_PER_PAYMENT_FEN * len(rows)
    lines.append(StatementLine(day, "手续费", "", "", -fee, f"{batch} 代发手续费 {len(rows)}笔", f"{file_key}:fee"))
    return lines


def _carries_reference(profiles: dict[str, BankProfile], name: str | None) -> bool:
    exported = profiles.get(name or "")
    if exported is None or exported.batch_payment is None:
        return False
    try:
        return payment_profile(exported).batch_payment.carries_reference()
    except ProfileError:
        return False


def _posting_line(posting) -> StatementLine:  # type: ignore[no-untyped-def]
    """A voucher's movement as the bank shows it: a grid settlement when the books say a
    station's money came in, else a plain transfer with the voucher's text."""
    amount = int(posting.amount_fen)
    key = f"posting:{posting.id}"
    if amount > 0 and (posting.fund_source or "").startswith("PV-"):
        memo = f"{posting.fund_source} 电费结算"
        return StatementLine(_day(posting.entry_date), "电费结算", GRID_ACCOUNT, GRID_COMPANY, amount, memo, key)
    return StatementLine(_day(posting.entry_date), "转账", "", "", amount, (posting.memo or "转账")[:200], key)


def _settlement_lines(
    session: Session, account: BankAccountRef, start: dt.date, end: dt.date, booked: list[StatementLine]
) -> list[StatementLine]:
    """Grid settlements received in the period (their 到账日期) whose receipt the books have not
    booked on this account: the grid company pays them in whatever the books say. Only on the
    entity's first bank account, where settlements arrive."""
    first = session.execute(
        text("SELECT min(id) FROM bank_accounts WHERE entity_id = :entity"), {"entity": account.entity_id}
    ).scalar_one()
    if first != account.id:
        return []
    rows = session.execute(
        text(
            "SELECT s.id, s.station_id, s.service_period, s.revenue_type, s.amount_fen, s.received_on "
            "FROM pv_settlements s JOIN assets a ON a.asset_id = s.station_id WHERE a.owner_entity_id = :entity "
            "AND s.received_on BETWEEN :start AND :end AND s.amount_fen > 0 ORDER BY s.received_on, s.id"
        ),
        {"entity": account.entity_id, "start": start, "end": end},
    ).all()
    receipts = {}
    for line in booked:
        if line.summary == "电费结算":
            receipts.setdefault((line.memo.split(" ")[0], line.amount_fen), []).append(line)
    lines = []
    for row in rows:
        if receipts.get((row.station_id, int(row.amount_fen))):
            receipts[(row.station_id, int(row.amount_fen))].pop()  # booked as cash: that line is the receipt
            continue
        kind = "标杆电价" if row.revenue_type == "base" else "国家补贴"
        memo = f"{row.station_id} {row.service_period} {kind} 电费结算"
        lines.append(
            StatementLine(
                _day(row.received_on),
                "电费结算",
                GRID_ACCOUNT,
                GRID_COMPANY,
                int(row.amount_fen),
                memo,
                f"settlement:{row.id}",
            )
        )
    return lines


def _carried_lines(session: Session, account: BankAccountRef, period: str, start: dt.date) -> list[StatementLine]:
    """What the books paid or received in the previous period that its statement did not show
    (``--late``, or a voucher posted after that statement was made): the bank shows it on the
    first day of this one. Read by reconciling the previous period with no date window; only
    when its statement was imported."""
    previous = _month_before(period)
    dates = period_dates(previous, 0)
    imported = session.execute(
        text("SELECT count(*) FROM statement_lines WHERE bank_account_id = :account AND booked_on BETWEEN :a AND :b"),
        {"account": account.id, "a": dates.start, "b": dates.end},
    ).scalar_one()
    if not imported:
        return []
    _, result, _, _ = compute(session, account, previous, MatchSettings(date_window_days=0))
    left = result.book_only
    left = left[(left["entry_date"] >= np.datetime64(dates.start)) & (left["entry_date"] <= np.datetime64(dates.end))]
    lines = []
    for item in left.itertuples(index=False):
        reference = item.payment_reference if isinstance(item.payment_reference, str) else ""
        memo = " ".join(part for part in (reference, item.memo if isinstance(item.memo, str) else "") if part)
        lines.append(
            StatementLine(
                start,
                "代发" if reference else "转账",
                item.counterparty_account if isinstance(item.counterparty_account, str) else "",
                item.counterparty_name if isinstance(item.counterparty_name, str) else "",
                int(item.amount_fen),
                (memo or "转账")[:200],
                f"carried:{int(item.book_id)}",
            )
        )
    return lines


def _interest_line(lines: list[StatementLine], opening_fen: int, start: dt.date, end: dt.date) -> StatementLine | None:
    """Interest on the daily balances from the period's first day to the day before the 21st
    (积数 × rate ÷ 360, half a fen up), credited on the 21st; none on a balance not above 0."""
    credited_on = start.replace(day=INTEREST_DAY)
    if credited_on > end:
        return None
    by_day: dict[dt.date, int] = {}
    for line in lines:
        by_day[line.booked_on] = by_day.get(line.booked_on, 0) + line.amount_fen
    balance, accrual_fen_days = opening_fen, 0
    day = start
    while day < credited_on:
        balance += by_day.get(day, 0)
        accrual_fen_days += max(balance, 0)
        day += dt.timedelta(days=1)
    divisor = 10_000 * DAYS_PER_INTEREST_YEAR
    interest = (accrual_fen_days * INTEREST_RATE_BPS + divisor // 2) // divisor
    if interest <= 0:
        return None
    return StatementLine(credited_on, "结息", "", "", interest, "活期存款利息", f"interest:{start:%Y-%m}")


KIND_ORDER = {"carried": 0, "settlement": 1, "posting": 2, "return": 3, "interest": 4}


def _sorted(lines: list[StatementLine]) -> list[StatementLine]:
    return sorted(lines, key=lambda line: (line.booked_on, KIND_ORDER.get(line.key.split(":")[0], 9), line.key))


def _transaction_numbers(account: BankAccountRef, lines: list[StatementLine], seed: int) -> list[str]:
    """The bank's transaction number of each line: its date and eight digits of a hash of what
    it stands for, so a statement made again gives every line the same number (and importing it
    again adds nothing)."""
    numbers: list[str] = []
    seen: set[str] = set()
    for line in lines:
        digest = hashlib.sha256(f"{account.account_number}|{line.key}|{seed}".encode()).digest()
        value = int.from_bytes(digest[:8], "big") % 10**8
        number = f"{line.booked_on:%Y%m%d}{value:08d}"
        while number in seen:
            value = (value + 1) % 10**8
            number = f"{line.booked_on:%Y%m%d}{value:08d}"
        seen.add(number)
        numbers.append(number)
    return numbers


def _statement_rows(
    layout: StatementLayout, account: BankAccountRef, lines: list[StatementLine], opening_fen: int, seed: int
) -> list[list[str]]:
    """The header and one row per line in ``layout``: its own headers, its direction style
    (signed, split or a 借/贷 flag), its date and time formats and its other columns."""
    fields = list(layout.columns)
    headers = [layout.columns[name][0] for name in fields] + list(layout.other_headers)
    rows = [headers]
    balance = opening_fen
    per_day: dict[dt.date, int] = {}
    for line, number in zip(lines, _transaction_numbers(account, lines, seed)):
        balance += line.amount_fen
        index = per_day[line.booked_on] = per_day.get(line.booked_on, -1) + 1
        moment = dt.datetime.combine(line.booked_on, dt.time(9)) + dt.timedelta(seconds=37 * index + seed % 29)
        values = {
            "date": moment.strftime(layout.date_formats[0])
            if layout.date_formats
            else (line.booked_on.isoformat() if "time" in layout.columns else moment.strftime("%Y-%m-%d %H:%M:%S")),
            "time": moment.strftime(layout.time_formats[0] if layout.time_formats else "%H:%M:%S"),
            "txn_id": number,
            "summary": line.summary,
            "counterparty_account": line.counterparty_account,
            "counterparty_name": line.counterparty_name,
            "amount": _yuan(line.amount_fen) if layout.direction == "signed" else _yuan(abs(line.amount_fen)),
            "debit": _yuan(-line.amount_fen) if line.amount_fen < 0 else "",
            "credit": _yuan(line.amount_fen) if line.amount_fen > 0 else "",
            "direction": layout.debit_flags[0] if line.amount_fen < 0 else layout.credit_flags[0],
            "balance": _yuan(balance),
            "memo": line.memo,
        }
        others = [_other_cell(name, account) for name in layout.other_headers]
        rows.append([values[name] for name in fields] + others)
    return rows


def _other_cell(header: str, account: BankAccountRef) -> str:
    """A column the reader does not use, filled as the bank would."""
    if "币" in header:
        return "人民币"
    if header in ("本方账号", "账号", "本方帐号"):
        return account.account_number
    if header in ("本方户名", "户名", "账户名称"):
        return account.account_name or ""
    return ""


def _preamble(account: BankAccountRef, start: dt.date, end: dt.date) -> list[list[str]]:
    """The rows a bank's export puts above the header (the reader skips them)."""
    return [
        [f"账号：{account.account_number}"],
        [f"户名：{account.account_name or account.entity_code}"],
        [f"起止日期：{start.isoformat()} 至 {end.isoformat()}"],
    ]


@dataclass(frozen=True, slots=True)
class StatementPlan:
    """What the bank shows for one account and period, before it is written."""

    account: BankAccountRef
    period: str
    opening_fen: int
    opening_source: str
    lines: tuple[StatementLine, ...]
    held_back: tuple[StatementLine, ...]

    @property
    def closing_fen(self) -> int:
        return self.opening_fen + sum(line.amount_fen for line in self.lines)


def statement_plan(
    session: Session,
    account: BankAccountRef,
    period: str,
    *,
    batch_lines: str = "control",
    late: bool = False,
    profiles: dict[str, BankProfile] | None = None,
) -> StatementPlan:
    """The statement's lines for ``account`` and ``period`` (see the module doc), in order."""
    if batch_lines not in BATCH_LINE_STYLES:
        raise DisburseError(
            tr("--batch-lines {value!r}: one of {choices}", value=batch_lines, choices=join_list(BATCH_LINE_STYLES))
        )
    profiles = profiles if profiles is not None else _profiles(None)
    dates = period_dates(period, 0)
    opening, source = _opening_balance(session, account, dates.start)
    groups: list[list[StatementLine]] = []
    for posting in _postings(session, account, dates.start, dates.end):
        if posting.source_kind == "payout_return" and int(posting.amount_fen) < 0:
            groups.append(_batch_lines(session, posting, batch_lines, dates.end, profiles))
        else:
            groups.append([_posting_line(posting)])
    held_back: list[StatementLine] = []
    if late and groups:
        # The books' last movement of the period reaches the bank only on the next one's first
        # day: a cut-off item, if it lies close enough to the end for the matcher's date window.
        latest = max(range(len(groups)), key=lambda index: (groups[index][0].booked_on, index))
        if (dates.end - groups[latest][0].booked_on).days < LATE_DAYS_MAX:
            held_back = groups.pop(latest)
    lines = [line for group in groups for line in group]
    lines += _settlement_lines(session, account, dates.start, dates.end, lines)
    lines += _carried_lines(session, account, period, dates.start)
    interest = _interest_line(lines, opening, dates.start, dates.end)
    lines += [interest] if interest is not None else []
    if len(lines) > STATEMENT_LINES_MAX:
        raise DisburseError(
            tr(
                "{count:,} statement lines, more than STATEMENT_LINES_MAX {limit:,}",
                count=len(lines),
                limit=STATEMENT_LINES_MAX,
            )
        )
    return StatementPlan(account, period, opening, source, tuple(_sorted(lines)), tuple(held_back))


def write_bank_statement(
    session: Session,
    account: str,
    period: str,
    out: Path,
    *,
    profile_name: str | None = None,
    batch_lines: str = "control",
    late: bool = False,
    seed: int = 1,
    profiles_directory: str | os.PathLike[str] | None = None,
) -> BankFileOutcome:
    """The bank's statement (交易明细) of one registered account for one period (YYYY-MM), in
    the profile's statement layout (default: the account's bank's, else the canonical one),
    consistent with the books (``statement_plan``). Writes ``out`` (.csv or .xlsx); changes
    nothing in the books."""
    reference = bank_account_by_reference(session, account)
    profiles = _profiles(profiles_directory)
    profile = _statement_profile(profiles, reference, profile_name)
    layout = profile.statement
    assert layout is not None
    out = _checked_out(out, layout.file_types, profile.name, "statement")
    plan = statement_plan(session, reference, period, batch_lines=batch_lines, late=late, profiles=profiles)
    dates = period_dates(period, 0)
    rows = _preamble(reference, dates.start, dates.end) + _statement_rows(
        layout, reference, list(plan.lines), plan.opening_fen, seed
    )
    _write_rows(out, rows, layout.encodings[0])
    notes = [f"opening balance {format_yuan(plan.opening_fen)}: {plan.opening_source}"]
    if late and not plan.held_back:
        notes.append(
            tr(
                "--late: the books record no movement in the last {days} days of {period}, so nothing is "
                "held back for the cut-off",
                days=LATE_DAYS_MAX,
                period=period,
            )
        )
    if plan.held_back:
        held = plan.held_back[0]
        notes.append(
            tr(
                "held back for the cut-off: {summary} {amount} of {day} ({count} line(s)); the next period's "
                "statement shows it",
                summary=held.summary,
                amount=format_yuan(sum(line.amount_fen for line in plan.held_back)),
                day=held.booked_on.isoformat(),
                count=len(plan.held_back),
            )
        )
    message = tr(
        "wrote {out}: the {bank} statement ({profile}) of {account} for {period}, {lines} line(s), closing "
        "balance {closing}; import it with `disburse import bank-statement {out} --account {number} --bank {profile}`",
        out=out,
        bank=profile.bank,
        profile=profile.name,
        account=reference.describe(),
        period=period,
        lines=f"{len(plan.lines):,}",
        closing=format_yuan(plan.closing_fen),
        number=reference.account_number,
    )
    return BankFileOutcome(out, profile.name, len(plan.lines), message, tuple(notes))
