"""Call ingestion: a provider's call event becomes one stored call with its attribution, patient match,
uniqueness and callback (idempotent by the provider's call id)."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from clinicflow.acquisition.attribution import DIRECT, Visit, classify_visit
from clinicflow.acquisition.defaults import channel_for_code, tracking_settings
from clinicflow.acquisition.models import (
    STATUS_RANK,
    AttributionMethod,
    Call,
    CallbackTask,
    CallStatus,
    Campaign,
    ChannelCode,
    ChannelKind,
    Integration,
    NumberLease,
    NumberPool,
    TrackingNumber,
    WebSession,
)
from clinicflow.acquisition.providers import CallEvent
from clinicflow.core import rawsql
from clinicflow.core.ids import uuid7
from clinicflow.core.models import Organization
from clinicflow.core.phones import try_normalize
from clinicflow.patients.models import Patient, PatientPhone
from clinicflow.patients.selectors import patient_find_by_phone

if TYPE_CHECKING:
    from clinicflow.accounts.models import User

DEFAULT_CHANNEL_NAMES = {
    ChannelCode.SEARCH_ADS: ("Search ads", ChannelKind.PAID),
    ChannelCode.SOCIAL_ADS: ("Social ads", ChannelKind.PAID),
    ChannelCode.ORGANIC: ("SEO / organic", ChannelKind.FREE),
    ChannelCode.AGGREGATOR: ("Aggregators", ChannelKind.PAID),
    ChannelCode.REFERRAL: ("Referral", ChannelKind.FREE),
    ChannelCode.OFFLINE: ("Offline ads", ChannelKind.OFFLINE),
    ChannelCode.DIRECT: ("Direct / unknown", ChannelKind.FREE),
}
SESSION_TIMEOUT = dt.timedelta(minutes=30)


def unique_window() -> dt.timedelta:
    return dt.timedelta(days=int(settings.CLINICFLOW.get("UNIQUE_CALL_WINDOW_DAYS", 30)))


def _actor(actor: User | None) -> User | None:
    return actor if actor is not None and actor.pk else None


# --- call ingestion -----------------------------------------------------------------------------------


@dataclass
class IngestResult:
    call: Call
    created: bool
    changed: bool


def _static_attribution(number: TrackingNumber | None) -> dict[str, Any] | None:
    """A static number (printed on an offline ad) attributes the call to its campaign or channel."""
    if number is None or number.pool != NumberPool.STATIC or not (number.campaign_id or number.channel_id):
        return None
    campaign = number.campaign
    return {
        "attribution_method": AttributionMethod.STATIC,
        "channel_id": number.channel_id or (campaign.channel_id if campaign else None),
        "campaign_id": number.campaign_id,
        "source": campaign.utm_source if campaign else "",
        "medium": campaign.utm_medium if campaign else "",
        "utm_campaign": campaign.utm_campaign if campaign else "",
    }


def _attribution(
    *, org: Organization, number: TrackingNumber | None, at: dt.datetime, event: CallEvent
) -> dict[str, Any]:
    """number → the web session that held it at that time → source/medium/campaign; a static number →
    its campaign; a source reported by the provider; otherwise direct/unknown."""
    if number is not None and number.pool == NumberPool.DYNAMIC:
        lease = (
            NumberLease.objects.for_org(org)
            .filter(number=number, leased_at__lte=at, held_until__gte=at)
            .select_related("session")
            .order_by("-leased_at")
            .first()
        )
        if lease is not None:
            s = lease.session
            return {
                "attribution_method": AttributionMethod.SESSION,
                "session_id": s.pk,
                "channel_id": s.channel_id,
                "campaign_id": s.campaign_id,
                "source": s.source,
                "medium": s.medium,
                "utm_campaign": s.utm_campaign,
            }
    static = _static_attribution(number)
    if static is not None:
        return static
    if event.utm_source or event.utm_medium or event.source:
        visit = Visit(
            utm_source=event.utm_source or event.source, utm_medium=event.utm_medium or event.medium
        )
        found = classify_visit(visit)
        campaign = (
            Campaign.objects.for_org(org).filter(utm_campaign=event.utm_campaign).first()
            if event.utm_campaign
            else None
        )
        channel = campaign.channel if campaign else channel_for_code(org=org, code=found.channel)
        return {
            "attribution_method": AttributionMethod.PROVIDER,
            "channel_id": channel.pk,
            "campaign_id": campaign.pk if campaign else None,
            "source": found.source,
            "medium": found.medium,
            "utm_campaign": event.utm_campaign,
        }
    return {
        "attribution_method": AttributionMethod.NONE,
        "channel_id": _direct_channel_id(org),
        "campaign_id": None,
        "source": "(direct)",
        "medium": "(none)",
        "utm_campaign": "",
    }


MERGE_FIELDS = ("answered_at", "ended_at", "duration", "recording_url", "administrator_id")


def _event_values(org: Organization, event: CallEvent) -> dict[str, Any]:
    admin_id = None
    if event.administrator_email:
        from clinicflow.accounts.models import User

        email = event.administrator_email
        admin_id = _cached(
            "admin",
            org,
            email.lower(),
            lambda: (
                User.objects.filter(organization=org, email__iexact=email)
                .values_list("pk", flat=True)
                .first()
            ),
        )
    return {
        "answered_at": event.answered_at,
        "ended_at": event.ended_at,
        "duration": event.duration,
        "recording_url": event.recording_url,
        "administrator_id": admin_id,
    }


_TTL = 10.0
_lookup_cache: dict[tuple[str, str, str], tuple[float, Any]] = {}


def _cached(kind: str, org: Organization, key: str, load: Any) -> Any:
    """A short-lived per-process cache for hot webhook lookups (numbers, channels, settings)."""
    ck = (kind, str(org.pk), key)
    now = time.monotonic()
    hit = _lookup_cache.get(ck)
    if hit is not None and now - hit[0] < _TTL:
        return hit[1]
    value = load()
    if len(_lookup_cache) > 50_000:
        _lookup_cache.clear()
    _lookup_cache[ck] = (now, value)
    return value


def clear_caches() -> None:
    _lookup_cache.clear()


def _number_for(org: Organization, e164: str) -> TrackingNumber | None:
    if not e164:
        return None
    return _cached(
        "number",
        org,
        e164,
        lambda: TrackingNumber.objects.for_org(org).select_related("campaign").filter(e164=e164).first(),
    )


def _direct_channel_id(org: Organization) -> Any:
    return _cached("channel", org, DIRECT, lambda: channel_for_code(org=org, code=DIRECT).pk)


def _callback_minutes(org: Organization) -> int:
    return int(_cached("settings", org, "callback", lambda: tracking_settings(org=org).callback_minutes))


def call_ingest(
    *,
    org: Organization,
    integration: Integration | None,
    provider: str,
    event: CallEvent,
    payload: Mapping[str, Any],
) -> IngestResult:
    """Upsert one call event on (organisation, provider, provider call id).

    Duplicates and out-of-order events end as one row: the status never goes backwards (a lower-rank
    event only fills empty fields), so any order of the same events gives the same row. On PostgreSQL
    the whole event is one statement (``_ingest_pg``): ``INSERT ... ON CONFLICT DO UPDATE ... WHERE``
    the event changes something, ``RETURNING (xmax = 0)`` to tell an insert from a merge, and the
    unique flag, patient match, web-session attribution and callback work as sub-queries and
    data-modifying CTEs; a duplicate that changes nothing is answered from a lock-free read and writes
    nothing. Other databases take the ORM path below (same rules)."""
    branch_obj = integration.branch if integration is not None and integration.branch_id else None
    region = (branch_obj.country if branch_obj is not None else "") or org.country
    rank = STATUS_RANK[CallStatus(event.status)]
    values = _event_values(org, event)
    if connection.vendor == "postgresql":
        result = _ingest_pg(
            org=org,
            integration=integration,
            provider=provider,
            event=event,
            payload=payload,
            region=region,
            rank=rank,
            values=values,
        )
        if result is not None:
            _touch_integration(integration)
            return result
    key = {"organization": org, "provider": provider, "provider_call_id": event.provider_call_id}
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(**key).first()
        created = False
        if call is None:
            caller_e164 = try_normalize(event.caller, region) or ""
            called_e164 = try_normalize(event.called, region) or ""
            number = _number_for(org, called_e164)
            attribution = _attribution(org=org, number=number, at=event.started_at, event=event)
            branch_id = (number.branch_id if number else None) or (
                integration.branch_id if integration else None
            )
            now = timezone.now()
            new = Call(
                organization=org,
                provider=provider,
                provider_call_id=event.provider_call_id,
                integration=integration,
                branch_id=branch_id,
                tracking_number=number,
                called_number=called_e164 or event.called[:40],
                caller_e164=caller_e164,
                caller_raw=event.caller[:40],
                started_at=event.started_at,
                status=event.status,
                status_rank=rank,
                payload=dict(payload),
                created_at=now,
                updated_at=now,
                **{k: v for k, v in values.items() if v not in (None, "")},
                **attribution,
            )
            _prepare_insert(org=org, call=new)
            Call.objects.bulk_create([new], ignore_conflicts=True)
            winner = Call.objects.filter(**key).values_list("pk", flat=True).first()
            created = winner == new.pk
            if created:
                call = new
                _after_insert(org=org, call=call)
            else:
                call = Call.objects.select_for_update().filter(**key).get()
        changed = created
        old_status = call.status
        if not created:
            changed = _merge(call, event, rank, values, payload)
        if call.status == CallStatus.MISSED and (created or old_status != CallStatus.MISSED):
            _callback_for_missed(org=org, call=call)
        if call.status in (CallStatus.ANSWERED, CallStatus.COMPLETED) and (
            created or old_status != call.status
        ):
            _close_callbacks(org=org, call=call)
    _touch_integration(integration)
    return IngestResult(call=call, created=created, changed=changed)


def _touch_integration(integration: Integration | None) -> None:
    """Record the integration's last event, at most once a minute per process."""
    if integration is not None:
        now = timezone.now()
        if integration.last_event_at is None or now - integration.last_event_at > dt.timedelta(minutes=1):
            integration.last_event_at = now
            Integration.objects.filter(pk=integration.pk).update(last_event_at=now)


