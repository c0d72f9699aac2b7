"""Rule files: YAML validated by pydantic, three kinds, nothing executable.

``load_rule(path_or_text) -> Rule`` reads one YAML document and returns a ``PvRevenueRule``,
``CoopDividendRule`` or ``SubsidyRule`` (a union discriminated on ``kind``). Unknown keys and
bad values are refused with a ``RuleError`` listing every problem with its path inside the file
(``parts.wages.percent: ...``). The exact text and its SHA-256 stay on the rule
(``rule.text``, ``rule.sha256``) so a run can store both.

Units in rule files, converted exactly once, here:
- amounts are yuan written as strings or whole numbers (``"1500"``, ``"0.03"`` only where a
  per-watt price is meant); YAML floats are refused because ``0.1`` is not exact in binary;
- rates are strings with a unit: ``"3%"``, ``"2.5%"`` or ``"300 bps"``; they become
  ``Fraction`` (3% → 3/100);
- capacities are kW strings with at most 4 decimals (``"300"``), stored as ``units_e4``.

Eligibility is a list of filters, all of which must hold:
``{field: household.poverty_status, op: in, value: [未脱贫, 返贫]}``. A field is
``household.<column>`` (the households frame), ``person.<column>`` (the people frame; for
person-based benefits), ``any_member.<column>`` (true when a living member matches) or
``input.<column>`` (a column of the run's input list, e.g. the kind of house-repair work, or a
roster's or hospital bill's row). Eligibility applies to every rule kind; a PV or dividend rule
tests households (``household.`` and ``any_member.``), since its holders are households.

Facts the register already holds need not be repeated: a PV rule without ``capacity_kw`` takes
the station's declared capacity, and a rule that states one the register contradicts is refused
when it runs (``allocations.runs``), as is one naming a station, cooperative or village that the
register does not know.
"""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from disburse.allocations.names import filter_description
from disburse.allocations.review_chain import ReviewChain
from disburse.allocations.split import percent_text
from disburse.foundation.i18n import join_list, tr
from disburse.foundation.money import MoneyError, fen_from_decimal, fen_from_text
from disburse.foundation.validation import problem_lines, validation_problems
from disburse.foundation.yaml_text import load_yaml

# The example rules shipped with the package (one per rule kind).
EXAMPLES_DIRECTORY = Path(__file__).with_name("examples")

RULE_TEXT_CHARS_MAX = 200_000
FILTERS_MAX = 50
TABLE_ENTRIES_MAX = 200

HOUSEHOLD_COLUMNS = frozenset(
    {
        "household_id", "village_code", "county", "town", "village", "household_type",
        "poverty_status", "enrolled_on", "exited_on", "head_name", "head_id_number",
        "bank_name", "account_no", "member_count",
    }
)  # fmt: skip
PERSON_COLUMNS = frozenset(
    {
        "id_number", "household_id", "name", "relation", "sex", "birth_date", "school_stage",
        "boarding", "health", "died_on", "person_account_no",
    }
)  # fmt: skip
FILTER_SCOPES = ("household", "person", "any_member", "input")
HOLDER_FILTER_SCOPES = ("household", "any_member")


