"""Signals of the core that apps below the analytics send and the analytics follow.

``bulk_written``: rows written in bulk — plain SQL or ``bulk_create``, for which Django sends no
``post_save`` — by a service that runs as users work (a provider's call event stored by the call
ingestion, the follow-up tasks of done visits made by the care worker). ``sender``: the model of the
rows; keyword ``organization_id``; ``moments``: a list of (patient id or None, branch id or None,
moment) — whose local day's facts, and whose patient's, the rows change. The receivers record what
follows from them in the same transaction (``analytics.owner.signals``). Writes that are not a user's
work (the simulator, imports) send nothing: ``clinicflow analytics rebuild`` follows them."""

from __future__ import annotations

from django.dispatch import Signal

bulk_written = Signal()
