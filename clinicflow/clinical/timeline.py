"""The clinical records' part of the patient card (``ClinicalConfig.timeline``): consultations, quotes,
signed and missing consents, photos (metadata only, never the image), treatment records and
complications on the timeline; the "new photo" and "photos" actions beside it.

Who sees what (``accounts.roles``): every clinical kind needs ``clinical.view`` and its rows are
``sensitive``; consents also show with ``consents.missing`` (the front desk): such a viewer without
``patients.view_clinical`` gets the plain row ("consent signed", "consent missing") without the
form's title, version or language. Marketers see none. Each kind is one query on an org-first
``(organization, patient, ...)`` index (quotes through their consultation's), the joins selected;
missing consents read the patient's open visits and, only when there are any, the templates that
cover them, their current versions and the signatures (``selectors.consents.missing_for``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinicflow.booking.models import OPEN_STATUSES, Appointment
from clinicflow.catalogue.models import ServiceCategory
from clinicflow.clinical.models.consents import SignedConsent
from clinicflow.clinical.models.consultations import (
    Consultation,
    ConsultationOutcome,
    Quote,
    QuoteStatus,
)
from clinicflow.clinical.models.photos import Photo, PhotoArea, PhotoKind, PhotoView
from clinicflow.clinical.models.treatments import (
    Complication,
    ComplicationOutcome,
    Severity,
    TreatmentRecord,
)
from clinicflow.clinical.selectors.consents import missing_for
from clinicflow.core.formatting import fmt_date_full
from clinicflow.core.money import Money
from clinicflow.core.names import localized
from clinicflow.patients.timeline import (
    Action,
    CardFacts,
    EventQuery,
    Kind,
    TimelineEvent,
    TimelineSource,
    url_maker,
)

CONSULTATION, QUOTE, CONSENT = "consultation", "quote", "consent"
PHOTO, TREATMENT, COMPLICATION = "photo", "treatment", "complication"
VIEW, PHOTOS, MISSING, SIGN = "clinical.view", "clinical.photos", "consents.missing", "consents.sign"
MISSING_VISITS = 20  # open visits looked at for missing consents

OUTCOME_TONES = {
    ConsultationOutcome.OPEN: "secondary",
    ConsultationOutcome.BOOKED: "success",
    ConsultationOutcome.THINKING: "warning",
    ConsultationOutcome.DECLINED: "danger",
}
QUOTE_TONES = {
    QuoteStatus.DRAFT: "secondary",
    QuoteStatus.SENT: "info",
    QuoteStatus.ACCEPTED: "success",
    QuoteStatus.DECLINED: "danger",
    QuoteStatus.EXPIRED: "warning",
}
SEVERITY_TONES = {Severity.MILD: "warning", Severity.MODERATE: "orange", Severity.SEVERE: "danger"}


def _page(qs: QuerySet[Any], q: EventQuery, moment: str) -> QuerySet[Any]:
    if q.before is not None:
        qs = qs.filter(**{f"{moment}__lt": q.before})
    return qs.order_by(f"-{moment}")


def _join(*parts: str) -> str:
    return " · ".join(p for p in parts if p)


def _consultations(q: EventQuery) -> list[TimelineEvent]:
    qs = Consultation.objects.for_org(q.org).filter(patient=q.patient)
    columns = ("id", "created_at", "category", "expectation", "outcome", "doctor__full_name")
    detail_url = url_maker("clinical:consultation_detail")
    groups, outcomes = dict(ServiceCategory.choices), dict(ConsultationOutcome.choices)
    out = []
    for r in _page(qs, q, "created_at").values(*columns)[: q.limit]:
        group = str(groups.get(r["category"], r["category"]))
        out.append(
            TimelineEvent(
                at=r["created_at"],
                kind=CONSULTATION,
                title=_("Consultation: %(group)s") % {"group": group},
                detail=_join(_("Expectation %(n)s/10") % {"n": r["expectation"]}, r["doctor__full_name"]),
                status=str(outcomes.get(r["outcome"], r["outcome"])),
                tone=OUTCOME_TONES.get(r["outcome"], "secondary"),
                url=detail_url(r["id"]),
                sensitive=True,
            )
        )
    return out


def _quotes(q: EventQuery) -> list[TimelineEvent]:
    # no index on the quote's patient: read through the consultation's (organization, patient) index
    qs = Quote.objects.for_org(q.org).filter(
        consultation__organization=q.org, consultation__patient=q.patient, patient=q.patient
    )
    columns = ("created_at", "consultation_id", "status", "total", "currency", "valid_until")
    detail_url = url_maker("clinical:consultation_detail")
    statuses = dict(QuoteStatus.choices)
    out = []
    for r in _page(qs, q, "created_at").values(*columns)[: q.limit]:
        total = Money.of(r["total"], r["currency"])
        out.append(
            TimelineEvent(
                at=r["created_at"],
                kind=QUOTE,
                title=_("Quote"),
                detail=_("Valid until %(date)s") % {"date": fmt_date_full(r["valid_until"])},
                status=str(statuses.get(r["status"], r["status"])),
                tone=QUOTE_TONES.get(r["status"], "secondary"),
                amount=total.amount,
                currency=total.currency,
                url=detail_url(r["consultation_id"]),
                sensitive=True,
            )
        )
    return out


def _signed(q: EventQuery) -> list[TimelineEvent]:
    clinical = q.viewer.clinical
    qs = SignedConsent.objects.for_org(q.org).filter(patient=q.patient)
    columns = ("id", "signed_at", "language", "version__title", "version__number")
    signed_url = url_maker("clinical:consent_signed")
    link = clinical and q.viewer.can(SIGN)
    out = []
    for r in _page(qs, q, "signed_at").values(*columns)[: q.limit]:
        if clinical:
            title = r["version__title"]
            detail = _join(_("version %(n)s") % {"n": r["version__number"]}, r["language"])
        else:
            title, detail = _("Consent signed"), ""
        out.append(
            TimelineEvent(
                at=r["signed_at"],
                kind=CONSENT,
                title=title,
                detail=detail,
                status=_("Signed"),
                tone="success",
                url=signed_url(r["id"]) if link else "",
                sensitive=clinical,
            )
        )
    return out


def _missing(q: EventQuery) -> list[TimelineEvent]:
    """A row per consent missing for the patient's open visits of today (the branch's) or later."""
    now = timezone.now()
    qs = Appointment.objects.for_org(q.org).filter(
        patient=q.patient, status__in=OPEN_STATUSES, start_at__gte=now - dt.timedelta(hours=38)
    )
    if q.before is not None:
        qs = qs.filter(start_at__lt=q.before)
    rows = list(qs.select_related("service", "branch").order_by("start_at")[:MISSING_VISITS])
    rows = [
        a for a in rows if a.start_at.astimezone(a.branch.tz).date() >= now.astimezone(a.branch.tz).date()
    ]
    clinical = q.viewer.clinical
    link = q.viewer.can(SIGN) and q.viewer.access.writes
    out = []
    for m in missing_for(org=q.org, appointments=rows):
        url = reverse("clinical:consent_sign", args=[q.patient.pk, m.template.pk]) if link else ""
        out.append(
            TimelineEvent(
                at=m.appointment.start_at,
                kind=CONSENT,
                title=_("Consent missing: %(name)s") % {"name": m.template.name}
                if clinical
                else _("Consent missing"),
                detail=str(m.appointment.service) if clinical else "",
                status=_("Missing"),
                tone="danger",
                url=url,
                sensitive=clinical,
            )
        )
    return out


def _photos(q: EventQuery) -> list[TimelineEvent]:
    qs = Photo.objects.for_org(q.org).filter(patient=q.patient)
    link = q.viewer.can(PHOTOS)
    compare = reverse("clinical:photo_compare", args=[q.patient.pk]) if link else ""
    areas, views, kinds = dict(PhotoArea.choices), dict(PhotoView.choices), dict(PhotoKind.choices)
    out = []
    for r in _page(qs, q, "taken_at").values("id", "taken_at", "area", "view", "kind")[: q.limit]:
        side = "before" if r["kind"] == PhotoKind.BEFORE else "after"
        out.append(
            TimelineEvent(
                at=r["taken_at"],
                kind=PHOTO,
                title=_("Photo: %(area)s") % {"area": areas.get(r["area"], r["area"])},
                detail=str(views.get(r["view"], r["view"])),
                status=str(kinds.get(r["kind"], r["kind"])),
                tone="info" if side == "before" else "success",
                url=f"{compare}?area={r['area']}&view={r['view']}&{side}={r['id']}" if link else "",
                sensitive=True,
            )
        )
    return out


def _treatments(q: EventQuery) -> list[TimelineEvent]:
    qs = TreatmentRecord.objects.for_org(q.org).filter(patient=q.patient)
    columns = (
        "created_at",
        "appointment_id",
        "signed_at",
        "service__name",
        "service__name_i18n",
        "doctor__full_name",
    )
    record_url = url_maker("clinical:treatment_record")
    out = []
    for r in _page(qs, q, "created_at").values(*columns)[: q.limit]:
        signed = r["signed_at"] is not None
        out.append(
            TimelineEvent(
                at=r["created_at"],
                kind=TREATMENT,
                title=localized(r["service__name"], r["service__name_i18n"]),
                detail=_join(_("Treatment record"), r["doctor__full_name"]),
                status=_("Signed off") if signed else _("Draft"),
                tone="success" if signed else "warning",
                url=record_url(r["appointment_id"]),
                sensitive=True,
            )
        )
    return out


def _complications(q: EventQuery) -> list[TimelineEvent]:
    qs = Complication.objects.for_org(q.org).filter(patient=q.patient)
    columns = ("created_at", "severity", "outcome", "onset_date", "appointment_id", "corrects_id")
    record_url = url_maker("clinical:treatment_record")
    severities, outcomes = dict(Severity.choices), dict(ComplicationOutcome.choices)
    out = []
    for r in _page(qs, q, "created_at").values(*columns)[: q.limit]:
        out.append(
            TimelineEvent(
                at=r["created_at"],
                kind=COMPLICATION,
                title=_("Complication (correction)") if r["corrects_id"] else _("Complication"),
                detail=_join(
                    _("Onset %(date)s") % {"date": fmt_date_full(r["onset_date"])},
                    str(outcomes.get(r["outcome"], r["outcome"])),
                ),
                status=str(severities.get(r["severity"], r["severity"])),
                tone=SEVERITY_TONES.get(r["severity"], "danger"),
                url=record_url(r["appointment_id"]) if r["appointment_id"] else "",
                sensitive=True,
            )
        )
    return out


READERS = {
    CONSULTATION: (_consultations,),
    QUOTE: (_quotes,),
    CONSENT: (_signed, _missing),
    PHOTO: (_photos,),
    TREATMENT: (_treatments,),
    COMPLICATION: (_complications,),
}


def events(q: EventQuery) -> list[TimelineEvent]:
    out: list[TimelineEvent] = []
    for kind, readers in READERS.items():
        if kind in q.kinds:
            for read in readers:
                out += read(q)
    return out


def card(q: EventQuery) -> CardFacts:
    facts = CardFacts()
    if PHOTO in q.kinds and q.viewer.can(PHOTOS):
        if q.viewer.access.writes:
            url = reverse("clinical:photo_upload", args=[q.patient.pk])
            facts.actions.append(Action(label=gettext_lazy("New photo"), url=url))
        facts.actions.append(
            Action(label=gettext_lazy("Photos"), url=reverse("clinical:photo_gallery", args=[q.patient.pk]))
        )
    return facts


source = TimelineSource(
    kinds={
        CONSULTATION: Kind(label=gettext_lazy("Consultations"), permissions=(VIEW,), icon="stethoscope"),
        QUOTE: Kind(label=gettext_lazy("Quotes"), permissions=(VIEW,), icon="file-invoice"),
        CONSENT: Kind(label=gettext_lazy("Consents"), permissions=(VIEW, MISSING), icon="signature"),
        PHOTO: Kind(label=gettext_lazy("Photos"), permissions=(VIEW,), icon="camera"),
        TREATMENT: Kind(label=gettext_lazy("Treatment records"), permissions=(VIEW,), icon="vaccine"),
        COMPLICATION: Kind(label=gettext_lazy("Complications"), permissions=(VIEW,), icon="alert-triangle"),
    },
    events=events,
    card=card,
)
