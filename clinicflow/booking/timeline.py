"""Booking's part of the patient card (``BookingConfig.timeline``): appointments and payments on the
timeline; the upcoming visits, the visit and revenue figures and the "book" action beside it.

Who sees what (``accounts.roles``): appointments need ``booking.view``, and their service — of
medical character — ``patients.view_clinical`` as well (without it the row names the doctor and the
branch only); payments and the lifetime revenue need ``booking.book``, the matrix's payment
permission (recording a payment, on the appointment page and ``POST /payments``). Each kind is one
query on an org-first ``(organization, patient, ...)`` index with its joins selected.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, Min, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinicflow.booking.models import (
    OPEN_STATUSES,
    Appointment,
    AppointmentStatus,
    Payment,
    PaymentKind,
    PaymentMethod,
)
from clinicflow.core.money import Money
from clinicflow.core.names import localized
from clinicflow.patients.timeline import (
    Action,
    CardFacts,
    CardItem,
    EventQuery,
    Figure,
    Kind,
    TimelineEvent,
    TimelineSource,
    url_maker,
)

APPOINTMENT, PAYMENT = "appointment", "payment"
PAYMENTS_PERMISSION = "booking.book"
TONES: dict[str, str] = {
    AppointmentStatus.BOOKED: "info",
    AppointmentStatus.CONFIRMED: "primary",
    AppointmentStatus.ARRIVED: "warning",
    AppointmentStatus.DONE: "success",
    AppointmentStatus.NO_SHOW: "danger",
    AppointmentStatus.CANCELLED: "secondary",
}
UPCOMING = 3
YEAR_DAYS = Decimal("365.25")


def _text(service: str, doctor: str, branch: str, clinical: bool) -> tuple[str, str, bool]:
    """(title, detail, sensitive) of an appointment: its service only for a viewer who may see
    clinical data, else a plain "Appointment" with the doctor and the branch."""
    detail = " · ".join(p for p in (doctor, branch) if p)
    if clinical:
        return service, detail, True
    return _("Appointment"), detail, False


def _appointment_row(appt: Appointment, clinical: bool) -> tuple[str, str, bool]:
    return _text(str(appt.service), appt.doctor.full_name, str(appt.branch), clinical)


APPOINTMENT_COLUMNS = (
    "id",
    "start_at",
    "status",
    "service__name",
    "service__name_i18n",
    "doctor__full_name",
    "branch__name",
    "branch__name_i18n",
)


def _appointments(q: EventQuery) -> list[TimelineEvent]:
    # plain rows rather than three model instances per appointment: the card reads up to 51 of them
    qs = Appointment.objects.for_org(q.org).filter(patient=q.patient)
    if q.before is not None:
        qs = qs.filter(start_at__lt=q.before)
    rows = qs.order_by("-start_at").values(*APPOINTMENT_COLUMNS)[: q.limit]
    appointment_url = url_maker("booking:appointment")
    clinical = q.viewer.clinical
    labels = dict(AppointmentStatus.choices)
    out = []
    for r in rows:
        service = localized(r["service__name"], r["service__name_i18n"]) if clinical else ""
        branch = localized(r["branch__name"], r["branch__name_i18n"])
        title, detail, sensitive = _text(service, r["doctor__full_name"], branch, clinical)
        out.append(
            TimelineEvent(
                at=r["start_at"],
                kind=APPOINTMENT,
                title=title,
                detail=detail,
                status=str(labels.get(r["status"], r["status"])),
                tone=TONES.get(r["status"], "secondary"),
                url=appointment_url(r["id"]),
                sensitive=sensitive,
            )
        )
    return out


def _payments(q: EventQuery) -> list[TimelineEvent]:
    qs = Payment.objects.for_org(q.org).filter(patient=q.patient)
    if q.before is not None:
        qs = qs.filter(paid_at__lt=q.before)
    columns = (
        "paid_at",
        "kind",
        "amount",
        "currency",
        "method",
        "appointment_id",
        "branch__name",
        "branch__name_i18n",
    )
    methods = dict(PaymentMethod.choices)
    appointment_url = url_maker("booking:appointment")
    out = []
    for r in qs.order_by("-paid_at").values(*columns)[: q.limit]:
        refund = r["kind"] == PaymentKind.REFUND
        method = str(methods.get(r["method"], r["method"]))
        amount = Money.of(r["amount"], r["currency"]).amount
        out.append(
            TimelineEvent(
                at=r["paid_at"],
                kind=PAYMENT,
                title=_("Refund") if refund else _("Payment"),
                detail=" · ".join(
                    x for x in (method, localized(r["branch__name"], r["branch__name_i18n"])) if x
                ),
                tone="danger" if refund else "success",
                amount=-amount if refund else amount,
                currency=r["currency"],
                url=appointment_url(r["appointment_id"]) if r["appointment_id"] else "",
            )
        )
    return out


def events(q: EventQuery) -> list[TimelineEvent]:
    out: list[TimelineEvent] = []
    if APPOINTMENT in q.kinds:
        out += _appointments(q)
    if PAYMENT in q.kinds:
        out += _payments(q)
    return out


def _upcoming(q: EventQuery, now: dt.datetime) -> list[CardItem]:
    rows = (
        Appointment.objects.for_org(q.org)
        .filter(patient=q.patient, start_at__gte=now - dt.timedelta(hours=12), status__in=OPEN_STATUSES)
        .filter(end_at__gte=now)
        .select_related("service", "doctor", "branch")
        .order_by("start_at")[:UPCOMING]
    )
    clinical = q.viewer.clinical
    labels = dict(AppointmentStatus.choices)
    items = []
    for appt in rows:
        title, detail, sensitive = _appointment_row(appt, clinical)
        items.append(
            CardItem(
                at=appt.start_at,
                title=title,
                detail=f"{detail} · {labels.get(appt.status, appt.status)}",
                url=reverse("booking:appointment", args=[appt.pk]),
                tone=TONES.get(appt.status, "secondary"),
                sensitive=sensitive,
            )
        )
    return items


def _visit_figures(q: EventQuery, now: dt.datetime) -> list[Figure]:
    row = (
        Appointment.objects.for_org(q.org)
        .filter(patient=q.patient)
        .aggregate(
            visits=Count("pk", filter=Q(status=AppointmentStatus.DONE)),
            first=Min("start_at", filter=Q(status=AppointmentStatus.DONE)),
        )
    )
    visits: int = row["visits"] or 0
    figures = [Figure(label=gettext_lazy("Visits"), value=visits, order=20)]
    if visits and row["first"] is not None:
        # over the years since the first visit, counted as at least one
        years = max(Decimal((now - row["first"]).days) / YEAR_DAYS, Decimal(1))
        per_year = (Decimal(visits) / years).quantize(Decimal("0.1"))
        figures.append(Figure(label=gettext_lazy("Visits per year"), value=per_year, places=1, order=21))
    return figures


def _revenue_figures(q: EventQuery) -> list[Figure]:
    rows = (
        Payment.objects.for_org(q.org)
        .filter(patient=q.patient)
        .values("currency")
        .annotate(
            paid=Sum("amount", filter=Q(kind=PaymentKind.PAYMENT)),
            refunded=Sum("amount", filter=Q(kind=PaymentKind.REFUND)),
        )
        .order_by("currency")
    )
    figures = []
    for r in rows:
        # exact to the minor unit whatever the database summed in (SQLite sums REAL)
        net = Money.of(r["paid"] or Decimal(0), r["currency"]) - Money.of(
            r["refunded"] or Decimal(0), r["currency"]
        )
        figures.append(
            Figure(label=gettext_lazy("Lifetime revenue"), value=net.amount, currency=net.currency, order=10)
        )
    return figures


def card(q: EventQuery) -> CardFacts:
    facts = CardFacts()
    now = timezone.now()
    if APPOINTMENT in q.kinds:
        facts.upcoming, facts.upcoming_known = _upcoming(q, now), True
        facts.figures += _visit_figures(q, now)
    if PAYMENT in q.kinds:
        facts.figures += _revenue_figures(q)
    if q.viewer.can("booking.book") and q.viewer.access.writes:
        params = {"patient": str(q.patient.pk)}
        if q.patient.branch_id:
            params["branch"] = str(q.patient.branch_id)
        url = reverse("booking:slots") + "?" + urlencode(params)
        facts.actions.append(Action(label=gettext_lazy("Book"), url=url, primary=True))
    return facts


source = TimelineSource(
    kinds={
        APPOINTMENT: Kind(label=gettext_lazy("Appointments"), permissions=("booking.view",), icon="calendar"),
        PAYMENT: Kind(label=gettext_lazy("Payments"), permissions=(PAYMENTS_PERMISSION,), icon="cash"),
    },
    events=events,
    card=card,
)
