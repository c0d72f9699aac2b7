"""月度工作 (经办): upload register, share, settlement and voucher files through the same importers
as the command line; run an allocation as a preview (totals by village, the households left out
and why, a download) and submit it for review; see what a checker returned, with the comment,
and submit again."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from starlette.responses import Response
from starlette.routing import Route

from disburse.accounts.reviews import returned_to
from disburse.allocations.export import write_run_export
from disburse.allocations.runs import calculate_run, list_runs, run_row, village_summary
from disburse.foundation.i18n import tr, tr_noop
from disburse.foundation.workbook import write_problems
from disburse.ledger.service import list_entities
from disburse.web.base import (
    Ctx,
    change,
    guard,
    hashes,
    note,
    parse_date,
    parse_period,
    read,
    redirect,
    render,
    run_job,
)
from disburse.web.jobs import Job
from disburse.web.uploads import RULE_SUFFIXES, TABLE_SUFFIXES, FormRefused, save_upload

IMPORT_KINDS = {
    "register": tr_noop("household register"),
    "shares": tr_noop("benefit share register"),
    "settlement": tr_noop("electricity settlement"),
    "vouchers": tr_noop("vouchers"),
}
# The importers report their stage by these names; the page shows them as a sentence.
STAGES = {
    "reading and validating": tr_noop("Reading and validating the file"),
    "comparing with the register in force": tr_noop("Comparing with the register in force"),
    "writing": tr_noop("Writing"),
    "reading": tr_noop("Reading the file"),
    "validating": tr_noop("Validating"),
    "posting": tr_noop("Posting"),
}
RUNS_SHOWN_MAX = 50
POOL_TEXT_LENGTH_MAX = 20


def _progress_zh(job: Job):  # type: ignore[no-untyped-def]
    return lambda stage: job.progress(tr(STAGES[stage]) if stage in STAGES else stage)


def offer_problems(job: Job, problems) -> None:  # type: ignore[no-untyped-def]
    """Write every problem of a refused file to a workbook the job page offers."""
    path = job.workspace / "问题清单.xlsx"
    # The file column names the user's file, not the server's folder it was saved in.
    write_problems([dataclasses.replace(problem, file=Path(problem.file).name) for problem in problems], path)
    job.offer("problems", path, "问题清单.xlsx")


def _overview(session, user: str):  # type: ignore[no-untyped-def]
    runs = list_runs(session)[-RUNS_SHOWN_MAX:][::-1]
    return {
        "runs": runs,
        "returned": [item for item in returned_to(session) if item.subject_kind == "run"],
        "entities": list_entities(session),
    }


@guard("work.read")
async def work(ctx: Ctx) -> Response:
    from disburse.web.base import in_thread

    overview = await in_thread(read, ctx.state, lambda session: _overview(session, ctx.user))
    resubmit = None
    text = ctx.request.query_params.get("resubmit", "")
    if text.isdigit():
        resubmit = await in_thread(read, ctx.state, lambda session: _returned_run(session, int(text)))
    return render(
        ctx,
        "work.html",
        title=tr("Monthly work"),
        jobs=ctx.state.jobs.of_owner(ctx.user),
        resubmit=resubmit,
        today=dt.date.today(),
        may_work=ctx.may("register.import"),
        **overview,
    )


def _returned_run(session, run_id: int):  # type: ignore[no-untyped-def]
    try:
        run = run_row(session, run_id)
    except Exception:  # noqa: BLE001 - an unknown id shows no pre-filled form
        return None
    return run if run.status == "cancelled" else None


def _import(kind: str, session, path: Path, user: str, as_of: dt.date | None, entity: str, job: Job):  # type: ignore[no-untyped-def]
    from disburse.registry.service import import_register, import_settlements, import_shares

    progress = _progress_zh(job)
    if kind == "register":
        return import_register(session, path, user=user, as_of=as_of, progress=progress)
    if kind == "shares":
        return import_shares(session, path, user=user, as_of=as_of, progress=progress)
    return import_settlements(session, path, user=user, progress=progress)


def _submit_vouchers(session, batch, file_name: str, file_hash: str, entity: str, user: str):  # type: ignore[no-untyped-def]
    from disburse.ledger.vouchers import submit_vouchers

    return submit_vouchers(session, batch, file_name, file_hash, entity, user)


@guard("register.import")
async def upload(ctx: Ctx) -> Response:
    """One upload form per kind of file; the import runs as a job."""
    kind = ctx.request.path_params["kind"]
    if kind not in IMPORT_KINDS:
        raise FormRefused(tr("There is no such kind of file."))
    as_of = parse_date(ctx.field("as_of", length_max=10), tr("register date"))
    entity = ctx.field("entity", length_max=40)
    if kind == "vouchers" and not entity:
        raise FormRefused(tr("Please choose the entity to post to."))
    kind_name = tr(IMPORT_KINDS[kind])
    job = ctx.state.jobs.new(ctx.user, tr("Import the {kind}", kind=kind_name), "import")
    path = save_upload(
        ctx.upload("file"), job.workspace / "upload", TABLE_SUFFIXES, ctx.state.settings.upload_bytes_max
    )
    user, state = ctx.user, ctx.state
    audit = note(
        ctx, f"import {kind}", f"file={path.name}", f"as_of={as_of or ''}", f"entity={entity}", inputs=hashes(path)
    )
    job.context.update(kind_zh=kind_name, file_name=path.name)

    def work(job: Job):  # type: ignore[no-untyped-def]
        job.progress(tr("Reading and validating the file"))
        try:
            if kind == "vouchers":
                from disburse.importers.journal import parse_vouchers

                batch, file_hash = parse_vouchers(path, entity)
                job.progress(tr("Submitting for review"))
                return change(
                    state, audit, lambda session: _submit_vouchers(session, batch, path.name, file_hash, entity, user)
                )
            return change(state, audit, lambda session: _import(kind, session, path, user, as_of, entity, job))
        except Exception as error:
            problems = getattr(error, "problems", None)
            if problems:
                offer_problems(job, problems)
            raise

    return await run_job(ctx, job, work)


# --------------------------------------------------------------------------------- allocation
def _rule_from_run(session, run_id: int, directory: Path) -> Path:  # type: ignore[no-untyped-def]
    run = run_row(session, run_id)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"run-{run.id}-rule.yaml"
    path.write_text(run.rule_text, encoding="utf-8")
    return path


@guard("run.calculate")
async def preview(ctx: Ctx) -> Response:
    """Compute the run without storing it: totals by village, exclusions, a download."""
    from disburse.web.base import in_thread

    period = parse_period(ctx.field("period", required=True, label=tr("period"), length_max=7))
    pool = ctx.field("pool", length_max=POOL_TEXT_LENGTH_MAX) or None
    from_run = ctx.field("from_run", length_max=12)
    job = ctx.state.jobs.new(ctx.user, tr("Allocation preview {period}", period=period), "allocation")
    uploaded = ctx.upload("rule")
    if from_run.isdigit() and not getattr(uploaded, "filename", ""):
        rule = await in_thread(
            read, ctx.state, lambda session: _rule_from_run(session, int(from_run), job.workspace / "rule")
        )
    else:
        rule = save_upload(uploaded, job.workspace / "rule", RULE_SUFFIXES, ctx.state.settings.upload_bytes_max)
    inputs_upload = ctx.upload("inputs")
    inputs = (
        save_upload(inputs_upload, job.workspace / "inputs", TABLE_SUFFIXES, ctx.state.settings.upload_bytes_max)
        if getattr(inputs_upload, "filename", "")
        else None
    )
    job.context.update(period=period, pool=pool or "", rule=rule, inputs=inputs, rule_name=rule.name)
    user, state = ctx.user, ctx.state
    state.audit.put(
        note(
            ctx,
            "allocate preview",
            f"rule={rule.name}",
            f"period={period}",
            f"pool={pool or ''}",
            inputs=hashes(rule, inputs),
        )
    )

    def work(job: Job):  # type: ignore[no-untyped-def]
        job.progress(tr("Calculating the allocation (a preview, not saved)"))
        outcome = read(
            state,
            lambda session: calculate_run(
                session, rule, period, user, pool_yuan=pool, inputs_path=inputs, dry_run=True
            ),
        )
        job.progress(tr("Writing the download"))
        for index, path in enumerate(write_run_export(job.workspace / f"分配预览-{period}.xlsx", outcome)):
            job.offer(f"export{index}", path, path.name)
        return {"outcome": outcome, "villages": village_summary(outcome.lines)}

    return await run_job(ctx, job, work)


@guard("run.calculate")
async def submit(ctx: Ctx) -> Response:
    """Store the previewed run (status calculated): it waits in the checker's queue."""
    preview_job = ctx.state.jobs.get(ctx.field("job", required=True, label=tr("preview"), length_max=40), ctx.user)
    if preview_job is None or preview_job.view != "allocation" or preview_job.state != "done":
        raise FormRefused(tr("Your preview cannot be found; preview again, then submit."))
    values = preview_job.context
    rule, period, pool, inputs = values["rule"], values["period"], values["pool"] or None, values["inputs"]
    job = ctx.state.jobs.new(ctx.user, tr("Submit for review {period}", period=period), "submitted")
    user, state = ctx.user, ctx.state
    audit = note(
        ctx, "allocate", f"rule={rule.name}", f"period={period}", f"pool={pool or ''}", inputs=hashes(rule, inputs)
    )

    def work(job: Job):  # type: ignore[no-untyped-def]
        job.progress(tr("Calculating and saving the allocation"))
        return change(
            state, audit, lambda session: calculate_run(session, rule, period, user, pool_yuan=pool, inputs_path=inputs)
        )

    return await run_job(ctx, job, work)


@guard("work.read")
async def work_redirect(ctx: Ctx) -> Response:
    return redirect("/work")


ROUTES = [
    Route("/work", work, methods=["GET"]),
    Route("/work/upload/{kind}", upload, methods=["POST"]),
    Route("/work/allocate/preview", preview, methods=["POST"]),
    Route("/work/allocate/submit", submit, methods=["POST"]),
]
