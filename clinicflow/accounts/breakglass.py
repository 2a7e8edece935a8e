"""Who may see which parts of a patient's card, and emergency ("break-glass") grants (AC-05).

``patient_access`` is the one decision the patient pages and API make before showing or changing a
card. A user's role decides the field sets (``roles.PERMISSIONS``); a user tied to a branch opens
only the cards of that branch's patients and of patients with no branch. When something is refused
to a role that holds ``patients.break_glass`` (clinic manager, front desk, doctor; never the
marketer), the user may open a grant: a reason, the password again, at most ``MAX_MINUTES``. While
it is active the user reads the whole card (contacts, clinical notes, consents), never more than
reading; every access under it is audited with ``break_glass=true`` and counted on the grant, and
the owner and the managers see every grant and may revoke it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from clinicflow.accounts.models import BreakGlassGrant, User
from clinicflow.accounts.roles import permissions_for
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import NotFound, PermissionDenied, ValidationFailed
from clinicflow.core.models import AuditAction, AuditOutcome, Organization

MIN_REASON = 20
MAX_REASON = 1000
DEFAULT_MINUTES = 60
MAX_MINUTES = 240
# what a grant lets its user read, whatever the role
GRANTED = frozenset(
    {"patients.view", "patients.view_contacts", "patients.view_clinical", "patients.view_consents"}
)
OBJECT_TYPE = "break_glass_grant"


@dataclass(frozen=True)
class PatientAccess:
    """What ``user`` may do with one patient's card now."""

    opens: bool  # may read the card (the role's or the grant's fields)
    writes: bool  # may change it (the role's own permissions still apply): never under a grant
    perms: frozenset[str]  # the patient permissions in force for reading
    grant: BreakGlassGrant | None  # the active grant the card is read under
    may_break_glass: bool  # something is refused and the user may open a grant

    @property
    def break_glass(self) -> bool:
        return self.grant is not None

    def can(self, permission: str) -> bool:
        return self.opens and permission in self.perms


def in_branch(user: User, branch_id: uuid.UUID | None) -> bool:
    """Whether the user's branch (if any) covers a patient of ``branch_id`` (None: no branch)."""
    return user.branch_id is None or branch_id is None or user.branch_id == branch_id


def _refused(user: User, branch_id: uuid.UUID | None) -> bool:
    own = permissions_for(user.role) if user.is_active else frozenset()
    return not in_branch(user, branch_id) or not GRANTED.issubset(own)


def grant_active(
    *, org: Organization, user: User, patient_id: uuid.UUID, now: dt.datetime | None = None
) -> BreakGlassGrant | None:
    """The user's active grant for the patient (the one that lasts longest), or None."""
    now = now or timezone.now()
    return (
        BreakGlassGrant.objects.for_org(org)
        .filter(
            user=user, patient_id=patient_id, revoked_at__isnull=True, created_at__lte=now, expires_at__gt=now
        )
        .order_by("-expires_at")
        .first()
    )


def patient_access(
    *,
    org: Organization,
    user: User,
    patient_id: uuid.UUID,
    branch_id: uuid.UUID | None,
    now: dt.datetime | None = None,
) -> PatientAccess:
    """The access decision for one card (patient ``patient_id`` of branch ``branch_id``). No query
    unless something is refused to a user who may break glass."""
    own = (
        frozenset(p for p in permissions_for(user.role) if p.startswith("patients."))
        if user.is_active
        else frozenset()
    )
    branch_ok = in_branch(user, branch_id)
    opens = branch_ok and "patients.view" in own
    if not _refused(user, branch_id) or "patients.break_glass" not in own:
        return PatientAccess(opens=opens, writes=branch_ok, perms=own, grant=None, may_break_glass=False)
    grant = grant_active(org=org, user=user, patient_id=patient_id, now=now)
    if grant is None:
        return PatientAccess(opens=opens, writes=branch_ok, perms=own, grant=None, may_break_glass=True)
    return PatientAccess(
        opens=True, writes=branch_ok, perms=own | GRANTED, grant=grant, may_break_glass=False
    )


