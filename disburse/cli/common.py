"""What every command module shares: the consoles, the database option's value, one transaction
per command (``books``), and small renderers. It imports no command module, so every command
module can import it."""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING, Iterator

from rich.console import Console
from rich.markup import escape

from disburse.foundation.i18n import tr, tr_noop
from disburse.foundation.money import format_yuan

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Piped output (files, tests, grep) gets a wide fixed width so no value is cut to "…".
PIPED_WIDTH = 320
console = Console() if sys.stdout.isatty() else Console(width=PIPED_WIDTH)
error_console = Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=PIPED_WIDTH)

USER_HELP = tr_noop("who is acting (recorded with every change); or set DISBURSE_USER")
# The labels in front of a printed line. Marked here, not written as tr('...') inside an f-string:
# Babel does not look inside f-strings, so such an id would never reach the catalog.
NOTE_LABEL = tr_noop("note:")
WARNING_LABEL = tr_noop("warning:")
REFUSED_LABEL = tr_noop("refused:")
REFUSED_NOTHING_WRITTEN_LABEL = tr_noop("refused, nothing was written:")
DATABASE_ERROR_LABEL = tr_noop("database error:")
INTERNAL_ERROR_LABEL = tr_noop("internal error")
BROKEN_LABEL = tr_noop("broken:")


class State:
    """Options shared by every command, and the audit row of the command running: set when it
    starts (``audit_pending``: its words, arguments and start), written by the first ``books()``
    transaction that commits, in that transaction (``audit_committed``)."""

    database_url: str = ""
    audit_pending: tuple[str, list[str], object] | None = None
    audit_committed: bool = False


state = State()


@contextlib.contextmanager
def books(sign: str | None = None, command: str = "", user: str = "") -> Iterator[Session]:
    """One transaction on the selected database, committed when the command succeeds. With
    ``sign`` (a checkpoint trigger: post, batch_export, card_fix, period_close, change) a signed
    checkpoint over the money tables is appended in the same transaction, so it commits with the
    change it covers; without a usable key file the command goes on and says none was signed."""
    # Imported when a command runs: `disburse --help` must not pay for SQLAlchemy. Importing
    # disburse.schema registers every table, so any ORM statement can resolve every foreign key.
    from disburse.foundation.db import make_engine, transaction
    from disburse.foundation.settings import signing_key_path
    from disburse.reports.printing import CHECKPOINT_MARK
    from disburse.schema import checkpoints
    from disburse.schema import migrate as schema

    engine = make_engine(state.database_url)
    outcome = None
    try:
        schema.require_current(engine)
        pending = state.audit_pending if not state.audit_committed else None
        with transaction(engine) as session:
            # Every page printed by this command carries the newest checkpoint's short hash.
            CHECKPOINT_MARK.set(checkpoints.checkpoint_mark(session))
            yield session
            if pending is not None:
                _record_in(session, pending)
            # After the audit row, so that the checkpoint covers the audit log's head too.
            if sign is not None:
                outcome = checkpoints.checkpoint_append(session, sign, command, user, signing_key_path())
                CHECKPOINT_MARK.set(outcome.short_hash if outcome.signed else checkpoints.checkpoint_mark(session))
        if pending is not None:
            state.audit_committed = True
    finally:
        engine.dispose()
    if outcome is not None and not outcome.signed:
        label = tr(NOTE_LABEL)
        error_console.print(f"[yellow]{label}[/yellow] {escape(outcome.note)}", soft_wrap=True, highlight=False)


def _record_in(session: Session, pending: tuple[str, list[str], object]) -> None:
    """The command's audit row, in the transaction of its change: a change that commits is never
    without its row (a kill between the commit and a later write would lose it)."""
    from disburse.audit.log import acting_user, file_hashes, record_command

    command, arguments, started_at = pending
    record_command(
        session,
        command=command,
        arguments=arguments,
        user=acting_user(arguments),
        started_at=started_at,  # type: ignore[arg-type]
        outcome="ok",
        exit_code=0,
        message="",
        input_hashes=file_hashes(arguments),
    )


def show_warnings(warnings: tuple[str, ...] | list[str]) -> None:
    for warning in warnings:
        error_console.print(f"[yellow]{tr(WARNING_LABEL)}[/yellow] {escape(warning)}")


def yuan(amount_fen: int) -> str:
    return format_yuan(amount_fen)


