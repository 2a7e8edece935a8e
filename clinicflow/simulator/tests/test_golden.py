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
ENGINE_DIGEST = "0104171bcbd6cdf47224a07c40e9b1c80ceeae393795aca38df2c8fe89cc9716"
# sha256 of every written table's rows (sorted; the ids of the organisation, its branches and staff
# users, which services create at random, replaced by their slugs and e-mails); one per table
TABLE_DIGESTS: dict[str, str] = {
    "ledger.InvoiceTender": "ee7633ef04656c02",
    "ledger.InvoiceLine": "73c6d37b34747956",
    "ledger.InvoiceDiscount": "4f53cda18c2baa0c",
    "ledger.Invoice": "b8b91e9b9cdcce37",
    "marketing.Recipient": "99aba891eed4b753",
    "marketing.Variant": "409938d16d515ec6",
    "marketing.Campaign": "615e00d1414800f4",
    "clinical.Complication": "29dec63769870109",
    "clinical.TreatmentProduct": "678e04e4e5fa4cb0",
    "clinical.TreatmentRecord": "e7d4927b1a7fd602",
    "clinical.QuoteLine": "1d3cab8cbff59a41",
    "clinical.Quote": "96cb258b0ffe9553",
    "clinical.Consultation": "33d698a834ec67d2",
    "care.RecallContact": "46de9fdd625efccd",
    "feedback.ComplaintEvent": "24bcbafe4ef4390b",
    "feedback.Complaint": "9f8182b1ee2aeba0",
    "feedback.SurveyAnswer": "7a478992f26b4ad4",
    "feedback.Survey": "490a7fc17ddb4a6e",
    "ledger.Account": "1766114db28f0a03",
    "ledger.MembershipPlan": "2bb62e11417dfa03",
    "ledger.PointsProgram": "15f24902a5d4e8fe",
    "ledger.ReferralProgram": "d6b32adaee411ab4",
    "acquisition.CallTagging": "8891286e32a72c0a",
    "acquisition.CallbackTask": "95118d616138b363",
    "acquisition.Call": "cf550ae04fbd7b5d",
    "acquisition.Lead": "cd0373602c5b7f0c",
    "acquisition.WebSession": "4d95c78217c15799",
    "acquisition.AdSpend": "21f6a21c37038235",
    "acquisition.TrackingNumber": "a95fd50d7b38c2b3",
    "acquisition.Campaign": "cbf5ca1cb9292684",
    "acquisition.Channel": "e35210168c17946e",
    "booking.Payment": "236a43616110470e",
    "booking.Appointment": "bce65d659a8f20cf",
    "booking.WorkingHours": "890951a2e7cd141c",
    "booking.DoctorService": "b106be99ec2135e7",
    "booking.DoctorBranch": "793f8ad0ff562043",
    "booking.Doctor": "fc1413ad9dc47408",
    "booking.Room": "2826767810bd1cd0",
    "patients.ConsentEvent": "9d372be4f77cfc03",
    "patients.PatientPhone": "53c2899aaeabd839",
    "patients.Patient": "58a7b3f62c92802a",
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
