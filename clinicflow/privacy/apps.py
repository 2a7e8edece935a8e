from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.privacy"
    label = "privacy"
    verbose_name = _("Privacy")
    nav = [
        ("privacy:incidents", _("Incidents"), "privacy.incidents", "settings"),
        ("privacy:requests", _("Data-subject requests"), "privacy.requests", "settings"),
    ]
    periodic: list[tuple[str, int]] = [("clinicflow.privacy.jobs.retention_nightly", 3600)]

    def ready(self) -> None:
        from clinicflow.privacy import residency  # noqa: F401  (registers the system check)
