"""The ledger app's API, mounted under /api/v1/ (full paths declared in each module)."""

from ninja import Router

from clinicflow.ledger.api.wallet import router as wallet_router

router = Router(tags=["ledger"])
router.add_router("", wallet_router)

__all__ = ["router"]
