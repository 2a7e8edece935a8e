from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.core"
    label = "core"
    nav = [("core:home", _("Home"), "patients.view")]