class RuleError(ValueError):
    """A rule file that was refused; ``problems`` lists ``(path, message)`` pairs."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        lines = [f"{source}: {line}" for line in problem_lines(problems)]
        super().__init__("\n".join(lines))


# --- exact scalar types -----------------------------------------------------------------------


def _refuse_float(value: object, what: str) -> None:
    if isinstance(value, float):
        raise ValueError(
            tr(
                'write {what} as a quoted string (e.g. "{value}"): {quoted} is a float',
                what=what,
                value=value,
                quoted=repr(value),
            )
        )
    if isinstance(value, bool):
        raise ValueError(tr("{value} is not {what}", value=repr(value), what=what))


def _parse_rate(value: object) -> Fraction:
    """``"3%"`` → 3/100, ``"2.5%"`` → 1/40, ``"300 bps"`` → 3/100; a bare number is refused."""
    if isinstance(value, Fraction):
        return value
    _refuse_float(value, tr("a rate"))
    if not isinstance(value, str):
        raise ValueError(tr('write a rate as "3%" or "300 bps", not {value}', value=repr(value)))
    text = value.strip().replace(" ", "")
    try:
        if text.endswith("%"):
            rate = Fraction(Decimal(text[:-1])) / 100
        elif text.lower().endswith("bps"):
            rate = Fraction(int(text[:-3]), 10_000)
        else:
            raise ValueError
    except (ValueError, InvalidOperation):
        raise ValueError(tr('write a rate as "3%" or "300 bps", not {value}', value=repr(value))) from None
    if not 0 <= rate <= 1:
        raise ValueError(tr("rate {value} must lie between 0% and 100%", value=repr(value)))
    return rate


def _parse_yuan(value: object) -> int:
    """A yuan amount (string or whole number) as int fen, through the money module."""
    _refuse_float(value, tr("an amount of yuan"))
    try:
        if isinstance(value, int):
            fen = fen_from_decimal(Decimal(value))
        elif isinstance(value, str):
            fen = fen_from_text(value)
        else:
            raise ValueError(tr("{value} is not an amount of yuan", value=repr(value)))
    except MoneyError as error:
        raise ValueError(str(error)) from None
    if fen < 0:
        raise ValueError(tr("amount {value} must not be negative", value=repr(value)))
    return fen


def _parse_yuan_exact(value: object) -> Fraction:
    """A yuan price that may have more than two decimals (``"0.035"`` per W), as Fraction fen."""
    _refuse_float(value, tr("a price in yuan"))
    if not isinstance(value, (str, int)):
        raise ValueError(tr("{value} is not a price in yuan", value=repr(value)))
    try:
        decimal = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(tr("{value} is not a price in yuan", value=repr(value))) from None
    if not decimal.is_finite() or decimal < 0 or decimal > 1000:
        raise ValueError(tr("price {value} must be between 0 and 1000 yuan", value=repr(value)))
    return Fraction(decimal) * 100


def _parse_units(value: object) -> int:
    """kW or shares with at most 4 decimals, as integer ten-thousandths."""
    _refuse_float(value, tr("a number of kW"))
    try:
        decimal = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(tr("{value} is not a number", value=repr(value))) from None
    scaled = decimal * 10_000
    if not decimal.is_finite() or scaled != scaled.to_integral_value() or decimal <= 0:
        raise ValueError(tr("{value} must be positive with at most 4 decimals", value=repr(value)))
    return int(scaled)


RateFraction = Annotated[Fraction, PlainValidator(_parse_rate), PlainSerializer(str)]
AmountFen = Annotated[int, PlainValidator(_parse_yuan)]
PriceFen = Annotated[Fraction, PlainValidator(_parse_yuan_exact), PlainSerializer(str)]
UnitsE4 = Annotated[int, PlainValidator(_parse_units)]
AccountCode = Annotated[str, Field(pattern=r"^[1-5]\d{2}(\.\d{2,4})*$")]
Identifier = Annotated[str, Field(min_length=1, max_length=64)]


class StrictModel(BaseModel):
    """A rule part: unknown keys refused, values never coerced silently, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, populate_by_name=False)


# --- eligibility ------------------------------------------------------------------------------

FilterOp = Literal["in", "not_in", "eq", "ne", "gte", "lte", "is_null", "not_null"]


