"""Loyalty: points earned on spend and redeemed above the threshold, memberships (a fee, stored
value with a bonus, or a package of sessions) bought at the start of an episode; what members and
wallet holders do after (included procedures, cancellations, renewals, balance spends) is
:mod:`.loyalty_use`."""

from __future__ import annotations

import numpy as np

from clinicflow.simulator.engine.batches import Booked
from clinicflow.simulator.engine.loyalty_use import FEE, PACKAGE, STORED_VALUE, Usage
from clinicflow.simulator.engine.state import World
from clinicflow.simulator.scenario import MEMBERSHIP_KINDS


class Loyalty:
    def __init__(self, world: World) -> None:
        self.w = world
        self.use = Usage(world)

    def finish(self) -> None:
        """The end of the run (after the last month): what :mod:`.loyalty_use` still holds."""
        self.use.finish()

    def points(self, bk: Booked, di: np.ndarray, paid_at: np.ndarray) -> None:
        """How each paid visit (``di``, paid at ``paid_at``) was paid (:meth:`.Usage.checkout`), then
        points: earned on the money received for each paid visit of a member of the programme (not on
        an included procedure or a bonus), one redemption per patient per batch."""
        w = self.w
        lost = self.use.checkout(bk, di, paid_at)
        rng, t, pat, lo = w.rng, w.tally, w.pat, w.scn.loyalty
        price, pidx = bk.price, bk.pidx
        sel = pat["in_points"][pidx[di]] & (price[di] > 0)
        pi = di[sel]
        if not (pi.size and lo["points_per_100"] > 0):
            return
        earn = ((price[pi] - lost[sel]) // 10000 * lo["points_per_100"]).astype(np.int64)
        pp = pidx[pi]
        np.add.at(pat["points"], pp, earn)
        bal = pat["points"][pp]
        red = (bal >= lo["redeem_threshold"]) & (rng.random(pi.size) < lo["redeem_probability"])
        # one redemption per patient per batch
        red_idx = pi[red]
        _, first_of = np.unique(pidx[red_idx], return_index=True)
        red_idx = red_idx[first_of]
        red_amt = np.full(red_idx.size, int(lo["redeem_threshold"]), dtype=np.int64)
        np.subtract.at(pat["points"], pidx[red_idx], red_amt)
        t.points_earned += int(earn.sum())
        t.points_redeemed += int(red_amt.sum())
        e_at = paid_at[np.searchsorted(di, pi)]
        r_at = np.minimum(paid_at[np.searchsorted(di, red_idx)] + 1, w.now)
        got = earn > 0  # an included procedure earns nothing (its draw above is kept all the same)
        w.emit(
            "points",
            {
                "id": w.ids(np.concatenate([e_at[got], r_at])),
                "patient": np.concatenate([pidx[pi][got], pidx[red_idx]]),
                "appointment": np.concatenate([bk.a_ids[pi][got], bk.a_ids[red_idx]]),
                "points": np.concatenate([earn[got], -red_amt]),
                "at": np.concatenate([e_at[got], r_at]),
            },
        )

    def memberships(self, bk: Booked, es: np.ndarray) -> None:
        """Memberships bought right after the first session of an episode (``es``)."""
        w = self.w
        rng, st, lo, scn = w.rng, w.st, w.scn.loyalty, w.scn
        buy = es[rng.random(es.size) < lo["membership_probability"]]
        if not buy.size:
            return
        svc = bk.svc[buy]
        mix = np.array([lo["membership_mix"][k] for k in MEMBERSHIP_KINDS])
        kind = rng.choice(len(MEMBERSHIP_KINDS), size=buy.size, p=mix / mix.sum()).astype(np.int8)
        package = kind == PACKAGE
        fee = np.where(
            kind == FEE,
            lo["membership_fee"],
            np.where(
                kind == STORED_VALUE,
                lo["stored_value_amount"],
                st.svc_price_minor[svc] / 100 * lo["package_sessions"] * (1 - lo["package_discount"]),
            ),
        )
        # the fee and stored value are scenario amounts (× price factor); a package is already priced
        fee_minor = np.round(fee * scn.price_factor * (~package) * 100 + fee * 100 * package).astype(np.int64)
        bonus = np.where(kind == STORED_VALUE, np.round(fee_minor * lo["stored_value_bonus"]), 0).astype(
            np.int64
        )
        np.add.at(w.tally.memberships, kind, 1)
        m_at = np.minimum(bk.end[buy] + 300, w.now)
        # the plan includes the procedure of the episode (fee-based and packages); emitted by ``use``
        self.use.sell(
            {
                "id": w.ids(m_at),
                "patient": bk.pidx[buy],
                "branch": bk.branch[buy],
                "kind": kind,
                "price": fee_minor,
                "bonus": bonus,
                "sessions": np.where(package, lo["package_sessions"], 0).astype(np.int16),
                "service": np.where(kind != STORED_VALUE, svc, -1).astype(np.int16),
                "started": m_at,
            }
        )
