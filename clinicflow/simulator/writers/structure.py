"""The clinic's fixed structure: branches, administrators (staff users), services and prices,
rooms, doctors with their branches, services and working hours, channels, campaigns and tracking
numbers. Small tables; written once per run before the monthly chunks."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import numpy as np
from django.db import models

from clinicflow.accounts.models import User
from clinicflow.accounts.roles import Role
from clinicflow.accounts.services import user_create
from clinicflow.acquisition.defaults import DEFAULT_CHANNEL_NAMES
from clinicflow.acquisition.models import (
    Campaign,
    Channel,
    ChannelCode,
    ChannelKind,
    NumberPool,
    TrackingNumber,
)
from clinicflow.booking.models import Doctor, DoctorBranch, DoctorService, Room, WorkingHours
from clinicflow.catalogue.models import Service, ServicePrice
from clinicflow.core.models import Branch, Organization
from clinicflow.core.services import branch_create
from clinicflow.simulator.engine.core import DAY_S, Simulation
from clinicflow.simulator.engine.ids import uuid7_array
from clinicflow.simulator.scenario import ROOM_TYPES
from clinicflow.simulator.scenario.model import Channel as ScenarioChannel
from clinicflow.simulator.writers.bulk import BulkWriter, CopyPipe

UTM = {
    "search_ads": ("yandex", "cpc"),
    "social_ads": ("vk", "cpc"),
    "organic": ("google", "organic"),
    "aggregator": ("prodoctorov", "referral"),
    "offline": ("outdoor", "offline"),
    "direct": ("(direct)", "(none)"),
    "referral": ("friend", "referral"),
}
SPECIALTY = {
    "treatment": "Cosmetologist",
    "laser": "Laser specialist",
    "operating": "Plastic surgeon",
    "dental": "Dentist",
    "consultation": "Consultant",
}
# the specialty in the clinic's language (Doctor.specialty is the clinic's own text)
SPECIALTY_IN = {
    "ru": {
        "treatment": "Косметолог",
        "laser": "Специалист по лазерным процедурам",
        "operating": "Пластический хирург",
        "dental": "Стоматолог",
        "consultation": "Консультант",
    },
    "zh-hans": {
        "treatment": "皮肤美容医生",
        "laser": "激光治疗师",
        "operating": "整形外科医生",
        "dental": "牙科医生",
        "consultation": "咨询师",
    },
}


def english(name_en: str) -> dict[str, str]:
    """A record's translations from a scenario's ``name_en``: the English name beside the clinic's."""
    return {"en": name_en} if name_en else {}


def channel_kind(code: str) -> str:
    """Paid, free or offline: the kind of the product's default channel with this code."""
    return str(DEFAULT_CHANNEL_NAMES[ChannelCode(code)][1])


def _written_kind(channel: ScenarioChannel) -> str:
    """The default kind of the channel's code, but paid when the scenario spends on it (organic
    search with an SEO fee): a channel marked free has no spend."""
    kind = channel_kind(channel.kind)
    return str(ChannelKind.PAID) if kind == ChannelKind.FREE and channel.monthly_spend > 0 else kind


def is_paid(code: str) -> bool:
    return channel_kind(code) == ChannelKind.PAID


def as_array(ids: list[uuid.UUID]) -> np.ndarray:
    if not ids:
        return np.zeros((0, 16), dtype=np.uint8)
    return np.frombuffer(b"".join(u.bytes for u in ids), dtype=np.uint8).reshape(len(ids), 16).copy()


@dataclass
class Context:
    org: Organization
    currency: str
    branch: np.ndarray
    admin: np.ndarray
    service: np.ndarray
    room: np.ndarray
    doctor: np.ndarray
    channel: np.ndarray
    campaign: np.ndarray
    number: np.ndarray
    now: int
    utm: list[tuple[str, str, str]]  # per campaign: source, medium, campaign


def admin_email(org: Organization, i: int) -> str:
    return f"admin{i + 1}@{org.slug}.sim"


