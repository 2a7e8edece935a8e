"""The ledger app's models: accounts, the append-only journal, idempotency keys, plans."""

from clinicflow.ledger.models.accounts import LOT_KINDS, PATIENT_KINDS, POINTS, Account, AccountKind
from clinicflow.ledger.models.idempotency import KEEP, IdempotencyKey
from clinicflow.ledger.models.invoices import (
    DiscountKind,
    Invoice,
    InvoiceDiscount,
    InvoiceLine,
    InvoiceSource,
    InvoiceStatus,
    InvoiceTender,
    TenderKind,
    TenderMethod,
)
from clinicflow.ledger.models.journal import Posting, Transaction, TxKind
from clinicflow.ledger.models.memberships import (
    BenefitKind,
    Membership,
    MembershipMember,
    MembershipStatus,
    MembershipUse,
    PatientLink,
    Referral,
    ReferralCode,
    ReferralProgram,
    ReferralStatus,
    RewardKind,
)
from clinicflow.ledger.models.plans import MembershipPlan, PlanKind, PlanPeriod, PointsProgram

__all__ = [
    "KEEP",
    "LOT_KINDS",
    "PATIENT_KINDS",
    "POINTS",
    "Account",
    "AccountKind",
    "BenefitKind",
    "DiscountKind",
    "IdempotencyKey",
    "Invoice",
    "InvoiceDiscount",
    "InvoiceLine",
    "InvoiceSource",
    "InvoiceStatus",
    "InvoiceTender",
    "Membership",
    "MembershipMember",
    "MembershipPlan",
    "MembershipStatus",
    "MembershipUse",
    "PatientLink",
    "PlanKind",
    "PlanPeriod",
    "PointsProgram",
    "Posting",
    "Referral",
    "ReferralCode",
    "ReferralProgram",
    "ReferralStatus",
    "RewardKind",
    "TenderKind",
    "TenderMethod",
    "Transaction",
    "TxKind",
]
