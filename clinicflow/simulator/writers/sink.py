"""Routes the engine's chunks to the product's tables (and the simulator's own), one module-level
function per domain, through the bulk writer."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import numpy as np
from django.db import connection

from clinicflow.acquisition.models import (
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
from clinicflow.booking.models import Appointment, AppointmentSource, Payment
from clinicflow.patients.models import ConsentEvent, ConsentMethod, Patient, PatientPhone
from clinicflow.simulator import models as sm
from clinicflow.simulator.engine.core import DAY_S, Simulation
from clinicflow.simulator.engine.ids import hex_ids, uuid7_array
from clinicflow.simulator.engine.setup import STATUSES
from clinicflow.simulator.scenario import CHANNEL_KINDS, MEMBERSHIP_KINDS, PAYMENT_METHODS
from clinicflow.simulator.writers.bulk import BulkWriter, CopyPipe
from clinicflow.simulator.writers.structure import Context, write_price_history

PAY_METHOD = {
    "card": "card",
    "cash": "cash",
    "transfer": "transfer",
    "online": "online",
    "stored_value": "membership",
}
NULL16 = np.zeros((1, 16), dtype=np.uint8)


def pick(ids: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Ids by index; -1 gives a zero row (pair it with a ``__null`` mask)."""
    if ids.shape[0] == 0:
        return np.zeros((idx.size, 16), dtype=np.uint8)
    return ids[np.maximum(idx, 0)]