def write_structure(sim: Simulation, org: Organization) -> Context:
    scn, st = sim.scn, sim.st
    now = int(sim.cal.day_epoch[sim.cal.n_days - 1]) * DAY_S + 20 * 3600
    # branches: reuse the organisation's by slug, create the missing ones
    branches = []
    for b in scn.branches:
        found = Branch.objects.for_org(org).filter(slug=b.slug).first()
        if found is None:
            found = branch_create(
                org=org,
                name=b.name,
                slug=b.slug,
                timezone=b.timezone,
                city=b.city,
                address=b.address,
                phone=b.phone,
                currency=scn.currency,
                country=scn.country,
                name_i18n=english(b.name_en),
            )
        branches.append(found)
    currency = branches[0].currency
    # administrators: front-desk staff users with an unusable password
    admins = []
    for i, a in enumerate(scn.administrators):
        email = admin_email(org, i)
        user = User.objects.filter(email=email).first()
        if user is None:
            # password None: Django stores an unusable random password ("!" + random), no hashing cost
            user = user_create(
                org=org,
                actor=None,
                email=email,
                password=None,  # type: ignore[arg-type]  # None: an unusable password, no hashing cost
                role=Role.FRONTDESK,
                full_name=a.name,
                validate=False,
            )
        admins.append(user.pk)

    def w(model: type[models.Model]) -> BulkWriter:
        return BulkWriter(model, now=now, org_id=org.pk)

    ids = sim.setup_ids
    # services: reuse existing codes
    existing = dict(Service.objects.for_org(org).values_list("code", "id"))
    svc_ids = [
        existing.get(code) or uuid.UUID(bytes=ids["service"][i].tobytes())
        for i, code in enumerate(st.svc_code)
    ]
    new = [i for i, code in enumerate(st.svc_code) if code not in existing]
    if new:
        sv = scn.services
        w(Service).write(
            {
                "id": ids["service"][new],
                "code": [sv[i].code for i in new],
                "name": [sv[i].name for i in new],
                "name_i18n": [english(sv[i].name_en) for i in new],
                "category": [sv[i].category for i in new],
                "duration_minutes": st.svc_duration[new],
                "buffer_minutes": 0,
                "room_type": [sv[i].room_type for i in new],
                "price": _current_prices(sim)[new],
                "currency": currency,
                "is_first_visit": [sv[i].first_visit for i in new],
                "course_sessions": st.svc_course[new],
                "course_interval_days": st.svc_interval[new],
                "follow_on_codes": [list(sv[i].follow_on) for i in new],
                "is_active": True,
                "is_bookable_online": [sv[i].category != "surgery" for i in new],
            }
        )
    service_arr = as_array(svc_ids)
    # price history of the first-visit service
    # rooms
    w(Room).write(
        {
            "id": ids["room"],
            "branch": as_array([branches[int(b)].pk for b in st.room_branch]),
            "name": st.room_name,
            "room_type": [ROOM_TYPES[int(t)] for t in st.room_type],
            "is_active": True,
        }
    )
    # doctors, their branch, services and weekly hours
    n_doc = len(scn.doctors)
    token_bytes = sim.id_rng.bytes(16 * n_doc)
    w(Doctor).write(
        {
            "id": ids["doctor"],
            "user": None,
            "full_name": [d.name for d in scn.doctors],
            "specialty": [
                SPECIALTY_IN.get(scn.language, SPECIALTY)[ROOM_TYPES[int(s)]] for s in st.doc_specialty
            ],
            "is_consultant": True,
            "is_active": True,
            "ical_token": [token_bytes[16 * i : 16 * i + 16].hex() for i in range(n_doc)],
            "created_at": int(sim.cal.day_epoch[0]) * DAY_S,
        }
    )
    doc_branch_ids = as_array([branches[int(b)].pk for b in st.doc_branch])
    t0 = np.full(n_doc, int(sim.cal.day_epoch[0]) * DAY_S * 1000)
    w(DoctorBranch).write(
        {"id": uuid7_array(sim.id_rng, t0), "doctor": ids["doctor"], "branch": doc_branch_ids}
    )
    pairs = [
        (d, s)
        for d in range(n_doc)
        for s in sorted(
            {
                st.first_service,
                *st.doc_services[d].tolist(),
                *[int(f) for x in st.doc_services[d] for f in st.svc_follow[int(x)]],
            }
        )
    ]
    pd = np.array([p[0] for p in pairs])
    ps = np.array([p[1] for p in pairs])
    w(DoctorService).write(
        {
            "id": uuid7_array(sim.id_rng, np.full(len(pairs), t0[0])),
            "doctor": ids["doctor"][pd],
            "service": service_arr[ps],
        }
    )
    hd, hw = np.nonzero(st.doc_weekdays)
    w(WorkingHours).write(
        {
            "id": uuid7_array(sim.id_rng, np.full(hd.size, t0[0])),
            "doctor": ids["doctor"][hd],
            "branch": doc_branch_ids[hd],
            "weekday": hw,
            "start_time": [str(dt.time(int(m) // 60, int(m) % 60)) for m in st.doc_start_min[hd]],
            "end_time": [
                str(dt.time(int(m) // 60, int(m) % 60)) if m < 1440 else "23:59:59"
                for m in st.doc_end_min[hd]
            ],
        }
    )
    # channels (reuse by code), campaigns, tracking numbers
    existing_ch = dict(Channel.objects.for_org(org).values_list("code", "id"))
    ch_ids = [
        existing_ch.get(c.kind) or uuid.UUID(bytes=ids["channel"][i].tobytes())
        for i, c in enumerate(scn.channels)
    ]
    new_ch = [i for i, c in enumerate(scn.channels) if c.kind not in existing_ch]
    if new_ch:
        w(Channel).write(
            {
                "id": ids["channel"][new_ch],
                "code": [scn.channels[i].kind for i in new_ch],
                "name": [scn.channels[i].name for i in new_ch],
                "name_i18n": [english(scn.channels[i].name_en) for i in new_ch],
                "kind": [_written_kind(scn.channels[i]) for i in new_ch],
            }
        )
    channel_arr = as_array(ch_ids)
    utm = []
    for k in range(st.campaign_branch.size):
        ch = scn.channels[int(st.campaign_channel[k])]
        br = scn.branches[int(st.campaign_branch[k])]
        src, med = UTM.get(ch.kind, (ch.code, "other"))
        utm.append((src, med, f"{ch.code}-{br.slug}"))
    if st.campaign_branch.size:
        w(Campaign).write(
            {
                "id": ids["campaign"],
                "channel": channel_arr[st.campaign_channel],
                "name": [
                    f"{scn.channels[int(c)].name} — {scn.branches[int(b)].name}"
                    for b, c in zip(st.campaign_branch, st.campaign_channel, strict=True)
                ],
                "utm_source": [u[0] for u in utm],
                "utm_medium": [u[1] for u in utm],
                "utm_campaign": [u[2] for u in utm],
                "branch": as_array([branches[int(b)].pk for b in st.campaign_branch]),
                "starts_on": int(sim.cal.day_epoch[0]),
                "ends_on": None,
                "is_active": True,
                "created_at": int(sim.cal.day_epoch[0]) * DAY_S,
            }
        )
    nc = st.number_channel
    camp_of_number = np.array(
        [st.campaign_of[int(b), int(c)] if c >= 0 else -1 for b, c in zip(st.number_branch, nc, strict=True)]
    )
    campaign_arr = ids["campaign"] if st.campaign_branch.size else np.zeros((1, 16), np.uint8)
    w(TrackingNumber).write(
        {
            "id": ids["number"],
            "e164": st.number_value,
            "pool": [NumberPool.STATIC.value if c >= 0 else NumberPool.DYNAMIC.value for c in nc],
            "branch": as_array([branches[int(b)].pk for b in st.number_branch]),
            "channel": channel_arr[np.maximum(nc, 0)],
            "channel__null": nc < 0,
            "campaign": campaign_arr[np.maximum(camp_of_number, 0)],
            "campaign__null": camp_of_number < 0,
            "is_active": True,
            "created_at": int(sim.cal.day_epoch[0]) * DAY_S,
        }
    )
    return Context(
        org=org,
        currency=currency,
        branch=as_array([b.pk for b in branches]),
        admin=as_array(admins),
        service=service_arr,
        room=ids["room"],
        doctor=ids["doctor"],
        channel=channel_arr,
        campaign=campaign_arr,
        number=ids["number"],
        now=now,
        utm=utm,
    )


def _current_prices(sim: Simulation) -> np.ndarray:
    prices = sim.st.svc_price_minor.copy()
    prices[sim.st.first_service] = sim.st.first_price_minor_by_month[sim.scn.months - 1]
    return prices


def write_price_history(
    sim: Simulation, ctx: Context, cols: dict[str, np.ndarray], pipe: CopyPipe | None = None
) -> int:
    st = sim.st
    return BulkWriter(ServicePrice, now=ctx.now, org_id=ctx.org.pk, pipe=pipe).write(
        {
            "id": cols["id"],
            "service": np.repeat(
                ctx.service[st.first_service : st.first_service + 1], cols["day"].size, axis=0
            ),
            "branch": None,
            "price": cols["price"],
            "currency": ctx.currency,
            "valid_from": sim.cal.day_epoch[cols["day"]],
        }
    )
