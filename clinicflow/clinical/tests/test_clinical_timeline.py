"""The clinical records on the patient card's timeline (issue #14): every clinical kind newest first,
consents for the front desk as plain rows only, nothing for the marketer, never another
organisation's rows, the photo actions, and a flat query budget."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from clinicflow.clinical.models.consents import SignedConsent
from clinicflow.clinical.models.consultations import Consultation, Quote
from clinicflow.clinical.models.photos import Photo
from clinicflow.clinical.models.treatments import Complication, TreatmentRecord
from clinicflow.clinical.services.consents import consent_version_add
from clinicflow.clinical.tests.consents_factories import ConsentClinic, book, make_clinic

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
CLINICAL_KINDS = ["consultation", "quote", "consent", "photo", "treatment", "complication"]


def _entries(c: ConsentClinic, start: dt.datetime, org: Any = None) -> dict[str, Any]:
    """One of each clinical record, an hour apart from ``start``: consultation, quote, signed
    consent, photo, treatment record (signed off), complication."""
    org = org or c.org
    appt = book(c, start - 24 * HOUR, status="done")
    consultation = Consultation.objects.create(
        organization=org,
        appointment=appt,
        patient=c.patient,
        doctor=c.doctor,
        branch=c.branch,
        category="laser",
        expectation=7,
        outcome="thinking",
        created_at=start,
    )
    quote = Quote.objects.create(
        organization=org,
        consultation=consultation,
        patient=c.patient,
        doctor=c.doctor,
        branch=c.branch,
        priced_on=start.date(),
        valid_until=start.date() + dt.timedelta(days=30),
        currency="RUB",
        total=Decimal("45210.50"),
        status="sent",
        created_at=start + HOUR,
    )
    signed = SignedConsent.objects.create(
        organization=org,
        patient=c.patient,
        version=c.en,
        language="en",
        rendered_text="text",
        text_sha256="0" * 64,
        signer_name="Anna",
        signed_at=start + 2 * HOUR,
    )
    photo = Photo.objects.create(
        organization=org,
        patient=c.patient,
        area="lips",
        view="front",
        kind="before",
        taken_at=start + 3 * HOUR,
        width=10,
        height=10,
        bytes=100,
        content_type="image/jpeg",
        sha256="1" * 64,
        storage_key=f"k-{start.timestamp()}-{org.pk}",
    )
    record = TreatmentRecord.objects.create(
        organization=org,
        appointment=appt,
        patient=c.patient,
        doctor=c.doctor,
        service=c.service,
        created_at=start + 4 * HOUR,
        signed_at=start + 4 * HOUR,
    )
    complication = Complication.objects.create(
        organization=org,
        patient=c.patient,
        appointment=appt,
        severity="moderate",
        onset_date=start.date(),
        description="Swelling",
        outcome="ongoing",
        created_at=start + 5 * HOUR,
    )
    return {
        "appt": appt,
        "consultation": consultation,
        "quote": quote,
        "signed": signed,
        "photo": photo,
        "record": record,
        "complication": complication,
    }


@pytest.fixture
def clinic(org, branch, users) -> ConsentClinic:
    return make_clinic(org, branch)


def _timeline(api: Any, persona: str, c: ConsentClinic, **params: Any) -> Any:
    return api(persona).get(f"/api/v1/patients/{c.patient.pk}/timeline", params)


def test_clinical_rows_appear_newest_first_with_their_kinds(api, clinic) -> None:
    rows = _entries(clinic, T0)
    body = _timeline(api, "owner", clinic, kind=CLINICAL_KINDS).json()
    assert [e["kind"] for e in body["items"]] == list(reversed(CLINICAL_KINDS))
    by_kind = {e["kind"]: e for e in body["items"]}
    assert by_kind["consultation"]["status"] == "Thinking it over"
    assert "Expectation 7/10" in by_kind["consultation"]["detail"]
    assert by_kind["consultation"]["url"] == f"/clinical/consultations/{rows['consultation'].pk}/"
    assert (by_kind["quote"]["amount"], by_kind["quote"]["currency"]) == ("45210.50", "RUB")
    assert by_kind["quote"]["status"] == "Sent"
    assert by_kind["consent"]["title"] == "Consent to laser" and "version 1" in by_kind["consent"]["detail"]
    photo = by_kind["photo"]
    assert photo["title"] == "Photo: Lips" and photo["status"] == "Before"
    assert photo["url"].startswith(f"/clinical/patients/{clinic.patient.pk}/photos/compare/?")
    assert f"before={rows['photo'].pk}" in photo["url"] and "/image/" not in photo["url"]
    assert by_kind["treatment"]["status"] == "Signed off"
    assert by_kind["treatment"]["url"] == f"/clinical/appointments/{rows['appt'].pk}/treatment/"
    assert by_kind["complication"]["status"] == "Moderate"
    assert set(CLINICAL_KINDS) <= set(body["kinds"])


def test_a_missing_consent_shows_for_an_upcoming_visit(api, clinic) -> None:
    upcoming = book(clinic, (timezone.now() + dt.timedelta(days=2)).replace(second=0, microsecond=0))
    items = _timeline(api, "doctor", clinic, kind="consent").json()["items"]
    assert [(e["title"], e["status"]) for e in items] == [("Consent missing: Laser consent", "Missing")]
    assert items[0]["url"] == f"/clinical/consents/sign/{clinic.patient.pk}/{clinic.template.pk}/"
    assert dt.datetime.fromisoformat(items[0]["at"]) == upcoming.start_at
    SignedConsent.objects.create(
        organization=clinic.org,
        patient=clinic.patient,
        version=clinic.en,
        language="en",
        rendered_text="text",
        text_sha256="0" * 64,
    )
    items = _timeline(api, "doctor", clinic, kind="consent").json()["items"]
    assert [e["status"] for e in items] == ["Signed"]


def test_front_desk_sees_only_plain_consent_rows(api, web, clinic) -> None:
    _entries(clinic, T0)
    # a new version of the text: the signature on version 1 no longer counts for the next visit
    consent_version_add(
        org=clinic.org, actor=None, template=clinic.template, language="en", title="Consent v2", body="New"
    )
    book(clinic, timezone.now() + dt.timedelta(days=2))
    body = _timeline(api, "frontdesk", clinic).json()
    assert "consent" in body["kinds"]
    assert not set(body["kinds"]) & (set(CLINICAL_KINDS) - {"consent"})
    consents = [e for e in body["items"] if e["kind"] == "consent"]
    assert [(e["title"], e["detail"]) for e in consents] == [("Consent missing", ""), ("Consent signed", "")]
    assert all(e["kind"] not in CLINICAL_KINDS[:2] + CLINICAL_KINDS[3:] for e in body["items"])
    assert _timeline(api, "frontdesk", clinic, kind="photo").status_code == 422
    page = web("frontdesk").get(f"/patients/{clinic.patient.pk}/").content.decode()
    for secret in ("Consent to laser", "Laser consent", "Photo: Lips", "Expectation", "45,210.50"):
        assert secret not in page, secret
    assert "Consent signed" in page and "/photos/upload/" not in page


def test_marketer_sees_no_clinical_row(api, web, clinic) -> None:
    _entries(clinic, T0)
    body = _timeline(api, "marketer", clinic).json()
    assert not set(body["kinds"]) & set(CLINICAL_KINDS)
    assert all(e["kind"] not in CLINICAL_KINDS for e in body["items"])
    assert _timeline(api, "marketer", clinic, kind="consent").status_code == 422
    page = web("marketer").get(f"/patients/{clinic.patient.pk}/").content.decode()
    assert "Consent" not in page and "Photo: Lips" not in page


def test_another_organisations_rows_never_appear(api, other_org, clinic) -> None:
    _entries(clinic, T0)
    # rows of another organisation naming this patient (cannot happen through the services)
    _entries(clinic, T0 + 10 * HOUR, org=other_org)
    items = _timeline(api, "owner", clinic, kind=CLINICAL_KINDS).json()["items"]
    assert len(items) == len(CLINICAL_KINDS)
    assert all(dt.datetime.fromisoformat(e["at"]) < T0 + 10 * HOUR for e in items)
    assert _timeline(api, "outsider", clinic).status_code == 404


def test_the_card_page_shows_the_rows_and_the_photo_actions(web, clinic) -> None:
    _entries(clinic, T0)
    url = f"/patients/{clinic.patient.pk}/"
    page = web("doctor").get(url).content.decode()
    for text in ("Consultation: ", "Photo: Lips", "Consent to laser", "Complication", "Signed off"):
        assert text in page, text
    assert "cf-event-photo" in page and "cf-event-treatment" in page
    assert f"/clinical/patients/{clinic.patient.pk}/photos/upload/" in page
    assert f'/clinical/patients/{clinic.patient.pk}/photos/"' in page
    manager = web("manager").get(url).content.decode()
    assert "Photo: Lips" in manager and "/photos/upload/" not in manager and "/photos/compare/" not in manager
    filtered = web("owner").get(url, {"kind": "quote"}).content.decode()
    assert filtered.count("cf-event ") == 1 and "45,210.50" in filtered


def _many(c: ConsentClinic, n: int) -> None:
    for i in range(n // len(CLINICAL_KINDS) + 1):
        _entries(c, T0 - dt.timedelta(days=i + 1))


def test_a_patient_with_200_clinical_entries_keeps_a_flat_query_budget(
    web, api, clinic, django_assert_max_num_queries
) -> None:
    client = web("owner")
    url = f"/patients/{clinic.patient.pk}/"
    _entries(clinic, T0)
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    _many(clinic, 200)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200 and "Show more" in response.content.decode()
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = _timeline(api, "owner", clinic, kind=CLINICAL_KINDS).json()
    assert len(body["items"]) == 50 and body["next_before"] is not None
