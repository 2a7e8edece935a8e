"""Points beyond the wallet API's redeem and give: redeem for a procedure, and a patient's points
with what expires per day."""

import datetime as dt
from typing import Annotated, Any

from ninja import Header, Router, Schema
from ninja.responses import Status
from pydantic import Field

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.catalogue.selectors import service_by_key
from clinicflow.core.api import ERRORS
from clinicflow.core.errors import ValidationFailed
from clinicflow.ledger.api.schemas import TransactionOut, transaction_out
from clinicflow.ledger.selectors.loyalty import points_of
from clinicflow.ledger.selectors.wallet import EXPIRING_DAYS, wallet_patient
from clinicflow.ledger.services.idempotency import HEADER, clean_key, fingerprint, idempotent
from clinicflow.ledger.services.points import points_for_service, points_redeem_service

router = Router(tags=["ledger"])
IdemKey = Annotated[
    str | None, Header(alias=HEADER, description="A unique key per request; a retry sends the same.")
]


class RedeemServiceIn(Schema):
    service: str = Field(max_length=60, description="The service's code")


class PointsExpiringOut(Schema):
    on: dt.date = Field(description="The day (in the patient's branch's zone) the points expire")
    amount: int = Field(description="Points expiring that day")


class PointsOut(Schema):
    held: int = Field(description="Points on the account (expired lots not yet moved out included)")
    usable: int = Field(description="Points usable now: the held points less expired lots")
    expiring: list[PointsExpiringOut] = Field(
        description="What expires on each of the next days with points expiring (at most "
        f"{EXPIRING_DAYS} days, soonest first)"
    )
    expiring_later: int = Field(description="Points expiring after the days listed in `expiring`")


@router.get("/patients/{patient_id}/points", response={200: PointsOut, **ERRORS})
@api_perm("wallet.view", audit_object="wallet")
def points(request: ApiRequest, patient_id: str) -> dict[str, Any]:
    """Points held, usable now (expired lots excluded), and what expires per day in the branch's zone:
    `expiring` lists the first days, `expiring_later` totals the rest (points without expiry are in
    neither)."""
    patient = wallet_patient(org=request.org, user=request.auth, patient_id=patient_id, request=request)
    p = points_of(org=request.org, patient=patient)
    return {
        "held": int(p.held),
        "usable": int(p.usable),
        "expiring": [{"on": on, "amount": int(n)} for on, n in p.expiring],
        "expiring_later": int(p.expiring_later),
    }


@router.post("/patients/{patient_id}/points/redeem-service", response={201: TransactionOut, **ERRORS})
@api_perm("wallet.move", audit_object="wallet")
def redeem_service(
    request: ApiRequest, patient_id: str, data: RedeemServiceIn, idempotency_key: IdemKey = None
) -> Status[dict[str, Any]]:
    """Redeem points for a procedure: its list price in points (rounded up) becomes bonus of that
    price, referenced `service:<code>`. Too few points: 409 naming `points`."""
    org, user = request.org, request.auth
    patient = wallet_patient(org=org, user=user, patient_id=patient_id, write=True, request=request)

    def run() -> tuple[int, dict[str, Any]]:
        service = service_by_key(org=org, key=data.service)
        if service is None:
            raise ValidationFailed.field("service", "no such service")
        points_for_service(org=org, service=service)
        txn = points_redeem_service(org=org, actor=user, patient=patient, service=service, request=request)
        return 201, transaction_out(txn)

    status, body = idempotent(
        org=org, key=clean_key(idempotency_key),
        request_fingerprint=fingerprint(request.method or "POST", request.path, data.dict()), run=run,
    )  # fmt: skip
    return Status(status, body)
