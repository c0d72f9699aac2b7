"""Pure functions of payouts: which account a payable is paid into, netting payables per payee
account into instructions, and matching a bank's return lines to instructions. Frames in,
frames out; no session.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from disburse.foundation.i18n import join_clauses, tr
from disburse.foundation.money import format_yuan
from disburse.payouts.model import (
    INSTRUCTION_STATUS_NAMES,
    PAYMENT_REFERENCE_PATTERN,
    PROGRAMMES_TEXT_LENGTH_MAX,
    NettingResult,
)

PAYEE_KEY = ["payee_type", "payee_id"]
ACCOUNT_KEY = ["payee_type", "payee_id", "account_no"]
# One payment per programme and period per payee account, unless programmes are merged.
PAYMENT_KEY = [*ACCOUNT_KEY, "programme", "period"]
INSTRUCTION_COLUMNS = (
    "instruction_index",
    "payee_type",
    "payee_id",
    "household_id",
    "account_no",
    "account_name",
    "bank_name",
    "programmes",
    "period",
    "amount_fen",
    "payable_count",
    "card_kind",
    "head_name",
)
KEPT_COLUMNS = (
    "payee_type",
    "payee_id",
    "household_id",
    "account_no",
    "programme",
    "period",
    "amount_fen",
    "payable_count",
    "reason",
)
FIX_COLUMNS = ("payee_type", "payee_id", "old_account_no", "new_account_no", "new_account_name", "new_bank_name")


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) or value == "" else str(value)


def effective_accounts(fixes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What a payee's approved account fixes add up to, ``fixes`` (``FIX_COLUMNS``) given in
    the order they took effect.

    Returns ``current``: per payee the account its fixes leave it with (``payee_type, payee_id,
    new_account_no, new_account_name, new_bank_name``), and ``covered``: the numbers those
    fixes speak for (``payee_type, payee_id, account_no``): every number a fix replaced and
    every number a fix gave. A fix that keeps the number (a name or bank fix) keeps the name or
    bank an earlier fix of that number gave where it names none; a fix to a new number starts
    afresh (None: the payable's own name or bank). The fix log is short: a loop over it."""
    current: dict[tuple[str, str], tuple[str, str | None, str | None]] = {}
    covered: set[tuple[str, str, str]] = set()
    for row in fixes[list(FIX_COLUMNS)].itertuples(index=False):
        key = (row.payee_type, row.payee_id)
        name, bank = _text(row.new_account_name), _text(row.new_bank_name)
        before = current.get(key)
        if before is not None and before[0] == row.new_account_no:
            name, bank = name or before[1], bank or before[2]
        current[key] = (row.new_account_no, name, bank)
        for number in (_text(row.old_account_no), row.new_account_no):
            if number is not None:
                covered.add((*key, number))
    current_frame = pd.DataFrame(
        [(*key, *values) for key, values in current.items()],
        columns=[*PAYEE_KEY, "new_account_no", "new_account_name", "new_bank_name"],
        dtype=object,
    )
    return current_frame, pd.DataFrame(sorted(covered), columns=ACCOUNT_KEY, dtype=object)


def apply_account_fixes(payables: pd.DataFrame, fixes: pd.DataFrame) -> pd.DataFrame:
    """``payables`` with ``account_no, account_name, bank_name`` replaced where an approved fix
    applies (``fixes`` as ``effective_accounts`` takes them, in the order they took effect).

    A payable addressed to a number the payee's fixes cover (one they replaced, or the fixed
    number itself), or to no number, is paid into the payee's current fixed account, with the
    fix's name and bank where it gives them: so a name-only fix (same number, corrected 户名)
    reaches the re-issued payment. A number no fix covers (a new card from the register) is
    left alone. Adds ``account_fixed`` (bool)."""
    result = payables.copy()
    result["account_fixed"] = False
    if len(fixes) == 0 or len(result) == 0:
        return result
    current, covered = effective_accounts(fixes)
    merged = result[[*PAYEE_KEY, "account_no"]].reset_index().merge(current, on=PAYEE_KEY, how="inner")
    if len(merged) == 0:
        return result
    merged = merged.merge(covered.assign(_covered=True), on=ACCOUNT_KEY, how="left")
    redirect = merged["_covered"].fillna(False).astype(bool) | merged["account_no"].isna()
    chosen = merged[redirect.to_numpy()]
    index = chosen["index"].to_numpy()
    result.loc[index, "account_no"] = chosen["new_account_no"].to_numpy(dtype=object)
    for column, source in (("account_name", "new_account_name"), ("bank_name", "new_bank_name")):
        values = chosen[source].to_numpy(dtype=object)
        given = ~pd.isna(values)
        result.loc[index[given], column] = values[given]
    result.loc[index, "account_fixed"] = True
    return result


