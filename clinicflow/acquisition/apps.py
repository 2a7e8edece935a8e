from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AcquisitionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.acquisition"
    label = "acquisition"
    timeline = "clinicflow.acquisition.timeline.source"  # its rows on the patient card
    nav = [
        ("acquisition:call_log", _("Calls"), "calls.view", "calls"),
        ("acquisition:leads", _("Web leads"), "calls.view", "calls"),
        ("acquisition:channels", _("Marketing"), "acquisition.view", "marketing"),
    ]
