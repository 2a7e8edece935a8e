from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FhirConfig(AppConfig):
    """A FHIR R4 API (Patient, Appointment, Practitioner, Schedule, Slot) and FHIR Bundle import."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.fhir"
    label = "fhir"
    verbose_name = _("FHIR")
    # (url name, label, permission, nav group)
    nav: list[tuple[str, object, str, str]] = []
