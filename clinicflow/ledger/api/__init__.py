"""The ledger app's API, mounted under /api/v1/ (full paths declared in each module)."""

from ninja import Router

from clinicflow.ledger.api.invoices import router as invoices_router
from clinicflow.ledger.api.memberships import router as memberships_router
from clinicflow.ledger.api.points import router as points_router
from clinicflow.ledger.api.referrals import router as referrals_router
from clinicflow.ledger.api.wallet import router as wallet_router

router = Router(tags=["ledger"])
router.add_router("", wallet_router)
router.add_router("", invoices_router)
router.add_router("", memberships_router)
router.add_router("", points_router)
router.add_router("", referrals_router)

__all__ = ["router"]
