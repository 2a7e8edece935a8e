"""POST/GET /api/v1/patients/{id}/photos and GET /api/v1/photos/{id}/image: every refusal is a 422
naming the problem with nothing stored, EXIF/GPS are gone, HEIC is accepted, each image view is
audited, roles and tenancy hold, and no photo has a public URL."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import Resolver404, resolve
from PIL import Image

from clinicflow.clinical.models.photos import Photo
from clinicflow.clinical.selectors.photos import photos_for_marketing
from clinicflow.clinical.storage import photo_storage
from clinicflow.clinical.tests.photo_fixtures import (
    REFUSALS,
    image_bytes,
    jpeg_with_gps,
    multipart,
    photo_root,
    stored_files,
)
from clinicflow.core.models import AuditEvent, AuditOutcome
from clinicflow.patients.services import consent_record
from clinicflow.patients.tests.factories import make_patient

__all__ = ["photo_root"]
FIELDS = {"area": "lips", "view": "front", "kind": "before"}
pytestmark = pytest.mark.usefixtures("photo_root")


@pytest.fixture
def patient(org, branch):  # type: ignore[no-untyped-def]
    return make_patient(org, branch=branch)


def _post(client, patient_id, name: str, data: bytes, **fields: str):  # type: ignore[no-untyped-def]
    body, content_type = multipart({**FIELDS, **fields}, name, data)
    return client.post(f"/api/v1/patients/{patient_id}/photos", data=body, content_type=content_type)


def _image_views(photo_id: object) -> int:
    return AuditEvent.objects.filter(
        object_type="photo", object_id=str(photo_id), action="view", outcome=AuditOutcome.OK
    ).count()


def test_doctor_uploads_a_photo_and_reads_it_back(api, patient, photo_root: Path) -> None:  # type: ignore[no-untyped-def]
    resp = _post(api("doctor"), patient.pk, "IMG_1.jpg", image_bytes(size=(90, 60)))
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["area"], body["view"], body["kind"], body["width"], body["height"]) == (
        "lips",
        "front",
        "before",
        90,
        60,
    )
    photo = Photo.objects.get(pk=body["id"])
    assert photo.taken_at.tzinfo is not None
    assert photo.storage_key.endswith(".jpg") and "IMG_1" not in photo.storage_key
    assert len(stored_files(photo_root)) == 1
    assert (
        AuditEvent.objects.filter(object_type="photo", action="create", object_id=str(photo.pk)).count() == 1
    )
    listed = api("doctor").get(f"/api/v1/patients/{patient.pk}/photos")
    assert listed.status_code == 200 and [p["id"] for p in listed.json()] == [str(photo.pk)]
    image = api("owner").get(body["image_url"])
    assert image.status_code == 200
    assert image["Content-Type"] == "image/jpeg"
    assert image["Cache-Control"] == "private, no-store"
    assert image["X-Content-Type-Options"] == "nosniff"
    assert image["Content-Disposition"].startswith("inline; filename=")
    assert Image.open(io.BytesIO(image.content)).size == (90, 60)


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_each_refusal_is_a_422_naming_it_and_stores_nothing(
    api, patient, photo_root: Path, case: str
) -> None:  # type: ignore[no-untyped-def]
    name, data, code = REFUSALS[case]
    resp = _post(api("doctor"), patient.pk, name, data)
    assert resp.status_code == 422, resp.content
    error = resp.json()["error"]
    assert error["code"] == code or (code == "empty_file" and error["fields"].get("file"))
    assert "file" in error["fields"]
    assert stored_files(photo_root) == []
    assert Photo.objects.count() == 0


def test_gps_and_exif_are_gone_after_upload(api, patient) -> None:  # type: ignore[no-untyped-def]
    resp = _post(api("doctor"), patient.pk, "gps.jpg", jpeg_with_gps())
    assert resp.status_code == 201
    image = api("doctor").get(resp.json()["image_url"])
    stored = Image.open(io.BytesIO(image.content))
    assert not stored.getexif()
    assert not stored.getexif().get_ifd(0x8825)
    assert b"PhoneCam" not in image.content


def test_heic_is_accepted_and_served_as_jpeg(api, patient) -> None:  # type: ignore[no-untyped-def]
    resp = _post(api("doctor"), patient.pk, "IMG_0042.HEIC", image_bytes("HEIF", size=(64, 48)))
    assert resp.status_code == 201, resp.content
    assert resp.json()["content_type"] == "image/jpeg"
    image = api("doctor").get(resp.json()["image_url"])
    assert Image.open(io.BytesIO(image.content)).format == "JPEG"


def test_each_image_view_writes_its_own_audit_row(api, patient) -> None:  # type: ignore[no-untyped-def]
    photo_id = _post(api("doctor"), patient.pk, "a.png", image_bytes("PNG")).json()["id"]
    for n in (1, 2, 3):
        assert api("doctor").get(f"/api/v1/photos/{photo_id}/image").status_code == 200
        assert _image_views(photo_id) == n
    row = AuditEvent.objects.filter(object_type="photo", object_id=str(photo_id), action="view").first()
    assert row is not None and row.actor_email == "doctor@demo.test" and row.fields == ["image"]


@pytest.mark.parametrize("persona", ["marketer", "frontdesk", "manager"])
def test_roles_without_photo_permission_get_403_everywhere(
    api, patient, photo_root: Path, persona: str
) -> None:  # type: ignore[no-untyped-def]
    photo_id = _post(api("doctor"), patient.pk, "a.jpg", image_bytes()).json()["id"]
    client = api(persona)
    assert _post(client, patient.pk, "b.jpg", image_bytes()).status_code == 403
    assert client.get(f"/api/v1/patients/{patient.pk}/photos").status_code == 403
    image = client.get(f"/api/v1/photos/{photo_id}/image")
    assert image.status_code == 403 and b"\xff\xd8" not in image.content
    assert Photo.objects.count() == 1 and len(stored_files(photo_root)) == 1
    assert AuditEvent.objects.filter(object_type="photo", outcome=AuditOutcome.DENIED).count() == 3
    assert _image_views(photo_id) == 0


def test_another_organisation_gets_404(api, patient, photo_root: Path) -> None:  # type: ignore[no-untyped-def]
    photo_id = _post(api("doctor"), patient.pk, "a.jpg", image_bytes()).json()["id"]
    outsider = api("outsider")
    assert _post(outsider, patient.pk, "b.jpg", image_bytes()).status_code == 404
    assert outsider.get(f"/api/v1/patients/{patient.pk}/photos").status_code == 404
    resp = outsider.get(f"/api/v1/photos/{photo_id}/image")
    assert resp.status_code == 404 and str(patient.pk) not in resp.content.decode()
    assert len(stored_files(photo_root)) == 1


def test_unauthenticated_gets_401(client, api, patient) -> None:  # type: ignore[no-untyped-def]
    photo_id = _post(api("doctor"), patient.pk, "a.jpg", image_bytes()).json()["id"]
    assert client.get(f"/api/v1/photos/{photo_id}/image").status_code == 401


def test_another_branch_doctor_is_refused(api, users, patient, branch2) -> None:  # type: ignore[no-untyped-def]
    photo_id = _post(api("doctor"), patient.pk, "a.jpg", image_bytes()).json()["id"]
    doctor = users["doctor"]
    doctor.branch = branch2
    doctor.save(update_fields=["branch"])
    assert api("doctor").get(f"/api/v1/photos/{photo_id}/image").status_code == 403
    assert _image_views(photo_id) == 0


def test_appointment_must_be_the_patients(api, org, branch, patient) -> None:  # type: ignore[no-untyped-def]
    resp = _post(
        api("doctor"), patient.pk, "a.jpg", image_bytes(), appointment="0190b3c2-0000-7000-8000-000000000000"
    )
    assert resp.status_code == 422 and "appointment" in resp.json()["error"]["fields"]
    resp = _post(api("doctor"), patient.pk, "a.jpg", image_bytes(), area="elbow")
    assert resp.status_code == 422 and "area" in resp.json()["error"]["fields"]
    assert Photo.objects.count() == 0


def test_no_public_url(api, patient, photo_root: Path) -> None:  # type: ignore[no-untyped-def]
    body = _post(api("doctor"), patient.pk, "a.jpg", image_bytes()).json()
    photo = Photo.objects.get(pk=body["id"])
    with pytest.raises(NotImplementedError):
        photo_storage().url(photo.storage_key)
    path = Path(photo_storage().path(photo.storage_key))  # type: ignore[attr-defined]
    assert path.is_relative_to(photo_root)
    for public in (django_settings.MEDIA_ROOT, django_settings.STATIC_ROOT):
        assert not path.is_relative_to(Path(public))
    for guess in (f"/media/{photo.storage_key}", f"/static/{photo.storage_key}", f"/{photo.storage_key}"):
        try:
            match = resolve(guess)
        except Resolver404:
            continue
        assert "serve" not in match.func.__name__, guess
        assert api("doctor").get(guess).status_code == 404
    assert "/media/" not in str(body)


def test_default_storage_is_private_and_outside_media() -> None:
    options = django_settings.STORAGES["clinical_photos"]
    assert options["BACKEND"] == "clinicflow.clinical.storage.PrivateFileStorage"
    root = Path(options["OPTIONS"]["location"])
    assert not root.is_relative_to(Path(django_settings.MEDIA_ROOT))
    assert not root.is_relative_to(Path(django_settings.STATIC_ROOT))


def test_marketing_use_needs_the_photo_consent(api, org, users, patient) -> None:  # type: ignore[no-untyped-def]
    _post(api("doctor"), patient.pk, "a.jpg", image_bytes())
    assert list(photos_for_marketing(org=org, patient=patient)) == []
    consent_record(
        org=org,
        actor=users["owner"],
        patient=patient,
        purpose="marketing_email",
        granted=True,
        method="written",
    )
    assert list(photos_for_marketing(org=org, patient=patient)) == []
    consent_record(
        org=org,
        actor=users["owner"],
        patient=patient,
        purpose="photo_publication",
        granted=True,
        method="written",
    )
    assert len(photos_for_marketing(org=org, patient=patient)) == 1
    consent_record(
        org=org,
        actor=users["owner"],
        patient=patient,
        purpose="photo_publication",
        granted=False,
        method="written",
    )
    assert list(photos_for_marketing(org=org, patient=patient)) == []


def test_a_row_whose_file_is_gone_is_a_404_without_audit(api, patient, photo_root: Path) -> None:  # type: ignore[no-untyped-def]
    photo_id = _post(api("doctor"), patient.pk, "a.jpg", image_bytes()).json()["id"]
    for path in stored_files(photo_root):
        path.unlink()
    assert api("doctor").get(f"/api/v1/photos/{photo_id}/image").status_code == 404
    assert _image_views(photo_id) == 0


def test_a_full_disk_is_a_503_that_leaves_no_file_and_no_row(
    api, patient, photo_root: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import errno

    from clinicflow.clinical import storage

    real = storage.write_new_file

    def full(path: Path, data: bytes) -> None:
        real(path, data[: len(data) // 2])  # a partial write the real helper would clean up
        path.unlink()
        raise storage.DiskFull(str(OSError(errno.ENOSPC, "No space left on device")))

    monkeypatch.setattr(storage, "write_new_file", full)
    resp = _post(api("doctor"), patient.pk, "a.jpg", image_bytes())
    assert resp.status_code == 503 and resp.json()["error"]["code"] == "disk_full"
    assert stored_files(photo_root) == [] and Photo.objects.count() == 0