def _key_groups(frame: pd.DataFrame, key: list[str]) -> np.ndarray:
    """Each row's payment key as a group number, numbered in the order of the key's columns:
    the order a groupby with sort=True gives."""
    groups = np.zeros(len(frame), dtype=np.int64)
    for name in key:
        codes, uniques = pd.factorize(frame[name].to_numpy(dtype=object), sort=True)
        # Renumbered after each key, so the combined numbers stay below the row count squared.
        groups, _ = pd.factorize(groups * len(uniques) + codes, sort=True)
    return groups.astype(np.int64)


def _first_present(values: np.ndarray, group_of_row: np.ndarray, group_count: int) -> np.ndarray:
    """Per group (rows sorted by group), the first value that is not missing, else None."""
    result = np.full(group_count, None, dtype=object)
    present = np.flatnonzero(~pd.isna(values))
    groups, first = np.unique(group_of_row[present], return_index=True)
    result[groups] = values[present[first]]
    return result


def _last_present(values: np.ndarray, group_of_row: np.ndarray, group_count: int) -> np.ndarray:
    """Per group (rows sorted by group), the last value that is not missing, else None."""
    return _first_present(values[::-1], group_of_row[::-1], group_count)


def _programmes_per_group(frame: pd.DataFrame, group_numbers: np.ndarray, group_count: int) -> np.ndarray:
    """The programme names of each group, joined with 、 in sorted order. Most groups have one
    programme (every group, unless programmes are merged): those take it directly; only the
    others are joined one by one."""
    pairs = pd.DataFrame({"group": group_numbers, "programme": frame["programme"].to_numpy(dtype=object)})
    pairs = pairs.drop_duplicates().sort_values(["group", "programme"], kind="stable")
    result = np.empty(group_count, dtype=object)
    counts = np.bincount(pairs["group"].to_numpy(), minlength=group_count)
    single = pairs[counts[pairs["group"].to_numpy()] == 1]
    result[single["group"].to_numpy()] = single["programme"].to_numpy(dtype=object)
    several = pairs[counts[pairs["group"].to_numpy()] > 1]
    for group, names in several.groupby("group", sort=False)["programme"]:
        result[group] = "、".join(names.tolist())[:PROGRAMMES_TEXT_LENGTH_MAX]
    return result


