"""The portable way to store a call event (any database; the reference for the PostgreSQL statement):
lock the call's row, insert it or merge the event into it, then the callbacks — every step from
``rules``."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinicflow.acquisition.ingestion import attribution, lookups, rules
from clinicflow.acquisition.ingestion.event import Incoming, IngestResult
from clinicflow.acquisition.ingestion.terms import Terms, as_q
from clinicflow.acquisition.models import Call, CallbackTask, WebSession
from clinicflow.patients.selectors import patient_find_by_phone


def ingest(item: Incoming) -> IngestResult:
    """Upsert one call event on (organisation, provider, provider call id) in one transaction."""
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(**item.key).first()
        created = False
        if call is None:
            call, created = _insert(item)
        before = None if created else call.status
        changed = created or _merge(call, item)
        values = rules.window_values(
            caller_e164=call.caller_e164, caller_raw=call.caller_raw, started_at=call.started_at
        )
        same = rules.same_caller(call.caller_e164, call.caller_raw)
        if rules.opens_callback(call.status, before):
            _open_callback(item, call, same, values)
        if rules.closes_callbacks(call.status, before) and values["phone"]:
            CallbackTask.objects.for_org(item.org).filter(as_q(rules.OPEN_EARLIER_CALLBACKS, values)).update(
                done_at=call.started_at, outcome=rules.GOT_THROUGH
            )
    return IngestResult(call=call, created=created, changed=changed)


def _insert(item: Incoming) -> tuple[Call, bool]:
    """Insert the call unless a concurrent delivery did; (the locked row, whether this one made it)."""
    org = item.org
    event = item.event
    now = timezone.now()
    new = Call(
        organization=org,
        provider=item.provider,
        provider_call_id=event.provider_call_id,
        integration=item.integration,
        branch_id=item.branch_id,
        tracking_number=item.number,
        called_number=item.called,
        caller_e164=item.caller_e164,
        caller_raw=item.caller_raw,
        started_at=event.started_at,
        status=event.status,
        status_rank=item.rank,
        payload=dict(item.payload),
        created_at=now,
        updated_at=now,
        **{k: v for k, v in item.values.items() if not rules.is_empty(k, v)},
        **attribution.for_call(item),
    )
    same = rules.same_caller(item.caller_e164, item.caller_raw)
    values = item.window_values()
    calls = Call.objects.for_org(org)
    if same:
        new.is_unique = not calls.filter(as_q(same + rules.EARLIER_IN_WINDOW, values)).exists()
    if item.caller_e164:
        new.patient_id = rules.first_patient(patient_find_by_phone(org=org, e164=item.caller_e164))
    Call.objects.bulk_create([new], ignore_conflicts=True)
    if Call.objects.filter(**item.key).values_list("pk", flat=True).first() != new.pk:
        return Call.objects.select_for_update().filter(**item.key).get(), False
    if same:
        calls.filter(as_q(same + rules.LATER_IN_WINDOW, values)).exclude(pk=new.pk).update(is_unique=False)
    if new.patient_id and new.session_id:
        WebSession.objects.for_org(org).filter(pk=new.session_id, patient__isnull=True).update(
            patient_id=new.patient_id
        )
    return new, True


def _merge(call: Call, item: Incoming) -> bool:
    higher = item.rank > call.status_rank
    stored = {name: getattr(call, name) for name in rules.MERGE_FIELDS}
    update: dict[str, Any] = rules.merge(stored, item.values, higher=higher)
    if higher:
        update.update(status=item.event.status, status_rank=item.rank, payload=dict(item.payload))
    if not update:
        return False
    update["updated_at"] = timezone.now()
    for name, value in update.items():
        setattr(call, name, value)
    call.save(update_fields=list(update))
    return True


def _open_callback(item: Incoming, call: Call, same: Terms, values: dict[str, Any]) -> None:
    answered_later = (
        Call.objects.for_org(item.org)
        .filter(as_q(same + rules.GOT_THROUGH_LATER, values) if same else Q(pk=None))
        .order_by("started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    CallbackTask.objects.bulk_create(
        [
            CallbackTask(
                organization=item.org,
                call=call,
                branch_id=call.branch_id,
                phone=values["phone"],
                due_at=rules.callback_due(
                    started_at=call.started_at,
                    ended_at=call.ended_at,
                    minutes=lookups.callback_minutes(item.org),
                ),
                done_at=answered_later,
                outcome=rules.GOT_THROUGH if answered_later else "",
            )
        ],
        ignore_conflicts=True,
    )
