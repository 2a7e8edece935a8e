"""Writing and verifying the audit log (see AuditEvent)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models, transaction
from django.http import HttpRequest

from clinicflow.core.models import AuditAction, AuditChainHead, AuditEvent, AuditOutcome, Organization
from clinicflow.core.net import client_ip


@dataclass(frozen=True)
class RequestMeta:
    ip: str | None
    user_agent: str


def request_meta(request: HttpRequest | None) -> RequestMeta:
    if request is None:
        return RequestMeta(ip=None, user_agent="")
    ip = client_ip(request)
    ua = str(request.META.get("HTTP_USER_AGENT", ""))[:300].replace("\r", " ").replace("\n", " ")
    return RequestMeta(ip=ip, user_agent=ua)


def audit_record(
    *,
    org: Organization,
    actor: AbstractBaseUser | None,  # the staff user (settings.AUTH_USER_MODEL; core sits below accounts)
    action: str,
    object_type: str,
    object_id: object = "",
    fields: Iterable[str] = (),
    request: HttpRequest | None = None,
    outcome: str = AuditOutcome.OK,
    break_glass: bool = False,
) -> AuditEvent:
    """Append one audit row to the organisation's hash chain."""
    meta = request_meta(request)
    # no savepoint inside the caller's transaction: an error here must abort the change it audits
    with transaction.atomic(savepoint=False):
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(organization=org)
        event = AuditEvent(
            organization=org,
            seq=head.seq + 1,
            actor_id=actor.pk if actor is not None and actor.pk else None,
            actor_email=getattr(actor, "email", "") or "",
            role=getattr(actor, "role", "") or "",
            action=action,
            object_type=object_type,
            object_id=str(object_id or ""),
            fields=sorted(set(fields)),
            ip=meta.ip,
            user_agent=meta.user_agent,
            outcome=outcome,
            break_glass=break_glass,
            prev_hash=head.hash,
        )
        event.hash = event.compute_hash()
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=head.pk).update(seq=event.seq, hash=event.hash)
    return event


def audit_verify(*, org: Organization) -> tuple[int, AuditEvent | None, str]:
    """Walk the organisation's chain. Returns (rows checked, first broken row or None, reason)."""
    prev = "0" * 64
    expected_seq = 1
    checked = 0
    for event in AuditEvent.objects.for_org(org).order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return checked, event, f"sequence gap: expected {expected_seq}, found {event.seq}"
        if event.prev_hash != prev:
            return checked, event, "prev_hash does not match the previous row"
        if event.compute_hash() != event.hash:
            return checked, event, "row content does not match its hash"
        prev = event.hash
        expected_seq += 1
        checked += 1
    head = AuditChainHead.objects.filter(organization=org).first()
    if head is not None and head.seq != checked:
        return checked, None, f"chain head says {head.seq} rows, found {checked} (rows deleted at the end?)"
    return checked, None, ""


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(k for k in after if before.get(k) != after.get(k))


def audited_save(
    obj: models.Model,
    *,
    org: Organization,
    actor: AbstractBaseUser | None,
    fields: Iterable[str],
    object_type: str,
    action: str = AuditAction.UPDATE,
    request: HttpRequest | None = None,
) -> None:
    """The services' "set, save, audit" step: save the changed ``fields`` of ``obj`` (already set by
    the caller) and append the audit row naming them, in the caller's transaction."""
    names = list(fields)
    obj.save(update_fields=names)
    audit_record(
        org=org,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=obj.pk,
        fields=names,
        request=request,
    )
