from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AcquisitionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.acquisition"
    label = "acquisition"
    nav = [
        ("acquisition:call_log", _("Calls"), "calls.view"),
        ("acquisition:leads", _("Web leads"), "calls.view"),
        ("acquisition:channels", _("Marketing"), "acquisition.view"),
    ]
