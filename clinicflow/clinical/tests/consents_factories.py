"""Test data of the consent tests: a clinic with a laser service, a doctor, a patient, a treatment
consent template (en and ru) and an appointment; PNG data URLs for the signature."""

from __future__ import annotations

import base64
import datetime as dt
import io
from dataclasses import dataclass

from django.utils import timezone
from PIL import Image

from clinicflow.booking.models import Appointment, Doctor
from clinicflow.booking.tests.factories import make_doctor, make_patient, make_service
from clinicflow.catalogue.models import Service
from clinicflow.clinical.models.consents import ConsentTemplate, ConsentTemplateVersion
from clinicflow.clinical.services.consents import consent_template_create, consent_version_add
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import Patient

BODY_EN = "I, {patient}, agree to laser resurfacing.\n\nI was told about the risks: redness, swelling and, rarely, burns."
BODY_RU = "Я, {patient}, согласна на лазерную шлифовку.\n\nМне рассказали о рисках: покраснение, отёк."


@dataclass
class ConsentClinic:
    org: Organization
    branch: Branch
    service: Service
    doctor: Doctor
    patient: Patient
    template: ConsentTemplate
    en: ConsentTemplateVersion
    ru: ConsentTemplateVersion


def make_clinic(org: Organization, branch: Branch) -> ConsentClinic:
    service = make_service(org)
    doctor = make_doctor(org, branch, [service])
    patient = make_patient(org, branch=branch, email="anna@example.org")
    template = consent_template_create(org=org, actor=None, name="Laser consent", service=service)
    en = consent_version_add(
        org=org, actor=None, template=template, language="en", title="Consent to laser", body=BODY_EN
    )
    ru = consent_version_add(
        org=org, actor=None, template=template, language="ru", title="Согласие на лазер", body=BODY_RU
    )
    return ConsentClinic(org, branch, service, doctor, patient, template, en, ru)


def book(c: ConsentClinic, start: dt.datetime | None = None, *, status: str = "booked") -> Appointment:
    start = start or timezone.now() + dt.timedelta(hours=2)
    return Appointment.objects.create(
        organization=c.org,
        branch=c.branch,
        patient=c.patient,
        service=c.service,
        doctor=c.doctor,
        start_at=start,
        end_at=start + dt.timedelta(hours=1),
        busy_until=start + dt.timedelta(hours=1),
        status=status,
        price=c.service.price,
        currency=c.service.currency,
    )


def png_data_url(width: int = 300, height: int = 100) -> str:
    img = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    for x in range(10, min(width, 200)):
        img.putpixel((x, height // 2), (0, 0, 0, 255))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
