"""Guards on every money table (issue #16 item 4): the one list of what the engine may change.

Every row that records money or who gets it refuses DELETE, and refuses UPDATE except the state
transitions the engine itself makes. Each ``Transition`` names the move (shown in the refusal),
the columns it may change and a condition over ``OLD`` and ``NEW``; an UPDATE passes when it
matches one transition and leaves every other column of the row as it was. A table's DELETE
is refused unless the guard names the rows the engine deletes (``delete_when``).

The same list makes the triggers of both engines: on PostgreSQL a plpgsql function per table
behind BEFORE UPDATE OR DELETE (per row) and BEFORE TRUNCATE triggers, on SQLite BEFORE UPDATE
and BEFORE DELETE triggers whose WHEN clause is the negation of what is allowed. Conditions are
written in the SQL both engines share (``=``, ``IS NULL``, ``EXISTS``, ``NOT`` on a boolean).

Migration 0080 creates the guards from this list. A later change to a table's transitions
needs a migration of its own that drops and creates that table's guard again
(``drop_statements`` then ``create_statements``); and on SQLite a batch migration that copies a
guarded table drops its triggers with the old table, so such a migration must create them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

TRANSITION_NAME_LENGTH_MAX = 200


@dataclass(frozen=True, slots=True)
class Transition:
    """One UPDATE the engine makes: ``name`` as the refusal shows it, ``changes`` the columns it
    may change (every other column keeps its value), ``when`` the SQL condition over OLD and NEW."""

    name: str
    changes: tuple[str, ...]
    when: str

    def __post_init__(self) -> None:
        # A % would be a placeholder in PostgreSQL's RAISE; quotes are doubled where written.
        assert 0 < len(self.name) <= TRANSITION_NAME_LENGTH_MAX and "%" not in self.name


@dataclass(frozen=True, slots=True)
class Guard:
    """The guard of one table: what it holds (for the docs), the UPDATEs it allows, and the rows
    the engine deletes (None: none). ``elsewhere_when`` marks rows another trigger already
    refuses everything for (closed periods, migration 0009), which this guard leaves to it."""

    table: str
    holds: str
    transitions: tuple[Transition, ...] = ()
    delete_when: str | None = None
    delete_name: str | None = None
    elsewhere_when: str | None = None

    def __post_init__(self) -> None:
        assert (self.delete_when is None) == (self.delete_name is None), self.table
        assert self.delete_name is None or "%" not in self.delete_name

    def update_refusal(self) -> str:
        if not self.transitions:
            return f"UPDATE on {self.table} refused: its rows are never changed"
        names = "; ".join(transition.name for transition in self.transitions)
        return (
            f"UPDATE on {self.table} refused: only {names} "
            f"{'is' if len(self.transitions) == 1 else 'are'} allowed, every other column unchanged"
        )

    def delete_refusal(self) -> str:
        if self.delete_name is None:
            return f"DELETE on {self.table} refused: its rows are never deleted"
        return f"DELETE on {self.table} refused: only {self.delete_name} may be deleted"

    def truncate_refusal(self) -> str:
        return f"TRUNCATE on {self.table} refused: its rows are never deleted"


def status_is(column: str, *values: str, row: str = "OLD") -> str:
    """``row.column`` is one of ``values`` (written as ORs: the same in both engines)."""
    assert values
    return "(" + " OR ".join(f"{row}.{column} = '{value}'" for value in values) + ")"


def moves(
    before: Sequence[str], after: Sequence[str], *changes: str, column: str = "status", when: str = ""
) -> Transition:
    """A status move from any of ``before`` to any of ``after``, changing ``changes`` too."""
    name = f"{column} {'|'.join(before)}→{'|'.join(after)}"
    if changes:
        name += f" (with {', '.join(changes)})"
    condition = f"{status_is(column, *before)} AND {status_is(column, *after, row='NEW')}"
    if when:
        condition += f" AND ({when})"
    return Transition(name, (column, *changes), condition)


def filled_once(column: str, name: str) -> Transition:
    """A column that is empty when the row is written and filled in once, by ``name``."""
    return Transition(
        f"{column} filled in once ({name})", (column,), f"OLD.{column} IS NULL AND NEW.{column} IS NOT NULL"
    )


def insert_only(table: str, holds: str) -> Guard:
    return Guard(table, holds)


UNDECIDED = ("matched", "candidate")
MATCH_UNDECIDED = "m.id = OLD.match_row_id AND (m.status = 'matched' OR m.status = 'candidate')"


def _match_link(table: str, holds: str) -> Guard:
    return Guard(
        table,
        holds,
        delete_when=f"EXISTS (SELECT 1 FROM matches m WHERE {MATCH_UNDECIDED})",
        delete_name="the links of an undecided (matched or candidate) match a rerun no longer finds",
    )


# An approval may raise the approvals a batch needs (a larger total), never lower them.
NEVER_FEWER = "NEW.approvals_required >= OLD.approvals_required"

PAYOUT_GUARDS = (
    Guard(
        "payables",
        "what a posted run owes each payee, with the card it is paid into",
        (
            moves(("open",), ("claimed",)),
            moves(("claimed",), ("open",)),
            moves(("claimed",), ("paid",)),
            Transition(
                "bank_name filled in once while open (from the register)",
                ("bank_name",),
                "OLD.status = 'open' AND NEW.status = 'open' AND OLD.bank_name IS NULL",
            ),
        ),
        delete_when=(
            "OLD.status = 'open' AND EXISTS (SELECT 1 FROM allocation_runs r WHERE r.id = OLD.run_id "
            "AND r.status = 'posted') AND NOT EXISTS (SELECT 1 FROM instruction_payables l "
            "WHERE l.payable_id = OLD.id AND l.active)"
        ),
        delete_name="an open, unclaimed payable of a posted run being reversed",
    ),
    Guard(
        "instruction_payables",
        "which payables each payment instruction pays",
        (Transition("active true→false (a claim ends)", ("active",), "OLD.active AND NOT NEW.active"),),
        delete_when="NOT OLD.active",
        delete_name="an ended claim of a payable withdrawn by runs reverse",
    ),
    Guard(
        "payment_instructions",
        "each payment sent to the bank: payee, card, amount",
        (
            moves(("pending",), ("exported", "cancelled")),
            moves(
                ("exported",),
                ("success", "failed"),
                "settled_on",
                "return_file_id",
                "failure_reason",
                when="NEW.return_file_id IS NOT NULL",
            ),
        ),
    ),
    Guard(
        "payment_batches",
        "a batch of payments, its approvals and its export",
        (
            Transition(
                "first of two approvals (status stays prepared)",
                ("first_approved_by", "first_approved_at", "approvals_required"),
                "OLD.status = 'prepared' AND NEW.status = 'prepared' AND OLD.first_approved_by IS NULL AND "
                f"{NEVER_FEWER}",
            ),
            moves(
                ("prepared",),
                ("approved",),
                "first_approved_by",
                "first_approved_at",
                "approvals_required",
                when=f"OLD.first_approved_by IS NULL AND {NEVER_FEWER}",
            ),
            moves(
                ("prepared",),
                ("approved",),
                "second_approved_by",
                "second_approved_at",
                "approvals_required",
                when=f"OLD.first_approved_by IS NOT NULL AND OLD.second_approved_by IS NULL AND {NEVER_FEWER}",
            ),
            moves(("prepared", "approved"), ("cancelled",), "cancelled_by", "cancelled_at"),
            Transition(
                "bank_profile chosen once at export (status stays approved)",
                ("bank_profile",),
                "OLD.status = 'approved' AND NEW.status = 'approved' AND OLD.bank_profile IS NULL",
            ),
            moves(
                ("approved",),
                ("exported",),
                "exported_by",
                "exported_at",
                "export_post_request_id",
                "bank_profile",
                when="OLD.bank_profile IS NULL OR OLD.bank_profile = NEW.bank_profile",
            ),
            moves(("exported",), ("closed",), "closed_at"),
        ),
    ),
    insert_only("payment_batch_files", "each bank file of a batch with its SHA-256, rows and total"),
    Guard(
        "return_files",
        "each bank return file applied",
        (filled_once("post_request_id", "the settlement's post"),),
    ),
    insert_only("return_lines", "each line of a return file: instruction, outcome, amount"),
    Guard(
        "card_fixes",
        "the fix-the-card list of failed payments",
        (
            moves(("open",), ("fixed",), "account_fix_id", "resolved_by", "resolved_at"),
            moves(("open",), ("forced",), "resolved_by", "resolved_at"),
        ),
    ),
    Guard(
        "account_fixes",
        "each change of a payee's card, with its maker and checker",
        (
            moves(("proposed",), ("approved",), "checked_by", "checked_at"),
            moves(("proposed",), ("rejected",), "checked_by", "checked_at", "check_note"),
        ),
    ),
)

ALLOCATION_GUARDS = (
    Guard(
        "allocation_runs",
        "each allocation run, its pool and its workflow",
        (
            moves(("calculated",), ("approved",), "approved_by", "approved_at"),
            moves(("calculated", "approved"), ("cancelled",), "cancelled_by", "cancelled_at", "run_key"),
            moves(("approved",), ("posted",), "posted_by", "posted_at", "post_request_id"),
            moves(("posted",), ("superseded",)),
            moves(("superseded",), ("posted",)),
            moves(
                ("posted",),
                ("reversed",),
                "reversed_by",
                "reversed_at",
                "run_key",
                "reversal_reason",
                "reversal_post_request_id",
                "reversal_json",
            ),
        ),
    ),
    insert_only("allocation_lines", "each payee's share of a run"),
    insert_only("allocation_steps", "the arithmetic of a run, step by step"),
    insert_only("allocation_exclusions", "who a run left out and why"),
    Guard(
        "settlement_allocations",
        "which run allocated each PV settlement",
        delete_when="EXISTS (SELECT 1 FROM allocation_runs r WHERE r.id = OLD.run_id AND r.status = 'reversed')",
        delete_name="the rows of a reversed run (its settlements are freed for a corrected run)",
    ),
)

RECONCILIATION_GUARDS = (
    Guard(
        "matches",
        "each match of statement lines and book items, and a person's decision",
        (
            moves(UNDECIDED, (*UNDECIDED, "confirmed"), "rule", "score"),
            moves(("candidate",), ("confirmed",), "decided_by", "decided_at"),
            moves(UNDECIDED, ("rejected",), "decided_by", "decided_at"),
        ),
        delete_when=status_is("status", *UNDECIDED),
        delete_name="an undecided (matched or candidate) match a rerun no longer finds",
    ),
    _match_link("match_statement_lines", "the statement lines of a match"),
    _match_link("match_postings", "the postings of a match"),
    _match_link("match_instructions", "the payment instructions of a match"),
    _match_link("match_payment_references", "the payment references of a match"),
    insert_only("statement_lines", "each line of a bank statement"),
    insert_only("statement_imports", "each bank statement file imported"),
    insert_only("unmatched_postings", "the entries posted for statement lines the books lacked"),
    insert_only("reconciliation_runs", "each reconciliation run with its balances"),
)

REGISTRY_GUARDS = (
    insert_only("holdings", "who holds how many shares of each asset"),
    insert_only("assets", "each asset, its principal and the entity that pays its dividends"),
    Guard(
        "household_versions",
        "each version of a household: its village, card and members",
        (filled_once("valid_to_import", "closed by a later import"),),
    ),
    Guard(
        "person_versions",
        "each version of a person: name, relation, card",
        (filled_once("valid_to_import", "closed by a later import"),),
    ),
    insert_only("register_events", "each enrolment, exit, move and death"),
    insert_only("register_imports", "each register, shares, settlements or assets file imported"),
    Guard(
        "pv_settlements",
        "each PV settlement the grid owes or paid",
        (filled_once("received_on", "the 到账日期 of a later file"),),
    ),
)

LEDGER_GUARDS = (
    insert_only("bank_accounts", "each bank account and its 102 sub-account"),
    Guard(
        "periods",
        "each closed period and the chain head it was closed at",
        (moves(("open",), ("closed",), "closed_by", "closed_at", "head_sequence", "head_hash"),),
        elsewhere_when="OLD.status = 'closed'",
    ),
    Guard(
        "chain_heads",
        "each entity's newest journal entry and its hash",
        (
            Transition(
                "the head moves forward (last_sequence grows)",
                ("last_sequence", "head_hash"),
                "NEW.last_sequence > OLD.last_sequence",
            ),
        ),
    ),
    Guard(
        "post_requests",
        "each call of the poster and the entries it wrote",
        (
            Transition(
                "input_hash written once, in the post that made the row",
                ("input_hash",),
                "OLD.input_hash = '' AND NEW.input_hash <> ''",
            ),
        ),
    ),
    Guard(
        "voucher_submissions",
        "each manual voucher file and its review",
        (
            moves(("submitted",), ("posted",), "decided_by", "decided_at", "post_request_id"),
            moves(("submitted",), ("returned",), "decided_by", "decided_at", "comment"),
        ),
    ),
    insert_only("audit_log", "who ran which command, when, and how it ended"),
)

GUARDS: tuple[Guard, ...] = (
    *LEDGER_GUARDS,
    *REGISTRY_GUARDS,
    *ALLOCATION_GUARDS,
    *PAYOUT_GUARDS,
    *RECONCILIATION_GUARDS,
)
# The tables of 公示 notices, objections and stops came after migration 0080 (which makes the
# guards of GUARDS); migration 0101 makes these. A new guarded table joins a new tuple like it,
# with its own migration, so that an old migration never meets a table it predates.
CONTROL_GUARDS: tuple[Guard, ...] = (
    insert_only("notices", "each village's 公示 of a run: its period, households and total"),
    Guard(
        "notice_objections",
        "objections to a notice and how each was settled",
        (moves(("open",), ("dismissed",), "settled_by", "settled_at", "settle_reason"),),
    ),
    Guard(
        "payable_stops",
        "payables held back from every batch (停发) and their release",
        (moves(("stopped",), ("released",), "released_by", "released_at", "release_reason"),),
    ),
)
# Migration 0111: the review chain's actions on runs, each level's approval or return.
REVIEW_GUARDS: tuple[Guard, ...] = (
    insert_only("allocation_reviews", "each review level's approval or return of a run, in order"),
)
# Payables held for a decision when the register shows their recipient changed (migration 0112).
RECHECK_GUARDS: tuple[Guard, ...] = (
    insert_only("eligibility_holds", "payables held on 211.90 because the register shows their recipient changed"),
)
# Budget indicators (资金指标) and their movements, from migration 0110: an indicator never
# changes once imported (a reduction is a 退回 movement), and a movement is never changed either.
FUND_GUARDS: tuple[Guard, ...] = (
    insert_only("budget_indicators", "budget indicators (指标文号) as issued"),
    insert_only("fund_movements", "what each budget indicator's money did: drawn, frozen, paid, released, returned"),
)
ALL_GUARDS: tuple[Guard, ...] = (*GUARDS, *CONTROL_GUARDS, *FUND_GUARDS, *REVIEW_GUARDS, *RECHECK_GUARDS)
GUARDS_BY_TABLE = {guard.table: guard for guard in ALL_GUARDS}
assert len(GUARDS_BY_TABLE) == len(ALL_GUARDS)


# ------------------------------------------------------------------------------ the SQL
def function_name(table: str) -> str:
    return f"disburse_guard_{table}"


def _quoted(message: str) -> str:
    return message.replace("'", "''")


def _unchanged(columns: Sequence[str], changes: Sequence[str], dialect: str) -> list[str]:
    same = "IS NOT DISTINCT FROM" if dialect == "postgresql" else "IS"
    return [f"NEW.{column} {same} OLD.{column}" for column in columns if column not in changes]


def update_allowed(guard: Guard, columns: Sequence[str], dialect: str) -> str:
    """The SQL condition under which an UPDATE of a row passes the guard ('FALSE' when none
    does); ``columns`` are the table's columns, every one not changed by a transition kept."""
    missing = sorted({c for t in guard.transitions for c in t.changes} - set(columns))
    assert not missing, (guard.table, missing)
    cases = []
    for transition in guard.transitions:
        kept = _unchanged(columns, transition.changes, dialect)
        cases.append("(" + " AND ".join([f"({transition.when})", *kept]) + ")")
    if guard.elsewhere_when:
        cases.append(f"({guard.elsewhere_when})")
    return " OR ".join(cases) if cases else "FALSE"


