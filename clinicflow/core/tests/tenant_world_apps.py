"""Objects of the other organisation for the id routes of the later apps (aftercare, feedback,
imports, privacy, webhooks, catalogue products, marketing), for the tenant matrix."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from clinicflow.booking.models import Appointment, Doctor
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import Patient


def app_ids(
    *,
    org: Organization,
    branch: Branch,
    patient: Patient,
    doctor: Doctor,
    service: Service,
    appt: Appointment,
    now: dt.datetime,
) -> dict[str, Any]:
    from clinicflow.care.models import FollowUpPlan, FollowUpStep, RecallList
    from clinicflow.care.services.plans import plans_ensure_defaults
    from clinicflow.care.services.recall import recall_lists_ensure
    from clinicflow.catalogue.product_services import ItemIn, product_create
    from clinicflow.core.money import Money
    from clinicflow.feedback.models import Complaint, Survey
    from clinicflow.imports.models import ImportJob
    from clinicflow.marketing.services import campaigns
    from clinicflow.marketing.services.audiences import audience_create
    from clinicflow.marketing.services.offers import OfferData, offer_create
    from clinicflow.privacy.models import SubjectRequest
    from clinicflow.webhooks.models import Delivery, Subscription

    plans_ensure_defaults(org=org)
    recall_lists_ensure(org=org)
    plan = FollowUpPlan.objects.for_org(org).filter(service__isnull=False).first()
    assert plan is not None
    step = FollowUpStep.objects.for_org(org).filter(plan=plan).first()
    assert step is not None
    recall = RecallList.objects.for_org(org).first()
    assert recall is not None
    survey = Survey.objects.create(
        organization=org, appointment=appt, patient=patient, doctor=doctor, branch=branch, service=service,
        kind="after_visit", token_hash=uuid.uuid4().hex * 2, expires_at=now + dt.timedelta(days=7),
    )  # fmt: skip
    complaint = Complaint.objects.create(
        organization=org, patient=patient, branch=branch, doctor=doctor, reason="Secret complaint",
        deadline=now + dt.timedelta(days=2),
    )  # fmt: skip
    job = ImportJob.objects.create(
        organization=org, branch=branch, kind="patients", source="x", filename="Secret.csv",
        stored_name="x.csv", ext="csv",
    )  # fmt: skip
    request = SubjectRequest.objects.create(
        organization=org, patient_id=patient.pk, kind="export", due_at=now
    )
    subscription = Subscription.objects.create(
        organization=org, url="https://secret.example.com/", events=["patient.created"], secret="whsec_x"
    )
    delivery = Delivery.objects.create(
        organization=org,
        subscription=subscription,
        event="patient.created",
        event_id=uuid.uuid4(),
        payload={},
    )
    product = product_create(
        org=org, actor=None, code="secret-product", name="Secret product", price=Money.of("1", org.currency),
        items=[ItemIn(service_id=str(service.pk))],
    )  # fmt: skip
    today = dt.date.today()
    offer = offer_create(
        org=org, actor=None,
        data=OfferData(name="Secret offer", kind="percent", percent=Decimal(10), valid_from=today, valid_to=today),
    )  # fmt: skip
    audience = audience_create(org=org, actor=None, name="Secret audience", filters={})
    campaign = campaigns.campaign_create(
        org=org, actor=None, name="Secret campaign", audience=audience, channel="sms",
        variants=[campaigns.VariantIn("Secret", "Secret")],
    )  # fmt: skip
    from clinicflow.ledger.models import Membership, MembershipPlan

    mplan = MembershipPlan.objects.create(
        organization=org, kind="fee", code="secret-plan", name="Secret plan", currency=org.currency,
        price=Decimal(100), period="month",
    )  # fmt: skip
    membership = Membership.objects.create(
        organization=org, patient=patient, plan=mplan, currency=org.currency, price=Decimal(100),
        starts_at=now, ends_at=now + dt.timedelta(days=30),
    )  # fmt: skip
    from clinicflow.analytics.pricing.models import Hypothesis, PlanScenario

    wscenario = PlanScenario.objects.create(organization=org, name="Secret scenario", first_month=today)
    whypothesis = Hypothesis.objects.create(organization=org, idea="Secret idea", start=today, end=today)
    from clinicflow.analytics.owner.alert_models import AlertRule, OwnerAlert

    alert = OwnerAlert.objects.create(
        organization=org, branch=branch, scope=str(branch.pk), metric="nps", subject_label="Secret alert",
        source="threshold", period_start=today, period_end=today, value=Decimal(1),
    )  # fmt: skip
    rule = AlertRule.objects.create(organization=org, metric="nps", branch=branch, threshold=Decimal(10))
    from clinicflow.ledger.selectors.invoices import LineDraft
    from clinicflow.ledger.services.invoices import invoice_create

    invoice = invoice_create(
        org=org, actor=None, patient=patient, branch=branch,
        lines=[LineDraft(None, "Secret line", "", Decimal(1), Decimal(100))],
    )  # fmt: skip
    return {
        "alert_id": alert.pk,
        "rule_id": rule.pk,
        "invoice_id": invoice.pk,
        "scenario_id": wscenario.pk,
        "hypothesis_id": whypothesis.pk,
        "plan_code": mplan.code,
        "membership_id": membership.pk,
        "plan_id": plan.pk,
        "step_id": step.pk,
        "list_id": recall.pk,
        "survey_id": survey.pk,
        "complaint_id": complaint.pk,
        "job_id": job.pk,
        "request_id": request.pk,
        "subscription_id": subscription.pk,
        "delivery_id": delivery.pk,
        "product_id": product.pk,
        "part": "faq",
        "offer_id": offer.pk,
        "audience_id": audience.pk,
        "mcampaign_id": campaign.pk,
        # a credential in the URL: never the other organisation's own secret
        "secret": "not-the-secret-0123456789abcdef",
    }
