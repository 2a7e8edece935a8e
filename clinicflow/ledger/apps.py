from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    """Checkout and loyalty on one append-only double-entry ledger: invoices, balances, memberships,
    packages, points and referrals."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "clinicflow.ledger"
    label = "ledger"
    verbose_name = _("Checkout and loyalty")
    # (url name, label, permission, nav group)
    nav: list[tuple[str, object, str, str]] = [
        ("ledger:plans", _("Membership plans"), "ledger.manage", "settings"),
    ]
    # bounded, idempotent units of work run by ``clinicflow worker``
    periodic: list[tuple[str, int]] = [
        ("clinicflow.ledger.jobs.idempotency_purge", 3600),
        ("clinicflow.ledger.jobs.expire_lots", 3600),
        ("clinicflow.ledger.jobs.memberships_earn", 3600),
    ]

    def ready(self) -> None:
        # a friend's code on the public booking page (booking, a lower layer, holds the hook)
        from clinicflow.booking.referrals import register_referral_linker
        from clinicflow.ledger.services.referrals import referral_link

        register_referral_linker(referral_link)
