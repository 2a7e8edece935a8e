"""Pages of the clinical records: photos — the upload page for a phone or tablet (camera input), the
patient's gallery, the before/after comparison, and the image itself (served only here and by the
API, each view audited). Owner and doctor only (``clinical.photos``); never the marketer or front desk."""

from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.accounts.breakglass import PatientAccess, access_record
from clinicflow.booking.models import Appointment
from clinicflow.clinical.images import max_bytes
from clinicflow.clinical.models.photos import PhotoArea, PhotoKind, PhotoView
from clinicflow.clinical.photo_serve import image_response
from clinicflow.clinical.selectors import photos as selectors
from clinicflow.clinical.services import photos as services
from clinicflow.clinical.upload_names import raw_name
from clinicflow.core import uploads
from clinicflow.core.errors import DomainError
from clinicflow.core.models import AuditAction
from clinicflow.core.web import get_or_404, render_in_zone
from clinicflow.patients.emergency import access_of, refused
from clinicflow.patients.models import Patient
from clinicflow.patients.selectors import patient_get


class PhotoUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Photo"),
        widget=forms.FileInput(
            attrs={"accept": "image/*", "capture": "environment", "class": "form-control"}
        ),
    )
    area = forms.ChoiceField(label=_("Area"), choices=PhotoArea.choices)
    view = forms.ChoiceField(label=_("View"), choices=PhotoView.choices)
    kind = forms.ChoiceField(label=_("Before or after"), choices=PhotoKind.choices)
    appointment = forms.ChoiceField(label=_("Appointment"), required=False)

    def __init__(self, *args: object, appointments: list[Appointment], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        choice = self.fields["appointment"]
        assert isinstance(choice, forms.ChoiceField)
        choice.choices = [("", "—")] + [
            (str(a.pk), f"{a.start_at:%Y-%m-%d %H:%M} {a.service}") for a in appointments
        ]
        for name in ("area", "view", "kind", "appointment"):
            self.fields[name].widget.attrs["class"] = "form-select"


def _patient(
    request: AuthedRequest, patient_id: object, *, write: bool = False
) -> tuple[Patient, PatientAccess | HttpResponse]:
    patient = get_or_404(patient_get, org=request.org, patient_id=patient_id, with_phones=False)
    access = access_of(request, patient)
    if not access.opens or (write and not access.writes):
        return patient, refused(request, patient, access)
    return patient, access


def _audit_list(request: AuthedRequest, patient: Patient, access: PatientAccess) -> None:
    access_record(
        access,
        org=request.org,
        actor=request.user,
        object_type="photo",
        object_id=patient.pk,
        fields=["metadata"],
        request=request,
        action=AuditAction.LIST,
    )


@require_http_methods(["GET", "POST"])
@require_perm("clinical.photos", audit_object="photo")
def photo_upload(request: AuthedRequest, patient_id: str) -> HttpResponse:
    patient, access = _patient(request, patient_id, write=True)
    if isinstance(access, HttpResponse):
        return access
    appointments = selectors.patient_appointments(org=request.org, patient=patient)
    form = PhotoUploadForm(request.POST or None, request.FILES or None, appointments=appointments)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                photo = services.photo_upload(
                    org=request.org,
                    user=request.user,
                    patient=patient,
                    data=upload.read(max_bytes() + 1),
                    name=raw_name(request, upload.name),
                    area=form.cleaned_data["area"],
                    view=form.cleaned_data["view"],
                    kind=form.cleaned_data["kind"],
                    appointment_id=form.cleaned_data["appointment"] or None,
                    request=request,
                )
            except DomainError as exc:
                status = exc.status
                for field, problems in (exc.fields or {"file": [exc.message]}).items():
                    form.add_error(field if field in form.fields else None, problems)
            else:
                url = redirect("clinical:photo_compare", patient_id=patient.pk)
                url["Location"] += f"?area={photo.area}&view={photo.view}"
                return url
        if uploads.upload_disk_full(request):
            form.errors["file"] = form.error_class([str(uploads.DISK_FULL_MESSAGE)])
            status = 503
    page = {"patient": patient, "form": form}
    return render_in_zone(request, "clinical/photos/upload.html", page, branch=patient.branch, status=status)


@require_GET
@require_perm("clinical.photos", audit_object="photo")
def photo_gallery(request: AuthedRequest, patient_id: str) -> HttpResponse:
    patient, access = _patient(request, patient_id)
    if isinstance(access, HttpResponse):
        return access
    photos = list(selectors.photo_list(org=request.org, patient=patient)[:500])
    _audit_list(request, patient, access)
    page = {"patient": patient, "photos": photos}
    return render_in_zone(request, "clinical/photos/gallery.html", page, branch=patient.branch)


@require_GET
@require_perm("clinical.photos", audit_object="photo")
def photo_compare(request: AuthedRequest, patient_id: str) -> HttpResponse:
    patient, access = _patient(request, patient_id)
    if isinstance(access, HttpResponse):
        return access
    area = request.GET.get("area", "")
    view = request.GET.get("view", "")
    area = area if area in PhotoArea.values else PhotoArea.FULL_FACE
    view = view if view in PhotoView.values else PhotoView.FRONT
    comparison = selectors.photo_comparison(
        org=request.org,
        patient=patient,
        area=area,
        view=view,
        before_id=request.GET.get("before"),
        after_id=request.GET.get("after"),
    )
    _audit_list(request, patient, access)
    page = {
        "patient": patient,
        "c": comparison,
        "pair": [(comparison.chosen_before, _("Before")), (comparison.chosen_after, _("After"))],
        "areas": PhotoArea.choices,
        "views": PhotoView.choices,
    }
    return render_in_zone(request, "clinical/photos/compare.html", page, branch=patient.branch)


@require_GET
@require_perm("clinical.photos", audit_object="photo")
def photo_image(request: AuthedRequest, photo_id: str) -> HttpResponse:
    photo = get_or_404(selectors.photo_get, org=request.org, photo_id=photo_id)
    access = access_of(request, photo.patient)
    if not access.opens:
        return refused(request, photo.patient, access)
    return image_response(photo, access=access, org=request.org, user=request.user, request=request)


paths: list[URLPattern] = [
    path("patients/<str:patient_id>/photos/", photo_gallery, name="photo_gallery"),
    path("patients/<str:patient_id>/photos/upload/", photo_upload, name="photo_upload"),
    path("patients/<str:patient_id>/photos/compare/", photo_compare, name="photo_compare"),
    path("photos/<str:photo_id>/image/", photo_image, name="photo_image"),
]
