"""Domain records and limits of payouts: small immutable values handed between the pure
functions (netting, matching), the services around the database, and the command line.

Money is int fen everywhere. Frames passed between stages:

``payables`` (record_payables' input, see allocations.runs.post_run): ``entity_code, run_id,
source_line, household_id, payee_type, payee_id, programme, fund_source, account_code,
amount_fen, account_no, account_name, period`` (``bank_name`` optional).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from disburse.allocations.frames import CARD_KIND_NAMES
from disburse.foundation.i18n import tr_noop

# Limits (TIGER_STYLE): each named, each asserted, each a clear refusal past it.
PAYABLES_PER_RECORD_MAX = 5_000_000  # one run over a province's households and people
PAYEES_PER_BATCH_MAX = 1_000_000  # one batch; a bank file split is the bank profile's business
PAYABLES_PER_BATCH_MAX = 5_000_000
RETURN_LINES_MAX = 1_000_000  # one return file
REPORTED_LINES_SHOWN_MAX = 50  # lines listed in a message; the rest are counted
# A journal entry holds at most this many postings (line numbers are SMALLINT, 32,767).
ENTRY_POSTINGS_MAX = 20_000
# Payment references count per month: six digits are written, more when a month needs them.
PAYMENT_REFERENCE_DIGITS = 6
BATCH_REFERENCE_DIGITS = 4
PAYMENT_REFERENCE_PATTERN = re.compile(r"PAY-\d{6}-\d{6,}")
REASON_LENGTH_MAX = 200
PROGRAMMES_TEXT_LENGTH_MAX = 500
FIX_REFERENCE_DIGITS = 4

PAYEE_TYPES = ("household", "person", "collective")
# A payable's parties beside its payee, optional in a frame handed to record_payables: the
# beneficiary (享受人; None for the household itself), their name, the head of household (户主)
# and whose card the payee's account is (卡别).
PARTY_COLUMNS = ("beneficiary_id", "beneficiary_name", "head_name", "card_kind")
CARD_KINDS = tuple(CARD_KIND_NAMES)
# The statuses of a batch and of a payment instruction as a message shows them (tr of the value).
BATCH_STATUS_NAMES = {
    "prepared": tr_noop("prepared"),
    "approved": tr_noop("approved"),
    "exported": tr_noop("exported"),
    "closed": tr_noop("closed"),
    "cancelled": tr_noop("cancelled"),
}
PAYABLE_STATUS_NAMES = {"open": tr_noop("open"), "claimed": tr_noop("claimed"), "paid": tr_noop("paid")}
INSTRUCTION_STATUS_NAMES = {
    "pending": tr_noop("pending"),
    "exported": tr_noop("exported"),
    "success": tr_noop("success"),
    "failed": tr_noop("failed"),
    "cancelled": tr_noop("cancelled"),
}
PAYABLE_COLUMNS = (
    "entity_code",
    "run_id",
    "source_line",
    "household_id",
    "payee_type",
    "payee_id",
    "programme",
    "fund_source",
    "account_code",
    "amount_fen",
    "account_no",
    "account_name",
    "period",
)


def payment_reference(month: str, number: int) -> str:
    """``PAY-202610-000123``: the month the batch was prepared in and a counter within it."""
    return payment_references(month, number, 1)[0]


def payment_references(month: str, first_number: int, count: int) -> list[str]:
    """``payment_reference`` of ``count`` consecutive numbers from ``first_number``."""
    assert len(month) == 6 and month.isdigit() and first_number >= 1 and count >= 0, (month, first_number, count)
    prefix = f"PAY-{month}-"
    width = PAYMENT_REFERENCE_DIGITS
    return [prefix + str(number).zfill(width) for number in range(first_number, first_number + count)]


def batch_reference(month: str, number: int) -> str:
    """``BATCH-202610-0001``."""
    assert len(month) == 6 and month.isdigit() and number >= 1, (month, number)
    return f"BATCH-{month}-{number:0{BATCH_REFERENCE_DIGITS}d}"


def fix_reference(month: str, number: int) -> str:
    """``FIX-202611-0001``: a card fix waiting for, or given, a checker's approval."""
    assert len(month) == 6 and month.isdigit() and number >= 1, (month, number)
    return f"FIX-{month}-{number:0{FIX_REFERENCE_DIGITS}d}"


def reference_in(memo: str | None) -> str | None:
    """The payment reference a memo carries (banks may add their own words around it)."""
    if not memo:
        return None
    found = PAYMENT_REFERENCE_PATTERN.search(memo)
    return found.group(0) if found else None


