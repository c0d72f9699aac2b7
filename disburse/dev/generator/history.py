"""What happens to the register between snapshots: deaths, exits, 返贫, new and split
households, a member who moves, changed cards.

``history_generate`` starts from the population on the first snapshot date and applies one
month of events per later snapshot. Each snapshot is a set of arrays over all households and
people (present or not yet); each event is also written to ``events.json`` so tests can check
that the snapshots show it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from disburse.dev.generator import vocabulary as words
from disburse.dev.generator.model import HOUSEHOLD_SERIALS_PER_VILLAGE_MAX
from disburse.dev.generator.numbers import card_numbers, date_texts, weighted_choice
from disburse.dev.generator.population import Geography, Population

NOT_A_DATE = np.datetime64("NaT", "D")
# Ordinals for people and households that move: moved people sort after the household's own.
MOVED_SLOT_START = 50
# Deaths learnt late are dated up to this many days before the previous snapshot.
LATE_DEATH_DAYS_BEFORE_MAX = 45


def later_household_count(households: int) -> int:
    """Households that enter the register at each later snapshot: about 0.1% a month."""
    return max(1, round(households * 0.001))


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The register as exported on ``on``: which households are in it and their state, and each
    person's household, order, relation and date of death."""

    on: dt.date
    household_present: np.ndarray
    household_serial: np.ndarray
    household_status: np.ndarray
    household_exited: np.ndarray
    household_bank: np.ndarray
    household_account: np.ndarray
    person_household: np.ndarray
    person_slot: np.ndarray
    person_relation: np.ndarray
    person_died: np.ndarray


@dataclass(frozen=True, slots=True)
class History:
    """Snapshots plus the household facts that do not change between them (extended with the
    households created by splits), and the list of events for events.json.

    ``household_created`` is the day a new or split household came into being (NaT for the
    households of the first snapshot); ``exit_event_on`` and ``relapse_event_on`` date the exits
    and 返贫 that happened between snapshots.
    """

    household_village: np.ndarray
    household_type: np.ndarray
    household_enrolled: np.ndarray
    household_created: np.ndarray
    exit_event_on: np.ndarray
    relapse_event_on: np.ndarray
    snapshots: tuple[Snapshot, ...]
    events: tuple[dict, ...]

    def household_ids(self, geography: Geography, serial: np.ndarray) -> np.ndarray:
        """户编号 for every household: its village code and a 4-digit serial ('' if unnumbered)."""
        codes = geography.village_codes[self.household_village]
        ids = np.char.add(codes, np.char.zfill(serial.astype("U4"), 4))
        return np.where(serial > 0, ids, "")


@dataclass(slots=True)
class _State:
    """The mutable register while one month's events are applied; copied into a Snapshot."""

    present: np.ndarray
    serial: np.ndarray
    status: np.ndarray
    exited: np.ndarray
    bank: np.ndarray
    account: np.ndarray
    person_household: np.ndarray
    person_slot: np.ndarray
    person_relation: np.ndarray
    person_died: np.ndarray
    household_touched: np.ndarray
    person_touched: np.ndarray
    next_serial: np.ndarray
    events: list[dict] = field(default_factory=list)

    def freeze(self, on: dt.date) -> Snapshot:
        return Snapshot(
            on=on,
            household_present=self.present.copy(),
            household_serial=self.serial.copy(),
            household_status=self.status.copy(),
            household_exited=self.exited.copy(),
            household_bank=self.bank.copy(),
            household_account=self.account.copy(),
            person_household=self.person_household.copy(),
            person_slot=self.person_slot.copy(),
            person_relation=self.person_relation.copy(),
            person_died=self.person_died.copy(),
        )


