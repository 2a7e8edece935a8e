"""Which breach-notification laws apply to an organisation, and the deadlines each one sets.

One definition per rule: every deadline the register computes comes from ``RULES``.

- EU (GDPR Art 33(1)): the supervisory authority within 72 hours of becoming aware of the breach.
- RU (152-FZ Art 21 part 3.1, added by 266-FZ): Roskomnadzor within 24 hours of detection, then the
  results of the internal investigation within 72 hours.
- CN (PIPL Art 57): "immediately": the deadline is the moment of discovery, so the notice is overdue
  as soon as it is not done.

A jurisdiction is derived from the organisation's country and its data region (either one in the
EEA, Russia or China brings that law in); staff may change the list on each incident.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from clinicflow.core.models import Organization, Region
from clinicflow.privacy.models import Jurisdiction

# The EEA: the EU member states plus Iceland, Liechtenstein and Norway, where the GDPR applies.
EEA = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
    ]
)
ORDER = (Jurisdiction.EU, Jurisdiction.RU, Jurisdiction.CN)


@dataclass(frozen=True)
class DeadlineRule:
    kind: str
    jurisdiction: str
    hours: int  # after discovery; 0 means "immediately"
    label: str | Promise

    def due(self, discovered_at: dt.datetime) -> dt.datetime:
        return discovered_at + dt.timedelta(hours=self.hours)


RULES: tuple[DeadlineRule, ...] = (
    DeadlineRule("eu_authority", Jurisdiction.EU, 72, _("Notify the supervisory authority (GDPR Art 33)")),
    DeadlineRule("ru_initial", Jurisdiction.RU, 24, _("First notice to Roskomnadzor (152-FZ Art 21 §3.1)")),
    DeadlineRule("ru_followup", Jurisdiction.RU, 72, _("Investigation results to Roskomnadzor (152-FZ)")),
    DeadlineRule("cn_immediate", Jurisdiction.CN, 0, _("Notify the authority and individuals (PIPL Art 57)")),
)
RULES_BY_KIND = {rule.kind: rule for rule in RULES}


def jurisdictions_for(org: Organization) -> list[str]:
    """The laws an organisation's breaches fall under, from its country and data region."""
    found: set[str] = set()
    country = (org.country or "").upper()
    if country in EEA or org.data_region == Region.EU:
        found.add(Jurisdiction.EU)
    if country == "RU" or org.data_region == Region.RU:
        found.add(Jurisdiction.RU)
    if country == "CN" or org.data_region == Region.CN:
        found.add(Jurisdiction.CN)
    return ordered(found)


def ordered(codes: Iterable[str]) -> list[str]:
    wanted = set(codes)
    return [str(code) for code in ORDER if code in wanted]


def rules_for(jurisdictions: Iterable[str]) -> list[DeadlineRule]:
    wanted = set(jurisdictions)
    return [rule for rule in RULES if rule.jurisdiction in wanted]
