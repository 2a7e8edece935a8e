"""Reads of the public booking pages. A patient holds no account: the page is reached by the
branch's id (active branches only, with their organisation), and every read after it is scoped to
that branch's organisation."""

from __future__ import annotations

from clinicflow.booking.models import BookingCode
from clinicflow.booking.selectors.base import get_by_id
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import parse_uuid


def public_branch_get(*, branch_id: object) -> Branch:
    """The active branch of a public booking page (with its organisation); ``NotFound`` otherwise."""
    pk = parse_uuid(branch_id)
    branch: Branch | None = (
        Branch.objects.select_related("organization").filter(pk=pk, is_active=True).first() if pk else None
    )
    if branch is None:
        raise NotFound("branch not found")
    return branch


def booking_code_get(*, org: Organization, branch: Branch, code_id: object) -> BookingCode:
    """A booking code of the branch; ``NotFound`` for another branch's or an unknown id."""
    return get_by_id(BookingCode.objects.for_org(org).filter(branch=branch), code_id, "code")