def history_generate(
    rng: np.random.Generator,
    geography: Geography,
    population: Population,
    snapshot_dates: tuple[dt.date, ...],
) -> History:
    """Apply a month of events before each snapshot after the first; return all snapshots."""
    registered = population.registered_count
    later = later_household_count(registered)
    split_count = max(1, registered // 20_000)
    transitions = len(snapshot_dates) - 1
    household_total = len(population.household_type) + split_count * transitions

    village = _extended(population.household_village, 0, household_total)
    household_type = _extended(population.household_type, 0, household_total)
    enrolled = _extended(population.household_enrolled, NOT_A_DATE, household_total)
    created = np.full(household_total, NOT_A_DATE)
    exit_event_on = np.full(household_total, NOT_A_DATE)
    relapse_event_on = np.full(household_total, NOT_A_DATE)

    state = _first_state(geography, population, village, household_total)
    context = _Context(
        rng=rng,
        geography=geography,
        population=population,
        village=village,
        household_type=household_type,
        enrolled=enrolled,
        created=created,
        exit_event_on=exit_event_on,
        relapse_event_on=relapse_event_on,
    )
    snapshots = [state.freeze(snapshot_dates[0])]
    split_next = len(population.household_type)
    for transition in range(transitions):
        previous, current = snapshot_dates[transition], snapshot_dates[transition + 1]
        month = _Month(previous=previous, current=current)
        first_new = registered + transition * later
        _month_events(context, state, month, registered, range(first_new, first_new + later), split_next, split_count)
        split_next += split_count
        snapshots.append(state.freeze(current))
    return History(
        household_village=village,
        household_type=household_type,
        household_enrolled=enrolled,
        household_created=created,
        exit_event_on=exit_event_on,
        relapse_event_on=relapse_event_on,
        snapshots=tuple(snapshots),
        events=tuple(state.events),
    )


def _extended(values: np.ndarray, fill: object, household_total: int) -> np.ndarray:
    """``values`` grown to every household the history can hold (split-offs included), ``fill`` after."""
    grown = np.empty(household_total, dtype=values.dtype)
    grown[: len(values)] = values
    grown[len(values) :] = fill
    return grown


def _first_state(geography: Geography, population: Population, village: np.ndarray, household_total: int) -> _State:
    """The register on the first snapshot date: the registered households present, the later ones
    not yet; each village's next serial number follows its highest one in use."""
    registered = population.registered_count
    present = np.zeros(household_total, dtype=bool)
    present[:registered] = True
    next_serial = np.zeros(geography.village_count, dtype=np.int64)
    np.maximum.at(next_serial, village[:registered], population.household_serial[:registered])
    next_serial += 1
    return _State(
        present=present,
        serial=_extended(population.household_serial, 0, household_total),
        status=_extended(population.household_status, 0, household_total),
        exited=_extended(population.household_exited, NOT_A_DATE, household_total),
        bank=_extended(population.household_bank, 0, household_total),
        account=_extended(population.household_account, "", household_total),
        person_household=population.person_household.copy(),
        person_slot=population.person_slot.copy(),
        person_relation=population.person_relation.copy(),
        person_died=np.full(len(population.person_household), NOT_A_DATE),
        household_touched=np.zeros(household_total, dtype=bool),
        person_touched=np.zeros(len(population.person_household), dtype=bool),
        next_serial=next_serial,
    )


def _month_events(
    context: _Context,
    state: _State,
    month: _Month,
    registered: int,
    new_households: range,
    split_first: int,
    split_count: int,
) -> None:
    """Apply one month's events to ``state``, in a fixed order (the random draws follow it)."""
    _enter_new_households(context, state, month, new_households)
    for split_next in range(split_first, split_first + split_count):
        _split_household(context, state, month, split_next)
    for _ in range(max(1, registered // 20_000)):
        _move_member(context, state, month)
    people = int(state.present[state.person_household].sum())
    _deaths(context, state, month, max(2, round(people * 0.0004)), late=False)
    _deaths(context, state, month, max(1, round(people * 0.0001)), late=True)
    not_exited = int((state.present & (state.status == words.STATUS_NOT_EXITED)).sum())
    _exits(context, state, month, max(1, round(not_exited * 0.004)))
    _relapses(context, state, month, max(1, round(registered * 0.0005)))
    _card_changes(context, state, month, max(1, round(registered * 0.001)))


@dataclass(frozen=True, slots=True)
class _Context:
    """The fixed inputs every event function needs."""

    rng: np.random.Generator
    geography: Geography
    population: Population
    village: np.ndarray
    household_type: np.ndarray
    enrolled: np.ndarray
    created: np.ndarray
    exit_event_on: np.ndarray
    relapse_event_on: np.ndarray

    def household_id(self, state: _State, household: int) -> str:
        serial = int(state.serial[household])
        assert 0 < serial <= HOUSEHOLD_SERIALS_PER_VILLAGE_MAX, serial
        return f"{self.geography.village_codes[self.village[household]]}{serial:04d}"

    def age_on(self, people: np.ndarray, day: dt.date) -> np.ndarray:
        """Whole years of age on ``day`` (to within a day, which is all events need)."""
        days = (np.datetime64(day, "D") - self.population.person_birth[people]).astype(np.int64)
        return days * 4 // 1461


@dataclass(frozen=True, slots=True)
class _Month:
    """The month between two snapshots: events are dated after ``previous``, up to ``current``."""

    previous: dt.date
    current: dt.date

    def random_day(self, rng: np.random.Generator) -> dt.date:
        span = (self.current - self.previous).days
        return self.previous + dt.timedelta(days=int(rng.integers(1, span + 1)))

    def event(self, kind: str, on: dt.date, household_id: str, **details: object) -> dict:
        return {
            "kind": kind,
            "previous_snapshot": self.previous.isoformat(),
            "snapshot": self.current.isoformat(),
            "on": on.isoformat(),
            "household_id": household_id,
            **details,
        }


def _members(state: _State, household: int) -> np.ndarray:
    """People currently in ``household``, in row order."""
    people = np.flatnonzero(state.person_household == household)
    return people[np.argsort(state.person_slot[people], kind="stable")]


def _pick(
    rng: np.random.Generator, candidates: np.ndarray, count: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Up to ``count`` distinct candidates, optionally weighted."""
    count = min(count, len(candidates))
    if count == 0:
        return candidates[:0]
    probabilities = None if weights is None else weights / weights.sum()
    return rng.choice(candidates, size=count, replace=False, p=probabilities)


def _enter_new_households(context: _Context, state: _State, month: _Month, households: range) -> None:
    """Newly identified households: 监测对象 (一般农户) or poor households not yet exited."""
    for household in households:
        on = month.random_day(context.rng)
        village = int(context.village[household])
        state.serial[household] = state.next_serial[village]
        state.next_serial[village] += 1
        state.present[household] = True
        state.household_touched[household] = True
        context.enrolled[household] = np.datetime64(on, "D")
        context.created[household] = np.datetime64(on, "D")
        monitored = context.household_type[household] == words.HOUSEHOLD_TYPE_MONITORED
        state.status[household] = words.STATUS_MONITORED if monitored else words.STATUS_NOT_EXITED
        state.exited[household] = NOT_A_DATE
        members = _members(state, household)
        state.person_touched[members] = True
        state.events.append(
            month.event(
                "new_household",
                on,
                context.household_id(state, household),
                household_type=words.HOUSEHOLD_TYPES[int(context.household_type[household])],
                member_id_numbers=context.population.person_id_number[members].tolist(),
            )
        )


def _alive_in_register(state: _State, people: np.ndarray) -> np.ndarray:
    """Which of ``people`` are alive and in a household that is in the register."""
    return state.present[state.person_household[people]] & np.isnat(state.person_died[people])


def _split_household(context: _Context, state: _State, month: _Month, new_household: int) -> None:
    """分户: a married son leaves with his wife and children and becomes head of a new household."""
    rng = context.rng
    on = month.random_day(rng)
    people = np.arange(len(state.person_household))
    alive = _alive_in_register(state, people) & ~state.person_touched
    household_of = state.person_household
    sizes = np.bincount(household_of[alive], minlength=len(state.present))
    adult = context.age_on(people, on) >= 22
    free_household = ~state.household_touched[household_of]
    sons = np.flatnonzero(
        alive & adult & free_household & (state.person_relation == words.RELATION_SON) & (sizes[household_of] >= 4)
    )
    if len(sons) == 0:
        # A small county may have no three-generation household: split off any grown member.
        sons = np.flatnonzero(
            alive & adult & free_household & (state.person_relation != words.RELATION_HEAD) & (sizes[household_of] >= 2)
        )
    assert len(sons), "no household can be split"
    son = int(_pick(rng, sons, 1)[0])
    household = int(household_of[son])
    members = _members(state, household)
    members = members[np.isnat(state.person_died[members])]
    followers = members[
        np.isin(
            state.person_relation[members],
            [words.RELATION_DAUGHTER_IN_LAW, words.RELATION_GRANDSON, words.RELATION_GRANDDAUGHTER],
        )
    ]
    if state.person_relation[son] != words.RELATION_SON:
        followers = followers[:0]
    leaving = np.concatenate([[son], followers])
    new_relation = {
        words.RELATION_DAUGHTER_IN_LAW: words.RELATION_SPOUSE,
        words.RELATION_GRANDSON: words.RELATION_SON,
        words.RELATION_GRANDDAUGHTER: words.RELATION_DAUGHTER,
    }
    relations = [words.RELATION_HEAD] + [new_relation[int(state.person_relation[p])] for p in followers]

    village = int(context.village[household])
    context.village[new_household] = village
    context.household_type[new_household] = context.household_type[household]
    context.enrolled[new_household] = context.enrolled[household]
    context.created[new_household] = np.datetime64(on, "D")
    state.serial[new_household] = state.next_serial[village]
    state.next_serial[village] += 1
    state.present[new_household] = True
    state.status[new_household] = state.status[household]
    state.exited[new_household] = state.exited[household]
    bank = int(weighted_choice(rng, words.BANK_WEIGHTS, 1)[0])
    state.bank[new_household] = bank
    state.account[new_household] = card_numbers(rng, words.BANK_CARD_PREFIXES, np.array([bank]))[0]
    state.person_household[leaving] = new_household
    state.person_slot[leaving] = np.arange(len(leaving))
    state.person_relation[leaving] = relations
    state.household_touched[[household, new_household]] = True
    state.person_touched[members] = True
    state.events.append(
        month.event(
            "split",
            on,
            context.household_id(state, household),
            new_household_id=context.household_id(state, new_household),
            member_id_numbers=context.population.person_id_number[leaving].tolist(),
            new_relations=[words.RELATIONS[relation] for relation in relations],
            new_account_no=str(state.account[new_household]),
        )
    )


def _move_member(context: _Context, state: _State, month: _Month) -> None:
    """A daughter marries into another household of the same town and moves to its register."""
    rng = context.rng
    on = month.random_day(rng)
    people = np.arange(len(state.person_household))
    alive = _alive_in_register(state, people) & ~state.person_touched
    household_of = state.person_household
    sizes = np.bincount(household_of[alive], minlength=len(state.present))
    age = context.age_on(people, on)
    free_household = ~state.household_touched[household_of]
    candidates = np.flatnonzero(
        alive
        & free_household
        & (state.person_relation == words.RELATION_DAUGHTER)
        & (age >= 20)
        & (age <= 35)
        & (sizes[household_of] >= 3)
    )
    if len(candidates) == 0:
        candidates = np.flatnonzero(
            alive
            & free_household
            & (state.person_relation != words.RELATION_HEAD)
            & (age >= 18)
            & (sizes[household_of] >= 2)
        )
    assert len(candidates), "nobody can move"
    person = int(_pick(rng, candidates, 1)[0])
    source = int(household_of[person])
    town_of = context.geography.village_towns[context.village]
    targets = np.flatnonzero(
        state.present
        & ~state.household_touched
        & (town_of == town_of[source])
        & (np.arange(len(state.present)) != source)
    )
    if len(targets) == 0:
        targets = np.flatnonzero(state.present & ~state.household_touched & (np.arange(len(state.present)) != source))
    target = int(_pick(rng, targets, 1)[0])
    married_into = (
        words.RELATION_DAUGHTER_IN_LAW
        if context.population.person_sex[person] == words.SEX_FEMALE
        else words.RELATION_SON_IN_LAW
    )
    relation = married_into if state.person_relation[person] == words.RELATION_DAUGHTER else words.RELATION_OTHER
    state.person_household[person] = target
    state.person_slot[person] = MOVED_SLOT_START + int((state.person_household == target).sum())
    state.person_relation[person] = relation
    state.household_touched[[source, target]] = True
    state.person_touched[person] = True
    state.events.append(
        month.event(
            "move",
            on,
            context.household_id(state, source),
            to_household_id=context.household_id(state, target),
            id_number=str(context.population.person_id_number[person]),
            new_relation=words.RELATIONS[relation],
        )
    )


def _deaths(context: _Context, state: _State, month: _Month, count: int, *, late: bool) -> None:
    """Deaths of members other than the head, mostly old people. A late death is dated before
    the previous snapshot but reported only now (the village learnt of it late)."""
    rng = context.rng
    people = np.arange(len(state.person_household))
    alive = _alive_in_register(state, people) & ~state.person_touched
    alive &= ~state.household_touched[state.person_household]
    alive &= state.person_relation != words.RELATION_HEAD
    age = context.age_on(people, month.current)
    candidates = np.flatnonzero(alive & (age >= 50))
    if len(candidates) < count:
        candidates = np.flatnonzero(alive & (age >= 18))
    chosen = _pick(rng, candidates, count, weights=(age[candidates] - 17).astype(np.float64) ** 2)
    for person in chosen.tolist():
        if late:
            before = int(rng.integers(1, LATE_DEATH_DAYS_BEFORE_MAX + 1))
            on = month.previous - dt.timedelta(days=before)
        else:
            on = month.random_day(rng)
        state.person_died[person] = np.datetime64(on, "D")
        state.person_touched[person] = True
        state.events.append(
            month.event(
                "death",
                on,
                context.household_id(state, int(state.person_household[person])),
                id_number=str(context.population.person_id_number[person]),
                learnt_late=late,
            )
        )


def _exits(context: _Context, state: _State, month: _Month, count: int) -> None:
    """Households that exit poverty (脱贫) this month."""
    candidates = np.flatnonzero(state.present & ~state.household_touched & (state.status == words.STATUS_NOT_EXITED))
    for household in _pick(context.rng, candidates, count).tolist():
        on = month.random_day(context.rng)
        state.status[household] = words.STATUS_EXITED
        state.exited[household] = np.datetime64(on, "D")
        context.exit_event_on[household] = np.datetime64(on, "D")
        state.household_touched[household] = True
        state.events.append(month.event("exit", on, context.household_id(state, household)))


def _relapses(context: _Context, state: _State, month: _Month, count: int) -> None:
    """Households that had exited and fall back into poverty (返贫); the exit date is kept."""
    candidates = np.flatnonzero(state.present & ~state.household_touched & (state.status == words.STATUS_EXITED))
    for household in _pick(context.rng, candidates, count).tolist():
        on = month.random_day(context.rng)
        state.status[household] = words.STATUS_RELAPSED
        context.relapse_event_on[household] = np.datetime64(on, "D")
        state.household_touched[household] = True
        state.events.append(
            month.event(
                "relapse",
                on,
                context.household_id(state, household),
                exited_on=date_texts(state.exited[household : household + 1])[0],
            )
        )


def _card_changes(context: _Context, state: _State, month: _Month, count: int) -> None:
    """Households whose one-card account is replaced (a lost card, a new bank)."""
    rng = context.rng
    candidates = np.flatnonzero(state.present & ~state.household_touched)
    for household in _pick(rng, candidates, count).tolist():
        on = month.random_day(rng)
        old_bank, old_account = int(state.bank[household]), str(state.account[household])
        bank = int(weighted_choice(rng, words.BANK_WEIGHTS, 1)[0])
        state.bank[household] = bank
        state.account[household] = card_numbers(rng, words.BANK_CARD_PREFIXES, np.array([bank]))[0]
        state.household_touched[household] = True
        state.events.append(
            month.event(
                "card_change",
                on,
                context.household_id(state, household),
                old_bank_name=words.BANK_NAMES[old_bank],
                old_account_no=old_account,
                new_bank_name=words.BANK_NAMES[bank],
                new_account_no=str(state.account[household]),
            )
        )
