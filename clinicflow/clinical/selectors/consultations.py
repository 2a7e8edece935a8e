"""Reads of consultations, their templates and quotes; the quote-to-treatment conversion per consultant.
Every function takes the organisation first."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q

from clinicflow.booking.selectors.base import get_by_id
from clinicflow.clinical.models.consultations import (
    Consultation,
    ConsultationTemplate,
    ConsultationTemplateVersion,
    Quote,
    QuoteLine,
    QuoteStatus,
)
from clinicflow.core.models import Organization
from clinicflow.core.money import Money, MoneyTotals

CONSULTATION_RELATED = ("patient", "doctor", "branch", "appointment__service", "template_version")


def template_current(*, org: Organization, category: str) -> ConsultationTemplateVersion | None:
    """The newest version of the service group's template, or None when the group has none."""
    version: ConsultationTemplateVersion | None = (
        ConsultationTemplateVersion.objects.for_org(org)
        .filter(template__category=category)
        .order_by("-number")
        .first()
    )
    return version


def template_versions(*, org: Organization) -> dict[str, list[ConsultationTemplateVersion]]:
    """Every version of every template of the organisation, newest first, by service group."""
    out: dict[str, list[ConsultationTemplateVersion]] = {}
    rows = (
        ConsultationTemplateVersion.objects.for_org(org)
        .select_related("template")
        .order_by("template__category", "-number")
    )
    for version in rows:
        out.setdefault(version.template.category, []).append(version)
    return out


def template_get(*, org: Organization, category: str) -> ConsultationTemplate | None:
    template: ConsultationTemplate | None = (
        ConsultationTemplate.objects.for_org(org).filter(category=category).first()
    )
    return template


def consultation_get(*, org: Organization, consultation_id: object) -> Consultation:
    """One of the organisation's consultations; ``NotFound`` for any other id."""
    qs = Consultation.objects.for_org(org).select_related(*CONSULTATION_RELATED)
    return get_by_id(qs, consultation_id, "consultation")


def consultation_for_appointment(*, org: Organization, appointment_id: uuid.UUID) -> Consultation | None:
    found: Consultation | None = (
        Consultation.objects.for_org(org)
        .select_related(*CONSULTATION_RELATED)
        .filter(appointment_id=appointment_id)
        .first()
    )
    return found


def consultation_list(
    *,
    org: Organization,
    patient_id: uuid.UUID | None = None,
    doctor_id: uuid.UUID | None = None,
    branch_id: uuid.UUID | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[Consultation]]:
    """(count, page) of consultations, newest first, optionally of one patient or one doctor, and of
    the patients of one branch (with ``branch_id``: a branch-bound user's list; patients without a
    branch count too), so the count is what the caller can page through."""
    qs = Consultation.objects.for_org(org)
    if branch_id is not None:
        qs = qs.filter(Q(patient__branch_id=branch_id) | Q(patient__branch_id__isnull=True))
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if doctor_id is not None:
        qs = qs.filter(doctor_id=doctor_id)
    page = list(
        qs.select_related(*CONSULTATION_RELATED).order_by("-created_at", "-id")[offset : offset + limit]
    )
    return qs.count(), page


def quote_get(*, org: Organization, quote_id: object) -> Quote:
    qs = Quote.objects.for_org(org).select_related("consultation", "patient", "doctor", "branch")
    return get_by_id(qs, quote_id, "quote")


def quote_lines(*, org: Organization, quote: Quote) -> list[QuoteLine]:
    return list(
        QuoteLine.objects.for_org(org).filter(quote=quote).select_related("service").order_by("position")
    )


def quotes_of(*, org: Organization, consultation: Consultation) -> list[Quote]:
    return list(Quote.objects.for_org(org).filter(consultation=consultation).order_by("-created_at"))


def quote_total(quote: Quote) -> Money:
    return Money(quote.total, quote.currency)


@dataclass
class ConversionRow:
    """One consultant's quote-to-treatment conversion over a period."""

    doctor_id: uuid.UUID
    doctor_name: str
    consultations: int = 0
    quoted: int = 0
    accepted: int = 0
    accepted_value: MoneyTotals = field(default_factory=MoneyTotals)

    @property
    def rate(self) -> Decimal | None:
        """Accepted quotes per quote written (None with no quote)."""
        return Decimal(self.accepted) / Decimal(self.quoted) if self.quoted else None


def conversion_by_consultant(
    *, org: Organization, date_from: dt.date, date_to: dt.date
) -> list[ConversionRow]:
    """Per doctor who held a consultation in [date_from, date_to] (by the consultation's date, UTC):
    consultations, quotes written from them, quotes accepted and the accepted value per currency.
    Three queries whatever the number of doctors."""
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    consults = Consultation.objects.for_org(org).filter(created_at__gte=start, created_at__lt=end)
    rows: dict[uuid.UUID, ConversionRow] = {}
    for doctor_id, name, n in (
        consults.values("doctor_id", "doctor__full_name")
        .annotate(n=Count("id"))
        .values_list("doctor_id", "doctor__full_name", "n")
    ):
        rows[doctor_id] = ConversionRow(doctor_id=doctor_id, doctor_name=name, consultations=n)
    quotes = Quote.objects.for_org(org).filter(consultation__in=consults)
    counted = quotes.values("doctor_id").annotate(
        n=Count("id"), ok=Count("id", filter=Q(status=QuoteStatus.ACCEPTED))
    )
    for item in counted:
        row = rows.get(item["doctor_id"])
        if row is not None:
            row.quoted, row.accepted = item["n"], item["ok"]
    for doctor_id, total, currency in quotes.filter(status=QuoteStatus.ACCEPTED).values_list(
        "doctor_id", "total", "currency"
    ):
        if doctor_id in rows:
            rows[doctor_id].accepted_value.add(Money(total, currency))
    return sorted(rows.values(), key=lambda r: r.doctor_name)
