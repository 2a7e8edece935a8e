from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.analytics"
    label = "analytics"
    nav = [
        ("analytics:reports", _("Reports"), "reports.view", "reports"),
        ("analytics:capacity", _("Capacity"), "reports.capacity", "reports"),
        ("analytics:owner_home", _("Owner home"), "reports.owner", "reports"),
    ]
    # the daily facts of the owner's reports: yesterday's and today's again, every minute
    periodic: list[tuple[str, int]] = [("clinicflow.analytics.owner.jobs.refresh_facts", 60)]
