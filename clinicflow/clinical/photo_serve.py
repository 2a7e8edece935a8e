"""The one way a clinical photo leaves the server: this response, after the caller's access was
checked, with its audit row written first (one row per view) and private, no-sniff headers."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from clinicflow.accounts.breakglass import PatientAccess, access_record
from clinicflow.accounts.models import User
from clinicflow.clinical.models.photos import Photo
from clinicflow.clinical.services.photos import photo_bytes
from clinicflow.core.models import Organization


def image_response(
    photo: Photo, *, access: PatientAccess, org: Organization, user: User, request: HttpRequest
) -> HttpResponse:
    try:
        data = photo_bytes(photo)
    except (
        FileNotFoundError
    ) as exc:  # a row whose file is gone (restored backup, erased file): nothing to show
        raise Http404("photo file not found") from exc
    access_record(
        access,
        org=org,
        actor=user,
        object_type="photo",
        object_id=photo.pk,
        fields=["image"],
        request=request,
    )
    response = HttpResponse(data, content_type=photo.content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    ext = "jpg" if photo.content_type == "image/jpeg" else photo.content_type.rsplit("/", 1)[-1]
    response["Content-Disposition"] = f'inline; filename="photo-{photo.pk}.{ext}"'
    return response
