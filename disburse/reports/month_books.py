"""The month's printed books in one call, each as PDF and as xlsx: 科目余额表, 记账凭证, 明细账 of
the bank account and of 211 应付款, 总账, 辅助核算余额表 by fund source and by household,
银行存款余额调节表, and a household's 明白卡. The demo writes them; a county can too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from disburse.reports.auxiliary import FUND, HOUSEHOLD, auxiliary_balance, write_auxiliary_balance
from disburse.reports.bank_reconciliation import reconciliation_statement, write_reconciliation
from disburse.reports.general_ledger import general_ledger, write_general_ledger
from disburse.reports.household import CardFooter, household_statement, write_household_statement
from disburse.reports.ledger_detail import account_detail, write_account_detail
from disburse.reports.printing import PrintedFile, period_text_zh
from disburse.reports.trial_balance import trial_balance, write_trial_balance
from disburse.reports.voucher_print import VoucherPrint, print_vouchers
from disburse.reports.vouchers import vouchers_of

SUFFIXES = (".pdf", ".xlsx")
PAYABLES_ACCOUNT = "211"


@dataclass(frozen=True, slots=True)
class MonthBooks:
    """Which books to print: the entity and period, its bank account (number and 102.xx code),
    a household for the 明白卡, who prints them, and the 监督电话."""

    entity_code: str
    period: str
    bank_account: str
    bank_ledger_account: str
    household_id: str | None
    prepared_by: str | None
    hotline: str | None = None
    printed_on: dt.date | None = None
    # The 辅助核算余额表 by household runs to a page per 28 households; laid out as PDF it costs
    # about as much as all the other books together, so a quick run may write it as xlsx only.
    household_balance_pdf: bool = True


def write_month_books(
    session: Session, chosen: MonthBooks, directory: Path, suffixes: tuple[str, ...] = SUFFIXES
) -> list[PrintedFile]:
    """Write every book of ``chosen`` into ``directory`` as .pdf and .xlsx (or ``suffixes``);
    returns the files.
    The 记账凭证 PDF summarises many-household vouchers by village without the 分户明细表 (the
    xlsx has it as a sheet, and `report vouchers` prints it)."""
    directory = Path(directory)
    entity, period, user, on = chosen.entity_code, chosen.period, chosen.prepared_by, chosen.printed_on
    written: list[PrintedFile] = []
    balances = trial_balance(session, entity, period)
    bank = account_detail(session, entity, period, chosen.bank_ledger_account)
    payables = account_detail(session, entity, period, PAYABLES_ACCOUNT)
    ledger = general_ledger(session, entity, period)
    by_fund = auxiliary_balance(session, entity, period, PAYABLES_ACCOUNT, FUND)
    by_household = auxiliary_balance(session, entity, period, PAYABLES_ACCOUNT, HOUSEHOLD)
    reconciliation = reconciliation_statement(session, chosen.bank_account, period)
    vouchers = vouchers_of(session, entity, period)
    for suffix in suffixes:
        written.append(
            write_trial_balance(
                balances, directory / f"科目余额表-{entity}-{period}{suffix}", prepared_by=user, printed_on=on
            )
        )
        for detail in (bank, payables):
            name = f"明细账-{entity}-{period}-{detail.account_code}{suffix}"
            written.append(write_account_detail(detail, directory / name, prepared_by=user, printed_on=on))
        written.append(
            write_general_ledger(ledger, directory / f"总账-{entity}-{period}{suffix}", prepared_by=user, printed_on=on)
        )
        for balance, by in ((by_fund, "按资金来源"), (by_household, "按户")):
            if balance is by_household and suffix == ".pdf" and not chosen.household_balance_pdf:
                continue
            name = f"辅助核算余额表-{by}-{entity}-{period}-{PAYABLES_ACCOUNT}{suffix}"
            written.append(write_auxiliary_balance(balance, directory / name, prepared_by=user, printed_on=on))
        name = f"银行存款余额调节表-{chosen.bank_account}-{period}{suffix}"
        written.append(write_reconciliation(reconciliation, directory / name, prepared_by=user, printed_on=on))
        setting = VoucherPrint(
            f"{vouchers[0].entity_name}（{entity}）", period_text_zh(period), user, on, attachments=suffix != ".pdf"
        )
        written.append(print_vouchers(session, vouchers, directory / f"记账凭证-{entity}-{period}{suffix}", setting)[0])
    if chosen.household_id is not None:
        card = household_statement(session, chosen.household_id, today=on)
        footer = CardFooter(user, chosen.hotline, on)
        for suffix in suffixes:
            paths = write_household_statement(card, directory / f"明白卡-{chosen.household_id}{suffix}", footer=footer)
            written.extend(PrintedFile(path) for path in paths)
    return written
