"""Carry the existing sha256 chain over to keyed links.

Each organisation's rows are walked in their old ``seq`` order and checked against the old chain
(``hash = sha256(prev_hash || canonical row)``). Every row gets an ``AuditLink`` with the same ``seq``
and ``hash = HMAC-SHA256(current AUDIT_HMAC_KEYS key, prev link hash || canonical row)``, so the new
chain starts from the old one. A row that already failed the old check is not laundered: its link
gets the key id ``!legacy-broken``, which ``verify_audit`` always reports. Old gaps in ``seq`` are kept,
so ``verify_audit`` still names them; a chain head ahead of the last row (rows deleted at the end)
keeps its count.

The canonical row is frozen here (it must not follow later changes of ``AuditEvent.canonical``).
Runs with the application's settings: the migrating process needs the audit key too.
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.db import migrations

ZERO = "0" * 64
BROKEN = "!legacy-broken"


def _canonical(e, seq):  # type: ignore[no-untyped-def]
    return json.dumps(
        {
            "org": str(e.organization_id),
            "seq": seq,
            "at": e.at.isoformat(),
            "actor": str(e.actor_id or ""),
            "actor_email": e.actor_email,
            "role": e.role,
            "action": e.action,
            "object_type": e.object_type,
            "object_id": e.object_id,
            "fields": list(e.fields or []),
            "ip": e.ip or "",
            "ua": e.user_agent,
            "outcome": e.outcome,
            "break_glass": e.break_glass,
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    AuditEvent = apps.get_model("core", "AuditEvent")
    AuditLink = apps.get_model("core", "AuditLink")
    AuditChainHead = apps.get_model("core", "AuditChainHead")
    kid, secret = next(iter(settings.AUDIT_HMAC_KEYS.items()))
    org_ids = AuditEvent.objects.order_by().values_list("organization_id", flat=True).distinct()
    for org_id in list(org_ids):
        old_prev, expected, new_prev, last_seq, links = ZERO, 1, ZERO, 0, []
        rows = AuditEvent.objects.filter(organization_id=org_id).order_by("seq")
        for e in rows.iterator(chunk_size=2000):
            text = _canonical(e, e.seq)
            intact = (
                e.seq == expected
                and e.prev_hash == old_prev
                and hashlib.sha256((e.prev_hash + text).encode()).hexdigest() == e.hash
            )
            digest = hmac.new(secret.encode(), (new_prev + text).encode(), hashlib.sha256).hexdigest()
            links.append(
                AuditLink(
                    organization_id=org_id,
                    seq=e.seq,
                    event_id=e.pk,
                    prev_hash=new_prev,
                    hash=digest,
                    kid=kid if intact else BROKEN,
                )
            )
            old_prev, expected, new_prev, last_seq = e.hash, e.seq + 1, digest, e.seq
            if len(links) >= 2000:
                AuditLink.objects.bulk_create(links)
                links = []
        AuditLink.objects.bulk_create(links)
        head, _ = AuditChainHead.objects.get_or_create(organization_id=org_id)
        AuditChainHead.objects.filter(pk=head.pk).update(seq=max(head.seq, last_seq), hash=new_prev)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_audit_links_keyed_chain"),
    ]

    operations = [migrations.RunPython(forward, elidable=False)]
