"""A run's way up its review chain (allocations.review_chain): each level approves in order, or
returns the run with a comment; the run becomes ``approved`` (what posting requires) when the
last level its amount requires approves.

The rules each action is checked against, before anything is written:

- only the level the run waits for acts (levels act in the chain's order, skipping the levels
  whose ``above_yuan`` the run's payable total does not exceed);
- the person who calculated the run acts at no level, and one account acts at one level of a
  run only (both four eyes; the second is also a unique key of ``allocation_reviews``);
- a return needs a comment, and cancels the run (its key freed, as ``runs cancel`` does): a run's
  lines never change, so the maker corrects the inputs or the rule and calculates again, and the
  new run climbs the chain from its first level. The returned run, its log and its comment stay.

A run whose rule has no chain is approved as before (``runs.approve_run``). None of these commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from disburse.allocations.review_chain import ChainProgress, ReviewChain, chain_progress, review_chain_of
from disburse.allocations.runs import RUN_STATUS_NAMES, approve_run, cancel_run, run_row
from disburse.allocations.tables import AllocationReviewRow, AllocationRunRow, utc_now
from disburse.foundation.actors import require_user
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import TranslatedNames, tr, tr_noop
from disburse.foundation.money import format_yuan

COMMENT_LENGTH_MAX = 2_000
REVIEW_ACTION_NAMES = TranslatedNames({"approved": tr_noop("approved"), "returned": tr_noop("returned")})


@dataclass(frozen=True, slots=True)
class ReviewAction:
    """One stored action of a run's chain."""

    level_position: int
    level: str
    action: str  # approved | returned
    acted_by: str
    comment: str
    payable_fen: int
    acted_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ReviewState:
    """A run's chain, its progress and its log (oldest action first)."""

    run_id: int
    run_status: str
    chain: ReviewChain
    progress: ChainProgress
    actions: tuple[ReviewAction, ...]

    @property
    def waiting_for(self) -> str | None:
        """The level the run waits for; None unless it is a calculated run still climbing."""
        pending = self.progress.pending
        return pending.level if pending is not None and self.run_status == "calculated" else None

    @property
    def approvals(self) -> str:
        """Required levels approved out of those the run needs: ``1/3``."""
        required = {level.level for level in self.progress.required}
        return f"{len(required & set(self.progress.approved))}/{len(required)}"

    @property
    def last_is_waiting(self) -> bool:
        """Whether the level the run waits for is the last one it needs (its approval posts the run)."""
        return self.waiting_for is not None and self.progress.required[-1].level == self.waiting_for


@dataclass(frozen=True, slots=True)
class LevelOutcome:
    """What one level's approval did: whether anything changed, and whether the run is now approved."""

    run_id: int
    changed: bool
    run_approved: bool
    message: str


def review_actions(session: Session, run_ids: list[int]) -> dict[int, tuple[ReviewAction, ...]]:
    """The stored actions of each run, in the order they were taken (one query for all)."""
    table = AllocationReviewRow
    rows = session.execute(
        select(
            table.run_id,
            table.level_position,
            table.level,
            table.action,
            table.acted_by,
            table.comment,
            table.payable_fen,
            table.acted_at,
        )
        .where(table.run_id.in_(run_ids))
        .order_by(table.run_id, table.id)
    ).all()
    found: dict[int, list[ReviewAction]] = {}
    for row in rows:
        found.setdefault(row.run_id, []).append(ReviewAction(*tuple(row)[1:]))
    return {run_id: tuple(actions) for run_id, actions in found.items()}


def review_state(session: Session, run: AllocationRunRow) -> ReviewState | None:
    """The run's chain and where it stands, or None when its rule has no chain."""
    return review_states(session, [run]).get(run.id)


def review_states(session: Session, runs: list[AllocationRunRow]) -> dict[int, ReviewState]:
    """The states of the runs that have a chain (the review queue's), their logs in one query."""
    chained = [(run, chain) for run in runs if (chain := review_chain_of(run.rule_text)) is not None]
    logs = review_actions(session, [run.id for run, _ in chained]) if chained else {}
    states = {}
    for run, chain in chained:
        actions = logs.get(run.id, ())
        progress = chain_progress(chain, run.payable_fen, [(action.level, action.action) for action in actions])
        states[run.id] = ReviewState(run.id, run.status, chain, progress, actions)
    return states


