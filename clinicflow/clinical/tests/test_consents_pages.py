"""The consent pages: the tablet page (show, sign), the signed page and its PDF, the missing-consent
badge on the appointment page and the front desk's list; roles, tenancy, audit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinicflow.clinical.models.consents import SignedConsent
from clinicflow.clinical.services.consents import consent_template_create, consent_version_add, rendered_text
from clinicflow.clinical.tests.consents_factories import ConsentClinic, book, make_clinic, png_data_url
from clinicflow.core.models import AuditEvent, Branch, Organization
from clinicflow.patients.models import Patient

Web = Callable[[str], Client]


@pytest.fixture
def c(org: Organization, branch: Branch, users: Any) -> ConsentClinic:
    return make_clinic(org, branch)


def _url(c: ConsentClinic) -> str:
    return reverse("clinical:consent_sign", args=[c.patient.pk, c.template.pk])


def _post(web: Web, persona: str, c: ConsentClinic, **kw: Any) -> Any:
    data = {
        "version": str(c.en.pk),
        "language": "en",
        "typed_name": "Anna Ivanova",
        "signature": png_data_url(),
    }
    data.update(kw)
    return web(persona).post(_url(c), data)


def test_tablet_page_shows_the_version_in_the_patients_language(web: Web, c: ConsentClinic) -> None:
    Patient.objects.filter(pk=c.patient.pk).update(preferred_language="ru")
    page = web("frontdesk").get(_url(c)).content.decode()
    assert (
        "Согласие на лазер" in page and "Ivanova Anna" in page and f'name="version" value="{c.ru.pk}"' in page
    )
    assert "<script>" not in page and "clinical/signature.js" in page
    en = web("frontdesk").get(_url(c) + "?lang=en").content.decode()
    assert "Consent to laser" in en
    assert AuditEvent.objects.filter(object_type="consent_form", object_id=str(c.patient.pk)).count() == 2


def test_front_desk_signs_on_the_tablet_and_gets_the_pdf(web: Web, c: ConsentClinic) -> None:
    resp = _post(web, "frontdesk", c)
    signed = SignedConsent.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse(
        "clinical:consent_signed", args=[signed.pk]
    )
    assert signed.rendered_text == rendered_text(c.en, c.patient) and signed.signature_png
    page = web("frontdesk").get(resp["Location"]).content.decode()
    assert signed.text_sha256 in page
    pdf = web("frontdesk").get(reverse("clinical:consent_pdf", args=[signed.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_tablet_refuses_a_changed_text_and_bad_signature(web: Web, c: ConsentClinic) -> None:
    resp = _post(web, "frontdesk", c, sha256="0" * 64)
    assert resp.status_code == 409
    resp = _post(web, "frontdesk", c, signature="data:text/html;base64,PGI+")
    assert resp.status_code == 422 and "signature" in resp.content.decode()
    assert not SignedConsent.objects.exists()


def test_front_desk_does_not_see_clinical_notes(web: Web, c: ConsentClinic) -> None:
    c.patient.clinical_notes = "Secret clinical note"
    c.patient.save()
    card = web("frontdesk").get(reverse("patients:detail", args=[c.patient.pk])).content.decode()
    assert "Secret clinical note" not in card
    assert "Secret clinical note" not in web("frontdesk").get(_url(c)).content.decode()


def test_marketer_is_refused_every_page(web: Web, c: ConsentClinic) -> None:
    _post(web, "doctor", c)
    signed = SignedConsent.objects.get()
    for url in (
        _url(c),
        reverse("clinical:consent_signed", args=[signed.pk]),
        reverse("clinical:consent_pdf", args=[signed.pk]),
        reverse("clinical:consents_missing"),
    ):
        assert web("marketer").get(url).status_code == 403, url
    assert _post(web, "marketer", c).status_code == 403
    assert SignedConsent.objects.count() == 1


def test_another_organisation_gets_404(web: Web, c: ConsentClinic, other_org: Organization) -> None:
    _post(web, "frontdesk", c)
    signed = SignedConsent.objects.get()
    for url in (
        _url(c),
        reverse("clinical:consent_signed", args=[signed.pk]),
        reverse("clinical:consent_pdf", args=[signed.pk]),
    ):
        assert web("outsider").get(url).status_code == 404, url
    theirs = consent_template_create(org=other_org, actor=None, name="T", service_category="laser")
    consent_version_add(org=other_org, actor=None, template=theirs, language="en", title="T", body="B")
    url = reverse("clinical:consent_sign", args=[c.patient.pk, theirs.pk])
    assert web("frontdesk").get(url).status_code == 404


def test_missing_badge_appears_and_disappears(web: Web, c: ConsentClinic) -> None:
    appt = book(c)
    url = reverse("booking:appointment", args=[appt.pk])
    for persona in ("frontdesk", "doctor"):
        page = web(persona).get(url).content.decode()
        assert 'id="consent-missing"' in page and _url(c) in page, persona
    # the appointment's day on the branch's clock (late in the evening, "now + 2 h" is tomorrow)
    day = timezone.localtime(appt.start_at, c.branch.tz).date()
    missing = reverse("clinical:consents_missing") + f"?branch={c.branch.pk}&date={day}"
    listing = web("frontdesk").get(missing).content.decode()
    assert "Laser consent" in listing and _url(c) in listing
    _post(web, "frontdesk", c)
    assert 'id="consent-missing"' not in web("doctor").get(url).content.decode()
    listing = web("frontdesk").get(missing).content.decode()
    assert _url(c) not in listing
    consent_version_add(
        org=c.org, actor=None, template=c.template, language="en", title="v2", body="New text"
    )
    assert 'id="consent-missing"' in web("doctor").get(url).content.decode()


def test_manager_adds_a_template_and_an_edit_is_a_new_version(web: Web, c: ConsentClinic) -> None:
    resp = web("manager").post(
        reverse("clinical:consent_templates"), {"name": "Peel consent", "service_category": "peels"}
    )
    assert resp.status_code == 302
    url = resp["Location"]
    assert (
        web("manager").post(url, {"language": "zh-hans", "title": "同意书", "body": "文本"}).status_code
        == 302
    )
    assert (
        web("manager").post(url, {"language": "zh-hans", "title": "同意书", "body": "新文本"}).status_code
        == 302
    )
    page = web("manager").get(url).content.decode()
    assert "新文本" in page and "文本</p>" not in page.replace("新文本", "")
    listing = web("manager").get(reverse("clinical:consent_templates")).content.decode()
    assert "Peel consent" in listing and "zh-hans · v2" in listing
    bad = web("manager").post(url, {"language": "en", "title": "", "body": "x"})
    assert bad.status_code == 422 and "title" in bad.content.decode()
    assert web("frontdesk").get(url).status_code == 403
    assert web("marketer").get(reverse("clinical:consent_templates")).status_code == 403
    assert web("outsider").get(reverse("clinical:consent_template", args=[c.template.pk])).status_code == 404
    assert AuditEvent.objects.filter(object_type="consent_template_version", action="create").count() >= 4
