from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClinicalConfig(AppConfig):
    """The clinical side of a visit: consultations with the patient's expectation, quotes, versioned
    e-consent, private photos, treatment records with lot numbers and SOPs, complications."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.clinical"
    label = "clinical"
    verbose_name = _("Clinical records")
    # (url name, label, permission, nav group); each part adds its entries here
    nav: list[tuple[str, object, str, str]] = []
