from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatientsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.patients"
    label = "patients"
    nav = [("patients:list", _("Patients"), "patients.view")]
