"""What the patient card page shows besides the card's own fields: the lifetime-value figures of the
stored prediction, the timeline page in the clinic's zone grouped by day, the side blocks, and the
"show more" address. The timeline and the side blocks come from the sources of
``clinicflow.patients.timeline``; this module only arranges them for the page."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.utils.translation import gettext_lazy as _

from clinicflow.core.models import Organization
from clinicflow.core.selectors import branch_list
from clinicflow.patients.models import Patient, PatientPrediction
from clinicflow.patients.timeline import (
    CardFacts,
    Figure,
    TimelinePage,
    Viewer,
    by_day,
    card_facts,
    parse_before,
    timeline_page,
)

YEAR_DAYS = Decimal("365.25")


def clinic_zone(org: Organization, patient: Patient) -> dt.tzinfo:
    """The zone the card is read in: the patient's branch's, else the organisation's first branch's."""
    if patient.branch is not None:
        return patient.branch.tz
    branches = branch_list(org=org)
    return branches[0].tz if branches else zoneinfo.ZoneInfo("UTC")


def prediction_figures(prediction: PatientPrediction | None) -> list[Figure]:
    """Predicted value, P(alive) and predicted visits per year from the stored prediction."""
    if prediction is None:
        return []
    figures = [
        Figure(label=_("Predicted value"), value=prediction.clv, currency=prediction.currency, order=30),
        # P(alive) is a float column: shown as a percentage, through a Decimal of its text
        Figure(label=_("P(alive)"), value=Decimal(repr(prediction.p_alive)), percent=True, order=31),
    ]
    days = (prediction.until - prediction.computed_at.date()).days
    if days > 0:
        per_year = Decimal(repr(prediction.expected_visits)) * YEAR_DAYS / days
        figures.append(
            Figure(
                label=_("Predicted visits per year"),
                value=per_year.quantize(Decimal("0.1")),
                places=1,
                order=32,
            )
        )
    return figures


@dataclass(frozen=True)
class CardPage:
    timeline: TimelinePage
    days: list[tuple[dt.date, list[Any]]]
    facts: CardFacts
    kinds_chosen: list[str]
    more_url: str
    zone: dt.tzinfo


def card_page(
    *,
    org: Organization,
    patient: Patient,
    viewer: Viewer,
    query: Any,
    prediction: PatientPrediction | None,
) -> CardPage:
    """The timeline page asked for by ``query`` (``kind=`` repeated, ``before=``) and the side blocks."""
    chosen = [k for k in query.getlist("kind") if k][:20]
    page = timeline_page(
        org=org, patient=patient, viewer=viewer, kinds=chosen, before=parse_before(query.get("before"))
    )
    chosen = [k for k in chosen if k in page.kinds]
    more_url = ""
    if page.next_before is not None:
        params = [("kind", k) for k in chosen] + [("before", page.next_before.isoformat())]
        more_url = "?" + urlencode(params) + "#timeline"
    facts = card_facts(org=org, patient=patient, viewer=viewer)
    facts.figures = sorted(facts.figures + prediction_figures(prediction), key=lambda f: f.order)
    zone = clinic_zone(org, patient)
    return CardPage(
        timeline=page,
        days=by_day(page.events, zone),
        facts=facts,
        kinds_chosen=chosen,
        more_url=more_url,
        zone=zone,
    )