# ------------------------------------------------------------------------------------ accounts
# The action (accounts.roles.PERMISSIONS) each command that takes --user needs once accounts
# exist. A command that takes --user and is missing here is refused to everyone (a test keeps
# this table complete).
COMMAND_ACTIONS: dict[str, str | None] = {
    "entities add": "books.setup",
    "entities add-bank-account": "books.setup",
    "accounts add": "books.setup",
    "assets load": "books.setup",
    "entities rename": "books.setup",
    "journal post": "journal.post",
    "journal approve": "journal.review",
    "journal return": "journal.review",
    "journal reverse": "journal.post",
    "periods close": "period.close",
    "keys init": "books.setup",
    "import registry": "register.import",
    "import shares": "register.import",
    "import pv-settlement": "register.import",
    "import bank-statement": "statement.import",
    "allocate": "run.calculate",
    # Budget indicators come from the finance bureau's documents, entered like the registers; a
    # return (退回) gives up money no run has drawn: the roles that may post a run.
    "funds import": "register.import",
    "funds return": "run.post",
    "runs approve": "run.review",
    "runs return": "run.review",
    "runs post": "run.post",
    "runs cancel": "run.cancel",
    # Reversing a posted run pays nobody (it withdraws unpaid payables): the roles that may cancel.
    "runs reverse": "run.cancel",
    "payout prepare": "batch.prepare",
    "payout approve": "batch.review",
    "payout cancel": "batch.cancel",
    "payout export": "batch.export",
    "payout returns": "returns.apply",
    "payout fix-account": "card.fix",
    "payout stop": "line.stop",
    "payout release": "line.release",
    "notice create": "notice.create",
    # The annual PV notice records nothing; it prints what the books hold, as a notice clerk does.
    "notice create-annual": "notice.create",
    # An objection comes from the public: the counter and the clerks record it.
    "notice object": "notice.object",
    "notice dismiss": "notice.review",
    "payout approve-fix": "card.review",
    "payout reject-fix": "card.review",
    "reconcile": "reconcile.run",
    "reconcile run": "reconcile.run",
    "reconcile confirm": "match.decide",
    "reconcile reject": "match.decide",
    "reconcile post-unmatched": "unmatched.post",
    "report household": "personal.unmask",  # only with --unmasked
    "audit review": "finding.review",
    "audit log": None,  # its "user" is the --by filter of a reading command
    # The printed books take --user as the 制表人 on every page; printing changes nothing.
    "report trial-balance": None,
    "report ledger": None,
    "report general-ledger": None,
    "report auxiliary": None,
    "report reconciliation": None,
    "report vouchers": None,
    # A development command: it builds a whole seeded month through the services.
    "audit build-month": "books.setup",
    "users add": "accounts.manage",
    "users list": "accounts.manage",
    "users disable": "accounts.manage",
    "users enable": "accounts.manage",
    "users roles": "accounts.manage",
    "users reset-password": "accounts.manage",
}
# Commands that take --user but change nothing unless a flag asks for personal numbers.
CHECKED_ONLY_WITH = {"report household": "--unmasked"}
ACCOUNTS_NOT_SET_UP = tr_noop(
    "accounts are not set up: --user is recorded as given and not checked; "
    "`disburse users add NAME --role 管理员` creates the first account"
)


def check_account(url: str, command: str, arguments: list[str]) -> None:
    """Refuse the command unless --user names an active account holding a role it needs, once any
    account exists; on a database without accounts say so once and go on as before."""
    from sqlalchemy.exc import DBAPIError

    from disburse.accounts.service import accounts_exist, authorise
    from disburse.audit.log import acting_user
    from disburse.foundation.db import make_engine, read_transaction

    flag = CHECKED_ONLY_WITH.get(command)
    action = COMMAND_ACTIONS.get(command, "(no action)")
    if action is None or (flag is not None and flag not in arguments):
        return
    try:
        engine = make_engine(url)
    except Exception:  # noqa: BLE001 - an unusable URL is the command's own refusal to give
        return
    try:
        with read_transaction(engine) as session:
            try:
                exist = accounts_exist(session)
            except DBAPIError:
                return  # no schema (or none with accounts) yet: the command says `disburse init`
            if not exist:
                if not command.startswith("users"):
                    error_console.print(f"[yellow]{tr(NOTE_LABEL)}[/yellow] {escape(tr(ACCOUNTS_NOT_SET_UP))}")
                return
            authorise(session, acting_user(arguments), action)
    finally:
        engine.dispose()
