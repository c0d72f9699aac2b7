"""Budget indicators (资金指标): the money a finance bureau issued under one 指标文号, which runs of
the programmes it names may spend and never beyond.

An indicator never changes once imported; what its money does is a list of movements
(``fund_movements``): a posted run draws on it, a prepared batch freezes its payables' share, the
bank's success pays it, a failure or a cancelled batch releases it (退款: the payable is owed
again), a reversed run gives its draw back, and money sent back upstream is a return (退回).
Per indicator, with drawn = Σdraw − Σundraw and frozen = Σfreeze − Σpay − Σrelease:

    issued = available + returned + awaiting + frozen + paid

where available = issued − returned − drawn (what a new run may still draw) and awaiting =
drawn − frozen − paid (drawn, owed to payees or kept in the books, not in a batch). Each of the
five is never negative, and Σfreeze = frozen + paid + released. ``IndicatorFigures.problems``
says which part of that fails.

A run draws on one indicator: the one named (``allocate --fund``), else the oldest (year, then
import order) of its programme with enough available. Its postings carry the 指标文号 as the
first word of their 资金来源 (``商财农〔2026〕12号 教育扶贫资助资金``), so the auxiliary book, the fund
trace and every payable carry it down to the household line. A programme no indicator names
keeps the old behaviour (no control) unless ``DISBURSE_FUNDS_REQUIRED`` is set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from disburse.allocations.tables import BudgetIndicatorRow, FundMovementRow
from disburse.foundation.actors import require_user
from disburse.foundation.errors import DisburseError, ImportProblem, ImportRefused
from disburse.foundation.files import file_sha256
from disburse.foundation.i18n import join_clauses, join_list, tr
from disburse.foundation.money import MoneyError, fen_from_text, format_yuan
from disburse.foundation.settings import funds_required
from disburse.importers.funds import parse_funds

REASON_LENGTH_MAX = 500
# The 资金来源 dimension of a posting holds 64 characters: the 指标文号 comes first.
FUND_SOURCE_LENGTH_MAX = 64
# The indicator's fields as stored, compared with a file's row imported again.
_COMPARED = (
    ("fund_name", "fund_name"),
    ("level", "level"),
    ("nature", "nature"),
    ("budget_line", "budget_line"),
    ("year", "year"),
    ("issued_fen", "amount"),
    ("programmes", "programmes"),
)


@dataclass(frozen=True, slots=True)
class IndicatorFigures:
    """One indicator and what its money did (fen)."""

    indicator_id: int
    document_number: str
    fund_name: str
    level: str
    nature: str
    budget_line: str
    year: int
    programmes: tuple[str, ...]
    issued_fen: int
    drawn_fen: int
    frozen_total_fen: int  # Σfreeze: every amount a batch ever froze
    paid_fen: int
    released_fen: int
    returned_fen: int

    @property
    def frozen_fen(self) -> int:
        """Frozen now: in batches the bank has not answered."""
        return self.frozen_total_fen - self.paid_fen - self.released_fen

    @property
    def available_fen(self) -> int:
        return self.issued_fen - self.returned_fen - self.drawn_fen

    @property
    def awaiting_fen(self) -> int:
        """Drawn and neither frozen nor paid: owed to payees (or kept in the books)."""
        return self.drawn_fen - self.frozen_fen - self.paid_fen

    def problems(self) -> list[str]:
        """What breaks the identity (module doc); empty when it holds."""
        parts = {
            "available": self.available_fen,
            "returned": self.returned_fen,
            "awaiting": self.awaiting_fen,
            "frozen": self.frozen_fen,
            "paid": self.paid_fen,
            "released": self.released_fen,
        }
        found = [f"{name} {format_yuan(value)} < 0" for name, value in parts.items() if value < 0]
        total = self.available_fen + self.returned_fen + self.awaiting_fen + self.frozen_fen + self.paid_fen
        if total != self.issued_fen:
            found.append(f"issued {format_yuan(self.issued_fen)} != {format_yuan(total)}")
        return found

    def arithmetic(self) -> str:
        """The available amount and how it comes about, for refusals."""
        return tr(
            "indicator {number}: available {available} yuan (issued {issued} − returned {returned} − drawn {drawn})",
            number=self.document_number,
            available=format_yuan(self.available_fen),
            issued=format_yuan(self.issued_fen),
            returned=format_yuan(self.returned_fen),
            drawn=format_yuan(self.drawn_fen),
        )


def _sums(session: Session) -> dict[int, dict[str, int]]:
    rows = session.execute(
        select(FundMovementRow.indicator_id, FundMovementRow.kind, func.sum(FundMovementRow.amount_fen)).group_by(
            FundMovementRow.indicator_id, FundMovementRow.kind
        )
    ).all()
    sums: dict[int, dict[str, int]] = {}
    for indicator_id, kind, total in rows:
        sums.setdefault(int(indicator_id), {})[kind] = int(total)
    return sums


def indicator_figures(session: Session, document_number: str | None = None) -> list[IndicatorFigures]:
    """Every indicator (or the one numbered) in import order, with its figures."""
    statement = select(BudgetIndicatorRow).order_by(BudgetIndicatorRow.id)
    if document_number is not None:
        statement = statement.where(BudgetIndicatorRow.document_number == document_number.strip())
    indicators = session.scalars(statement).all()
    sums = _sums(session) if indicators else {}
    figures = []
    for row in indicators:
        kinds = sums.get(row.id, {})
        figures.append(
            IndicatorFigures(
                row.id,
                row.document_number,
                row.fund_name,
                row.level,
                row.nature,
                row.budget_line,
                row.year,
                tuple(json.loads(row.programmes_json)),
                row.issued_fen,
                kinds.get("draw", 0) - kinds.get("undraw", 0),
                kinds.get("freeze", 0),
                kinds.get("pay", 0),
                kinds.get("release", 0),
                kinds.get("return", 0),
            )
        )
    return figures


def indicator_named(session: Session, document_number: str) -> IndicatorFigures:
    found = indicator_figures(session, document_number)
    if not found:
        raise DisburseError(
            tr("no budget indicator {number}; `disburse funds list` shows them", number=document_number.strip())
        )
    return found[0]


# --- import ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FundsImportOutcome:
    added: int
    unchanged: int
    message: str


def _changed_problems(path: str, frame, stored: dict[str, BudgetIndicatorRow]) -> list[ImportProblem]:  # type: ignore[no-untyped-def]
    """A row of an indicator already imported must say what it said: an indicator never changes
    (a reduction is a 退回, an increase comes under a new 指标文号)."""
    from disburse.importers.funds import FUNDS_SPEC

    problems = []
    for row in frame.to_dict("records"):
        old = stored.get(row["document_number"])
        if old is None:
            continue
        was = {
            "fund_name": old.fund_name,
            "level": old.level,
            "nature": old.nature,
            "budget_line": old.budget_line,
            "year": old.year,
            "issued_fen": old.issued_fen,
            "programmes": tuple(json.loads(old.programmes_json)),
        }
        for name, alias in _COMPARED:
            if row[name] == was[name]:
                continue
            shown = {"issued_fen": format_yuan, "programmes": "、".join}.get(name, str)
            problems.append(
                ImportProblem(
                    path,
                    int(row["source_row"]),
                    FUNDS_SPEC.column(alias).name_zh,
                    shown(row[name]),  # type: ignore[operator]
                    tr(
                        "indicator {number} was imported from {file} with {was}; an indicator never changes: a "
                        "reduction is `disburse funds return`, an increase comes under a new 指标文号",
                        number=row["document_number"],
                        file=old.source_file,
                        was=shown(was[name]),  # type: ignore[operator]
                    ),
                )
            )
    return problems


def import_indicators(session: Session, path: str | Path, user: str) -> FundsImportOutcome:
    """Import a budget indicator file: new 指标文号 are added, rows identical to an indicator
    already imported change nothing, and a row that differs from one is refused (with every
    other problem of the file: nothing is written)."""
    user = require_user(user)
    file = Path(path)
    parsed = parse_funds(file)
    if parsed.refused:
        raise ImportRefused(parsed.problems)
    frame = parsed.frame
    numbers = frame["document_number"].tolist()
    stored = {
        row.document_number: row
        for row in session.scalars(select(BudgetIndicatorRow).where(BudgetIndicatorRow.document_number.in_(numbers)))
    }
    problems = _changed_problems(str(file), frame, stored)
    if problems:
        raise ImportRefused(problems)
    new = frame[~frame["document_number"].isin(list(stored))]
    if len(new):
        digest = file_sha256(file)
        session.execute(
            insert(BudgetIndicatorRow),
            [
                {
                    "document_number": row["document_number"],
                    "fund_name": row["fund_name"],
                    "level": row["level"],
                    "nature": row["nature"],
                    "budget_line": row["budget_line"],
                    "year": int(row["year"]),
                    "issued_fen": int(row["issued_fen"]),
                    "programmes_json": json.dumps(list(row["programmes"]), ensure_ascii=False),
                    "source_file": file.name[:500],
                    "file_sha256": digest,
                    "source_row": int(row["source_row"]),
                    "imported_by": user,
                }
                for row in new.to_dict("records")
            ],
        )
    message = tr(
        "{file}: {added} indicator(s) added, {unchanged} already imported and unchanged",
        file=file.name,
        added=len(new),
        unchanged=len(stored),
    )
    return FundsImportOutcome(len(new), len(stored), message)


# --- runs --------------------------------------------------------------------------------------
def programme_indicators(session: Session, programmes: tuple[str, ...]) -> list[IndicatorFigures]:
    """The indicators that may pay any of ``programmes``, oldest first (year, then import)."""
    wanted = set(programmes)
    found = [figures for figures in indicator_figures(session) if wanted & set(figures.programmes)]
    return sorted(found, key=lambda figures: (figures.year, figures.indicator_id))


def _refuse_short(figures: IndicatorFigures, need_fen: int) -> None:
    if need_fen > figures.available_fen:
        raise DisburseError(
            tr(
                "{arithmetic}; this run needs {need} yuan",
                arithmetic=figures.arithmetic(),
                need=format_yuan(need_fen),
            )
        )


def choose_indicator(
    session: Session, programmes: tuple[str, ...], need_fen: int, named: str | None
) -> IndicatorFigures | None:
    """The indicator a run of ``programmes`` needing ``need_fen`` draws on: ``named``, else the
    oldest with enough available; None when no indicator names the programme (and the setting
    does not require one). Refuses, with the arithmetic, when the money is not there."""
    if named is not None:
        figures = indicator_named(session, named)
        if not set(programmes) & set(figures.programmes):
            raise DisburseError(
                tr(
                    "indicator {number} may pay {allowed}, not this run's programme {programme}",
                    number=figures.document_number,
                    allowed="、".join(figures.programmes),
                    programme=join_list(programmes),
                )
            )
        _refuse_short(figures, need_fen)
        return figures
    candidates = programme_indicators(session, programmes)
    if not candidates:
        if funds_required():
            raise DisburseError(
                tr(
                    "no budget indicator may pay programme {programme}, and DISBURSE_FUNDS_REQUIRED asks for one; "
                    "import its indicator (`disburse funds import FILE`)",
                    programme=join_list(programmes),
                )
            )
        return None
    for figures in candidates:
        if figures.available_fen >= need_fen:
            return figures
    raise DisburseError(
        tr(
            "no indicator of programme {programme} has {need} yuan available: {indicators}",
            programme=join_list(programmes),
            need=format_yuan(need_fen),
            indicators=join_clauses([figures.arithmetic() for figures in candidates]),
        )
    )


def fund_source_with(document_number: str, fund_source: str) -> str:
    """The 资金来源 of a run drawing on an indicator: its 指标文号, a space, the rule's fund source."""
    return f"{document_number} {fund_source}"[:FUND_SOURCE_LENGTH_MAX]


