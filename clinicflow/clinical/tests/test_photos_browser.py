"""A doctor takes a photo with the upload page on a phone-sized screen (headless Chromium; the file
chooser stands in for the camera) and the photo appears in the before/after comparison page."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from clinicflow.clinical.models.photos import Photo
from clinicflow.clinical.tests.photo_fixtures import image_bytes, photo_root
from clinicflow.core.tests.chromium import ARGS, CHROMIUM
from clinicflow.patients.tests.factories import make_patient

__all__ = ["photo_root"]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


def test_doctor_takes_a_photo_on_a_phone_and_sees_it_in_the_comparison(  # type: ignore[no-untyped-def]
    users, branch, live_server, monkeypatch, photo_root: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    patient = make_patient(users["doctor"].organization, branch=branch)
    session = Client()
    session.force_login(users["doctor"], backend="django.contrib.auth.backends.ModelBackend")
    cookie = session.cookies[settings.SESSION_COOKIE_NAME].value
    shot = tmp_path / "IMG_20261205_101500.jpg"
    shot.write_bytes(image_bytes(size=(300, 400), colour="pink"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            context = browser.new_context(
                viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
            )
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
            )
            page = context.new_page()
            page.goto(f"{live_server.url}/clinical/patients/{patient.pk}/photos/upload/")
            camera = page.locator('input[type="file"][capture="environment"]')
            assert camera.get_attribute("accept") == "image/*"
            camera.set_input_files(str(shot))
            page.select_option("#id_area", "nose")
            page.select_option("#id_view", "profile_left")
            page.select_option("#id_kind", "before")
            page.get_by_role("button", name="Upload").click()
            page.wait_for_selector("#photo-comparison img")
            photo = Photo.objects.get()
            assert (photo.area, photo.view, photo.kind) == ("nose", "profile_left", "before")
            image = page.locator(f'#photo-comparison img[src="/clinical/photos/{photo.pk}/image/"]')
            image.wait_for()
            loaded = page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
            )
            assert loaded
            assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [300, 400]
            assert page.locator("#photo-comparison .photo-date").count() == 1
        finally:
            browser.close()
