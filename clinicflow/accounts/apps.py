from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in

from clinicflow.accounts.middleware import stamp_session_start


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.accounts"
    label = "accounts"

    def ready(self) -> None:
        user_logged_in.connect(stamp_session_start, dispatch_uid="clinicflow.accounts.session_started")
