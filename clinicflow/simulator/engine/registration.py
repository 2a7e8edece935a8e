"""Registration: a contact who books becomes a patient (name, sex, age, phone, consents asked,
loyalty programme, her own return rate and dropout propensity) with a first visit at one of the
branch's doctors from the next day on."""

from __future__ import annotations

import numpy as np

from clinicflow.simulator.engine.batches import Contacts
from clinicflow.simulator.engine.people import FEMALE_LAST, NAMES
from clinicflow.simulator.engine.setup import KIND_FIRST
from clinicflow.simulator.engine.staff import Staff
from clinicflow.simulator.engine.state import World

EMAIL_SHARE = 0.45


class Registration:
    def __init__(self, world: World, staff: Staff) -> None:
        self.w = world
        self.staff = staff
        chans = world.scn.channels
        self.female_share = np.array([c.female_share for c in chans])
        self.age_mean = np.array([c.age_mean for c in chans])
        self.age_sd = np.array([c.age_sd for c in chans])

    def register(self, c: Contacts) -> np.ndarray:
        """The new patients of the contacts who booked; returns each contact's patient (or -1)."""
        patient_of = np.full(c.n, -1, dtype=np.int64)
        bk = np.flatnonzero(c.booked)
        if bk.size:
            patient_of[bk] = self._patients(c, bk)
        return patient_of

    def _patients(self, c: Contacts, bk: np.ndarray) -> np.ndarray:
        w = self.w
        scn, cal, rng = w.scn, w.cal, w.rng
        nb = bk.size
        br, ch = c.br[bk], c.ch[bk]
        created = c.at[bk] + np.where(c.recovered[bk], rng.integers(600, 7200, nb), rng.integers(60, 400, nb))
        created = np.maximum(np.minimum(created, w.now), c.at[bk])  # registered by now
        pid = w.ids(created)
        female = rng.random(nb) < self.female_share[ch]
        age = np.clip(rng.normal(self.age_mean[ch], self.age_sd[ch]), 16, 85)
        birth_day = (cal.day_epoch[c.day[bk]] - (age * 365.25).astype(np.int64)).astype(np.int64)
        ff, mf, ln = NAMES[scn.country]
        first_i = rng.integers(0, 1 << 30, nb)
        last_i = rng.integers(0, len(ln), nb)
        consent = rng.random(nb) < scn.loyalty["consent_marketing"]
        in_points = rng.random(nb) < scn.loyalty["points_share"]
        has_email = rng.random(nb) < EMAIL_SHARE
        rate, dropout = self._traits(nb)
        p_idx = w.pat.add(
            pid, branch=br, channel=ch, consent=consent, in_points=in_points, rate=rate, dropout=dropout
        )
        first_names = np.where(
            female,
            np.array(ff, dtype=object)[first_i % len(ff)],
            np.array(mf, dtype=object)[first_i % len(mf)],
        )
        women = np.array(FEMALE_LAST[scn.country], dtype=object)[last_i]  # Иванова, Вишневская
        last_names = np.where(female, women, np.array(ln, dtype=object)[last_i])
        w.emit(
            "patients",
            {
                "id": pid,
                "branch": br,
                "channel": ch,
                "female": female,
                "birth_day": birth_day,
                "first_name": first_names,
                "last_name": last_names,
                "phone": c.phone[bk],
                "has_email": has_email,
                "number": p_idx,
                "created": created,
                "consent": consent,
            },
        )
        w.tally.referral_patients += int((c.referrer[bk] >= 0).sum())
        self._first_visits(c, bk, p_idx, created)
        return p_idx

    def _traits(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Each new patient's return rate λ ~ Gamma(r, rate alpha) per week and dropout propensity
        p ~ Beta(a, b); the population means for everyone when the heterogeneity is off."""
        h = self.w.scn.heterogeneity
        if not h.enabled:
            return np.full(n, h.mean_rate), np.full(n, h.mean_dropout)
        rng = self.w.trait_rng
        return rng.gamma(h.r, 1.0 / h.alpha, n), rng.beta(h.a, h.b, n)

    def _first_visits(self, c: Contacts, bk: np.ndarray, p_idx: np.ndarray, created: np.ndarray) -> None:
        # first visits from the next day on: the day packer places a visit anywhere in its day, so a
        # same-day visit could start before the call that booked it
        w = self.w
        nb = bk.size
        doc = self.staff.doctors(np.zeros(nb, dtype=np.int16), c.br[bk])
        lead = w.rng.integers(1, max(w.scn.contacts["lead_days_max"], 1) + 1, nb).astype(np.int32)
        fday = np.maximum(c.day[bk] + lead, c.day[bk])
        w.queue(
            w.request(
                nb,
                patient=p_idx,
                doctor=doc,
                service=w.st.first_service,
                kind=KIND_FIRST,
                sess=1,
                n_sess=1,
                day=fday,
                created=created,
            )
        )
