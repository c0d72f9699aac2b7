"""出纳 (出纳): prepare a batch from the approved payables, download the bank file of a chosen
profile, upload the bank's return file, see the failures, and re-issue after a card is fixed
(the failed payables are owed again; the next batch pays them to the new card)."""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse, Response
from starlette.routing import Route

from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr
from disburse.ledger.service import list_entities
from disburse.payouts.approvals import batch_files, recent_batches
from disburse.payouts.bank_layout import load_payment_profiles
from disburse.payouts.sends import batch_results, failure_text
from disburse.payouts.service import export_batch, fix_account, fix_list, prepare_batch
from disburse.payouts.settlement import apply_return_file
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
from disburse.web.pages.review import _reference
from disburse.web.uploads import TABLE_SUFFIXES, FormRefused, save_upload

ACCOUNT_TEXT_LENGTH_MAX = 40


def _profiles() -> dict[str, object]:
    return dict(load_payment_profiles())


def _overview(session):  # type: ignore[no-untyped-def]
    batches = recent_batches(session)
    failures = fix_list(session).to_dict("records")
    for row in failures:
        row["reason_text"] = failure_text(row["reason_code"], row["reason"])
    return {
        "entities": list_entities(session),
        "batches": batches,
        "results": batch_results(session, [(batch.id, batch.status) for batch, _code in batches]),
        "failures": failures,
    }


@guard("cashier.read")
async def cashier(ctx: Ctx) -> Response:
    overview = await in_thread(read, ctx.state, _overview)
    return render(
        ctx,
        "cashier.html",
        title=tr("Cashier"),
        profiles=_profiles(),
        jobs=ctx.state.jobs.of_owner(ctx.user),
        may_pay=ctx.may("batch.export"),
        may_prepare=ctx.may("batch.prepare"),
        may_fix=ctx.may("card.fix"),
        **overview,
    )


@guard("batch.prepare")
async def prepare(ctx: Ctx) -> Response:
    entity = ctx.field("entity", required=True, label=tr("paying entity"), length_max=40)
    programme = ctx.field("programme", length_max=200) or None
    period_text = ctx.field("period", length_max=7)
    period = parse_period(period_text) if period_text else None
    job = ctx.state.jobs.new(ctx.user, tr("Prepare a batch for {entity}", entity=entity), "prepared")
    user, state = ctx.user, ctx.state
    audit = note(ctx, "payout prepare", f"entity={entity}", f"programme={programme or ''}", f"period={period or ''}")

    def work(job: Job):  # type: ignore[no-untyped-def]
        job.progress(tr("Adding up the payables and preparing the batch"))
        return change(
            state, audit, lambda session: prepare_batch(session, entity, user, programme=programme, period=period)
        )

    return await run_job(ctx, job, work)


def _export_path(ctx: Ctx, reference: str, profile_name: str, file_type: str) -> Path:
    directory = ctx.state.settings.files_directory / "batches" / reference
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{reference}-{profile_name}.{file_type}"


@guard("batch.export")
async def export(ctx: Ctx) -> Response:
    reference = _reference(ctx)
    profile_name = ctx.field("profile", required=True, label=tr("bank layout"), length_max=40)
    profiles = _profiles()
    if profile_name not in profiles:
        raise FormRefused(tr("There is no bank layout named “{profile}”.", profile=profile_name))
    on = parse_date(ctx.field("date", length_max=10), tr("posting date"))
    out = _export_path(ctx, reference, profile_name, profiles[profile_name].batch_payment.file_type)  # type: ignore[attr-defined]
    job = ctx.state.jobs.new(ctx.user, tr("Export the bank file of {batch}", batch=reference), "exported")
    user, state = ctx.user, ctx.state
    audit = note(ctx, "payout export", f"batch={reference}", f"bank={profile_name}", f"date={on or ''}")

    def work(job: Job):  # type: ignore[no-untyped-def]
        job.progress(tr("Writing the bank file and posting"))
        outcome = change(
            state, audit, lambda session: export_batch(session, reference, profile_name, out, user, today=on)
        )
        for index, file in enumerate(outcome.files):
            path = Path(file.file_name)
            if path.is_file():
                job.offer(f"bank{index}", path, path.name)
        return outcome

    return await run_job(ctx, job, work)


