"""What the front desk reads out when a caller names a service: the FAQ and pricing of the published
product documents of the packaged products that hold it.

The documents live in the marketing app, a layer above the front desk's (acquisition), which may not
import it. So the catalogue — below both — holds this hook: marketing registers its reader at start-up
(``MarketingConfig.ready``), the call screen asks ``notes_for``. With nothing registered the answer is
empty."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clinicflow.catalogue import selectors
from clinicflow.core.models import Organization

# (org=, service_id=) -> [{"product", "version", "faq", "pricing"}]
Reader = Callable[..., list[dict[str, str]]]

_readers: list[Reader] = []


def register_notes(reader: Reader) -> None:
    if reader not in _readers:
        _readers.append(reader)


def notes_for(*, org: Organization, service_id: object) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for reader in _readers:
        out.extend(reader(org=org, service_id=service_id))
    return out


def call_screen_panel(*, org: Organization, service_id: str | None) -> dict[str, Any]:
    """The call screen's panel: the services to name, the named one and its notes (FAQ, pricing)."""
    services = selectors.service_list(org=org)
    chosen = next((s for s in services if str(s.pk) == (service_id or "")), None)
    notes = notes_for(org=org, service_id=chosen.pk) if chosen is not None else []
    return {"note_services": services, "note_service": chosen, "service_notes": notes}