class Filter(StrictModel):
    """One declarative condition: ``field op value``; all filters of a list must hold."""

    field: str
    op: FilterOp
    value: Any = None

    @model_validator(mode="after")
    def _check(self) -> "Filter":
        scope, _, column = self.field.partition(".")
        if scope not in FILTER_SCOPES or not column:
            scopes = join_list(scope + ".<column>" for scope in FILTER_SCOPES)
            raise ValueError(tr("field {field} must be one of {scopes}", field=repr(self.field), scopes=scopes))
        known = {"household": HOUSEHOLD_COLUMNS, "person": PERSON_COLUMNS,
                 "any_member": PERSON_COLUMNS}.get(scope)  # fmt: skip
        if known is not None and column not in known:
            raise ValueError(tr("field {field}: unknown column {column}", field=repr(self.field), column=repr(column)))
        if self.op in ("in", "not_in"):
            if not isinstance(self.value, list) or not self.value:
                raise ValueError(tr("op {op} needs a non-empty list as value", op=repr(self.op)))
        elif self.op in ("is_null", "not_null"):
            if self.value is not None:
                raise ValueError(tr("op {op} takes no value", op=repr(self.op)))
        elif self.value is None or isinstance(self.value, (list, dict)):
            raise ValueError(tr("op {op} needs one value", op=repr(self.op)))
        if isinstance(self.value, float) or (
            isinstance(self.value, list) and any(isinstance(item, float) for item in self.value)
        ):
            raise ValueError(tr("write numbers in filters as whole numbers or quoted strings"))
        return self

    def describe(self) -> str:
        """The filter as a person reads it: ``household.poverty_status in [未脱贫, 返贫]``, in
        Chinese ``户.贫困状态 为 未脱贫、返贫 之一`` (``names.filter_description``)."""
        return filter_description(self.field, self.op, self.value)


Eligibility = Annotated[list[Filter], Field(max_length=FILTERS_MAX)]


def _refuse_scopes(filters: list[Filter], allowed: tuple[str, ...], what: str) -> None:
    """Refuse filters whose scope the rule kind has no data for (checked when the rule loads)."""
    for item in filters:
        scope = item.field.partition(".")[0]
        if scope not in allowed:
            raise ValueError(
                tr(
                    "eligibility field {field}: {what} can test only {scopes}",
                    field=repr(item.field),
                    what=what,
                    scopes=join_list(f"{name}.<column>" for name in allowed),
                )
            )


# --- rule base --------------------------------------------------------------------------------


NOTICE_DAYS_DEFAULT = 7
NOTICE_DAYS_MAX = 60


class NoticeSetting(StrictModel):
    """``notice:`` of a rule: whether its runs are publicly posted (公示) before payment, and for
    how many days. ``{days: 7}`` (or ``{required: true}``) asks for notice; ``{required: false,
    reason: "..."}`` records why a programme needs none (the reason is mandatory then)."""

    required: bool = True
    days: int = Field(default=NOTICE_DAYS_DEFAULT, ge=1, le=NOTICE_DAYS_MAX)
    reason: str | None = Field(default=None, min_length=1, max_length=500)

    @model_validator(mode="after")
    def _check(self) -> "NoticeSetting":
        if not self.required and self.reason is None:
            raise ValueError(tr("a rule that needs no notice (required: false) says why in reason"))
        return self


RECHECK_CHOICES = ("hold", "refuse")


class RecheckSetting(StrictModel):
    """``recheck:`` of a rule: what ``payout prepare`` does with a line whose recipient the
    register as of that day shows dead, gone from the register or without the run's card.
    ``{changes: hold}`` (the default) leaves those lines out and holds their money on 211.90
    待决定款项; ``{changes: refuse}`` refuses the batch, naming them (and ``runs approve``
    refuses the run)."""

    changes: Literal["hold", "refuse"] = "hold"


