"""对账与审计 (审计, reading only; its changes move no money): import a bank statement, run the
reconciliation and see the 银行存款余额调节表, confirm or reject suggested matches, the anomaly
findings with review notes, the trace of a fund, the chain heads with `verify`'s verdict, and
the audit log with filters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from starlette.responses import Response
from starlette.routing import Route

from disburse.audit.anomalies import review_finding, run_checks
from disburse.audit.log import audit_entries, verify_audit_log
from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr
from disburse.foundation.workbook import write_workbook
from disburse.ledger.service import list_bank_accounts
from disburse.ledger.verify import verify_books
from disburse.reconciliation.report import balance_rows, report_sheets
from disburse.reconciliation.runs import confirm_match, reject_match, run_reconciliation, stored_matches
from disburse.reconciliation.statements import bank_account_by_reference, import_statement
from disburse.reports.fund_trace import fund_trace
from disburse.web.base import (
    Ctx,
    change,
    guard,
    hashes,
    in_thread,
    note,
    parse_date,
    parse_period,
    read,
    redirect,
    refusal_page,
    render,
    run_job,
)
from disburse.web.jobs import Job
from disburse.web.uploads import TABLE_SUFFIXES, FormRefused, save_upload

LOG_LIMIT_MAX = 2_000
MATCHES_SHOWN_MAX = 500
MATCH_ID_LENGTH = 17


@guard("audit.read")
async def audit(ctx: Ctx) -> Response:
    accounts = await in_thread(read, ctx.state, list_bank_accounts)
    return render(
        ctx,
        "audit.html",
        title=tr("Reconciliation and audit"),
        accounts=accounts,
        jobs=ctx.state.jobs.of_owner(ctx.user),
        today=dt.date.today(),
    )


def _account_field(ctx: Ctx) -> str:
    return ctx.field("account", required=True, label=tr("bank account"), length_max=40)


@guard("statement.import")
async def statement(ctx: Ctx) -> Response:
    account = _account_field(ctx)
    profile = ctx.field("profile", length_max=40) or None
    job = ctx.state.jobs.new(ctx.user, tr("Import a bank statement"), "statement")
    path = save_upload(
        ctx.upload("file"), job.workspace / "upload", TABLE_SUFFIXES, ctx.state.settings.upload_bytes_max
    )
    user, state = ctx.user, ctx.state
    audit_note = note(ctx, "import bank-statement", f"file={path.name}", f"account={account}", inputs=hashes(path))

    def work(job: Job):  # type: ignore[no-untyped-def]
        from disburse.web.pages.work import offer_problems

        job.progress(tr("Reading the statement"))
        try:
            return change(
                state, audit_note, lambda session: import_statement(session, path, account, user, profile_name=profile)
            )
        except Exception as error:
            if getattr(error, "problems", None):
                offer_problems(job, error.problems)  # type: ignore[attr-defined]
            raise

    return await run_job(ctx, job, work)


def _reconciled(session, account: str, period: str, user: str, workspace: Path, job: Job):  # type: ignore[no-untyped-def]
    outcome = run_reconciliation(session, account, period, user)
    matches = stored_matches(session, outcome.inputs.account, period)
    if outcome.balance is not None:
        inputs = outcome.inputs
        sheets = report_sheets(inputs.account, period, outcome.result, outcome.balance, inputs.statement, inputs.book)
        for index, path in enumerate(write_workbook(workspace / f"对账报告-{period}.xlsx", sheets)):
            job.offer(f"report{index}", path, path.name)
    return {
        "outcome": outcome,
        "balance": balance_rows(outcome.balance) if outcome.balance is not None else None,
        "candidates": matches[matches["status"] == "candidate"].head(MATCHES_SHOWN_MAX).to_dict("records"),
    }


@guard("reconcile.run")
async def reconcile(ctx: Ctx) -> Response:
    account = _account_field(ctx)
    period = parse_period(ctx.field("period", required=True, label=tr("period"), length_max=7))
    job = ctx.state.jobs.new(ctx.user, tr("Reconcile {account} {period}", account=account, period=period), "reconciled")
    user, state = ctx.user, ctx.state
    job.context.update(account=account, period=period)
    audit_note = note(ctx, "reconcile", f"account={account}", f"period={period}")

    def work(job: Job):  # type: ignore[no-untyped-def]
        job.progress(tr("Matching the statement with the books"))
        return change(
            state, audit_note, lambda session: _reconciled(session, account, period, user, job.workspace, job)
        )

    return await run_job(ctx, job, work)


def _matches(session, account: str, period: str):  # type: ignore[no-untyped-def]
    reference = bank_account_by_reference(session, account)
    return reference, stored_matches(session, reference, period).head(MATCHES_SHOWN_MAX).to_dict("records")


@guard("audit.read")
async def matches(ctx: Ctx) -> Response:
    account = _account_field(ctx)
    period = parse_period(ctx.field("period", required=True, label=tr("period"), length_max=7))
    try:
        reference, rows = await in_thread(read, ctx.state, lambda session: _matches(session, account, period))
    except DisburseError as error:
        return refusal_page(ctx, 404, tr("Account not found"), tr("There is no such bank account."), detail=str(error))
    return render(
        ctx,
        "matches.html",
        title=tr("Matches {period}", period=period),
        reference=reference,
        period=period,
        rows=rows,
        may_decide=ctx.may("match.decide"),
    )


@guard("match.decide")
async def decide(ctx: Ctx) -> Response:
    match_id = ctx.request.path_params["match_id"]
    decision = ctx.request.path_params["decision"]
    if len(match_id) != MATCH_ID_LENGTH or not match_id.startswith("M") or decision not in ("confirm", "reject"):
        raise FormRefused(tr("The match number is not right."))
    function = confirm_match if decision == "confirm" else reject_match
    back = ctx.field("back", length_max=200)
    try:
        outcome = await in_thread(
            change,
            ctx.state,
            note(ctx, f"reconcile {decision}", f"match={match_id}"),
            lambda session: function(session, match_id, ctx.user),
        )
    except DisburseError as error:
        return refusal_page(ctx, 409, tr("This cannot be done"), tr("Nothing was changed."), detail=str(error))
    ctx.flash(
        "ok",
        (tr("{match} confirmed.", match=match_id) if decision == "confirm" else tr("{match} rejected.", match=match_id))
        if outcome.changed
        else tr("{match} unchanged: {reason}", match=match_id, reason=outcome.message),
    )
    return redirect(back if back.startswith("/audit") and not back.startswith("//") else "/audit")


@guard("audit.read")
async def anomalies(ctx: Ctx) -> Response:
    period_text = ctx.field("period", length_max=7)
    period = parse_period(period_text) if period_text else None
    job = ctx.state.jobs.new(ctx.user, tr("Anomaly checks {period}", period=period or tr("all periods")), "anomalies")
    state = ctx.state
    job.context.update(period=period or "")

    def work(job: Job):  # type: ignore[no-untyped-def]
        job.progress(tr("Running the anomaly checks"))
        return read(state, lambda session: run_checks(session, period))

    return await run_job(ctx, job, work)


@guard("finding.review")
async def review(ctx: Ctx) -> Response:
    finding = ctx.request.path_params["finding_id"]
    if len(finding) > 40 or not finding.startswith("F-"):
        raise FormRefused(tr("The finding number is not right."))
    text = ctx.field("note", required=True, label=tr("the review note"))
    period = ctx.field("period", length_max=7) or None
    try:
        await in_thread(
            change,
            ctx.state,
            note(ctx, "audit review", f"finding={finding}", message=text),
            lambda session: review_finding(session, finding, text, ctx.user, period=period),
        )
    except DisburseError as error:
        return refusal_page(
            ctx, 409, tr("The review note cannot be recorded"), tr("Nothing was changed."), detail=str(error)
        )
    ctx.flash("ok", tr("{finding}: review note recorded; it is not listed again.", finding=finding))
    return redirect("/audit")


@guard("audit.read")
async def trace(ctx: Ctx) -> Response:
    fund = ctx.field("fund", length_max=200)
    found = None
    if fund:
        try:
            found = await in_thread(read, ctx.state, lambda session: fund_trace(session, fund))
        except DisburseError as error:
            return refusal_page(ctx, 404, tr("Cannot trace"), tr("There is no such fund."), detail=str(error))
    return render(ctx, "trace.html", title=tr("Fund trace"), fund=fund, trace=found)


@guard("audit.read")
async def verify(ctx: Ctx) -> Response:
    job = ctx.state.jobs.new(ctx.user, tr("Verify the books' hash chains"), "verified")
    state = ctx.state

    def work(job: Job):  # type: ignore[no-untyped-def]
        job.progress(tr("Recomputing every entity's hash chain and balances, and the audit log's hash chain"))

        def both(session):  # type: ignore[no-untyped-def]
            rows, head, problems = verify_audit_log(session)
            return {
                "reports": verify_books(session),
                "audit_rows": rows,
                "audit_head": head,
                "audit_problems": problems,
            }

        return read(state, both)

    state.audit.put(note(ctx, "verify"))
    return await run_job(ctx, job, work)


@guard("audit.read")
async def log(ctx: Ctx) -> Response:
    since = parse_date(ctx.field("since", length_max=10), tr("start date"))
    user = ctx.field("user", length_max=64) or None
    command = ctx.field("command", length_max=100)
    outcome = ctx.field("outcome", length_max=16)
    limit_text = ctx.field("limit", length_max=5) or "200"
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= LOG_LIMIT_MAX:
        raise FormRefused(tr("The number of rows is from 1 to {limit:,}.", limit=LOG_LIMIT_MAX))
    entries = await in_thread(
        read, ctx.state, lambda session: audit_entries(session, since=since, user=user, limit=LOG_LIMIT_MAX)
    )
    shown = [
        entry
        for entry in entries[::-1]
        if (not command or command in entry.command) and (not outcome or entry.outcome == outcome)
    ][: int(limit_text)]
    return render(
        ctx,
        "log.html",
        title=tr("Audit log"),
        entries=shown,
        since=since,
        user=user or "",
        command=command,
        outcome=outcome,
        limit=limit_text,
    )


ROUTES = [
    Route("/audit", audit, methods=["GET"]),
    Route("/audit/statement", statement, methods=["POST"]),
    Route("/audit/reconcile", reconcile, methods=["POST"]),
    Route("/audit/matches", matches, methods=["GET"]),
    Route("/audit/matches/{match_id}/{decision}", decide, methods=["POST"]),
    Route("/audit/anomalies", anomalies, methods=["POST"]),
    Route("/audit/findings/{finding_id}/review", review, methods=["POST"]),
    Route("/audit/trace", trace, methods=["GET"]),
    Route("/audit/verify", verify, methods=["POST"]),
    Route("/audit/log", log, methods=["GET"]),
]