# Merge rules of ``_merge`` in SQL (``T`` = the stored row, ``EXCLUDED`` = the event): a higher rank
# takes status, payload and every non-empty field; a lower or equal rank only fills empty fields.
_EMPTY = {"recording_url": "{t}.{c} = ''"}
_FILLED = {"recording_url": "{t}.{c} <> ''"}


def _merge_sql(t: str) -> tuple[str, str]:
    """(SET list, WHERE guard) of the ON CONFLICT update."""
    higher = f"EXCLUDED.status_rank > {t}.status_rank"
    sets = [
        f"status = CASE WHEN {higher} THEN EXCLUDED.status ELSE {t}.status END",
        f"status_rank = GREATEST({t}.status_rank, EXCLUDED.status_rank)",
        f"payload = CASE WHEN {higher} THEN EXCLUDED.payload ELSE {t}.payload END",
    ]
    guard = [higher]
    for name in MERGE_FIELDS:
        col = name  # the attribute names of MERGE_FIELDS are their column names
        filled = _FILLED.get(name, "{t}.{c} IS NOT NULL").format(t="EXCLUDED", c=col)
        empty = _EMPTY.get(name, "{t}.{c} IS NULL").format(t=t, c=col)
        sets.append(
            f"{col} = CASE WHEN {filled} AND ({empty} OR ({higher} AND {t}.{col} IS DISTINCT FROM "
            f"EXCLUDED.{col})) THEN EXCLUDED.{col} ELSE {t}.{col} END"
        )
        guard.append(f"({filled} AND {empty})")
    sets.append("updated_at = EXCLUDED.updated_at")
    return ", ".join(sets), " OR ".join(guard)