class RuleBase(StrictModel):
    """Fields every rule has; the source text and its hash ride along privately."""

    name: str = Field(min_length=1, max_length=200)
    paying_entity: Identifier
    fund_source: str = Field(min_length=1, max_length=200)
    # The programme a budget indicator's 可用于项目 names (allocations.funds): a subsidy's is its
    # programme key; a PV or dividend rule may name one, else its rule name stands for it.
    programme: str | None = Field(default=None, min_length=1, max_length=200)
    eligibility: Eligibility = Field(default_factory=list)
    # None: the rule says nothing; whether notice is then required is a setting
    # (DISBURSE_NOTICE_REQUIRED, off for now) so that existing rules keep paying as they did.
    notice: NoticeSetting | None = None
    # None: one approval by a second person; else the levels a run climbs (allocations.review_chain).
    review: ReviewChain | None = None
    # Eligibility checked again at approval and at prepare (issue #14 item 4).
    recheck: RecheckSetting = Field(default_factory=RecheckSetting)
    _text: str = PrivateAttr(default="")
    _sha256: str = PrivateAttr(default="")

    @property
    def text(self) -> str:
        """The exact rule text as loaded (empty for a rule built in code)."""
        return self._text

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the UTF-8 rule text, for storing with a run."""
        return self._sha256

    @property
    def programme_names(self) -> tuple[str, ...]:
        """The names a budget indicator may give this rule's programme: its programme, its name."""
        return tuple(dict.fromkeys(name for name in (self.programme, self.name) if name))


# --- PV revenue -------------------------------------------------------------------------------


