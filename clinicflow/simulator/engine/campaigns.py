"""Marketing campaigns (issue #19) with a planted response: every few months the clinic sends an SMS
campaign to each of its audiences — lapsed patients (last visit 90–365 days ago) and recent ones (within
90 days) who agreed to marketing and have no visit pending. Each recipient lands, at random, in the
holdout or one of the variants (offers) A and B; a variant's recipient books a new visit because of
the message with the planted chance ``uplift[audience][variant]`` within six days, on top of whatever
she would have done anyway (which the holdout measures). The campaign report's uplift of the booking
rate over the holdout recovers the planted chance, attenuated only by the bookings later cancelled and
by those who would have booked anyway.

Scenario ``[marketing]`` (optional, merged over these defaults): ``every_months``, ``day`` (of the
month the campaign is sent), ``holdout`` (share), ``uplift`` ({"lapsed": {"A": .., "B": ..}, ...}),
``enabled``. The split and the responses draw from their own random stream (seed, 19); the visits they
bring draw from the shared one, as recall's do.

A capacity-aware campaign (``[marketing.capacity]``) fills the free hours of next week: on the last
simulated day, once every other visit is booked, the clinic reads its doctors' free minutes in the
coming calendar week (Monday to Sunday) at one branch and room type, picks the service of that room type
the doctors do most, and texts the branch's patients with marketing consent, no visit pending and a past
visit — as many as are expected to fill ``fill`` of the free time at the planted ``response``. Each
responder books that service into the free time of the doctor-day with most room left; when none has
room the slots are filled and she is turned away. Nothing else is drawn after it (its choices have their
own stream), so the rest of the run is the same with it or without it: the load of that week, branch and
room type rises by the minutes it booked, and nothing else changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np

from clinicflow.simulator.engine.setup import KIND_COURSE
from clinicflow.simulator.engine.staff import Staff
from clinicflow.simulator.engine.state import DAY_S, Batch, NewEpisode, World
from clinicflow.simulator.scenario import ROOM_TYPES

Soonest = Callable[[np.ndarray, np.ndarray], np.ndarray]
# books placed requests as appointments beyond now: (requests, day, start minute in the shift)
Settle = Callable[[Batch, np.ndarray, np.ndarray], None]

AUDIENCES = ("lapsed", "recent")
VARIANTS = ("A", "B")  # group codes 1, 2; 0 is the holdout
HOLDOUT_CODE = 0
CAPACITY_CODE = 2  # the audience code of the capacity-aware campaign (after lapsed 0 and recent 1)
# what each variant offers (the writer's texts say the same)
OFFERS = {"A": "10% off the next visit", "B": "a free skin check with the next visit"}
CAPACITY_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "branch": "",  # slug; empty: the first branch
    "room_type": "laser",
    "response": 0.15,  # planted: the share of recipients who book the offered free time
    "fill": 0.5,  # the share of the free minutes the clinic aims to fill (sets how many it texts)
}
DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "every_months": 4,
    "day": 12,
    "holdout": 0.2,
    "recent_days": 90,
    "lapsed_days": 365,
    "uplift": {"lapsed": {"A": 0.06, "B": 0.12}, "recent": {"A": 0.03, "B": 0.06}},
    "capacity": CAPACITY_DEFAULTS,
}


def settings(raw: dict[str, Any]) -> dict[str, Any]:
    """The scenario's ``[marketing]`` over the defaults, checked (``ValueError`` naming the key)."""
    given = raw.get("marketing") or {}
    conf = {**DEFAULTS, **{k: v for k, v in given.items() if k not in ("uplift", "capacity")}}
    conf["capacity"] = cap = {**CAPACITY_DEFAULTS, **(given.get("capacity") or {})}
    if cap["room_type"] not in ROOM_TYPES:
        raise ValueError(f"marketing.capacity.room_type: must be one of {', '.join(ROOM_TYPES)}")
    if not 0 < float(cap["response"]) <= 0.5:
        raise ValueError("marketing.capacity.response: must be in (0, 0.5]")
    if not 0 < float(cap["fill"]) <= 1:
        raise ValueError("marketing.capacity.fill: must be in (0, 1]")
    conf["uplift"] = {
        a: {**DEFAULTS["uplift"][a], **(given.get("uplift") or {}).get(a, {})} for a in AUDIENCES
    }
    if not 1 <= int(conf["every_months"]) <= 24:
        raise ValueError("marketing.every_months: must be 1..24")
    if not 1 <= int(conf["day"]) <= 28:
        raise ValueError("marketing.day: must be 1..28")
    if not 0.05 <= float(conf["holdout"]) <= 0.5:
        raise ValueError("marketing.holdout: must be 0.05..0.5")
    for a in AUDIENCES:
        for v in VARIANTS:
            if not 0 <= float(conf["uplift"][a][v]) <= 0.5:
                raise ValueError(f"marketing.uplift.{a}.{v}: must be 0..0.5")
    return conf