def _refuse_unless_may_act(session: Session, run: AllocationRunRow, state: ReviewState, user: str, level: str) -> int:
    """The position of ``level`` in the chain, once it is the level the run waits for and ``user``
    may act there; otherwise a refusal that says what the run waits for."""
    names = state.chain.names
    if level not in names:
        raise DisburseError(
            tr(
                "run {run} has no review level {level}; its levels are {levels}",
                run=run.id,
                level=level,
                levels=" → ".join(names),
            )
        )
    if run.calculated_by == user:
        raise DisburseError(
            tr(
                "run {run} was calculated by {user}; a different person must review it at every level (four eyes)",
                run=run.id,
                user=user,
            )
        )
    acted = next((action for action in state.actions if action.acted_by == user), None)
    if acted is not None:
        raise DisburseError(
            tr(
                "{user} already acted on run {run} at level {done}; one account acts at one level of a run",
                user=user,
                run=run.id,
                done=acted.level,
            )
        )
    required = {item.level: item for item in state.progress.required}
    if level not in required:
        threshold = next(item.above_yuan for item in state.chain.levels if item.level == level)
        raise DisburseError(
            tr(
                "run {run} does not need level {level}: its payable total {total} is not above {threshold}",
                run=run.id,
                level=level,
                total=format_yuan(run.payable_fen),
                threshold=format_yuan(threshold or 0),
            )
        )
    done = next((action for action in state.actions if action.level == level), None)
    if done is not None:
        raise DisburseError(
            tr("level {level} of run {run} was already taken by {user}", level=level, run=run.id, user=done.acted_by)
        )
    pending = state.progress.pending
    if pending is None or pending.level != level:
        raise DisburseError(
            tr(
                "run {run} waits for level {pending}; levels act in order ({levels})",
                run=run.id,
                pending=pending.level if pending else "—",
                levels=" → ".join(i.level for i in state.progress.required),
            )
        )
    return names.index(level) + 1


def _record(session: Session, run: AllocationRunRow, position: int, level: str, action: str, user: str, comment: str):  # type: ignore[no-untyped-def]
    statement = insert(AllocationReviewRow).values(
        run_id=run.id,
        level_position=position,
        level=level,
        action=action,
        acted_by=user,
        comment=comment,
        payable_fen=run.payable_fen,
        acted_at=utc_now(),
    )
    try:
        # A savepoint: two reviewers acting on one run at once both passed the checks above; the
        # unique keys let one in, and the other is told to look again rather than shown a crash.
        with session.begin_nested():
            session.execute(statement)
    except IntegrityError:
        raise DisburseError(
            tr(
                "someone else acted on run {run} at the same moment; `disburse runs show {run}` shows what "
                "it waits for now",
                run=run.id,
            )
        ) from None


def _comment(comment: str | None, required: bool) -> str:
    text = (comment or "").strip()
    if required and not text:
        raise DisburseError(tr("a returned run needs a comment that tells its maker what to change"))
    if len(text) > COMMENT_LENGTH_MAX:
        raise DisburseError(
            tr(
                "a comment has at most {length_max:,} characters, not {length:,}",
                length_max=COMMENT_LENGTH_MAX,
                length=len(text),
            )
        )
    return text


def _chain_run(session: Session, run_id: int) -> tuple[AllocationRunRow, ReviewState | None]:
    run = run_row(session, run_id)
    return run, review_state(session, run)


def approve_at_level(
    session: Session,
    run_id: int,
    user: str,
    level: str | None = None,
    comment: str | None = None,
    today: dt.date | None = None,
) -> LevelOutcome:
    """Approve a run at ``level`` of its chain; the last required level's approval approves the
    run. A run without a chain is approved as before, and takes no level. At every level, as at a
    single approval, the run's recipients are checked against the register as of ``today``."""
    user = require_user(user)
    run, state = _chain_run(session, run_id)
    if state is None:
        if level is not None:
            raise DisburseError(
                tr(
                    "run {run} has no review chain (its rule has no review: key); approve it without --level",
                    run=run_id,
                )
            )
        message = approve_run(session, run_id, user, today=today)
        return LevelOutcome(run_id, run.status == "approved", run.status == "approved", message)
    outcome = _approve_chained(session, run, state, user, level, comment)
    if not outcome.changed:
        return outcome
    from disburse.allocations.recheck import approval_recheck  # it reads the registry

    # After the level's checks, before anything is shown: under `recheck: {changes: refuse}` this
    # refuses, and the level's row goes with the refused transaction.
    warning = approval_recheck(session, run, today or dt.date.today())
    return outcome if warning is None else replace(outcome, message=f"{outcome.message}\n{warning}")


