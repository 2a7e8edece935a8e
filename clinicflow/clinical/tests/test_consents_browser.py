"""A patient signs a consent on the tablet page in headless Chromium (phone-sized): types the name,
draws on the canvas with the mouse; the stored PDF's text hashes to the stored SHA-256. Runs in the
normal suite whenever /usr/bin/chromium exists."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from clinicflow.clinical.models.consents import SignedConsent, text_digest
from clinicflow.clinical.tests.consents_factories import make_clinic
from clinicflow.clinical.views.consents import pdf_response
from clinicflow.conftest import PASSWORD
from clinicflow.core.models import Branch, Organization
from clinicflow.core.tests.chromium import ARGS, CHROMIUM

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)"
    ),
]


def test_patient_signs_on_the_tablet_and_the_pdf_hash_matches(
    org: Organization, branch: Branch, users: Any, live_server: Any, monkeypatch: Any
) -> None:
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    c = make_clinic(org, branch)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            page.goto(f"{live_server.url}/accounts/login/")
            page.fill("#id_username", "frontdesk@demo.test")
            page.fill("#id_password", PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_load_state()
            page.goto(f"{live_server.url}/clinical/consents/sign/{c.patient.pk}/{c.template.pk}/?lang=en")
            assert "Consent to laser" in page.inner_text("#consent-text")
            page.fill("#typed-name", "Anna Ivanova")
            pad = page.locator("#signature-pad")
            pad.scroll_into_view_if_needed()
            box = pad.bounding_box()
            assert box is not None and box["width"] <= 390
            page.mouse.move(box["x"] + 20, box["y"] + 60)
            page.mouse.down()
            for i in range(1, 12):
                page.mouse.move(box["x"] + 20 + i * 25, box["y"] + 60 + (i % 3) * 30, steps=3)
            page.mouse.up()
            page.get_by_role("button", name="I agree and sign").click()
            page.wait_for_selector("#signed-consent")
            shown_hash = page.inner_text("#signed-sha256").strip()
        finally:
            browser.close()

    signed = SignedConsent.objects.get()
    assert shown_hash == signed.text_sha256 == text_digest(signed.rendered_text)
    assert signed.signer_name == "Anna Ivanova" and signed.presented_by == users["frontdesk"]
    with Image.open(io.BytesIO(bytes(signed.signature_png))) as drawing:
        assert drawing.format == "PNG"
        assert drawing.getchannel("A").getextrema()[1] > 0  # something was drawn
    pdf = pdf_response(signed).content
    text = "".join(pg.extract_text() for pg in PdfReader(io.BytesIO(pdf)).pages)
    assert text_digest(text.split("Signed by:")[0]) == signed.text_sha256
