"""Merging duplicate patients never re-points append-only evidence: a signed consent stays with the
patient who signed it, so the merge is refused that way round (and nothing moves) and works the other."""

from __future__ import annotations

import pytest

from clinicflow.clinical.models.consents import SignedConsent
from clinicflow.clinical.services.consents import consent_sign
from clinicflow.clinical.tests.consents_factories import ConsentClinic, make_clinic, png_data_url
from clinicflow.core.errors import Conflict
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.services import patient_merge
from clinicflow.patients.tests.factories import make_patient


@pytest.fixture
def c(org: Organization, branch: Branch) -> ConsentClinic:
    return make_clinic(org, branch)


def test_a_duplicate_with_a_signed_consent_is_kept_not_merged_away(c: ConsentClinic) -> None:
    signed = consent_sign(
        org=c.org,
        actor=None,
        patient=c.patient,
        version=c.en,
        language="en",
        typed_name="Anna",
        signature=png_data_url(),
    )
    other = make_patient(c.org, branch=c.branch, email="anna.dup@example.org")
    with pytest.raises(Conflict, match="signed consents"):
        patient_merge(org=c.org, actor=None, keep=other, merge=c.patient)
    c.patient.refresh_from_db()
    assert c.patient.merged_into_id is None
    assert SignedConsent.objects.get(pk=signed.pk).patient_id == c.patient.pk
    patient_merge(org=c.org, actor=None, keep=c.patient, merge=other)
    other.refresh_from_db()
    assert other.merged_into_id == c.patient.pk