def access_record(
    access: PatientAccess,
    *,
    org: Organization,
    actor: User,
    object_type: str,
    object_id: object,
    fields: Iterable[str] = (),
    request: HttpRequest | None = None,
    action: str = AuditAction.VIEW,
) -> None:
    """The audit row of one access to a card (``break_glass=true`` under a grant, which counts it)."""
    audit_record(
        org=org,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        fields=fields,
        request=request,
        break_glass=access.break_glass,
    )
    if access.grant is not None:
        BreakGlassGrant.objects.for_org(org).filter(pk=access.grant.pk).update(
            access_count=F("access_count") + 1
        )


def access_denied_record(
    *, org: Organization, actor: User, object_type: str, object_id: object, request: HttpRequest | None
) -> None:
    """The audit row of a refused access to a card."""
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.VIEW if request is None or request.method == "GET" else AuditAction.UPDATE,
        object_type=object_type,
        object_id=object_id,
        request=request,
        outcome=AuditOutcome.DENIED,
    )


PatientLabels = Callable[[Organization, list[uuid.UUID]], dict[uuid.UUID, str]]
_labellers: list[PatientLabels] = []


def register_patient_labels(labeller: PatientLabels) -> None:
    """Let the patients app name patients on the grants page (accounts may not import it)."""
    if labeller not in _labellers:
        _labellers.append(labeller)


def patient_labels(org: Organization, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    labels: dict[uuid.UUID, str] = {}
    for labeller in _labellers:
        labels.update(labeller(org, ids))
    return labels


def _clean_reason(reason: str) -> str:
    reason = " ".join(str(reason or "").split())
    if len(reason) < MIN_REASON:
        raise ValidationFailed.field("reason", f"give the reason in at least {MIN_REASON} characters")
    if len(reason) > MAX_REASON:
        raise ValidationFailed.field("reason", f"at most {MAX_REASON} characters")
    return reason


@transaction.atomic
def break_glass_open(
    *,
    org: Organization,
    user: User,
    patient_id: uuid.UUID,
    branch_id: uuid.UUID | None,
    reason: str,
    minutes: int = DEFAULT_MINUTES,
    request: HttpRequest | None = None,
) -> BreakGlassGrant:
    """Open a grant for ``user`` on the organisation's patient ``patient_id`` (the caller fetched
    it through the organisation's selector). Audited with ``break_glass=true``."""
    if user.organization_id != org.pk:
        raise NotFound("patient not found")
    if not user.has_perm_cf("patients.break_glass"):
        raise PermissionDenied("your role may not open emergency access")
    if not _refused(user, branch_id):
        raise ValidationFailed.field("patient", "you already see this patient's card")
    if not isinstance(minutes, int) or not 1 <= minutes <= MAX_MINUTES:
        raise ValidationFailed.field("minutes", f"must be 1..{MAX_MINUTES}")
    now = timezone.now()
    grant = BreakGlassGrant.objects.create(
        organization=org,
        user=user,
        patient_id=patient_id,
        reason=_clean_reason(reason),
        created_at=now,
        expires_at=now + dt.timedelta(minutes=minutes),
    )
    audit_record(
        org=org,
        actor=user,
        action=AuditAction.CREATE,
        object_type=OBJECT_TYPE,
        object_id=grant.pk,
        fields=["expires_at", "patient_id", "reason"],
        request=request,
        break_glass=True,
    )
    return grant


@transaction.atomic
def break_glass_revoke(
    *, org: Organization, actor: User, grant: BreakGlassGrant, request: HttpRequest | None = None
) -> BreakGlassGrant:
    """End a grant now (the owner or a manager). Revoking an ended grant changes nothing."""
    if grant.organization_id != org.pk:
        raise NotFound("grant not found")
    if not actor.has_perm_cf("patients.break_glass_review"):
        raise PermissionDenied("your role may not revoke emergency access")
    now = timezone.now()
    if not grant.is_active(now):
        return grant
    BreakGlassGrant.objects.for_org(org).filter(pk=grant.pk).update(revoked_at=now, revoked_by=actor)
    grant.revoked_at, grant.revoked_by = now, actor
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=OBJECT_TYPE,
        object_id=grant.pk,
        fields=["revoked_at", "revoked_by"],
        request=request,
        break_glass=True,
    )
    return grant
