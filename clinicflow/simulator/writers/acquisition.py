"""Acquisition tables: web sessions, calls (and their tags), callback tasks, web-form leads, ad spend."""

from __future__ import annotations

import numpy as np

from clinicflow.acquisition.models import (
    STATUS_RANK,
    AdSpend,
    AttributionMethod,
    Call,
    CallbackTask,
    CallStatus,
    CallTag,
    CallTagging,
    Lead,
    WebSession,
)
from clinicflow.simulator.engine.core import DAY_S
from clinicflow.simulator.engine.ids import hex_ids, uuid7_array
from clinicflow.simulator.writers.base import Columns, SinkBase, pick, utm_of
from clinicflow.simulator.writers.structure import is_paid


def write_sessions(out: SinkBase, c: Columns) -> None:
    ctx, scn = out.ctx, out.sim.scn
    camp = c["campaign"]
    src, med, ucamp = utm_of(ctx, camp, source="(direct)", medium="(none)")
    paid = [is_paid(scn.channels[int(x)].kind) for x in c["channel"]]
    out.put(
        WebSession,
        {
            "id": c["id"],
            "client_id": hex_ids(c["id"]),
            "started_at": c["started"],
            "last_seen_at": c["started"] + c["pages"].astype(np.int64) * 40,
            "utm_source": [s if p else "" for s, p in zip(src, paid, strict=True)],
            "utm_medium": [m if p else "" for m, p in zip(med, paid, strict=True)],
            "utm_campaign": [u if p else "" for u, p in zip(ucamp, paid, strict=True)],
            "landing_page": "/",
            "source": src,
            "medium": med,
            "channel": ctx.channel[c["channel"]],
            "campaign": pick(ctx.campaign, camp),
            "campaign__null": camp < 0,
            "branch": ctx.branch[c["branch"]],
            "number": pick(ctx.number, c["number"]),
            "number__null": c["number"] < 0,
            "held_until": c["started"] + 20 * 60,
            "patient": None,
        },
    )


def write_calls(out: SinkBase, c: Columns) -> None:
    ctx, sim = out.ctx, out.sim
    phones = sim.phones.format(c["phone"])
    missed = c["missed"]
    camp = c["campaign"]
    num = c["number"]
    has_s = c["has_session"]
    method = np.where(
        has_s,
        AttributionMethod.SESSION.value,
        np.where(num >= 0, AttributionMethod.STATIC.value, AttributionMethod.NONE.value),
    )
    src, med, ucamp = utm_of(ctx, camp)
    started = c["started"]
    answered_at = started + c["ring"]
    ended = np.where(missed, answered_at, answered_at + c["duration"])
    hexes = hex_ids(c["id"])
    adm = c["admin"]
    branch_numbers = [b.phone for b in sim.scn.branches]
    called = [
        sim.st.number_value[int(k)] if k >= 0 else branch_numbers[int(b)]
        for k, b in zip(num, c["branch"], strict=True)
    ]
    out.put(
        Call,
        {
            "id": c["id"],
            "provider": "generic",
            "provider_call_id": ["sim-" + h for h in hexes],
            "integration": None,
            "branch": ctx.branch[c["branch"]],
            "tracking_number": pick(ctx.number, num),
            "tracking_number__null": num < 0,
            "called_number": called,
            "caller_e164": phones,
            "caller_raw": phones,
            "started_at": started,
            "answered_at": answered_at,
            "answered_at__null": missed,
            "ended_at": ended,
            "duration": np.where(missed, 0, c["duration"]),
            "status": np.where(missed, CallStatus.MISSED.value, CallStatus.COMPLETED.value).tolist(),
            "status_rank": np.where(
                missed, STATUS_RANK[CallStatus.MISSED], STATUS_RANK[CallStatus.COMPLETED]
            ),
            "administrator": pick(ctx.admin, adm),
            "administrator__null": adm < 0,
            "is_unique": c["unique"],
            "patient": out.pid(c["patient"]),
            "patient__null": c["patient"] < 0,
            "session": c["session"],
            "session__null": ~has_s,
            "channel": ctx.channel[c["channel"]],
            "campaign": pick(ctx.campaign, camp),
            "campaign__null": camp < 0,
            "attribution_method": method.tolist(),
            "source": src,
            "medium": med,
            "utm_campaign": ucamp,
            "score": np.maximum(c["score"], 0).astype(np.int64) * 100,
            "score__null": c["score"] < 0,
            "payload": {},
            "events": 1,
            "created_at": started,
            "updated_at": ended,
        },
    )
    _write_tags(out, c, ended)


