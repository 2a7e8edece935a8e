"""Writing, chaining and verifying the audit log (see AuditEvent, AuditLink).

Writers insert rows without waiting for each other; the chainer links committed rows into each
organisation's HMAC chain while it holds that organisation's ``AuditChainHead`` row (only the chainer
takes it). See docs/deployment.md, "Database roles and the audit log"."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.db.models.sql import InsertQuery
from django.http import HttpRequest

from clinicflow.core.models import (
    AuditAction,
    AuditChainHead,
    AuditEvent,
    AuditLink,
    AuditOutcome,
    AuditPending,
    Organization,
)
from clinicflow.core.net import client_ip

ZERO_HASH = "0" * 64
# link.kid markers that never verify: a row chained without a valid tag (not written by audit_record),
# and a row that already failed the old sha256 chain when migration 0005 keyed the chain
BAD_TAG_KID = "!bad-tag"
LEGACY_BROKEN_KID = "!legacy-broken"
# organisations whose chain head row is known to be committed (rows are never deleted): a writer
# that finds such a head locked skips at once instead of asking again whether it exists
_HEADS: set[uuid.UUID] = set()


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


def audit_keys() -> dict[str, str]:
    """The HMAC keys of the chain, ``kid -> secret``; the first signs new rows (settings.AUDIT_HMAC_KEYS)."""
    keys: dict[str, str] = dict(settings.AUDIT_HMAC_KEYS)
    if not keys:
        raise ImproperlyConfigured("AUDIT_HMAC_KEYS is empty: the audit chain needs a key")
    return keys


def _current_key() -> tuple[str, str]:
    return next(iter(audit_keys().items()))


def keyed_hash(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _new_event(
    org: Organization, actor: AbstractBaseUser | None, request: HttpRequest | None, **values: Any
) -> AuditEvent:
    """The row, not written yet, with its tag (``values``: the other columns of ``audit_record``)."""
    meta = request_meta(request)
    kid, secret = _current_key()
    event = AuditEvent(
        organization=org,
        actor_id=actor.pk if actor is not None and actor.pk else None,
        actor_email=getattr(actor, "email", "") or "",
        role=getattr(actor, "role", "") or "",
        object_id=str(values.pop("object_id", "") or ""),
        fields=sorted(set(values.pop("fields", ()))),
        ip=meta.ip,
        user_agent=meta.user_agent,
        kid=kid,
        **values,
    )
    event.tag = keyed_hash(secret, event.canonical())
    return event


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
    """Append one audit row, in the caller's transaction, without waiting for any other writer.

    The row is chained at once when the organisation's chain is free (``AUDIT_CHAIN_INLINE``; a
    writer that finds it taken does not wait); otherwise it is left pending for the chainer
    (``clinicflow worker``, ``verify_audit``), and ``event.seq`` is None."""
    values = {"action": action, "object_type": object_type, "object_id": object_id, "fields": fields}
    event = _new_event(org, actor, request, outcome=outcome, break_glass=break_glass, **values)
    if _one_statement():
        # the row and its marker are one statement, atomic by itself: no BEGIN and COMMIT round trips
        _insert_pending(event)
        event._state.adding = False
        return event
    # no savepoint inside the caller's transaction: an error here must abort the change it audits.
    # The chain head is tried first, so that the row and its link (or its pending marker) are then
    # written by one statement on PostgreSQL (one round trip less per audited request).
    with transaction.atomic(savepoint=False):
        head = _head_lock(org.pk, wait=False) if settings.AUDIT_CHAIN_INLINE else None
        if head is None:
            _insert_pending(event)
        else:
            _chain(head, own=event, insert_own=True)
        event._state.adding = False
    return event


@dataclass
class StatementAudit:
    """An audit row the caller's own statement writes (``WITH {cte} SELECT ...``, ``params`` first),
    committed with the read it audits; ``written``: set by the caller once the statement ran."""

    event: AuditEvent
    cte: str
    params: list[Any]
    written: bool = False


def audit_in_statement(
    *,
    org: Organization,
    actor: AbstractBaseUser | None,
    action: str,
    object_type: str,
    fields: Iterable[str] = (),
    request: HttpRequest | None = None,
) -> StatementAudit | None:
    """The audit row of a read as a prefix of the statement that reads (left to the chainer, as
    ``audit_record`` leaves it); None where ``audit_record`` must write it instead: not PostgreSQL
    in autocommit, or the writer chains its own rows (``AUDIT_CHAIN_INLINE``)."""
    if not _one_statement():
        return None
    event = _new_event(org, actor, request, action=action, object_type=object_type, fields=fields)
    pending = AuditPending(organization_id=event.organization_id, event=event)
    (sql, params), (mark, mark_params) = _insert_sql(event), _insert_sql(pending)
    return StatementAudit(event, f"cf_audit_ev AS ({sql}), cf_audit_mark AS ({mark})", params + mark_params)


def _one_statement() -> bool:
    """Whether a row is left to the chainer and written by one statement outside any transaction:
    on PostgreSQL in autocommit (a request outside ``atomic``) when writers do not chain rows."""
    inline = settings.AUDIT_CHAIN_INLINE
    return not inline and connection.vendor == "postgresql" and connection.get_autocommit()


def _insert_sql(obj: models.Model) -> tuple[str, list[Any]]:
    """The ``INSERT`` of one new row as Django's ``save(force_insert=True)`` writes it."""
    fields = list(type(obj)._meta.local_concrete_fields)
    query = InsertQuery(type(obj))
    query.insert_values(fields, [obj])
    [(sql, params)] = query.get_compiler(connection=connection).as_sql()
    return sql, list(params)


