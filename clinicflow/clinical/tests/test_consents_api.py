"""The consent API: templates with current versions, signing (server-rendered text, current version
only, signature checks), the PDF; roles, tenancy and audit rows."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from pypdf import PdfReader

from clinicflow.clinical.models.consents import SignedConsent, text_digest
from clinicflow.clinical.services.consents import consent_version_add
from clinicflow.clinical.tests.consents_factories import ConsentClinic, make_clinic, png_data_url
from clinicflow.core.models import AuditEvent, Branch, Organization
from clinicflow.patients.tests.factories import make_patient

Api = Callable[[str], Client]


@pytest.fixture
def c(org: Organization, branch: Branch, users: Any) -> ConsentClinic:
    return make_clinic(org, branch)


def _sign(api: Api, persona: str, c: ConsentClinic, **kw: Any) -> Any:
    body: dict[str, Any] = {"template_version": str(c.en.pk), "language": "en", "typed_name": "Anna Ivanova"}
    body.update(kw)
    return api(persona).post(
        f"/api/v1/patients/{c.patient.pk}/consents/sign", json.dumps(body), content_type="application/json"
    )


def test_templates_list_current_versions(api: Api, c: ConsentClinic) -> None:
    consent_version_add(
        org=c.org, actor=None, template=c.template, language="en", title="v2", body="Text two"
    )
    resp = api("frontdesk").get("/api/v1/consent-templates")
    assert resp.status_code == 200
    [t] = resp.json()
    assert t["service"] == str(c.service.pk) and t["purpose"] == "treatment"
    by_lang = {v["language"]: v for v in t["current_versions"]}
    assert by_lang["en"]["number"] == 2 and by_lang["en"]["title"] == "v2" and by_lang["ru"]["number"] == 1
    assert AuditEvent.objects.filter(object_type="consent_template", action="list").exists()


def test_sign_renders_the_text_and_keeps_its_hash(api: Api, c: ConsentClinic, users: Any) -> None:
    resp = _sign(api, "frontdesk", c, signature=png_data_url())
    assert resp.status_code == 201, resp.content
    out = resp.json()
    signed = SignedConsent.objects.get()
    assert out["text_sha256"] == signed.text_sha256 == text_digest(out["rendered_text"])
    assert "Ivanova Anna" in out["rendered_text"] and out["has_signature"] is True
    assert signed.presented_by == users["frontdesk"] and signed.signed_at.tzinfo is not None
    assert AuditEvent.objects.filter(
        object_type="signed_consent", action="create", object_id=str(signed.pk)
    ).exists()
    pdf = api("doctor").get(out["pdf_url"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert text_digest(text.split("Signed by:")[0]) == signed.text_sha256
    assert AuditEvent.objects.filter(object_type="signed_consent", action="export").exists()


def test_an_old_version_is_refused(api: Api, c: ConsentClinic) -> None:
    consent_version_add(
        org=c.org, actor=None, template=c.template, language="en", title="v2", body="Text two"
    )
    resp = _sign(api, "frontdesk", c)
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "version_not_current"
    assert not SignedConsent.objects.exists()


@pytest.mark.parametrize(
    "signature",
    ["data:image/gif;base64,R0lGODlhAQABAAAAACw=", "data:image/png;base64,aGVsbG8=", png_data_url(2500, 50)],
)
def test_bad_signature_is_a_422_naming_the_field(api: Api, c: ConsentClinic, signature: str) -> None:
    resp = _sign(api, "frontdesk", c, signature=signature)
    assert resp.status_code == 422
    assert "signature" in resp.json()["error"]["fields"]
    assert not SignedConsent.objects.exists()


def test_too_long_signature_is_a_422(api: Api, c: ConsentClinic) -> None:
    resp = _sign(api, "frontdesk", c, signature="data:image/png;base64," + "A" * 300_001)
    assert resp.status_code == 422 and "signature" in json.dumps(resp.json())


def test_marketer_is_refused_everything(api: Api, c: ConsentClinic) -> None:
    assert api("marketer").get("/api/v1/consent-templates").status_code == 403
    assert _sign(api, "marketer", c).status_code == 403
    signed = _sign(api, "doctor", c)
    assert signed.status_code == 201
    assert api("marketer").get(signed.json()["pdf_url"]).status_code == 403
    assert AuditEvent.objects.filter(outcome="denied").count() >= 3


def test_another_organisations_ids_are_404(api: Api, c: ConsentClinic, other_org: Organization) -> None:
    assert api("outsider").get("/api/v1/consent-templates").json() == []
    assert _sign(api, "outsider", c).status_code == 404  # org A's patient
    theirs = make_patient(other_org, phones=["+8613800138000"])
    resp = api("frontdesk").post(
        f"/api/v1/patients/{theirs.pk}/consents/sign",
        json.dumps({"template_version": str(c.en.pk), "language": "en", "typed_name": "X"}),
        content_type="application/json",
    )
    assert resp.status_code == 404
    signed = _sign(api, "frontdesk", c).json()
    assert api("outsider").get(signed["pdf_url"]).status_code == 404


def test_branch_user_of_another_branch_is_refused(
    api: Api, c: ConsentClinic, users: Any, branch2: Branch
) -> None:
    users["frontdesk"].branch = branch2
    users["frontdesk"].save()
    assert _sign(api, "frontdesk", c).status_code == 403


def test_another_organisations_version_is_404(api: Api, c: ConsentClinic, other_org: Organization) -> None:
    from clinicflow.clinical.services.consents import consent_template_create

    theirs = consent_template_create(org=other_org, actor=None, name="T", service_category="laser")
    v = consent_version_add(org=other_org, actor=None, template=theirs, language="en", title="T", body="B")
    assert _sign(api, "frontdesk", c, template_version=str(v.pk)).status_code == 404
    assert not SignedConsent.objects.exists()
