"""The marketing app's API, mounted under /api/v1/: offers and coupons, audiences, campaigns."""

from ninja import Router

from clinicflow.marketing.api import audiences, calendar, campaigns, documents, offers

router = Router(tags=["marketing"])
for part in (offers, audiences, campaigns, documents, calendar):
    router.add_router("", part.router)