def _ingest_pg(
    *,
    org: Organization,
    integration: Integration | None,
    provider: str,
    event: CallEvent,
    payload: Mapping[str, Any],
    region: str,
    rank: int,
    values: dict[str, Any],
) -> IngestResult | None:
    """One statement per event (see ``call_ingest``). None when a concurrent delivery of the same
    call won the race and left nothing to change: the caller then re-reads the row."""
    call_t = Call._meta.db_table
    lease_t = NumberLease._meta.db_table
    session_t = WebSession._meta.db_table
    task_t = CallbackTask._meta.db_table
    patient_t = Patient._meta.db_table
    phone_t = PatientPhone._meta.db_table
    cols = _call_columns()
    col_list = ", ".join(cols)

    caller_e164 = try_normalize(event.caller, region) or ""
    called_e164 = try_normalize(event.called, region) or ""
    number = _number_for(org, called_e164)
    fallback = _fallback_attribution(org=org, number=number, event=event)
    now = timezone.now()
    window = unique_window()
    caller_raw = event.caller[:40]
    p: dict[str, Any] = {
        "id": uuid7(),
        "org": org.pk,
        "provider": provider,
        "pcid": event.provider_call_id,
        "integration": integration.pk if integration is not None else None,
        "branch": (number.branch_id if number else None) or (integration.branch_id if integration else None),
        "number": number.pk if number is not None else None,
        "lease_number": number.pk if number is not None and number.pool == NumberPool.DYNAMIC else None,
        "called": called_e164 or event.called[:40],
        "caller": caller_e164,
        "caller_raw": caller_raw,
        "started_at": event.started_at,
        "window_start": event.started_at - window,
        "window_end": event.started_at + window,
        "status": event.status,
        "rank": rank,
        "answered_at": values["answered_at"],
        "ended_at": values["ended_at"],
        "duration": values["duration"],
        "recording_url": values["recording_url"] or "",
        "administrator": values["administrator_id"],
        "payload": json.dumps(dict(payload)),
        "now": now,
        "task_id": uuid7(),
        "phone": caller_e164 or caller_raw,
        "callback_minutes": _callback_minutes(org),
        **{f"fb_{k}": str(v) if isinstance(v, str) else v for k, v in fallback.items()},
    }
    if caller_e164:
        same = "{a}.caller_e164 = %(caller)s"
    elif caller_raw:
        same = "{a}.caller_e164 = '' AND {a}.caller_raw = %(caller_raw)s"
    else:
        same = ""
    unique_expr = (
        f"NOT EXISTS (SELECT 1 FROM {call_t} e WHERE e.organization_id = %(org)s AND "  # noqa: S608 - table names from model meta, values bound
        f"{same.format(a='e')} AND e.started_at >= %(window_start)s AND e.started_at < %(started_at)s)"
        if same
        else "false"
    )
    patient_expr = (
        f"(SELECT pt.id FROM {patient_t} pt WHERE pt.organization_id = %(org)s AND pt.merged_into_id IS NULL"  # noqa: S608 - table names from model meta, values bound
        f" AND pt.id IN (SELECT ph.patient_id FROM {phone_t} ph WHERE ph.organization_id = %(org)s"
        f" AND ph.e164 = %(caller)s) ORDER BY pt.created_at, pt.id::text LIMIT 1)"
        if caller_e164
        else "NULL::uuid"
    )
    # Every value below is a bound parameter; only table and column names from the models' meta and
    # fixed SQL fragments are put into the text.
    # Would the event change the stored row? (a lock-free test; merges are monotone, so a "no" stays
    # a "no" against any later version of the row)
    change = ["cur.status_rank < %(rank)s"]
    for name in MERGE_FIELDS:
        if values[name] not in (None, ""):
            col = name
            change.append(_EMPTY.get(name, "{t}.{c} IS NULL").format(t="cur", c=col))
    would_change = " OR ".join(change)
    sets, guard = _merge_sql(call_t)
    side_effects = [
        # The session that showed the number gets the matched patient.
        f"sess AS (UPDATE {session_t} s SET patient_id = ins.patient_id FROM ins WHERE ins.inserted"  # noqa: S608 - table names from model meta, values bound
        f" AND ins.patient_id IS NOT NULL AND s.organization_id = %(org)s AND s.id = ins.session_id"
        f" AND s.patient_id IS NULL)",
    ]
    if same:
        # Later calls from the number inside the window are no longer unique.
        side_effects.append(
            f"later AS (UPDATE {call_t} l SET is_unique = false FROM ins WHERE ins.inserted"  # noqa: S608 - table names from model meta, values bound
            f" AND l.organization_id = %(org)s AND {same.format(a='l')} AND l.started_at > %(started_at)s"
            f" AND l.started_at <= %(window_end)s AND l.is_unique AND l.id <> ins.id)"
        )
    answered_later = (
        f"(SELECT g.started_at FROM {call_t} g WHERE g.organization_id = %(org)s AND {same.format(a='g')}"  # noqa: S608 - table names from model meta, values bound
        f" AND g.started_at > ins.started_at AND g.status IN ('answered', 'completed')"
        f" ORDER BY g.started_at LIMIT 1)"
        if same
        else "NULL::timestamptz"
    )
    side_effects.append(
        f"cb AS (INSERT INTO {task_t} (id, organization_id, call_id, branch_id, phone, due_at, done_at,"  # noqa: S608 - table names from model meta, values bound
        f" assigned_to_id, outcome, created_at)"
        f" SELECT %(task_id)s, %(org)s, ins.id, ins.branch_id, %(phone)s,"
        f" COALESCE(ins.ended_at, ins.started_at) + make_interval(mins => %(callback_minutes)s), al.at,"
        f" NULL, CASE WHEN al.at IS NULL THEN '' ELSE 'the caller got through later' END, %(now)s"
        f" FROM ins CROSS JOIN LATERAL (SELECT {answered_later} AS at) al"
        f" WHERE ins.status = 'missed' AND (ins.inserted OR NOT EXISTS"
        f" (SELECT 1 FROM cur WHERE cur.status = 'missed'))"
        f" ON CONFLICT DO NOTHING)"
    )
    if p["phone"]:
        side_effects.append(
            f"closed AS (UPDATE {task_t} t SET done_at = ins.started_at,"  # noqa: S608 - table names from model meta, values bound
            f" outcome = 'the caller got through later' FROM ins, {call_t} tc"
            f" WHERE ins.status IN ('answered', 'completed') AND (ins.inserted OR NOT EXISTS"
            f" (SELECT 1 FROM cur WHERE cur.status = ins.status)) AND t.organization_id = %(org)s"
            f" AND t.phone = %(phone)s AND t.done_at IS NULL AND tc.id = t.call_id"
            f" AND tc.started_at < ins.started_at)"
        )
    insert_values = {
        "id": "%(id)s",
        "organization_id": "%(org)s",
        "provider": "%(provider)s",
        "provider_call_id": "%(pcid)s",
        "integration_id": "%(integration)s::uuid",
        "branch_id": "%(branch)s::uuid",
        "tracking_number_id": "%(number)s::uuid",
        "called_number": "%(called)s",
        "caller_e164": "%(caller)s",
        "caller_raw": "%(caller_raw)s",
        "started_at": "%(started_at)s",
        "answered_at": "%(answered_at)s::timestamptz",
        "ended_at": "%(ended_at)s::timestamptz",
        "duration": "%(duration)s::integer",
        "status": "%(status)s",
        "status_rank": "%(rank)s",
        "recording_url": "%(recording_url)s",
        "is_unique": unique_expr,
        "patient_id": patient_expr,
        "session_id": "ls.session_id",
        "channel_id": "CASE WHEN ls.session_id IS NULL THEN %(fb_channel_id)s::uuid ELSE ls.channel_id END",
        "campaign_id": "CASE WHEN ls.session_id IS NULL THEN %(fb_campaign_id)s::uuid"
        " ELSE ls.campaign_id END",
        "attribution_method": "CASE WHEN ls.session_id IS NULL THEN %(fb_attribution_method)s"
        " ELSE 'session' END",
        "source": "CASE WHEN ls.session_id IS NULL THEN %(fb_source)s ELSE ls.source END",
        "medium": "CASE WHEN ls.session_id IS NULL THEN %(fb_medium)s ELSE ls.medium END",
        "utm_campaign": "CASE WHEN ls.session_id IS NULL THEN %(fb_utm_campaign)s ELSE ls.utm_campaign END",
        "score": "NULL::numeric",
        "payload": "%(payload)s::jsonb",
        "events": "1",
        "created_at": "%(now)s",
        "updated_at": "%(now)s",
    }
    admin_type = _admin_pk_type()
    insert_values["administrator_id"] = f"%(administrator)s::{admin_type}"
    select_list = ", ".join(insert_values[c] for c in cols)
    sql = (
        f"WITH cur AS (SELECT {col_list} FROM {call_t} WHERE organization_id = %(org)s"  # noqa: S608 - table names from model meta, values bound
        f" AND provider = %(provider)s AND provider_call_id = %(pcid)s),"
        f" ls AS (SELECT s.id AS session_id, s.channel_id, s.campaign_id, s.source, s.medium, s.utm_campaign"
        f" FROM {lease_t} nl JOIN {session_t} s ON s.id = nl.session_id"
        f" WHERE nl.organization_id = %(org)s AND nl.number_id = %(lease_number)s::uuid"
        f" AND nl.leased_at <= %(started_at)s AND nl.held_until >= %(started_at)s"
        f" ORDER BY nl.leased_at DESC LIMIT 1),"
        f" ins AS (INSERT INTO {call_t} ({col_list})"
        f" SELECT {select_list} FROM (SELECT 1) one LEFT JOIN ls ON true"
        f" WHERE NOT EXISTS (SELECT 1 FROM cur WHERE NOT ({would_change}))"
        f" ON CONFLICT (organization_id, provider, provider_call_id) DO UPDATE SET {sets} WHERE {guard}"
        f" RETURNING {col_list}, (xmax = 0) AS inserted),"
        f" {', '.join(side_effects)}"
        f" SELECT {col_list}, ins.inserted, true AS changed, false AS stale FROM ins"
        f" UNION ALL SELECT {col_list}, false, false, ({would_change}) FROM cur"
        f" WHERE NOT EXISTS (SELECT 1 FROM ins)"
    )
    # planned once per connection (~2 ms of PostgreSQL's ~3 ms per event were parse and plan)
    with rawsql.prepared_cursor() as cursor:
        cursor.execute(sql, p)
        row = cursor.fetchone()
    if row is None or row[-1]:
        return None  # a concurrent delivery changed the row after our snapshot: re-read it
    call = _call_from_row(cols, row[: len(cols)])
    return IngestResult(call=call, created=bool(row[-3]), changed=bool(row[-2]))