@dataclass(frozen=True, slots=True)
class NettingResult:
    """What netting open payables per payee account gave.

    ``instructions``: one row per payment with a positive net (``instruction_index,
    payee_type, payee_id, household_id, account_no, account_name, bank_name, programmes,
    period, amount_fen, payable_count``); ``links``: ``instruction_index, payable_id``;
    ``kept``: payments left for later with why (``payee_type, payee_id, household_id,
    account_no, programme, period, amount_fen, payable_count, reason``).
    """

    instructions: object  # pandas.DataFrame (kept untyped so this module imports no pandas)
    links: object
    kept: object


@dataclass(frozen=True, slots=True)
class PrepareOutcome:
    """What ``payout prepare`` did: the batch made (None when nothing was payable), its total
    and counts, and the payee accounts left for later with the reason."""

    batch_reference: str | None
    total_fen: int
    instruction_count: int
    payable_count: int
    approvals_required: int
    kept: tuple["KeptPayee", ...]
    register_fixes: int
    message: str
    bank_profile: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class KeptPayee:
    """A payee account whose payables stay open: its net, and why it was not paid now."""

    payee_type: str
    payee_id: str
    household_id: str | None
    account_no: str | None
    amount_fen: int
    payable_count: int
    reason: str
    programme: str | None = None
    period: str | None = None


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What approve, export or cancel did to a batch."""

    batch_reference: str
    status: str
    changed: bool
    message: str
    files: tuple["ExportedFile", ...] = ()
    warnings: tuple[str, ...] = ()
    # payouts.publication.Publication of an export: which files were put in place after the
    # commit, and what could not be (untyped so this module imports no database code).
    publication: object | None = None


@dataclass(frozen=True, slots=True)
class ExportedFile:
    """A bank file of a batch: name, payments, total, SHA-256 and size."""

    file_name: str
    row_count: int
    total_fen: int
    sha256: str
    size_bytes: int = 0


@dataclass(frozen=True, slots=True)
class ReportedLine:
    """A return-file line that was not applied, and why (unmatched, already settled, …)."""

    source_row: int
    outcome: str
    account_no: str | None
    amount_fen: int | None
    memo: str | None
    note: str


@dataclass(frozen=True, slots=True)
class ReturnOutcome:
    """What applying a return file did: counts and amounts applied, lines reported."""

    file_name: str
    sha256: str
    applied: bool
    settled_on: dt.date
    success_count: int
    success_fen: int
    failure_count: int
    failure_fen: int
    reported: tuple[ReportedLine, ...]
    reported_count: int
    closed_batches: tuple[str, ...]
    message: str


@dataclass(frozen=True, slots=True)
class FixOutcome:
    """What ``fix-account``, ``approve-fix`` or ``reject-fix`` did: the fix (its reference and
    status), the fix-list entries resolved, and the identifier warnings the checker must see."""

    payee_id: str
    changed: bool
    resolved_count: int
    message: str
    fix_reference: str | None = None
    status: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusLine:
    """One line of the counter clerk's view of a household: an amount due, in transit, paid or
    failed, with its programme, period, dates and reference."""

    state: str  # due | held | in_batch | in_transit | paid | failed
    programme: str
    period: str
    amount_fen: int
    payee_id: str
    account_no: str | None
    payment_reference: str | None
    batch_reference: str | None
    recorded_on: dt.date | None
    exported_on: dt.date | None
    settled_on: dt.date | None
    reason: str | None
    # The period the payable was recorded in (its run's period); ``period`` is the period the
    # money belongs to (a PV line's service period). Books are kept by the first.
    recorded_period: str = ""
    # How many sends of this money failed before (0: first send); for a line due again, how
    # many failed so far, so the next send is resend number ``send_number``.
    send_number: int = 0
    # A failed payment's reason code (importers.failure_reasons); ``reason`` is the bank's text.
    failure_code: str | None = None
    # 享受人, the name on the card paid (收款人) and whose card it is (卡别: CARD_KIND_NAMES).
    beneficiary_name: str | None = None
    account_name: str | None = None
    card_kind: str | None = None


@dataclass(frozen=True, slots=True)
class HouseholdStatus:
    """Everything due, in transit, paid and failed for one household, with totals per state."""

    household_id: str
    lines: tuple[StatusLine, ...]
    totals_fen: dict[str, int] = field(default_factory=dict)
    head_name: str | None = None  # 户主, from the register's newest version of the household
