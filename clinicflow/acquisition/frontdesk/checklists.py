"""Writes of call checklists and scores: each branch's checklist (created on first use as a copy of the
organisation's default or of the standard items), its items added, removed and reordered, and a call
scored against it. Keyword-only, atomic, organisation first."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from clinicflow.acquisition.frontdesk.selectors import STANDARD_CHECKLIST, branch_checklist, checklist_items
from clinicflow.acquisition.frontdesk.services import staff
from clinicflow.acquisition.models import Call, CallChecklist, CallChecklistItem, CallScore
from clinicflow.core.audit import audit_record, audited_save
from clinicflow.core.errors import Conflict, NotFound, ValidationFailed
from clinicflow.core.models import AuditAction, Branch, Organization

if TYPE_CHECKING:
    from clinicflow.accounts.models import User


def _create(
    org: Organization, branch: Branch | None, name: str, items: list[tuple[str, str]]
) -> CallChecklist:
    checklist = CallChecklist(organization=org, branch=branch, name=name[:100])
    checklist.save(force_insert=True)
    CallChecklistItem.objects.bulk_create(
        [
            CallChecklistItem(organization=org, checklist=checklist, code=code, label=label, position=i)
            for i, (code, label) in enumerate(items)
        ]
    )
    return checklist


def checklist_for(*, org: Organization, branch: Branch | None) -> CallChecklist:
    """The branch's checklist, else the organisation's default (created with the standard items)."""
    found = branch_checklist(org=org, branch=branch)
    if found is not None:
        return found
    return _create(org, None, "Standard call checklist", list(STANDARD_CHECKLIST))


def _lock_branch(org: Organization, branch: Branch) -> Branch:
    if branch.organization_id != org.id:
        raise NotFound("branch not found")
    locked: Branch = Branch.objects.for_org(org).select_for_update().get(pk=branch.pk)
    return locked


@transaction.atomic
def branch_checklist_ensure(*, org: Organization, actor: User | None, branch: Branch) -> CallChecklist:
    """The branch's own call checklist, created on first use as a copy of the organisation's default
    (or of the standard items: greeting, services and prices, a slot offered, booked, contact)."""
    _lock_branch(org, branch)  # serialises concurrent first uses: one checklist per branch
    found = branch_checklist(org=org, branch=branch)
    if found is not None and found.branch_id == branch.pk:
        return found
    source = (
        [(i.code, i.label) for i in checklist_items(org=org, checklist=found)]
        if found is not None
        else list(STANDARD_CHECKLIST)
    )
    own = _create(org, branch, f"{branch.name} call checklist", source)
    audit_record(
        org=org, actor=actor, action=AuditAction.CREATE, object_type="call_checklist", object_id=own.pk
    )
    return own


def _renumber(items: list[CallChecklistItem]) -> None:
    changed = []
    for i, item in enumerate(items):
        if item.position != i:
            item.position = i
            changed.append(item)
    if changed:
        CallChecklistItem.objects.bulk_update(changed, ["position"])


def _audit_items(org: Organization, actor: User | None, checklist: CallChecklist) -> None:
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="call_checklist",
        object_id=checklist.pk,
        fields=["items"],
    )


def _new_code(org: Organization, checklist: CallChecklist, label: str) -> str:
    """A code for a new item: its label as a slug, numbered when the checklist already has it."""
    taken = set(
        CallChecklistItem.objects.for_org(org).filter(checklist=checklist).values_list("code", flat=True)
    )
    base = slugify(label)[:32].strip("-") or "item"
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}-{n}"
    return code


@transaction.atomic
def checklist_item_add(
    *, org: Organization, actor: User | None, branch: Branch, label: str
) -> CallChecklistItem:
    label = " ".join(label.split())
    if not label:
        raise ValidationFailed.field("label", "is required")
    if len(label) > 200:
        raise ValidationFailed.field("label", "at most 200 characters")
    checklist = branch_checklist_ensure(org=org, actor=actor, branch=branch)
    active = checklist_items(org=org, checklist=checklist)
    if any(i.label.casefold() == label.casefold() for i in active):
        raise Conflict(
            "this item is already on the checklist", fields={"label": ["already on the checklist"]}
        )
    item = CallChecklistItem(
        organization=org,
        checklist=checklist,
        code=_new_code(org, checklist, label),
        label=label,
        position=len(active),
    )
    item.save(force_insert=True)
    _audit_items(org, actor, checklist)
    return item


def _branch_item(org: Organization, checklist: CallChecklist, code: str) -> CallChecklistItem:
    item = next((i for i in checklist_items(org=org, checklist=checklist) if code and i.code == code), None)
    if item is None:
        raise NotFound("checklist item not found")
    return item


@transaction.atomic
def checklist_item_remove(*, org: Organization, actor: User | None, branch: Branch, code: str) -> None:
    """Take an item off the branch's checklist. It is deactivated, not deleted, so past scores stay."""
    checklist = branch_checklist_ensure(org=org, actor=actor, branch=branch)
    item = _branch_item(org, checklist, code)
    item.is_active = False
    item.save(update_fields=["is_active"])
    _renumber(checklist_items(org=org, checklist=checklist))
    _audit_items(org, actor, checklist)


