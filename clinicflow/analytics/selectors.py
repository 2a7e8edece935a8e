"""Reads of the report pages: every one takes the organisation."""

from __future__ import annotations

from clinicflow.core.models import Branch, Organization


def report_branches(*, org: Organization) -> list[Branch]:
    """Every branch of the organisation, closed ones too (their history can still be reported), by name."""
    return list(Branch.objects.for_org(org).order_by("name"))
