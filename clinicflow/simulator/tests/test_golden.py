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
from clinicflow.core.fields import BlindIndexField
from clinicflow.core.models import Branch, Organization
from clinicflow.simulator.engine.core import Simulation
from clinicflow.simulator.runner import WRITTEN, simulate_org
from clinicflow.simulator.scenario import load_scenario
from clinicflow.simulator.truth import build_truth

TINY = {"clinic": {"months": 6, "demand_factor": 0.4}, "recall": {"lapsed_days": 30}}
SEED = 5

# sha256 of every chunk the engine emits (table, columns, values, in order) plus the truth document
ENGINE_DIGEST = "4846daccf5c406fd5dccc2b00f3399a681aa0e5b88a346ed23ae1089515ce261"
# sha256 of every written table's rows (sorted; the ids of the organisation, its branches and staff
# users, which services create at random, replaced by their slugs and e-mails); one per table
TABLE_DIGESTS: dict[str, str] = {
    "simulator.RecallContact": "6b31682228e902c9",
    "simulator.RecallCampaign": "4cf31c50ce07ef52",
    "simulator.Referral": "fc10cf4d61762fff",
    "simulator.PointsEntry": "c47a4074705b0c2e",
    "simulator.Membership": "d6fd7ec7b7e9082e",
    "simulator.Complication": "6f2dd4ebd21b6929",
    "simulator.FollowUpTask": "7e52593c3d825728",
    "simulator.SurveyAnswer": "6e7bc18d14a3077e",
    "simulator.Consultation": "2172968bef0c55d3",
    "acquisition.CallTagging": "6df99014fa6d3849",
    "acquisition.CallbackTask": "9655dab7258f47ad",
    "acquisition.Call": "344dfcc4847ad7f9",
    "acquisition.Lead": "fae646148e247e2b",
    "acquisition.WebSession": "b6607115e61ba061",
    "acquisition.AdSpend": "1ac493c6b85d3dab",
    "acquisition.TrackingNumber": "a95fd50d7b38c2b3",
    "acquisition.Campaign": "e02421f1d8e354b1",
    "acquisition.Channel": "0a6dcb4f6e97652a",
    "booking.Payment": "32f1c4e96e370fb8",
    "booking.Appointment": "1888ea3b780a66eb",
    "booking.WorkingHours": "fa278b2b08384667",
    "booking.DoctorService": "b106be99ec2135e7",
    "booking.DoctorBranch": "793f8ad0ff562043",
    "booking.Doctor": "0a9dc1f61f8a5ca2",
    "booking.Room": "2826767810bd1cd0",
    "patients.ConsentEvent": "eede1d6af2e689eb",
    "patients.PatientPhone": "7bbc7050fd8c2972",
    "patients.Patient": "9fc0d316cefe0e34",
    "catalogue.ServicePrice": "44a3c6709b68e074",
    "catalogue.Service": "5c3e47cca0aef815",
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
