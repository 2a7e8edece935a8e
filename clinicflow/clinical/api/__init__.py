"""The clinical records' API: one router per part, mounted together under /api/v1/."""

from ninja import Router

from clinicflow.clinical.api import consents, consultations, photos, treatments

router = Router(tags=["clinical"])
for part in (consultations, consents, photos, treatments):
    router.add_router("", part.router)
