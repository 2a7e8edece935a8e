"""The API of the clinical records: consultations (full paths, such as /consultations)."""

from ninja import Router

router = Router(tags=["clinical"])
