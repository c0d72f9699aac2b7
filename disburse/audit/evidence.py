"""Evidence rows and subjects built from the facts' frames, the same way for every check."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from disburse.audit.model import Evidence, english_kept, said, said_stripped
from disburse.foundation.dates import as_date_or_none
from disburse.foundation.frames import text_or_none
from disburse.foundation.masking import mask_identifier, mask_payee
from disburse.foundation.money import format_yuan
from disburse.payouts.model import INSTRUCTION_STATUS_NAMES, PAYABLE_STATUS_NAMES

EVIDENCE_ROWS_MAX = 200  # a finding lists at most this many rows; its summary gives the full count


def _text(value: object) -> str | None:
    return text_or_none(value)


def status_name(status: object, names: dict[str, str] = INSTRUCTION_STATUS_NAMES) -> str:
    """A payment's (or, with ``names``, a payable's) status as evidence shows it; its English
    form is the stored code itself, as the evidence digest has always hashed it."""
    code = str(status)
    return said(names[code]) if code in names else code


def payment_evidence(row: dict, note: str = "") -> Evidence:
    """An instruction as the bank paid it (account and name from the return line when answered)."""
    person = row.get("payee_id") if row.get("payee_type", row.get("payment_payee_type")) == "person" else None
    status = row.get("payment_status", row.get("status"))
    return Evidence(
        "payment",
        str(row["payment_reference"]),
        as_date_or_none(row.get("paid_on")),
        int(row.get("payment_fen", row.get("amount_fen")) or 0),
        _text(row.get("paid_account_no")),
        _text(row.get("paid_account_name")),
        _text(row.get("payment_household_id", row.get("household_id"))),
        _text(person),
        note or english_kept.tr("{status} in {batch}", status=status_name(status), batch=row.get("batch_reference")),
    )


def payable_evidence(row: dict, note: str = "") -> Evidence:
    """A payable: what was owed to whom, for which programme and period."""
    person = row["payee_id"] if row.get("payee_type") == "person" else None
    return Evidence(
        "payable",
        f"payable {int(row['payable_id'])}"
        + (f" (run {int(row['run_id'])})" if not pd.isna(row.get("run_id")) else ""),
        as_date_or_none(row.get("due_on")),
        int(row["amount_fen"]),
        _text(row.get("account_no")),
        _text(row.get("account_name")),
        _text(row.get("household_id")),
        _text(person),
        note
        or english_kept.tr(
            "{programme} {period} ({status})",
            programme=row.get("programme"),
            period=row.get("benefit_period"),
            status=status_name(row.get("status"), PAYABLE_STATUS_NAMES),
        ),
    )


def line_evidence(row: dict, note: str = "") -> Evidence:
    """A line of an allocation run."""
    person = row["payee_id"] if row.get("payee_type") == "person" else None
    return Evidence(
        "run_line",
        f"run {int(row['run_id'])} line {int(row['line_number'])}",
        as_date_or_none(row.get("service_end")),
        int(row["amount_fen"]),
        _text(row.get("account_no")),
        _text(row.get("account_name")),
        _text(row.get("household_id")),
        _text(person),
        note or f"{row.get('component')} {row.get('benefit_period')}",
    )


def statement_evidence(row: dict, note: str = "") -> Evidence:
    return Evidence(
        "statement_line",
        str(row.get("txn_id") or f"statement line {int(row['id'])}"),
        as_date_or_none(row.get("booked_on")),
        int(row["amount_fen"]),
        _text(row.get("counterparty_account")),
        _text(row.get("counterparty_name")),
        None,
        None,
        note
        or said_stripped(
            english_kept.tr(
                "into {account}: {summary} {memo}",
                account=card(row.get("account_number")),
                summary=row.get("summary") or "",
                memo=row.get("memo") or "",
            )
        ),
    )


def register_evidence(
    what: str, on: dt.date | None, household_id: object = None, person_id: object = None, note: str = ""
) -> Evidence:
    return Evidence("register", what, on, None, None, None, _text(household_id), _text(person_id), note)


def payee_subjects(row: dict) -> list[str]:
    """household:… and person:… of a payee row."""
    subjects = []
    household = _text(row.get("household_id"))
    if household:
        subjects.append(f"household:{household}")
    if row.get("payee_type") == "person" and _text(row.get("payee_id")):
        subjects.append(f"person:{row['payee_id']}")
    return subjects


def shown(payee: object) -> str:
    """A payee as a report shows it: a resident ID masked, a household id as it is."""
    return mask_payee(payee)


def card(account: object) -> str:
    """A card or account number as a report shows it: masked."""
    return mask_identifier(account) or ""


def limited(rows: list[Evidence]) -> list[Evidence]:
    return rows[:EVIDENCE_ROWS_MAX]


def yuan(amount_fen: int) -> str:
    return format_yuan(int(amount_fen))