def _insert_pending(event: AuditEvent) -> None:
    """The row, and its marker for the chainer (one statement on PostgreSQL)."""
    pending = AuditPending(organization_id=event.organization_id, event=event)
    if connection.vendor != "postgresql":
        event.save(force_insert=True)
        pending.save(force_insert=True)
        return
    sql, params = _insert_sql(event)
    marker, marker_params = _insert_sql(pending)
    with connection.cursor() as cur:
        # nosemgrep: sql-built-from-strings — Django-compiled INSERTs with %s placeholders only
        cur.execute(f"WITH ev AS ({sql}) {marker}", [*params, *marker_params])  # nosec B608


def _head_lock(org_id: uuid.UUID, *, wait: bool) -> AuditChainHead | None:
    """Lock the organisation's chain head until the end of the transaction; None if another
    transaction holds it and ``wait`` is False."""
    waiting = AuditPending.objects.filter(organization_id=org_id)
    heads = (
        AuditChainHead.objects.select_for_update(skip_locked=not wait)
        .filter(organization_id=org_id)
        .annotate(has_pending=models.Exists(waiting))
    )
    head: AuditChainHead | None = heads.first()
    if head is not None:
        transaction.on_commit(lambda: _HEADS.add(org_id))
        return head
    if org_id in _HEADS:  # it exists (committed), so another transaction holds it
        return None
    head, created = AuditChainHead.objects.get_or_create(organization_id=org_id)
    if not created:
        return heads.first() if wait else None
    return head


def _chain(
    head: AuditChainHead, *, own: AuditEvent | None = None, limit: int = 500, insert_own: bool = False
) -> int:
    """Link up to ``limit`` pending rows (the committed ones; by time of writing), then ``own``, while
    holding the locked ``head``; with ``insert_own``, ``own`` is a new row written with its link."""
    keys = audit_keys()
    kid, secret = next(iter(keys.items()))
    pending: list[AuditPending] = []
    if own is None or getattr(head, "has_pending", True):
        pending = list(
            AuditPending.objects.filter(organization_id=head.organization_id)
            .select_related("event")
            .order_by("event__at", "event_id")[:limit]
        )
    events = [p.event for p in pending] + ([own] if own is not None else [])
    seq, prev = head.seq, head.hash
    links = []
    for event in events:
        seq += 1
        tag_key = keys.get(event.kid)
        good = tag_key is not None and hmac.compare_digest(keyed_hash(tag_key, event.canonical()), event.tag)
        digest = keyed_hash(secret, prev + event.canonical(seq))
        # a row not written by audit_record (no valid tag) keeps its place but is marked broken
        links.append(
            AuditLink(
                organization_id=head.organization_id,
                seq=seq,
                event=event,
                prev_hash=prev,
                hash=digest,
                kid=kid if good else BAD_TAG_KID,
            )
        )
        event.seq = seq
        prev = digest
    if not links:
        return 0
    if pending:
        AuditPending.objects.filter(pk__in=[p.pk for p in pending]).delete()
    _append(head, links, new_event=own if insert_own else None)
    head.seq, head.hash = seq, prev
    return len(links)


