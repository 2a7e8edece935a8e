"""The API of the clinical records: treatments (full paths, such as /consultations)."""

from ninja import Router

router = Router(tags=["clinical"])