def delete_allowed(guard: Guard) -> str:
    parts = [f"({part})" for part in (guard.delete_when, guard.elsewhere_when) if part]
    return " OR ".join(parts) if parts else "FALSE"


def _postgresql_function(guard: Guard, columns: Sequence[str]) -> str:
    return f"""
CREATE FUNCTION {function_name(guard.table)}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION '{_quoted(guard.truncate_refusal())}' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF {delete_allowed(guard)} THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '{_quoted(guard.delete_refusal())}' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF {update_allowed(guard, columns, "postgresql")} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{_quoted(guard.update_refusal())}' USING ERRCODE = 'integrity_constraint_violation';
END $$;
"""


def create_statements(guard: Guard, columns: Sequence[str], dialect: str) -> list[str]:
    """The statements that create ``guard`` on a table with ``columns`` in ``dialect``."""
    table = guard.table
    if dialect == "postgresql":
        # integrity_constraint_violation: the same IntegrityError as SQLite's RAISE(ABORT) and
        # as a CHECK, so a caller sees one kind of refusal whichever engine holds the books.
        return [
            _postgresql_function(guard, columns),
            f"CREATE TRIGGER {table}_guard BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function_name(table)}()",
            f"CREATE TRIGGER {table}_guard_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function_name(table)}()",
        ]
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_guard_update BEFORE UPDATE ON {table} "
            f"WHEN NOT ({update_allowed(guard, columns, dialect)}) "
            f"BEGIN SELECT RAISE(ABORT, '{_quoted(guard.update_refusal())}'); END",
            f"CREATE TRIGGER {table}_guard_delete BEFORE DELETE ON {table} "
            f"WHEN NOT ({delete_allowed(guard)}) "
            f"BEGIN SELECT RAISE(ABORT, '{_quoted(guard.delete_refusal())}'); END",
        ]
    raise NotImplementedError(f"no guards for {dialect}")  # pragma: no cover - the two engines only


