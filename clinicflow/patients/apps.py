from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatientsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.patients"
    label = "patients"
    nav = [
        ("patients:list", _("Patients"), "patients.view", "patients"),
        ("accounts:break_glass_list", _("Emergency access"), "patients.break_glass_review", "settings"),
    ]

    def ready(self) -> None:
        # the grants page (accounts) names patients through this app's selector
        from clinicflow.accounts.breakglass import register_patient_labels
        from clinicflow.patients.emergency import patient_labels

        register_patient_labels(patient_labels)
