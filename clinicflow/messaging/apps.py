from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.messaging"
    label = "messaging"
    timeline = "clinicflow.messaging.timeline.source"  # its rows on the patient card
    verbose_name = _("Messaging")
    nav = [("messaging:list", _("Messages"), "messaging.view", "patients")]

    def ready(self) -> None:
        # Django bootstrapping: services import models, which cannot be imported before the app
        # registry is ready, so this is the one import inside a function in messaging.
        from clinicflow.messaging.services import messages_cancel_for_withdrawn_consent
        from clinicflow.patients.services import CONSENT_WITHDRAWN_HOOKS

        if messages_cancel_for_withdrawn_consent not in CONSENT_WITHDRAWN_HOOKS:
            CONSENT_WITHDRAWN_HOOKS.append(messages_cancel_for_withdrawn_consent)
