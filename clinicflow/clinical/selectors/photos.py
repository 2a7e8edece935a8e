"""Reads of clinical photos: a patient's photos, one photo, the before/after pair, the photos that
may be used for marketing (only with the patient's photo-publication consent), and the access check
every photo page and API call goes through (role, branch, emergency grant; refusals audited)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from clinicflow.accounts.breakglass import PatientAccess, access_denied_record, patient_access
from clinicflow.accounts.models import User
from clinicflow.booking.models import Appointment
from clinicflow.clinical.models.photos import Photo, PhotoKind
from clinicflow.core.errors import NotFound, PermissionDenied
from clinicflow.core.models import Organization
from clinicflow.core.selectors import parse_uuid
from clinicflow.patients.models import ConsentPurpose, Patient
from clinicflow.patients.selectors import has_consent, patient_get


def photo_access(
    *, org: Organization, user: User, patient: Patient, write: bool = False, request: object = None
) -> PatientAccess:
    """The caller's access to the patient's photos; ``PermissionDenied`` (audited) when the branch
    does not open the card (or, for ``write``, does not allow changes)."""
    access = patient_access(org=org, user=user, patient_id=patient.pk, branch_id=patient.branch_id)
    if not (access.writes if write else access.opens):
        access_denied_record(
            org=org,
            actor=user,
            object_type="photo",
            object_id=patient.pk,
            request=request,  # type: ignore[arg-type]
        )
        raise PermissionDenied("your role or branch does not give access to this patient's photos")
    return access


def photo_list(*, org: Organization, patient: Patient) -> QuerySet[Photo]:
    return Photo.objects.for_org(org).filter(patient=patient).order_by("-taken_at", "-id")


def photo_get(*, org: Organization, photo_id: object) -> Photo:
    pk = parse_uuid(photo_id)
    photo = (
        Photo.objects.for_org(org).select_related("patient", "patient__branch").filter(pk=pk).first()
        if pk
        else None
    )
    if photo is None:
        raise NotFound("photo not found")
    return photo


@dataclass(frozen=True)
class Comparison:
    area: str
    view: str
    before: list[Photo]
    after: list[Photo]
    chosen_before: Photo | None
    chosen_after: Photo | None


def photo_comparison(
    *,
    org: Organization,
    patient: Patient,
    area: str,
    view: str,
    before_id: object = None,
    after_id: object = None,
) -> Comparison:
    """The patient's before and after photos of one area and view; the chosen pair (by default the
    latest before and the latest after)."""
    photos = list(photo_list(org=org, patient=patient).filter(area=area, view=view)[:200])
    before = [p for p in photos if p.kind == PhotoKind.BEFORE]
    after = [p for p in photos if p.kind == PhotoKind.AFTER]
    return Comparison(
        area=area,
        view=view,
        before=before,
        after=after,
        chosen_before=_pick(before, before_id),
        chosen_after=_pick(after, after_id),
    )


def _pick(photos: list[Photo], wanted: object) -> Photo | None:
    pk = parse_uuid(wanted) if wanted else None
    return next((p for p in photos if p.pk == pk), photos[0] if photos else None)


def photos_for_marketing(*, org: Organization, patient: Patient) -> QuerySet[Photo]:
    """The patient's photos that may be used for marketing: none unless the patient's latest
    photo-publication consent is a grant (checked at the time of use)."""
    if not has_consent(org=org, patient_id=patient.pk, purpose=ConsentPurpose.PHOTO_PUBLICATION):
        return Photo.objects.none()
    return photo_list(org=org, patient=patient)


def patient_appointments(*, org: Organization, patient: Patient, limit: int = 20) -> list[Appointment]:
    """The patient's latest appointments, to attach a photo to one."""
    qs = Appointment.objects.for_org(org).filter(patient=patient).select_related("service")
    return list(qs.order_by("-start_at")[:limit])


def patient_for_photos(*, org: Organization, patient_id: object) -> Patient:
    return patient_get(org=org, patient_id=patient_id, with_phones=False)
