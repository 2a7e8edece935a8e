"""What every booking selector shares: one row of the organisation by an id a user gave."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from clinicflow.core.errors import NotFound
from clinicflow.core.selectors import parse_uuid

M = TypeVar("M", bound=Model)

# Appointments longer than this are not expected; period queries look back this far for overlaps.
MAX_APPOINTMENT = dt.timedelta(hours=24)


def get_by_id(qs: QuerySet[M, Any], value: object, what: str) -> M:
    """The row of ``qs`` (already scoped to the organisation) with the id ``value``; ``NotFound`` naming
    ``what`` when the id is not a UUID or no row has it."""
    pk = parse_uuid(value)
    obj: M | None = qs.filter(pk=pk).first() if pk else None
    if obj is None:
        raise NotFound(f"{what} not found")
    return obj
