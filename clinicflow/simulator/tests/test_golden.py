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
ENGINE_DIGEST = "639686b40bb82ab1a50409ddec5c8de0febdd76d470e60461d7b0d16dbfd1f0b"
# sha256 of every written table's rows (sorted; the ids of the organisation, its branches and staff
# users, which services create at random, replaced by their slugs and e-mails); one per table
TABLE_DIGESTS: dict[str, str] = {
    "simulator.RecallContact": "88b1ae4ab983ac52",
    "simulator.RecallCampaign": "cf897469c784df5e",
    "simulator.Referral": "28c0ea02f983ad26",
    "simulator.PointsEntry": "83fb7c646f477ccc",
    "simulator.Membership": "e3508c5760a7dc96",
    "simulator.Complication": "ae4ce81fa02ea98c",
    "simulator.FollowUpTask": "a6aff712278609f4",
    "simulator.SurveyAnswer": "240a7a49425ae4cc",
    "simulator.Consultation": "0e57611f38029567",
    "acquisition.CallTagging": "ed0e51133fa935b0",
    "acquisition.CallbackTask": "09dd5ff14136baf2",
    "acquisition.Call": "c7544a9568e70075",
    "acquisition.Lead": "315678e409d2bb89",
    "acquisition.WebSession": "dc8ab728b1ab13e5",
    "acquisition.AdSpend": "7b2750e705c44e96",
    "acquisition.TrackingNumber": "a95fd50d7b38c2b3",
    "acquisition.Campaign": "cbf5ca1cb9292684",
    "acquisition.Channel": "e35210168c17946e",
    "booking.Payment": "c2fad4a01f725ea1",
    "booking.Appointment": "e728bdfda3ed3147",
    "booking.WorkingHours": "890951a2e7cd141c",
    "booking.DoctorService": "b106be99ec2135e7",
    "booking.DoctorBranch": "793f8ad0ff562043",
    "booking.Doctor": "fc1413ad9dc47408",
    "booking.Room": "2826767810bd1cd0",
    "patients.ConsentEvent": "1e893f137d130fdf",
    "patients.PatientPhone": "2339091fcf969a9a",
    "patients.Patient": "0a0844092f19bae9",
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
