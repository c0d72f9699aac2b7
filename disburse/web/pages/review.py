"""审核 (审核): the queue of calculated runs and prepared batches, each with its difference from
the previous period; a run's or batch's details; approve, or return to the maker with a comment
the maker sees. The checker must be a different account from the maker (checked by the stages
and, for the role, by the guard)."""

from __future__ import annotations

import datetime as dt
import json

from starlette.responses import Response
from starlette.routing import Route

from disburse.accounts.reviews import decisions_on, returned_to
from disburse.allocations.review_chain import LEVEL_NAME_LENGTH_MAX
from disburse.allocations.run_review import REVIEW_ACTION_NAMES, review_state, review_states
from disburse.allocations.runs import run_lines, run_row, village_summary
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr
from disburse.payouts.approvals import (
    approve_batch_reviewed,
    approve_reviewed_run,
    previous_run_of,
    return_batch,
    return_run,
    review_queue,
    run_exclusions,
)
from disburse.payouts.notices import OBJECTION_STATUS_NAMES, list_notices, notice_problems, notice_requirement
from disburse.payouts.sends import batch_lines, batch_results, failure_text
from disburse.payouts.service import batch_by_reference, batch_instructions
from disburse.web.base import Ctx, change, guard, in_thread, note, read, redirect, refusal_page, render
from disburse.web.uploads import FormRefused

BATCH_REFERENCE_LENGTH_MAX = 40
INSTRUCTIONS_SHOWN_MAX = 200


@guard("review.read")
async def queue(ctx: Ctx) -> Response:
    items, decided, chains = await in_thread(read, ctx.state, _queue)
    return render(
        ctx,
        "review.html",
        title=tr("Review"),
        items=items,
        returned=decided,
        chains=chains,
        action_names=REVIEW_ACTION_NAMES,
        may_decide=ctx.may("run.review"),
    )


def _queue(session):  # type: ignore[no-untyped-def]
    """The queue, the recent returns, and the review chain of each queued run that has one."""
    items = review_queue(session)
    run_ids = [int(item.reference) for item in items if item.kind == "run"]
    runs = [run_row(session, run_id) for run_id in run_ids]
    return items, returned_to(session), {str(run_id): state for run_id, state in review_states(session, runs).items()}


def _run_id(ctx: Ctx) -> int:
    text = ctx.request.path_params["run_id"]
    if not text.isdigit() or len(text) > 12:
        raise FormRefused(tr("A run number is a number."))
    return int(text)


def _run_details(session, run_id: int):  # type: ignore[no-untyped-def]
    run = run_row(session, run_id)
    lines = run_lines(session, run_id)
    previous = previous_run_of(session, run_id)
    return {
        "run": run,
        "summary": json.loads(run.summary_json),
        "villages": village_summary(lines) if len(lines) else None,
        "exclusions": run_exclusions(session, run_id),
        "previous": previous,
        "decisions": decisions_on(session, "run", str(run_id)),
        "chain": review_state(session, run),
        "action_names": REVIEW_ACTION_NAMES,
    }


@guard("run.read")
async def run_page(ctx: Ctx) -> Response:
    run_id = _run_id(ctx)
    try:
        details = await in_thread(read, ctx.state, lambda session: _run_details(session, run_id))
    except DisburseError:
        return refusal_page(ctx, 404, tr("Run not found"), tr("There is no run {run}.", run=run_id))
    return render(ctx, "run.html", title=tr("Run {run}", run=run_id), may_decide=ctx.may("run.review"), **details)


def _notice_details(session, run_id: int, today: dt.date):  # type: ignore[no-untyped-def]
    """A run's notices with their objections, what its rule asks, and whether (and why not) a
    batch could be prepared from it today."""
    run = run_row(session, run_id)
    listings = list_notices(session, run_id)
    return {
        "run": run,
        "requirement": notice_requirement(run.rule_text),
        "notices": [
            {
                "notice": listing.notice,
                "running": listing.notice.last_day >= today,
                "objections": [
                    {"row": row, "status": OBJECTION_STATUS_NAMES.get(row.status, row.status)}
                    for row in listing.objections
                ],
            }
            for listing in listings
        ],
        "problems": notice_problems(session, [run_id], today),
        "today": today,
    }


@guard("run.read")
async def run_notices_page(ctx: Ctx) -> Response:
    """公示: the run's notices per village, their periods and objections, and the batch refusal."""
    run_id, today = _run_id(ctx), dt.date.today()
    try:
        details = await in_thread(read, ctx.state, lambda session: _notice_details(session, run_id, today))
    except DisburseError:
        return refusal_page(ctx, 404, tr("Run not found"), tr("There is no run {run}.", run=run_id))
    return render(ctx, "notices.html", title=tr("Notices of run {run}", run=run_id), **details)


async def _decide(ctx: Ctx, audit, work, back: str, done_text) -> Response:  # type: ignore[no-untyped-def]
    try:
        result = await in_thread(change, ctx.state, audit, work)
    except DisburseError as error:
        return refusal_page(
            ctx, 409, tr("This cannot be done"), tr("The request was refused; nothing was changed."), detail=str(error)
        )
    ctx.flash("ok", done_text(result))
    return redirect(back)