def run_draw_fen(session: Session, run_id: int) -> int:
    """What a run drew (net of a reversal's give-back); 0 for a run on no indicator."""
    rows = session.execute(
        select(FundMovementRow.kind, func.sum(FundMovementRow.amount_fen))
        .where(FundMovementRow.run_id == run_id, FundMovementRow.kind.in_(("draw", "undraw")))
        .group_by(FundMovementRow.kind)
    ).all()
    sums = {kind: int(total) for kind, total in rows}
    return sums.get("draw", 0) - sums.get("undraw", 0)


def draw_for_run(session: Session, run_id: int, inputs_description: str, amount_fen: int, user: str) -> str | None:
    """At posting: the run's draw on the indicator it was calculated against (its inputs name
    it), checked once more against what is available now. Returns the 指标文号, or None."""
    number = json.loads(inputs_description).get("fund")
    if number is None or amount_fen == 0:
        return number
    figures = indicator_named(session, number)
    _refuse_short(figures, amount_fen)
    already = session.scalar(
        select(func.count()).where(FundMovementRow.run_id == run_id, FundMovementRow.kind == "draw")
    )
    assert not already, f"run {run_id} has drawn already"
    session.execute(
        insert(FundMovementRow).values(
            indicator_id=figures.indicator_id, kind="draw", amount_fen=amount_fen, run_id=run_id, created_by=user
        )
    )
    return number


