"""The engine's marketing campaigns (:mod:`..engine.campaigns`), written through the marketing app's
models: once per organisation the two audiences (lapsed, recent) and the campaigns' offer are made
through the ORM (reused by name on a later run); each campaign with its variants A and B through the
ORM (a handful of rows), its recipients in bulk — the holdout as "holdout", the others as sent (in the
outbox) at the campaign's moment. The bookings the campaign brought are the engine's appointments,
created within days after it; the campaign report counts them against the holdout's.

The capacity-aware campaign (audience code ``CAPACITY_CODE``) is written the same way with its branch,
service and days ahead, to a third audience — the branch's patients with SMS consent — and no holdout;
stopped when its responders filled the free slots (someone was turned away), else done."""

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
from clinicflow.simulator.engine.campaigns import AUDIENCES, CAPACITY_CODE, VARIANTS
from clinicflow.simulator.writers.base import Columns, SinkBase

AUDIENCE_FILTERS = {
    "lapsed": ("Simulated: lapsed 90-365 days", {"last_visit_before_days": 90, "channel": "sms"}),
    "recent": ("Simulated: visited within 90 days", {"last_visit_within_days": 90, "channel": "sms"}),
}
CAPACITY_AUDIENCE = "Simulated: branch patients for free slots"
CAPACITY_NAME = "Simulated: fill next week's free slots"
OFFER = "Simulated: 10% off the next visit"
TEXTS = {
    "A": ("10% off", "10% off your next visit this month."),
    "B": ("A gift", "A free skin check with your next visit."),
}

_made: weakref.WeakKeyDictionary[SinkBase, tuple[list[Audience], Offer]] = weakref.WeakKeyDictionary()


def _fixed_id(out: SinkBase, n: int) -> uuid.UUID:
    """The id of the simulator's n-th own marketing object: the organisation's id with its last 16
    bits replaced (still a UUIDv7 of the organisation's moment), so a same-seed run after a reset
    writes the same rows, ids included."""
    return uuid.UUID(int=(out.ctx.org.pk.int & ~0xFFFF) | (0xC000 + n))


def _setup(out: SinkBase) -> tuple[list[Audience], Offer]:
    if out in _made:
        return _made[out]
    org = out.ctx.org
    audiences = []
    for i, key in enumerate(AUDIENCES):
        name, filters = AUDIENCE_FILTERS[key]
        a = Audience.objects.for_org(org).filter(name=name).first()
        audiences.append(
            a or Audience.objects.create(id=_fixed_id(out, i), organization=org, name=name, filters=filters)
        )
    offer = Offer.objects.for_org(org).filter(name=OFFER).first()
    if offer is None:
        start = out.sim.cal.start
        offer = Offer.objects.create(
            id=_fixed_id(out, 0x100), organization=org, name=OFFER, kind=OfferKind.PERCENT, percent=10,
            currency=out.ctx.currency, valid_from=start, valid_to=start + dt.timedelta(days=366 * 3 - 1),
            per_patient_limit=1,
        )  # fmt: skip
    _made[out] = (audiences, offer)
    return _made[out]


def _when(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(seconds), tz=dt.UTC)


def _uuid(raw: np.ndarray) -> uuid.UUID:
    return uuid.UUID(bytes=np.asarray(raw, dtype=np.uint8).tobytes())


def _capacity_audience(out: SinkBase, branch: uuid.UUID) -> Audience:
    org = out.ctx.org
    found = Audience.objects.for_org(org).filter(name=CAPACITY_AUDIENCE).first()
    filters = {"branch": str(branch), "last_visit_within_days": 3650, "channel": "sms"}
    return found or Audience.objects.create(
        id=_fixed_id(out, 0x200), organization=org, name=CAPACITY_AUDIENCE, filters=filters
    )


def write_campaigns(out: SinkBase, c: Columns) -> None:
    org = out.ctx.org
    audiences, offer = _setup(out)
    holdout = round(float(out.sim.campaigns.conf["holdout"]) * 100)
    for i, (raw_id, a, m, at) in enumerate(zip(c["id"], c["audience"], c["month"], c["at"], strict=True)):
        extra = {}
        if int(a) == CAPACITY_CODE:
            branch = _uuid(out.ctx.branch[int(c["branch"][i])])
            filled = (out.sim.campaigns.filled or {}).get("realised", {}).get("turned_away", 0) > 0
            audience = _capacity_audience(out, branch)
            service = _uuid(out.ctx.service[int(c["service"][i])])
            extra = {
                "name": CAPACITY_NAME, "branch_id": branch, "service_id": service,
                "days_ahead": int(c["days"][i]), "holdout_percent": 0,
                "status": CampaignStatus.STOPPED if filled else CampaignStatus.DONE,
            }  # fmt: skip
        else:
            audience = audiences[int(a)]
        campaign = Campaign.objects.create(
            **{
                "id": _uuid(raw_id), "organization": org, "name": f"{audience.name}: month {int(m) + 1}",
                "audience": audience, "offer": offer, "channel": CampaignChannel.SMS,
                "status": CampaignStatus.DONE, "holdout_percent": holdout, "currency": org.currency,
                "created_at": _when(at - 3600), "queued_at": _when(at), **extra,
            }
        )  # fmt: skip
        Variant.objects.bulk_create(
            [
                # ids from the campaign's (a same-seed run writes the same rows, ids included)
                Variant(
                    id=uuid.UUID(int=campaign.pk.int ^ (i + 1)),
                    organization=org,
                    campaign=campaign,
                    key=k,
                    headline=TEXTS[k][0],
                    text=TEXTS[k][1],
                )
                for i, k in enumerate(VARIANTS)
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
