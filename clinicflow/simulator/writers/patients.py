"""Patient tables: patients with their phone, consent events."""

from __future__ import annotations

import numpy as np

from clinicflow.patients.models import ConsentEvent, ConsentMethod, Patient, PatientPhone, Source
from clinicflow.simulator.engine.ids import uuid7_array
from clinicflow.simulator.writers import clinical
from clinicflow.simulator.writers.base import Columns, SinkBase

MARKETING_AFTER_S = 30  # the marketing consent is signed half a minute after the health data one


def write_patients(out: SinkBase, c: Columns) -> None:
    sim = out.sim
    phones = sim.phones.format(c["phone"])
    first, last = c["first_name"].tolist(), c["last_name"].tolist()
    num = c["number"].tolist()
    clinical.remember_names(out, np.asarray(c["number"]), first, last)
    emails = [
        f"patient{k}@example.com" if e else "" for k, e in zip(num, c["has_email"].tolist(), strict=True)
    ]
    source = [Source(sim.scn.channels[int(x)].kind).value for x in c["channel"]]
    out.put(
        Patient,
        {
            "id": c["id"],
            "branch": out.ctx.branch[c["branch"]],
            "last_name": last,
            "first_name": first,
            "middle_name": "",
            "sex": np.where(c["female"], "F", "M").tolist(),
            "birth_date": c["birth_day"],
            "email": emails,
            "preferred_language": sim.scn.language if sim.scn.language in ("en", "ru", "zh-hans") else "en",
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
    out.put(
        PatientPhone,
        {
            "id": uuid7_array(sim.id_rng, c["created"] * 1000),
            "patient": c["id"],
            "e164": phones,
            "kind": "mobile",
            "is_primary": True,
        },
    )


def write_consents(out: SinkBase, c: Columns) -> None:
    sim = out.sim
    n = c["id"].shape[0]
    mk = np.flatnonzero(c["marketing"])
    pid = out.pid(c["patient"])
    out.put(
        ConsentEvent,
        {
            "id": np.concatenate(
                [c["id"], uuid7_array(sim.id_rng, (c["at"][mk] + MARKETING_AFTER_S) * 1000)]
            ),
            "patient": np.concatenate([pid, pid[mk]]),
            "purpose": ["health_data"] * n + ["marketing_sms"] * mk.size,
            "kind": "granted",
            "method": [ConsentMethod.WRITTEN.value] * n + [ConsentMethod.WRITTEN.value] * mk.size,
            "at": np.concatenate([c["at"], c["at"][mk] + MARKETING_AFTER_S]),
            "template_version": "sim",
            "text_sha256": "",
            "evidence": "",
            "recorded_by": None,
        },
    )
