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
    nav: list[tuple[str, object, str, str]] = [
        ("marketing:calendar", _("Marketing calendar"), "marketing.view", "marketing"),
        ("marketing:offers", _("Offers and coupons"), "marketing.view", "marketing"),
        ("marketing:audiences", _("Audiences"), "marketing.view", "marketing"),
        ("marketing:campaigns", _("Campaigns"), "marketing.view", "marketing"),
        ("marketing:documents", _("Product documents"), "marketing.view", "marketing"),
        ("products:list", _("Packaged products"), "catalogue.view", "settings"),
    ]
    periodic: list[tuple[str, int]] = [("clinicflow.marketing.jobs.campaigns_send", 60)]

    def ready(self) -> None:
        # the front desk's call screen (acquisition, a lower layer) reads published FAQ and pricing
        # through the catalogue's hook
        from clinicflow.catalogue.product_notes import register_notes
        from clinicflow.marketing.selectors.documents import front_desk_notes

        register_notes(front_desk_notes)

        # coupon codes at the ledger's checkout (the ledger, a lower layer, holds the hook)
        from clinicflow.ledger.services.coupons import register_coupon_redeemer
        from clinicflow.marketing.checkout import redeem_for_invoice

        register_coupon_redeemer(redeem_for_invoice)
