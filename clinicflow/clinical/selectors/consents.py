"""Reads of the e-consent: templates and their current versions, signatures, missing consents.

A template's current version in a language is its highest number there. A patient's consent to a
template counts when the patient signed a current version (in any language); a new version of the
text therefore needs a new signature. A consent is missing for an open appointment (booked,
confirmed, arrived) whose service a template covers (the service itself, or its category for a
template without a service) when the patient has no signature that counts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from clinicflow.booking.models import Appointment
from clinicflow.booking.models.appointments import OPEN_STATUSES
from clinicflow.catalogue.models import Service
from clinicflow.clinical.models.consents import ConsentTemplate, ConsentTemplateVersion, SignedConsent
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import parse_uuid


@dataclass(frozen=True)
class MissingConsent:
    appointment: Appointment
    template: ConsentTemplate


def template_get(*, org: Organization, template_id: object) -> ConsentTemplate:
    pk = parse_uuid(template_id)
    template = (
        ConsentTemplate.objects.for_org(org).select_related("service").filter(pk=pk).first() if pk else None
    )
    if template is None:
        raise NotFound("consent template not found")
    return template


def version_get(*, org: Organization, version_id: object) -> ConsentTemplateVersion:
    pk = parse_uuid(version_id)
    qs = ConsentTemplateVersion.objects.for_org(org).select_related("template")
    version = qs.filter(pk=pk).first() if pk else None
    if version is None:
        raise NotFound("consent template version not found")
    return version


def signed_get(*, org: Organization, signed_id: object) -> SignedConsent:
    pk = parse_uuid(signed_id)
    qs = SignedConsent.objects.for_org(org).select_related("patient", "version", "version__template")
    signed = qs.filter(pk=pk).first() if pk else None
    if signed is None:
        raise NotFound("signed consent not found")
    return signed


def current_versions(
    *, org: Organization, template_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, dict[str, ConsentTemplateVersion]]:
    """template id -> language -> its current version."""
    out: dict[uuid.UUID, dict[str, ConsentTemplateVersion]] = defaultdict(dict)
    rows = ConsentTemplateVersion.objects.for_org(org).filter(template_id__in=list(template_ids))
    for v in rows.order_by("template_id", "language", "number"):
        out[v.template_id][v.language] = v  # the highest number comes last
    return out


def template_list(*, org: Organization, active_only: bool = True) -> list[ConsentTemplate]:
    qs = ConsentTemplate.objects.for_org(org).select_related("service")
    return list(qs.filter(is_active=True) if active_only else qs)


def templates_for_services(
    *, org: Organization, services: Iterable[Service]
) -> dict[uuid.UUID, list[ConsentTemplate]]:
    """service id -> the active templates that cover it."""
    services = list(services)
    ids = {s.pk for s in services}
    categories = {s.category for s in services}
    rows = list(
        ConsentTemplate.objects.for_org(org).filter(
            Q(service_id__in=ids) | Q(service__isnull=True, service_category__in=categories), is_active=True
        )
    )
    out: dict[uuid.UUID, list[ConsentTemplate]] = {}
    for s in services:
        out[s.pk] = [
            t
            for t in rows
            if t.service_id == s.pk or (t.service_id is None and t.service_category == s.category)
        ]
    return out


def signed_current(
    *, org: Organization, patient_ids: Iterable[uuid.UUID], versions: Iterable[ConsentTemplateVersion]
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """(patient id, template id) pairs with a signature on one of ``versions`` (the current ones)."""
    by_id = {v.pk: v.template_id for v in versions}
    if not by_id:
        return set()
    rows = (
        SignedConsent.objects.for_org(org)
        .filter(patient_id__in=list(patient_ids), version_id__in=list(by_id))
        .values_list("patient_id", "version_id")
    )
    return {(p, by_id[v]) for p, v in rows}


def missing_for(*, org: Organization, appointments: list[Appointment]) -> list[MissingConsent]:
    """The consents missing for ``appointments`` (each with its service loaded), in their order."""
    if not appointments:
        return []
    services = {a.service_id: a.service for a in appointments}
    covering = templates_for_services(org=org, services=services.values())
    templates = {t.pk: t for ts in covering.values() for t in ts}
    current = current_versions(org=org, template_ids=templates)
    versions = [v for langs in current.values() for v in langs.values()]
    done = signed_current(org=org, patient_ids={a.patient_id for a in appointments}, versions=versions)
    return [
        MissingConsent(a, t)
        for a in appointments
        for t in covering.get(a.service_id, [])
        if t.pk in current and (a.patient_id, t.pk) not in done
    ]


def missing_consents(
    *, org: Organization, branch: Branch | None, date_from: dt.date, date_to: dt.date
) -> list[MissingConsent]:
    """Missing consents of the open appointments from ``date_from`` to ``date_to`` (inclusive, in
    each branch's zone; ``branch`` None: every branch), by start time."""
    qs = Appointment.objects.for_org(org).filter(status__in=OPEN_STATUSES)
    if branch is not None:
        tz = branch.tz
        start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        qs = qs.filter(branch=branch)
    else:  # widest day bounds (UTC-12 .. UTC+14), refined per branch below
        start = dt.datetime.combine(date_from, dt.time.min, tzinfo=dt.UTC) - dt.timedelta(hours=14)
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC) + dt.timedelta(
            hours=12
        )
    rows = list(
        qs.filter(start_at__gte=start, start_at__lt=end)
        .select_related("patient", "service", "doctor", "branch")
        .order_by("start_at", "id")[:2000]
    )
    rows = [a for a in rows if date_from <= timezone.localtime(a.start_at, a.branch.tz).date() <= date_to]
    return missing_for(org=org, appointments=rows)


def missing_for_appointment(*, org: Organization, appointment: Appointment) -> list[ConsentTemplate]:
    """The templates whose consent the appointment's patient has not signed, for an open
    appointment of today or later (in the branch's zone); nothing for any other."""
    today = timezone.localtime(timezone.now(), appointment.branch.tz).date()
    if appointment.status not in OPEN_STATUSES:
        return []
    if timezone.localtime(appointment.start_at, appointment.branch.tz).date() < today:
        return []
    return [m.template for m in missing_for(org=org, appointments=[appointment])]


def signed_for_patient(*, org: Organization, patient_id: uuid.UUID, limit: int = 100) -> list[SignedConsent]:
    qs = (
        SignedConsent.objects.for_org(org)
        .filter(patient_id=patient_id)
        .select_related("version", "version__template")
    )
    return list(qs.defer("signature_png", "rendered_text")[:limit])
