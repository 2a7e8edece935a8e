"""Merging duplicate patients: every row of every app that points at the merged patient moves to the
kept one (phones de-duplicated, consent events re-recorded, the prediction dropped); append-only
evidence of other apps (a signed consent, a signed-off treatment record) never moves, so such a merge
is refused the wrong way round. Used by ``services.patient_merge``."""

from __future__ import annotations

from django.apps import apps
from django.db import models

from clinicflow.core.errors import Conflict
from clinicflow.core.models import Organization, TenantModel
from clinicflow.patients.models import ConsentEvent, Patient, PatientPhone, PatientPrediction


def _patient_foreign_keys() -> list[tuple[type[TenantModel], str]]:
    """Every (model, field) in any app that points at Patient, so a merge moves all of them."""
    found: list[tuple[type[TenantModel], str]] = []
    for model in apps.get_models():
        for f in model._meta.get_fields():
            if not isinstance(f, models.ForeignKey) or f.related_model is not Patient or model is Patient:
                continue
            if not issubclass(model, TenantModel):
                raise TypeError(f"{model._meta.label} points at Patient but is not a tenant model")
            found.append((model, f.name))
    return found


# Rows a merge does not simply re-point: phones are de-duplicated, consents re-recorded (append-only),
# the stored prediction dropped (the next run of the lifetime-value engine predicts the kept patient).
_MERGED_APART: frozenset[type[TenantModel]] = frozenset({PatientPhone, ConsentEvent, PatientPrediction})


def _merge_phones(*, org: Organization, keep: Patient, merge: Patient) -> None:
    keep_phones = set(
        PatientPhone.objects.for_org(org).filter(patient=keep).values_list("e164_index", flat=True)
    )
    PatientPhone.objects.for_org(org).filter(patient=merge, e164_index__in=keep_phones).delete()
    PatientPhone.objects.for_org(org).filter(patient=merge).update(patient=keep, is_primary=False)


def _merge_consents(*, org: Organization, keep: Patient, merge: Patient) -> None:
    """Consent events are append-only: re-record the merged patient's on the kept one."""
    for event in list(ConsentEvent.objects.for_org(org).filter(patient=merge)):
        ConsentEvent(
            organization=org,
            patient=keep,
            purpose=event.purpose,
            kind=event.kind,
            method=event.method,
            at=event.at,
            template_version=event.template_version,
            text_sha256=event.text_sha256,
            evidence=(f"merged from {merge.pk}: " + event.evidence)[:300],
            recorded_by_id=event.recorded_by_id,
        ).save(force_insert=True)


def merge_related(*, org: Organization, keep: Patient, merge: Patient) -> list[str]:
    """Move every row of other tables from ``merge`` to ``keep``; the names of what moved."""
    _merge_phones(org=org, keep=keep, merge=merge)
    _merge_consents(org=org, keep=keep, merge=merge)
    PatientPrediction.objects.for_org(org).filter(patient=merge).delete()
    moved = ["phones", "consents"]
    for model, fname in _patient_foreign_keys():
        if model in _MERGED_APART:
            continue
        rows = model.objects.for_org(org).filter(**{fname: merge})
        if not rows.exists():
            continue
        try:
            rows.update(**{fname: keep})
        except TypeError as exc:  # append-only evidence (a signed consent, a signed-off record) stays put
            raise Conflict(
                f"the duplicate has {model._meta.verbose_name_plural} that stay with the patient they were "
                "signed for: keep that card and merge the other one into it"
            ) from exc
        moved.append(model._meta.label_lower)
    return moved
