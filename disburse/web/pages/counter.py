"""窗口查询: find a household by 户编号, 姓名 or 身份证号 (whole, or its last six characters);
its page with members, status, masked card and every payment of a year with what happens next;
the A4 明白卡 that ties to the ledger to the fen."""

from __future__ import annotations

import datetime as dt

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from disburse.foundation.errors import DisburseError
from disburse.foundation.i18n import tr, tr_noop
from disburse.foundation.masking import mask_identifier
from disburse.payouts.status import STATE_NAMES, household_status
from disburse.registry.counter import HOUSEHOLD_ID_SHAPE, household_profile, search_households
from disburse.reports.household import household_statement, statement_rows
from disburse.web.base import Ctx, guard, in_thread, note, read, refusal_page, render
from disburse.web.uploads import FormRefused

# A payment's state and what happens next, as the counter tells a household (translated when shown).
NEXT_STEPS = {
    "due": tr_noop("Recorded as payable; it goes into the next batch."),
    "held": tr_noop(
        "The last payment failed and the account is to be corrected; once the cashier changes the card it is "
        "paid again with the next batch."
    ),
    "in_batch": tr_noop("In a batch; the bank file is written once the batch is reviewed."),
    "in_transit": tr_noop("The bank file has been sent; waiting for the bank's return file to confirm payment."),
    "paid": tr_noop("Paid; nothing to do."),
    "failed": tr_noop(
        "Returned by the bank; the money is still payable. The head of household should check the card "
        "account number; it is paid again after the card is changed."
    ),
}
YEARS_BACK_MAX = 30


def state_zh(state: str) -> str:
    """A payment state's name in the page's language (the code itself when it has none)."""
    return STATE_NAMES.get(state, state)


def next_step_zh(state: str) -> str:
    return tr(NEXT_STEPS[state]) if state in NEXT_STEPS else ""


def _year(ctx: Ctx) -> int | None:
    text = ctx.request.query_params.get("year", "").strip()
    if not text:
        return None
    this_year = dt.date.today().year
    if not text.isdigit() or not this_year - YEARS_BACK_MAX <= int(text) <= this_year + 1:
        raise FormRefused(
            tr(
                "Year “{text}” is not right: give a year from {first} to {last}.",
                text=text,
                first=this_year - YEARS_BACK_MAX,
                last=this_year + 1,
            )
        )
    return int(text)


def _household_id(ctx: Ctx) -> str:
    household_id = ctx.request.path_params["household_id"]
    if not HOUSEHOLD_ID_SHAPE.match(household_id):
        raise FormRefused(tr("A household number is 16 digits."))
    return household_id


@guard("counter.read")
async def counter(ctx: Ctx) -> Response:
    query = ctx.field("q", length_max=40)
    found = await in_thread(read, ctx.state, lambda session: search_households(session, query)) if query else []
    return render(ctx, "counter.html", title=tr("Counter"), query=query, found=found)


@guard("counter.read")
async def counter_search(ctx: Ctx) -> Response:
    """Search as you type: the same search, as JSON, names and numbers masked."""
    query = ctx.field("q", length_max=40)
    found = (
        await in_thread(read, ctx.state, lambda session: search_households(session, query)) if len(query) >= 1 else []
    )
    return JSONResponse(
        [
            {
                "household_id": item.household_id,
                "head_name": item.head_name or "",
                "village": f"{item.town}{item.village}",
                "status": item.poverty_status if item.in_register else tr("no longer in the register"),
                "matched": f"{item.matched_name or ''} {item.matched_relation or ''} "
                f"{mask_identifier(item.matched_id_number) or ''}".strip(),
            }
            for item in found
        ],
        headers={"Cache-Control": "no-store"},
    )


def _household_values(session, household_id: str):  # type: ignore[no-untyped-def]
    profile = household_profile(session, household_id)
    if profile is None:
        return None
    return profile, household_status(session, household_id)


async def _household(ctx: Ctx, unmasked: bool) -> Response:
    household_id = _household_id(ctx)
    year = _year(ctx)
    found = await in_thread(read, ctx.state, lambda session: _household_values(session, household_id))
    if found is None:
        return refusal_page(
            ctx, 404, tr("No such household"), tr("The register has no household {household}.", household=household_id)
        )
    profile, status = found
    lines = [line for line in status.lines if year is None or line.period.startswith(str(year))]
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.state] = totals.get(line.state, 0) + line.amount_fen
    years = sorted({line.period[:4] for line in status.lines if line.period}, reverse=True)
    return render(
        ctx,
        "household.html",
        title=tr("Household {household}", household=household_id),
        profile=profile,
        lines=lines,
        totals=totals,
        year=year,
        years=years,
        unmasked=unmasked,
        may_unmask=ctx.may("personal.unmask"),
        state_zh=state_zh,
        next_step_zh=next_step_zh,
    )


@guard("counter.read")
async def household(ctx: Ctx) -> Response:
    return await _household(ctx, unmasked=False)


@guard("personal.unmask")
async def household_unmasked(ctx: Ctx) -> Response:
    """The same page with full resident IDs and card numbers, asked for by a button and logged."""
    household_id = _household_id(ctx)
    reason = ctx.field("reason", required=True, label=tr("the reason for seeing the full numbers"), length_max=200)
    ctx.state.audit.put(note(ctx, "counter unmask", f"household={household_id}", message=reason))
    return await _household(ctx, unmasked=True)


@guard("counter.read")
async def card(ctx: Ctx) -> Response:
    """The printable 明白卡 (A4), from the same statement as `disburse report household`."""
    household_id = _household_id(ctx)
    year = _year(ctx)
    try:
        statement = await in_thread(read, ctx.state, lambda session: household_statement(session, household_id, year))
    except DisburseError as error:
        return refusal_page(
            ctx,
            404,
            tr("No such household"),
            tr("There is no statement card for household {household}.", household=household_id),
            detail=str(error),
        )
    ctx.state.audit.put(note(ctx, "counter card", f"household={household_id}", f"year={year or ''}"))
    return render(
        ctx,
        "card.html",
        title=tr("Statement card {household}", household=household_id),
        statement=statement,
        rows=statement_rows(statement),
        state_zh=state_zh,
        printed_on=dt.date.today(),
    )


ROUTES = [
    Route("/counter", counter, methods=["GET"]),
    Route("/counter/search", counter_search, methods=["GET"]),
    Route("/counter/households/{household_id}", household, methods=["GET"]),
    Route("/counter/households/{household_id}", household_unmasked, methods=["POST"]),
    Route("/counter/households/{household_id}/card", card, methods=["GET"]),
]