class DbSink:
    def __init__(self, sim: Simulation, ctx: Context) -> None:
        self.sim = sim
        self.ctx = ctx
        self.writers: dict[type, BulkWriter] = {}
        self.rows: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        self.pipe = CopyPipe() if connection.vendor == "postgresql" else None

    def close(self) -> None:
        """Wait for the background COPY (PostgreSQL) to finish; the connection is free again."""
        if self.pipe is not None:
            pipe, self.pipe = self.pipe, None
            pipe.close()

    def w(self, model: type) -> BulkWriter:
        if model not in self.writers:
            self.writers[model] = BulkWriter(model, now=self.ctx.now, org_id=self.ctx.org.pk, pipe=self.pipe)
        return self.writers[model]

    def put(self, model: Any, cols: dict[str, Any]) -> None:
        t = time.perf_counter()
        n = self.w(model).write(cols)
        self.rows[model._meta.label] += n
        self.seconds[model._meta.label] += time.perf_counter() - t

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def pid(self, idx: np.ndarray) -> np.ndarray:
        return self.sim.pat.ids[np.maximum(idx, 0)]

    def __call__(self, table: str, cols: dict[str, Any]) -> None:
        getattr(self, f"t_{table}")(cols)

    # -------------------------------------------------------------- catalogue
    def t_first_visit_prices(self, c: dict[str, Any]) -> None:
        t = time.perf_counter()
        self.rows["catalogue.ServicePrice"] += write_price_history(self.sim, self.ctx, c, self.pipe)
        self.seconds["catalogue.ServicePrice"] += time.perf_counter() - t

    # -------------------------------------------------------------- acquisition
    def t_sessions(self, c: dict[str, Any]) -> None:
        ctx, scn = self.ctx, self.sim.scn
        n = c["id"].shape[0]
        camp = c["campaign"]
        utm = ctx.utm
        kinds = [scn.channels[int(x)].kind for x in c["channel"]]
        src = [utm[int(k)][0] if k >= 0 else "(direct)" for k in camp]
        med = [utm[int(k)][1] if k >= 0 else "(none)" for k in camp]
        ucamp = [utm[int(k)][2] if k >= 0 else "" for k in camp]
        paid = np.isin(np.array(kinds), ["search_ads", "social_ads", "aggregator"])
        self.put(
            WebSession,
            {
                "id": c["id"],
                "client_id": hex_ids(c["id"]),
                "started_at": c["started"],
                "last_seen_at": c["started"] + c["pages"].astype(np.int64) * 40,
                "utm_source": [s if p else "" for s, p in zip(src, paid.tolist(), strict=True)],
                "utm_medium": [m if p else "" for m, p in zip(med, paid.tolist(), strict=True)],
                "utm_campaign": [u if p else "" for u, p in zip(ucamp, paid.tolist(), strict=True)],
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
        del n

    def t_calls(self, c: dict[str, Any]) -> None:
        ctx, sim = self.ctx, self.sim
        n = c["id"].shape[0]
        phones = sim.phones.format(c["phone"])
        missed = c["missed"]
        camp = c["campaign"]
        num = c["number"]
        has_s = c["has_session"]
        method = np.where(has_s, 0, np.where(num >= 0, 1, 3))
        methods = [
            AttributionMethod.SESSION.value,
            AttributionMethod.STATIC.value,
            "",
            AttributionMethod.NONE.value,
        ]
        utm = ctx.utm
        src = [utm[int(k)][0] if k >= 0 else "" for k in camp]
        med = [utm[int(k)][1] if k >= 0 else "" for k in camp]
        ucamp = [utm[int(k)][2] if k >= 0 else "" for k in camp]
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
        self.put(
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
                "status_rank": np.where(missed, 2, 3),
                "administrator": pick(ctx.admin, adm),
                "administrator__null": adm < 0,
                "is_unique": c["unique"],
                "patient": self.pid(c["patient"]),
                "patient__null": c["patient"] < 0,
                "session": c["session"],
                "session__null": ~has_s,
                "channel": ctx.channel[c["channel"]],
                "campaign": pick(ctx.campaign, camp),
                "campaign__null": camp < 0,
                "attribution_method": [methods[int(m)] for m in method],
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
        # tags: booked unique calls, repeat callers (existing enquiries), some price enquiries
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
            self.put(
                CallTagging,
                {
                    "id": uuid7_array(rng, ended[tag_idx] * 1000),
                    "call": c["id"][tag_idx],
                    "tag": tags,
                    "tagged_by": pick(ctx.admin, adm[tag_idx]),
                    "tagged_by__null": adm[tag_idx] < 0,
                    "tagged_at": ended[tag_idx],
                },
            )

    def t_callbacks(self, c: dict[str, Any]) -> None:
        ctx = self.ctx
        outcome = np.where(
            c["booked"], "booked", np.where(c["reached"], "talked", np.where(c["done"], "no answer", ""))
        )
        self.put(
            CallbackTask,
            {
                "id": c["id"],
                "call": c["call"],
                "branch": ctx.branch[c["branch"]],
                "phone": self.sim.phones.format(c["phone"]),
                "due_at": c["due"],
                "done_at": c["done_at"],
                "done_at__null": ~c["done"],
                "assigned_to": ctx.admin[c["admin"]],
                "outcome": outcome.tolist(),
                "created_at": c["created"],
            },
        )

    def t_leads(self, c: dict[str, Any]) -> None:
        ctx, sim = self.ctx, self.sim
        phones = sim.phones.format(c["phone"])
        camp = c["campaign"]
        utm = ctx.utm
        self.put(
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
                "patient": self.pid(c["patient"]),
                "patient__null": c["patient"] < 0,
                "channel": ctx.channel[c["channel"]],
                "campaign": pick(ctx.campaign, camp),
                "campaign__null": camp < 0,
                "source": [utm[int(k)][0] if k >= 0 else "" for k in camp],
                "medium": [utm[int(k)][1] if k >= 0 else "" for k in camp],
                "created_at": c["created"],
            },
        )

    def t_spend(self, c: dict[str, Any]) -> None:
        ctx = self.ctx
        self.put(
            AdSpend,
            {
                "id": c["id"],
                "date": self.sim.cal.day_epoch[c["day"]],
                "channel": ctx.channel[c["channel"]],
                "campaign": pick(ctx.campaign, c["campaign"]),
                "campaign__null": c["campaign"] < 0,
                "branch": ctx.branch[c["branch"]],
                "spend": c["amount"],
                "currency": ctx.currency,
                "impressions": c["amount"] // 50,
                "clicks": c["amount"] // 3000,
                "imported_at": self.sim.cal.day_epoch[c["day"]] * DAY_S + DAY_S + 3600,
            },
        )

    # -------------------------------------------------------------- patients
    def t_patients(self, c: dict[str, Any]) -> None:
        sim = self.sim
        n = c["id"].shape[0]
        phones = sim.phones.format(c["phone"])
        first, last = c["first_name"].tolist(), c["last_name"].tolist()
        num = c["number"].tolist()
        emails = [
            f"patient{k}@example.com" if e else "" for k, e in zip(num, c["has_email"].tolist(), strict=True)
        ]
        source = [CHANNEL_KINDS[CHANNEL_KINDS.index(sim.scn.channels[int(x)].kind)] for x in c["channel"]]
        self.put(
            Patient,
            {
                "id": c["id"],
                "branch": self.ctx.branch[c["branch"]],
                "last_name": last,
                "first_name": first,
                "middle_name": "",
                "sex": np.where(c["female"], "F", "M").tolist(),
                "birth_date": c["birth_day"],
                "email": emails,
                "preferred_language": sim.scn.language
                if sim.scn.language in ("en", "ru", "zh-hans")
                else "en",
                "source": source,
                "notes": "",
                "clinical_notes": "",
                "search_name": [f"{a} {b}".lower() for a, b in zip(last, first, strict=True)],
                "merged_into": None,
                "created_at": c["created"],
                "updated_at": c["created"],
                "created_by": None,
            },
        )
        self.put(
            PatientPhone,
            {
                "id": uuid7_array(sim.id_rng, c["created"] * 1000),
                "patient": c["id"],
                "e164": phones,
                "kind": "mobile",
                "is_primary": True,
            },
        )
        del n

    def t_consents(self, c: dict[str, Any]) -> None:
        sim = self.sim
        n = c["id"].shape[0]
        mk = np.flatnonzero(c["marketing"])
        pid = self.pid(c["patient"])
        self.put(
            ConsentEvent,
            {
                "id": np.concatenate([c["id"], uuid7_array(sim.id_rng, c["at"][mk] * 1000 + 1)]),
                "patient": np.concatenate([pid, pid[mk]]),
                "purpose": ["health_data"] * n + ["marketing_sms"] * mk.size,
                "kind": "granted",
                "method": [ConsentMethod.WRITTEN.value] * n + [ConsentMethod.WRITTEN.value] * mk.size,
                "at": np.concatenate([c["at"], c["at"][mk] + 1]),
                "template_version": "sim",
                "text_sha256": "",
                "evidence": "",
                "recorded_by": None,
            },
        )

    # -------------------------------------------------------------- booking
    def t_appointments(self, c: dict[str, Any]) -> None:
        ctx, sim = self.ctx, self.sim
        n = c["id"].shape[0]
        status = np.array(STATUSES, dtype=object)[c["status"]].tolist()
        tokens = sim.id_rng.bytes(16 * n).hex()
        cancelled = c["status"] == 5
        arrived = (c["status"] == 3) | (c["status"] == 2)  # done visits arrived too
        self.put(
            Appointment,
            {
                "id": c["id"],
                "branch": ctx.branch[c["branch"]],
                "patient": self.pid(c["patient"]),
                "service": ctx.service[c["service"]],
                "doctor": ctx.doctor[c["doctor"]],
                "room": ctx.room[c["room"]],
                "start_at": c["start"],
                "end_at": c["end"],
                "busy_until": c["end"],
                "status": status,
                "cancel_reason": "",
                "cancelled_at": c["start"] - 86400,
                "cancelled_at__null": ~cancelled,
                "is_late_cancellation": False,
                "arrived_at": c["start"] - 300,
                "arrived_at__null": ~arrived,
                "price": c["price"],
                "currency": ctx.currency,
                "is_first_visit": c["is_first"],
                "source": AppointmentSource.SIMULATOR.value,
                "booked_by": None,
                "notes": "",
                "manage_token": [tokens[32 * i : 32 * i + 32] for i in range(n)],
                "created_at": c["created"],
                "updated_at": c["created"],
            },
        )

    def t_payments(self, c: dict[str, Any]) -> None:
        ctx = self.ctx
        self.put(
            Payment,
            {
                "id": c["id"],
                "appointment": c["appointment"],
                "patient": self.pid(c["patient"]),
                "branch": ctx.branch[c["branch"]],
                "amount": c["amount"],
                "currency": ctx.currency,
                "method": [PAY_METHOD[PAYMENT_METHODS[int(m)]] for m in c["method"]],
                "kind": "payment",
                "paid_at": c["paid_at"],
                "recorded_by": None,
                "note": "",
                "created_at": c["paid_at"],
            },
        )

    # -------------------------------------------------------------- the simulator's own records
    def t_consultations(self, c: dict[str, Any]) -> None:
        ctx = self.ctx
        self.put(
            sm.Consultation,
            {
                "id": c["id"],
                "appointment": c["appointment"],
                "patient": self.pid(c["patient"]),
                "doctor": ctx.doctor[c["doctor"]],
                "at": c["at"],
                "expectation": np.round(c["expectation"] * 100).astype(np.int64),
                "converted": c["converted"],
                "planned_service": pick(ctx.service, c["service"]),
                "planned_service__null": c["service"] < 0,
                "quote": c["quote"],
                "currency": ctx.currency,
            },
        )

    def t_surveys(self, c: dict[str, Any]) -> None:
        ctx = self.ctx
        self.put(
            sm.SurveyAnswer,
            {
                "id": c["id"],
                "appointment": c["appointment"],
                "patient": self.pid(c["patient"]),
                "doctor": ctx.doctor[c["doctor"]],
                "branch": ctx.branch[c["branch"]],
                "nps": c["nps"],
                "csat": c["csat"],
                "answered_at": c["at"],
            },
        )

    def t_followups(self, c: dict[str, Any]) -> None:
        ctx = self.ctx
        self.put(
            sm.FollowUpTask,
            {
                "id": c["id"],
                "appointment": c["appointment"],
                "patient": self.pid(c["patient"]),
                "doctor": ctx.doctor[c["doctor"]],
                "branch": ctx.branch[c["branch"]],
                "day_offset": c["day_offset"],
                "due_at": c["due"],
                "status": np.where(c["done"], "done", "missed").tolist(),
            },
        )

    def t_complications(self, c: dict[str, Any]) -> None:
        self.put(
            sm.Complication,
            {
                "id": c["id"],
                "appointment": c["appointment"],
                "patient": self.pid(c["patient"]),
                "doctor": self.ctx.doctor[c["doctor"]],
                "occurred_at": c["at"],
                "severity": np.where(c["severe"], "major", "minor").tolist(),
            },
        )

    def t_memberships(self, c: dict[str, Any]) -> None:
        ctx = self.ctx
        n = c["id"].shape[0]
        self.put(
            sm.Membership,
            {
                "id": c["id"],
                "patient": self.pid(c["patient"]),
                "branch": ctx.branch[c["branch"]],
                "kind": [MEMBERSHIP_KINDS[int(k)] for k in c["kind"]],
                "price": c["price"],
                "bonus": c["bonus"],
                "currency": ctx.currency,
                "sessions": c["sessions"],
                "service": pick(ctx.service, c["service"]),
                "service__null": c["service"] < 0,
                "started_at": c["started"],
                "ends_at": c["ends"],
            },
        )
        # the membership is paid for (no appointment)
        pay = c["price"] > 0
        self.put(
            Payment,
            {
                "id": uuid7_array(self.sim.id_rng, c["started"][pay] * 1000),
                "appointment": None,
                "patient": self.pid(c["patient"][pay]),
                "branch": ctx.branch[c["branch"][pay]],
                "amount": c["price"][pay],
                "currency": ctx.currency,
                "method": "card",
                "kind": "payment",
                "paid_at": c["started"][pay],
                "recorded_by": None,
                "note": "membership",
                "created_at": c["started"][pay],
            },
        )
        del n

    def t_points(self, c: dict[str, Any]) -> None:
        self.put(
            sm.PointsEntry,
            {
                "id": c["id"],
                "patient": self.pid(c["patient"]),
                "appointment": c["appointment"],
                "points": c["points"],
                "at": c["at"],
            },
        )

    def t_referrals(self, c: dict[str, Any]) -> None:
        self.put(
            sm.Referral,
            {
                "id": c["id"],
                "referrer": self.pid(c["referrer"]),
                "referred": self.pid(c["referred"]),
                "referred__null": c["referred"] < 0,
                "at": c["at"],
                "booked": c["booked"],
            },
        )

    def t_recall_contacts(self, c: dict[str, Any]) -> None:
        sim = self.sim
        months = np.unique(c["campaign_month"])
        start_s = sim.cal.day_epoch[sim.cal.month_start[months]] * DAY_S + 9 * 3600
        camp_ids = uuid7_array(sim.id_rng, start_s * 1000)
        self.put(
            sm.RecallCampaign,
            {
                "id": camp_ids,
                "name": [
                    f"Recall {np.datetime_as_string(np.datetime64(int(s), 's'), unit='D')}" for s in start_s
                ],
                "started_at": start_s,
                "lapsed_days": int(sim.scn.recall["lapsed_days"]),
            },
        )
        ci = np.searchsorted(months, c["campaign_month"])
        out = np.array(["none", "week", "two_months"], dtype=object)[c["outcome"]].tolist()
        ret = c["returned_day"]
        self.put(
            sm.RecallContact,
            {
                "id": c["id"],
                "campaign": camp_ids[ci],
                "patient": self.pid(c["patient"]),
                "contacted_at": c["at"],
                "outcome": out,
                "returned_on": sim.cal.day_epoch[np.maximum(ret, 0)],
                "returned_on__null": ret < 0,
            },
        )
