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
bring draw from the shared one, as recall's do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from clinicflow.simulator.engine.state import DAY_S, NewEpisode, World

Soonest = Callable[[np.ndarray, np.ndarray], np.ndarray]

AUDIENCES = ("lapsed", "recent")
VARIANTS = ("A", "B")  # group codes 1, 2; 0 is the holdout
HOLDOUT_CODE = 0
DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "every_months": 4,
    "day": 12,
    "holdout": 0.2,
    "recent_days": 90,
    "lapsed_days": 365,
    "uplift": {"lapsed": {"A": 0.06, "B": 0.12}, "recent": {"A": 0.03, "B": 0.06}},
}


def settings(raw: dict[str, Any]) -> dict[str, Any]:
    """The scenario's ``[marketing]`` over the defaults, checked (``ValueError`` naming the key)."""
    given = raw.get("marketing") or {}
    conf = {**DEFAULTS, **{k: v for k, v in given.items() if k != "uplift"}}
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

    def truth(self) -> dict[str, Any]:
        """The planted uplift per audience and variant, and each campaign's groups as drawn."""
        return {
            "planted_uplift": self.conf["uplift"],
            "holdout": self.conf["holdout"],
            "campaigns": self.sent,
        }
