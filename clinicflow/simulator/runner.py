"""Run a simulation into an organisation: reset (optionally), write the structure, stream the
engine's monthly chunks through the bulk writers in one transaction, record the run and the truth."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.acquisition.ingestion.rules import unique_window
from clinicflow.core.models import Organization
from clinicflow.simulator.engine.core import Simulation
from clinicflow.simulator.models import SimulationRun
from clinicflow.simulator.scenario import Scenario
from clinicflow.simulator.truth import build_truth
from clinicflow.simulator.writers.ledger_finish import finish_ledger
from clinicflow.simulator.writers.sink import DbSink
from clinicflow.simulator.writers.structure import admin_email, write_structure

Progress = Callable[[str, int, float], None]

# The tables a simulation writes (the simulator's own records first); the tables that reference
# them (e.g. care.FollowUpTask, clinical.SignedConsent, whose forms are made afresh) are cleared with
# them.
WRITTEN = [
    "ledger.InvoiceTender",
    "ledger.InvoiceLine",
    "ledger.InvoiceDiscount",
    "ledger.Invoice",
    "marketing.Recipient",
    "marketing.Variant",
    "marketing.Campaign",
    "clinical.Complication",
    "clinical.TreatmentProduct",
    "clinical.TreatmentRecord",
    "clinical.QuoteLine",
    "clinical.Quote",
    "clinical.Consultation",
    "care.RecallContact",
    "feedback.ComplaintEvent",
    "feedback.Complaint",
    "feedback.SurveyAnswer",
    "feedback.Survey",
    "ledger.Account",
    "ledger.MembershipPlan",
    "ledger.PointsProgram",
    "ledger.ReferralProgram",
    "acquisition.CallTagging",
    "acquisition.CallbackTask",
    "acquisition.Call",
    "acquisition.Lead",
    "acquisition.WebSession",
    "acquisition.AdSpend",
    "acquisition.TrackingNumber",
    "acquisition.Campaign",
    "acquisition.Channel",
    "booking.Payment",
    "booking.Appointment",
    "booking.WorkingHours",
    "booking.DoctorService",
    "booking.DoctorBranch",
    "booking.Doctor",
    "booking.Room",
    "patients.ConsentEvent",
    "patients.PatientPhone",
    "patients.Patient",
    "catalogue.ServicePrice",
    "catalogue.Service",
]


@dataclass
class Result:
    truth: dict[str, Any]
    rows: dict[str, int]
    seconds: float
    write_seconds: dict[str, float] = field(default_factory=dict)
    deleted: int = 0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def _tables_to_clear() -> list[type[models.Model]]:
    """The written tables plus every tenant table that references them (deleted with them)."""
    chosen = [apps.get_model(label) for label in WRITTEN]
    seen = set(chosen)
    changed = True
    while changed:
        changed = False
        for model in apps.get_models():
            if model in seen or model._meta.db_table == "core_auditevent":
                continue
            if not any(f.name == "organization" for f in model._meta.concrete_fields):
                continue
            for f in model._meta.concrete_fields:
                if isinstance(f, models.ForeignKey) and f.related_model in seen:
                    chosen.insert(0, model)
                    seen.add(model)
                    changed = True
                    break
    return chosen


def reset_org(org: Organization) -> int:
    """Delete the organisation's rows in every table the simulator writes (and the rows that
    reference them). Staff users are kept. Foreign keys are deferred to the commit."""
    deleted = 0
    org_id = Organization._meta.pk.get_db_prep_value(org.pk, connection)
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # the one deliberate delete the append-only clinical tables allow (clinical migration 0003)
            cur.execute("SELECT set_config('clinicflow.purge_org', %s, true)", [str(org.pk)])
        for model in _tables_to_clear():
            # nosemgrep: sql-built-from-strings — names from model meta and the catalog
            cur.execute(f'DELETE FROM "{model._meta.db_table}" WHERE "organization_id" = %s', [org_id])  # nosec B608 # noqa: S608 - table names from models
            deleted += max(cur.rowcount, 0)
        table = SimulationRun._meta.db_table
        # nosemgrep: sql-built-from-strings — names from model meta and the catalog
        cur.execute(f'DELETE FROM "{table}" WHERE "organization_id" = %s', [org_id])  # nosec B608 # noqa: S608 - table name from models
    return deleted


def has_simulated_data(org: Organization) -> bool:
    return SimulationRun.objects.for_org(org).exists()


def _fast_bulk_session() -> None:
    """PostgreSQL: skip per-row foreign-key triggers for this transaction (the generator keeps
    referential integrity by construction; the exclusion constraints still apply). Needs a role
    allowed to set session_replication_role; silently skipped otherwise."""
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SET LOCAL session_replication_role = replica")
    except Exception:
        return
    with connection.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")


class IndexRebuild:
    """Bulk load into *empty* tables (SQLite: their indexes; PostgreSQL: their secondary indexes
    and their unique and exclusion constraints): drop them, load, then recreate them all in the
    same transaction. Recreating validates every row, so the unique and exclusion constraints
    (no double booking) still judge all the data; it is just much cheaper than maintaining GiST and
    B-tree indexes row by row."""

    BIG = (
        "booking.Appointment",
        "booking.Payment",
        "acquisition.Call",
        "acquisition.CallTagging",
        "acquisition.CallbackTask",
        "acquisition.WebSession",
        "acquisition.Lead",
        "patients.Patient",
        "patients.PatientPhone",
        "patients.ConsentEvent",
        "clinical.Consultation",
        "clinical.TreatmentRecord",
        "clinical.TreatmentProduct",
        "feedback.Survey",
        "feedback.SurveyAnswer",
        "care.FollowUpTask",
        "ledger.Invoice",
        "ledger.InvoiceLine",
        "ledger.InvoiceTender",
    )

    def __init__(self) -> None:
        self.indexes: list[str] = []
        self.constraints: list[tuple[str, str, str]] = []

    def drop(self) -> None:
        if connection.vendor == "sqlite":
            self._drop_sqlite()
            return
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # run deferred checks of a reset now
            cur.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in self._empty_tables(cur):
                cur.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype IN ('u', 'x')",
                    [table],
                )
                for name, definition in cur.fetchall():
                    self.constraints.append((table, name, definition))
                    # nosemgrep: sql-built-from-strings — names from model meta and the catalog
                    cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                cur.execute(
                    "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                    [table],
                )
                self._drop_indexes(cur)

    def _drop_sqlite(self) -> None:
        with connection.cursor() as cur:
            for table in self._empty_tables(cur):
                cur.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                    "AND sql IS NOT NULL",
                    [table],
                )
                self._drop_indexes(cur)

    def _empty_tables(self, cur: CursorWrapper) -> list[str]:
        """The big tables that hold no rows yet: only those lose their indexes for the bulk load."""
        empty = []
        for label in self.BIG:
            table = apps.get_model(label)._meta.db_table
            # nosemgrep: sql-built-from-strings — names from model meta and the catalog
            cur.execute(f'SELECT 1 FROM "{table}" LIMIT 1')  # nosec B608 # noqa: S608 - table name from models
            if cur.fetchone() is None:
                empty.append(table)
        return empty

    def _drop_indexes(self, cur: CursorWrapper) -> None:
        """Drop the (name, definition) indexes the last query listed, keeping each definition to restore."""
        for name, definition in cur.fetchall():
            self.indexes.append(definition)
            # nosemgrep: sql-built-from-strings — names from model meta and the catalog
            cur.execute(f'DROP INDEX "{name}"')

    def restore(self) -> None:
        if connection.vendor == "sqlite":
            with connection.cursor() as cur:
                cur.execute("PRAGMA cache_size")
                (cache,) = cur.fetchone()
                cur.execute("PRAGMA cache_size = -262144")  # 256 MiB while the indexes are sorted
                for definition in self.indexes:
                    t = time.perf_counter()
                    cur.execute(definition)
                    if os.environ.get("CF_SIM_DEBUG"):
                        print(f"{time.perf_counter() - t:6.2f} {definition[:90]}")
                # nosemgrep: sql-built-from-strings — names from model meta and the catalog
                cur.execute(f"PRAGMA cache_size = {int(cache)}")
            return
        with connection.cursor() as cur:
            # one sort budget shared by the build and its parallel workers; at chain scale (24 million
            # rows) 1 GB keeps the big tables' sorts in memory (512 MB: 124 s of rebuild, 1 GB: 108 s)
            cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
            for definition in self.indexes:
                t = time.perf_counter()
                cur.execute(definition)
                if os.environ.get("CF_SIM_DEBUG"):
                    print(f"{time.perf_counter() - t:6.2f} {definition[:90]}")
            for table, name, definition in self.constraints:
                t = time.perf_counter()
                # nosemgrep: sql-built-from-strings — names from model meta and the catalog
                cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
                if os.environ.get("CF_SIM_DEBUG"):
                    print(f"{time.perf_counter() - t:6.2f} {name}")


def simulate_org(
    *,
    org: Organization,
    scenario: Scenario,
    seed: int,
    reset: bool = False,
    truth_path: str | Path | None = None,
    progress: Progress | None = None,
    rebuild_indexes: bool | None = None,
    now: dt.datetime | None = None,
) -> Result:
    """Simulate ``scenario`` into ``org``. ``rebuild_indexes`` (default: for runs of more than 20,000
    patients) drops and recreates the indexes of the big tables when they are empty. ``now`` (an
    aware datetime, default: the present moment) ends the data: a run ending today has its later
    visits booked or confirmed and no call, payment or answer after it; a run ending on an earlier
    day ends with that day."""
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValueError("now: must be an aware datetime")
    t0 = time.perf_counter()
    with transaction.atomic():
        _fast_bulk_session()
        deleted = reset_org(org) if reset else 0
        sim = Simulation(
            scenario,
            seed,
            unique_window_days=unique_window().days,
            id_salt=zlib.crc32(org.slug.encode()),
            now=int(now.timestamp()),
        )
        if rebuild_indexes is None:
            rebuild_indexes = sim.expected_patients() > 20_000
        rebuild = IndexRebuild() if rebuild_indexes else None
        if rebuild:
            rebuild.drop()
        ctx = write_structure(sim, org)
        sink = DbSink(sim, ctx)

        def on_month(phase: str, _rows: int) -> None:
            if progress:
                progress(phase, sink.total_rows, time.perf_counter() - t0)

        try:
            sim.run(sink, on_month)
        finally:
            sink.close()
        if progress:
            progress("ledger", sink.total_rows, time.perf_counter() - t0)
        # the fees earned by the simulation's "now" (not the structure's end-of-day stamp)
        finish_ledger(org, dt.datetime.fromtimestamp(sim.world.now, dt.UTC), sim.id_rng)
        if rebuild:
            if progress:
                progress("indexes", sink.total_rows, time.perf_counter() - t0)
            rebuild.restore()
        emails = [admin_email(org, i) for i in range(len(scenario.administrators))]
        truth = build_truth(sim, org_slug=org.slug, rows=dict(sink.rows), admin_emails=emails)
        admins = dict(User.objects.filter(email__in=emails).values_list("email", "id"))
        for a in truth["administrators"]:
            a["user_id"] = str(admins.get(a["email"], ""))
        SimulationRun.objects.create(
            organization=org,
            scenario=scenario.source,
            seed=seed,
            months=scenario.months,
            start_date=sim.cal.start,
            end_date=sim.cal.end,
            rows=dict(sink.rows),
            truth={"seed": seed, "scenario": scenario.source},
        )
        if os.environ.get("CF_SIM_DEBUG"):
            print(f"before commit {time.perf_counter() - t0:.1f}")
    seconds = time.perf_counter() - t0
    truth["elapsed_seconds"] = round(seconds, 2)
    if truth_path:
        Path(truth_path).write_text(json.dumps(truth, indent=2, ensure_ascii=False, default=str) + "\n")
    return Result(
        truth=truth, rows=dict(sink.rows), seconds=seconds, write_seconds=dict(sink.seconds), deleted=deleted
    )


def today() -> dt.date:
    return dt.date.today()  # noqa: DTZ011 - the calendar date the demo ends on