def drop_statements(guard: Guard, dialect: str) -> list[str]:
    table = guard.table
    if dialect == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_guard ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_guard_truncate ON {table}",
            f"DROP FUNCTION IF EXISTS {function_name(table)}()",
        ]
    return [f"DROP TRIGGER IF EXISTS {table}_guard_update", f"DROP TRIGGER IF EXISTS {table}_guard_delete"]


def trigger_names(guard: Guard, dialect: str) -> tuple[str, ...]:
    if dialect == "postgresql":
        return (f"{guard.table}_guard", f"{guard.table}_guard_truncate")
    return (f"{guard.table}_guard_update", f"{guard.table}_guard_delete")


def create_guards(bind, guards: Sequence[Guard]) -> list[str]:  # type: ignore[no-untyped-def]
    """The statements that make ``guards`` on the database behind ``bind`` (a migration's
    connection), each over the table's columns as they are at that revision: an UPDATE must
    keep every column a transition does not name."""
    import sqlalchemy as sa

    inspector = sa.inspect(bind)
    statements: list[str] = []
    for guard in guards:
        assert inspector.has_table(guard.table), f"guarded table {guard.table} does not exist"
        columns = [column["name"] for column in inspector.get_columns(guard.table)]
        statements += create_statements(guard, columns, bind.dialect.name)
    return statements


def drop_guards(dialect: str, guards: Sequence[Guard]) -> list[str]:
    """The statements that remove ``guards``, last made first."""
    return [statement for guard in reversed(guards) for statement in drop_statements(guard, dialect)]