def _call_columns() -> list[str]:
    return [str(f.column) for f in Call._meta.concrete_fields]


def _admin_pk_type() -> str:
    from clinicflow.accounts.models import User

    return str(User._meta.pk.db_type(connection))  # type: ignore[union-attr]


def _call_from_row(cols: list[str], row: Any) -> Call:
    fields = Call._meta.concrete_fields
    values = []
    for field, value in zip(fields, row, strict=True):
        if value is not None and hasattr(field, "from_db_value"):
            value = field.from_db_value(value, None, connection)
        values.append(value)
    return Call.from_db(connection.alias, [f.attname for f in fields], values)


def _fallback_attribution(
    *, org: Organization, number: TrackingNumber | None, event: CallEvent
) -> dict[str, Any]:
    """``_attribution`` without the web-session lease (the statement looks that up itself), with the
    campaign and channel lookups cached per process."""
    static = _static_attribution(number)
    if static is not None:
        return static
    if event.utm_source or event.utm_medium or event.source:
        visit = Visit(
            utm_source=event.utm_source or event.source, utm_medium=event.utm_medium or event.medium
        )
        found = classify_visit(visit)
        campaign_ids = (
            _cached(
                "campaign",
                org,
                event.utm_campaign,
                lambda: (
                    Campaign.objects.for_org(org)
                    .filter(utm_campaign=event.utm_campaign)
                    .values_list("pk", "channel_id")
                    .first()
                ),
            )
            if event.utm_campaign
            else None
        )
        channel_id = (
            campaign_ids[1]
            if campaign_ids
            else _cached(
                "channel", org, found.channel, lambda: channel_for_code(org=org, code=found.channel).pk
            )
        )
        return {
            "attribution_method": AttributionMethod.PROVIDER,
            "channel_id": channel_id,
            "campaign_id": campaign_ids[0] if campaign_ids else None,
            "source": found.source,
            "medium": found.medium,
            "utm_campaign": event.utm_campaign,
        }
    return {
        "attribution_method": AttributionMethod.NONE,
        "channel_id": _direct_channel_id(org),
        "campaign_id": None,
        "source": "(direct)",
        "medium": "(none)",
        "utm_campaign": "",
    }