@guard("cashier.read")
async def bank_file(ctx: Ctx) -> Response:
    """A bank file recorded for a batch, served only from the files folder and only while it is
    the file the batch recorded (same SHA-256)."""
    from disburse.foundation.files import file_sha256

    reference = _reference(ctx)
    number = ctx.request.path_params["number"]
    try:
        files = await in_thread(read, ctx.state, lambda session: batch_files(session, reference))
    except DisburseError:
        return refusal_page(ctx, 404, tr("Batch not found"), tr("There is no batch {batch}.", batch=reference))
    root = ctx.state.settings.files_directory
    for file in files:
        path = Path(file.file_name).resolve()
        if str(file.file_number) == number and path.is_relative_to(root) and path.is_file():
            if await in_thread(file_sha256, path) != file.sha256:
                return refusal_page(
                    ctx,
                    409,
                    tr("The file has been changed"),
                    tr(
                        "{file} does not match the SHA-256 recorded when it was exported and is not served; "
                        "please contact the administrator.",
                        file=path.name,
                    ),
                )
            ctx.state.audit.put(note(ctx, "payout download", f"batch={reference}", f"file={path.name}"))
            return FileResponse(path, filename=path.name)
    return refusal_page(
        ctx,
        404,
        tr("File not found"),
        tr(
            "Batch {batch} has no bank file number {number} (or the file is not in this server's files directory).",
            batch=reference,
            number=number,
        ),
    )


@guard("returns.apply")
async def returns(ctx: Ctx) -> Response:
    profile_name = ctx.field("profile", required=True, label=tr("bank layout"), length_max=40)
    on = parse_date(ctx.field("date", length_max=10), tr("settlement date"))
    batch = ctx.field("batch", length_max=40) or None
    job = ctx.state.jobs.new(ctx.user, tr("Import bank returns"), "returns")
    path = save_upload(
        ctx.upload("file"), job.workspace / "upload", TABLE_SUFFIXES, ctx.state.settings.upload_bytes_max
    )
    user, state = ctx.user, ctx.state
    audit = note(
        ctx, "payout returns", f"file={path.name}", f"bank={profile_name}", f"date={on or ''}", inputs=hashes(path)
    )

    def work(job: Job):  # type: ignore[no-untyped-def]
        from disburse.web.pages.work import offer_problems

        job.progress(tr("Reading the return file and posting"))
        try:
            return change(
                state, audit, lambda session: apply_return_file(session, path, profile_name, user, on=on, batch=batch)
            )
        except Exception as error:
            if getattr(error, "problems", None):
                offer_problems(job, error.problems)  # type: ignore[attr-defined]
            raise

    return await run_job(ctx, job, work)


@guard("card.fix")
async def fix(ctx: Ctx) -> Response:
    payee = ctx.field("payee", required=True, label=tr("household number or resident ID"), length_max=64)
    account = ctx.field("account", required=True, label=tr("new account number"), length_max=ACCOUNT_TEXT_LENGTH_MAX)
    name = ctx.field("name", length_max=100) or None
    bank_name = ctx.field("bank_name", length_max=100) or None
    reason = ctx.field("reason", required=True, label=tr("the reason for the new card"), length_max=500)
    try:
        outcome = await in_thread(
            change,
            ctx.state,
            note(ctx, "payout fix-account", f"payee={payee}", message=reason),
            lambda session: fix_account(
                session, payee, account, ctx.user, account_name=name, bank_name=bank_name, reason=reason
            ),
        )
    except DisburseError as error:
        return refusal_page(ctx, 409, tr("New card refused"), tr("Nothing was changed."), detail=str(error))
    ctx.flash(
        "ok",
        tr(
            "The account of {payee} is corrected; {count} failed payments go out again with the next batch.",
            payee=payee,
            count=outcome.resolved_count,
        ),
    )
    return redirect("/cashier")


ROUTES = [
    Route("/cashier", cashier, methods=["GET"]),
    Route("/cashier/prepare", prepare, methods=["POST"]),
    Route("/cashier/batches/{reference}/export", export, methods=["POST"]),
    Route("/cashier/batches/{reference}/files/{number}", bank_file, methods=["GET"]),
    Route("/cashier/returns", returns, methods=["POST"]),
    Route("/cashier/fix-account", fix, methods=["POST"]),
]
