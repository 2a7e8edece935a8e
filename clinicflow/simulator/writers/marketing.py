"""The engine's marketing campaigns (:mod:`..engine.campaigns`), written through the marketing app's
models: once per organisation the two audiences (lapsed, recent) and the campaigns' offer are made
through the ORM (reused by name on a later run); each campaign with its variants A and B through the
ORM (a handful of rows), its recipients in bulk — the holdout as "holdout", the others as sent (in the
outbox) at the campaign's moment. The bookings the campaign brought are the engine's appointments,
created within days after it; the campaign report counts them against the holdout's."""

from __future__ import annotations

import datetime as dt
import uuid
import weakref

import numpy as np

from clinicflow.marketing.models import (
    Audience,
    Campaign,
    CampaignChannel,
    CampaignStatus,
    Offer,
    OfferKind,
    Recipient,
    RecipientStatus,
    Variant,
)
from clinicflow.simulator.engine.campaigns import AUDIENCES, VARIANTS
from clinicflow.simulator.writers.base import Columns, SinkBase

AUDIENCE_FILTERS = {
    "lapsed": ("Simulated: lapsed 90-365 days", {"last_visit_before_days": 90, "channel": "sms"}),
    "recent": ("Simulated: visited within 90 days", {"last_visit_within_days": 90, "channel": "sms"}),
}
OFFER = "Simulated: 10% off the next visit"
TEXTS = {
    "A": ("10% off", "10% off your next visit this month."),
    "B": ("A gift", "A free skin check with your next visit."),
}

_made: weakref.WeakKeyDictionary[SinkBase, tuple[list[Audience], Offer]] = weakref.WeakKeyDictionary()


def _setup(out: SinkBase) -> tuple[list[Audience], Offer]:
    if out in _made:
        return _made[out]
    org = out.ctx.org
    audiences = []
    for key in AUDIENCES:
        name, filters = AUDIENCE_FILTERS[key]
        a = Audience.objects.for_org(org).filter(name=name).first()
        audiences.append(a or Audience.objects.create(organization=org, name=name, filters=filters))
    offer = Offer.objects.for_org(org).filter(name=OFFER).first()
    if offer is None:
        start = out.sim.cal.start
        offer = Offer.objects.create(
            organization=org, name=OFFER, kind=OfferKind.PERCENT, percent=10, currency=out.ctx.currency,
            valid_from=start, valid_to=start + dt.timedelta(days=366 * 3 - 1), per_patient_limit=1,
        )  # fmt: skip
    _made[out] = (audiences, offer)
    return _made[out]


def _when(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(seconds), tz=dt.UTC)


def write_campaigns(out: SinkBase, c: Columns) -> None:
    org = out.ctx.org
    audiences, offer = _setup(out)
    holdout = round(float(out.sim.campaigns.conf["holdout"]) * 100)
    for raw_id, a, m, at in zip(c["id"], c["audience"], c["month"], c["at"], strict=True):
        audience = audiences[int(a)]
        campaign = Campaign.objects.create(
            id=uuid.UUID(bytes=np.asarray(raw_id, dtype=np.uint8).tobytes()), organization=org,
            name=f"{audience.name}: month {int(m) + 1}", audience=audience, offer=offer,
            channel=CampaignChannel.SMS, status=CampaignStatus.DONE, holdout_percent=holdout,
            currency=org.currency, created_at=_when(at - 3600), queued_at=_when(at),
        )  # fmt: skip
        Variant.objects.bulk_create(
            [
                Variant(organization=org, campaign=campaign, key=k, headline=TEXTS[k][0], text=TEXTS[k][1])
                for k in VARIANTS
            ]
        )
        out.rows["marketing.Campaign"] += 1
        out.rows["marketing.Variant"] += len(VARIANTS)


def write_recipients(out: SinkBase, c: Columns) -> None:
    group = np.asarray(c["group"], dtype=np.int64)
    holdout = group == 0
    keys = np.array(["holdout", *VARIANTS], dtype=object)[group]
    out.put(
        Recipient,
        {
            "id": c["id"],
            "campaign": c["campaign"],
            "patient": out.pid(c["patient"]),
            "variant": keys.tolist(),
            "status": np.where(holdout, RecipientStatus.HOLDOUT, RecipientStatus.QUEUED).tolist(),
            "reason": "",
            "sent_at": np.asarray(c["at"], dtype=np.int64),
            "sent_at__null": holdout,
        },
    )
