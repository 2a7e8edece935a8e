from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    """Aftercare and recall: follow-up plans per service, staff tasks with outcomes, thank-you messages,
    recall lists ranked by predicted value."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.care"
    label = "care"
    verbose_name = _("Aftercare and recall")
    # (url name, label, permission, nav group)
    nav: list[tuple[str, object, str, str]] = []
