"""Golden digests: a tiny scenario with a fixed seed must keep producing exactly the same rows.

A refactor of the engine or the writers that changes one generated value (or the order the random
streams are drawn in) fails here. When a change is *meant* to alter the simulated data, run this
module with ``CF_GOLDEN_PRINT=1`` (``-s``) and paste the new digests.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import numpy as np
import pytest
from django.apps import apps
from django.db import connection

from clinicflow.accounts.models import User
from clinicflow.acquisition.ingestion.rules import unique_window
from clinicflow.care.models import RecallList
from clinicflow.clinical.models import ConsultationTemplateVersion
from clinicflow.core.fields import BlindIndexField
from clinicflow.core.models import Branch, Organization
from clinicflow.simulator.engine.core import Simulation
from clinicflow.simulator.runner import WRITTEN, simulate_org
from clinicflow.simulator.scenario import load_scenario
from clinicflow.simulator.truth import build_truth

TINY = {"clinic": {"months": 6, "demand_factor": 0.4}, "recall": {"lapsed_days": 30}}
SEED = 5

# sha256 of every chunk the engine emits (table, columns, values, in order) plus the truth document
ENGINE_DIGEST = "6b2762ceaccb86ca4f3c47d2f1ec297b16d4a4b13bf0485e6a173a41d6132b33"
# sha256 of every written table's rows (sorted; the ids of the organisation, its branches and staff
# users, which services create at random, replaced by their slugs and e-mails); one per table
TABLE_DIGESTS: dict[str, str] = {
    "clinical.Complication": "59d7aead232b5db4",
    "clinical.TreatmentProduct": "74d9d955467061ca",
    "clinical.TreatmentRecord": "0c61b921d73c02af",
    "clinical.QuoteLine": "242095db1c118928",
    "clinical.Quote": "9eeec88bbb2a4423",
    "clinical.Consultation": "93a02542d928bf13",
    "care.RecallContact": "99e9bb8cb7506282",
    "feedback.ComplaintEvent": "fcbf9dfc971c6882",
    "feedback.Complaint": "f226e443f2369294",
    "feedback.SurveyAnswer": "4dc16e505db84fe3",
    "feedback.Survey": "da2086f0e36b832f",
    "simulator.Referral": "799d47c50fccc038",
    "simulator.PointsEntry": "0ab2e08c23be4f12",
    "simulator.Membership": "2391db6b71d2bed3",
    "acquisition.CallTagging": "4ca28e560d81c1e4",
    "acquisition.CallbackTask": "7c05db05ef055129",
    "acquisition.Call": "8b014ea2821da59d",
    "acquisition.Lead": "fce8714c5306fb68",
    "acquisition.WebSession": "36a385ef1c8c9a8f",
    "acquisition.AdSpend": "b3cc467c240db1cd",
    "acquisition.TrackingNumber": "a95fd50d7b38c2b3",
    "acquisition.Campaign": "cbf5ca1cb9292684",
    "acquisition.Channel": "e35210168c17946e",
    "booking.Payment": "049760ec694df8a9",
    "booking.Appointment": "ed38dc505f81cc3b",
    "booking.WorkingHours": "890951a2e7cd141c",
    "booking.DoctorService": "b106be99ec2135e7",
    "booking.DoctorBranch": "793f8ad0ff562043",
    "booking.Doctor": "fc1413ad9dc47408",
    "booking.Room": "2826767810bd1cd0",
    "patients.ConsentEvent": "34ad77848432160a",
    "patients.PatientPhone": "140b0ea08d4bc25a",
    "patients.Patient": "94a6f6969b85ea29",
    "catalogue.ServicePrice": "c8acf17009c76014",
    "catalogue.Service": "52a2e765eaed2350",
}

WINDOW = unique_window().days


def _raw(v: Any) -> bytes:
    a = np.asarray(v)
    if a.dtype == object or a.dtype.kind == "U":
        return "\x00".join(map(str, a.tolist())).encode()
    return np.ascontiguousarray(a).tobytes()


def _show(name: str, value: Any) -> None:
    if os.environ.get("CF_GOLDEN_PRINT"):
        print(f"{name} = {value!r}")


def test_engine_output_is_unchanged() -> None:
    sim = Simulation(load_scenario("mid", overrides=TINY), SEED, unique_window_days=WINDOW)
    h = hashlib.sha256()

    def sink(table: str, cols: dict[str, Any]) -> None:
        h.update(table.encode())
        for name, value in cols.items():
            h.update(name.encode())
            h.update(_raw(value))

    sim.run(sink)
    h.update(json.dumps(build_truth(sim), sort_keys=True, default=str).encode())
    _show("ENGINE_DIGEST", h.hexdigest())
    assert h.hexdigest() == ENGINE_DIGEST


def _table_digests(org: Organization) -> dict[str, str]:
    names = {str(org.pk): "org"}
    names.update({str(b.pk): f"branch:{b.slug}" for b in Branch.objects.for_org(org)})
    names.update({str(u.pk): f"user:{u.email}" for u in User.objects.filter(organization=org)})
    # forms and lists the writers make through services (random ids): by what they are
    for v in ConsultationTemplateVersion.objects.for_org(org).select_related("template"):
        names[str(v.pk)] = f"consultation-form:{v.template.category}:{v.number}"
    names.update({str(r.pk): f"recall-list:{r.kind}" for r in RecallList.objects.for_org(org)})
    org_id = Organization._meta.pk.get_db_prep_value(org.pk, connection)  # type: ignore[union-attr]  # a model always has a pk
    out = {}
    for label in WRITTEN:
        model = apps.get_model(label)
        # blind indexes depend on the (random) organisation id: a function of the columns kept
        fields = [f.attname for f in model._meta.concrete_fields if not isinstance(f, BlindIndexField)]
        rows = sorted(
            tuple(names.get(str(v), str(v)) for v in row)
            for row in model.objects.filter(organization_id=org_id).values_list(*fields)
        )
        out[label] = hashlib.sha256(repr(rows).encode()).hexdigest()[:16]
    return out


@pytest.mark.django_db
def test_written_tables_are_unchanged(org: Organization) -> None:
    simulate_org(org=org, scenario=load_scenario("mid", overrides=TINY), seed=SEED)
    digests = _table_digests(org)
    _show("TABLE_DIGESTS", digests)
    assert digests == TABLE_DIGESTS
