"""Small helpers that build entries for ledger tests."""

from __future__ import annotations

import datetime as dt

from disburse.ledger.model import EntryBatch, EntryDraft, PostingDraft

OCTOBER_5 = dt.date(2026, 10, 5)


def draft(
    *amounts_by_account: tuple[str, int],
    entity: str = "COUNTY",
    date: dt.date = OCTOBER_5,
    memo: str = "test",
    household: str | None = None,
    label: str = "",
) -> EntryDraft:
    return EntryDraft(
        entity_code=entity,
        period=f"{date.year:04d}-{date.month:02d}",
        entry_date=date,
        memo=memo,
        postings=tuple(PostingDraft(account, amount, household) for account, amount in amounts_by_account),
        label=label,
    )


def batch(*drafts: EntryDraft) -> EntryBatch:
    return EntryBatch.from_drafts(list(drafts))
