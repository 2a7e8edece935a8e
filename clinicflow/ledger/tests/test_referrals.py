"""Referrals: a code per patient, fraud guards, both sides rewarded once on the first paid visit,
the reward reversed when that visit is refunded; points redeemed for a procedure."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clinicflow.catalogue.tests.factories import make_service
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import ReferralProgram, ReferralStatus, RewardKind, TxKind
from clinicflow.ledger.services.points import points_earn, points_redeem_service
from clinicflow.ledger.services.referrals import (
    referral_code_for,
    referral_link,
    referral_reverse,
    referral_reward,
)
from clinicflow.ledger.services.verify import ledger_verify
from clinicflow.ledger.tests.factories import make_patient, make_program, patient_balance

pytestmark = pytest.mark.django_db


def _pair(org: Organization) -> tuple[object, object]:
    anna = make_patient(org, phones=["+7 916 111-11-11"])
    boris = make_patient(org, first_name="Boris", phones=["+7 916 222-22-22"])
    return anna, boris


def test_both_sides_are_rewarded_once_and_reversed_on_refund(org: Organization, branch: Branch) -> None:
    make_program(org)
    ReferralProgram.objects.create(
        organization=org, currency="RUB", reward_kind=RewardKind.POINTS,
        referrer_reward=Decimal(500), friend_reward=Decimal(300),
    )  # fmt: skip
    anna, boris = _pair(org)
    code = referral_code_for(org=org, patient=anna)  # type: ignore[arg-type]
    assert referral_code_for(org=org, patient=anna).code == code.code  # type: ignore[arg-type]
    ref = referral_link(org=org, referred=boris, code=code.code.lower())  # type: ignore[arg-type]
    assert ref.status == ReferralStatus.PENDING
    done = referral_reward(org=org, referred=boris, currency="RUB", reference="inv-1")  # type: ignore[arg-type]
    assert done is not None and done.status == ReferralStatus.REWARDED
    assert done.reward is not None and done.reward.kind == TxKind.REFERRAL_REWARD
    assert patient_balance(org, anna, "points", "PTS") == Decimal(500)  # type: ignore[arg-type]
    assert patient_balance(org, boris, "points", "PTS") == Decimal(300)  # type: ignore[arg-type]
    # a second paid visit rewards nothing more
    assert referral_reward(org=org, referred=boris, currency="RUB", reference="inv-2") is None  # type: ignore[arg-type]
    assert patient_balance(org, anna, "points", "PTS") == Decimal(500)  # type: ignore[arg-type]
    # another invoice's refund does not reverse it; the first visit's does
    assert referral_reverse(org=org, referred=boris, reference="inv-2") is None  # type: ignore[arg-type]
    back = referral_reverse(org=org, referred=boris, reference="inv-1")  # type: ignore[arg-type]
    assert back is not None and back.status == ReferralStatus.REVERSED
    assert patient_balance(org, anna, "points", "PTS") == Decimal(0)  # type: ignore[arg-type]
    assert ledger_verify(org=org).ok


def test_balance_rewards_go_to_the_bonus_balance(org: Organization, branch: Branch) -> None:
    ReferralProgram.objects.create(organization=org, currency="RUB", reward_kind=RewardKind.BALANCE)
    anna, boris = _pair(org)
    referral_link(org=org, referred=boris, code=referral_code_for(org=org, patient=anna).code)  # type: ignore[arg-type]
    referral_reward(org=org, referred=boris, currency="RUB")  # type: ignore[arg-type]
    assert patient_balance(org, anna, "bonus") == Decimal("500.00")  # type: ignore[arg-type]
    assert patient_balance(org, boris, "bonus") == Decimal("500.00")  # type: ignore[arg-type]


def test_fraud_guards(org: Organization, branch: Branch) -> None:
    anna, boris = _pair(org)
    twin = make_patient(org, first_name="Twin", phones=["+7 916 111-11-11"])
    code = referral_code_for(org=org, patient=anna).code  # type: ignore[arg-type]
    for referred, why in ((anna, "themselves"), (twin, "phone")):
        with pytest.raises(ValidationFailed) as err:
            referral_link(org=org, referred=referred, code=code)  # type: ignore[arg-type]
        assert why in err.value.fields["code"][0]
    with pytest.raises(ValidationFailed) as err:
        referral_link(org=org, referred=boris, code="NOPE1234")  # type: ignore[arg-type]
    assert "code" in err.value.fields
    referral_link(org=org, referred=boris, code=code)  # type: ignore[arg-type]
    with pytest.raises(Conflict):
        referral_link(org=org, referred=boris, code=code)  # type: ignore[arg-type]


def test_points_redeemed_for_a_procedure(org: Organization, branch: Branch) -> None:
    make_program(org, point_value=Decimal("1"))
    patient = make_patient(org)
    peel = make_service(org, code="peel", price="3000.00", category="peels")
    points_earn(org=org, actor=None, patient=patient, paid="40000", currency="RUB", category="laser")
    assert patient_balance(org, patient, "points", "PTS") == Decimal(4000)
    txn = points_redeem_service(org=org, actor=None, patient=patient, service=peel)
    assert txn.reference == "service:peel"
    assert patient_balance(org, patient, "points", "PTS") == Decimal(1000)
    assert patient_balance(org, patient, "bonus") == Decimal("3000.00")
    with pytest.raises(Conflict):
        points_redeem_service(org=org, actor=None, patient=patient, service=peel)