@transaction.atomic
def checklist_item_move(
    *, org: Organization, actor: User | None, branch: Branch, code: str, direction: str
) -> list[str]:
    """Move an item one place up or down; returns the item codes in their new order."""
    if direction not in ("up", "down"):
        raise ValidationFailed.field("direction", "must be up or down")
    checklist = branch_checklist_ensure(org=org, actor=actor, branch=branch)
    item = _branch_item(org, checklist, code)
    items = checklist_items(org=org, checklist=checklist)
    i = next(n for n, it in enumerate(items) if it.pk == item.pk)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(items):
        items[i], items[j] = items[j], items[i]
    _renumber(items)
    _audit_items(org, actor, checklist)
    return [it.code for it in items]


# --- scores --------------------------------------------------------------------------------------------


@transaction.atomic
def call_score(
    *, org: Organization, actor: User | None, call: Call, results: Mapping[str, bool]
) -> Decimal | None:
    """Score a call against its branch's checklist; ``results`` maps item code → passed."""
    checklist = checklist_for(org=org, branch=call.branch)
    items = {i.code: i for i in checklist_items(org=org, checklist=checklist)}
    unknown = [c for c in results if c not in items]
    if unknown:
        raise ValidationFailed.field("items", f"unknown checklist item {unknown[0][:40]!r}")
    now = timezone.now()
    for code, passed in results.items():
        CallScore.objects.update_or_create(
            organization=org,
            call=call,
            item=items[code],
            defaults={"passed": bool(passed), "scored_by": staff(actor), "scored_at": now},
        )
    scored = list(CallScore.objects.for_org(org).filter(call=call).values_list("passed", flat=True))
    call.score = (
        (Decimal(sum(scored)) * 100 / Decimal(len(scored))).quantize(Decimal("0.1")) if scored else None
    )
    audited_save(call, org=org, actor=actor, fields=["score"], object_type="call")
    return call.score


@transaction.atomic
def call_score_checked(
    *, org: Organization, actor: User | None, call: Call, passed: list[str] | set[str]
) -> Decimal | None:
    """Score a call from a form of checkboxes: every active item of the branch's checklist (created for
    the branch on first use) is stored as passed when its code is in ``passed``, else as failed."""
    if call.organization_id != org.id:
        raise NotFound("call not found")
    if call.branch is not None:
        checklist = branch_checklist_ensure(org=org, actor=actor, branch=call.branch)
    else:
        checklist = checklist_for(org=org, branch=None)
    wanted = set(passed)
    codes = [i.code for i in checklist_items(org=org, checklist=checklist)]
    unknown = wanted - set(codes)
    if unknown:
        raise ValidationFailed.field("items", f"unknown checklist item {sorted(unknown)[0][:40]!r}")
    return call_score(org=org, actor=actor, call=call, results={c: c in wanted for c in codes})
