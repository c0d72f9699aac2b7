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

IMPORT_KINDS_ZH = {"register": "户籍名册", "shares": "收益份额登记", "settlement": "电费结算单", "vouchers": "记账凭证"}
STAGES_ZH = {
    "reading and validating": "正在读取并校验文件",
    "comparing with the register in force": "正在与现行名册比对",
    "writing": "正在写入",
    "reading": "正在读取文件",
    "validating": "正在校验",
    "posting": "正在记账",
}
RUNS_SHOWN_MAX = 50
POOL_TEXT_LENGTH_MAX = 20


def _progress_zh(job: Job):  # type: ignore[no-untyped-def]
    return lambda stage: job.progress(STAGES_ZH.get(stage, stage))


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
        title="月度工作",
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
    if kind not in IMPORT_KINDS_ZH:
        raise FormRefused("没有这种文件。")
    as_of = parse_date(ctx.field("as_of", length_max=10), "名册日期")
    entity = ctx.field("entity", length_max=40)
    if kind == "vouchers" and not entity:
        raise FormRefused("请选择记账单位。")
    job = ctx.state.jobs.new(ctx.user, f"导入{IMPORT_KINDS_ZH[kind]}", "import")
    path = save_upload(
        ctx.upload("file"), job.workspace / "upload", TABLE_SUFFIXES, ctx.state.settings.upload_bytes_max
    )
    user, state = ctx.user, ctx.state
    audit = note(
        ctx, f"import {kind}", f"file={path.name}", f"as_of={as_of or ''}", f"entity={entity}", inputs=hashes(path)
    )
    job.context.update(kind_zh=IMPORT_KINDS_ZH[kind], file_name=path.name)

    def work(job: Job):  # type: ignore[no-untyped-def]
        job.progress("正在读取并校验文件")
        try:
            if kind == "vouchers":
                from disburse.importers.journal import parse_vouchers

                batch, file_hash = parse_vouchers(path, entity)
                job.progress("正在提交审核")
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

    period = parse_period(ctx.field("period", required=True, label="期间", length_max=7))
    pool = ctx.field("pool", length_max=POOL_TEXT_LENGTH_MAX) or None
    from_run = ctx.field("from_run", length_max=12)
    job = ctx.state.jobs.new(ctx.user, f"分配预览 {period}", "allocation")
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
        job.progress("正在计算分配（预览，不保存）")
        outcome = read(
            state,
            lambda session: calculate_run(
                session, rule, period, user, pool_yuan=pool, inputs_path=inputs, dry_run=True
            ),
        )
        job.progress("正在生成下载文件")
        for index, path in enumerate(write_run_export(job.workspace / f"分配预览-{period}.xlsx", outcome)):
            job.offer(f"export{index}", path, path.name)
        return {"outcome": outcome, "villages": village_summary(outcome.lines)}

    return await run_job(ctx, job, work)


@guard("run.calculate")
async def submit(ctx: Ctx) -> Response:
    """Store the previewed run (status calculated): it waits in the checker's queue."""
    preview_job = ctx.state.jobs.get(ctx.field("job", required=True, label="预览", length_max=40), ctx.user)
    if preview_job is None or preview_job.view != "allocation" or preview_job.state != "done":
        raise FormRefused("找不到您的这次预览；请重新预览后再提交。")
    values = preview_job.context
    rule, period, pool, inputs = values["rule"], values["period"], values["pool"] or None, values["inputs"]
    job = ctx.state.jobs.new(ctx.user, f"提交审核 {period}", "submitted")
    user, state = ctx.user, ctx.state
    audit = note(
        ctx, "allocate", f"rule={rule.name}", f"period={period}", f"pool={pool or ''}", inputs=hashes(rule, inputs)
    )

    def work(job: Job):  # type: ignore[no-untyped-def]
        job.progress("正在计算并保存分配")
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