def _merge(
    call: Call, event: CallEvent, rank: int, values: dict[str, Any], payload: Mapping[str, Any]
) -> bool:
    update: dict[str, Any] = {}
    higher = rank > call.status_rank
    if higher:
        update["status"] = event.status
        update["status_rank"] = rank
        update["payload"] = dict(payload)
    for name in MERGE_FIELDS:
        new = values[name]
        if new in (None, ""):
            continue
        current = getattr(call, name)
        if current in (None, "") or (higher and current != new):
            update[name] = new
    if not update:
        return False
    update["updated_at"] = timezone.now()
    for k, v in update.items():
        setattr(call, k, v)
    call.save(update_fields=list(update))
    return True


def _caller_filter(call: Call) -> Q | None:
    if call.caller_e164:
        return Q(caller_e164=call.caller_e164)
    if call.caller_raw:
        return Q(caller_e164="", caller_raw=call.caller_raw)
    return None


def _prepare_insert(*, org: Organization, call: Call) -> None:
    """Before the insert: the unique-call flag (no call from the number in the preceding window) and
    the patient card matched by E.164."""
    window = unique_window()
    same = _caller_filter(call)
    if same is not None:
        call.is_unique = not (
            Call.objects.for_org(org)
            .filter(same, started_at__gte=call.started_at - window, started_at__lt=call.started_at)
            .exists()
        )
    if call.caller_e164:
        matches = patient_find_by_phone(org=org, e164=call.caller_e164)
        if matches:
            call.patient = min(matches, key=lambda p: (p.created_at, str(p.pk)))


