"""Simulated evidence is plausible: a consent is signed after the patient registered and arrived for
the first visit and before that visit started, never after now; a channel written as free has no
spend."""

from __future__ import annotations

from django.db.models import F, Min
from django.utils import timezone

from clinicflow.acquisition.models import AdSpend, Channel, ChannelKind
from clinicflow.booking.models import Appointment
from clinicflow.core.models import Organization
from clinicflow.patients.models import ConsentEvent
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

TINY = {"clinic": {"months": 6, "demand_factor": 0.4}, "recall": {"lapsed_days": 30}}


def test_consents_at_plausible_times_and_free_channels_without_spend(org: Organization) -> None:
    simulate_org(org=org, scenario=load_scenario(None, overrides=TINY), seed=5)
    events = ConsentEvent.objects.for_org(org)
    assert events.count() > 100
    assert not events.filter(at__lt=F("patient__created_at")).exists()
    assert not events.filter(at__gt=timezone.now()).exists()
    first = dict(
        Appointment.objects.for_org(org)
        .filter(status__in=["arrived", "done"])
        .values("patient_id")
        .annotate(m=Min("start_at"))
        .values_list("patient_id", "m")
    )
    arrived = dict(
        Appointment.objects.for_org(org)
        .filter(status__in=["arrived", "done"])
        .values("patient_id")
        .annotate(m=Min("arrived_at"))
        .values_list("patient_id", "m")
    )
    for pid, purpose, at in events.values_list("patient_id", "purpose", "at"):
        assert arrived[pid] <= at < first[pid], (purpose, arrived[pid], at, first[pid])
    free = Channel.objects.for_org(org).filter(kind=ChannelKind.FREE)
    assert free.exists()
    assert not AdSpend.objects.for_org(org).filter(channel__in=free, spend__gt=0).exists()
