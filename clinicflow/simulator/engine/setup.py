"""The clinic's fixed structure derived from a scenario: services, rooms, doctors' rooms and
shifts, administrators, channels, campaigns and tracking numbers (index-based, no Django)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from clinicflow.simulator.engine.people import PhoneSpace
from clinicflow.simulator.scenario import CATEGORIES, ROOM_TYPES, Scenario, ScenarioError

KIND_FIRST, KIND_COURSE, KIND_FOLLOW = 0, 1, 2
STATUSES = ("booked", "confirmed", "arrived", "done", "no_show", "cancelled")
ST_BOOKED, ST_CONFIRMED, ST_ARRIVED, ST_DONE, ST_NO_SHOW, ST_CANCELLED = range(6)


@dataclass
class Structure:
    # services
    svc_code: list[str]
    svc_duration: np.ndarray
    svc_price_minor: np.ndarray  # list price in minor units (first-visit service: schedule[0])
    svc_category: np.ndarray
    svc_room_type: np.ndarray
    svc_course: np.ndarray
    svc_interval: np.ndarray
    svc_weight: np.ndarray
    svc_follow: list[np.ndarray]
    first_service: int
    # rooms
    room_branch: np.ndarray
    room_type: np.ndarray
    room_name: list[str]
    # doctors
    doc_branch: np.ndarray
    doc_specialty: np.ndarray
    doc_room: np.ndarray
    doc_start_min: np.ndarray  # local minutes from midnight
    doc_end_min: np.ndarray
    doc_weekdays: np.ndarray  # (D, 7) bool
    doc_services: list[np.ndarray]  # treatment services each doctor performs
    doc_service_p: list[np.ndarray]
    # administrators
    adm_branch: np.ndarray
    # channels, campaigns, tracking numbers
    ch_kind: list[str]
    campaign_branch: np.ndarray
    campaign_channel: np.ndarray
    campaign_of: np.ndarray  # (B, C) campaign index or -1
    number_branch: np.ndarray
    number_channel: np.ndarray  # -1 for the dynamic pool
    number_value: list[str]
    dynamic_numbers: list[np.ndarray]  # per branch, number indices
    static_number_of: np.ndarray  # (B, C) static number index or -1
    first_price_minor_by_month: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def minor(amount: float) -> int:
    return round(amount * 100)


def _rooms(scn: Scenario) -> tuple[list[int], list[int], list[str]]:
    room_branch, room_type, room_name = [], [], []
    for b, br in enumerate(scn.branches):
        for rt in ROOM_TYPES:
            for k in range(br.rooms[rt]):
                room_branch.append(b)
                room_type.append(ROOM_TYPES.index(rt))
                room_name.append(f"{rt.capitalize()} {k + 1}")
    return room_branch, room_type, room_name


@dataclass
class Shifts:
    """Each doctor's room, shift (local minutes) and working weekdays."""

    room: np.ndarray
    start: np.ndarray
    end: np.ndarray
    weekdays: np.ndarray

    def assign(
        self, docs: list[int], rooms: list[int], hours: tuple[int, int, int], work_days: list[int]
    ) -> None:
        """Doctors of one specialty share the branch's rooms of that type: alone in a room, a doctor
        works the whole day on every work day; sharing, the room's doctors split the day (morning,
        evening) and the week."""
        open_min, mid, close_min = hours
        for i, d in enumerate(docs):
            g = i % len(rooms)
            rank = i // len(rooms)
            in_room = len(range(g, len(docs), len(rooms)))
            self.room[d] = rooms[g]
            if in_room == 1:
                self.start[d], self.end[d] = open_min, close_min
                for wd in work_days:
                    self.weekdays[d, wd] = True
                continue
            self.start[d], self.end[d] = (open_min, mid) if rank % 2 == 0 else (mid, close_min)
            groups = math.ceil(in_room / 2)
            for j, wd in enumerate(work_days):
                if j % groups == rank // 2:
                    self.weekdays[d, wd] = True

    def planted(self, scn: Scenario, docs: list[int], rooms: list[int], hours: tuple[int, int]) -> None:
        """Doctors with a planted week (``work_days``, ``hours``; the branch's hours and the clinic's
        work days where unset): each takes the least-used room of its type that is free during all
        of its shifts."""
        used = dict.fromkeys(rooms, 0)
        for d in docs:
            doc = scn.doctors[d]
            days = doc.work_days or tuple(scn.schedule["work_days"])
            a, b = (doc.hours[0] * 60, doc.hours[1] * 60) if doc.hours else hours
            free = [
                r
                for r in rooms
                if not any(
                    self.room[o] == r
                    and self.start[o] < b
                    and a < self.end[o]
                    and self.weekdays[o, list(days)].any()
                    for o in docs[: docs.index(d)]
                )
            ]
            if not free:
                raise ScenarioError(
                    f"doctors[{d}]: no {doc.specialty} room of branch {doc.branch!r} is free for this shift"
                )
            r = min(free, key=lambda x: (used[x], rooms.index(x)))
            self.room[d], self.start[d], self.end[d] = r, a, b
            self.weekdays[d, list(days)] = True
            used[r] += (b - a) * len(days)


