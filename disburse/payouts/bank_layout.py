"""The batch-payment layout of a bank profile (批量代发): how one bank wants the file we upload.

A bank profile (``importers.bank_profiles``) describes one bank's files in one YAML file; the
layouts of files we read are validated there, this one here, since it is a file we write. A
``PaymentProfile`` is a profile whose ``batch_payment`` layout is valid.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator

from disburse.foundation.i18n import tr
from disburse.importers.bank_profiles import (
    BankProfile,
    LayoutModel,
    ProfileError,
    check_codec,
    load_profiles,
    profile_problems,
)
from disburse.importers.reading import normalise_header

# An .xlsx sheet holds 1,048,576 rows; a million payees per file leaves room for the header
# rows and is already far beyond what any bank accepts in one upload.
BANK_FILE_ROWS_MAX = 1_000_000
# The files of a split batch are numbered -001 … -999 in their names.
BATCH_FILES_MAX = 999


BatchSource = Literal[
    "sequence",
    "account_no",
    "account_name",
    "bank_name",
    "amount",
    "memo",
    "payment_reference",
    "interbank_flag",
    "constant",
]
ControlValue = Literal["total_amount", "row_count", "batch_reference", "file_number"]


class BatchColumn(LayoutModel):
    """One column of a batch-payment file: its header and what goes in it.

    ``source`` is ``sequence`` (1, 2, … within each file), a field of the payment instruction
    (``account_no``, ``account_name``, ``bank_name``, ``amount``, ``memo`` — the memo with our
    payment reference —, ``payment_reference``), ``interbank_flag`` (the layout's
    ``same_bank_value`` when the payee's bank is one of ``same_bank_names``, else
    ``other_bank_value``) or ``constant`` (``text``). Text is written with a leading ``'``
    when it starts with a spreadsheet formula character, unless ``raw`` is true.
    """

    header: str = Field(min_length=1, max_length=100)
    source: BatchSource
    text: str = ""
    raw: bool = False

    @model_validator(mode="after")
    def _text_only_for_constant(self) -> BatchColumn:
        if self.text and self.source != "constant":
            raise ValueError(tr("text is only for source constant"))
        return self


class ControlCell(LayoutModel):
    """A cell of the rows above the header: fixed ``text`` or a ``value`` of the file."""

    text: str | None = None
    value: ControlValue | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ControlCell:
        if (self.text is None) == (self.value is None):
            raise ValueError(tr("give exactly one of text and value"))
        return self


class BatchPaymentLayout(LayoutModel):
    """How one bank wants a batch-payment file (批量代发).

    ``file_type`` is ``csv`` (written in ``encoding``, with ``separator`` and ``line_ending``)
    or ``xlsx``. ``control_rows`` come before the header (a bank that checks the file's total
    and count against its header); ``rows_per_file_max`` splits a larger batch into numbered
    files. Amounts are yuan with two decimals: text in CSV; numbers in xlsx unless
    ``amount_as_text``. ``memo_chars_max`` caps the memo the bank accepts.
    """

    file_type: Literal["csv", "xlsx"]
    encoding: str = "utf-8"
    separator: Literal[",", "\t", "|"] = ","
    line_ending: Literal["\r\n", "\n"] = "\r\n"
    rows_per_file_max: int = Field(default=BANK_FILE_ROWS_MAX, ge=1, le=BANK_FILE_ROWS_MAX)
    columns: list[BatchColumn] = Field(min_length=1)
    control_rows: list[list[ControlCell]] = Field(default_factory=list, max_length=10)
    amount_as_text: bool = False
    memo_chars_max: int | None = Field(default=None, ge=20, le=500)
    same_bank_names: list[str] = Field(default_factory=list)
    same_bank_value: str = "0"
    other_bank_value: str = "1"
    sheet_name: str = Field(default="Sheet1", min_length=1, max_length=31)

    @model_validator(mode="after")
    def _consistent(self) -> BatchPaymentLayout:
        check_codec(self.encoding)
        sources = [column.source for column in self.columns]
        for source in ("account_no", "amount"):
            if source not in sources:
                raise ValueError(tr("columns: a batch-payment file needs a column with source {source}", source=source))
        headers = [normalise_header(column.header) for column in self.columns]
        if len(set(headers)) != len(headers):
            raise ValueError(tr("columns: two columns have the same header"))
        if "interbank_flag" in sources and not self.same_bank_names:
            raise ValueError(tr("same_bank_names: needed by the interbank_flag column"))
        return self

    def carries_reference(self) -> bool:
        """True when our payment reference reaches the bank (a memo or reference column)."""
        return any(column.source in ("memo", "payment_reference") for column in self.columns)


class PaymentProfile(LayoutModel):
    """A bank profile that can write batch-payment files."""

    name: str
    bank: str
    batch_payment: BatchPaymentLayout

    model_config = ConfigDict(extra="forbid", frozen=True)


def payment_profile(profile: BankProfile) -> PaymentProfile:
    """``profile`` with its batch-payment layout validated; ``ProfileError`` lists every problem
    (paths as in the file, ``batch_payment.columns.1.source``), and names a profile without one."""
    if profile.batch_payment is None:
        raise ProfileError(
            [(profile.source or profile.name, "batch_payment", tr("this profile describes no batch-payment file"))]
        )
    try:
        return PaymentProfile.model_validate(
            {"name": profile.name, "bank": profile.bank, "batch_payment": profile.batch_payment}
        )
    except ValidationError as error:
        raise ProfileError(profile_problems(profile.source or profile.name, error)) from None


def load_payment_profiles(extra_directory: str | os.PathLike[str] | None = None) -> dict[str, PaymentProfile]:
    """Every profile (built in, or in ``extra_directory``) that describes a batch-payment file,
    each validated; ``ProfileError`` lists every problem of every file at once."""
    payment: dict[str, PaymentProfile] = {}
    problems: list[tuple[str, str, str]] = []
    for name, profile in load_profiles(extra_directory).items():
        if profile.batch_payment is None:
            continue
        try:
            payment[name] = payment_profile(profile)
        except ProfileError as error:
            problems.extend(error.problems)
    if problems:
        raise ProfileError(problems)
    return payment
