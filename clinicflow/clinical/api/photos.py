"""The API of the clinical records: photos. Upload (multipart), a patient's list, the image.

Every call needs ``clinical.photos`` (owner, doctor) and the patient's card open to the caller (branch
or emergency grant); every read of an image writes its own audit row."""

import datetime as dt
import uuid
from typing import Any

from django.http import HttpResponse
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.accounts.breakglass import access_record
from clinicflow.clinical.images import max_bytes
from clinicflow.clinical.models.photos import Photo
from clinicflow.clinical.photo_serve import image_response
from clinicflow.clinical.selectors import photos as selectors
from clinicflow.clinical.services import photos as services
from clinicflow.clinical.upload_names import raw_name
from clinicflow.core.api import ERRORS, ErrorOut
from clinicflow.core.models import AuditAction

router = Router(tags=["clinical"])


class PhotoOut(Schema):
    id: uuid.UUID
    patient: uuid.UUID
    appointment: uuid.UUID | None
    area: str
    view: str
    kind: str
    taken_at: dt.datetime
    width: int
    height: int
    bytes: int
    content_type: str
    sha256: str
    image_url: str


def photo_out(photo: Photo) -> dict[str, Any]:
    return {
        "id": photo.pk,
        "patient": photo.patient_id,
        "appointment": photo.appointment_id,
        "area": photo.area,
        "view": photo.view,
        "kind": photo.kind,
        "taken_at": photo.taken_at,
        "width": photo.width,
        "height": photo.height,
        "bytes": photo.bytes,
        "content_type": photo.content_type,
        "sha256": photo.sha256,
        "image_url": f"/api/v1/photos/{photo.pk}/image",
    }


@router.post(
    "/patients/{patient_id}/photos", response={201: PhotoOut, 503: ErrorOut, **ERRORS}, exclude_unset=True
)
@api_perm("clinical.photos", audit_object="photo")
def photo_upload(
    request: ApiRequest,
    patient_id: str,
    file: File[UploadedFile],
    area: Form[str],
    view: Form[str],
    kind: Form[str],
    appointment: Form[str] = "",
) -> Status[dict[str, Any]]:
    """Upload a before/after photo (JPEG, PNG, WebP or HEIC, recognised by content). It is decoded,
    re-encoded without EXIF/GPS and stored privately; a refused file is a 422 whose `code` names the
    problem (`unsupported_type`, `name_mismatch`, `polyglot`, `too_many_pixels`, `truncated_image`,
    `bad_file_name`, `file_too_large`, ...) and nothing is stored."""
    org, user = request.org, request.auth
    patient = selectors.patient_for_photos(org=org, patient_id=patient_id)
    selectors.photo_access(org=org, user=user, patient=patient, write=True, request=request)
    limit = max_bytes()
    photo = services.photo_upload(
        org=org,
        user=user,
        patient=patient,
        data=file.read(limit + 1),
        name=raw_name(request, file.name),
        area=area,
        view=view,
        kind=kind,
        appointment_id=appointment or None,
        request=request,
    )
    return Status(201, photo_out(photo))


@router.get("/patients/{patient_id}/photos", response={200: list[PhotoOut], **ERRORS})
@api_perm("clinical.photos", audit_object="photo")
def photo_list(request: ApiRequest, patient_id: str) -> list[dict[str, Any]]:
    """The patient's photos (metadata; the image through `image_url`), newest first."""
    org, user = request.org, request.auth
    patient = selectors.patient_for_photos(org=org, patient_id=patient_id)
    access = selectors.photo_access(org=org, user=user, patient=patient, request=request)
    photos = list(selectors.photo_list(org=org, patient=patient)[:500])
    access_record(
        access,
        org=org,
        actor=user,
        object_type="photo",
        object_id=patient.pk,
        fields=["metadata"],
        request=request,
        action=AuditAction.LIST,
    )
    return [photo_out(p) for p in photos]


IMAGE_TYPES = {
    t: {"schema": {"type": "string", "format": "binary"}} for t in ("image/jpeg", "image/png", "image/webp")
}


@router.get(
    "/photos/{photo_id}/image",
    response={200: None, **ERRORS},
    openapi_extra={"responses": {200: {"description": "The image", "content": IMAGE_TYPES}}},
)
@api_perm("clinical.photos", audit_object="photo")
def photo_image(request: ApiRequest, photo_id: str) -> HttpResponse:
    """The stored image, only for a caller who may open the patient's card; each call is audited."""
    org, user = request.org, request.auth
    photo = selectors.photo_get(org=org, photo_id=photo_id)
    access = selectors.photo_access(org=org, user=user, patient=photo.patient, request=request)
    return image_response(photo, access=access, org=org, user=user, request=request)
