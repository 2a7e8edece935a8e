"""Clinical photos on S3-compatible object storage (``CLINICAL_PHOTO_S3_BUCKET``): the same upload,
refusal and audited serving as on the local disk, against a real S3 HTTP endpoint (moto's server on
a local port; MinIO, Yandex Object Storage and AWS speak the same API). The object is private, holds
no EXIF, and nothing is written to the local photo folder."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from clinicflow.clinical.models.photos import Photo
from clinicflow.clinical.tests.photo_fixtures import REFUSALS, image_bytes, jpeg_with_gps, multipart
from clinicflow.core.models import AuditEvent
from clinicflow.patients.tests.factories import make_patient

BUCKET = "clinic-photos"
KEYS = {"access_key": "test-access", "secret_key": "test-secret-key", "region_name": "eu-central-1"}
FIELDS = {"area": "lips", "view": "front", "kind": "before"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(settings: Any, s3_endpoint: str) -> Iterator[Any]:
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=KEYS["access_key"],
        aws_secret_access_key=KEYS["secret_key"],
        region_name=KEYS["region_name"],
    )
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": KEYS["region_name"]})
    storages = dict(settings.STORAGES)
    storages["clinical_photos"] = {
        "BACKEND": settings.S3_PHOTO_BACKEND,
        "OPTIONS": {
            "bucket_name": BUCKET,
            "endpoint_url": s3_endpoint,
            **KEYS,
            "location": "clinical-photos",
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
    settings.STORAGES = storages
    yield client
    objects = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    for obj in objects:
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _keys(client: Any) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def _post(api_client: Any, patient_id: object, name: str, data: bytes) -> Any:
    body, content_type = multipart(FIELDS, name, data)
    return api_client.post(f"/api/v1/patients/{patient_id}/photos", data=body, content_type=content_type)


def test_a_photo_goes_to_the_bucket_private_without_exif_and_is_served_audited(
    api: Any, org: Any, branch: Any, s3: Any, settings: Any, tmp_path: Any
) -> None:
    patient = make_patient(org, branch=branch)
    resp = _post(api("doctor"), patient.pk, "gps.jpg", jpeg_with_gps())
    assert resp.status_code == 201, resp.content
    photo = Photo.objects.get(pk=resp.json()["id"])
    keys = _keys(s3)
    assert keys == [f"clinical-photos/{photo.storage_key}"]
    stored = s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()
    assert b"PhoneCam" not in stored and not Image.open(io.BytesIO(stored)).getexif()
    grants = s3.get_object_acl(Bucket=BUCKET, Key=keys[0])["Grants"]
    assert all("AllUsers" not in json.dumps(g) for g in grants)  # private: no public-read grant
    image = api("doctor").get(resp.json()["image_url"])
    assert image.status_code == 200 and image.content == stored
    assert image["Cache-Control"] == "private, no-store"
    views = AuditEvent.objects.filter(object_type="photo", object_id=str(photo.pk), action="view")
    assert views.count() == 1
    assert api("marketer").get(resp.json()["image_url"]).status_code == 403


@pytest.mark.parametrize("case", ["jpeg_zip_polyglot", "decompression_bomb", "svg", "path_traversal_name"])
def test_refused_uploads_leave_the_bucket_empty(api: Any, org: Any, branch: Any, s3: Any, case: str) -> None:
    patient = make_patient(org, branch=branch)
    name, data, _code = REFUSALS[case]
    assert _post(api("doctor"), patient.pk, name, data).status_code == 422
    assert _keys(s3) == [] and Photo.objects.count() == 0


def test_two_uploads_never_overwrite_each_other(api: Any, org: Any, branch: Any, s3: Any) -> None:
    patient = make_patient(org, branch=branch)
    for colour in ("teal", "navy"):
        body, content_type = multipart(FIELDS, "a.png", image_bytes("PNG", colour=colour))
        resp = api("doctor").post(
            f"/api/v1/patients/{patient.pk}/photos", data=body, content_type=content_type
        )
        assert resp.status_code == 201
    assert len(_keys(s3)) == 2 and Photo.objects.count() == 2


def test_the_bucket_setting_selects_s3_with_private_objects() -> None:
    env = {
        **os.environ,
        "CLINICAL_PHOTO_S3_BUCKET": "photos-prod",
        "CLINICAL_PHOTO_S3_ENDPOINT_URL": "https://storage.yandexcloud.net",
        "CLINICAL_PHOTO_S3_REGION": "ru-central1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    code = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "print(json.dumps(s.STORAGES['clinical_photos']))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    conf = json.loads(out.stdout.strip().splitlines()[-1])
    assert conf["BACKEND"] == "storages.backends.s3.S3Storage"
    options = conf["OPTIONS"]
    assert options["bucket_name"] == "photos-prod" and options["region_name"] == "ru-central1"
    assert options["endpoint_url"] == "https://storage.yandexcloud.net"
    assert options["default_acl"] == "private" and options["file_overwrite"] is False
