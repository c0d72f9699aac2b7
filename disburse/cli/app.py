"""The `disburse` command line: parse arguments, call one service function, render the result.

Exit codes (one place maps them, in ``DisburseGroup.invoke``): 0 success, 1 the input or request
was refused (with a one-paragraph message, never a traceback), 2 a usage error.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from typer.core import TyperGroup

from disburse.cli import (
    allocations,
    audit,
    database,
    demo,
    funds,
    keys,
    ledger,
    notices,
    payouts,
    reconciliation,
    registry,
    reports,
    serve,
    users,
)
from disburse.cli.common import (
    DATABASE_ERROR_LABEL,
    INTERNAL_ERROR_LABEL,
    REFUSED_LABEL,
    REFUSED_NOTHING_WRITTEN_LABEL,
    WARNING_LABEL,
    check_account,
    error_console,
    state,
)
from disburse.cli.language import LANGUAGE_HELP, LANGUAGE_OPTION, language_from_arguments, patch_click, translate_tree
from disburse.foundation.errors import DisburseError, ImportRefused
from disburse.foundation.i18n import set_language, tr, tr_noop
from disburse.foundation.settings import database_url


def _operational_reason(error: BaseException) -> str | None:
    """The driver's reason when ``error`` is SQLAlchemy's OperationalError (a locked or missing
    database file, a server that does not answer); None otherwise. SQLAlchemy is looked up, not
    imported: a process that never touched the database has none of its errors."""
    exc = sys.modules.get("sqlalchemy.exc")
    if exc is None or not isinstance(error, exc.OperationalError):
        return None
    return str(error.orig).strip() if error.orig is not None else str(error)


# A defect (an exception that is neither a refusal nor a usage error) exits with EX_SOFTWARE.
DEFECT_EXIT_CODE = 70
DEBUG_ENVIRONMENT_VARIABLE = "DISBURSE_DEBUG"
AUDIT_NOT_WRITTEN = tr_noop("the audit log could not be written")


def _is_defect(error: BaseException) -> bool:
    """An unexpected exception of ours or a library's: shown as one message, its traceback kept
    in a file. Click's own exceptions (usage errors, aborts) carry an exit code and pass; with
    DISBURSE_DEBUG set, defects pass too so a developer sees the traceback."""
    return (
        isinstance(error, Exception)
        and not hasattr(error, "exit_code")
        and not os.environ.get(DEBUG_ENVIRONMENT_VARIABLE)
    )


def _write_defect_report(command: str, arguments: list[str], error: BaseException) -> Path:
    """Append the traceback to disburse-errors.log in the temporary directory; returns its path."""
    path = Path(tempfile.gettempdir()) / "disburse-errors.log"
    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    text = "".join(traceback.format_exception(error))
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"--- {stamp} disburse {command} {' '.join(arguments)}\n{text}\n")
    return path


class DisburseGroup(TyperGroup):
    """Maps every refusal to a message and exit code 1, in one place, and records every
    state-changing command (one that takes --user) in the audit log, whatever its outcome."""

    def main(self, args=None, *rest, **options):  # type: ignore[no-untyped-def, override]
        # The language must be known before Click parses anything: --help and usage errors are
        # printed during parsing, before any callback runs.
        arguments = list(sys.argv[1:] if args is None else args)
        set_language(language_from_arguments(arguments))
        patch_click()
        translate_tree(self)
        return super().main(arguments, *rest, **options)

    def invoke(self, ctx: typer.Context):  # type: ignore[no-untyped-def]
        arguments = [*getattr(ctx, "_protected_args", []), *ctx.args]
        command_path, changes_state = self._command_path(ctx, arguments)
        started_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        outcome, exit_code, message = "ok", 0, ""
        state.audit_pending = (command_path, arguments, started_at) if changes_state else None
        state.audit_committed = False
        try:
            if changes_state and command_path != "init":
                # The root callback has not run yet: take the database from the parsed option.
                check_account(database_url(ctx.params.get("db")), command_path, arguments)
            return super().invoke(ctx)
        except DisburseError as error:
            outcome, exit_code, message = "refused", 1, str(error)
            error_console.print(f"[bold red]{tr(REFUSED_LABEL)}[/bold red] {escape(str(error))}")
            raise typer.Exit(1) from None
        except ImportRefused as error:
            outcome, exit_code, message = "refused", 1, str(error)
            error_console.print(f"[bold red]{tr(REFUSED_NOTHING_WRITTEN_LABEL)}[/bold red] {escape(str(error))}")
            raise typer.Exit(1) from None
        except FileNotFoundError as error:
            message = tr("no such file: {file}", file=error.filename)
            outcome, exit_code = "refused", 1
            error_console.print(f"[bold red]{tr(REFUSED_LABEL)}[/bold red] {escape(message)}")
            raise typer.Exit(1) from None
        except typer.Exit as exit_:
            outcome, exit_code = ("ok" if not exit_.exit_code else "refused"), exit_.exit_code or 0
            raise
        except BaseException as error:  # a usage error or a defect: still recorded
            reason = _operational_reason(error)
            if reason is not None:
                outcome, exit_code, message = "failed", 1, reason
                error_console.print(f"[bold red]{tr(DATABASE_ERROR_LABEL)}[/bold red] {escape(reason)}")
                raise typer.Exit(1) from None
            if _is_defect(error):
                outcome, exit_code, message = "failed", DEFECT_EXIT_CODE, f"{type(error).__name__}: {error}"
                report = _write_defect_report(command_path, arguments, error)
                explained = tr(
                    "(a defect of disburse, not of your input): {message}. Nothing was written. The details are "
                    "in {report}; please send that file to whoever supports disburse.",
                    message=message,
                    report=str(report),
                )
                error_console.print(f"[bold red]{tr(INTERNAL_ERROR_LABEL)}[/bold red] {escape(explained)}")
                raise typer.Exit(DEFECT_EXIT_CODE) from None
            exit_code = getattr(error, "exit_code", 1) or 1
            outcome, message = ("usage" if exit_code == 2 else "failed"), f"{type(error).__name__}: {error}"
            raise
        finally:
            # A change that committed was recorded with it; what else happened (a refusal, a
            # failure, a command that wrote outside books()) is recorded now, on its own.
            if changes_state and not (outcome == "ok" and state.audit_committed):
                _record_audit(command_path, arguments, started_at, outcome, exit_code, message)
            state.audit_pending, state.audit_committed = None, False

    def _command_path(self, ctx: typer.Context, arguments: list[str]) -> tuple[str, bool]:
        """The command's words (``journal post``) and whether it changes state (takes --user)."""
        words: list[str] = []
        group = self
        command = None
        for argument in arguments:
            if argument.startswith("-"):
                break
            found = group.get_command(ctx, argument) if hasattr(group, "get_command") else None
            if found is None:
                break
            words.append(argument)
            command = found
            if isinstance(found, TyperGroup):
                group = found
            else:
                break
        takes_user = command is not None and any(
            getattr(param, "name", "") == "user" for param in getattr(command, "params", [])
        )
        asks_for_help = "--help" in arguments
        return " ".join(words), (takes_user or words[:1] == ["init"]) and not asks_for_help


