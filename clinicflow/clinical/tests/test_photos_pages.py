"""The photo pages: upload from a phone (camera input), gallery, before/after comparison and the
image view — refusals named and nothing stored, roles, tenancy, one audit row per image view."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from clinicflow.clinical.models.photos import Photo
from clinicflow.clinical.tests.photo_fixtures import (
    REFUSALS,
    image_bytes,
    multipart,
    photo_root,
    stored_files,
)
from clinicflow.core.models import AuditEvent, AuditOutcome
from clinicflow.patients.tests.factories import make_patient

__all__ = ["photo_root"]
pytestmark = pytest.mark.usefixtures("photo_root")


@pytest.fixture
def patient(org, branch):  # type: ignore[no-untyped-def]
    return make_patient(org, branch=branch)


def _upload(client, patient, name: str, data: bytes, kind: str = "before"):  # type: ignore[no-untyped-def]
    form = {"area": "cheeks", "view": "left_45", "kind": kind, "appointment": ""}
    return client.post(
        f"/clinical/patients/{patient.pk}/photos/upload/",
        {**form, "file": SimpleUploadedFile(name, data, content_type="image/jpeg")},
    )


def test_upload_page_offers_the_camera(web, patient) -> None:  # type: ignore[no-untyped-def]
    page = web("doctor").get(f"/clinical/patients/{patient.pk}/photos/upload/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'accept="image/*"' in html and 'capture="environment"' in html
    assert 'name="area"' in html and 'name="view"' in html and 'name="kind"' in html


def test_before_and_after_appear_side_by_side_with_dates(web, patient, photo_root: Path) -> None:  # type: ignore[no-untyped-def]
    doctor = web("doctor")
    first = _upload(doctor, patient, "before.jpg", image_bytes(colour="red"))
    assert first.status_code == 302 and "/photos/compare/?area=cheeks&view=left_45" in first["Location"]
    assert (
        _upload(doctor, patient, "after.png", image_bytes("PNG", colour="blue"), kind="after").status_code
        == 302
    )
    before = Photo.objects.get(kind="before")
    after = Photo.objects.get(kind="after")
    page = doctor.get(first["Location"])
    html = page.content.decode()
    assert f"/clinical/photos/{before.pk}/image/" in html and f"/clinical/photos/{after.pk}/image/" in html
    assert html.count('class="card-body p-2 small text-secondary photo-date"') == 2
    gallery = doctor.get(f"/clinical/patients/{patient.pk}/photos/").content.decode()
    assert gallery.count("/clinical/photos/") == 2
    assert len(stored_files(photo_root)) == 2


@pytest.mark.parametrize("case", ["jpeg_zip_polyglot", "decompression_bomb", "svg", "png_renamed_exe"])
def test_upload_page_refuses_with_a_422_naming_the_problem(web, patient, photo_root: Path, case: str) -> None:  # type: ignore[no-untyped-def]
    name, data, _code = REFUSALS[case]
    page = _upload(web("doctor"), patient, name, data)
    assert page.status_code == 422
    assert 'role="alert"' in page.content.decode()
    assert stored_files(photo_root) == [] and Photo.objects.count() == 0


def test_upload_page_refuses_a_path_in_the_file_name(web, patient, photo_root: Path) -> None:  # type: ignore[no-untyped-def]
    body, content_type = multipart(
        {"area": "lips", "view": "front", "kind": "before"}, "../../x.jpg", image_bytes()
    )
    page = web("doctor").post(
        f"/clinical/patients/{patient.pk}/photos/upload/", data=body, content_type=content_type
    )
    assert page.status_code == 422
    assert "path" in page.content.decode()
    assert stored_files(photo_root) == [] and Photo.objects.count() == 0


def test_image_view_is_audited_each_time_with_private_headers(web, patient) -> None:  # type: ignore[no-untyped-def]
    doctor = web("doctor")
    _upload(doctor, patient, "a.jpg", image_bytes())
    photo = Photo.objects.get()
    for n in (1, 2):
        resp = doctor.get(f"/clinical/photos/{photo.pk}/image/")
        assert resp.status_code == 200 and resp["Content-Type"] == "image/jpeg"
        assert resp["Cache-Control"] == "private, no-store" and resp["X-Content-Type-Options"] == "nosniff"
        views = AuditEvent.objects.filter(object_type="photo", object_id=str(photo.pk), action="view")
        assert views.filter(outcome=AuditOutcome.OK).count() == n


@pytest.mark.parametrize("persona", ["marketer", "frontdesk"])
def test_marketer_and_front_desk_never_see_photos(web, patient, persona: str) -> None:  # type: ignore[no-untyped-def]
    _upload(web("doctor"), patient, "a.jpg", image_bytes())
    photo = Photo.objects.get()
    client = web(persona)
    for url in (
        f"/clinical/patients/{patient.pk}/photos/",
        f"/clinical/patients/{patient.pk}/photos/upload/",
        f"/clinical/patients/{patient.pk}/photos/compare/",
        f"/clinical/photos/{photo.pk}/image/",
    ):
        resp = client.get(url)
        assert resp.status_code == 403, url
        assert resp["Content-Type"].startswith("text/html") and not resp.content.startswith(b"\xff\xd8")
    assert _upload(client, patient, "b.jpg", image_bytes()).status_code == 403
    assert Photo.objects.count() == 1


def test_another_organisation_gets_404(web, patient) -> None:  # type: ignore[no-untyped-def]
    _upload(web("doctor"), patient, "a.jpg", image_bytes())
    photo = Photo.objects.get()
    outsider = web("outsider")
    for url in (
        f"/clinical/patients/{patient.pk}/photos/",
        f"/clinical/patients/{patient.pk}/photos/upload/",
        f"/clinical/patients/{patient.pk}/photos/compare/",
        f"/clinical/photos/{photo.pk}/image/",
    ):
        assert outsider.get(url).status_code == 404, url