class Campaigns:
    def __init__(self, world: World, new_episode: NewEpisode, soonest: Soonest | None = None) -> None:
        self.w = world
        self.new_episode = new_episode
        self.soonest = soonest
        self.conf = settings(world.scn.raw)
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([world.seed, 19])))
        # the planted truth and what was drawn: per campaign, audience, variant -> recipients, responders
        self.sent: list[dict[str, Any]] = []
        self.filled: dict[str, Any] | None = None  # the capacity-aware campaign's truth

    def month(self, m: int) -> None:
        w, conf = self.w, self.conf
        if not conf["enabled"] or m == 0 or m % int(conf["every_months"]) != 0 or w.pat.n == 0:
            return
        pat, cal = w.pat, w.cal
        day = int(cal.month_start[m]) + int(conf["day"]) - 1
        if day >= cal.n_days:
            return
        lv = pat["last_visit"][: pat.n]
        ok = (lv >= 0) & ~pat["pending"][: pat.n] & pat["consent"][: pat.n]
        since = day - lv
        members = {
            "recent": ok & (since < conf["recent_days"]),
            "lapsed": ok & (since >= conf["recent_days"]) & (since < conf["lapsed_days"]),
        }
        for a_idx, audience in enumerate(AUDIENCES):
            self._send(m, a_idx, audience, np.flatnonzero(members[audience]), day)

    def _send(self, m: int, a_idx: int, audience: str, cand: np.ndarray, day: int) -> None:
        w, conf, rng = self.w, self.conf, self.rng
        n = cand.size
        if n == 0:
            return
        b = w.pat["branch"][cand]
        at = w.day_seconds(b, np.full(n, day, dtype=np.int32)) + 11 * 3600
        queued_at = int(at.min())
        if queued_at > w.now:
            return  # not sent yet
        u = rng.random(n)
        holdout = float(conf["holdout"])
        group = np.where(u < holdout, HOLDOUT_CODE, np.where(u < holdout + (1 - holdout) / 2, 1, 2))
        planted = np.array([0.0, *(float(conf["uplift"][audience][v]) for v in VARIANTS)])
        respond = rng.random(n) < planted[group]
        offset = rng.integers(600, 6 * DAY_S, n)
        booked_at = queued_at + offset
        respond &= booked_at <= w.now
        campaign_id = w.ids(np.array([queued_at]))
        w.emit(
            "mkt_campaigns",
            {
                "id": campaign_id,
                "audience": np.array([a_idx]),
                "month": np.array([m]),
                "at": np.array([queued_at]),
                "branch": np.array([-1]),
                "service": np.array([-1]),
                "days": np.array([0]),
            },
        )
        w.emit(
            "mkt_recipients",
            {
                "id": w.ids(np.full(n, queued_at)),
                "campaign": np.repeat(campaign_id, n, axis=0),
                "patient": cand,
                "group": group.astype(np.int8),
                "at": np.full(n, queued_at, dtype=np.int64),
            },
        )
        self.sent.append(
            {
                "month": m,
                "audience": audience,
                "groups": {
                    ("holdout" if g == HOLDOUT_CODE else VARIANTS[g - 1]): {
                        "recipients": int((group == g).sum()),
                        "responders": int((respond & (group == g)).sum()),
                        "planted": float(planted[g]),
                    }
                    for g in range(3)
                },
            }
        )
        r = cand[respond]
        if r.size == 0:
            return
        book_day = ((booked_at[respond] - w.cal.day_epoch[0] * DAY_S) // DAY_S).astype(np.int32)
        want = book_day + rng.integers(1, 6, r.size).astype(np.int32)
        docs = w.pat["first_doctor"][r]
        ok = docs >= 0
        r, want, docs, created = r[ok], want[ok], docs[ok], booked_at[respond][ok]
        if r.size == 0:
            return
        if self.soonest is not None:
            docs = self.soonest(docs, want)
        w.queue(self.new_episode(r, docs, want, created))

    def fill_free_time(self, staff: Staff, settle: Settle) -> None:
        """The capacity-aware campaign (see the module) over the doctors' free minutes in ``staff``;
        ``settle`` books the responders' requests. Run once, after every other visit is booked."""
        w, cap = self.w, self.conf["capacity"]
        if not self.conf["enabled"] or not cap["enabled"] or w.pat.n == 0:
            return
        scn, st, cal, pat = w.scn, w.st, w.cal, w.pat
        T = cal.total_days
        free = staff.day_len[:, None] - staff.used
        works = staff.next_work[:, :T] == np.arange(T)[None, :]
        slugs = [b.slug for b in scn.branches]
        b = slugs.index(cap["branch"]) if cap["branch"] in slugs else 0
        rt = ROOM_TYPES.index(cap["room_type"])
        docs = np.flatnonzero((st.doc_branch == b) & (st.room_type[st.doc_room] == rt))
        if docs.size == 0:
            return
        # the service of the room type the doctors do most
        weight = np.zeros(len(scn.services))
        for d in docs:
            np.add.at(weight, st.doc_services[d], st.doc_service_p[d])
        weight[st.svc_room_type != rt] = 0
        if weight.max() <= 0:
            return
        svc = int(weight.argmax())
        slot = scn.schedule["slot_minutes"]
        dur = int(np.ceil(st.svc_duration[svc] / slot) * slot)
        # sent at 10:00 on the last simulated day that has an hour left before now
        day = cal.n_days - 1
        while day > 0 and int(w.day_seconds(np.array([b]), np.array([day]))[0]) + 11 * 3600 > w.now:
            day -= 1
        at = int(w.day_seconds(np.array([b]), np.array([day]))[0]) + 10 * 3600
        if day + 1 >= T:
            return  # no horizon beyond the run: no next week to fill
        monday = day + 1 + (-int(cal.weekday[day + 1])) % 7
        week = np.arange(monday, min(monday + 7, cal.total_days))
        room = np.where(works[np.ix_(docs, week)], free[np.ix_(docs, week)], 0).astype(np.int64)
        free_min = int(room.sum())
        lv = pat["last_visit"][: pat.n]
        ok = (pat["branch"][: pat.n] == b) & (lv >= 0) & ~pat["pending"][: pat.n] & pat["consent"][: pat.n]
        cand = np.flatnonzero(ok)
        response = float(cap["response"])
        reach = min(cand.size, int(np.ceil(free_min * float(cap["fill"]) / (response * dur))))
        if reach == 0 or week.size == 0:
            return
        rng = self.rng
        cand = np.sort(rng.choice(cand, size=reach, replace=False))
        respond = rng.random(reach) < response
        offsets = rng.integers(600, max(w.now - at, 601), reach)
        booked, b_day, b_doc, b_start, b_created = [], [], [], [], []
        answered = np.flatnonzero(respond)
        for i in answered[np.argsort(offsets[answered], kind="stable")]:  # the first to answer books first
            left = np.where(room >= dur, room, -1)
            if left.max() < 0:
                break  # the slots are filled: later responders are turned away
            k, j = np.unravel_index(int(left.argmax()), left.shape)
            doc, dy = int(docs[k]), int(week[j])
            b_start.append(int(staff.day_len[doc] - room[k, j]))
            room[k, j] -= dur
            staff.used[doc, dy] += dur
            booked.append(int(cand[i]))
            b_day.append(dy)
            b_doc.append(doc)
            b_created.append(at + int(offsets[i]))
        campaign_id = w.ids(np.array([at]))
        w.emit(
            "mkt_campaigns",
            {
                "id": campaign_id,
                "audience": np.array([CAPACITY_CODE]),
                "month": np.array([int(cal.month_of_day[day])]),
                "at": np.array([at]),
                "branch": np.array([b]),
                "service": np.array([svc]),
                "days": np.array([int(week[-1] - day)]),
            },
        )
        w.emit(
            "mkt_recipients",
            {
                "id": w.ids(np.full(reach, at)),
                "campaign": np.repeat(campaign_id, reach, axis=0),
                "patient": cand,
                "group": np.ones(reach, dtype=np.int8),
                "at": np.full(reach, at, dtype=np.int64),
            },
        )
        n = len(booked)
        if n:
            req = w.request(
                n,
                patient=np.array(booked, dtype=np.int64),
                doctor=np.array(b_doc),
                service=svc,
                kind=KIND_COURSE,
                sess=1,
                n_sess=1,
                episode=1,
                day=np.array(b_day),
                created=np.array(b_created, dtype=np.int64),
            )
            pat["pending"][req["patient"]] = True
            settle(req, np.array(b_day, dtype=np.int32), np.array(b_start, dtype=np.int32))
        responders = int(respond.sum())
        self.filled = {
            "branch": slugs[b],
            "room_type": ROOM_TYPES[rt],
            "service": st.svc_code[svc],
            "service_minutes": dur,
            "sent_day": (cal.start + dt.timedelta(days=day)).isoformat(),
            "week": [(cal.start + dt.timedelta(days=int(x))).isoformat() for x in (week[0], week[-1])],
            "planted": {"response": response, "fill": float(cap["fill"])},
            "realised": {
                "free_minutes": free_min,
                "recipients": reach,
                "responders": responders,
                "booked": n,
                "turned_away": responders - n,
                "booked_minutes": n * dur,
                "expected_minutes": round(reach * response * dur, 1),
            },
        }

    def truth(self) -> dict[str, Any]:
        """The planted uplift per audience and variant (with the variants' offers), each campaign's
        groups as drawn, and the capacity-aware campaign's planted response and what it booked."""
        return {
            "planted_uplift": self.conf["uplift"],
            "offers": dict(OFFERS),
            "holdout": self.conf["holdout"],
            "campaigns": self.sent,
            "capacity": self.filled,
        }
