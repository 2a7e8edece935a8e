from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClinicalConfig(AppConfig):
    """The clinical side of a visit: consultations with the patient's expectation, quotes, versioned
    e-consent, private photos, treatment records with lot numbers and SOPs, complications."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.clinical"
    label = "clinical"
    verbose_name = _("Clinical records")
    timeline = "clinicflow.clinical.timeline.source"  # its rows on the patient card
    # (url name, label, permission, nav group); each part adds its entries here
    nav: list[tuple[str, object, str, str]] = []
    nav.append(("clinical:consents_missing", _("Missing consents"), "consents.missing", "calendar"))
    nav.append(("clinical:consent_templates", _("Consent forms"), "clinical.manage", "settings"))
    nav.append(("clinical:consultation_templates", _("Consultation forms"), "clinical.manage", "settings"))
    nav.append(("clinical:consultation_conversion", _("Quote conversion"), "reports.clinical", "reports"))
    nav.append(("clinical:lot_search", _("Lot search"), "clinical.view", "patients"))
    nav.append(("clinical:complications", _("Complications"), "clinical.review", "reports"))
    nav.append(("clinical:sop_editor", _("SOPs"), "clinical.manage", "settings"))
