from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    """Outgoing webhooks: an organisation's subscriptions to events, signed deliveries through a
    queue with retries and back-off, a delivery log with replay."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")
    # (url name, label, permission, nav group)
    nav: list[tuple[str, object, str, str]] = [
        ("webhooks:subscriptions", _("Webhooks"), "webhooks.manage", "settings")
    ]
    periodic: list[tuple[str, int]] = [("clinicflow.webhooks.jobs.deliver_due", 15)]

    def ready(self) -> None:
        from clinicflow.webhooks.events import connect

        connect()