class PvDeduction(StrictModel):
    """A cost taken off the revenue before sharing; exactly one basis.

    - ``per_watt_year_yuan``: yuan per W of station capacity per year (O&M, e.g. ``"0.03"``);
    - ``fixed_per_year_yuan``: yuan per year (land rent, insurance premium);
    - ``percent_of_revenue``: a rate of the settlement's gross revenue (not of what is left).
    Yearly amounts are prorated to the service period: months/12 for whole calendar months
    (every settlement period is a month or a quarter), days/365 otherwise.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    # The name a person reads (运维费); without it the usual name of ``name`` (names.DEDUCTION_NAMES).
    label: str | None = Field(default=None, min_length=1, max_length=40)
    account_code: AccountCode
    expense_account_code: AccountCode
    per_watt_year_fen: PriceFen | None = Field(default=None, alias="per_watt_year_yuan")
    fixed_per_year_fen: AmountFen | None = Field(default=None, alias="fixed_per_year_yuan")
    percent_of_revenue: RateFraction | None = None
    payee: str | None = None

    @model_validator(mode="after")
    def _one_basis(self) -> "PvDeduction":
        given = [
            key
            for key in ("per_watt_year_fen", "fixed_per_year_fen", "percent_of_revenue")
            if getattr(self, key) is not None
        ]
        if len(given) != 1:
            raise ValueError(tr("give exactly one of per_watt_year_yuan, fixed_per_year_yuan, percent_of_revenue"))
        return self


class PvCollectivePart(StrictModel):
    """The village collective(s)' part.

    ``mode: percentage``: ``percent`` of the distributable amount, split among the station's
    villages (the collective holders in the share register) ``by_claimed_kw`` or ``equally``.
    When no village holds a claim in a service period, the part goes to
    ``residual_account_code`` (a line and a summary figure) or, without one, that settlement
    row alone is refused.
    ``mode: by_claimed_kw``: the collective holdings take part in the kW split beside the
    households (no percentage of their own; the households part is then the holders part).
    """

    mode: Literal["percentage", "by_claimed_kw"]
    percent: RateFraction | None = None
    among_villages: Literal["by_claimed_kw", "equally"] = "by_claimed_kw"
    account_code: AccountCode
    debit_account_code: AccountCode
    residual_account_code: AccountCode | None = None

    @model_validator(mode="after")
    def _percent_matches_mode(self) -> "PvCollectivePart":
        if self.mode == "percentage" and self.percent is None:
            raise ValueError(tr("mode percentage needs percent"))
        if self.mode == "by_claimed_kw" and self.percent is not None:
            raise ValueError(tr("mode by_claimed_kw takes no percent: it shares in the kW split"))
        return self


class PvWagePart(StrictModel):
    """Public-welfare job wages (公益岗位), paid from a roster; unused pool → ``unused_account_code``."""

    percent: RateFraction
    account_code: AccountCode
    debit_account_code: AccountCode
    unused_account_code: AccountCode


class PvHouseholdPart(StrictModel):
    """Households (and, in by_claimed_kw mode, collectives) by claimed kW × active days.

    ``inactive_share``: what the days a holding was not active (ended, exited, excluded) earn.
    ``redistribute`` shares the part over the active kW-days only; ``residual`` measures every
    share against the full claimed kW × period days and books the rest to
    ``residual_account_code``. When nobody is eligible and active in a service period, the part
    goes to ``residual_account_code`` (a line and a summary figure) or, without one, that
    settlement row alone is refused. (There is deliberately no "equal per household" basis:
    village stations must not be handed out evenly, 严禁简单平均分配.)
    """

    percent: RateFraction
    account_code: AccountCode
    debit_account_code: AccountCode
    inactive_share: Literal["redistribute", "residual"] = "redistribute"
    residual_account_code: AccountCode | None = None

    @model_validator(mode="after")
    def _residual_account(self) -> "PvHouseholdPart":
        if self.inactive_share == "residual" and self.residual_account_code is None:
            raise ValueError(tr("inactive_share residual needs residual_account_code"))
        return self


class PvParts(StrictModel):
    """How the distributable amount is shared; the percentages must sum to 100%."""

    collective: PvCollectivePart
    wages: PvWagePart | None = None
    households: PvHouseholdPart

    @model_validator(mode="after")
    def _sum_to_one(self) -> "PvParts":
        total = self.households.percent
        total += self.wages.percent if self.wages else 0
        total += self.collective.percent if self.collective.mode == "percentage" else 0
        if total != 1:
            raise ValueError(tr("the parts' percentages sum to {total}, not 100%", total=percent_text(total)))
        return self


class PvRevenueRule(RuleBase):
    """``kind: pv_revenue``: one station's settlement, deductions in order, then the parts.

    ``capacity_kw`` may be left out: the run takes the station's declared capacity from the
    register (and says so); when given it must agree with the register. Money is distributed
    only once it has arrived: a settlement row without a 到账日期 on or before the run period's
    last day is left out (reported) unless ``allow_unreceived: true`` (advance payment, stated
    in the run's summary).
    """

    kind: Literal["pv_revenue"]
    station_id: str = Field(pattern=r"^PV-\d{6}-\d{3}$")
    capacity_units_e4: UnitsE4 | None = Field(default=None, alias="capacity_kw")
    stop_on_exit: bool = False
    allow_unreceived: bool = False
    deductions: list[PvDeduction] = Field(default_factory=list, max_length=10)
    parts: PvParts

    @model_validator(mode="after")
    def _check(self) -> "PvRevenueRule":
        names = [deduction.name for deduction in self.deductions]
        if len(names) != len(set(names)):
            raise ValueError(tr("deduction names must be unique: {names}", names=names))
        _refuse_scopes(self.eligibility, HOLDER_FILTER_SCOPES, tr("a PV rule (its holders are households)"))
        return self


# --- cooperative dividends --------------------------------------------------------------------


class DividendPeriod(StrictModel):
    """The dividend period, first and last day inclusive."""

    start: datetime.date
    end: datetime.date

    @model_validator(mode="after")
    def _ordered(self) -> "DividendPeriod":
        if self.end < self.start:
            raise ValueError(tr("period end {end} is before start {start}", end=self.end, start=self.start))
        if (self.end - self.start).days > 366 * 5:
            raise ValueError(tr("a dividend period longer than five years is a typo"))
        return self


class DividendAccounts(StrictModel):
    """Account codes (credit side unless said) for every line a dividend run can produce."""

    debit: AccountCode  # 322 收益分配 in the paying entity's books
    household: AccountCode  # 211 应付款, per household
    collective: AccountCode  # 113 内部往来 or 211, for the collective's lines
    floor_shortfall: AccountCode = "112"  # debited: the cooperative still owes it
    suspense: AccountCode  # a deceased sole holder's dividend, waiting for a decision
    cap_held_back: AccountCode  # what the ceiling holds back, stays with the cooperative


class CoopDividendRule(RuleBase):
    """``kind: coop_dividend``: floor on principal, pro-rata above it by shares, optional cap."""

    kind: Literal["coop_dividend"]
    cooperative_id: str = Field(pattern=r"^COOP-\d{3}$")
    period: DividendPeriod
    pool_fen: AmountFen | None = Field(default=None, alias="pool_yuan")
    floor_rate: RateFraction
    ceiling_rate: RateFraction | None = None
    exit_handling: Literal["collective", "remaining_holders"]
    # The village collective that takes back exited households' shares; left out, each exited
    # household's shares go back to the collective of its own village (the run says so).
    collective_id: str | None = Field(default=None, pattern=r"^\d{12}$")
    stop_on_exit: bool = True
    accounts: DividendAccounts

    @model_validator(mode="after")
    def _check(self) -> "CoopDividendRule":
        if self.ceiling_rate is not None and self.ceiling_rate < self.floor_rate:
            raise ValueError(tr("ceiling_rate must not be below floor_rate"))
        _refuse_scopes(self.eligibility, HOLDER_FILTER_SCOPES, tr("a dividend rule (its holders are households)"))
        return self


# --- subsidies --------------------------------------------------------------------------------


class TableEntry(StrictModel):
    """One row of an amount table: the first entry whose filters all hold gives the amount."""

    when: Eligibility
    amount_fen: AmountFen = Field(alias="amount_yuan")
    label: str | None = None


class AttributeTableBasis(StrictModel):
    """A fixed amount per household or per person, looked up in a table of attributes.

    ``counted_per``: one amount per household, or per living person: each person (享受人) gets a
    line of their own, rounded once, and a household paid for several people is paid the sum of
    their lines (two pupils at 2,000.00 a year for a month: 166.67 + 166.67 = 333.34).
    ``paid_to``: the household's card (head), or the person's own card (else the head's).
    ``amount_per``: ``year`` (× the period's fraction of a year), ``month`` (× months) or
    ``once``. ``input_list``: candidates are the rows of the run's input list (e.g. house-repair
    applications with ``household_id`` and ``work_kind``) instead of the whole register.
    """

    type: Literal["attribute_table"]
    counted_per: Literal["household", "person"]
    paid_to: Literal["household", "person"]
    amount_per: Literal["year", "month", "once"]
    input_list: bool = False
    entries: list[TableEntry] = Field(min_length=1, max_length=TABLE_ENTRIES_MAX)

    @model_validator(mode="after")
    def _check(self) -> "AttributeTableBasis":
        if self.counted_per == "household" and self.paid_to == "person":
            raise ValueError(tr("a per-household amount is paid to the household, not a person"))
        uses_input = any(item.field.startswith("input.") for entry in self.entries for item in entry.when)
        if uses_input and not self.input_list:
            raise ValueError(tr("entries use input.<column> fields: set input_list: true"))
        if self.counted_per == "household" and any(
            item.field.startswith("person.") for entry in self.entries for item in entry.when
        ):
            raise ValueError(tr("a per-household table cannot test person.<column>; use any_member"))
        return self


class RosterBasis(StrictModel):
    """Days on a roster × a daily rate (forest rangers); the roster may carry its own rate."""

    type: Literal["roster"]
    daily_rate_fen: AmountFen | None = Field(default=None, alias="daily_rate_yuan")
    paid_to: Literal["person", "household"] = "person"


class MedicalTopUpBasis(StrictModel):
    """Pays the smallest amount in fen that brings the patient's own share of each bill to at
    most ``own_share_cap`` × total cost: own payment − ⌊cap × total⌋ when positive (the own share
    after the top-up never exceeds the cap). The rule's ``population`` and ``eligibility`` apply."""

    type: Literal["medical_topup"]
    own_share_cap: RateFraction
    paid_to: Literal["person", "household"] = "person"


SubsidyBasis = Annotated[Union[AttributeTableBasis, RosterBasis, MedicalTopUpBasis], Field(discriminator="type")]


class SubsidyRule(RuleBase):
    """``kind: subsidy``: one programme's benefit, debited to its expense account."""

    kind: Literal["subsidy"]
    programme: str = Field(min_length=1, max_length=200)
    expense_account_code: AccountCode
    payable_account_code: AccountCode = "211"
    # Who receives the money: each beneficiary's card as ``paid_to`` says (the default), or
    # ``collective``: the village collective's own bank account (村集体账户) for every line of its
    # village, e.g. a 特困供养 allowance paid to the village that provides the care. The lines
    # still name each beneficiary and head; the village's entity must have a bank account.
    payee: Literal["beneficiary", "collective"] = "beneficiary"
    # Who is considered at all (e.g. people in school): failing these is not reported, unlike
    # ``eligibility``, whose failures are listed in the exclusions report.
    population: Eligibility = Field(default_factory=list)
    basis: SubsidyBasis

    @model_validator(mode="after")
    def _check(self) -> "SubsidyRule":
        basis = self.basis
        has_input = not isinstance(basis, AttributeTableBasis) or basis.input_list
        scopes = FILTER_SCOPES if has_input else tuple(s for s in FILTER_SCOPES if s != "input")
        if isinstance(basis, AttributeTableBasis) and basis.counted_per == "household":
            scopes = tuple(s for s in scopes if s != "person")
        what = tr("this subsidy rule (no input list, or counted per household)")
        _refuse_scopes(self.eligibility, scopes, what)
        _refuse_scopes(self.population, scopes, what)
        return self


Rule = Annotated[Union[PvRevenueRule, CoopDividendRule, SubsidyRule], Field(discriminator="kind")]
_RULE_ADAPTER: TypeAdapter[Any] = TypeAdapter(Rule)


# The members' names pydantic puts in a location inside a discriminated union: a user's file
# does not have them (("subsidy", "basis", "roster", "paid_to") is basis.paid_to).
UNION_TAGS = ("pv_revenue", "coop_dividend", "subsidy", "attribute_table", "roster", "medical_topup")


def load_rule(path_or_text: str | Path) -> PvRevenueRule | CoopDividendRule | SubsidyRule:
    """Load and validate one rule from a YAML file path or from YAML text.

    A ``Path``, or a one-line string naming an existing file, is read as UTF-8; anything else is
    the rule text itself. Raises ``RuleError`` with every problem and its path in the file.
    """
    source = "<text>"
    if isinstance(path_or_text, Path) or ("\n" not in path_or_text and Path(path_or_text).suffix in (".yaml", ".yml")):
        path = Path(path_or_text)
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise RuleError(source, [("", tr("cannot read the rule file: {error}", error=error))]) from None
    else:
        text = path_or_text
    if len(text) > RULE_TEXT_CHARS_MAX:
        raise RuleError(
            source, [("", tr("rule text longer than {length_max} characters", length_max=RULE_TEXT_CHARS_MAX))]
        )
    try:
        document = load_yaml(text)
    except yaml.YAMLError as error:
        raise RuleError(source, [("", tr("not valid YAML: {error}", error=error))]) from None
    if not isinstance(document, dict):
        raise RuleError(source, [("", tr("a rule file is a mapping of keys to values"))])
    if "kind" not in document:
        raise RuleError(source, [("kind", tr("missing: one of pv_revenue, coop_dividend, subsidy"))])
    try:
        rule = _RULE_ADAPTER.validate_python(document)
    except ValidationError as error:
        raise RuleError(source, validation_problems(error, drop_tags=UNION_TAGS)) from None
    rule._text = text
    rule._sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return rule