def _record_audit(
    command: str, arguments: list[str], started_at: dt.datetime, outcome: str, exit_code: int, message: str
) -> None:
    """Write one audit row in a transaction of its own; a database without the schema yet (before
    `disburse init`) has nowhere to write it."""
    from sqlalchemy.exc import DBAPIError

    from disburse.audit.log import acting_user, file_hashes, record_command
    from disburse.foundation.db import make_engine, transaction
    from disburse.schema import migrate as schema

    try:
        engine = make_engine(state.database_url)
    except Exception:  # noqa: BLE001 - an unusable URL was already reported by the command
        return
    try:
        if schema.current_revision(engine) != schema.head_revision():
            return
        with transaction(engine) as session:
            record_command(
                session,
                command=command,
                arguments=arguments,
                user=acting_user(arguments),
                started_at=started_at,
                outcome=outcome,
                exit_code=exit_code,
                message=message,
                input_hashes=file_hashes(arguments),
            )
    except DBAPIError:
        error_console.print(f"[yellow]{tr(WARNING_LABEL)}[/yellow] {tr(AUDIT_NOT_WRITTEN)}")
    finally:
        engine.dispose()


app = typer.Typer(
    cls=DisburseGroup,
    no_args_is_help=True,
    add_completion=False,
    help=tr_noop("disburse: carries rural benefit money from its source to each household, in balanced books."),
    rich_markup_mode=None,
)