def undraw_for_run(session: Session, run_id: int, user: str) -> None:
    """At a run's reversal: its draw goes back to the indicator (its payables are withdrawn)."""
    row = session.execute(
        select(FundMovementRow.indicator_id, FundMovementRow.amount_fen).where(
            FundMovementRow.run_id == run_id, FundMovementRow.kind == "draw"
        )
    ).first()
    if row is not None:
        session.execute(
            insert(FundMovementRow).values(
                indicator_id=row.indicator_id, kind="undraw", amount_fen=row.amount_fen, run_id=run_id, created_by=user
            )
        )


# --- 退回 ---------------------------------------------------------------------------------------
def return_funds(session: Session, document_number: str, amount_yuan: str, reason: str, user: str) -> str:
    """退回: send ``amount_yuan`` of an indicator's available money back upstream."""
    user = require_user(user)
    reason = (reason or "").strip()
    if not reason:
        raise DisburseError(tr("a return (退回) needs its reason (--reason)"))
    try:
        amount_fen = fen_from_text(amount_yuan)
    except MoneyError as error:
        raise DisburseError(tr("{amount}: {error}", amount=amount_yuan, error=error)) from None
    if amount_fen <= 0:
        raise DisburseError(tr("the amount returned must be above 0, not {amount}", amount=format_yuan(amount_fen)))
    figures = indicator_named(session, document_number)
    if amount_fen > figures.available_fen:
        raise DisburseError(
            tr(
                "{arithmetic}; {amount} yuan cannot be returned: only what no run has drawn can go back",
                arithmetic=figures.arithmetic(),
                amount=format_yuan(amount_fen),
            )
        )
    session.execute(
        insert(FundMovementRow).values(
            indicator_id=figures.indicator_id,
            kind="return",
            amount_fen=amount_fen,
            reason=reason[:REASON_LENGTH_MAX],
            created_by=user,
        )
    )
    return tr(
        "returned {amount} yuan of indicator {number}; {available} yuan available now",
        amount=format_yuan(amount_fen),
        number=figures.document_number,
        available=format_yuan(figures.available_fen - amount_fen),
    )


def indicator_movements(session: Session, indicator_id: int) -> list[FundMovementRow]:
    return list(
        session.scalars(
            select(FundMovementRow).where(FundMovementRow.indicator_id == indicator_id).order_by(FundMovementRow.id)
        )
    )
