from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    """Moving in: CSV/XLSX imports with column mapping, YCLIENTS exports and webhooks."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.imports"
    label = "imports"
    verbose_name = _("Imports")
    # (url name, label, permission, nav group)
    nav: list[tuple[str, object, str, str]] = [("imports:index", _("Imports"), "imports.run", "settings")]
    periodic: list[tuple[str, int]] = [("clinicflow.imports.jobs.run_next_import", 10)]
