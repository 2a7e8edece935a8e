from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from clinicflow.accounts.middleware import stamp_session_start


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.accounts"
    label = "accounts"

    def ready(self) -> None:
        # the receivers import the models, so they are imported once the app registry is ready
        from clinicflow.accounts import signals

        user_logged_in.connect(stamp_session_start, dispatch_uid="clinicflow.accounts.session_started")
        user_logged_in.connect(signals.on_logged_in, dispatch_uid="clinicflow.accounts.audit_login")
        user_logged_out.connect(signals.on_logged_out, dispatch_uid="clinicflow.accounts.audit_logout")
        user_login_failed.connect(
            signals.on_login_failed, dispatch_uid="clinicflow.accounts.audit_login_failed"
        )