def _shifts(
    scn: Scenario, doc_branch: np.ndarray, doc_spec: np.ndarray, room_branch: list[int], room_type: list[int]
) -> Shifts:
    n_doc = len(scn.doctors)
    shifts = Shifts(
        room=np.zeros(n_doc, dtype=np.int32),
        start=np.zeros(n_doc, dtype=np.int32),
        end=np.zeros(n_doc, dtype=np.int32),
        weekdays=np.zeros((n_doc, 7), dtype=bool),
    )
    work_days = list(scn.schedule["work_days"])
    slot = scn.schedule["slot_minutes"]
    for b, br in enumerate(scn.branches):
        open_min, close_min = br.open_hour * 60, br.close_hour * 60
        mid = open_min + ((close_min - open_min) // 2 // slot) * slot
        for spec in range(len(ROOM_TYPES)):
            docs = [i for i in range(n_doc) if doc_branch[i] == b and doc_spec[i] == spec]
            rooms = [r for r in range(len(room_branch)) if room_branch[r] == b and room_type[r] == spec]
            if not docs:
                continue
            if not rooms:  # consultants without a consultation room share none: give them one each
                raise ValueError(f"branch {br.slug} has no {ROOM_TYPES[spec]} room")
            if any(scn.doctors[d].work_days or scn.doctors[d].hours for d in docs):
                shifts.planted(scn, docs, rooms, (open_min, close_min))
            else:
                shifts.assign(docs, rooms, (open_min, mid, close_min), work_days)
    return shifts


def _doctor_services(
    doc_spec: np.ndarray, rtype: np.ndarray, weight: np.ndarray, first: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The treatment services each doctor performs (their room type's, else any) and their weights."""
    doc_services, doc_p = [], []
    others = np.arange(weight.size) != first
    for spec in doc_spec:
        mask = (weight > 0) & (rtype == spec) & others
        if not mask.any():
            mask = (weight > 0) & others
        idx = np.flatnonzero(mask)
        doc_services.append(idx)
        doc_p.append(weight[idx] / weight[idx].sum())
    return doc_services, doc_p


def _campaigns(scn: Scenario) -> tuple[np.ndarray, list[int], list[int]]:
    """One campaign per branch and channel (none for direct and referral contacts)."""
    campaign_of = np.full((len(scn.branches), len(scn.channels)), -1, dtype=np.int32)
    cb: list[int] = []
    cc: list[int] = []
    for b in range(len(scn.branches)):
        for c, ch in enumerate(scn.channels):
            if ch.kind in ("direct", "referral"):
                continue
            campaign_of[b, c] = len(cb)
            cb.append(b)
            cc.append(c)
    return campaign_of, cb, cc


def _numbers(scn: Scenario) -> tuple[list[int], list[int], list[np.ndarray], np.ndarray]:
    """Tracking numbers: each branch's dynamic pool, then a static number per offline channel."""
    n_b, n_c = len(scn.branches), len(scn.channels)
    n_dyn = scn.contacts["dynamic_numbers_per_branch"]
    nb: list[int] = []
    nc: list[int] = []
    dynamic = []
    static_of = np.full((n_b, n_c), -1, dtype=np.int32)
    for b in range(n_b):
        start = len(nb)
        for _ in range(n_dyn):
            nb.append(b)
            nc.append(-1)
        dynamic.append(np.arange(start, len(nb)))
        for c, ch in enumerate(scn.channels):
            if not ch.web and ch.kind not in ("referral", "direct"):
                static_of[b, c] = len(nb)
                nb.append(b)
                nc.append(c)
    return nb, nc, dynamic, static_of


def build_structure(scn: Scenario, rng: np.random.Generator, phones: PhoneSpace) -> Structure:
    f = scn.price_factor
    codes = [s.code for s in scn.services]
    first = next(i for i, s in enumerate(scn.services) if s.first_visit)
    svc_price = np.array([minor(s.price * f) for s in scn.services], dtype=np.int64)
    svc_price[first] = minor(scn.price_schedule[0][1] * f)
    room_branch, room_type, room_name = _rooms(scn)
    doc_branch = np.array(
        [scn.branches.index(next(b for b in scn.branches if b.slug == d.branch)) for d in scn.doctors],
        dtype=np.int16,
    )
    doc_spec = np.array([ROOM_TYPES.index(d.specialty) for d in scn.doctors], dtype=np.int8)
    shifts = _shifts(scn, doc_branch, doc_spec, room_branch, room_type)
    cat = np.array([CATEGORIES.index(s.category) for s in scn.services], dtype=np.int8)
    rtype = np.array([ROOM_TYPES.index(s.room_type) for s in scn.services], dtype=np.int8)
    weight = np.array([s.weight for s in scn.services], dtype=np.float64)
    doc_services, doc_p = _doctor_services(doc_spec, rtype, weight, first)
    follow = [np.array([codes.index(c) for c in s.follow_on], dtype=np.int16) for s in scn.services]
    adm_branch = np.array(
        [[b.slug for b in scn.branches].index(a.branch) for a in scn.administrators], dtype=np.int16
    )
    campaign_of, cb, cc = _campaigns(scn)
    nb, nc, dynamic, static_of = _numbers(scn)
    number_values = phones.format(phones.take(len(nb)))
    return Structure(
        svc_code=codes,
        svc_duration=np.array([s.duration for s in scn.services], dtype=np.int32),
        svc_price_minor=svc_price,
        svc_category=cat,
        svc_room_type=rtype,
        svc_course=np.array([s.course for s in scn.services], dtype=np.int16),
        svc_interval=np.array([s.interval for s in scn.services], dtype=np.int16),
        svc_weight=weight,
        svc_follow=follow,
        first_service=first,
        room_branch=np.array(room_branch, dtype=np.int16),
        room_type=np.array(room_type, dtype=np.int8),
        room_name=room_name,
        doc_branch=doc_branch,
        doc_specialty=doc_spec,
        doc_room=shifts.room,
        doc_start_min=shifts.start,
        doc_end_min=shifts.end,
        doc_weekdays=shifts.weekdays,
        doc_services=doc_services,
        doc_service_p=doc_p,
        adm_branch=adm_branch,
        ch_kind=[c.kind for c in scn.channels],
        campaign_branch=np.array(cb, dtype=np.int16),
        campaign_channel=np.array(cc, dtype=np.int16),
        campaign_of=campaign_of,
        number_branch=np.array(nb, dtype=np.int16),
        number_channel=np.array(nc, dtype=np.int16),
        number_value=number_values,
        dynamic_numbers=dynamic,
        static_number_of=static_of,
    )
