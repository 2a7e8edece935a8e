from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    """Outbound marketing within each patient's consent: the marketing calendar, offers and coupons,
    audiences, capacity-aware campaigns and A/B tests."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.marketing"
    label = "marketing"
    verbose_name = _("Marketing")
    # (url name, label, permission, nav group)
    nav: list[tuple[str, object, str, str]] = []
    periodic: list[tuple[str, int]] = [("clinicflow.marketing.jobs.campaigns_send", 60)]
