"""The six roles and what each may do: one table both faces (CLI, web) consult, so a command and
the page that does the same thing need the same role.

An action is a short dotted name (``run.review``); ``PERMISSIONS`` gives the roles that may do it.
Reading pages have actions of their own (``counter.read`` …): the auditor reads everything but
changes no money.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from disburse.foundation.i18n import tr, tr_noop


class CatalogNames(Mapping[str, str]):
    """A table of code → English name (marked with ``tr_noop``) whose values are looked up in the
    catalog when read, so ``names[code]`` is in the current language: a face can keep indexing
    the table as it did when it held Chinese."""

    def __init__(self, ids: dict[str, str]) -> None:
        self.ids = ids

    def __getitem__(self, code: str) -> str:
        return tr(self.ids[code])

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)


ROLE_MAKER = "经办"
ROLE_CHECKER = "审核"
ROLE_CASHIER = "出纳"
ROLE_COUNTER = "窗口"
ROLE_AUDITOR = "审计"
ROLE_ADMINISTRATOR = "管理员"
ROLES = (ROLE_MAKER, ROLE_CHECKER, ROLE_CASHIER, ROLE_COUNTER, ROLE_AUDITOR, ROLE_ADMINISTRATOR)

# The role names themselves are stored codes (the accounts' roles column) and stay Chinese.
ROLE_DESCRIPTIONS = CatalogNames(
    {
        ROLE_MAKER: tr_noop("imports registers and settlements, calculates allocations, prepares batches"),
        ROLE_CHECKER: tr_noop("reviews (approves or returns) allocations and batches"),
        ROLE_CASHIER: tr_noop("bank files, return files, paying again after a card fix"),
        ROLE_COUNTER: tr_noop("looks up a household's payouts at the counter, prints 明白卡"),
        ROLE_AUDITOR: tr_noop("reads everything, reconciles, records review findings; moves no money"),
        ROLE_ADMINISTRATOR: tr_noop("accounts and settings"),
    }
)

PERMISSIONS: dict[str, frozenset[str]] = {
    # changing the books' set-up and the accounts
    "accounts.manage": frozenset({ROLE_ADMINISTRATOR}),
    "books.setup": frozenset({ROLE_ADMINISTRATOR, ROLE_MAKER}),
    # the monthly work
    "register.import": frozenset({ROLE_MAKER}),
    "journal.post": frozenset({ROLE_MAKER}),
    "run.calculate": frozenset({ROLE_MAKER}),
    "run.post": frozenset({ROLE_MAKER, ROLE_CHECKER}),
    "run.cancel": frozenset({ROLE_MAKER, ROLE_CHECKER}),
    "batch.prepare": frozenset({ROLE_MAKER, ROLE_CASHIER}),
    "notice.create": frozenset({ROLE_MAKER}),
    "line.stop": frozenset({ROLE_MAKER, ROLE_CASHIER}),
    "notice.object": frozenset({ROLE_MAKER, ROLE_COUNTER}),
    "batch.cancel": frozenset({ROLE_MAKER, ROLE_CASHIER, ROLE_CHECKER}),
    "unmatched.post": frozenset({ROLE_MAKER, ROLE_CASHIER}),
    # four eyes: the checker
    "run.review": frozenset({ROLE_CHECKER}),
    "batch.review": frozenset({ROLE_CHECKER}),
    # Dismissing an objection lets a noticed run be paid: a checker's decision.
    "notice.review": frozenset({ROLE_CHECKER}),
    # Releasing a stop lets money go out again: a checker's decision.
    "line.release": frozenset({ROLE_CHECKER}),
    "period.close": frozenset({ROLE_CHECKER}),
    "journal.review": frozenset({ROLE_CHECKER}),
    # the cashier
    "batch.export": frozenset({ROLE_CASHIER}),
    "returns.apply": frozenset({ROLE_CASHIER}),
    "card.fix": frozenset({ROLE_CASHIER, ROLE_COUNTER}),
    # A card fix redirects money to another account: its checker holds 审核, like a batch's.
    "card.review": frozenset({ROLE_CHECKER}),
    # the bank side and the audit, which move no money
    "statement.import": frozenset({ROLE_CASHIER, ROLE_AUDITOR}),
    "reconcile.run": frozenset({ROLE_CASHIER, ROLE_AUDITOR}),
    "match.decide": frozenset({ROLE_CASHIER, ROLE_AUDITOR}),
    "finding.review": frozenset({ROLE_AUDITOR}),
    "books.verify": frozenset({ROLE_AUDITOR, ROLE_ADMINISTRATOR}),
    # full resident IDs and card numbers, on request and logged
    "personal.unmask": frozenset({ROLE_COUNTER, ROLE_CASHIER, ROLE_AUDITOR}),
    # reading pages
    "counter.read": frozenset({ROLE_COUNTER, ROLE_CASHIER, ROLE_AUDITOR}),
    "work.read": frozenset({ROLE_MAKER, ROLE_AUDITOR}),
    "review.read": frozenset({ROLE_CHECKER, ROLE_AUDITOR}),
    "run.read": frozenset({ROLE_MAKER, ROLE_CHECKER, ROLE_AUDITOR}),
    "batch.read": frozenset({ROLE_MAKER, ROLE_CASHIER, ROLE_CHECKER, ROLE_AUDITOR}),
    "cashier.read": frozenset({ROLE_CASHIER, ROLE_AUDITOR}),
    "audit.read": frozenset({ROLE_AUDITOR}),
    "accounts.read": frozenset({ROLE_ADMINISTRATOR}),
}


def roles_for(action: str) -> frozenset[str]:
    """The roles that may do ``action``; an action nobody named is refused to everyone."""
    return PERMISSIONS.get(action, frozenset())


def may(roles: frozenset[str] | set[str] | tuple[str, ...], action: str) -> bool:
    """True when any of ``roles`` may do ``action``."""
    return bool(set(roles) & roles_for(action))


def roles_text(roles: frozenset[str] | set[str] | tuple[str, ...]) -> str:
    """The roles in the canonical order, joined by "、" as they are stored and shown."""
    return "、".join(role for role in ROLES if role in roles)


def roles_of_text(text: str) -> frozenset[str]:
    return frozenset(part for part in text.split("、") if part)