def _period_per_group(periods: np.ndarray, codes: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The period of each group (rows sorted by group; ``codes`` their period codes) when all
    its payables share one, else None (a merged payment over several periods)."""
    lowest = np.minimum.reduceat(codes, starts)
    highest = np.maximum.reduceat(codes, starts)
    one = (lowest == highest) & (lowest >= 0)
    result = np.full(len(starts), None, dtype=object)
    result[one] = periods[starts[one]]
    return result


def _without_account(payables: pd.DataFrame) -> pd.DataFrame:
    """Payables without a bank account, per payee: kept until a card is on record."""
    return (
        payables.groupby(PAYEE_KEY, sort=True)
        .agg(household_id=("household_id", "first"), amount_fen=("amount_fen", "sum"), payable_count=("id", "size"))
        .reset_index()
        .assign(account_no=None, programme=None, period=None)
        .assign(reason=tr("no bank account on record; fix the card (payout fix-account)"))
    )


def _parties_per_group(nets: pd.DataFrame, frame: pd.DataFrame, group_of_row: np.ndarray) -> None:
    """Whose card each payment goes to and the head of its household (newest payable's). The
    payee is part of the key, so a pupil paid into their own card is never netted with their
    household's card. A village collective's payment pays many households: it names none."""
    count = len(nets)
    for name in ("card_kind", "head_name"):
        values = frame[name].to_numpy(dtype=object) if name in frame.columns else np.full(len(frame), None)
        nets[name] = _last_present(values, group_of_row, count)
    collective = (nets["payee_type"] == "collective").to_numpy()
    if collective.any():
        nets.loc[collective, ["household_id", "head_name"]] = None


def _net_groups(with_account: pd.DataFrame, key: list[str]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One row per payment key with its net and details, the payables sorted by key then id
    (returned as their row order), and each sorted payable's group number. Numpy over group
    numbers instead of a pandas groupby on text keys (a third of a 300,000-payee prepare)."""
    group_of_unsorted = _key_groups(with_account, key)
    order = np.lexsort((with_account["id"].to_numpy(dtype=np.int64), group_of_unsorted))
    frame = with_account.iloc[order]
    group_of_row = group_of_unsorted[order]
    starts = np.flatnonzero(np.r_[True, group_of_row[1:] != group_of_row[:-1]])
    ends = np.r_[starts[1:], len(frame)] - 1
    count = len(starts)
    nets = pd.DataFrame({name: frame[name].to_numpy(dtype=object)[starts] for name in ACCOUNT_KEY})
    nets["household_id"] = _first_present(frame["household_id"].to_numpy(dtype=object), group_of_row, count)
    nets["account_name"] = _last_present(frame["account_name"].to_numpy(dtype=object), group_of_row, count)
    nets["bank_name"] = _last_present(frame["bank_name"].to_numpy(dtype=object), group_of_row, count)
    _parties_per_group(nets, frame, group_of_row)
    nets["amount_fen"] = np.add.reduceat(frame["amount_fen"].to_numpy(dtype=np.int64), starts).astype(np.int64)
    nets["payable_count"] = (ends - starts + 1).astype(np.int64)
    periods = frame["period"].to_numpy(dtype=object)
    if "programme" in key:
        # One programme and one period per group by construction.
        nets["programmes"] = frame["programme"].to_numpy(dtype=object)[starts]
        nets["programme"] = nets["programmes"]
        nets["period"] = periods[starts]
    else:
        nets["programmes"] = _programmes_per_group(frame, group_of_row, count)
        nets["programme"] = None
        period_codes, _ = pd.factorize(periods)
        nets["period"] = _period_per_group(periods, period_codes, starts)
    return nets, order, group_of_row


def net_payables(payables: pd.DataFrame, *, merge_programmes: bool = False) -> NettingResult:
    """Net open payables into payments.

    ``payables``: ``id, payee_type, payee_id, household_id, account_no, account_name,
    bank_name, programme, period, amount_fen`` (int64, a downward adjustment negative). By
    default one payment per programme and period per payee account; with
    ``merge_programmes`` one per payee account. Each key whose payables sum to more than 0
    becomes one instruction; one summing to 0 or less stays for later (a later payable may lift
    it), as do payables without an account. Instructions are ordered by the key, so the same
    payables always give the same instructions. The name and bank of an instruction are those
    of its newest payable (largest id).
    """
    assert payables["amount_fen"].dtype == np.int64, payables["amount_fen"].dtype
    without_account = payables["account_no"].isna().to_numpy()
    kept_parts = [_without_account(payables[without_account])] if without_account.any() else []
    with_account = payables[~without_account]
    key = ACCOUNT_KEY if merge_programmes else PAYMENT_KEY
    if len(with_account):
        nets, order, group_of_row = _net_groups(with_account, key)
        positive = nets["amount_fen"].to_numpy() > 0
        instructions = nets[positive].reset_index(drop=True)
        instructions.insert(0, "instruction_index", np.arange(len(instructions), dtype=np.int64))
        if (~positive).any():
            kept_parts.append(nets[~positive].assign(reason=tr("nets to 0 or less; kept for later")))
        # Group k (in key order) became instruction instruction_of_group[k], or -1 when kept.
        instruction_of_group = np.full(len(nets), -1, dtype=np.int64)
        instruction_of_group[positive] = np.arange(int(positive.sum()), dtype=np.int64)
        instruction_of_row = instruction_of_group[group_of_row]
        taken = instruction_of_row >= 0
        payable_ids = with_account["id"].to_numpy(dtype=np.int64)[order]
        links = pd.DataFrame({"instruction_index": instruction_of_row[taken], "payable_id": payable_ids[taken]})
    else:
        instructions = empty_instructions()
        links = pd.DataFrame(
            {"instruction_index": pd.Series([], dtype=np.int64), "payable_id": pd.Series([], dtype=np.int64)}
        )
    kept = (
        pd.concat([part[list(KEPT_COLUMNS)] for part in kept_parts], ignore_index=True)
        if kept_parts
        else pd.DataFrame({name: pd.Series([], dtype=object) for name in KEPT_COLUMNS})
    )
    # Conservation: every payable is in exactly one instruction or kept.
    kept_fen = int(kept["amount_fen"].sum()) if len(kept) else 0
    assert int(instructions["amount_fen"].sum()) + kept_fen == int(payables["amount_fen"].sum())
    assert len(links) + int(kept["payable_count"].sum() if len(kept) else 0) == len(payables)
    return NettingResult(instructions[list(INSTRUCTION_COLUMNS)], links, kept)


def empty_instructions() -> pd.DataFrame:
    """An instruction frame with no rows (``INSTRUCTION_COLUMNS``)."""
    frame = pd.DataFrame({name: pd.Series([], dtype=object) for name in INSTRUCTION_COLUMNS})
    for name in ("instruction_index", "amount_fen", "payable_count"):
        frame[name] = frame[name].astype(np.int64)
    return frame


def references_in(memos: pd.Series) -> pd.Series:
    """The payment reference each memo carries (None where there is none)."""
    texts = memos.astype(object).where(memos.notna(), "").astype(str)
    found = texts.str.extract(f"({PAYMENT_REFERENCE_PATTERN.pattern})", expand=False)
    return found.astype(object).where(found.notna(), None)


@dataclass
class _Matching:
    """Per return line, while matching: the instruction found (-1: none), its status, the
    outcome so far and the note."""

    instruction_ids: np.ndarray
    instruction_status: np.ndarray
    outcome: np.ndarray
    notes: np.ndarray


def _mismatch_note(account_bad: bool, amount_bad: bool, line_account, line_amount, account, amount) -> str:  # type: ignore[no-untyped-def]
    parts = []
    if account_bad:
        parts.append(
            tr(
                "account {line_account} differs from the instruction's {account}",
                line_account=line_account,
                account=account,
            )
        )
    if amount_bad:
        parts.append(
            tr(
                "amount {line_amount} differs from the instruction's {amount}",
                line_amount=format_yuan(int(line_amount)),
                amount=format_yuan(int(amount)),
            )
        )
    return join_clauses(parts)


def _by_reference(result: pd.DataFrame, by_reference: pd.DataFrame, state: _Matching) -> np.ndarray:
    """Step 1: lines whose memo names one of our references; a line whose account or amount
    differs from the instruction's is a mismatch. Returns which lines matched cleanly."""
    has_reference = result["payment_reference"].notna().to_numpy()
    known = by_reference.set_index("payment_reference")
    referenced = result.loc[has_reference, ["payment_reference", "account_no", "amount_fen"]]
    joined = referenced.merge(
        known[["id", "account_no", "amount_fen", "status"]]
        .add_suffix("_instruction")
        .rename(columns={"id_instruction": "id", "status_instruction": "status"}),
        left_on="payment_reference",
        right_index=True,
        how="left",
    )
    positions = np.flatnonzero(has_reference)
    found = joined["id"].notna().to_numpy()
    state.notes[positions[~found]] = tr("the payment reference is not one of ours")
    state.instruction_ids[positions[found]] = joined["id"].to_numpy()[found].astype(np.int64)
    state.instruction_status[positions[found]] = joined["status"].to_numpy(dtype=object)[found]
    line_accounts = joined["account_no"].to_numpy(dtype=object)
    accounts = joined["account_no_instruction"].to_numpy(dtype=object)
    account_differs = line_accounts != accounts
    amount_differs = joined["amount_fen"].to_numpy() != joined["amount_fen_instruction"].fillna(-1).to_numpy()
    mismatch = found & (account_differs | amount_differs)
    state.outcome[positions[mismatch]] = "mismatch"
    for position, account_bad, amount_bad, line_account, line_amount, account, amount in zip(
        positions[mismatch],
        account_differs[mismatch],
        amount_differs[mismatch],
        line_accounts[mismatch],
        joined["amount_fen"].to_numpy()[mismatch],
        accounts[mismatch],
        joined["amount_fen_instruction"].to_numpy()[mismatch],
    ):
        state.notes[position] = _mismatch_note(account_bad, amount_bad, line_account, line_amount, account, amount)
    clean = np.zeros(len(result), dtype=bool)
    clean[positions[found & ~mismatch]] = True
    return clean


def _by_account_and_amount(
    result: pd.DataFrame, candidates: pd.DataFrame, matched_by_reference: np.ndarray, state: _Matching
) -> None:
    """Step 2: lines without a reference, by account and amount among the exported candidates
    not already answered in this file, several equal pairs paired in order."""
    has_reference = result["payment_reference"].notna().to_numpy()
    without = np.flatnonzero(~has_reference)
    if len(without) and len(candidates):
        open_candidates = candidates[candidates["status"] == "exported"].sort_values("id", kind="stable")
        taken_ids = set(state.instruction_ids[matched_by_reference].tolist())
        open_candidates = open_candidates[~open_candidates["id"].isin(taken_ids)]
        left = result.loc[without, ["account_no", "amount_fen"]].copy()
        left["position"] = without
        left["pair"] = left.groupby(["account_no", "amount_fen"], sort=False).cumcount()
        right = open_candidates[["id", "account_no", "amount_fen", "status"]].copy()
        right["pair"] = right.groupby(["account_no", "amount_fen"], sort=False).cumcount()
        paired = left.merge(right, on=["account_no", "amount_fen", "pair"], how="inner")
        state.instruction_ids[paired["position"].to_numpy()] = paired["id"].to_numpy().astype(np.int64)
        state.instruction_status[paired["position"].to_numpy()] = paired["status"].to_numpy(dtype=object)
    unmatched_without = ~has_reference & (state.instruction_ids < 0)
    state.notes[unmatched_without] = tr(
        "no payment reference in the memo and no unsettled instruction with this account and amount"
    )


def _status_name(status: object) -> str:
    """An instruction's status as a note shows it."""
    return tr(INSTRUCTION_STATUS_NAMES.get(str(status), str(status)))


def _decided(result: pd.DataFrame, state: _Matching) -> None:
    """Step 3: what becomes of each matched line: a duplicate within the file, already settled,
    not exported, or applied as the bank says (success or failure)."""
    ids, status, outcome, notes = state.instruction_ids, state.instruction_status, state.outcome, state.notes
    matched = (ids >= 0) & (outcome != "mismatch")
    duplicate = matched & pd.Series(np.where(matched, ids, -1 - np.arange(len(result)))).duplicated().to_numpy()
    settled = matched & ~duplicate & np.isin(status, ["success", "failed"])
    not_exported = matched & ~duplicate & np.isin(status, ["pending", "cancelled"])
    applicable = matched & ~duplicate & (status == "exported")
    outcome[duplicate] = "duplicate"
    notes[duplicate] = tr("an earlier line of this file answers the same instruction")
    outcome[settled] = "already_settled"
    notes[settled] = [
        tr("the instruction is already {status}", status=_status_name(value)) for value in status[settled]
    ]
    outcome[not_exported] = "unmatched"
    notes[not_exported] = [
        tr("the instruction is {status}, not exported", status=_status_name(value)) for value in status[not_exported]
    ]
    statuses = result["status"].to_numpy(dtype=object)
    outcome[applicable] = np.where(statuses[applicable] == "success", "success", "failure")


def match_return_lines(lines: pd.DataFrame, by_reference: pd.DataFrame, candidates: pd.DataFrame) -> pd.DataFrame:
    """Which instruction each return line answers, and what becomes of the line.

    ``lines``: ``source_row, account_no, amount_fen, status ("success" | "failure"), memo``.
    ``by_reference``: the instructions the memos name: ``id, payment_reference, account_no,
    amount_fen, status``. ``candidates``: exported instructions of the batch(es) a line without
    a reference may answer (``id, account_no, amount_fen, status``), matched on account and
    amount (several equal pairs are paired in order). Returns ``lines`` with
    ``payment_reference, instruction_id`` (or None) and ``outcome``: ``success`` or ``failure``
    (to apply), ``unmatched``, ``already_settled``, ``mismatch`` or ``duplicate`` (reported),
    and ``note``.
    """
    result = lines.copy().reset_index(drop=True)
    result["payment_reference"] = references_in(result["memo"]) if len(result) else pd.Series([], dtype=object)
    result["instruction_id"] = pd.Series([None] * len(result), dtype=object)
    result["outcome"] = "unmatched"
    result["note"] = ""
    if len(result) == 0:
        return result
    count = len(result)
    state = _Matching(
        np.full(count, -1, dtype=np.int64),
        np.full(count, None, dtype=object),
        np.full(count, "unmatched", dtype=object),
        np.full(count, "", dtype=object),
    )
    matched_by_reference = _by_reference(result, by_reference, state)
    _by_account_and_amount(result, candidates, matched_by_reference, state)
    _decided(result, state)
    result["instruction_id"] = pd.Series(
        np.where(state.instruction_ids >= 0, state.instruction_ids, None), dtype=object
    )
    result["outcome"] = state.outcome
    result["note"] = state.notes
    return result
