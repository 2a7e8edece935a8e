"""Referrals: a code (and link) per patient; a friend linked by it; both rewarded once.

``referral_code_for`` gives the patient's code (8 characters of an alphabet without look-alikes,
created on first use). ``referral_link`` links a new patient to the code (online booking or the front
desk) — refused (422 naming ``code``) for an unknown code, for the patient's own code
(self-referral), and when the two patients share a phone number; a patient is referred once (409).
``referral_reward`` is called when the referred patient's first paid visit is done (checkout): per
the clinic's ``ReferralProgram`` it posts one ``referral_reward`` transaction giving the referrer and
the friend points (lots with the points programme's expiry) or a bonus balance, once (the referral
row is locked, and only a ``pending`` one is rewarded). ``referral_reverse`` reverses the reward when
that payment is refunded."""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import Organization
from clinicflow.ledger.models import (
    POINTS,
    AccountKind,
    Invoice,
    Referral,
    ReferralCode,
    ReferralProgram,
    ReferralStatus,
    RewardKind,
    TxKind,
)
from clinicflow.ledger.services.journal import (
    Leg,
    account_for,
    post,
    round_unit,
    transaction_reverse,
)
from clinicflow.ledger.services.locking import patients_locked
from clinicflow.ledger.services.wallet import points_program
from clinicflow.patients.models import Patient, PatientPhone

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def referral_code_for(*, org: Organization, patient: Patient) -> ReferralCode:
    found = ReferralCode.objects.for_org(org).filter(patient=patient).first()
    if found is not None:
        return found
    for _ in range(5):
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        try:
            with db_transaction.atomic():
                return ReferralCode.objects.create(organization=org, patient=patient, code=code)
        except IntegrityError:
            found = ReferralCode.objects.for_org(org).filter(patient=patient).first()
            if found is not None:
                return found
    raise Conflict("could not find a free referral code; try again", fields={"code": ["busy"]})


def _phones(org: Organization, patient: Patient) -> set[str]:
    return set(PatientPhone.objects.for_org(org).filter(patient=patient).values_list("e164_index", flat=True))


def referral_link(
    *, org: Organization, referred: Patient, code: object, at: dt.datetime | None = None
) -> Referral:
    """Link ``referred`` to the patient whose code is ``code`` (see the module for the refusals)."""
    clean = str(code or "").strip().upper()[:16]
    codes = ReferralCode.objects.for_org(org).select_related("patient")
    found = codes.filter(code=clean).first() if clean else None
    if found is None or referred.organization_id != org.pk:
        raise ValidationFailed.field("code", "no such referral code")
    referrer = found.patient
    if referrer.pk == referred.pk:
        raise ValidationFailed.field("code", "a patient cannot refer themselves")
    if _phones(org, referrer) & _phones(org, referred):
        raise ValidationFailed.field("code", "the referrer and the friend share a phone number")
    if Invoice.objects.for_org(org).filter(patient=referred, paid__gt=0).exists():
        raise ValidationFailed.field("referred", "already a paying patient of the clinic")
    try:
        with db_transaction.atomic():
            return Referral.objects.create(
                organization=org, referrer=referrer, referred=referred, code=clean,
                created_at=at or timezone.now(),
            )  # fmt: skip
    except IntegrityError as exc:
        raise Conflict(
            "this patient was already referred", fields={"referred": ["already referred"]}
        ) from exc


def referral_program(*, org: Organization, currency: str) -> ReferralProgram | None:
    return ReferralProgram.objects.for_org(org).filter(currency=currency, is_active=True).first()


def referral_reward(
    *,
    org: Organization,
    referred: Patient,
    currency: str,
    reference: str = "",
    actor: User | None = None,
    at: dt.datetime | None = None,
) -> Referral | None:
    """Reward both sides for the referred patient's first paid visit; None when nothing is due
    (not referred, already rewarded or rejected, no active programme)."""
    program = referral_program(org=org, currency=currency)
    if program is None:
        return None
    now = at or timezone.now()
    with db_transaction.atomic():
        ref = Referral.objects.for_org(org).select_for_update().filter(referred=referred).first()
        if ref is None or ref.status != ReferralStatus.PENDING or program is None:
            return None
        referrer = Patient.objects.for_org(org).get(pk=ref.referrer_id)
        if program.reward_kind == RewardKind.POINTS:
            unit, kind, source = POINTS, AccountKind.POINTS, AccountKind.POINTS_ISSUED
            points = points_program(org=org, currency=currency)
            days = points.valid_days if points is not None else None
        else:
            unit, kind, source = currency, AccountKind.BONUS, AccountKind.BONUS_ISSUED
            days = None
        expires = now + dt.timedelta(days=days) if days else None
        pairs = [(referrer, round_unit(program.referrer_reward, unit))]
        pairs += [(referred, round_unit(program.friend_reward, unit))]
        pairs = [(patient, amount) for patient, amount in pairs if amount > 0]
        # the rewarded accounts locked first (one statement on PostgreSQL when they exist)
        each = patients_locked(org=org, patients=[p for p, _ in pairs], kind=kind, unit=unit) if pairs else {}
        legs = []
        for patient, amount in pairs:
            issued = account_for(org=org, kind=source, unit=unit)
            legs += [Leg(issued, -amount), Leg(each[patient.pk], amount, expires_at=expires)]
        if legs:
            held = {a.pk: a for a in each.values()}
            ref.reward = post(
                org=org, kind=TxKind.REFERRAL_REWARD, at=now, legs=legs, locked=held, patient=referred,
                actor=actor, reference=reference or str(ref.pk),
            )  # fmt: skip
        ref.status, ref.rewarded_at, ref.reference = ReferralStatus.REWARDED, now, reference[:100]
        ref.save(update_fields=["reward", "status", "rewarded_at", "reference"])
    return ref


def referral_reverse(
    *, org: Organization, referred: Patient, actor: User | None = None, reference: str = ""
) -> Referral | None:
    """The first paid visit (``reference``: its invoice, when given) was refunded: reverse the
    reward (409 when its value was already used)."""
    with db_transaction.atomic():
        ref = Referral.objects.for_org(org).select_for_update().filter(referred=referred).first()
        if ref is None or ref.status != ReferralStatus.REWARDED:
            return None
        if reference and ref.reference and ref.reference != reference:
            return None
        if ref.reward is not None:
            transaction_reverse(org=org, actor=actor, original=ref.reward, memo="referral payment refunded")
        ref.status = ReferralStatus.REVERSED
        ref.save(update_fields=["status"])
    return ref