def _approved_text(run_id: int, outcome) -> str:  # type: ignore[no-untyped-def]
    if outcome.posted is None:
        return outcome.level.message
    return tr(
        "Run {run} approved and posted: {entries:,} vouchers, {postings:,} postings; the payables are "
        "recorded and the cashier can prepare a batch.",
        run=run_id,
        entries=outcome.posted.entry_count,
        postings=outcome.posted.posting_count,
    )


@guard("run.review")
async def run_approve(ctx: Ctx) -> Response:
    run_id = _run_id(ctx)
    # The level the page showed the run waiting for: a page left open while another level acted
    # is refused rather than approving at a level the checker did not see.
    level = ctx.field("level", length_max=LEVEL_NAME_LENGTH_MAX) or None
    return await _decide(
        ctx,
        note(ctx, "runs approve", f"run={run_id}", *([f"level={level}"] if level else [])),
        lambda session: approve_reviewed_run(session, run_id, ctx.user, level),
        "/review",
        lambda outcome: _approved_text(run_id, outcome),
    )


@guard("run.review")
async def run_return(ctx: Ctx) -> Response:
    run_id = _run_id(ctx)
    comment = ctx.field("comment", required=True, label=tr("the reason for returning"))
    level = ctx.field("level", length_max=LEVEL_NAME_LENGTH_MAX) or None
    return await _decide(
        ctx,
        note(ctx, "runs return", f"run={run_id}", *([f"level={level}"] if level else []), message=comment),
        lambda session: return_run(session, run_id, ctx.user, comment, level=level),
        "/review",
        lambda _message: tr("Run {run} returned to its maker with your comment.", run=run_id),
    )


def _reference(ctx: Ctx) -> str:
    reference = ctx.request.path_params["reference"]
    if len(reference) > BATCH_REFERENCE_LENGTH_MAX or not reference.replace("-", "").isalnum():
        raise FormRefused(tr("The batch number is not right."))
    return reference


def _batch_details(session, reference: str):  # type: ignore[no-untyped-def]
    batch = batch_by_reference(session, reference)
    instructions = batch_instructions(session, batch.id)
    by_programme = (
        instructions.groupby("memo")["amount_fen"].agg(["count", "sum"]).reset_index().to_dict("records")
        if len(instructions)
        else []
    )
    lines = batch_lines(session, batch.id, INSTRUCTIONS_SHOWN_MAX).to_dict("records")
    for line in lines:
        line["reason_text"] = failure_text(line["failure_code"], line["failure_reason"])
    return {
        "batch": batch,
        "result": batch_results(session, [(batch.id, batch.status)])[batch.id],
        "instructions": lines,
        "instruction_total": len(instructions),
        "by_programme": by_programme,
        "decisions": decisions_on(session, "batch", batch.batch_reference),
    }


@guard("batch.read")
async def batch_page(ctx: Ctx) -> Response:
    reference = _reference(ctx)
    try:
        details = await in_thread(read, ctx.state, lambda session: _batch_details(session, reference))
    except DisburseError:
        return refusal_page(ctx, 404, tr("Batch not found"), tr("There is no batch {batch}.", batch=reference))
    return render(
        ctx, "batch.html", title=tr("Batch {batch}", batch=reference), may_decide=ctx.may("batch.review"), **details
    )


@guard("batch.review")
async def batch_approve(ctx: Ctx) -> Response:
    reference = _reference(ctx)
    return await _decide(
        ctx,
        note(ctx, "payout approve", f"batch={reference}"),
        lambda session: approve_batch_reviewed(session, reference, ctx.user),
        "/review",
        lambda outcome: (
            tr("Batch {batch} approved; the bank file can be exported.", batch=reference)
            if outcome.status == "approved"
            else tr("Batch {batch} approved (a large batch: a second checker must approve it too).", batch=reference)
        ),
    )


@guard("batch.review")
async def batch_return(ctx: Ctx) -> Response:
    reference = _reference(ctx)
    comment = ctx.field("comment", required=True, label=tr("the reason for returning"))
    return await _decide(
        ctx,
        note(ctx, "payout return", f"batch={reference}", message=comment),
        lambda session: return_batch(session, reference, ctx.user, comment),
        "/review",
        lambda _message: tr("Batch {batch} returned; its payments are due again.", batch=reference),
    )


ROUTES = [
    Route("/review", queue, methods=["GET"]),
    Route("/review/runs/{run_id}", run_page, methods=["GET"]),
    Route("/review/runs/{run_id}/notices", run_notices_page, methods=["GET"]),
    Route("/review/runs/{run_id}/approve", run_approve, methods=["POST"]),
    Route("/review/runs/{run_id}/return", run_return, methods=["POST"]),
    Route("/review/batches/{reference}", batch_page, methods=["GET"]),
    Route("/review/batches/{reference}/approve", batch_approve, methods=["POST"]),
    Route("/review/batches/{reference}/return", batch_return, methods=["POST"]),
]