def _approve_chained(
    session: Session, run: AllocationRunRow, state: ReviewState, user: str, level: str | None, comment: str | None
) -> LevelOutcome:
    run_id = run.id
    comment = _comment(comment, required=False)
    if level is None:
        pending = state.progress.pending
        raise DisburseError(
            tr(
                "run {run} is reviewed level by level ({levels}); say which: --level {pending}",
                run=run_id,
                levels=" → ".join(state.chain.names),
                pending=pending.level if pending else "…",
            )
        )
    mine = next((a for a in state.actions if a.acted_by == user and a.level == level and a.action == "approved"), None)
    if mine is not None:
        return LevelOutcome(
            run_id,
            False,
            run.status == "approved",
            tr(
                "run {run} was already approved at level {level} by {user}; nothing changed",
                run=run_id,
                level=level,
                user=user,
            ),
        )
    _refuse_unless_calculated(run)
    position = _refuse_unless_may_act(session, run, state, user, level)
    _record(session, run, position, level, "approved", user, comment)
    last = state.progress.required[-1].level == level
    if last:
        run.status, run.approved_by, run.approved_at = "approved", user, utc_now()
        return LevelOutcome(
            run_id,
            True,
            True,
            tr(
                "run {run} approved at level {level} by {user}, the last level it needs: the run is approved",
                run=run_id,
                level=level,
                user=user,
            ),
        )
    following = state.progress.required[[item.level for item in state.progress.required].index(level) + 1]
    return LevelOutcome(
        run_id,
        True,
        False,
        tr(
            "run {run} approved at level {level} by {user}; it now waits for level {next}",
            run=run_id,
            level=level,
            user=user,
            next=following.level,
        ),
    )


def _refuse_unless_calculated(run: AllocationRunRow) -> None:
    if run.status != "calculated":
        raise DisburseError(
            tr(
                "run {run} is {status}; only a calculated run is reviewed",
                run=run.id,
                status=RUN_STATUS_NAMES.get(run.status, run.status),
            )
        )


def return_at_level(session: Session, run_id: int, user: str, level: str | None, comment: str) -> str:
    """Return a run from the level it waits for, with a comment: the action is kept and the run
    cancelled, for its maker to correct and calculate again. A run without a chain takes no level."""
    user = require_user(user)
    comment = _comment(comment, required=True)
    run, state = _chain_run(session, run_id)
    if state is None:
        if level is not None:
            raise DisburseError(
                tr("run {run} has no review chain (its rule has no review: key); return it without --level", run=run_id)
            )
        _refuse_unless_calculated(run)
        cancel_run(session, run_id, user)
        return tr("run {run} returned to {maker} by {user}", run=run_id, maker=run.calculated_by, user=user)
    if level is None:
        pending = state.progress.pending
        raise DisburseError(
            tr(
                "run {run} is reviewed level by level; say which level returns it: --level {pending}",
                run=run_id,
                pending=pending.level if pending else "…",
            )
        )
    _refuse_unless_calculated(run)
    position = _refuse_unless_may_act(session, run, state, user, level)
    _record(session, run, position, level, "returned", user, comment)
    cancel_run(session, run_id, user)
    return tr(
        "run {run} returned at level {level} by {user} to {maker}, and cancelled: calculate a corrected run, "
        "which climbs the chain from its first level",
        run=run_id,
        level=level,
        user=user,
        maker=run.calculated_by,
    )


def review_lines(state: ReviewState) -> list[str]:
    """The chain and its log as `runs show` prints them (in the reader's language)."""
    minute = "%Y-%m-%d %H:%M"
    required = {item.level for item in state.progress.required}
    levels = [
        item.level + ("" if item.level in required else tr(" (not needed for this amount)"))
        for item in state.chain.levels
    ]
    lines = [tr("review chain: {levels}", levels=" → ".join(levels))]
    for action in state.actions:
        lines.append(
            tr(
                "  {at} {level}: {action} by {user}",
                at=f"{action.acted_at:{minute}}",
                level=action.level,
                action=REVIEW_ACTION_NAMES.get(action.action, action.action),
                user=action.acted_by,
            )
            + (f" — {action.comment}" if action.comment else "")
        )
    if state.waiting_for is not None:
        lines.append(tr("  waits for level {level}", level=state.waiting_for))
    return lines
