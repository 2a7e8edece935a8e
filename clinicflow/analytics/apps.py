from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.analytics"
    label = "analytics"
    nav = [
        ("analytics:reports", _("Reports"), "reports.view", "reports"),
        ("analytics:capacity", _("Capacity"), "reports.capacity", "reports"),
    ]
