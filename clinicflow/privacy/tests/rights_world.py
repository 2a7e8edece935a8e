"""One patient seeded across the apps (visits, payments, calls, leads, messages, consents, a photo)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from PIL import Image

from clinicflow.acquisition import defaults
from clinicflow.acquisition.models import Call, CallStatus, Lead
from clinicflow.booking.models import Appointment, Doctor, Payment
from clinicflow.booking.tests.factories import make_patient, make_service
from clinicflow.messaging.models import Message
from clinicflow.patients.models import ConsentMethod, ConsentPurpose, Patient
from clinicflow.patients.services import consent_record

T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
NAME = "Zyxwerthova"
PHONE = "+79161112233"
EMAIL = "zyx.person@example.org"


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 90)).save(buf, "JPEG")
    return buf.getvalue()


def seed(org: Any, branch: Any, owner: Any, n: int = 0) -> Patient:
    """Patient ``n`` (0 is the one the tests look for: ``NAME``, ``PHONE``, ``EMAIL``)."""
    name, phone, email = (
        (NAME, PHONE, EMAIL) if n == 0 else (f"Other{n}", f"+7916000000{n}", f"o{n}@example.org")
    )
    patient = make_patient(
        org,
        phone=phone,
        last_name=name,
        first_name="Ulyana",
        email=email,
        birth_date=dt.date(1990, 7, 14),
        notes=f"prefers mornings, {name}",
    )
    service = make_service(org, code=f"svc-{n}")
    doctor = Doctor.objects.create(organization=org, full_name=f"Dr Held {n}")
    visit = Appointment.objects.create(
        organization=org,
        branch=branch,
        patient=patient,
        service=service,
        doctor=doctor,
        start_at=T0,
        end_at=T0 + dt.timedelta(minutes=30),
        busy_until=T0 + dt.timedelta(minutes=30),
        status="done",
        price=Decimal("5000"),
        currency="RUB",
        notes=f"{name} asked for a window seat",
    )
    Payment.objects.create(
        organization=org,
        appointment=visit,
        patient=patient,
        branch=branch,
        amount=Decimal("5000"),
        currency="RUB",
        method="card",
        paid_at=T0 + dt.timedelta(minutes=40),
        note=f"paid by {name}",
    )
    search = defaults.channel_for_code(org=org, code="search_ads")
    Call.objects.create(
        organization=org,
        provider="generic",
        provider_call_id=f"c-erase-{n}",
        branch=branch,
        caller_e164=phone,
        started_at=T0 - dt.timedelta(days=1),
        status=CallStatus.COMPLETED,
        status_rank=3,
        is_unique=True,
        patient=patient,
        recording_url="https://rec.example.org/1.mp3",
        channel=search,
    )
    Lead.objects.create(
        organization=org, branch=branch, name=f"{name} Ulyana", phone=phone, email=email, patient=patient
    )
    for purpose in (ConsentPurpose.MARKETING_SMS, ConsentPurpose.HEALTH_DATA):
        consent_record(
            org=org, actor=owner, patient=patient, purpose=purpose, granted=True, method=ConsentMethod.WRITTEN
        )
    Message.objects.create(
        organization=org,
        patient=patient,
        channel="sms",
        kind="recall",
        purpose="marketing",
        to=phone,
        body_text=f"Dear {name}, come back",
        send_after=T0 + dt.timedelta(days=400),
    )
    return patient


def add_photo(org: Any, owner: Any, patient: Patient) -> Any:
    from clinicflow.clinical.services.photos import photo_upload

    return photo_upload(
        org=org,
        user=owner,
        patient=patient,
        data=jpeg(),
        name="face.jpg",
        area="full_face",
        view="front",
        kind="before",
    )
