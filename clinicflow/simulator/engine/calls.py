"""The call log: unique first calls and the repeat calls that follow them within the unique-call
window, callback tasks for missed unique calls, web-form leads, and the referral records."""

from __future__ import annotations

import numpy as np

from clinicflow.simulator.engine.batches import Contacts
from clinicflow.simulator.engine.staff import Staff
from clinicflow.simulator.engine.state import DAY_S, World

CALLBACK_DUE_S = 900  # a callback task is due 15 minutes after the missed call
STALE_S = 2 * DAY_S  # an uncalled callback task older than this was given up (closed)


class CallLog:
    def __init__(self, world: World, staff: Staff) -> None:
        self.w = world
        self.staff = staff

    def referrals(self, c: Contacts, patient_of: np.ndarray) -> None:
        w = self.w
        rsel = np.flatnonzero(c.referrer >= 0)
        if rsel.size:
            w.emit(
                "referrals",
                {
                    "id": w.ids(c.at[rsel]),
                    "referrer": c.referrer[rsel],
                    "referred": patient_of[rsel],
                    "at": c.at[rsel],
                    "booked": c.booked[rsel],
                },
            )

    def calls(self, c: Contacts, patient_of: np.ndarray) -> None:
        """The month's calls: each calling contact's first call (unique) and its repeat calls, which
        fall inside the unique-call window of the first (so they are not unique); then the
        callbacks of the missed unique calls."""
        w = self.w
        rng, cal, t, ct = w.rng, w.cal, w.tally, w.scn.contacts
        calls_u = np.flatnonzero(c.is_call)
        rep_n = rng.poisson(ct["repeat_call_rate"], calls_u.size)
        rep_src = np.repeat(calls_u, rep_n)
        rep_at = c.at[rep_src] + rng.integers(3600, w.repeat_within_days * DAY_S, rep_src.size)
        rep_ok = rep_at < min((cal.day_epoch[cal.n_days - 1] + 1) * DAY_S - 12 * 3600, w.now + 1)
        rep_src, rep_at = rep_src[rep_ok], rep_at[rep_ok]
        rep_missed = rng.random(rep_src.size) < ct["missed_share"]
        rep_adm = self.staff.administrators(c.adm[rep_src].copy(), c.br[rep_src])
        rep_score = self.staff.score(rep_adm)
        src = np.concatenate([calls_u, rep_src])
        k_u = calls_u.size
        c_at = np.concatenate([c.at[calls_u], rep_at])
        c_missed = np.concatenate([c.missed[calls_u], rep_missed])
        c_adm = np.where(c_missed, -1, np.concatenate([c.adm[calls_u], rep_adm]))
        c_score = np.where(c_missed, -1, np.concatenate([c.score[calls_u], rep_score]))
        c_unique = np.zeros(src.size, dtype=bool)
        c_unique[:k_u] = True
        c_booked = np.zeros(src.size, dtype=bool)
        c_booked[:k_u] = c.booked[calls_u]
        c_dur = np.where(c_missed, 0, rng.lognormal(5.0, 0.6, src.size).astype(np.int32) + 20)
        c_ring = rng.integers(5, 60, src.size).astype(np.int32)
        c_ids = w.ids(c_at)
        o = np.argsort(c_at, kind="stable")
        w.emit(
            "calls",
            {
                "id": c_ids[o],
                "branch": c.br[src][o],
                "channel": c.ch[src][o],
                "campaign": c.campaign[src][o],
                "number": c.number[src][o],
                "session": c.sess_ids[src][o],
                "has_session": (c.has_session[src] & c.is_call[src])[o],
                "phone": c.phone[src][o],
                "started": c_at[o],
                "duration": c_dur[o],
                "ring": c_ring[o],
                "missed": c_missed[o],
                "unique": c_unique[o],
                "admin": c_adm[o],
                "score": c_score[o],
                "booked": c_booked[o],
                "patient": patient_of[src][o],
                "referral": (c.referrer[src] >= 0)[o],
            },
        )
        t.calls_total += src.size
        t.calls_unique += k_u
        t.calls_missed += int(c_missed.sum())
        t.unique_missed += int(c.missed[calls_u].sum())
        t.calls_recovered += int(c.recovered.sum())
        self._callbacks(c, patient_of, calls_u, c_ids)

    def _callbacks(self, c: Contacts, patient_of: np.ndarray, calls_u: np.ndarray, c_ids: np.ndarray) -> None:
        """Callback tasks for missed unique calls (``c_ids`` of the unique calls in their order)."""
        w = self.w
        miss_u = np.flatnonzero(c.missed[calls_u])
        if not miss_u.size:
            return
        j = calls_u[miss_u]
        created = c.at[j] + 1
        due = c.at[j] + CALLBACK_DUE_S
        called = c.cb_done[j]
        done_at = due + w.rng.integers(0, 7200, j.size)
        # a task nobody called back is closed as given up after a few tries over the next days;
        # only the last STALE_S before now may still be open
        gave_up = ~called & (created < w.now - STALE_S)
        gave_up_at = due + w.rng.integers(DAY_S // 2, STALE_S, j.size)
        done_at = np.where(gave_up, gave_up_at, done_at)
        # nothing is done after now (a callback due in a few minutes was made early)
        done_at = np.minimum(done_at, np.maximum(w.now, created))
        w.emit(
            "callbacks",
            {
                "id": w.ids(created),
                "call": c_ids[miss_u],
                "branch": c.br[j],
                "admin": c.adm[j],
                "created": created,
                "due": due,
                "done": called | gave_up,
                "done_at": done_at,
                "gave_up": gave_up,
                "reached": c.recovered[j],
                "phone": c.phone[j],
                "booked": c.booked[j],
                "patient": patient_of[j],
            },
        )

    def leads(self, c: Contacts, patient_of: np.ndarray) -> None:
        """Web forms become leads."""
        w = self.w
        forms = np.flatnonzero(~c.is_call)
        w.tally.web_forms += forms.size
        if forms.size:
            w.emit(
                "leads",
                {
                    "id": w.ids(c.at[forms]),
                    "branch": c.br[forms],
                    "channel": c.ch[forms],
                    "campaign": c.campaign[forms],
                    "session": c.sess_ids[forms],
                    "has_session": c.has_session[forms],
                    "phone": c.phone[forms],
                    "created": c.at[forms],
                    "admin": c.adm[forms],
                    "booked": c.booked[forms],
                    "patient": patient_of[forms],
                },
            )
