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
        ("analytics:owner_scorecards", _("Scorecards"), "reports.owner", "reports"),
        ("analytics:owner_alerts", _("Alerts"), "reports.owner", "reports"),
        ("whatif:page", _("What-if planner"), "reports.owner", "reports"),
    ]
    # the daily facts of the owner's reports: recorded changes every minute, the days around today hourly
    periodic: list[tuple[str, int]] = [
        ("clinicflow.analytics.owner.jobs.apply_recorded_changes", 60),
        ("clinicflow.analytics.owner.jobs.refresh_facts", 3600),
        # the owner's alerts: daily (a period is alerted once, so a rerun is harmless)
        ("clinicflow.analytics.owner.alerts_services.check_alerts", 86400),
    ]

    def ready(self) -> None:
        # the daily facts follow changed rows (recorded in the same transaction, applied by the worker)
        from clinicflow.analytics.owner.signals import connect

        connect()
