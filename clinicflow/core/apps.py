from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.core"
    label = "core"
    # The owner's home page is analytics' (a URL name, not an import): first in the navigation.
    nav = [("home", _("Home"), "patients.view", "today")]