def _write_tags(out: SinkBase, c: Columns, ended: np.ndarray) -> None:
    """Tags: booked unique calls, repeat callers (existing enquiries), some price enquiries."""
    n = c["id"].shape[0]
    missed, adm = c["missed"], c["admin"]
    rng = np.random.default_rng(int.from_bytes(c["id"][0, 8:16].tobytes(), "little"))
    booked = c["booked"]
    repeat = ~c["unique"] & ~missed
    price_q = c["unique"] & ~missed & ~booked & (rng.random(n) < 0.4)
    tag_idx = np.concatenate([np.flatnonzero(booked), np.flatnonzero(repeat), np.flatnonzero(price_q)])
    tags = (
        [CallTag.BOOKED.value] * int(booked.sum())
        + [CallTag.EXISTING_PATIENT.value] * int(repeat.sum())
        + [CallTag.PRICE_ENQUIRY.value] * int(price_q.sum())
    )
    if tag_idx.size:
        out.put(
            CallTagging,
            {
                "id": uuid7_array(rng, ended[tag_idx] * 1000),
                "call": c["id"][tag_idx],
                "tag": tags,
                "tagged_by": pick(out.ctx.admin, adm[tag_idx]),
                "tagged_by__null": adm[tag_idx] < 0,
                "tagged_at": ended[tag_idx],
            },
        )


def write_callbacks(out: SinkBase, c: Columns) -> None:
    ctx = out.ctx
    outcome = np.where(
        c["booked"],
        "booked",
        np.where(
            c["reached"],
            "talked",
            np.where(c["gave_up"], "gave up: no answer", np.where(c["done"], "no answer", "")),
        ),
    )
    out.put(
        CallbackTask,
        {
            "id": c["id"],
            "call": c["call"],
            "branch": ctx.branch[c["branch"]],
            "phone": out.sim.phones.format(c["phone"]),
            "due_at": c["due"],
            "done_at": c["done_at"],
            "done_at__null": ~c["done"],
            "assigned_to": ctx.admin[c["admin"]],
            "outcome": outcome.tolist(),
            "created_at": c["created"],
        },
    )


def write_leads(out: SinkBase, c: Columns) -> None:
    ctx, sim = out.ctx, out.sim
    phones = sim.phones.format(c["phone"])
    camp = c["campaign"]
    src, med, _name = utm_of(ctx, camp)
    out.put(
        Lead,
        {
            "id": c["id"],
            "session": c["session"],
            "session__null": ~c["has_session"],
            "branch": ctx.branch[c["branch"]],
            "phone": phones,
            "phone_raw": phones,
            "message": "",
            "page_url": "/",
            "patient": out.pid(c["patient"]),
            "patient__null": c["patient"] < 0,
            "channel": ctx.channel[c["channel"]],
            "campaign": pick(ctx.campaign, camp),
            "campaign__null": camp < 0,
            "source": src,
            "medium": med,
            "created_at": c["created"],
        },
    )


def write_spend(out: SinkBase, c: Columns) -> None:
    ctx = out.ctx
    out.put(
        AdSpend,
        {
            "id": c["id"],
            "date": out.sim.cal.day_epoch[c["day"]],
            "channel": ctx.channel[c["channel"]],
            "campaign": pick(ctx.campaign, c["campaign"]),
            "campaign__null": c["campaign"] < 0,
            "branch": ctx.branch[c["branch"]],
            "spend": c["amount"],
            "currency": ctx.currency,
            "impressions": c["amount"] // 50,
            "clicks": c["amount"] // 3000,
            "imported_at": out.sim.cal.day_epoch[c["day"]] * DAY_S + DAY_S + 3600,
        },
    )
