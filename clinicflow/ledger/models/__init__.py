"""The ledger app's models: accounts, the append-only journal, idempotency keys, plans."""

from clinicflow.ledger.models.accounts import LOT_KINDS, PATIENT_KINDS, POINTS, Account, AccountKind
from clinicflow.ledger.models.idempotency import KEEP, IdempotencyKey
from clinicflow.ledger.models.journal import Posting, Transaction, TxKind
from clinicflow.ledger.models.plans import MembershipPlan, PlanKind, PlanPeriod, PointsProgram

__all__ = [
    "KEEP",
    "LOT_KINDS",
    "PATIENT_KINDS",
    "POINTS",
    "Account",
    "AccountKind",
    "IdempotencyKey",
    "MembershipPlan",
    "PlanKind",
    "PlanPeriod",
    "PointsProgram",
    "Posting",
    "Transaction",
    "TxKind",
]
