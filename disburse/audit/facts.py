"""What the checks read, read once per run of the checks: runs and their lines, payables, what
was actually paid (the account on the bank file and the return file), batches, the registers'
versions with their dates, register events, statement lines, card fixes and settlements.

Every frame is built by one or two queries and vectorised joins, and kept for the other checks
(``functools.cached_property``). Dates are ``datetime.date`` objects in object columns (None when
missing); money is ``int64`` fen. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import cached_property

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from disburse.allocations.frames import AllocationError, service_period_bounds
from disburse.allocations.rules import CoopDividendRule, PvRevenueRule, RuleError, SubsidyRule, load_rule
from disburse.foundation.dates import as_date_or_none, period_bounds
from disburse.foundation.frames import object_array, query_frame, share_values

PV_WAGE_COMPONENT = "public_welfare_wage"
PUBLIC_WELFARE_JOB = "public_welfare_job"
PV_PROGRAMME = "pv_revenue"
DIVIDEND_PROGRAMME = "coop_dividend"
# PV lines name the settlement they came from: "settlement 12 2026-10 base".
SETTLEMENT_SOURCE = re.compile(r"^settlement (\d+) (\S+) (\S+)$")
LIVE_RUN_STATUSES = ("posted", "superseded")
SENT_STATUSES = ("exported", "success")


def dates(values: object) -> list[dt.date | None]:
    return [as_date_or_none(value) for value in pd.Series(values, dtype=object).tolist()]


def _int64(frame: pd.DataFrame, *names: str) -> pd.DataFrame:
    for name in names:
        frame[name] = pd.to_numeric(frame[name]).fillna(0).astype(np.int64)
    return frame


class Facts:
    """The books and registers as the checks see them on ``today``."""

    def __init__(self, session: Session, today: dt.date) -> None:
        self.session = session
        self.today = today

    def frame(self, sql: str, **parameters: object) -> pd.DataFrame:
        return query_frame(self.session, sql, parameters)

    # ------------------------------------------------------------------------------ runs
    @cached_property
    def runs(self) -> pd.DataFrame:
        """Posted and superseded runs: ``id, rule_kind, rule_name, rule_subject, period, status,
        fund_source, supersedes_run_id, root_run_id, programme_key, posted_on, calculated_at,
        inputs_description, summary_json``; the parsed rules are in ``rules``."""
        runs = self.frame(
            "SELECT r.id, r.rule_kind, r.rule_name, r.rule_subject, r.rule_text, r.period, r.status, r.fund_source,"
            " r.supersedes_run_id, r.calculated_at, r.inputs_description, r.summary_json, r.pool_fen,"
            " r.paying_entity_code, (SELECT min(e.entry_date) FROM journal_entries e"
            "  WHERE e.post_request_id = r.post_request_id) AS posted_on"
            " FROM allocation_runs r WHERE r.status IN ('posted', 'superseded') ORDER BY r.id"
        )
        runs = _int64(runs, "id", "pool_fen")
        parent = dict(zip(runs["id"], runs["supersedes_run_id"]))

        def root(run_id: int) -> int:
            seen = 0
            while parent.get(run_id) is not None and not pd.isna(parent.get(run_id)) and seen < 1_000:
                run_id, seen = int(parent[run_id]), seen + 1
            return run_id

        runs["root_run_id"] = [root(int(run_id)) for run_id in runs["id"]]
        runs["posted_on"] = [
            as_date_or_none(posted) or period_bounds(period)[1]
            for posted, period in zip(runs["posted_on"], runs["period"])
        ]
        runs["calculated_at"] = pd.to_datetime(runs["calculated_at"]).dt.to_pydatetime() if len(runs) else []
        runs["programme_key"] = [
            self._programme_key(int(run_id), kind) for run_id, kind in zip(runs["id"], runs["rule_kind"])
        ]
        return runs

    @cached_property
    def rules(self) -> dict[int, PvRevenueRule | CoopDividendRule | SubsidyRule | None]:
        """Each live run's rule, parsed from the text it stored (None if that text no longer parses)."""
        texts = self.frame("SELECT id, rule_text FROM allocation_runs WHERE status IN ('posted', 'superseded')")
        parsed: dict[int, PvRevenueRule | CoopDividendRule | SubsidyRule | None] = {}
        for run_id, text in zip(texts["id"], texts["rule_text"]):
            try:
                parsed[int(run_id)] = load_rule(str(text))
            except (RuleError, ValueError):
                parsed[int(run_id)] = None
        return parsed

    def _programme_key(self, run_id: int, rule_kind: str) -> str:
        rule = self.rules.get(run_id)
        if isinstance(rule, SubsidyRule):
            return rule.programme
        return PV_PROGRAMME if rule_kind == "pv_revenue" else DIVIDEND_PROGRAMME

    @cached_property
    def lines(self) -> pd.DataFrame:
        """Lines of live runs with their run's facts and the service period they pay for:
        ``run_id, line_number, payee_type, payee_id, household_id, village_code, component,
        account_code, amount_fen, account_no, account_name, source_reference, share_numerator,
        share_denominator, effective`` (the run is posted, not superseded), ``programme_key,
        benefit_period, service_start, service_end, settlement_id, revenue_type``."""
        lines = self.frame(
            "SELECT l.run_id, l.line_number, l.payee_type, l.payee_id, l.household_id, l.village_code, l.component,"
            " l.account_code, l.amount_fen, l.account_no, l.account_name, l.source_reference, l.share_numerator,"
            " l.share_denominator FROM allocation_lines l JOIN allocation_runs r ON r.id = l.run_id"
            " WHERE r.status IN ('posted', 'superseded') ORDER BY l.run_id, l.line_number"
        )
        lines = _int64(lines, "run_id", "line_number", "amount_fen")
        runs = self.runs.set_index("id")
        lines["effective"] = lines["run_id"].map(runs["status"]).eq("posted").to_numpy()
        lines["rule_kind"] = lines["run_id"].map(runs["rule_kind"]).to_numpy()
        keys = lines["run_id"].map(runs["programme_key"]).to_numpy(dtype=object).copy()
        keys[(lines["component"] == PV_WAGE_COMPONENT).to_numpy()] = PUBLIC_WELFARE_JOB
        lines["programme_key"] = keys
        run_periods = dict(zip(runs.index, runs["period"]))
        # One service period per (run, source) pair, spread to the lines by the pair's number.
        keys = lines[["run_id", "source_reference"]]
        pair_of_line = keys.groupby(["run_id", "source_reference"], sort=False, dropna=False).ngroup().to_numpy()
        pairs = keys.drop_duplicates()
        services = [
            self._service(self.rules.get(int(run_id)), str(run_periods[run_id]), source)
            for run_id, source in zip(pairs["run_id"].tolist(), pairs["source_reference"].to_numpy(dtype=object))
        ]
        for position, name in enumerate(
            ("benefit_period", "service_start", "service_end", "settlement_id", "revenue_type")
        ):
            values = object_array([service[position] for service in services])
            lines[name] = pd.Series(values.take(pair_of_line), dtype=object, index=lines.index)
        return lines

    @staticmethod
    def _service(rule: object, period: str, source: object) -> tuple[str, dt.date, dt.date, int | None, str | None]:
        """(benefit period, service start, service end, settlement id, revenue type) of a line: a
        PV line's settlement period, a dividend's holding period, a subsidy's month ("once" for a
        one-off grant, so a second payment in another month is still the same benefit)."""
        start, end = period_bounds(period)
        if isinstance(source, str) and (match := SETTLEMENT_SOURCE.match(source)):
            try:
                start, end = service_period_bounds(match[2])
            except AllocationError:
                pass
            return match[2], start, end, int(match[1]), match[3]
        if isinstance(rule, CoopDividendRule):
            return f"{rule.period.start}..{rule.period.end}", rule.period.start, rule.period.end, None, None
        # A yearly amount is paid month by month (the year's amount × the period's fraction of
        # a year): each month's run pays that month. A one-off grant is one benefit, whenever.
        if getattr(getattr(rule, "basis", None), "amount_per", None) == "once":
            return "once", start, end, None, None
        return period, start, end, None, None

    # ------------------------------------------------------------------------------ payables
    @cached_property
    def payables(self) -> pd.DataFrame:
        """Every payable with what it is for: ``payable_id, entity_id, run_id, household_id,
        payee_type, payee_id, programme, fund_source, amount_fen, account_no, account_name,
        period, status, component, programme_key, benefit_period, service_start, service_end,
        settlement_id, revenue_type, root_run_id, rule_kind, due_on`` (the day it became owed:
        its run's posting date, or the last day of its period for a hand-made list)."""
        payables = self.frame(
            "SELECT id AS payable_id, entity_id, run_id, source_line, household_id, payee_type, payee_id, programme,"
            " fund_source, amount_fen, account_no, account_name, period, status, created_at FROM payables ORDER BY id"
        )
        payables = _int64(payables, "payable_id", "entity_id", "amount_fen", "source_line")
        lines = self.lines[
            ["run_id", "line_number", "component", "programme_key", "benefit_period", "service_start", "service_end",
             "settlement_id", "revenue_type"]
        ]  # fmt: skip
        run_ids = pd.to_numeric(payables["run_id"]).astype("Int64")
        keyed = payables.assign(_run=run_ids, _line=payables["source_line"])
        merged = keyed.merge(
            lines.rename(columns={"run_id": "_run", "line_number": "_line"}), on=["_run", "_line"], how="left"
        )
        runs = self.runs.set_index("id")
        manual = merged["_run"].isna().to_numpy()
        # A hand-made list named like a run's rule is that programme; otherwise its own name.
        by_name = dict(zip(self.runs["rule_name"], self.runs["programme_key"]))
        keys = merged["programme_key"].to_numpy(dtype=object).copy()
        keys[manual] = [by_name.get(name, name) for name in merged.loc[manual, "programme"]]
        merged["programme_key"] = keys
        period_of_row, periods = pd.factorize(merged["period"].to_numpy(dtype=object))
        period_days = [period_bounds(str(period)) for period in periods]
        # Each row's period's first and last day, by the period's number.
        bounds = [object_array([days[position] for days in period_days]).take(period_of_row) for position in (0, 1)]
        for name, position in (("service_start", 0), ("service_end", 1)):
            values = merged[name].to_numpy(dtype=object).copy()
            missing = pd.isna(values)
            values[missing] = bounds[position][missing]
            merged[name] = values
        periods = merged["benefit_period"].to_numpy(dtype=object).copy()
        periods[pd.isna(periods)] = merged.loc[pd.isna(periods), "period"].to_numpy(dtype=object)
        merged["benefit_period"] = periods
        merged["run_id"] = run_ids.to_numpy()
        merged["root_run_id"] = merged["_run"].map(runs["root_run_id"]).to_numpy()
        merged["rule_kind"] = merged["_run"].map(runs["rule_kind"]).to_numpy()
        subjects = merged["_run"].map(runs["rule_subject"]).to_numpy(dtype=object).copy()
        subject_by_name = dict(zip(self.runs["rule_name"], self.runs["rule_subject"]))
        subjects[manual] = [subject_by_name.get(name, name) for name in merged.loc[manual, "programme"]]
        merged["rule_subject"] = subjects
        merged["created_at"] = pd.to_datetime(merged["created_at"]).dt.to_pydatetime() if len(merged) else []
        posted = merged["_run"].map(runs["posted_on"]).to_numpy(dtype=object).copy()
        posted[manual] = bounds[1][manual]
        merged["due_on"] = posted
        # Kept for the whole run of the checks: the moments made above (one object per row) shared;
        # the read columns already are, and the days were spread from one object per period.
        return share_values(merged.drop(columns=["_run", "_line"]), ["created_at"])

    # ------------------------------------------------------------------------------ payments
    @cached_property
    def batches(self) -> pd.DataFrame:
        """Exported or closed batches: ``batch_id, batch_reference, entity_id, total_fen,
        approvals_required, programme_filter, period_filter, instruction_count, paid_on`` (the
        date of the export's postings: the day the money left)."""
        batches = self.frame(
            "SELECT b.id AS batch_id, b.batch_reference, b.entity_id, b.status, b.total_fen, b.approvals_required,"
            " b.programme_filter, b.period_filter, b.instruction_count, b.exported_at,"
            " (SELECT min(e.entry_date) FROM journal_entries e WHERE e.post_request_id = b.export_post_request_id)"
            " AS paid_on FROM payment_batches b WHERE b.status IN ('exported', 'closed') ORDER BY b.id"
        )
        batches = _int64(batches, "batch_id", "entity_id", "total_fen", "approvals_required", "instruction_count")
        batches["paid_on"] = [
            as_date_or_none(paid) or as_date_or_none(exported)
            for paid, exported in zip(batches["paid_on"], batches["exported_at"])
        ]
        batches["exported_at"] = pd.to_datetime(batches["exported_at"]).dt.to_pydatetime() if len(batches) else []
        return batches

    @cached_property
    def payments(self) -> pd.DataFrame:
        """What was actually paid, one row per payment instruction sent (exported) or paid
        (success): ``instruction_id, payment_reference, batch_id, batch_reference, entity_id,
        payee_type, payee_id, household_id, status, amount_fen, paid_account_no,
        paid_account_name`` (the account and name on the bank file, or on the bank's return line
        when it answered), ``paid_on, settled_on, exported_at``."""
        payments = self.frame(
            "SELECT i.id AS instruction_id, i.payment_reference, i.batch_id, i.entity_id, i.payee_type, i.payee_id,"
            " i.household_id, i.status, i.amount_fen, i.settled_on,"
            " coalesce(r.account_no, i.account_no) AS paid_account_no,"
            " coalesce(r.account_name, i.account_name) AS paid_account_name"
            " FROM payment_instructions i"
            " LEFT JOIN return_lines r ON r.instruction_id = i.id AND r.outcome = 'success'"
            " WHERE i.status IN ('exported', 'success') ORDER BY i.id"
        )
        payments = _int64(payments, "instruction_id", "batch_id", "entity_id", "amount_fen")
        payments = payments.drop_duplicates("instruction_id")
        batches = self.batches.set_index("batch_id")
        payments["batch_reference"] = payments["batch_id"].map(batches["batch_reference"]).to_numpy()
        payments["paid_on"] = payments["batch_id"].map(batches["paid_on"]).to_numpy()
        payments["exported_at"] = payments["batch_id"].map(batches["exported_at"]).to_numpy()
        payments["settled_on"] = dates(payments["settled_on"])
        return payments.reset_index(drop=True)

    @cached_property
    def paid_payables(self) -> pd.DataFrame:
        """Each payable an instruction sent or paid, with the payment's facts: the columns of
        ``payables`` (``amount_fen`` is the payable's) and of ``payments`` (``payment_fen`` is the
        instruction's total, ``payment_household_id`` its household)."""
        links = self.frame("SELECT instruction_id, payable_id FROM instruction_payables WHERE active")
        links = _int64(links, "instruction_id", "payable_id")
        payments = self.payments.rename(columns={"amount_fen": "payment_fen", "household_id": "payment_household_id",
                                                 "payee_type": "payment_payee_type", "payee_id": "payment_payee_id",
                                                 "status": "payment_status"})  # fmt: skip
        joined = links.merge(payments, on="instruction_id", how="inner").merge(
            self.payables, on="payable_id", how="inner"
        )
        return joined.sort_values(["instruction_id", "payable_id"], kind="stable").reset_index(drop=True)

    @cached_property
    def sent_payables(self) -> pd.DataFrame:
        """The rows of ``paid_payables`` whose instruction was sent or paid: the frame itself when
        every row is (the usual case), so a check does not copy a county's payables to filter."""
        paid = self.paid_payables
        sent = paid["payment_status"].isin(SENT_STATUSES).to_numpy()
        return paid if sent.all() else paid[sent]

    # ------------------------------------------------------------------------------ registers
    @cached_property
    def snapshots(self) -> pd.DataFrame:
        snapshots = self.frame(
            "SELECT id, as_of, imported_at FROM register_imports WHERE kind = 'register' ORDER BY as_of, id"
        )
        snapshots["as_of"] = dates(snapshots["as_of"])
        snapshots["imported_at"] = pd.to_datetime(snapshots["imported_at"]).dt.to_pydatetime() if len(snapshots) else []
        return _int64(snapshots, "id")

    def _versions(self, sql: str) -> pd.DataFrame:
        versions = self.frame(sql)
        snapshots = self.snapshots.set_index("id")
        start = pd.to_numeric(versions["valid_from_import"]).astype(np.int64)
        stop = pd.to_numeric(versions["valid_to_import"]).astype("Int64")
        versions["from_on"] = start.map(snapshots["as_of"]).to_numpy()
        versions["from_imported_at"] = start.map(snapshots["imported_at"]).to_numpy()
        versions["to_on"] = stop.map(snapshots["as_of"]).astype(object).where(stop.notna(), None).to_numpy()
        return versions

    @cached_property
    def person_versions(self) -> pd.DataFrame:
        """Every stored version of every person: ``id_number, household_id, name, relation,
        died_on, person_account_no, from_on, to_on`` (snapshot dates; to_on None while in force)."""
        versions = self._versions(
            "SELECT id, id_number, household_id, name, relation, died_on, person_account_no, valid_from_import,"
            " valid_to_import FROM person_versions ORDER BY id"
        )
        versions["died_on"] = dates(versions["died_on"])
        return versions

    @cached_property
    def household_versions(self) -> pd.DataFrame:
        """Every stored version of every household: ``household_id, head_id_number, head_name,
        account_no, exited_on, poverty_status, household_type, member_count, from_on, to_on``."""
        versions = self._versions(
            "SELECT id, household_id, head_id_number, head_name, account_no, exited_on, poverty_status,"
            " household_type, member_count, valid_from_import, valid_to_import FROM household_versions ORDER BY id"
        )
        versions["exited_on"] = dates(versions["exited_on"])
        return versions

    @cached_property
    def people(self) -> pd.DataFrame:
        """Each person's newest knowledge (the version of the latest snapshot listing them),
        plus ``died_known_at``: when the death was first recorded (the import's time)."""
        versions = self.person_versions.sort_values(["from_on", "id"], kind="stable")
        newest = versions.drop_duplicates("id_number", keep="last").set_index("id_number")
        first_death = versions[versions["died_on"].notna()].drop_duplicates("id_number", keep="first")
        newest["died_known_at"] = (
            first_death.set_index("id_number")["from_imported_at"].reindex(newest.index).to_numpy()
        )
        newest["died_known_on"] = first_death.set_index("id_number")["from_on"].reindex(newest.index).to_numpy()
        return newest

    @cached_property
    def households(self) -> pd.DataFrame:
        """Each household's newest knowledge, plus ``exit_known_at`` / ``exit_known_on``: the
        import (time and snapshot date) that first recorded its exit date."""
        versions = self.household_versions.sort_values(["from_on", "id"], kind="stable")
        newest = versions.drop_duplicates("household_id", keep="last").set_index("household_id")
        exits = versions[versions["exited_on"].notna()]
        exits = exits[exits["exited_on"] == exits["household_id"].map(newest["exited_on"])]
        first_exit = exits.drop_duplicates("household_id", keep="first").set_index("household_id")
        newest["exit_known_at"] = first_exit["from_imported_at"].reindex(newest.index).to_numpy()
        newest["exit_known_on"] = first_exit["from_on"].reindex(newest.index).to_numpy()
        return newest

    def people_households(self, wanted: pd.DataFrame) -> pd.DataFrame:
        """For rows of ``wanted`` (``row, id_number, start, end``): every household the person
        belonged to in a snapshot in force at some day of [start, end] (for a period before the
        first snapshot, the household of their oldest version). Returns ``row, household_id``."""
        versions = self.person_versions[["id_number", "household_id", "from_on", "to_on"]]
        merged = wanted.merge(versions, on="id_number", how="inner")
        if merged.empty:
            return pd.DataFrame({"row": pd.Series([], dtype=np.int64), "household_id": pd.Series([], dtype=object)})
        # In force during [start, end]: from_on <= end and (to_on is None or to_on > start); the
        # snapshot in force at `start` is the newest one on or before it, so a version that
        # started before `start` counts while it was not yet replaced.
        to_on = merged["to_on"].to_numpy(dtype=object)
        open_ended = pd.isna(to_on)
        overlaps = (merged["from_on"].to_numpy(dtype=object) <= merged["end"].to_numpy(dtype=object)) & (
            open_ended | (np.where(open_ended, merged["start"], to_on) > merged["start"].to_numpy(dtype=object))
        )
        found = merged[overlaps][["row", "household_id"]]
        missing = merged[~merged["row"].isin(set(found["row"]))]
        oldest = missing.sort_values("from_on", kind="stable").drop_duplicates("row", keep="first")[
            ["row", "household_id"]
        ]
        return pd.concat([found, oldest], ignore_index=True).drop_duplicates()

    def household_members(self, wanted: pd.DataFrame) -> pd.DataFrame:
        """For rows of ``wanted`` (``row, household_id, on, alive_on``): the people the register in
        force on ``on`` lists in the household who were not dead on ``alive_on`` (deaths from the
        newest knowledge). Returns ``row, id_number``. The register is read once per (household,
        snapshot, alive_on): a household's many payables share a handful of snapshots."""
        snapshot_on = snapshot_dates_for(self.snapshots["as_of"].tolist(), wanted["on"].tolist())
        keys = pd.DataFrame(
            {
                "row": wanted["row"].to_numpy(),
                "household_id": wanted["household_id"].to_numpy(dtype=object),
                "snapshot_on": np.asarray(snapshot_on, dtype=object),
                "alive_on": wanted["alive_on"].to_numpy(dtype=object),
            }
        )
        distinct = keys.drop_duplicates(["household_id", "snapshot_on", "alive_on"], ignore_index=True)[
            ["household_id", "snapshot_on", "alive_on"]
        ]
        distinct["key"] = np.arange(len(distinct))
        versions = self.person_versions[["id_number", "household_id", "from_on", "to_on"]]
        merged = distinct.merge(versions, on="household_id", how="inner")
        if merged.empty:
            return pd.DataFrame({"row": pd.Series([], dtype=np.int64), "id_number": pd.Series([], dtype=object)})
        merged = merged[in_force_at(merged, merged["snapshot_on"])]
        died = merged["id_number"].map(self.people["died_on"]).to_numpy(dtype=object)
        alive_on = merged["alive_on"].to_numpy(dtype=object)
        alive = np.array([d is None or pd.isna(d) or d > a for d, a in zip(died, alive_on)], dtype=bool)
        members = merged[alive][["key", "id_number"]]
        rows = keys.merge(distinct, on=["household_id", "snapshot_on", "alive_on"], how="left")[["row", "key"]]
        return rows.merge(members, on="key", how="inner")[["row", "id_number"]].drop_duplicates()

    def household_version_at(self, wanted: pd.DataFrame) -> pd.DataFrame:
        """For rows of ``wanted`` (``row, household_id, on``): the household's version in force on
        ``on`` (``row, poverty_status, household_type, head_name, account_no``)."""
        snapshot_on = snapshot_dates_for(self.snapshots["as_of"].tolist(), wanted["on"].tolist())
        keyed = wanted.assign(snapshot_on=snapshot_on)
        versions = self.household_versions[
            ["id", "household_id", "from_on", "to_on", "poverty_status", "household_type", "head_name", "account_no"]
        ]
        merged = keyed.merge(versions, on="household_id", how="inner")
        merged = merged[in_force_at(merged, merged["snapshot_on"])]
        return merged.sort_values(["from_on", "id"], kind="stable").drop_duplicates("row", keep="last")

    @cached_property
    def card_holders(self) -> pd.DataFrame:
        """Who each card is registered to, in each version: ``account_no, holder_household_id,
        holder_id_number, holder_name, from_on, to_on`` (a household's card is its head's; a
        person's own card is theirs)."""
        households = self.household_versions[self.household_versions["account_no"].notna()]
        people = self.person_versions[self.person_versions["person_account_no"].notna()]
        return pd.concat(
            [
                pd.DataFrame(
                    {
                        "account_no": households["account_no"].to_numpy(dtype=object),
                        "holder_household_id": households["household_id"].to_numpy(dtype=object),
                        "holder_id_number": households["head_id_number"].to_numpy(dtype=object),
                        "holder_name": households["head_name"].to_numpy(dtype=object),
                        "from_on": households["from_on"].to_numpy(dtype=object),
                        "to_on": households["to_on"].to_numpy(dtype=object),
                    }
                ),
                pd.DataFrame(
                    {
                        "account_no": people["person_account_no"].to_numpy(dtype=object),
                        "holder_household_id": people["household_id"].to_numpy(dtype=object),
                        "holder_id_number": people["id_number"].to_numpy(dtype=object),
                        "holder_name": people["name"].to_numpy(dtype=object),
                        "from_on": people["from_on"].to_numpy(dtype=object),
                        "to_on": people["to_on"].to_numpy(dtype=object),
                    }
                ),
            ],
            ignore_index=True,
        )

    @cached_property
    def events(self) -> pd.DataFrame:
        events = self.frame(
            "SELECT e.kind, e.household_id, e.id_number, e.effective_on, e.details, i.as_of, i.imported_at"
            " FROM register_events e JOIN register_imports i ON i.id = e.import_id ORDER BY e.id"
        )
        events["effective_on"] = dates(events["effective_on"])
        events["as_of"] = dates(events["as_of"])
        events["details"] = [json.loads(text) if text else {} for text in events["details"]]
        return events

    # ------------------------------------------------------------------------------ bank, cards, PV
    @cached_property
    def statement_lines(self) -> pd.DataFrame:
        lines = self.frame(
            "SELECT s.id, s.booked_on, s.txn_id, s.summary, s.counterparty_account, s.counterparty_name, s.amount_fen,"
            " s.memo, a.account_number, a.entity_id FROM statement_lines s JOIN bank_accounts a ON a.id = "
            "s.bank_account_id ORDER BY s.id"
        )
        lines["booked_on"] = dates(lines["booked_on"])
        return _int64(lines, "id", "amount_fen", "entity_id")

    @cached_property
    def account_fixes(self) -> pd.DataFrame:
        fixes = self.frame(
            "SELECT id, payee_type, payee_id, household_id, old_account_no, new_account_no, new_account_name, source,"
            # Approved fixes only: a proposal or a rejected one never redirected a payment.
            " reason, fixed_by, fixed_at FROM account_fixes WHERE status = 'approved' ORDER BY id"
        )
        fixes["fixed_at"] = pd.to_datetime(fixes["fixed_at"]).dt.to_pydatetime() if len(fixes) else []
        return _int64(fixes, "id")

    @cached_property
    def settlements(self) -> pd.DataFrame:
        """PV settlement rows and the run that allocated each (``run_id`` None while unallocated)."""
        settlements = self.frame(
            "SELECT s.id, s.station_id, s.service_period, s.kwh, s.revenue_type, s.amount_fen, s.received_on,"
            " a.run_id, a.allocated_on FROM pv_settlements s LEFT JOIN settlement_allocations a ON a.settlement_id = "
            "s.id ORDER BY s.id"
        )
        settlements["received_on"] = dates(settlements["received_on"])
        settlements["allocated_on"] = dates(settlements["allocated_on"])
        return _int64(settlements, "id", "kwh", "amount_fen")

    @cached_property
    def entity_codes(self) -> dict[int, str]:
        entities = self.frame("SELECT id, code FROM entities")
        return dict(zip(entities["id"].astype(int), entities["code"]))


def snapshot_dates_for(snapshot_dates: list[dt.date], days: list[dt.date]) -> list[dt.date | None]:
    """The snapshot in force on each day: the newest on or before it, else the oldest (a period
    before the first snapshot is read on the oldest one, as the allocation runs read it)."""
    ordered = sorted(snapshot_dates)
    if not ordered:
        return [None] * len(days)
    positions = np.searchsorted(
        np.array(ordered, dtype="datetime64[D]"), np.array(days, dtype="datetime64[D]"), side="right"
    )
    return [ordered[position - 1] if position > 0 else ordered[0] for position in positions]


def in_force_at(versions: pd.DataFrame, snapshot_on: pd.Series) -> np.ndarray:
    """Which rows of ``versions`` (joined with a ``snapshot_on`` per row) were in force then."""
    to_on = versions["to_on"].to_numpy(dtype=object)
    open_ended = pd.isna(to_on)
    at = snapshot_on.to_numpy(dtype=object)
    started = versions["from_on"].to_numpy(dtype=object) <= at
    return started & (open_ended | (np.where(open_ended, at, to_on) > at))
