"""Changes the daily facts must follow, recorded as ``FactsChange`` rows in the same transaction as the
change (connected in ``AnalyticsConfig.ready``; no other app's file is edited, as webhooks do):

- an appointment created, moved (start, branch) or whose status changed, or deleted: its former and
  new moments, and what it was before (so its patient's former first visit is known);
- a payment, a survey answer, a call or a lead saved or deleted, a web session started: its moment;
  when one is moved to another patient (a call or a web session put on the right card), branch or
  moment: its former patient, branch and moment too; a web session deleted;
- a patient card created, its source changed or merged: its creation moment (new patients, referral);
- an appointment's doctor, service, room, end or patient changed (the load, the revenue per doctor and
  service, the first visit's doctor): a change of its patient(s) on its day and on its payments' days;
- a doctor's link to a branch made or removed, a room activated, deactivated, added or removed (the
  working windows and the rooms' capacity): a ``SPAN`` marker of the branch, every day the facts cover;
- a branch's time zone changed or the branch (de)activated (every local day and every first visit
  counted there moves): a ``CLOCK`` marker of the branch, every day and the patients whose first visits
  are counted at that branch (``changes.apply_changes`` resolves the markers when it applies them).

- rows a service writes in bulk as users work (``core.signals.bulk_written``: a call event stored by
  the call ingestion with its callback task, care's follow-up tasks): each one's patient and moment.

Other bulk writes (``bulk_create``, ``update``: the simulator and imports) send no signals; ``clinicflow
analytics rebuild`` rebuilds the facts after them (and the hourly ``jobs.refresh_facts`` the days around
today)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models.signals import post_delete, post_init, post_save
from django.utils import timezone

from clinicflow.acquisition.ingestion import pgsql
from clinicflow.acquisition.models import Call, Lead, WebSession
from clinicflow.analytics.models import FactsChange
from clinicflow.analytics.owner import cap_changes, score_signals
from clinicflow.booking.models import Appointment, DoctorBranch, Payment, Room
from clinicflow.core.models import Branch
from clinicflow.core.signals import bulk_written
from clinicflow.patients.models import Patient

ORIGINAL = "_facts_original"
MERGED = "merged"  # ``was_status`` of the change recorded for the card a duplicate was merged into
# ``was_status`` of markers (``at`` is not a day of theirs): every day the facts cover, at the branch
SPAN = "span"
# ... and the branch's clock changed: the first visits counted there move to their new local days
CLOCK = "branch_clock"
MARKERS = frozenset({SPAN, CLOCK})
# ``was_status`` of a change of the load only (working hours, breaks, exceptions, closures:
# ``cap_changes``): its day's load is built again, nothing else of the day changed
LOAD = "load"
# ``was_status`` of a payment's change (its first patient's cohort and channel facts follow by the day
# and month paid alone, ``fact_events``) and of a card's (sex, birth date, source: the first patient's
# own facts, built again whole)
PAYMENT, CARD = "payment", "card"
OTHER = "_facts_other"  # an appointment's fields the facts read besides its moment, status and branch


def _other(v: dict[str, Any]) -> tuple[Any, ...]:
    return (v.get("patient_id"), v.get("doctor_id"), v.get("service_id"), v.get("room_id"), v.get("end_at"))


def _remember_appointment(sender: Any, instance: Appointment, **kw: Any) -> None:
    v = instance.__dict__
    setattr(instance, ORIGINAL, (v.get("start_at"), v.get("status"), v.get("branch_id")))
    setattr(instance, OTHER, _other(v))


def _remember_patient(sender: Any, instance: Patient, **kw: Any) -> None:
    v = instance.__dict__
    # sex and birth date: the patient profile's channel facts (#17)
    setattr(instance, ORIGINAL, (v.get("source"), v.get("merged_into_id"), v.get("sex"), v.get("birth_date")))


def _appointment_saved(
    sender: Any, instance: Appointment, created: bool, raw: bool = False, **kw: Any
) -> None:
    if raw:
        return
    was = getattr(instance, ORIGINAL, (None, None, None))
    now = (instance.start_at, instance.status, instance.branch_id)
    other, other_now = getattr(instance, OTHER, None), _other(instance.__dict__)
    setattr(instance, OTHER, other_now)
    rows: list[FactsChange] = []
    if not created and other is not None and other != other_now:
        rows += _edited(instance, {other[0], instance.patient_id})
    if created or was != now:
        rows.append(_change(instance, instance.start_at, instance.branch_id, None if created else was))
        if not created and was[0] is not None and was[0] != instance.start_at:
            rows.append(_change(instance, was[0], was[2], was))
    if rows:
        FactsChange.objects.bulk_create(rows)
    setattr(instance, ORIGINAL, now)


def _edited(a: Appointment, patients: set[Any]) -> list[FactsChange]:
    """An appointment's doctor, service, room, end or patient changed: a change of each of its patients
    (before and now: their first visit's facts) on its day and on the days of its payments (their
    revenue per doctor and service)."""
    moments = [(a.branch_id, a.start_at)]
    moments += list(Payment.objects.filter(appointment_id=a.pk).values_list("branch_id", "paid_at"))
    return [
        FactsChange(organization_id=a.organization_id, patient_id=p, branch_id=b, at=at)
        for p in sorted(patients - {None}, key=str)
        for b, at in moments
    ]


def _appointment_deleted(sender: Any, instance: Appointment, **kw: Any) -> None:
    was = getattr(instance, ORIGINAL, (instance.start_at, instance.status, instance.branch_id))
    FactsChange.objects.create(
        organization_id=instance.organization_id,
        patient_id=instance.patient_id,
        branch_id=was[2],
        at=was[0] or instance.start_at,
        appointment_id=instance.pk,
        was_start=was[0],
        was_status=was[1] or "",
        was_branch_id=was[2],
    )


def _change(a: Appointment, at: Any, branch: Any, was: tuple[Any, Any, Any] | None) -> FactsChange:
    return FactsChange(
        organization_id=a.organization_id,
        patient_id=a.patient_id,
        branch_id=branch,
        at=at,
        appointment_id=a.pk,
        was_start=was[0] if was else None,
        was_status=(was[1] or "") if was else "",
        was_branch_id=was[2] if was else None,
    )


MOMENT = "_facts_moment"  # a payment's, call's, lead's, answer's or session's (patient, branch, moment)


def _where(instance: Any, field: str) -> tuple[Any, Any, Any]:
    v = instance.__dict__
    return (v.get("patient_id"), v.get("branch_id"), v.get(field))


def _moment(field: str, *, moves_only: bool = False, kind: str = "") -> tuple[Any, Any]:
    """Receivers of a row with a moment (``field``): one remembering its patient, branch and moment as
    loaded, one recording a change of them as they are now and — when the row moved to another patient,
    branch or moment — as they were (the former patient's facts follow too: a call, a payment or a web
    session put on the right card). ``moves_only`` (web sessions): a save records only when the row is
    created or moved (its other saves are the visit's hits, which move nothing the facts count)."""

    def remember(sender: Any, instance: Any, **kw: Any) -> None:
        setattr(instance, MOMENT, _where(instance, field))

    def record(sender: Any, instance: Any, raw: bool = False, created: bool = False, **kw: Any) -> None:
        if raw:
            return
        now = _where(instance, field)
        was: tuple[Any, Any, Any] | None = getattr(instance, MOMENT, None)
        setattr(instance, MOMENT, now)
        places = [now]
        if not created and was is not None and was != now:
            places.append(was)
        elif moves_only and not created and kw.get("signal") is not post_delete:
            return
        FactsChange.objects.bulk_create(
            [
                FactsChange(
                    organization_id=instance.organization_id,
                    patient_id=p,
                    branch_id=b,
                    at=at,
                    was_status=kind,
                )
                for p, b, at in places
                if at is not None
            ]
        )

    return remember, record


def _patient_saved(sender: Any, instance: Patient, created: bool, raw: bool = False, **kw: Any) -> None:
    now = (instance.source, instance.merged_into_id, instance.sex, instance.birth_date)
    if raw or (not created and getattr(instance, ORIGINAL, None) == now):
        return
    rows = [
        FactsChange(
            organization_id=instance.organization_id,
            patient_id=instance.pk,
            branch_id=instance.branch_id,
            at=instance.created_at,
            was_status=CARD,
        )
    ]
    if instance.merged_into_id is not None:
        # a merge moves the duplicate's rows onto the kept card in bulk: every day of its history
        rows.append(
            FactsChange(
                organization_id=instance.organization_id,
                patient_id=instance.merged_into_id,
                branch_id=instance.branch_id,
                at=instance.created_at,
                was_status=MERGED,
            )
        )
    FactsChange.objects.bulk_create(rows)
    setattr(instance, ORIGINAL, now)


def _bulk_written(sender: Any, organization_id: Any, moments: list[tuple[Any, Any, Any]], **kw: Any) -> None:
    """Rows a service wrote in bulk (``core.signals.bulk_written``: an ingested call, care's follow-up
    tasks): a change of each (patient, branch, moment), once each."""
    seen = sorted({m for m in moments if m[2] is not None}, key=str)
    FactsChange.objects.bulk_create(
        [FactsChange(organization_id=organization_id, patient_id=p, branch_id=b, at=at) for p, b, at in seen]
    )


def _ingested_cte(has_later: bool, has_closed: bool) -> str:
    """The call ingestion's one PostgreSQL statement records its changes itself (``pgsql.EFFECTS``):
    the stored call's patient, branch and moment, the later calls whose unique flag it took, the due
    moments of the callback task it opened and of those it closed — as ``bulk_written`` does for the
    portable path."""
    later = " UNION ALL SELECT patient_id, branch_id, started_at FROM later" if has_later else ""
    later += " UNION ALL SELECT NULL, branch_id, due_at FROM closed" if has_closed else ""
    cols = "id, organization_id, patient_id, branch_id, at, appointment_id, was_start, was_status, "
    return (
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        f"facts AS (INSERT INTO {FactsChange._meta.db_table} ({cols}was_branch_id, created_at) "  # nosec B608 # noqa: S608 - names from model meta
        "SELECT gen_random_uuid(), %(org)s, m.patient_id, m.branch_id, m.at, NULL, NULL, '', NULL, %(now)s "
        "FROM (SELECT patient_id, branch_id, started_at AS at FROM ins"
        f"{later} UNION ALL SELECT NULL, branch_id, due_at FROM cb) m)"
    )


def _marker(org_id: Any, branch_id: Any, kind: str) -> FactsChange:
    return FactsChange(
        organization_id=org_id,
        branch_id=branch_id,
        at=timezone.now(),
        was_status=kind,
        was_branch_id=branch_id,
    )


def _remember_place(sender: Any, instance: Any, **kw: Any) -> None:
    v = instance.__dict__
    if sender is Branch:
        state: tuple[Any, ...] = (v.get("timezone"), v.get("is_active"))
    elif sender is Room:
        state = (v.get("branch_id"), v.get("is_active"))
    else:
        state = (v.get("branch_id"), v.get("doctor_id"))
    setattr(instance, ORIGINAL, state)


def _place_saved(sender: Any, instance: Any, created: bool, raw: bool = False, **kw: Any) -> None:
    """A branch's clock, a room's activation or a doctor's link changed: markers of the branches."""
    was = getattr(instance, ORIGINAL, None)
    _remember_place(sender, instance)
    now = getattr(instance, ORIGINAL)
    if raw or (not created and was == now):
        return
    org_id = instance.organization_id
    if sender is Branch:
        if not created:  # a new branch has no facts yet
            FactsChange.objects.bulk_create([_marker(org_id, instance.pk, CLOCK)])
        return
    if sender is Room and created and not instance.is_active:
        return
    branches = {now[0]} | ({was[0]} if was is not None and not created else set())
    FactsChange.objects.bulk_create([_marker(org_id, b, SPAN) for b in sorted(branches - {None}, key=str)])


def _place_deleted(sender: Any, instance: Any, **kw: Any) -> None:
    was = getattr(instance, ORIGINAL, None)
    if sender is Branch or (sender is Room and was is not None and not was[1]):
        return  # a branch's facts go with it; an inactive room counted nothing
    FactsChange.objects.bulk_create([_marker(instance.organization_id, instance.branch_id, SPAN)])


_RECEIVERS: list[Any] = []  # strong references: the signals hold weak ones


def connect() -> None:
    post_init.connect(_remember_appointment, sender=Appointment, dispatch_uid="facts_appt_init")
    post_save.connect(_appointment_saved, sender=Appointment, dispatch_uid="facts_appt_save")
    post_delete.connect(_appointment_deleted, sender=Appointment, dispatch_uid="facts_appt_delete")
    post_init.connect(_remember_patient, sender=Patient, dispatch_uid="facts_patient_init")
    post_save.connect(_patient_saved, sender=Patient, dispatch_uid="facts_patient_save")
    for place in (Branch, Room, DoctorBranch):  # the branches' clocks, rooms and doctors' links
        label = place._meta.label_lower
        post_init.connect(_remember_place, sender=place, dispatch_uid=f"facts_{label}_init")
        post_save.connect(_place_saved, sender=place, dispatch_uid=f"facts_{label}_save")
        post_delete.connect(_place_deleted, sender=place, dispatch_uid=f"facts_{label}_delete")
    moments: list[tuple[Any, str, bool]] = [
        (Payment, "paid_at", False),
        (Call, "started_at", False),
        (Lead, "created_at", False),
        (WebSession, "started_at", True),  # its moment when it starts, or is put on a card (#17)
    ]
    if apps.is_installed("clinicflow.feedback"):
        moments.append((apps.get_model("feedback", "SurveyAnswer"), "answered_at", False))
    for model, field, moves_only in moments:
        remember, record = _moment(field, moves_only=moves_only, kind=PAYMENT if model is Payment else "")
        _RECEIVERS.extend((remember, record))
        label = model._meta.label_lower
        post_init.connect(remember, sender=model, dispatch_uid=f"facts_{label}_init")
        post_save.connect(record, sender=model, dispatch_uid=f"facts_{label}_save")
        post_delete.connect(record, sender=model, dispatch_uid=f"facts_{label}_delete")
    bulk_written.connect(_bulk_written, dispatch_uid="facts_bulk_written")
    pgsql.register_effect(_ingested_cte)  # the call ingestion's one statement (PostgreSQL)
    cap_changes.connect()  # working hours, breaks, exceptions and closures: the load facts' days (#17)
    score_signals.connect()  # follow-ups, callbacks, treatment records, complications: the score facts
