"""Changes the score facts (``owner.score_facts``) must follow, recorded as ``FactsChange`` rows in the
same transaction as the change, as ``owner.signals`` records the day facts' (the incremental update,
``owner.changes``, builds the recorded days again, these facts among them through ``fact_hooks``):

- a follow-up task or a missed call's callback task saved or deleted: the local day it is due, and
  the day it was due before when that moved;
- a treatment record saved or deleted: the UTC day it was signed off (and before, when that moved);
- a complication entry written: its onset day, and the onset day of the entry it corrects.

No patient is named on these changes: they move no first visit. The care tasks' generation and the
callbacks' ingestion write in bulk and announce their rows (``core.signals.bulk_written``, recorded by
``owner.signals``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models.signals import post_delete, post_init, post_save

from clinicflow.acquisition.models import CallbackTask
from clinicflow.analytics.models import FactsChange
from clinicflow.care.models import FollowUpTask
from clinicflow.clinical.models import Complication, TreatmentRecord

ORIGINAL = "_score_facts_original"
# model -> (the moment field whose day the facts count it on, whether that day is the branch's)
MOMENTS: dict[type[Any], tuple[str, bool]] = {
    FollowUpTask: ("due_at", True),
    CallbackTask: ("due_at", True),
    TreatmentRecord: ("signed_at", False),
}


def _remember(sender: Any, instance: Any, **kw: Any) -> None:
    field, _local = MOMENTS[sender]
    v = instance.__dict__
    setattr(instance, ORIGINAL, (v.get(field), v.get("branch_id")))


def _change(instance: Any, at: dt.datetime, branch: Any) -> FactsChange:
    return FactsChange(organization_id=instance.organization_id, branch_id=branch, at=at)


def _saved(sender: Any, instance: Any, created: bool, raw: bool = False, **kw: Any) -> None:
    if raw:
        return
    field, local = MOMENTS[sender]
    at = getattr(instance, field)
    branch = instance.branch_id if local else None
    rows = [_change(instance, at, branch)] if at is not None else []
    was_at, was_branch = getattr(instance, ORIGINAL, (None, None))
    if (
        not created
        and was_at is not None
        and (was_at, was_branch) != (at, instance.__dict__.get("branch_id"))
    ):
        rows.append(_change(instance, was_at, was_branch if local else None))
    FactsChange.objects.bulk_create(rows)
    setattr(instance, ORIGINAL, (at, instance.__dict__.get("branch_id")))


def _deleted(sender: Any, instance: Any, **kw: Any) -> None:
    field, local = MOMENTS[sender]
    was_at, was_branch = getattr(instance, ORIGINAL, (getattr(instance, field), None))
    if was_at is not None:
        FactsChange.objects.create(
            organization_id=instance.organization_id, branch_id=was_branch if local else None, at=was_at
        )


def _onset(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)  # noon UTC: the day itself


def _complication_saved(sender: Any, instance: Complication, raw: bool = False, **kw: Any) -> None:
    if raw:
        return
    rows = [_change(instance, _onset(instance.onset_date), None)]
    corrected = None
    if instance.corrects_id is not None:
        corrected = (
            Complication.objects.filter(pk=instance.corrects_id).values_list("onset_date", flat=True).first()
        )
    if corrected is not None and corrected != instance.onset_date:
        rows.append(_change(instance, _onset(corrected), None))
    FactsChange.objects.bulk_create(rows)


def connect() -> None:
    """Connect the receivers (idempotent: each has its ``dispatch_uid``)."""
    for model in MOMENTS:
        label = model._meta.label_lower
        post_init.connect(_remember, sender=model, dispatch_uid=f"score_{label}_init")
        post_save.connect(_saved, sender=model, dispatch_uid=f"score_{label}_save")
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"score_{label}_delete")
    post_save.connect(_complication_saved, sender=Complication, dispatch_uid="score_complication_save")
