from django.apps import AppConfig


class AcquisitionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.acquisition"
    label = "acquisition"
