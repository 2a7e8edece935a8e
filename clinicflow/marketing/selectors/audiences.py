"""Audiences: a segment of patients from a dict of filters, counted live.

``FIELDS`` is the whole filter vocabulary; any other key is refused (``ValidationFailed`` naming it, a
422 at the API). Every filter is one condition on the patient row (a subquery on appointments or
predictions where needed), so a count is one SQL statement whatever the filters.

Membership and NPS are not filters yet: no model holds a membership, and survey answers are not linked
to marketing segments yet ("no data yet" in ``NO_DATA_YET``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from clinicflow.booking.models import Appointment, AppointmentStatus
from clinicflow.core.errors import NotFound, ValidationFailed
from clinicflow.core.models import Organization
from clinicflow.core.selectors import parse_uuid
from clinicflow.marketing.models import Audience
from clinicflow.patients.models import (
    MARKETING_PURPOSE_BY_CHANNEL,
    ConsentEvent,
    ConsentEventKind,
    Patient,
    PatientPrediction,
    Sex,
    Source,
)

NO_DATA_YET = ("membership", "nps")
VISITED = (AppointmentStatus.DONE, AppointmentStatus.ARRIVED)
NOT_CANCELLED = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.DONE,
)
# The recall preset of issue #19: botulinum therapy more than 5 months ago, no booking since.
RECALL_BOTULINUM = {"recall_category": "botulinum", "recall_after_days": 150}


def _int(name: str, value: Any, low: int = 0, high: int = 100_000) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed.field(f"filters.{name}", f"must be a whole number {low}..{high}")
    return value


def _share(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValidationFailed.field(f"filters.{name}", "must be a number from 0 to 1")
    return float(value)


def _codes(name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValidationFailed.field(f"filters.{name}", "must be a non-empty list of service codes")
    return value


def _choice(name: str, value: Any, allowed: list[str]) -> str:
    if value not in allowed:
        raise ValidationFailed.field(f"filters.{name}", f"must be one of {', '.join(allowed)}")
    return str(value)


def _money(name: str, value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValidationFailed.field(f"filters.{name}", "must be a decimal amount") from exc


def _visits(org: Organization) -> QuerySet[Appointment]:
    return Appointment.objects.for_org(org).filter(patient=OuterRef("pk"))


def _days_ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def _last_visit_before(org: Organization, v: Any) -> Q:
    recent = _visits(org).filter(
        status__in=VISITED, start_at__gte=_days_ago(_int("last_visit_before_days", v))
    )
    return Q(Exists(_visits(org).filter(status__in=VISITED))) & ~Q(Exists(recent))


def _last_visit_within(org: Organization, v: Any) -> Q:
    days = _int("last_visit_within_days", v)
    return Q(Exists(_visits(org).filter(status__in=VISITED, start_at__gte=_days_ago(days))))


def _had(org: Organization, v: Any) -> Q:
    return Q(Exists(_visits(org).filter(status__in=VISITED, service__code__in=_codes("had_services", v))))


def _not_had(org: Organization, v: Any) -> Q:
    return ~Q(
        Exists(_visits(org).filter(status__in=VISITED, service__code__in=_codes("not_had_services", v)))
    )


def _age(org: Organization, name: str, v: Any) -> Q:
    years = _int(name, v, 0, 130)
    today = timezone.localdate()
    if name == "age_min":  # born on or before today minus the years
        return Q(birth_date__lte=today.replace(year=today.year - years) if years else today)
    oldest = today.replace(year=today.year - years - 1) + dt.timedelta(days=1)
    return Q(birth_date__gte=oldest)


def _prediction(org: Organization, field: str, op: str, value: Any) -> Q:
    rows = PatientPrediction.objects.for_org(org).filter(patient=OuterRef("pk"), **{f"{field}__{op}": value})
    return Q(Exists(rows))


def _branch(org: Organization, v: Any) -> Q:
    pk = parse_uuid(v)
    if pk is None:
        raise ValidationFailed.field("filters.branch", "must be a branch id")
    return Q(branch_id=pk)


def _recall(org: Organization, filters: Mapping[str, Any]) -> tuple[Q, Any]:
    """Had a service of the category more than N days ago and no appointment (not cancelled) since."""
    category = str(filters["recall_category"])
    days = _int("recall_after_days", filters.get("recall_after_days", 150), 1, 3650)
    last = Subquery(
        _visits(org)
        .filter(status__in=VISITED, service__category=category)
        .values("patient")
        .annotate(last=Max("start_at"))
        .values("last")[:1]
    )
    since = _visits(org).filter(status__in=NOT_CANCELLED, start_at__gt=OuterRef("recall_last"))
    return Q(recall_last__lt=_days_ago(days)) & ~Q(Exists(since)) & Q(recall_last__isnull=False), last


def consent_q(org: Organization, channel: str) -> Q:
    """Patients whose latest marketing consent event for the channel is a grant: a grant with no later
    event of the purpose (by time, then id). Read from the consent events as one set (a hash semi-join
    on PostgreSQL), not once per patient."""
    purpose = MARKETING_PURPOSE_BY_CHANNEL[channel]
    events = ConsentEvent.objects.for_org(org).filter(purpose=purpose)
    later = events.filter(patient=OuterRef("patient")).filter(
        Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), id__gt=OuterRef("id"))
    )
    granted = events.filter(kind=ConsentEventKind.GRANTED).filter(~Exists(later))
    return Q(pk__in=granted.values("patient"))


Simple = Callable[[Organization, Any], Q]
FIELDS: dict[str, Simple | None] = {
    "last_visit_before_days": _last_visit_before,
    "last_visit_within_days": _last_visit_within,
    "had_services": _had,
    "not_had_services": _not_had,
    "age_min": lambda org, v: _age(org, "age_min", v),
    "age_max": lambda org, v: _age(org, "age_max", v),
    "sex": lambda org, v: Q(sex=_choice("sex", v, list(Sex.values))),
    "branch": _branch,
    "source": lambda org, v: Q(
        source__in=[_choice("source", s, list(Source.values)) for s in (v if isinstance(v, list) else [v])]
    ),
    "p_alive_min": lambda org, v: _prediction(org, "p_alive", "gte", _share("p_alive_min", v)),
    "p_alive_max": lambda org, v: _prediction(org, "p_alive", "lte", _share("p_alive_max", v)),
    "clv_min": lambda org, v: _prediction(org, "clv", "gte", _money("clv_min", v)),
    "clv_max": lambda org, v: _prediction(org, "clv", "lte", _money("clv_max", v)),
    "recall_category": None,  # with recall_after_days: see _recall
    "recall_after_days": None,
    "channel": None,  # only patients with marketing consent for the channel
}


def check_filters(filters: object) -> dict[str, Any]:
    """The filters, or ``ValidationFailed`` naming the first unknown or bad one."""
    if not isinstance(filters, dict):
        raise ValidationFailed.field("filters", "must be an object")
    for key in filters:
        if key in NO_DATA_YET:
            raise ValidationFailed.field(f"filters.{key}", "no data yet: this filter is not available")
        if key not in FIELDS:
            raise ValidationFailed.field(f"filters.{key}", "unknown filter field")
    if "recall_after_days" in filters and "recall_category" not in filters:
        raise ValidationFailed.field("filters.recall_category", "is required with recall_after_days")
    if "channel" in filters:
        _choice("channel", filters["channel"], sorted(MARKETING_PURPOSE_BY_CHANNEL))
    return dict(filters)


def audience_patients(*, org: Organization, filters: Mapping[str, Any]) -> QuerySet[Patient]:
    """The patients the filters select (merged duplicates and patients whose processing is
    restricted never)."""
    checked = check_filters(filters)
    qs: QuerySet[Any] = Patient.objects.for_org(org).filter(
        merged_into__isnull=True, restricted_at__isnull=True
    )
    cond = Q()
    for key, value in checked.items():
        build = FIELDS[key]
        if build is not None:
            cond &= build(org, value)
    if "recall_category" in checked:
        recall, last = _recall(org, checked)
        qs = qs.alias(recall_last=last)
        cond &= recall
    if "channel" in checked:
        cond &= consent_q(org, checked["channel"])
    return qs.filter(cond)


def audience_count(*, org: Organization, filters: Mapping[str, Any]) -> int:
    return audience_patients(org=org, filters=filters).count()


def audience_get(*, org: Organization, audience_id: object) -> Audience:
    pk = parse_uuid(audience_id)
    audience = Audience.objects.for_org(org).filter(pk=pk).first() if pk else None
    if audience is None:
        raise NotFound("audience not found")
    return audience


def audience_list(*, org: Organization) -> list[Audience]:
    return list(Audience.objects.for_org(org).order_by("name"))
