from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogueConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.catalogue"
    label = "catalogue"
    nav = [("catalogue:list", _("Services"), "catalogue.view", "settings")]