def _language_option(value: Optional[str]) -> Optional[str]:
    try:
        set_language(value)
    except ValueError:
        raise typer.BadParameter(tr("choose zh or en, not {value!r}", value=value)) from None
    return value


@app.callback()
def main_options(
    db: Optional[str] = typer.Option(
        None, "--db", help=tr_noop("database URL or SQLite file; default DISBURSE_DB, else ./disburse.db")
    ),
    lang: Optional[str] = typer.Option(None, LANGUAGE_OPTION, help=LANGUAGE_HELP, callback=_language_option),
) -> None:
    state.database_url = database_url(db)


# Each command group lives in its own module; the root app only wires them in. A command
# registered here from a plain function gets its help from the catalog: the id is its docstring.
app.command("init", help=ledger.INIT_HELP)(ledger.init)
app.command("verify", help=ledger.VERIFY_HELP, short_help=ledger.VERIFY_SHORT_HELP)(ledger.verify)
app.add_typer(ledger.entities_app, name="entities")
app.add_typer(ledger.accounts_app, name="accounts")
app.add_typer(ledger.journal_app, name="journal")
app.add_typer(ledger.periods_app, name="periods")
app.add_typer(registry.import_app, name="import")
registry.import_app.command("bank-statement", help=reconciliation.IMPORT_BANK_STATEMENT_HELP)(
    reconciliation.import_bank_statement_command
)
app.add_typer(registry.assets_app, name="assets")
app.add_typer(registry.registry_app, name="registry")
app.add_typer(registry.generate_app, name="generate")
app.command("allocate", help=allocations.ALLOCATE_HELP)(allocations.allocate)
app.add_typer(allocations.runs_app, name="runs")
app.add_typer(funds.funds_app, name="funds")
app.add_typer(payouts.payout_app, name="payout")
app.add_typer(notices.notice_app, name="notice")
app.add_typer(reconciliation.reconcile_app, name="reconcile")
app.add_typer(reports.report_app, name="report")
app.add_typer(audit.audit_app, name="audit")
app.command("demo", help=tr_noop("Run a whole monthly cycle on bundled example data in a fresh SQLite file."))(
    demo.demo
)
app.add_typer(database.db_app, name="db")
app.add_typer(users.users_app, name="users")
app.add_typer(keys.keys_app, name="keys")
app.command(
    "serve", help=tr_noop("Start the web application (Chinese pages for 窗口, 经办, 审核, 出纳, 审计 and 管理员).")
)(serve.serve)


# The cyclic garbage collector walks the young containers every 700 allocations by default. A
# command that reads a county's payables or lines makes millions of row tuples, freed by
# reference counting and never in cycles, and those walks were a fifth of `audit anomalies` at
# 30,000 households (14.2 s, 11.3 s with this threshold) and 7% of a PV allocation. Cycles are
# still collected, only less often (a young generation of this many objects is a few MB).
GC_YOUNG_THRESHOLD = 100_000


def main() -> None:
    """Console-script entry point."""
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