def _after_insert(*, org: Organization, call: Call) -> None:
    """After the insert: later calls from the number inside the window are no longer unique."""
    same = _caller_filter(call)
    if same is not None:
        Call.objects.for_org(org).filter(
            same,
            started_at__gt=call.started_at,
            started_at__lte=call.started_at + unique_window(),
            is_unique=True,
        ).exclude(pk=call.pk).update(is_unique=False)
    if call.patient_id and call.session_id:
        WebSession.objects.for_org(org).filter(pk=call.session_id, patient__isnull=True).update(
            patient_id=call.patient_id
        )


def _callback_for_missed(*, org: Organization, call: Call) -> None:
    minutes = _callback_minutes(org)
    base = call.ended_at or call.started_at
    answered_later = (
        Call.objects.for_org(org)
        .filter(_caller_filter(call) or Q(pk=None), started_at__gt=call.started_at)
        .filter(status__in=[CallStatus.ANSWERED, CallStatus.COMPLETED])
        .order_by("started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    CallbackTask.objects.bulk_create(
        [
            CallbackTask(
                organization=org,
                call=call,
                branch_id=call.branch_id,
                phone=call.caller_e164 or call.caller_raw,
                due_at=base + dt.timedelta(minutes=minutes),
                done_at=answered_later,
                outcome="the caller got through later" if answered_later else "",
            )
        ],
        ignore_conflicts=True,
    )


def _close_callbacks(*, org: Organization, call: Call) -> None:
    phone = call.caller_e164 or call.caller_raw
    if not phone:
        return
    CallbackTask.objects.for_org(org).filter(
        phone=phone, done_at__isnull=True, call__started_at__lt=call.started_at
    ).update(done_at=call.started_at, outcome="the caller got through later")