def _append(head: AuditChainHead, links: list[AuditLink], new_event: AuditEvent | None = None) -> None:
    """Insert the links and move the head to the last one, in one statement (on SQLite a trigger of
    migration 0007 moves the head); ``new_event``, a row not written yet, is inserted by the same
    statement on PostgreSQL."""
    last = links[-1]
    if new_event is not None and connection.vendor != "postgresql":
        new_event.save(force_insert=True)
    if connection.vendor == "sqlite":
        AuditLink.objects.bulk_create(links)
        return
    if connection.vendor != "postgresql":
        AuditLink.objects.bulk_create(links)
        AuditChainHead.objects.filter(pk=head.pk).update(seq=last.seq, hash=last.hash)
        return
    prefix, prefix_params = "", list[Any]()
    if new_event is not None:
        event_sql, prefix_params = _insert_sql(new_event)
        prefix = f"ev AS ({event_sql}), "
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(links))
    params: list[Any] = []
    for link in links:
        params += [
            link.id,
            link.organization_id,
            link.seq,
            link.event_id,
            link.prev_hash,
            link.hash,
            link.kid,
        ]
    with connection.cursor() as cur:
        cur.execute(
            # nosemgrep: sql-built-from-strings — only %s placeholders are joined in
            f"WITH {prefix}inserted AS (INSERT INTO core_auditlink"  # nosec B608 # noqa: S608 - placeholders only
            f" (id, organization_id, seq, event_id, prev_hash, hash, kid) VALUES {rows})"
            " UPDATE core_auditchainhead SET seq = %s, hash = %s WHERE organization_id = %s",
            [*prefix_params, *params, last.seq, last.hash, head.pk],
        )


def audit_chain(*, org_id: uuid.UUID, wait: bool = False, batch: int = 500) -> int:
    """The chainer: link the organisation's committed, unchained rows, batch by batch as they commit
    (by time of writing within a batch). Each batch is a short transaction holding the chain head;
    ``wait=False`` gives up at once when another transaction holds it. Returns rows linked."""
    total = 0
    while True:
        with transaction.atomic():
            head = _head_lock(org_id, wait=wait)
            if head is None:
                return total
            done = _chain(head, limit=batch)
        total += done
        if done < batch:
            return total


def audit_chain_all(*, wait: bool = False) -> int:
    """Run the chainer for every organisation with pending rows (the worker calls this)."""
    org_ids = AuditPending.objects.order_by().values_list("organization_id", flat=True).distinct()
    return sum(audit_chain(org_id=org_id, wait=wait) for org_id in list(org_ids))


def _link_problem(link: AuditLink, expected: int, prev: str, keys: dict[str, str]) -> str:
    if link.seq != expected:
        return f"sequence gap: expected {expected}, found {link.seq}"
    if link.prev_hash != prev:
        return "prev_hash does not match the previous row"
    if link.kid == BAD_TAG_KID:
        return "row was not written by the application (its tag did not match when it was chained)"
    if link.kid == LEGACY_BROKEN_KID:
        return "row did not match its hash when the chain was keyed (migration 0006)"
    secret = keys.get(link.kid)
    if secret is None:
        return f"unknown key id {link.kid!r} (not in AUDIT_HMAC_KEYS)"
    if not hmac.compare_digest(keyed_hash(secret, prev + link.event.canonical(link.seq)), link.hash):
        return "row content does not match its hash"
    return ""


def audit_verify(*, org: Organization) -> tuple[int, AuditEvent | None, str]:
    """Chain the pending rows, then walk the organisation's chain up to its head as read first (so
    rows chained meanwhile are not mistaken for damage). Rows still waiting for the chainer are not
    a break. Returns (rows checked, first broken row or None, reason)."""
    audit_chain(org_id=org.pk, wait=True)
    keys = audit_keys()
    head = AuditChainHead.objects.filter(organization=org).first()
    prev, checked = ZERO_HASH, 0
    links = AuditLink.objects.filter(organization=org).select_related("event").order_by("seq")
    if head is not None:
        links = links.filter(seq__lte=head.seq)
    for link in links.iterator(chunk_size=2000):
        link.event.seq = link.seq
        reason = _link_problem(link, checked + 1, prev, keys)
        if reason:
            return checked, link.event, reason
        prev = link.hash
        checked += 1
    if head is None and checked:
        return checked, None, "the chain head is missing"
    if head is not None and (head.seq, head.hash) != (checked, prev):
        return checked, None, f"chain head says {head.seq} rows, found {checked} (rows deleted at the end?)"
    waiting = AuditPending.objects.filter(organization=org).values("event_id")
    linked = AuditLink.objects.filter(organization=org, event_id=models.OuterRef("pk"))
    unlinked = (
        AuditEvent.objects.filter(~models.Exists(linked), organization=org)
        .exclude(pk__in=waiting)
        .order_by("at", "id")
        .first()
    )
    if unlinked is not None:
        return checked, unlinked, "row is not in the chain"
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
