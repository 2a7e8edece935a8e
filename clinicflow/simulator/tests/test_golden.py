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
from clinicflow.feedback.models import ImprovementTag
from clinicflow.marketing.models import Audience, Offer, Variant
from clinicflow.simulator.engine.core import Simulation
from clinicflow.simulator.runner import WRITTEN, simulate_org
from clinicflow.simulator.scenario import load_scenario
from clinicflow.simulator.truth import build_truth

TINY = {"clinic": {"months": 6, "demand_factor": 0.4}, "recall": {"lapsed_days": 30}}
SEED = 5

# sha256 of every chunk the engine emits (table, columns, values, in order) plus the truth document
ENGINE_DIGEST = "8a49c0a1468405e98651795bdabfdf937c12a8107b9b1d1eaa04b3a3ed5fe62f"
# sha256 of every written table's rows (sorted; the ids of the organisation, its branches and staff
# users, which services create at random, replaced by their slugs and e-mails); one per table
TABLE_DIGESTS: dict[str, str] = {
    "ledger.InvoiceTender": "0945759d4f794e22",
    "ledger.InvoiceLine": "08755a52179f556d",
    "ledger.InvoiceDiscount": "4f53cda18c2baa0c",
    "ledger.Invoice": "f14ad7604403a8f3",
    "marketing.Recipient": "b6a4f45a41d5e542",
    "marketing.Variant": "2248b08f63fcb98d",
    "marketing.Campaign": "8a3737d2e2782329",
    "clinical.Complication": "312f383500aa73a4",
    "clinical.TreatmentProduct": "07890e9a5419b4d7",
    "clinical.TreatmentRecord": "ca39bf425dada455",
    "clinical.QuoteLine": "f814c813cb900783",
    "clinical.Quote": "8069ef307c138bbb",
    "clinical.Consultation": "87bdf080feab5161",
    "care.RecallContact": "c1e63b0bd34be6b0",
    "feedback.ComplaintEvent": "d8d11d94017aaaf9",
    "feedback.Complaint": "28dd0ec405b5aa53",
    "feedback.SurveyAnswer": "95259b665459f762",
    "feedback.Survey": "b4dca3f740066c3a",
    "ledger.Account": "d4181a90945751e4",
    "ledger.MembershipPlan": "3bc0af86e1b86563",
    "ledger.PointsProgram": "c7c5b940c0e0216d",
    "ledger.ReferralProgram": "8746dc9d4bae303a",
    "acquisition.CallTagging": "6bfe0f53092124b0",
    "acquisition.CallbackTask": "e9d7a004b7ba8cf9",
    "acquisition.Call": "d16e48db38cb745e",
    "acquisition.Lead": "40e4435d5ba4ccb5",
    "acquisition.WebSession": "ab72be6e880f703e",
    "acquisition.AdSpend": "bb541b877457db74",
    "acquisition.TrackingNumber": "a95fd50d7b38c2b3",
    "acquisition.Campaign": "cbf5ca1cb9292684",
    "acquisition.Channel": "e35210168c17946e",
    "booking.Payment": "1bc2f067ad451a58",
    "booking.Appointment": "280be9f8c6c98a8d",
    "booking.WorkingHours": "890951a2e7cd141c",
    "booking.DoctorService": "b106be99ec2135e7",
    "booking.DoctorBranch": "793f8ad0ff562043",
    "booking.Doctor": "fc1413ad9dc47408",
    "booking.Room": "2826767810bd1cd0",
    "patients.ConsentEvent": "863f9fbca06b4c87",
    "patients.PatientPhone": "648d2c8c4ba305dd",
    "patients.Patient": "7a0ee631c69afdb7",
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


def _named(value: Any, names: dict[str, str]) -> str:
    """A value as the digest sees it: service-made random ids (also inside a JSON list) by name."""
    if isinstance(value, list):
        return repr(sorted(_named(v, names) for v in value))
    return names.get(str(value), str(value))


def _table_digests(org: Organization) -> dict[str, str]:
    names = {str(org.pk): "org"}
    names.update({str(b.pk): f"branch:{b.slug}" for b in Branch.objects.for_org(org)})
    names.update({str(u.pk): f"user:{u.email}" for u in User.objects.filter(organization=org)})
    # forms and lists the writers make through services (random ids): by what they are
    for v in ConsultationTemplateVersion.objects.for_org(org).select_related("template"):
        names[str(v.pk)] = f"consultation-form:{v.template.category}:{v.number}"
    names.update({str(r.pk): f"recall-list:{r.kind}" for r in RecallList.objects.for_org(org)})
    names.update({str(t.pk): f"tag:{t.label}" for t in ImprovementTag.objects.for_org(org)})
    names.update({str(a.pk): f"audience:{a.name}" for a in Audience.objects.for_org(org)})
    names.update({str(o.pk): f"offer:{o.name}" for o in Offer.objects.for_org(org)})
    names.update({str(v.pk): f"variant:{v.campaign_id}:{v.key}" for v in Variant.objects.for_org(org)})
    org_id = Organization._meta.pk.get_db_prep_value(org.pk, connection)  # type: ignore[union-attr]  # a model always has a pk
    out = {}
    for label in WRITTEN:
        model = apps.get_model(label)
        # blind indexes depend on the (random) organisation id: a function of the columns kept
        fields = [f.attname for f in model._meta.concrete_fields if not isinstance(f, BlindIndexField)]
        rows = sorted(
            tuple(_named(v, names) for v in row)
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
