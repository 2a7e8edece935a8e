"""Storing a clinical photo: validated and re-encoded (``clinicflow.clinical.images``), written to
the private photo storage under a random key, recorded and audited in one transaction. A refusal
stores nothing; a failure after the file was written removes it; a full disk is a 503 that leaves
neither a partial file nor a row."""

from __future__ import annotations

import hashlib
import uuid

from django.core.files.base import ContentFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.booking.models import Appointment
from clinicflow.clinical.images import clean_photo
from clinicflow.clinical.models.photos import Photo, PhotoArea, PhotoKind, PhotoView
from clinicflow.clinical.storage import photo_storage
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import DomainError, ValidationFailed, require_choice
from clinicflow.core.models import AuditAction, Organization
from clinicflow.core.selectors import parse_uuid
from clinicflow.core.uploads import DiskFull
from clinicflow.patients.models import Patient


class PhotoStorageFull(DomainError):
    status = 503
    code = "disk_full"


def photo_upload(
    *,
    org: Organization,
    user: User,
    patient: Patient,
    data: bytes,
    name: str,
    area: str,
    view: str,
    kind: str,
    appointment_id: object = None,
    request: HttpRequest | None = None,
) -> Photo:
    require_choice("area", area, PhotoArea.values)
    require_choice("view", view, PhotoView.values)
    require_choice("kind", kind, PhotoKind.values)
    appointment = _appointment(org, patient, appointment_id)
    clean = clean_photo(data, name)
    key = f"{org.pk}/{uuid.uuid4().hex}.{clean.ext}"
    storage = photo_storage()
    saved: str | None = None
    try:
        with transaction.atomic():
            photo = Photo.objects.create(
                organization=org,
                patient=patient,
                appointment=appointment,
                area=area,
                view=view,
                kind=kind,
                taken_at=timezone.now(),
                width=clean.width,
                height=clean.height,
                bytes=len(clean.data),
                content_type=clean.content_type,
                sha256=hashlib.sha256(clean.data).hexdigest(),
                storage_key=key,
                uploaded_by=user,
            )
            saved = storage.save(key, ContentFile(clean.data))
            audit_record(
                org=org,
                actor=user,
                action=AuditAction.CREATE,
                object_type="photo",
                object_id=photo.pk,
                fields=["area", "view", "kind", "appointment", "image"],
                request=request,
            )
    except DiskFull as exc:
        raise PhotoStorageFull("the server's disk is full; the photo was not stored") from exc
    except BaseException:
        if saved is not None:
            storage.delete(saved)
        raise
    return photo


def _appointment(org: Organization, patient: Patient, appointment_id: object) -> Appointment | None:
    if appointment_id in (None, ""):
        return None
    pk = parse_uuid(appointment_id)
    found = Appointment.objects.for_org(org).filter(pk=pk, patient=patient).first() if pk else None
    if found is None:
        raise ValidationFailed.field("appointment", "not an appointment of this patient")
    return found


def photo_bytes(photo: Photo) -> bytes:
    """The stored image (the caller has checked access and writes the audit row)."""
    with photo_storage().open(photo.storage_key, "rb") as handle:
        data: bytes = handle.read()
    return data
