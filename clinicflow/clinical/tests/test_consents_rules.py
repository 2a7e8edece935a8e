"""E-consent rules: versions, the text's hash (stored text and PDF), append-only signatures, the
missing-consent rule, the treatment consent event, signature validation."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
from typing import Any

import pytest
from django.utils import timezone
from freezegun import freeze_time
from pypdf import PdfReader

from clinicflow.clinical.models.consents import SignedConsent, normalise_text, text_digest
from clinicflow.clinical.selectors.consents import missing_consents, missing_for_appointment
from clinicflow.clinical.services.consents import consent_sign, consent_version_add, signed_consent_pdf
from clinicflow.clinical.tests.consents_factories import ConsentClinic, book, make_clinic, png_data_url
from clinicflow.clinical.views.consents import pdf_labels
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import ConsentEvent

LABELS = {
    "signed_by": "Signed by",
    "signed_at": "Signed at",
    "ip": "IP address",
    "sha256": "SHA-256 of the text",
}


@pytest.fixture
def c(org: Organization, branch: Branch) -> ConsentClinic:
    return make_clinic(org, branch)


def _sign(c: ConsentClinic, version: Any = None, **kw: Any) -> SignedConsent:
    values: dict[str, Any] = {"typed_name": "Anna Ivanova", "signature": png_data_url()}
    values.update(kw)
    version = version or c.en
    return consent_sign(
        org=c.org, actor=None, patient=c.patient, version=version, language=version.language, **values
    )


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_hash_is_sha256_of_the_stored_normalised_text_and_of_the_pdf_text(c: ConsentClinic) -> None:
    signed = _sign(c)
    assert "Ivanova Anna" in signed.rendered_text  # {patient} rendered by the server
    assert signed.text_sha256 == hashlib.sha256(normalise_text(signed.rendered_text).encode()).hexdigest()
    pdf = signed_consent_pdf(signed, labels=LABELS, when="5 December 2026, 10:00")
    text = _pdf_text(pdf)
    shown = text.split("Signed by:")[0]
    assert hashlib.sha256(normalise_text(shown).encode()).hexdigest() == signed.text_sha256
    assert signed.text_sha256 in text and "Anna Ivanova" in text
    assert b"/Subtype /Image" in pdf  # the drawn signature


def test_russian_pdf_text_hash_matches(c: ConsentClinic) -> None:
    signed = _sign(c, c.ru)
    with_ru = {"signed_by": "Подписал", "signed_at": "Время", "ip": "IP", "sha256": "SHA-256"}
    text = _pdf_text(signed_consent_pdf(signed, labels=with_ru, when="5 декабря"))
    assert text_digest(text.split("Подписал:")[0]) == signed.text_sha256


def test_normalisation_ignores_line_wrapping_but_not_words() -> None:
    assert text_digest("a  b\r\n\n c ") == text_digest("a b c")
    assert text_digest("a b c") != text_digest("a b d")


def test_signed_consent_is_append_only_through_the_orm(c: ConsentClinic) -> None:
    signed = _sign(c)
    signed.signer_name = "Someone else"
    with pytest.raises(TypeError):
        signed.save()
    with pytest.raises(TypeError):
        signed.delete()
    with pytest.raises(TypeError):
        SignedConsent.objects.for_org(c.org).update(signer_name="x")
    with pytest.raises(TypeError):
        SignedConsent.objects.for_org(c.org).delete()
    with pytest.raises(TypeError):
        c.en.delete()
    assert SignedConsent.objects.get().signer_name == "Anna Ivanova"


def test_a_new_version_needs_a_new_signature(c: ConsentClinic) -> None:
    appt = book(c)
    assert [t.pk for t in missing_for_appointment(org=c.org, appointment=appt)] == [c.template.pk]
    _sign(c)
    assert missing_for_appointment(org=c.org, appointment=appt) == []
    v2 = consent_version_add(
        org=c.org, actor=None, template=c.template, language="en", title="Consent", body="New risks."
    )
    assert v2.number == 2 and c.en.number == 1
    assert [t.pk for t in missing_for_appointment(org=c.org, appointment=appt)] == [c.template.pk]
    with pytest.raises(Conflict) as exc:
        _sign(c, c.en)  # the old version is no longer current
    assert exc.value.code == "version_not_current"
    _sign(c, v2)
    assert missing_for_appointment(org=c.org, appointment=appt) == []


def test_missing_consents_lists_todays_open_appointments_only(c: ConsentClinic) -> None:
    # At the branch's local noon: a run near local midnight must not push "in 5 minutes" to tomorrow.
    noon = dt.datetime.combine(
        timezone.localtime(timezone.now(), c.branch.tz).date(), dt.time(12), tzinfo=c.branch.tz
    )
    with freeze_time(noon):
        _missing_consents_today(c)


def _missing_consents_today(c: ConsentClinic) -> None:
    today = timezone.localtime(timezone.now(), c.branch.tz).date()
    now = timezone.now()
    open_appt = book(c, now + dt.timedelta(minutes=5))
    book(c, now + dt.timedelta(minutes=10), status="cancelled")
    later = book(c, now + dt.timedelta(days=3))
    rows = missing_consents(org=c.org, branch=c.branch, date_from=today, date_to=today)
    ids = [m.appointment.pk for m in rows]
    assert open_appt.pk in ids and later.pk not in ids and len(ids) == 1
    wide = missing_consents(org=c.org, branch=None, date_from=today, date_to=today + dt.timedelta(days=4))
    assert {m.appointment.pk for m in wide} == {open_appt.pk, later.pk}
    past = book(c, now - dt.timedelta(days=2))
    assert missing_for_appointment(org=c.org, appointment=past) == []


def test_category_template_covers_every_service_of_the_category(c: ConsentClinic) -> None:
    from clinicflow.clinical.services.consents import consent_template_create

    general = consent_template_create(org=c.org, actor=None, name="Laser safety", service_category="laser")
    consent_version_add(
        org=c.org, actor=None, template=general, language="en", title="Laser safety", body="Goggles."
    )
    appt = book(c)
    assert {t.pk for t in missing_for_appointment(org=c.org, appointment=appt)} == {c.template.pk, general.pk}


def test_treatment_consent_records_a_treatment_consent_event(c: ConsentClinic) -> None:
    signed = _sign(c)
    event = ConsentEvent.objects.get(patient=c.patient)
    assert event.purpose == "treatment" and event.kind == "granted" and event.method == "electronic"
    assert event.template_version == str(c.en.pk) and event.text_sha256 == signed.text_sha256


@pytest.mark.parametrize(
    ("signature", "problem"),
    [
        ("data:image/jpeg;base64,AAAA", "PNG data URL"),
        ("data:image/png;base64,not base64!", "base64"),
        ("data:image/png;base64," + base64.b64encode(b"GIF89a" + b"\0" * 50).decode(), "not a PNG"),
        (png_data_url(4000, 100), "too many pixels"),
        ("data:image/png;base64," + "A" * 400_000, "too large"),
    ],
)
def test_bad_signature_is_refused_naming_the_field(c: ConsentClinic, signature: str, problem: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _sign(c, signature=signature)
    assert "signature" in exc.value.fields and problem in exc.value.fields["signature"][0]
    assert not SignedConsent.objects.exists()


def test_signature_is_re_encoded_png_and_a_name_or_drawing_is_required(c: ConsentClinic) -> None:
    signed = _sign(c, typed_name="")
    assert bytes(signed.signature_png).startswith(b"\x89PNG") and signed.signer_name == ""
    with pytest.raises(ValidationFailed) as exc:
        _sign(c, typed_name=" ", signature=None)
    assert "typed_name" in exc.value.fields


def test_language_must_be_the_versions(c: ConsentClinic) -> None:
    with pytest.raises(ValidationFailed) as exc:
        consent_sign(
            org=c.org,
            actor=None,
            patient=c.patient,
            version=c.en,
            language="ru",
            typed_name="A",
            signature=None,
        )
    assert "language" in exc.value.fields


def test_pdf_labels_are_translated() -> None:
    from django.utils import translation

    with translation.override("en"):
        assert pdf_labels()["signed_by"] == "Signed by"


FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION clinicflow_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def test_postgresql_trigger_refuses_update_and_delete(c: ConsentClinic) -> None:
    from django.db import DatabaseError, connection, transaction

    from clinicflow.clinical.models.consents import APPEND_ONLY_SQL

    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    signed = _sign(c)
    with connection.cursor() as cur:
        cur.execute(FUNCTION_SQL)  # core migration 0002's (absent under --nomigrations)
        for sql in APPEND_ONLY_SQL:  # what the lead's migration runs (rolled back with the test)
            cur.execute(sql)
    for statement in (
        "UPDATE clinical_signedconsent SET signer_name = 'x' WHERE id = %s",
        "DELETE FROM clinical_signedconsent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(statement, [signed.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE clinical_consenttemplateversion SET body = 'x' WHERE id = %s", [c.en.pk])
    assert SignedConsent.objects.get().signer_name == "Anna Ivanova"
