"""Resends and results (issue #14 item 5): how many times a payment's money went to the bank
before and failed, what a batch's results add up to, and a failure's reason as people read it.

A failed payment gives its payables back (owed again); the next batch pays them in a new
instruction. That instruction's ``send_number`` is the most earlier failed sends of any payable
it pays: 0 for a first send, 1 for a resend after one bank failure, and so on. A cancelled batch
never reached the bank, so it does not count.

A batch's result is read from its instructions' states, never stored: 待回盘 while none has a
result, 部分回盘 while some have and some do not, then 全部成功, 全部失败 or 部分成功.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from disburse.foundation.frames import query_objects, text_or_none
from disburse.foundation.i18n import TranslatedNames, tr_noop
from disburse.importers.failure_reasons import FAILURE_REASON_NAMES, FAILURE_REASON_NAMES_ZH, FAILURE_REASONS, OTHER
from disburse.payouts.common import IDS_PER_QUERY

RESULT_NAME_IDS = {
    "awaiting": tr_noop("awaiting the return file"),
    "partly_returned": tr_noop("partly returned"),
    "all_succeeded": tr_noop("all succeeded"),
    "all_failed": tr_noop("all failed"),
    "partly_succeeded": tr_noop("partly succeeded"),
}
RESULT_NAMES = TranslatedNames(RESULT_NAME_IDS)
RESULT_NAMES_ZH = TranslatedNames(RESULT_NAME_IDS, "zh")

# The failed sends of every payable that has any, for one entity: failures are few, so this
# reads the failed instructions and their links, not the batch's 300,000 payables.
FAILED_SENDS_QUERY = text(
    "SELECT l.payable_id, count(*) AS sends FROM payment_instructions i "
    "JOIN instruction_payables l ON l.instruction_id = i.id "
    "WHERE i.entity_id = :entity AND i.status = 'failed' GROUP BY l.payable_id"
)
RESULTS_QUERY = text(
    "SELECT batch_id, "
    "sum(CASE WHEN status = 'success' THEN 1 ELSE 0 END) AS succeeded, "
    "sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed, "
    "sum(CASE WHEN status = 'exported' THEN 1 ELSE 0 END) AS awaiting, "
    "max(send_number) AS most_sends "
    "FROM payment_instructions WHERE batch_id IN :ids GROUP BY batch_id"
).bindparams(bindparam("ids", expanding=True))


def send_numbers(session: Session, entity_id: int, links: pd.DataFrame, count: int) -> np.ndarray:
    """The send number of each of ``count`` new instructions (``links``: ``instruction_index,
    payable_id``): the most failed sends before of any payable it pays."""
    numbers = np.zeros(count, dtype=np.int64)
    failed = query_objects(session, FAILED_SENDS_QUERY, {"entity": entity_id})
    if len(failed) == 0 or len(links) == 0:
        return numbers
    sends = pd.Series(failed["sends"].astype(np.int64).to_numpy(), index=failed["payable_id"].astype(np.int64))
    per_link = sends.reindex(links["payable_id"].astype(np.int64).to_numpy()).fillna(0).astype(np.int64).to_numpy()
    np.maximum.at(numbers, links["instruction_index"].to_numpy(dtype=np.int64), per_link)
    return numbers


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What the bank said of a batch's payments so far."""

    state: str | None  # a key of RESULT_NAME_IDS; None before the batch went to the bank
    succeeded: int
    failed: int
    awaiting: int
    most_sends: int  # the highest send number among its payments (0: no resends)


def result_state(batch_status: str, succeeded: int, failed: int, awaiting: int) -> str | None:
    """A batch's result from its payments' states; None while it has not gone to the bank."""
    if batch_status not in ("exported", "closed"):
        return None
    if succeeded == 0 and failed == 0:
        return "awaiting"
    if awaiting:
        return "partly_returned"
    if failed == 0:
        return "all_succeeded"
    return "all_failed" if succeeded == 0 else "partly_succeeded"


def batch_results(session: Session, batches: Sequence[tuple[int, str]]) -> dict[int, BatchResult]:
    """The result of each batch (``(id, status)`` pairs), one grouped query per thousand."""
    counts: dict[int, tuple[int, int, int, int]] = {}
    ids = [batch_id for batch_id, _status in batches]
    for start in range(0, len(ids), IDS_PER_QUERY):
        for row in session.execute(RESULTS_QUERY, {"ids": ids[start : start + IDS_PER_QUERY]}):
            counts[int(row.batch_id)] = (int(row.succeeded), int(row.failed), int(row.awaiting), int(row.most_sends))
    results = {}
    for batch_id, status in batches:
        succeeded, failed, awaiting, most_sends = counts.get(batch_id, (0, 0, 0, 0))
        state = result_state(status, succeeded, failed, awaiting)
        results[batch_id] = BatchResult(state, succeeded, failed, awaiting, most_sends)
    return results


def failure_text(code: object, bank_text: object, *, chinese: bool = False) -> str:
    """A failure as people read it: the reason's name, then the bank's own words when they say
    more (``户名不符`` / ``卡号已注销: 账户已销户``); a line applied before reasons had codes has
    the bank's words only. A missing value (None or a frame's NaN) is no text."""
    code, bank_text = text_or_none(code), text_or_none(bank_text)
    if code is None:
        return bank_text or ""
    names = FAILURE_REASON_NAMES_ZH if chinese else FAILURE_REASON_NAMES
    name = names.get(code, code)
    if not bank_text or bank_text.strip() in name:
        return name
    return f"{name}{'：' if chinese else ': '}{bank_text}"


def failure_counts_text(codes: pd.Series) -> str:
    """``户名不符 2, 卡号已注销 1``: how many failures of each reason, in the list's order."""
    counts = codes.fillna(OTHER).value_counts()
    return ", ".join(
        f"{FAILURE_REASON_NAMES.get(code, code)} {int(counts[code]):,}" for code in FAILURE_REASONS if code in counts
    )


BATCH_LINES_QUERY = text(
    "SELECT i.payment_reference, i.household_id, i.payee_id, i.account_name, i.account_no, i.amount_fen, "
    "i.programmes, i.status, i.send_number, i.failure_reason, i.settled_on, "
    "(SELECT min(r.reason_code) FROM return_lines r WHERE r.instruction_id = i.id AND r.outcome = 'failure') "
    "AS failure_code "
    "FROM payment_instructions i WHERE i.batch_id = :batch ORDER BY i.id LIMIT :limit"
)


def batch_lines(session: Session, batch_id: int, limit: int) -> pd.DataFrame:
    """The first ``limit`` payments of a batch with state, send number and failure reason."""
    return query_objects(session, BATCH_LINES_QUERY, {"batch": batch_id, "limit": limit})
